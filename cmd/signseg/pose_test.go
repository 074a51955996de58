package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/pose"
)

// poseTestModelsDir is a models folder shared by test runs, so that the
// Holistic models are converted once.
func poseTestModelsDir() string {
	return filepath.Join(os.TempDir(), "signseg-test-cli-models")
}

// TestPoseCommand runs `signseg pose` on a generated video (shapes, no
// person) with an overlay: every frame is written as missing, the summary
// says so, and the overlay has every frame.
func TestPoseCommand(t *testing.T) {
	pkg := testenv.MediaPipePackage(t)
	ffmpeg := testenv.Tool(t, "ffmpeg")
	dir := t.TempDir()
	video := filepath.Join(dir, "shapes.mp4")
	if _, err := synth.Render(context.Background(), ffmpeg, video, synth.Options{Seed: 3, Width: 160, Height: 96, Signs: 2}); err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay.mp4")
	stdout, stderr, code := runCLI(t, "--models-dir", poseTestModelsDir(), "pose", "--mediapipe", pkg, "--threads", "2", "--overlay", overlay, video)
	if code != 0 {
		t.Fatalf("pose: exit %d\n%s%s", code, stdout, stderr)
	}
	f, err := pose.ReadFile(filepath.Join(dir, "shapes.pose"))
	if err != nil {
		t.Fatal(err)
	}
	b := f.Body
	want := "no signer on " + strconv.Itoa(b.Frames) + " (100.0 %)"
	if b.Frames < 20 || !strings.Contains(stdout, want) || f.Header.Dimensions.Width != 160 || f.Header.Dimensions.Height != 96 {
		t.Fatalf("%d frames of %v; stdout %q, want it to say %q", b.Frames, f.Header.Dimensions, stdout, want)
	}
	for i, c := range b.Confidence {
		if c != 0 {
			t.Fatalf("confidence %d = %g in a video without a person", i, c)
		}
	}
	info, err := media.Probe(context.Background(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 160 || info.Height != 96 || info.Frames != int64(b.Frames) {
		t.Errorf("overlay %dx%d with %d frames, want 160x96 with %d", info.Width, info.Height, info.Frames, b.Frames)
	}
	// --out puts the file elsewhere.
	out := t.TempDir()
	if _, stderr, code := runCLI(t, "--models-dir", poseTestModelsDir(), "pose", "--mediapipe", pkg, "--threads", "2", "--out", out, video); code != 0 {
		t.Fatalf("pose --out: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "shapes.pose")); err != nil {
		t.Error(err)
	}
}

// TestPoseErrors: missing models, bad flags and bad videos give one line
// and the right exit code.
func TestPoseErrors(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no video", []string{"pose"}, exitUsage, "give one or more video files"},
		{"overlay for two videos", []string{"pose", "--overlay", "o.mp4", "a.mp4", "b.mp4"}, exitUsage, "--overlay takes one video"},
		{"no models, no package", []string{"--models-dir", dir, "pose", "--mediapipe", filepath.Join(dir, "nowhere"), "x.mp4"}, exitFailed, "make setup"},
		{"bad complexity", []string{"--models-dir", dir, "pose", "--complexity", "7", "x.mp4"}, exitUsage, "use 0 (lite), 1 (full) or 2 (heavy)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", code, stderr, c.code, c.want)
			}
		})
	}
	// A file that is not a video fails that file (exit 1), naming it.
	pkg := testenv.MediaPipePackage(t)
	bad := filepath.Join(dir, "bad.mp4")
	if err := os.WriteFile(bad, []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--models-dir", poseTestModelsDir(), "pose", "--mediapipe", pkg, bad)
	if code != exitFailed || !strings.Contains(stderr, "bad.mp4") {
		t.Errorf("bad video: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.pose")); err == nil {
		t.Error("a .pose file was left for a bad video")
	}
}

// TestDoctorKeypoints: doctor says where the keypoint models are, or how
// to get them; the default model needs them, so without them it fails. It
// also says how much the feature cache holds.
func TestDoctorKeypoints(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	pkg := testenv.MediaPipePackage(t)
	stdout, _, code := runBinary(t, t.TempDir(), []string{"SIGNSEG_MODELS=" + t.TempDir(), "SIGNSEG_MEDIAPIPE="}, "--ort-lib", lib, "doctor")
	if code != 1 || !strings.Contains(stdout, "FAIL  keypoints") || !strings.Contains(stdout, "make setup") {
		t.Errorf("doctor without keypoint models: exit %d\n%s", code, stdout)
	}
	models := t.TempDir()
	cache := filepath.Join(models, featureCacheDir, "keypoints-x")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, "a.features"), make([]byte, 2_500_000), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runBinary(t, t.TempDir(), []string{"SIGNSEG_MODELS=" + models}, "--ort-lib", lib, "doctor", "--mediapipe", pkg)
	if code != 0 || !strings.Contains(stdout, "ok    keypoints") || !strings.Contains(stdout, "1 files, 2.5 MB of cached features") {
		t.Errorf("doctor --mediapipe, with a cache: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runBinary(t, t.TempDir(), []string{"SIGNSEG_MODELS=" + t.TempDir(), "SIGNSEG_MEDIAPIPE=" + pkg}, "--ort-lib", lib, "doctor")
	if code != 0 || !strings.Contains(stdout, "ok    keypoints") || !strings.Contains(stdout, "converted into") {
		t.Errorf("doctor with the package: exit %d\n%s", code, stdout)
	}
}
