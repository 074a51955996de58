package eaf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docWithMedia builds an EAF 3.0 document with the given MEDIA_DESCRIPTOR
// lines.
func docWithMedia(t *testing.T, eafPath string, descriptors ...string) *Document {
	t.Helper()
	s := `<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00Z" FORMAT="3.0" VERSION="3.0">
    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">
` + strings.Join(descriptors, "\n") + `
    </HEADER>
    <TIME_ORDER/>
</ANNOTATION_DOCUMENT>
`
	d, err := Parse(eafPath, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func touch(t *testing.T, p string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func md(url, mime, rel string) string {
	s := `<MEDIA_DESCRIPTOR MEDIA_URL="` + escAttr(url) + `" MIME_TYPE="` + mime + `"`
	if rel != "" {
		s += ` RELATIVE_MEDIA_URL="` + escAttr(rel) + `"`
	}
	return s + "/>"
}

func TestResolveVideo(t *testing.T) {
	root := t.TempDir()
	eafDir := filepath.Join(root, "project", "eaf")
	eafPath := filepath.Join(eafDir, "session.eaf")
	tests := []struct {
		name     string
		files    []string // created under root
		desc     []string // %R is replaced by root
		dirs     []string
		want     string // relative to root
		rule     Rule
		index    int
		extraErr string
	}{
		{"raw MEDIA_URL with space and apostrophe", []string{"Dad's Interview/clip one.mp4"},
			[]string{md("file://%R/Dad's Interview/clip one.mp4", "video/mp4", "")}, nil, "Dad's Interview/clip one.mp4", RuleMediaURL, 0, ""},
		{"percent-encoded MEDIA_URL", []string{"a b/c.mp4"},
			[]string{md("file://%R/a%20b/c.mp4", "video/mp4", "")}, nil, "a b/c.mp4", RuleMediaURL, 0, ""},
		{"same file name next to the EAF", []string{"project/eaf/clip.mp4"},
			[]string{md("file:///nonexistent/dir/clip.mp4", "video/mp4", "")}, nil, "project/eaf/clip.mp4", RuleSameFolder, 0, ""},
		{"Windows drive path", []string{"project/eaf/clip.mpg"},
			[]string{md(`C:\Users\x\clip.mpg`, "video/mpeg", "")}, nil, "project/eaf/clip.mpg", RuleSameFolder, 0, ""},
		{"file://name (two slashes)", []string{"project/eaf/video_01.mp4"},
			[]string{md("file://video_01.mp4", "video/mp4", "./video_01.mp4")}, nil, "project/eaf/video_01.mp4", RuleSameFolder, 0, ""},
		{"old-style RELATIVE_MEDIA_URL", []string{"project/eaf/sub/clip.mpg"},
			[]string{md("file:///H:/x/clip.mpg", "video/mpeg", "file:/./sub/clip.mpg")}, nil, "project/eaf/sub/clip.mpg", RuleRelativeURL, 0, ""},
		{"RELATIVE_MEDIA_URL with ..", []string{"project/video/clip.mp4"},
			[]string{md("file:///x/clip.mp4", "video/mp4", "../video/clip.mp4")}, nil, "project/video/clip.mp4", RuleRelativeURL, 0, ""},
		{"../Media", []string{"project/Media/clip.mp4"},
			[]string{md("file:///x/clip.mp4", "video/mp4", "./clip.mp4")}, nil, "project/Media/clip.mp4", RuleParentMedia, 0, ""},
		{"../media", []string{"project/media/clip.mp4"},
			[]string{md("file:///x/clip.mp4", "video/mp4", "")}, nil, "project/media/clip.mp4", RuleParentMediaLC, 0, ""},
		{"media dir", []string{"nothing/other.mp4", "elsewhere/clip.mp4"},
			[]string{md("file:///x/clip.mp4", "video/mp4", "")}, []string{"%R/nothing", "%R/elsewhere"}, "elsewhere/clip.mp4", RuleMediaDir, 0, ""},
		{"video preferred over audio", []string{"project/eaf/a.wav", "project/eaf/v.mp4"},
			[]string{md("file:///x/a.wav", "audio/x-wav", ""), md("file:///x/v.mp4", "video/mp4", "")}, nil, "project/eaf/v.mp4", RuleSameFolder, 1, ""},
		{"video by extension", []string{"project/eaf/v.mov"},
			[]string{md("file:///x/a.wav", "audio/*", ""), md("file:///x/v.mov", "application/octet-stream", "")}, nil, "project/eaf/v.mov", RuleSameFolder, 1, ""},
		{"second video when the first is missing", []string{"project/eaf/two.mp4"},
			[]string{md("file:///x/one.mp4", "video/mp4", ""), md("file:///x/two.mp4", "video/mp4", "")}, nil, "project/eaf/two.mp4", RuleSameFolder, 1, ""},
		{"EXTRACTED_FROM", []string{"project/eaf/a.wav", "project/eaf/orig.mpg"},
			[]string{`<MEDIA_DESCRIPTOR EXTRACTED_FROM="file:///x/orig.mpg" MEDIA_URL="file:///x/a.wav" MIME_TYPE="audio/x-wav" TIME_ORIGIN="300"/>`},
			nil, "project/eaf/orig.mpg", RuleExtractedFrom, 0, ""},
		{"nothing found", nil,
			[]string{md("file:///x/clip.mp4", "video/mp4", "./clip.mp4")}, nil, "", "", 0, "../Media"},
		{"remote skipped", []string{"project/eaf/clip.mp4"},
			[]string{md("rtsp://server/clip.mp4", "video/mp4", "")}, nil, "", "", 0, "rtsp://server/clip.mp4 [remote URL, skipped]"},
		{"only audio", []string{"project/eaf/a.wav"},
			[]string{md("file:///x/a.wav", "audio/x-wav", "")}, nil, "", "", 0, "only audio"},
		{"no media", nil, nil, nil, "", "", 0, "no MEDIA_DESCRIPTOR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.RemoveAll(filepath.Join(root, "project"))
			for _, x := range []string{"Dad's Interview", "a b", "elsewhere", "nothing"} {
				os.RemoveAll(filepath.Join(root, x))
			}
			for _, f := range tc.files {
				touch(t, filepath.Join(root, f))
			}
			var descs []string
			for _, d := range tc.desc {
				descs = append(descs, strings.ReplaceAll(d, "%R", filepath.ToSlash(root)))
			}
			var dirs []string
			for _, d := range tc.dirs {
				dirs = append(dirs, strings.ReplaceAll(d, "%R", root))
			}
			d := docWithMedia(t, eafPath, descs...)
			r, err := d.ResolveVideo(ResolveOptions{MediaDirs: NewMediaDirs(dirs...)})
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), tc.extraErr) || !strings.Contains(err.Error(), eafPath) {
					t.Fatalf("error %v, want one naming %s and %q", err, eafPath, tc.extraErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Path != filepath.Join(root, tc.want) || r.Rule != tc.rule || r.Index != tc.index {
				t.Errorf("got %s by %q (descriptor %d), want %s by %q (%d)", r.Path, r.Rule, r.Index, tc.want, tc.rule, tc.index)
			}
			if tc.rule == RuleExtractedFrom && r.Descriptor.TimeOrigin != 0 {
				t.Error("TIME_ORIGIN of the audio applied to the video it was extracted from")
			}
		})
	}
}

func TestResolveMediaListsTries(t *testing.T) {
	root := t.TempDir()
	eafPath := filepath.Join(root, "p", "e", "s.eaf")
	d := docWithMedia(t, eafPath,
		md("file:///x/a.wav", "audio/x-wav", ""),
		md("file:///nowhere/v%20.mp4", "video/mp4", "file:/./rel/v .mp4"))
	touch(t, filepath.Join(root, "md", "unrelated.mp4"))
	_, err := d.ResolveMedia(1, ResolveOptions{MediaDirs: NewMediaDirs(filepath.Join(root, "md"))})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v", err)
	}
	e := filepath.Join(root, "p", "e")
	want := []string{
		"/nowhere/v%20.mp4 [MEDIA_URL]",
		"/nowhere/v .mp4 [MEDIA_URL]",
		filepath.Join(e, "v%20.mp4") + " [same folder]",
		filepath.Join(e, "v .mp4") + " [same folder]",
		filepath.Join(e, "rel", "v .mp4") + " [RELATIVE_MEDIA_URL]",
		filepath.Join(root, "p", "Media", "v%20.mp4") + " [../Media]",
		filepath.Join(root, "p", "Media", "v .mp4") + " [../Media]",
		filepath.Join(root, "p", "media", "v%20.mp4") + " [../media]",
		filepath.Join(root, "p", "media", "v .mp4") + " [../media]",
		filepath.Join(root, "md", "**", "v%20.mp4") + " [media dir]",
		filepath.Join(root, "md", "**", "v .mp4") + " [media dir]",
	}
	if strings.Join(nf.Tried, "\n") != strings.Join(want, "\n") {
		t.Errorf("tried\n%s\nwant\n%s", strings.Join(nf.Tried, "\n"), strings.Join(want, "\n"))
	}
	touch(t, filepath.Join(root, "p", "e", "a.wav"))
	if r, err := d.ResolveMedia(0, ResolveOptions{}); err != nil || r.Rule != RuleSameFolder || r.Descriptor.MimeType != "audio/x-wav" {
		t.Errorf("descriptor 0: %+v %v", r, err)
	}
	if _, err := d.ResolveMedia(2, ResolveOptions{}); err == nil {
		t.Error("descriptor 2 of 2 resolved")
	}
	// EAFPath overrides where relative references start
	touch(t, filepath.Join(root, "other", "rel", "v .mp4"))
	r, err := d.ResolveMedia(1, ResolveOptions{EAFPath: filepath.Join(root, "other", "x.eaf")})
	if err != nil || r.Rule != RuleRelativeURL {
		t.Errorf("with EAFPath: %+v %v", r, err)
	}
}
