package eaf

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestMediaDirs(t *testing.T) {
	root := t.TempDir()
	eafPath := filepath.Join(root, "archive", "eaf", "session.eaf")
	for _, f := range []string{
		"media/2019/s12/session.mp4",
		"media/2020/s12/session.mp4",
		"media/2020/s14/interview.mp4",
		"media/extra/deep/a/b/c/solo.mp4",
		"media/dup1/twin.mp4",
		"media/dup2/twin.mp4",
		"media/spaced/clip one.mp4",
		"archive/eaf/local.mp4",
		"media/local.mp4",
	} {
		touch(t, filepath.Join(root, f))
	}
	tests := []struct {
		name string
		desc string   // %R is replaced by root
		dirs []string // relative to root
		want string   // relative to root; "" for an error
		rule Rule
		err  []string // in the error
	}{
		{"longest suffix wins", md("file:///U:/corpus/2019/s12/session.mp4", "video/mp4", ""),
			[]string{"media"}, "media/2019/s12/session.mp4", RuleMediaDir, nil},
		{"Windows path with backslashes", md(`U:\corpus\2020\s12\session.mp4`, "video/mp4", ""),
			[]string{"media"}, "media/2020/s12/session.mp4", RuleMediaDir, nil},
		{"name found several levels down", md("file:///U:/whatever/solo.mp4", "video/mp4", ""),
			[]string{"media"}, "media/extra/deep/a/b/c/solo.mp4", RuleMediaDir, nil},
		{"folder decides between twins", md("file:///U:/x/dup2/twin.mp4", "video/mp4", ""),
			[]string{"media"}, "media/dup2/twin.mp4", RuleMediaDir, nil},
		{"percent-encoded name", md("file:///U:/spaced/clip%20one.mp4", "video/mp4", ""),
			[]string{"media"}, "media/spaced/clip one.mp4", RuleMediaDir, nil},
		{"RELATIVE_MEDIA_URL's components", md("file:///U:/interview.mp4", "video/mp4", "../s14/interview.mp4"),
			[]string{"media"}, "media/2020/s14/interview.mp4", RuleMediaDir, nil},
		{"first folder of several", md("file:///U:/corpus/2019/s12/session.mp4", "video/mp4", ""),
			[]string{"media/dup1", "media/2019"}, "media/2019/s12/session.mp4", RuleMediaDir, nil},
		{"nested folders find one file once", md("file:///U:/solo.mp4", "video/mp4", ""),
			[]string{"media", "media/extra"}, "media/extra/deep/a/b/c/solo.mp4", RuleMediaDir, nil},
		{"ELAN's own steps come first", md("file:///U:/corpus/local.mp4", "video/mp4", ""),
			[]string{"media"}, "archive/eaf/local.mp4", RuleSameFolder, nil},
		{"ambiguous folder and name", md("file:///U:/corpus/s12/session.mp4", "video/mp4", ""),
			[]string{"media"}, "", "", []string{"media/2019/s12/session.mp4 and ", "media/2020/s12/session.mp4", "end in s12/session.mp4"}},
		{"ambiguous name", md("file:///U:/a/twin.mp4", "video/mp4", ""),
			[]string{"media"}, "", "", []string{"media/dup1/twin.mp4", "media/dup2/twin.mp4", "end in twin.mp4"}},
		{"ambiguous across folders", md("file:///U:/corpus/s12/session.mp4", "video/mp4", ""),
			[]string{"media/2019", "media/2020"}, "", "", []string{"media/2019/s12/session.mp4", "media/2020/s12/session.mp4"}},
		{"not found", md("file:///U:/corpus/missing.mp4", "video/mp4", ""),
			[]string{"media"}, "", "", []string{filepath.Join("media", "**", "missing.mp4") + " [media dir]"}},
		{"missing folder", md("file:///U:/corpus/missing.mp4", "video/mp4", ""),
			[]string{"no-such-folder"}, "", "", []string{"media folder", "no-such-folder"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dirs []string
			for _, d := range tc.dirs {
				dirs = append(dirs, filepath.Join(root, d))
			}
			d := docWithMedia(t, eafPath, strings.ReplaceAll(tc.desc, "%R", filepath.ToSlash(root)))
			r, err := d.ResolveVideo(ResolveOptions{MediaDirs: NewMediaDirs(dirs...)})
			if tc.want == "" {
				if err == nil {
					t.Fatalf("found %s, want an error", r.Path)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, eafPath+": ") {
					t.Errorf("error %q does not start with the EAF file", msg)
				}
				for _, s := range tc.err {
					if strings.HasPrefix(s, "media/") {
						s = filepath.Join(root, s)
					}
					if !strings.Contains(msg, s) {
						t.Errorf("error %q lacks %q", msg, s)
					}
				}
				var ae *AmbiguousError
				if strings.HasPrefix(tc.name, "ambiguous") && (!errors.As(err, &ae) || len(ae.Paths) != 2) {
					t.Errorf("error %v is not an *AmbiguousError with 2 files", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Path != filepath.Join(root, tc.want) || r.Rule != tc.rule {
				t.Errorf("got %s by %q, want %s by %q", r.Path, r.Rule, tc.want, tc.rule)
			}
		})
	}
}

// TestMediaDirsShared checks that one MediaDirs serves many documents at
// once (run with -race).
func TestMediaDirsShared(t *testing.T) {
	root := t.TempDir()
	const n = 8
	for i := 0; i < n; i++ {
		touch(t, filepath.Join(root, "media", "s"+string(rune('a'+i)), "v.mp4"))
	}
	dirs := NewMediaDirs(filepath.Join(root, "media"))
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := "s" + string(rune('a'+i))
			d := docWithMedia(t, filepath.Join(root, "e", s+".eaf"), md("file:///U:/old/"+s+"/v.mp4", "video/mp4", ""))
			r, err := d.ResolveVideo(ResolveOptions{MediaDirs: dirs})
			if err == nil && r.Path != filepath.Join(root, "media", s, "v.mp4") {
				err = errors.New("got " + r.Path)
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("document %d: %v", i, err)
		}
	}
}
