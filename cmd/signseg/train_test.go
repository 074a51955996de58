package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
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
	cached, err := filepath.Glob(filepath.Join(models, featureCacheDir, "motion-*", "*.gob"))
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
