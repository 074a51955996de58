package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signseg/signseg/eaf"
)

// docLinking writes an EAF file in dir linking the given videos (paths
// relative to dir, created empty) and reads it.
func docLinking(t *testing.T, dir string, videos []string) *eaf.Document {
	t.Helper()
	var media strings.Builder
	for _, v := range videos {
		p := filepath.Join(dir, filepath.FromSlash(v))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(p)}
		fmt.Fprintf(&media, "    <MEDIA_DESCRIPTOR MEDIA_URL=%q MIME_TYPE=\"video/mp4\"/>\n", u.String())
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0">
  <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">
` + media.String() + `  </HEADER>
  <TIME_ORDER/>
</ANNOTATION_DOCUMENT>
`
	path := filepath.Join(dir, "session.eaf")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestVideoTierNamesUnique: with --videos all every linked video gets its
// own tier name, deterministically, also when two have the same file name
// in different folders (which used to give both the same tier, one
// replacing the other with --replace).
func TestVideoTierNamesUnique(t *testing.T) {
	tests := []struct {
		name   string
		videos []string
		want   map[string]string // video → tier suffix
	}{
		{"one video", []string{"cam.mp4"}, map[string]string{"cam.mp4": ""}},
		{"different names", []string{"front.mp4", "side.mp4"}, map[string]string{"front.mp4": "@front", "side.mp4": "@side"}},
		{"same name, different folders", []string{"day1/cam.mp4", "day2/cam.mp4"},
			map[string]string{"day1/cam.mp4": "@day1/cam", "day2/cam.mp4": "@day2/cam"}},
		{"same name and parent, different grandparents", []string{"x/day1/cam.mp4", "y/day1/cam.mp4", "side.mp4"},
			map[string]string{"x/day1/cam.mp4": "@x/day1/cam", "y/day1/cam.mp4": "@y/day1/cam", "side.mp4": "@side"}},
		{"same stem, different extensions", []string{"a/cam.mp4", "a/cam.mov"},
			map[string]string{"a/cam.mp4": "@cam.mp4", "a/cam.mov": "@cam.mov"}},
		{"one video linked twice", []string{"cam.mp4", "cam.mp4"}, map[string]string{"cam.mp4": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// the names depend on the videos, not on their order in the file
			for _, order := range [][]string{tt.videos, reversed(tt.videos)} {
				dir := t.TempDir()
				targets, err := pickVideos(docLinking(t, dir, order), segmentOptions{videos: "all"})
				if err != nil {
					t.Fatal(err)
				}
				if len(targets) != len(tt.want) {
					t.Errorf("order %v: %d targets, want %d", order, len(targets), len(tt.want))
				}
				got := map[string]string{}
				for _, tg := range targets {
					rel, err := filepath.Rel(dir, tg.path)
					if err != nil {
						t.Fatal(err)
					}
					got[filepath.ToSlash(rel)] = tg.suffix
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("order %v: suffixes %v, want %v", order, got, tt.want)
				}
			}
		})
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}
