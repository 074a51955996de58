package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
)

// binary is signseg built once for tests that need a separate process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signseg-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "signseg")
	// The tests must find keypoints, not read those of an earlier run from
	// the user's models folder; the cache's own tests turn it back on.
	os.Setenv(envNoFeatureCache, "true")
	args := append(append([]string{"build"}, raceBuildFlags...), "-o", binary, ".")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the command line in-process and returns stdout, stderr and
// the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"signseg", "--ort-lib", testenv.ORTLibrary(t)}, args...)
	code := run(full, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// runBinary runs the built binary as a separate process.
func runBinary(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestUsageAndExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"version", []string{"--version"}, 0, "signseg version", ""},
		{"help", []string{"--help"}, 0, "training-free rule on MediaPipe Holistic keypoints", ""},
		{"segment help", []string{"segment", "--help"}, 0, "--replace", ""},
		{"video help", []string{"video", "--help"}, 0, "--tier", ""},
		{"batch help", []string{"batch", "--help"}, 0, "--shard", ""},
		{"doctor help", []string{"doctor", "--help"}, 0, "doctor", ""},
		{"unknown command", []string{"segmnet"}, 2, "", `unknown command "segmnet"`},
		{"unknown flag", []string{"segment", "--nope", "x.eaf"}, 2, "", "nope"},
		{"no files", []string{"segment"}, 2, "", "give one or more .eaf files"},
		{"bad shard", []string{"batch", "--shard", "4/4", "."}, 2, "", "--shard"},
		{"bad gaps", []string{"video", "--gaps", "wide", "x.mp4"}, 2, "", `gaps "wide" must be "split" or "keep"`},
		{"every bad setting on one line", []string{"video", "--threshold", "2", "--min-sign-frames", "-1", "x.mp4"}, 2, "", "threshold 2 must be between 0 and 1; min sign frames -1 must be ≥ 0\n"},
		{"threshold decoder without a temporal model", []string{"video", "--decoder", "threshold", "x.mp4"}, 2, "", "needs a temporal model"},
		{"unknown model", []string{"video", "--model", "nosuchmodel", "x.mp4"}, 2, "", `model "nosuchmodel" not found`},
		{"feature-every beyond the clip", []string{"video", "--model", "motion", "--feature-every", "99", "x.mp4"}, 2, "", "features every 99 clips"},
		{"no CUDA in this ONNX Runtime", []string{"video", "--device", "cuda", "x.mp4"}, 1, "", "CUDA execution provider is not available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.inStdout) || !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
		})
	}
}

func TestDoctor(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	testenv.Tool(t, "ffmpeg")
	stdout, stderr, code := runBinary(t, t.TempDir(), []string{"SIGNSEG_MEDIAPIPE=" + testenv.MediaPipePackage(t)}, "--ort-lib", lib, "doctor")
	if code != 0 || !strings.Contains(stdout, "onnxruntime  1.24.1") || !strings.Contains(stdout, "motion (built-in)") {
		t.Fatalf("doctor: exit %d\n%s%s", code, stdout, stderr)
	}
	// The library moved away: no flag, no variable, no lib/ near the
	// binary or in the working directory.
	stdout, stderr, code = runBinary(t, t.TempDir(), []string{"SIGNSEG_ORT_LIB="}, "doctor")
	if code != 1 || !strings.Contains(stdout, "FAIL  onnxruntime") || !strings.Contains(stdout, "make setup") {
		t.Fatalf("doctor without the library: exit %d\n%s%s", code, stdout, stderr)
	}
	// Commands that need the library fail with one line naming the fix.
	_, stderr, code = runBinary(t, t.TempDir(), []string{"SIGNSEG_ORT_LIB="}, "video", "x.mp4")
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "make setup") {
		t.Fatalf("video without the library: exit %d, stderr %q", code, stderr)
	}
}

// fixture renders a short synthetic signer video and an EAF that links it
// with a human-annotated tier, in dir.
func fixture(t *testing.T, dir, name string, seed int64) (eafPath, video string) {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	video = filepath.Join(dir, name+".mp4")
	truth, err := synth.Render(context.Background(), ffmpeg, video, synth.Options{Seed: seed, Width: 160, Height: 96, Signs: 4})
	if err != nil {
		t.Fatal(err)
	}
	eafPath = filepath.Join(dir, name+".eaf")
	doc, err := eaf.New(eaf.NewOptions{VideoPath: video, EAFPath: eafPath, Author: "a linguist"})
	if err != nil {
		t.Fatal(err)
	}
	spec := eaf.TierSpec{ID: "gloss", Annotator: "JD"}
	for _, s := range truth.Signs {
		spec.Segments = append(spec.Segments, eaf.Segment{Start: truth.MS(s.Start), End: truth.MS(s.End), Value: "SIGN"})
	}
	if _, err := doc.AddTier(spec); err != nil {
		t.Fatal(err)
	}
	if err := doc.Save(eafPath, eaf.SaveOptions{NoBackup: true}); err != nil {
		t.Fatal(err)
	}
	return eafPath, video
}

// onlyInsertedLines checks that after is before with lines inserted, apart
// from the lastUsedAnnotationId line.
func onlyInsertedLines(t *testing.T, before, after []byte) {
	t.Helper()
	b := strings.Split(string(before), "\n")
	a := strings.Split(string(after), "\n")
	i := 0
	for _, line := range a {
		if i < len(b) && (line == b[i] || strings.Contains(b[i], "lastUsedAnnotationId") && strings.Contains(line, "lastUsedAnnotationId")) {
			i++
		}
	}
	if i != len(b) {
		t.Fatalf("output is not the input plus inserted lines: input line %d %q is missing", i+1, b[i])
	}
}

func TestSegmentCommand(t *testing.T) {
	dir := t.TempDir()
	path, _ := fixture(t, dir, "session", 1)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "segment", "--quiet", "--model", "motion", "--confidence", "--boundary-tier", "signseg-boundaries", path)
	if code != 0 || !strings.Contains(stdout, "wrote tier signseg-signs, signseg-signs-confidence, signseg-boundaries") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	onlyInsertedLines(t, before, after)
	if bak, err := os.ReadFile(path + ".bak"); err != nil || !bytes.Equal(bak, before) {
		t.Fatalf("backup missing or different: %v", err)
	}
	doc, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	signs, err := doc.Annotations("signseg-signs")
	if err != nil || len(signs) < 3 {
		t.Fatalf("signseg-signs: %d annotations, %v", len(signs), err)
	}
	conf, err := doc.Annotations("signseg-signs-confidence")
	if err != nil || len(conf) != len(signs) {
		t.Fatalf("confidence tier: %d annotations for %d signs, %v", len(conf), len(signs), err)
	}
	if v, ok := doc.Property("signseg:signseg-signs"); !ok || !strings.Contains(v, "model motion") {
		t.Fatalf("provenance property = %q, %v", v, ok)
	}
	if tier, _ := doc.Tier("signseg-signs"); !tier.IsSignseg() {
		t.Fatalf("tier annotator %q is not recognised as signseg's", tier.Annotator)
	}

	// A second run without --replace refuses and leaves the file alone.
	_, stderr, code = runCLI(t, "segment", "--quiet", path)
	if code != 1 || !strings.Contains(stderr, "--replace") {
		t.Fatalf("name clash: exit %d, %s", code, stderr)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, after) {
		t.Fatal("a refused run changed the file")
	}
	// A person's tier is never replaced, even with --replace.
	_, stderr, code = runCLI(t, "segment", "--quiet", "--replace", "--tier", "gloss", path)
	if code != 1 || !strings.Contains(stderr, "not written by signseg") {
		t.Fatalf("replacing a human tier: exit %d, %s", code, stderr)
	}
	// --replace redoes signseg's tier and keeps the same document otherwise.
	stdout, stderr, code = runCLI(t, "segment", "--quiet", "--model", "motion", "--replace", "--confidence", "--boundary-tier", "signseg-boundaries", path)
	if code != 0 {
		t.Fatalf("--replace: exit %d\n%s%s", code, stdout, stderr)
	}
	redone, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tierTimes(t, redone), tierTimes(t, doc); got != want {
		t.Fatalf("replacing with the same model and settings changed the tiers:\n%s\nwant\n%s", got, want)
	}
}

// tierTimes lists every tier's annotations (times and values) as text.
func tierTimes(t *testing.T, doc *eaf.Document) string {
	t.Helper()
	var b strings.Builder
	for _, tier := range doc.Tiers() {
		anns, err := doc.Annotations(tier.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:", tier.ID)
		for _, a := range anns {
			fmt.Fprintf(&b, " %d-%d %q", a.Start, a.End, a.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestSegmentOutDryRunAndMedia(t *testing.T) {
	dir := t.TempDir()
	path, video := fixture(t, dir, "s", 2)
	before, _ := os.ReadFile(path)
	out := filepath.Join(t.TempDir(), "copies")
	if _, stderr, code := runCLI(t, "segment", "--quiet", "--out", out, path); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, stderr)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("--out changed the original")
	}
	if _, err := os.Stat(path + ".bak"); err == nil {
		t.Fatal("--out made a backup of the original")
	}
	if doc, err := eaf.ReadFile(filepath.Join(out, "s.eaf")); err != nil {
		t.Fatal(err)
	} else if _, ok := doc.Tier("signseg-signs"); !ok {
		t.Fatal("the copy has no tier")
	}

	stdout, stderr, code := runCLI(t, "segment", "--dry-run", "--json", path)
	if code != 0 || !strings.Contains(stdout, `"status": "dry-run"`) {
		t.Fatalf("--dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("--dry-run wrote")
	}

	// --media overrides the link: a file whose link is broken still works.
	broken := filepath.Join(t.TempDir(), "s.eaf")
	if err := os.WriteFile(broken, before, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Rename(video, video+".moved")
	if _, stderr, code := runCLI(t, "segment", "--quiet", broken); code != 1 || !strings.Contains(stderr, "tried") {
		t.Fatalf("broken link: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "segment", "--quiet", "--media", video+".moved", broken); code != 0 {
		t.Fatalf("--media: exit %d: %s", code, stderr)
	}
}

func TestVideoCommand(t *testing.T) {
	dir := t.TempDir()
	_, video := fixture(t, dir, "clip", 3)
	os.Remove(filepath.Join(dir, "clip.eaf"))
	stdout, stderr, code := runCLI(t, "video", "--quiet", video)
	if code != 0 || !strings.Contains(stdout, "clip.eaf: wrote tier signseg-signs") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	doc, err := eaf.ReadFile(filepath.Join(dir, "clip.eaf"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := doc.ResolveVideo(eaf.ResolveOptions{})
	if err != nil || r.Path != video {
		t.Fatalf("the new EAF links %q (%v), want %s", r.Path, err, video)
	}
	if md := doc.Media()[0]; md.RelativeMediaURL != "./clip.mp4" || md.MimeType != "video/mp4" {
		t.Fatalf("media descriptor %+v", md)
	}
	// Never overwrite an existing EAF.
	if _, stderr, code := runCLI(t, "video", "--quiet", video); code != 1 || !strings.Contains(stderr, "signseg segment") {
		t.Fatalf("existing EAF: exit %d: %s", code, stderr)
	}
}

// TestBadInput checks that every kind of bad input gives one clear line,
// exit code 1, and leaves the EAF untouched; in one run, the good file
// still gets done.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good, _ := fixture(t, dir, "good", 4)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodBytes, _ := os.ReadFile(good)
	relink := func(name, mediaFile, mime string) string {
		s := strings.ReplaceAll(string(goodBytes), "good.mp4", mediaFile)
		s = strings.ReplaceAll(s, "video/mp4", mime)
		return write(name, s)
	}
	write("garbage.mp4", strings.Repeat("not a video ", 1000))
	audio := filepath.Join(dir, "voice.wav")
	if out, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "sine=d=1", audio).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cases := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "missing.eaf"), "missing.eaf"},
		{"malformed XML", write("broken.eaf", "<ANNOTATION_DOCUMENT>\n<HEADER>\n</ANNOTATION_DOCUMENT>\n"), "broken.eaf:"},
		{"no linked video", relink("nolink.eaf", "elsewhere.mp4", "video/mp4"), "tried"},
		{"unreadable video", relink("garbage.eaf", "garbage.mp4", "video/mp4"), "garbage.mp4"},
		{"audio only", relink("audio.eaf", "voice.wav", "audio/x-wav"), "audio"},
	}
	var paths []string
	for _, tc := range cases {
		paths = append(paths, tc.path)
	}
	paths = append(paths, good)
	stdout, stderr, code := runCLI(t, append([]string{"segment", "--quiet"}, paths...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != len(cases)+1 { // one per bad file, plus the summary
		t.Fatalf("want one line per bad file plus a summary, got:\n%s", stderr)
	}
	for i, tc := range cases {
		if !strings.Contains(lines[i], tc.want) {
			t.Errorf("%s: %q does not mention %q", tc.name, lines[i], tc.want)
		}
		if _, err := os.Stat(tc.path + ".bak"); err == nil {
			t.Errorf("%s: the file was rewritten", tc.name)
		}
	}
	if !strings.Contains(stdout, "good.eaf: wrote tier") {
		t.Fatalf("the good file was not processed:\n%s", stdout)
	}
	// A model that does not load.
	if _, stderr, code := runCLI(t, "segment", "--model", filepath.Join(dir, "nomodel"), good); code != 1 || !strings.Contains(stderr, "nomodel") {
		t.Fatalf("bad model: exit %d: %s", code, stderr)
	}
}

// TestSegmentOldVersion adds a tier to an EAF 2.0 file, which has no
// header properties and no ANNOTATOR attribute.
func TestSegmentOldVersion(t *testing.T) {
	dir := t.TempDir()
	_, video := fixture(t, dir, "old", 8)
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "eaf", "testdata", "v20.eaf"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "v20.eaf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "segment", "--quiet", "--model", "motion", "--media", video, path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	doc, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if anns, err := doc.Annotations("signseg-signs"); err != nil || len(anns) == 0 {
		t.Fatalf("signseg-signs: %d annotations, %v", len(anns), err)
	}
	// A batch over it again skips it rather than failing on the name.
	stdout, stderr, code := runCLI(t, "batch", "--quiet", path)
	if code != 0 || !strings.Contains(stdout, "skipped") {
		t.Fatalf("batch rerun: exit %d\n%s%s", code, stdout, stderr)
	}
}
