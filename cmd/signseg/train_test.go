package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment"
)

// smallTrain are flags for a tiny, fast model.
var smallTrain = []string{"--stages", "1", "--layers", "3", "--channels", "8", "--batch", "1", "--lr", "0.01", "--quiet"}

// TestTrainCommand trains on generated videos with motion features, checks
// the model folder, its train.json, that it segments a video and that
// `model info` tells how it was trained; then resumes the run, which reads
// every video's features from the cache.
func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	var eafs []string
	for i, name := range []string{"a", "b", "c", "d"} {
		e, _ := fixture(t, dir, name, int64(11+i))
		eafs = append(eafs, e)
	}
	args := func(epochs string, extra ...string) []string {
		a := append([]string{"train", "--models-dir", models, "--ref", "gloss", "--features", "motion", "--out", "mine",
			"--val-files", "d.eaf", "--epochs", epochs, "--patience", "0", "--seed", "3"}, smallTrain...)
		return append(append(a, extra...), eafs...)
	}
	stdout, stderr, code := runCLI(t, args("2")...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"features (motion): 4 computed, 0 from the cache", "3 training files, 1 validation files: d.eaf",
		"epoch 1/2 loss ", "epoch 2/2 loss ", "val mF1B ", "mine (trained)", "motion (untrained default)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	cached, err := filepath.Glob(filepath.Join(models, featureCacheDir, "motion-*", "*.features"))
	if err != nil || len(cached) != 4 {
		t.Errorf("feature cache holds %d files (%v), want 4", len(cached), err)
	}

	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(t), Source: "test"}); err != nil {
		t.Fatal(err)
	}
	m, err := segment.LoadModel("mine", models)
	if err != nil {
		t.Fatal(err)
	}
	if m.Features.Builtin != "motion" || m.Temporal == nil || m.Temporal.OutputKind != segment.OutputProbability ||
		*m.Decoding.Decoder != segment.DecoderThreshold || *m.Decoding.Threshold != 0.5 {
		t.Errorf("manifest: features %+v, temporal %+v, decoding %s", m.Features, m.Temporal, m.Decoding)
	}
	rec := readTrainRecord(t, filepath.Join(models, "mine"))
	var trainNames, valNames []string
	for _, f := range rec.Data.Train {
		trainNames = append(trainNames, filepath.Base(f.EAF))
		if len(f.SHA256) != 64 || f.Frames <= 0 || f.Video == "" {
			t.Errorf("training file record %+v", f)
		}
	}
	for _, f := range rec.Data.Val {
		valNames = append(valNames, filepath.Base(f.EAF))
	}
	if !slices.Equal(trainNames, []string{"a.eaf", "b.eaf", "c.eaf"}) || !slices.Equal(valNames, []string{"d.eaf"}) {
		t.Errorf("split by file: train %v, validation %v", trainNames, valNames)
	}
	if rec.Seed != 3 || rec.FeatureModel != "motion" || len(rec.Epochs) != 2 || rec.BestEpoch < 1 || rec.Stop != "epochs" ||
		rec.Settings.Stages != 1 || rec.Settings.Layers != 3 || rec.Settings.Channels != 8 || !slices.Equal(rec.RefTiers, []string{"gloss"}) {
		t.Errorf("train.json: %+v", rec)
	}
	if _, ok := rec.Scores["trained"]; !ok {
		t.Errorf("train.json has no trained score: %+v", rec.Scores)
	}
	if _, ok := rec.Scores["feature_model"]; !ok {
		t.Errorf("train.json has no feature model score: %+v", rec.Scores)
	}
	// The validation score of the best epoch, computed in Go during
	// training, is the score of the written ONNX model through the
	// pipeline.
	best := rec.Epochs[rec.BestEpoch-1]
	if got := rec.Scores["trained"]; got.MF1B != best.MF1B || got.MF1S != best.MF1S {
		t.Errorf("written model scores mF1B %.2f mF1S %.2f, its epoch %d scored %.2f %.2f in training", got.MF1B, got.MF1S, rec.BestEpoch, best.MF1B, best.MF1S)
	}

	info, stderr, code := runCLI(t, "model", "info", "--models-dir", models, "mine")
	if code != 0 || !strings.Contains(info, "trained by:") || !strings.Contains(info, "3 training files, 1 validation files") ||
		!strings.Contains(info, "built-in motion") {
		t.Errorf("model info: exit %d\n%s%s", code, info, stderr)
	}
	vdir := t.TempDir()
	_, video := fixture(t, vdir, "new", 99)
	os.Remove(filepath.Join(vdir, "new.eaf"))
	out, stderr, code := runCLI(t, "--models-dir", models, "video", "--quiet", "--model", "mine", video)
	if code != 0 || !strings.Contains(out, "wrote tier signseg-signs") {
		t.Errorf("video --model mine: exit %d\n%s%s", code, out, stderr)
	}

	// `segment` with the trained model and `eval` on the validation file
	// give the scores the training reported.
	if out, stderr, code := runCLI(t, "--models-dir", models, "segment", "--quiet", "--no-backup", "--model", "mine", eafs[3]); code != 0 {
		t.Fatalf("segment --model mine: exit %d\n%s%s", code, out, stderr)
	}
	js, stderr, code := runCLI(t, "eval", "--json", "--ref", "gloss", eafs[3])
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev evalJSON
	if err := json.Unmarshal([]byte(js), &ev); err != nil {
		t.Fatal(err)
	}
	if got := rec.Scores["trained"]; ev.Total.MF1B != got.MF1B || ev.Total.MF1S != got.MF1S {
		t.Errorf("eval of the segmented validation file: mF1B %.2f mF1S %.2f, train.json says %.2f %.2f", ev.Total.MF1B, ev.Total.MF1S, got.MF1B, got.MF1S)
	}

	// Resume to 3 epochs: one more epoch, features all from the cache.
	stdout, stderr, code = runCLI(t, args("3", "--resume")...)
	if code != 0 {
		t.Fatalf("train --resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "4 from the cache") || !strings.Contains(stdout, "epoch 3/3") || strings.Contains(stdout, "epoch 2/3") {
		t.Errorf("resumed run:\n%s", stdout)
	}
	if rec := readTrainRecord(t, filepath.Join(models, "mine")); len(rec.Epochs) != 3 {
		t.Errorf("resumed train.json has %d epochs, want 3", len(rec.Epochs))
	}
}

func readTrainRecord(t *testing.T, dir string) trainRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, trainRecordFile))
	if err != nil {
		t.Fatal(err)
	}
	var rec trainRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestTrainErrors checks usage errors (exit 2) and bad files (exit 1, one
// line naming the file).
func TestTrainErrors(t *testing.T) {
	dir := t.TempDir()
	a, _ := fixture(t, dir, "a", 1)
	b, _ := fixture(t, dir, "b", 2)
	models := filepath.Join(dir, "models")
	base := []string{"train", "--models-dir", models}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no ref", []string{"--features", "motion", "--out", "x", a, b}, 2, "--ref"},
		{"no features", []string{"--ref", "gloss", "--out", "x", a, b}, 2, "--features"},
		{"no out", []string{"--ref", "gloss", "--features", "motion", a, b}, 2, "--out"},
		{"no files", []string{"--ref", "gloss", "--features", "motion", "--out", "x"}, 2, ".eaf files"},
		{"bad val", []string{"--ref", "gloss", "--features", "motion", "--out", "x", "--val", "150%", a, b}, 2, "--val"},
		{"val and val-files", []string{"--ref", "gloss", "--features", "motion", "--out", "x", "--val", "50%", "--val-files", "a.eaf", a, b}, 2, "either"},
		{"unknown val file", []string{"--ref", "gloss", "--features", "motion", "--out", "x", "--val-files", "z.eaf", a, b}, 2, "z.eaf"},
		{"built-in name", []string{"--ref", "gloss", "--features", "motion", "--out", "motion", a, b}, 2, "built-in"},
		{"unknown feature model", []string{"--ref", "gloss", "--features", "nosuch", "--out", "x", a, b}, 2, "nosuch"},
		{"resume without run", []string{"--ref", "gloss", "--features", "motion", "--out", "x", "--resume", a, b}, 2, "no stopped run"},
		{"missing ref tier", []string{"--ref", "gloss,RH", "--features", "motion", "--out", "x", a, b}, 1, a + `: no tier "RH"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, append(append(base, tt.args...), smallTrain...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d (want %d), stderr lacks %q or is not one line:\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
			if _, err := os.Stat(filepath.Join(models, "x")); err == nil {
				t.Errorf("a model was written")
			}
		})
	}
}

// TestTrainInterrupt sends Ctrl-C to a running training: it stops with
// exit 1, saves the best model so far (which loads), and --resume
// continues from the last finished epoch.
func TestTrainInterrupt(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	a, _ := fixture(t, dir, "a", 5)
	b, _ := fixture(t, dir, "b", 6)
	args := append([]string{"--ort-lib", lib, "train", "--models-dir", models, "--ref", "gloss", "--features", "motion", "--out", "stopped",
		"--val-files", "b.eaf", "--epochs", "100000", "--patience", "0"}, smallTrain...)
	cmd := exec.Command(binary, append(args, a, b)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "epoch 2/") {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out.String(), "saved the best model so far") {
		t.Fatalf("interrupted training: %v\n%s%s", err, out.String(), stderr.String())
	}
	rec := readTrainRecord(t, filepath.Join(models, "stopped"))
	if len(rec.Epochs) < 2 || rec.Stop != "interrupted" || rec.BestEpoch < 1 {
		t.Fatalf("train.json after Ctrl-C: %d epochs, stop %q, best %d", len(rec.Epochs), rec.Stop, rec.BestEpoch)
	}
	if err := ortenv.Init(ortenv.Library{Path: lib, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := segment.LoadModel("stopped", models); err != nil {
		t.Fatalf("the model saved on Ctrl-C does not load: %v", err)
	}
	done := len(rec.Epochs)
	resumed, errOut, code := runCLI(t, append(append(args[2:len(args)-len(smallTrain)-4], "--epochs", strconv.Itoa(done+1), "--patience", "0", "--resume"), append(smallTrain, a, b)...)...)
	if code != 0 || !strings.Contains(resumed, fmt.Sprintf("epoch %d/%d", done+1, done+1)) || strings.Contains(resumed, "epoch 1/") {
		t.Fatalf("--resume after %d epochs: exit %d\n%s%s", done, code, resumed, errOut)
	}
	if rec := readTrainRecord(t, filepath.Join(models, "stopped")); len(rec.Epochs) != done+1 || rec.Stop != "epochs" {
		t.Errorf("train.json after --resume: %d epochs (want %d), stop %q", len(rec.Epochs), done+1, rec.Stop)
	}
}

// fakeTerminal is a stderr that says it is a terminal (see isTerminal).
type fakeTerminal struct{ bytes.Buffer }

func (*fakeTerminal) isTerminal() bool { return true }

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
		want bool
	}{{"regular file", f, false}, {"buffer", new(bytes.Buffer), false}, {"terminal", new(fakeTerminal), true}} {
		if got := isTerminal(tc.w); got != tc.want {
			t.Errorf("%s: isTerminal %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTrainProgress checks what train prints per epoch: on a terminal a
// redrawn bar on stderr with the epoch, loss and validation scores (those
// that train.json records) and nothing on stdout; otherwise, or with
// --quiet, a plain line per epoch on stdout and no bar.
func TestTrainProgress(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	a, _ := fixture(t, dir, "a", 21)
	b, _ := fixture(t, dir, "b", 22)
	barRE := regexp.MustCompile(`^\[(#*) *\] epoch (\d+)/2 loss (\d+\.\d{4}) val mF1B (\d+\.\d{2}) mF1S (\d+\.\d{2}), \d+\.\ds( \*)?\n?$`)
	lineRE := regexp.MustCompile(`(?m)^epoch (\d+)/2 loss (\d+\.\d{4}) val mF1B (\d+\.\d{2}) mF1S (\d+\.\d{2}), \d+\.\ds( \*)?$`)
	for i, tc := range []struct {
		name      string
		terminal  bool
		quiet     bool
		wantBar   bool
		wantLines bool
	}{
		// The first run computes the features: on a terminal they have a
		// bar too.
		{"terminal", true, false, true, false},
		{"not a terminal", false, false, false, true},
		{"quiet on a terminal", true, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := fmt.Sprint("m", i)
			args := []string{"signseg", "--ort-lib", testenv.ORTLibrary(t), "train", "--models-dir", models, "--ref", "gloss", "--features", "motion",
				"--out", out, "--val-files", "b.eaf", "--epochs", "2", "--patience", "0", "--stages", "1", "--layers", "3", "--channels", "8", "--lr", "0.01"}
			if tc.quiet {
				args = append(args, "--quiet")
			}
			var stdout bytes.Buffer
			var stderr interface {
				io.Writer
				String() string
			} = new(bytes.Buffer)
			if tc.terminal {
				stderr = new(fakeTerminal)
			}
			if code := run(append(args, a, b), &stdout, stderr); code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
			}
			rec := readTrainRecord(t, filepath.Join(models, out))
			if len(rec.Epochs) != 2 {
				t.Fatalf("train.json has %d epochs", len(rec.Epochs))
			}
			// want is what each epoch's bar or line shows: train.json's
			// numbers, rounded as printed.
			want := func(e int) []string {
				r := rec.Epochs[e-1]
				return []string{fmt.Sprintf("%.4f", r.Loss), fmt.Sprintf("%.2f", r.MF1B), fmt.Sprintf("%.2f", r.MF1S)}
			}
			errOut := stderr.String()
			var bars []string
			for _, part := range strings.Split(errOut, "\r\033[K") {
				if strings.HasPrefix(part, "[") {
					bars = append(bars, part)
				}
			}
			if !tc.wantBar {
				if len(bars) != 0 || strings.Contains(errOut, "\r") {
					t.Errorf("progress on stderr:\n%q", errOut)
				}
			} else {
				if len(bars) != 2 {
					t.Fatalf("%d epoch bars on stderr, want 2:\n%q", len(bars), errOut)
				}
				for k, bar := range bars {
					m := barRE.FindStringSubmatch(bar)
					if m == nil || m[2] != strconv.Itoa(k+1) || len(m[1]) != 5*(k+1) || !slices.Equal(m[3:6], want(k+1)) {
						t.Errorf("bar %d is %q; want %d of 10 marks, epoch %d/2 and train.json's loss, mF1B and mF1S %v", k+1, bar, 5*(k+1), k+1, want(k+1))
					}
				}
				if !strings.HasSuffix(errOut, "\n") {
					t.Errorf("the bar line is not ended: %q", errOut)
				}
				for _, name := range []string{"a.eaf (a.mp4)", "b.eaf (b.mp4)"} {
					if !strings.Contains(errOut, name+" [####################] 100% ") {
						t.Errorf("no full feature bar for %s on stderr:\n%q", name, errOut)
					}
				}
			}
			lines := lineRE.FindAllStringSubmatch(stdout.String(), -1)
			if !tc.wantLines {
				if len(lines) != 0 || strings.Contains(stdout.String(), "epoch 1/2") {
					t.Errorf("epoch lines on stdout with a bar:\n%s", stdout.String())
				}
				return
			}
			if len(lines) != 2 {
				t.Fatalf("%d epoch lines on stdout, want 2:\n%s", len(lines), stdout.String())
			}
			for k, m := range lines {
				if m[1] != strconv.Itoa(k+1) || !slices.Equal(m[2:5], want(k+1)) {
					t.Errorf("line %q; want epoch %d/2 and train.json's %v", m[0], k+1, want(k+1))
				}
			}
		})
	}
}

// TestTrainMediaPipeFlag trains on the hands model's keypoints with the
// MediaPipe package given by --mediapipe only: without it (and without
// $SIGNSEG_MEDIAPIPE) the package is not found.
func TestTrainMediaPipeFlag(t *testing.T) {
	pkg := testenv.MediaPipePackage(t)
	t.Setenv(envMediaPipe, "")
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	a, _ := fixture(t, dir, "a", 31)
	b, _ := fixture(t, dir, "b", 32)
	args := []string{"train", "--models-dir", models, "--ref", "gloss", "--features", "hands", "--out", "kp", "--val-files", "b.eaf",
		"--epochs", "1", "--patience", "0", "--stages", "1", "--layers", "2", "--channels", "4", "--quiet"}
	stdout, stderr, code := runCLI(t, append(args, a, b)...)
	if code != 1 || !strings.Contains(stderr, "MediaPipe Holistic models not found") {
		t.Errorf("without --mediapipe: exit %d (want 1: the package is not found)\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, append(args, "--mediapipe", pkg, a, b)...)
	if code != 0 || !strings.Contains(stdout, "features (hands): 2 computed") || !strings.Contains(stdout, "kp (trained)") {
		t.Fatalf("with --mediapipe: exit %d\n%s%s", code, stdout, stderr)
	}
	if conv, err := filepath.Glob(filepath.Join(models, pose.ModelsSubdir, "*.onnx")); err != nil || len(conv) == 0 {
		t.Errorf("no converted Holistic models under train's --models-dir %s (%v)", models, err)
	}
}
