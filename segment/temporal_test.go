package segment

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// TestTemporalWindowsEqualSinglePass runs an MS-TCN over a long sequence in
// one pass and in overlapping windows (several window sizes, including
// windows whose context is cut by the sequence edges) and requires the same
// probabilities.
func TestTemporalWindowsEqualSinglePass(t *testing.T) {
	initORT(t)
	dims := onnxgraph.MSTCNDims{S: 3, L: 5, F: 16, D: 24, C: 2}
	w, err := onnxgraph.RandomMSTCN(rand.New(rand.NewPCG(7, 7)), dims)
	if err != nil {
		t.Fatal(err)
	}
	model, err := onnxgraph.BuildMSTCN(w, onnxgraph.MSTCNOptions{BoundaryClass: 1})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := ortsession.New("mstcn", model, []string{onnxgraph.MSTCNInput}, []string{onnxgraph.MSTCNBoundary}, ortsession.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()

	const T = 3000
	rng := rand.New(rand.NewPCG(1, 1))
	seq := &Features{Dim: dims.D, Data: make([]float32, T*dims.D)}
	for i := range seq.Data {
		seq.Data[i] = float32(rng.NormFloat64())
	}
	spec := TemporalSpec{OutputKind: OutputProbability, ReceptiveField: dims.ReceptiveField()}
	single := &thresholdScorer{sess: sess, spec: spec, dim: dims.D, maxWindow: T}
	want, err := single.boundaryProbabilities(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	ref, _, err := onnxgraph.ReferenceMSTCN(w, transpose(seq.Data, T, dims.D), T, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := testenv.MaxAbsDiff(want, ref); d > 1e-5 {
		t.Fatalf("single pass differs from the pure-Go reference by %g", d)
	}
	for _, win := range []int{dims.ReceptiveField() + 1, 700, 1024, 2999} {
		r := &thresholdScorer{sess: sess, spec: spec, dim: dims.D, maxWindow: win}
		got, err := r.boundaryProbabilities(context.Background(), seq)
		if err != nil {
			t.Fatalf("window %d: %v", win, err)
		}
		if len(got) != T {
			t.Fatalf("window %d: %d outputs, want %d", win, len(got), T)
		}
		if d := testenv.MaxAbsDiff(got, want); d > 1e-5 {
			t.Errorf("window %d: max abs diff %g from the single pass", win, d)
		}
	}
	// A window shorter than the receptive field cannot be exact: refuse.
	r := &thresholdScorer{sess: sess, spec: spec, dim: dims.D, maxWindow: dims.ReceptiveField() - 1}
	if _, err := r.boundaryProbabilities(context.Background(), seq); err == nil {
		t.Error("a window smaller than the receptive field was accepted")
	}
}

func TestSoftmaxClass(t *testing.T) {
	// Two classes, three frames: logits [C=2][T=3].
	logits := []float32{0, 1, -1000, 0, 0, 1000}
	got := softmaxClass(logits, 2, 3, 1)
	want := []float64{0.5, 1 / (1 + math.E), 1}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Errorf("frame %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestFrameValues(t *testing.T) {
	tests := []struct {
		in     []float32
		offset int
		n      int
		want   []float32
	}{
		{[]float32{1, 2, 3}, 1, 5, []float32{1, 1, 2, 3, 3}},
		{[]float32{1, 2}, 0, 2, []float32{1, 2}},
		{[]float32{7}, 8, 4, []float32{7, 7, 7, 7}}, // short video: one clip
		{nil, 0, 2, []float32{0, 0}},
	}
	for _, tc := range tests {
		got := frameValues(tc.in, tc.offset, tc.n)
		if testenv.MaxAbsDiff(got, tc.want) != 0 || len(got) != len(tc.want) {
			t.Errorf("frameValues(%v, %d, %d) = %v, want %v", tc.in, tc.offset, tc.n, got, tc.want)
		}
	}
}

func TestTransposeBlocked(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {33, 70}, {100, 31}} {
		rows, cols := sz[0], sz[1]
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = float32(i)
		}
		if d := testenv.MaxAbsDiff(transposeBlocked(x, rows, cols), transpose(x, rows, cols)); d != 0 {
			t.Errorf("%dx%d: differs from the plain transpose", rows, cols)
		}
	}
}

func transpose(x []float32, rows, cols int) []float32 {
	out := make([]float32, len(x))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			out[c*rows+r] = x[r*cols+c]
		}
	}
	return out
}
