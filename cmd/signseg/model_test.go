package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment"
)

// Checkpoint fixtures made by scripts/fixtures/make_fixtures.py: a
// reduced-width I3D (128-d features, both serialisations) and MS-TCNs.
const checkpointData = "../../segment/checkpoint/testdata"

func checkpointFixture(t testing.TB, name string) string {
	t.Helper()
	return testenv.Fixture(t, filepath.Join(checkpointData, name), "regenerate it with /usr/bin/python3 scripts/fixtures/make_fixtures.py small")
}

// importFixture imports the small I3D + MS-TCN as model "fixture" into a
// new models folder and returns the folder.
func importFixture(t *testing.T, i3d string) string {
	t.Helper()
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, "model", "import", "--i3d", checkpointFixture(t, i3d),
		"--mstcn", checkpointFixture(t, "mstcn_small.model"), "--name", "fixture", "--models-dir", dir)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{`imported model "fixture"`, "--models-dir " + dir + " video --model fixture", "do not share"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("import output lacks %q:\n%s", want, stdout)
		}
	}
	return dir
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestModelImportPackage(t *testing.T) {
	for _, i3d := range []string{"i3d_small.pth.tar", "i3d_small_legacy.pth.tar"} {
		t.Run(i3d, func(t *testing.T) {
			dir := importFixture(t, i3d)
			pkg := filepath.Join(dir, "fixture")
			data, err := os.ReadFile(filepath.Join(pkg, segment.ManifestFile))
			if err != nil {
				t.Fatal(err)
			}
			var man segment.Manifest
			if err := json.Unmarshal(data, &man); err != nil {
				t.Fatal(err)
			}
			f := man.Features
			// Paper pipeline §3-§4: 16-frame clips, feature i at frame i+8,
			// the paper's preprocessing; MS-TCN S=2, L=4 here, so the
			// receptive field is 2·S·(2^L−1)+1 = 61 frames.
			if f.File != "i3d.onnx" || f.ClipLength != 16 || f.Offset != 8 || f.Stride != 1 || f.Dim != 128 ||
				!reflect.DeepEqual(f.Preprocess, media.PaperI3D()) {
				t.Fatalf("features spec %+v", f)
			}
			if tm := man.Temporal; tm == nil || tm.File != "mstcn.onnx" || tm.ReceptiveField != 2*2*15+1 || tm.OutputKind != segment.OutputProbability {
				t.Fatalf("temporal spec %+v", man.Temporal)
			}
			if d := man.Decoding; d.Decoder == nil || *d.Decoder != segment.DecoderThreshold || d.Threshold == nil || *d.Threshold != 0.5 {
				t.Fatalf("decoding %s", man.Decoding)
			}
			if !strings.Contains(man.License, "Do not redistribute") {
				t.Fatalf("licence note missing: %q", man.License)
			}
			var rec importRecord
			data, err = os.ReadFile(filepath.Join(pkg, importRecordFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatal(err)
			}
			wantSums := []string{sha256File(t, checkpointFixture(t, i3d)), sha256File(t, checkpointFixture(t, "mstcn_small.model"))}
			if len(rec.Sources) != 2 || rec.Sources[0].SHA256 != wantSums[0] || rec.Sources[1].SHA256 != wantSums[1] {
				t.Fatalf("recorded sources %+v, want sha256 %v", rec.Sources, wantSums)
			}
			if !strings.Contains(man.Provenance, wantSums[0]) {
				t.Fatalf("provenance lacks the I3D hash: %s", man.Provenance)
			}

			stdout, stderr, code := runCLI(t, "--models-dir", dir, "model", "list")
			if code != 0 || !strings.Contains(stdout, "fixture ") || !strings.Contains(stdout, "motion ") {
				t.Fatalf("list: exit %d\n%s%s", code, stdout, stderr)
			}
			stdout, stderr, code = runCLI(t, "model", "info", "--models-dir", dir, "fixture")
			if code != 0 || !strings.Contains(stdout, wantSums[1]) || !strings.Contains(stdout, "receptive field 61 frames") {
				t.Fatalf("info: exit %d\n%s%s", code, stdout, stderr)
			}
		})
	}
}

func TestModelImportErrors(t *testing.T) {
	i3d := checkpointFixture(t, "i3d_small.pth.tar")
	small := checkpointFixture(t, "mstcn_small.model")
	full := checkpointFixture(t, "mstcn.model")
	taken := importFixture(t, "i3d_small.pth.tar")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"files swapped", []string{"--i3d", small, "--mstcn", i3d, "--name", "x"}, 1, "tensor Conv3d_1a_7x7.conv3d.weight is missing (the file looks like an MS-TCN checkpoint)"},
		{"MS-TCN for other features", []string{"--i3d", i3d, "--mstcn", full, "--name", "x"}, 1, "reads 1024-d features but the I3D"},
		{"TorchScript", []string{"--i3d", checkpointFixture(t, "torchscript.pt"), "--mstcn", small, "--name", "x"}, 1, "TorchScript"},
		{"not a checkpoint", []string{"--i3d", i3d, "--mstcn", checkpointFixture(t, "not_a_checkpoint.pth"), "--name", "x"}, 1, "not a PyTorch checkpoint"},
		{"missing flag", []string{"--i3d", i3d, "--name", "x"}, 2, "--mstcn is missing"},
		{"bad name", []string{"--i3d", i3d, "--mstcn", small, "--name", "../x"}, 2, "--name"},
		{"built-in name", []string{"--i3d", i3d, "--mstcn", small, "--name", "motion"}, 2, "built-in"},
		{"name taken", []string{"--i3d", i3d, "--mstcn", small, "--name", "fixture", "--models-dir", taken}, 1, "already exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"model", "import"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--models-dir") {
				args = append(args, "--models-dir", t.TempDir())
			}
			stdout, stderr, code := runCLI(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d (want %d), stderr %q (want one line with %q)\nstdout: %s", code, tc.code, stderr, tc.want, stdout)
			}
		})
	}
	// --force replaces the model.
	if _, stderr, code := runCLI(t, "model", "import", "--i3d", i3d, "--mstcn", small, "--name", "fixture", "--models-dir", taken, "--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if entries, _ := os.ReadDir(taken); len(entries) != 1 {
		t.Fatalf("models folder after --force holds %d entries, want only the model", len(entries))
	}
}

// TestImportedModelSegmentsVideo runs an imported fixture model end to end
// through the CLI on a generated video: 16-frame 224×224 clips through the
// reduced-width I3D, then the MS-TCN and threshold decoding. The video is
// short (about 25 frames) because every frame costs a full-size clip.
func TestImportedModelSegmentsVideo(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	models := importFixture(t, "i3d_small.pth.tar")
	dir := t.TempDir()
	video := filepath.Join(dir, "short.mp4")
	truth, err := synth.Render(context.Background(), ffmpeg, video, synth.Options{
		Seed: 7, Width: 160, Height: 96, Signs: 1, MinSign: 6, MaxSign: 6, MinHold: 3, MaxHold: 3, Lead: 8, Tail: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--models-dir", models, "video", "--model", "fixture", "--json", "--threads", "2", video)
	if code != 0 {
		t.Fatalf("video: exit %d\n%s%s", code, stdout, stderr)
	}
	var summary struct {
		Files []fileReport `json:"files"`
	}
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(summary.Files) != 1 || summary.Files[0].Status != "ok" {
		t.Fatalf("summary %+v", summary)
	}
	rep := summary.Files[0]
	wantSec := float64(truth.Frames) / float64(truth.FPS)
	if diff := rep.MediaSec - wantSec; diff < -0.001 || diff > 0.001 {
		t.Fatalf("segmented %.3f s of video, the video has %d frames = %.3f s", rep.MediaSec, truth.Frames, wantSec)
	}
	doc, err := eaf.ReadFile(rep.Output)
	if err != nil {
		t.Fatal(err)
	}
	anns, err := doc.Annotations(rep.Tiers[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(anns) != rep.Signs {
		t.Fatalf("tier has %d annotations, report says %d signs", len(anns), rep.Signs)
	}
	// Signs are ordered, non-overlapping and inside the video.
	var prevEnd int64
	for _, a := range anns {
		if a.Start < prevEnd || a.End <= a.Start || a.End > int64(truth.Frames*40) {
			t.Fatalf("sign %d–%d ms after one ending at %d ms, video %d ms", a.Start, a.End, prevEnd, truth.Frames*40)
		}
		prevEnd = a.End
	}
	t.Logf("%d frames: %d signs, %+v", truth.Frames, len(anns), anns)
}

// BenchmarkModelImportFullSize times `signseg model import` of a full-size
// I3D (random weights, 13.3 M values, 53 MB; make it with
// scripts/fixtures/make_fixtures.py full) with the full-size MS-TCN fixture:
// reading both checkpoints, matching, building and writing both ONNX graphs,
// and loading the package back.
func BenchmarkModelImportFullSize(b *testing.B) {
	i3d := filepath.Join(checkpointData, "full", "i3d_full.pth.tar")
	if _, err := os.Stat(i3d); err != nil {
		b.Skipf("skipping: %s not generated (scripts/fixtures/make_fixtures.py full)", i3d)
	}
	lib := testenv.ORTLibrary(b)
	dir := b.TempDir()
	for i := range b.N {
		var stdout, stderr strings.Builder
		code := run([]string{"signseg", "--ort-lib", lib, "model", "import", "--i3d", i3d,
			"--mstcn", filepath.Join(checkpointData, "mstcn.model"), "--name", "full" + strconv.Itoa(i), "--models-dir", dir}, &stdout, &stderr)
		if code != 0 {
			b.Fatalf("import: exit %d: %s", code, stderr.String())
		}
	}
}

// TestMissingCheckpointFixtureFails: a committed checkpoint fixture that is
// missing must fail the model tests, never skip them.
func TestMissingCheckpointFixtureFails(t *testing.T) {
	failed, skipped, msg := testenv.Outcome(t, func(tb testing.TB) { checkpointFixture(tb, "no_such_fixture.model") })
	if !failed || skipped {
		t.Fatalf("missing committed fixture: failed %v, skipped %v (%s); want a failure", failed, skipped, msg)
	}
}
