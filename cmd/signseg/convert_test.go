package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
)

// TestModelConvert converts a real MediaPipe model end to end and checks
// the ONNX file's inputs and outputs in ONNX Runtime.
func TestModelConvert(t *testing.T) {
	in := filepath.Join(testenv.MediaPipePackage(t), "pose_landmark_lite.tflite")
	dir := t.TempDir()
	out := filepath.Join(dir, "pose_landmark_lite.onnx")
	stdout, stderr, code := runCLI(t, "model", "convert", in, out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"converted " + in, "input input_1 [1 256 256 3]", "output Identity [1 195]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("folder holds %d files, want only the model (no temporary file left)", len(ents))
	}
	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(t), Source: "test"}); err != nil {
		t.Fatal(err)
	}
	ins, outs, err := ort.GetInputOutputInfo(out)
	if err != nil {
		t.Fatal(err)
	}
	type io struct {
		name  string
		shape []int64
	}
	var got []io
	for _, v := range append(ins, outs...) {
		got = append(got, io{v.Name, v.Dimensions})
	}
	want := []io{{"input_1", []int64{1, 256, 256, 3}}, {"Identity", []int64{1, 195}}, {"Identity_1", []int64{1, 1}},
		{"Identity_2", []int64{1, 256, 256, 1}}, {"Identity_3", []int64{1, 64, 64, 39}}, {"Identity_4", []int64{1, 117}}}
	if !slices.EqualFunc(got, want, func(a, b io) bool { return a.name == b.name && slices.Equal(a.shape, b.shape) }) {
		t.Errorf("ONNX inputs and outputs %v, want %v", got, want)
	}
}

func TestModelConvertErrors(t *testing.T) {
	dir := t.TempDir()
	notModel := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notModel, []byte("hello, not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"one argument", []string{notModel}, 2, "want IN.tflite OUT.onnx"},
		{"missing file", []string{filepath.Join(dir, "none.tflite"), filepath.Join(dir, "o.onnx")}, 1, "none.tflite"},
		{"not a model", []string{notModel, filepath.Join(dir, "o.onnx")}, 1, "notes.txt: not a TFLite model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, append([]string{"model", "convert"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q (stdout %q)", code, stderr, tc.code, tc.want, stdout)
			}
			if _, err := os.Stat(filepath.Join(dir, "o.onnx")); err == nil {
				t.Error("a failed conversion left an output file")
			}
		})
	}
}
