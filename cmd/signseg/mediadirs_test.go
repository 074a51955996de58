package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/plot"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
)

// relink makes the EAF file link the media as an archive from another
// machine does: MEDIA_URL is mediaURL (e.g. file:///U:/…), and
// RELATIVE_MEDIA_URL says the video was next to the EAF file.
func relink(t *testing.T, eafPath, mediaURL string) {
	t.Helper()
	doc, err := eaf.ReadFile(eafPath)
	if err != nil {
		t.Fatal(err)
	}
	md := doc.Media()[0]
	data, err := os.ReadFile(eafPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, r := range [][2]string{
		{`MEDIA_URL="` + md.MediaURL + `"`, `MEDIA_URL="` + mediaURL + `"`},
		{`RELATIVE_MEDIA_URL="` + md.RelativeMediaURL + `"`, `RELATIVE_MEDIA_URL="./` + mediaURL[strings.LastIndex(mediaURL, "/")+1:] + `"`},
	} {
		if strings.Count(s, r[0]) != 1 {
			t.Fatalf("%s: %s not found once", eafPath, r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	if err := os.WriteFile(eafPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// place copies the video to root/rel, making its folders.
func place(t *testing.T, video, root, rel string) string {
	t.Helper()
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBatchMediaDir segments an archive of 20 EAF files that link their
// videos on the annotator's old Windows disk (file:///U:/Corpus/2019/s01/
// front.mp4), while the videos are in a separate media tree. Every video
// is called front.mp4 and session names repeat across years, so only the
// longest trailing match finds the right one.
func TestBatchMediaDir(t *testing.T) {
	root := t.TempDir()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	var videos []string
	for i := 0; i < 2; i++ {
		v := filepath.Join(root, "render", fmt.Sprintf("v%d.mp4", i))
		if err := os.MkdirAll(filepath.Dir(v), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := synth.Render(context.Background(), ffmpeg, v, synth.Options{Seed: int64(10 + i), Width: 96, Height: 64, Signs: 3}); err != nil {
			t.Fatal(err)
		}
		videos = append(videos, v)
	}
	corpus, media := filepath.Join(root, "corpus"), filepath.Join(root, "media")
	want := map[string]string{} // EAF file → its video under media
	for i := 0; i < 20; i++ {
		rel := fmt.Sprintf("%d/s%02d", 2019+i/10, i%10+1)
		p := filepath.Join(corpus, filepath.FromSlash(rel), "session.eaf")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		doc, err := eaf.New(eaf.NewOptions{VideoPath: videos[i%2], EAFPath: p})
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Save(p, eaf.SaveOptions{NoBackup: true}); err != nil {
			t.Fatal(err)
		}
		relink(t, p, "file:///U:/Corpus/"+rel+"/front.mp4")
		want[p] = place(t, videos[i%2], media, rel+"/front.mp4")
	}
	if err := os.RemoveAll(filepath.Join(root, "render")); err != nil {
		t.Fatal(err)
	}

	// Without --media-dir every file fails, naming the flag.
	report := filepath.Join(root, "missing.jsonl")
	_, stderr, code := runCLI(t, "batch", corpus, "--model", "motion", "--jobs", "2", "--quiet", "--report", report)
	if code != 1 || !strings.Contains(stderr, "20 of 20 files failed") {
		t.Fatalf("batch without --media-dir: exit %d\n%s", code, stderr)
	}
	for p, st := range readReports(t, report) {
		if len(st) != 1 || st[0] != "failed" {
			t.Errorf("%s: %v", p, st)
		}
	}
	if n := strings.Count(stderr, "/U:/Corpus/"); n < 20 || strings.Count(stderr, "pass the folder it is in with --media-dir DIR") != 20 {
		t.Errorf("the errors do not name the linked path and --media-dir:\n%s", stderr)
	}

	// With it (after the folder, as people type it), every file finds its
	// own video.
	stdout, stderr, code := runCLI(t, "batch", corpus, "--model", "motion", "--media-dir", media, "--jobs", "2", "--json")
	if code != 0 {
		t.Fatalf("batch --media-dir: exit %d\n%s%s", code, stdout, stderr)
	}
	var out struct {
		Files  []fileReport `json:"files"`
		Failed int          `json:"failed"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(out.Files) != 20 || out.Failed != 0 {
		t.Fatalf("%d files, %d failed", len(out.Files), out.Failed)
	}
	for _, r := range out.Files {
		if r.Status != "ok" || len(r.Videos) != 1 || r.Videos[0] != want[r.Path] || r.Signs == 0 {
			t.Errorf("%s: %s, videos %v (want %s), %d signs", r.Path, r.Status, r.Videos, want[r.Path], r.Signs)
		}
		doc, err := eaf.ReadFile(r.Path)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := doc.Tier("signseg-signs"); !ok {
			t.Errorf("%s: no tier written", r.Path)
		}
	}
}

// TestSegmentAndEvalMediaDir checks --media-dir of segment and eval --plot:
// found, ambiguous (an error naming both files, the EAF file untouched),
// a missing folder, and the flag's place.
func TestSegmentAndEvalMediaDir(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	path, video := fixture(t, filepath.Join(root, "archive"), "session", 7)
	relink(t, path, "file:///U:/Corpus/2019/s01/front.mp4")
	media := filepath.Join(root, "media")
	right := place(t, video, media, "2019/s01/front.mp4")
	place(t, video, media, "2020/s02/front.mp4")
	twins := filepath.Join(root, "twins")
	twinA := place(t, video, twins, "a/s01/front.mp4")
	twinB := place(t, video, twins, "b/s01/front.mp4")
	if err := os.Remove(video); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(root, "plot.svg")
	original, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr []string
	}{
		{"segment without --media-dir", []string{"segment", "--quiet", path}, 1, "",
			[]string{path, "/U:/Corpus/2019/s01/front.mp4 [MEDIA_URL]", "pass the folder it is in with --media-dir DIR"}},
		{"segment, ambiguous", []string{"segment", path, "--media-dir", twins, "--quiet"}, 1, "",
			[]string{path, twinA + " and " + twinB, "end in s01/front.mp4"}},
		{"segment, folder missing", []string{"segment", path, "--media-dir", filepath.Join(root, "nope")}, 2, "",
			[]string{"--media-dir " + filepath.Join(root, "nope")}},
		{"eval --media-dir without --plot", []string{"eval", path, "--ref", "gloss", "--media-dir", media}, 2, "",
			[]string{"--media-dir is for --plot"}},
		{"eval --plot without --media-dir", []string{"eval", path, "--ref", "gloss", "--hyp", "gloss", "--plot", svg}, 0, "mF1B",
			[]string{"plotting without the boundary probability", "--media-dir DIR"}},
		{"eval --plot, ambiguous", []string{"eval", path, "--ref", "gloss", "--hyp", "gloss", "--plot", svg, "--media-dir", twins}, 1, "",
			[]string{twinA + " and " + twinB}},
		{"eval --plot --media-dir", []string{"eval", path, "--ref", "gloss", "--hyp", "gloss", "--plot", svg, "--media-dir", twins, "--media-dir", media}, 0, "mF1B", nil},
		{"segment --media-dir", []string{"segment", path, "--media-dir", media, "--json"}, 0, `"` + right + `"`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args...)
			ok := code == tc.code && strings.Contains(stdout, tc.inStdout)
			for _, s := range tc.inStderr {
				ok = ok && strings.Contains(stderr, s)
			}
			if !ok {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if tc.code == 0 && tc.inStderr == nil && stderr != "" {
				t.Fatalf("stderr: %s", stderr)
			}
		})
		if tc.args[0] == "segment" && tc.code != 0 {
			if now, err := os.ReadFile(path); err != nil || string(now) != string(original) {
				t.Fatalf("%s: the EAF file changed", tc.name)
			}
		}
	}
	// The plot with --media-dir has the model's curve.
	cc := plot.CurveColour()
	if data, err := os.ReadFile(svg); err != nil || !strings.Contains(string(data), fmt.Sprintf("stroke:#%02X%02X%02X", cc.R, cc.G, cc.B)) {
		t.Fatalf("the plot with --media-dir has no curve (%v)", err)
	}
	doc, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Tier("signseg-signs"); !ok {
		t.Fatal("segment --media-dir wrote no tier")
	}
}
