package onnxgraph

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
)

// Parity with PyTorch on checkpoints is tested in segment/checkpoint
// (TestI3DParity); these tests cover the graph on its own.

// TestSamePads walks the I3D's layers with samePads and compares every
// pad and output size with the table in the paper pipeline spec (§3),
// which was read off the PyTorch model for a 16×224×224 clip.
func TestSamePads(t *testing.T) {
	tests := []struct {
		layer   string
		in      [3]int
		k, s    [3]int
		pads    [6]int64 // t0,h0,w0,t1,h1,w1
		outSize [3]int
	}{
		{"Conv3d_1a_7x7", [3]int{16, 224, 224}, [3]int{7, 7, 7}, [3]int{2, 2, 2}, [6]int64{2, 2, 2, 3, 3, 3}, [3]int{8, 112, 112}},
		{"MaxPool3d_2a_3x3", [3]int{8, 112, 112}, [3]int{1, 3, 3}, [3]int{1, 2, 2}, [6]int64{0, 0, 0, 0, 1, 1}, [3]int{8, 56, 56}},
		{"Conv3d_2b_1x1", [3]int{8, 56, 56}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [6]int64{}, [3]int{8, 56, 56}},
		{"Conv3d_2c_3x3", [3]int{8, 56, 56}, [3]int{3, 3, 3}, [3]int{1, 1, 1}, [6]int64{1, 1, 1, 1, 1, 1}, [3]int{8, 56, 56}},
		{"MaxPool3d_3a_3x3", [3]int{8, 56, 56}, [3]int{1, 3, 3}, [3]int{1, 2, 2}, [6]int64{0, 0, 0, 0, 1, 1}, [3]int{8, 28, 28}},
		{"Mixed_3b 3x3x3", [3]int{8, 28, 28}, [3]int{3, 3, 3}, [3]int{1, 1, 1}, [6]int64{1, 1, 1, 1, 1, 1}, [3]int{8, 28, 28}},
		{"MaxPool3d_4a_3x3", [3]int{8, 28, 28}, [3]int{3, 3, 3}, [3]int{2, 2, 2}, [6]int64{0, 0, 0, 1, 1, 1}, [3]int{4, 14, 14}},
		{"MaxPool3d_5a_2x2", [3]int{4, 14, 14}, [3]int{2, 2, 2}, [3]int{2, 2, 2}, [6]int64{}, [3]int{2, 7, 7}},
		{"odd size, stride 2 (n mod s ≠ 0)", [3]int{15, 15, 15}, [3]int{3, 3, 3}, [3]int{2, 2, 2}, [6]int64{1, 1, 1, 1, 1, 1}, [3]int{8, 8, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.layer, func(t *testing.T) {
			pads, out := padsFor(vol{t: tc.in[0], h: tc.in[1], w: tc.in[2]}, tc.k, tc.s)
			if [6]int64(pads) != tc.pads || out != tc.outSize {
				t.Fatalf("pads %v out %v, want %v %v", pads, out, tc.pads, tc.outSize)
			}
		})
	}
}

// randomI3D returns an I3D with every width divided by div, random weights
// and non-trivial batch-norm statistics.
func randomI3D(rng *rand.Rand, div, classes int) *I3DWeights {
	w := func(c int) int { return max(1, c/div) }
	vec := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		return v
	}
	unit := func(in, out, k int) Unit3D {
		u := Unit3D{Conv: Conv3D{Out: out, In: in, Kernel: [3]int{k, k, k}}}
		a := math.Sqrt(6 / float64(in*k*k*k))
		u.Conv.Weight = vec(out*in*k*k*k, -a, a)
		u.BN = BatchNorm{Weight: vec(out, 0.5, 1.5), Bias: vec(out, -0.2, 0.2), Mean: vec(out, -0.3, 0.3), Var: vec(out, 0.2, 2)}
		return u
	}
	chans := [9][6]int{
		{64, 96, 128, 16, 32, 32}, {128, 128, 192, 32, 96, 64}, {192, 96, 208, 16, 48, 64},
		{160, 112, 224, 24, 64, 64}, {128, 128, 256, 24, 64, 64}, {112, 144, 288, 32, 64, 64},
		{256, 160, 320, 32, 128, 128}, {256, 160, 320, 32, 128, 128}, {384, 192, 384, 48, 128, 128},
	}
	m := &I3DWeights{Conv1a: unit(3, w(64), 7)}
	m.Conv2b = unit(w(64), w(64), 1)
	m.Conv2c = unit(w(64), w(192), 3)
	c := w(192)
	for _, ch := range chans {
		mix := Inception{
			B0: unit(c, w(ch[0]), 1), B1a: unit(c, w(ch[1]), 1), B1b: unit(w(ch[1]), w(ch[2]), 3),
			B2a: unit(c, w(ch[3]), 1), B2b: unit(w(ch[3]), w(ch[4]), 3), B3b: unit(c, w(ch[5]), 1),
		}
		m.Mixed = append(m.Mixed, mix)
		c = mix.Out()
	}
	m.Logits = &Conv3D{Out: classes, In: c, Kernel: [3]int{1, 1, 1}, Weight: vec(classes*c, -0.1, 0.1), Bias: vec(classes, -0.1, 0.1)}
	return m
}

// TestI3DFoldedMatchesUnfolded checks the BatchNorm folding against ONNX
// Runtime's own BatchNormalization, and that the dynamic batch works: a
// batch of two gives the same rows as two batches of one.
func TestI3DFoldedMatchesUnfolded(t *testing.T) {
	initORT(t)
	w := randomI3D(rand.New(rand.NewPCG(3, 4)), 16, 7)
	dim, classes, err := w.Dims()
	if err != nil || dim != 64 || classes != 7 {
		t.Fatalf("dims %d %d %v, want 64 7", dim, classes, err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	clip := 3 * I3DFrames * I3DSize * I3DSize
	x := make([]float32, 2*clip)
	for i := range x {
		x[i] = float32(rng.Float64() - 0.5)
	}
	var outs [2][][]float32
	for i, keep := range []bool{false, true} {
		model, err := BuildI3D(w, I3DOptions{KeepBatchNorm: keep, Logits: true})
		if err != nil {
			t.Fatal(err)
		}
		s := session(t, model, []string{I3DInput}, []string{I3DFeatures, I3DLogits}, 2)
		res, shapes := runFloat(t, s, ort.NewShape(2, 3, I3DFrames, I3DSize, I3DSize), x, 2)
		if shapes[0].String() != ort.NewShape(2, int64(dim)).String() || shapes[1].String() != ort.NewShape(2, int64(classes)).String() {
			t.Fatalf("output shapes %v %v", shapes[0], shapes[1])
		}
		outs[i] = res
		if i == 0 {
			one, _ := runFloat(t, s, ort.NewShape(1, 3, I3DFrames, I3DSize, I3DSize), x[clip:], 2)
			if d := testenv.MaxAbsDiff(one[0], res[0][dim:]); d > 1e-5*maxAbs(res[0]) {
				t.Errorf("clip 2 alone vs in a batch of two: max abs diff %.3g", d)
			}
		}
	}
	scale := maxAbs(outs[1][0])
	d := testenv.MaxAbsDiff(outs[0][0], outs[1][0])
	t.Logf("folded vs BatchNormalization nodes: features max abs diff %.2g (max |feature| %.3g)", d, scale)
	if scale == 0 || d > 1e-5*scale {
		t.Fatalf("folded features differ: max abs diff %.3g, scale %.3g", d, scale)
	}
	if d := testenv.MaxAbsDiff(outs[0][1], outs[1][1]); d > 1e-5*maxAbs(outs[1][1]) {
		t.Fatalf("folded logits differ: max abs diff %.3g", d)
	}
}

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// TestI3DErrors checks that inconsistent weights are refused with a message
// naming the layer.
func TestI3DErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(w *I3DWeights)
		opts  I3DOptions
		error string
	}{
		{"missing module", func(w *I3DWeights) { w.Mixed = w.Mixed[:8] }, I3DOptions{}, "8 Inception modules"},
		{"channel chain", func(w *I3DWeights) { w.Mixed[3].B1b.Conv.In++ }, I3DOptions{}, "Mixed_4c.b1b conv"},
		{"short BN", func(w *I3DWeights) { w.Conv2c.BN.Var = w.Conv2c.BN.Var[1:] }, I3DOptions{}, "Conv3d_2c_3x3 batch norm"},
		{"negative variance", func(w *I3DWeights) { w.Mixed[0].B0.BN.Var[0] = -1 }, I3DOptions{}, "running variance -1"},
		{"weights short", func(w *I3DWeights) { w.Conv2b.Conv.Weight = w.Conv2b.Conv.Weight[1:] }, I3DOptions{}, "Conv3d_2b_1x1 conv"},
		{"logits asked, none", func(w *I3DWeights) { w.Logits = nil }, I3DOptions{Logits: true}, "no logits layer"},
		{"reserved metadata", func(*I3DWeights) {}, I3DOptions{Metadata: map[string]string{"feature_dim": "1"}}, "reserved"},
		{"extra stride", func(w *I3DWeights) { w.Conv2b.Stride = [3]int{1, 2, 2} }, I3DOptions{}, "output is 2×4×4, the average pool expects 2×7×7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := randomI3D(rand.New(rand.NewPCG(1, 2)), 16, 3)
			tc.edit(w)
			_, err := BuildI3D(w, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("error %v, want one containing %q", err, tc.error)
			}
		})
	}
}

// TestI3DChecker runs the reference onnx checker on an I3D graph when the
// Python onnx package is installed (optional, as TestONNXChecker).
func TestI3DChecker(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("skipping: %s cannot import onnx (optional; ONNX Runtime tests cover the model)", py)
	}
	w := randomI3D(rand.New(rand.NewPCG(1, 2)), 16, 3)
	for _, keep := range []bool{false, true} {
		model, err := BuildI3D(w, I3DOptions{Logits: true, KeepBatchNorm: keep})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "i3d.onnx")
		if err := os.WriteFile(p, model, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); onnx.shape_inference.infer_shapes(m, strict_mode=True)", p).CombinedOutput()
		if err != nil {
			t.Errorf("onnx checker rejects the I3D (KeepBatchNorm %v): %v\n%s", keep, err, out)
		}
	}
}

// BenchmarkI3D measures full-size I3D throughput (16×224×224 clips,
// folded BatchNorm, features only) through ONNX Runtime on two intra-op
// threads at batch sizes 1, 2 and 4. Compare with
// scripts/fixtures/make_fixtures.py bench (PyTorch, same threads).
func BenchmarkI3D(b *testing.B) {
	initORT(b)
	w := randomI3D(rand.New(rand.NewPCG(1, 1)), 1, 981)
	model, err := BuildI3D(w, I3DOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s := session(b, model, []string{I3DInput}, []string{I3DFeatures}, 2)
	clip := 3 * I3DFrames * I3DSize * I3DSize
	rng := rand.New(rand.NewPCG(2, 2))
	for _, n := range []int{1, 2, 4} {
		x := make([]float32, n*clip)
		for i := range x {
			x[i] = float32(rng.Float64() - 0.5)
		}
		b.Run("batch="+strconv.Itoa(n), func(b *testing.B) {
			shape := ort.NewShape(int64(n), 3, I3DFrames, I3DSize, I3DSize)
			runFloat(b, s, shape, x, 1) // warm-up
			b.ResetTimer()
			for range b.N {
				runFloat(b, s, shape, x, 1)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "clips/s")
		})
	}
}
