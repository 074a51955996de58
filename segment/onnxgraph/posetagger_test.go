package onnxgraph

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
)

// The ONNX graph (run by ONNX Runtime) against the plain-loop reference, for
// several sizes, sequence lengths and a batch of 2 (which checks the
// transposes around the LSTM: each batch row must equal its own run).
func TestPoseTaggerMatchesReference(t *testing.T) {
	initORT(t)
	cases := []struct {
		d     PoseTaggerDims
		T     []int
		scale float64
	}{
		{PoseTaggerDims{In: 6, Proj: 4, Hidden: 3, Classes: 3}, []int{1, 2, 9}, 2},
		{PoseTaggerDims{In: 225, Proj: 16, Hidden: 8, Classes: 3}, []int{5, 31}, 3},
		{PoseTaggerDims{In: 5, Proj: 7, Hidden: 2, Classes: 4}, []int{12}, 1},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for ci, c := range cases {
		w, err := RandomPoseTagger(rng, c.d, c.scale)
		if err != nil {
			t.Fatal(err)
		}
		model, err := BuildPoseTagger(w, PoseTaggerOptions{Metadata: map[string]string{"test": "yes"}})
		if err != nil {
			t.Fatal(err)
		}
		s := session(t, model, []string{PoseTaggerInput}, []string{PoseTaggerSign, PoseTaggerSentence}, 1)
		for _, T := range c.T {
			const N = 2
			x := make([]float32, N*T*c.d.In)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			outs, shapes := runFloat(t, s, ort.NewShape(N, int64(T), int64(c.d.In)), x, 2)
			for k, sh := range shapes {
				if len(sh) != 3 || sh[0] != N || sh[1] != int64(T) || sh[2] != int64(c.d.Classes) {
					t.Fatalf("output %d shape %v, want [%d %d %d]", k, sh, N, T, c.d.Classes)
				}
			}
			var worst float64
			for n := 0; n < N; n++ {
				sign, sent, err := ReferencePoseTagger(w, x[n*T*c.d.In:(n+1)*T*c.d.In], T)
				if err != nil {
					t.Fatal(err)
				}
				per := T * c.d.Classes
				worst = max(worst, testenv.MaxAbsDiff(outs[0][n*per:(n+1)*per], sign), testenv.MaxAbsDiff(outs[1][n*per:(n+1)*per], sent))
			}
			t.Logf("case %d %+v T=%d N=%d: ONNX vs reference max abs diff %.2g", ci, c.d, T, N, worst)
			if worst > 1e-5 {
				t.Errorf("case %d T=%d: max abs diff %.3g > 1e-5", ci, T, worst)
			}
		}
	}
}

func TestPoseTaggerDimsErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := PoseTaggerDims{In: 4, Proj: 3, Hidden: 2, Classes: 3}
	cases := []struct {
		name string
		edit func(w *PoseTaggerWeights)
		want string
	}{
		{"projection", func(w *PoseTaggerWeights) { w.Projection.Weight = w.Projection.Weight[1:] }, "projection"},
		{"forward", func(w *PoseTaggerWeights) { w.Forward.BiasHH = nil }, "forward LSTM"},
		{"backward", func(w *PoseTaggerWeights) { w.Backward.WeightHH = w.Backward.WeightHH[:3] }, "backward LSTM"},
		{"sign", func(w *PoseTaggerWeights) { w.Sign.In = 3 }, "sign head"},
		{"sentence", func(w *PoseTaggerWeights) { w.Sentence.Out = 2 }, "sentence head"},
		{"hidden", func(w *PoseTaggerWeights) { w.Hidden = 0 }, "unusable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := RandomPoseTagger(rng, base, 1)
			if err != nil {
				t.Fatal(err)
			}
			c.edit(w)
			if _, err := BuildPoseTagger(w, PoseTaggerOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	w, _ := RandomPoseTagger(rng, base, 1)
	if _, err := BuildPoseTagger(w, PoseTaggerOptions{Metadata: map[string]string{"model": "x"}}); err == nil {
		t.Error("metadata key model overridden without error")
	}
	if _, _, err := ReferencePoseTagger(w, make([]float32, 5), 2); err == nil {
		t.Error("reference accepted 5 values for T=2, In=4")
	}
}

// TestPoseTaggerONNXChecker runs the onnx checker (full check, strict shape
// inference) on the graph when the Python onnx package is installed.
func TestPoseTaggerONNXChecker(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("skipping: %s cannot import onnx (optional; ONNX Runtime tests cover the model)", py)
	}
	w, err := RandomPoseTagger(rand.New(rand.NewPCG(3, 4)), PoseTaggerDims{In: 225, Proj: 8, Hidden: 4, Classes: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := BuildPoseTagger(w, PoseTaggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tagger.onnx")
	if err := os.WriteFile(p, m, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); onnx.shape_inference.infer_shapes(m, strict_mode=True)", p).CombinedOutput()
	if err != nil {
		t.Errorf("onnx checker rejects the pose tagger: %v\n%s", err, out)
	}
}

// BenchmarkPoseTagger runs the released model's sizes (225 → 256, LSTM 128
// per direction) on one minute of keypoints at 25 fps.
func BenchmarkPoseTagger(b *testing.B) {
	initORT(b)
	const T = 1500
	d := PoseTaggerDims{In: 225, Proj: 256, Hidden: 128, Classes: 3}
	rng := rand.New(rand.NewPCG(5, 6))
	w, err := RandomPoseTagger(rng, d, 1)
	if err != nil {
		b.Fatal(err)
	}
	model, err := BuildPoseTagger(w, PoseTaggerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s := session(b, model, []string{PoseTaggerInput}, []string{PoseTaggerSign, PoseTaggerSentence}, 1)
	x := make([]float32, T*d.In)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	b.ResetTimer()
	for range b.N {
		runFloat(b, s, ort.NewShape(1, T, int64(d.In)), x, 2)
	}
	b.ReportMetric(float64(T)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
