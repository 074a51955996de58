package segment

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// memFrames serves frames from memory; it fails with failErr at frame
// failAt (when set), calls hook before each read, and counts reads.
type memFrames struct {
	frames  [][]float32
	next    int
	failAt  int
	failErr error
	hook    func(i int)
	reads   atomic.Int64
}

func (m *memFrames) ReadFrame(dst []float32) (media.Frame, error) {
	m.reads.Add(1)
	if m.hook != nil {
		m.hook(m.next)
	}
	if m.failErr != nil && m.next == m.failAt {
		return media.Frame{}, m.failErr
	}
	if m.next == len(m.frames) {
		return media.Frame{}, io.EOF
	}
	copy(dst, m.frames[m.next])
	m.next++
	return media.Frame{Index: m.next - 1, TimeMs: float64(m.next-1) * 40, Data: dst}, nil
}

// randomFrames returns n frames of the model's size with values in
// [−0.5, 0.5].
func randomFrames(m *Model, n int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, m.Features.Preprocess.FrameLen())
		for j := range out[i] {
			out[i][j] = float32(rng.Float64() - 0.5)
		}
	}
	return out
}

// speedModel is the test model of pipeline_test.go: motion features
// (3-frame clips) and a small MS-TCN.
func speedModel(t *testing.T) *Model {
	t.Helper()
	initORT(t)
	dir, _ := writeTCNModel(t, onnxgraph.MSTCNDims{S: 2, L: 4, F: 8, D: onnxgraph.MotionFeatures, C: 2})
	m, err := LoadModel(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func features(t *testing.T, m *Model, opts Options, frames [][]float32) *Features {
	t.Helper()
	seg, err := NewSegmenter(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	f, err := seg.Features(context.Background(), &memFrames{frames: frames}, len(frames), nil)
	if err != nil {
		t.Fatalf("%+v: %v", opts, err)
	}
	return f
}

func TestInterpolateRows(t *testing.T) {
	// Rows with values a·j + b per column are reproduced exactly by linear
	// interpolation; a quadratic is checked against its own formula.
	for _, tc := range []struct{ total, every int }{{1, 2}, {2, 2}, {3, 2}, {7, 3}, {8, 3}, {10, 4}, {17, 16}, {5, 8}} {
		dim := 3
		var idx []int
		for j := 0; j < tc.total; j += tc.every {
			idx = append(idx, j)
		}
		if idx[len(idx)-1] != tc.total-1 {
			idx = append(idx, tc.total-1)
		}
		lin := func(j, c int) float32 { return float32(2*j + 10*c) }
		quad := func(j, c int) float32 { return float32(j*j + c) }
		for fi, f := range []func(j, c int) float32{lin, quad} {
			var computed []float32
			for _, j := range idx {
				for c := 0; c < dim; c++ {
					computed = append(computed, f(j, c))
				}
			}
			got := interpolateRows(computed, dim, tc.total, tc.every)
			if len(got) != tc.total*dim {
				t.Fatalf("total %d every %d: %d values, want %d", tc.total, tc.every, len(got), tc.total*dim)
			}
			for j := 0; j < tc.total; j++ {
				// Neighbours in idx and the expected linear blend.
				k := 0
				for k+1 < len(idx) && idx[k+1] <= j {
					k++
				}
				a, b := idx[k], idx[min(k+1, len(idx)-1)]
				for c := 0; c < dim; c++ {
					want := f(a, c)
					if b > a {
						s := float64(j-a) / float64(b-a)
						want = float32((1-s)*float64(f(a, c)) + s*float64(f(b, c)))
					}
					if math.Abs(float64(got[j*dim+c]-want)) > 1e-4 {
						t.Fatalf("total %d every %d row %d col %d: %v, want %v", tc.total, tc.every, j, c, got[j*dim+c], want)
					}
				}
			}
			if fi == 0 { // linear data is reproduced exactly
				for j := 0; j < tc.total; j++ {
					if math.Abs(float64(got[j*dim]-lin(j, 0))) > 1e-4 {
						t.Fatalf("total %d every %d: linear row %d = %v, want %v", tc.total, tc.every, j, got[j*dim], lin(j, 0))
					}
				}
			}
		}
	}
}

// TestFeatureEvery checks the fast path against the exact one: the clips
// it computes equal the exact features, the others are the linear blend
// of their computed neighbours' exact features, for video lengths around
// the clip length and the step.
func TestFeatureEvery(t *testing.T) {
	m := speedModel(t)
	L, D := m.Features.ClipLength, m.Features.Dim
	for _, n := range []int{1, 2, 3, 4, 5, 6, 10, 11, 12, 13} {
		frames := randomFrames(m, n, uint64(n))
		exact := features(t, m, Options{Runtime: ortsession.Options{Threads: 2}}, frames)
		clips := max(n-L+1, 1)
		if exact.Rows() != clips {
			t.Fatalf("%d frames: exact has %d rows, want %d", n, exact.Rows(), clips)
		}
		for _, k := range []int{2, L} {
			fast := features(t, m, Options{Runtime: ortsession.Options{Threads: 2}, FeatureEvery: k}, frames)
			if fast.Rows() != clips || fast.Frames != n {
				t.Fatalf("%d frames, every %d: %d rows for %d frames, want %d rows", n, k, fast.Rows(), fast.Frames, clips)
			}
			row := func(f *Features, j int) []float32 { return f.Data[j*D : (j+1)*D] }
			for j := 0; j < clips; j++ {
				a := j - j%k
				b := min(a+k, clips-1)
				want := row(exact, j)
				if j != a && j != clips-1 {
					s := float32(j-a) / float32(b-a)
					want = make([]float32, D)
					for c := range want {
						want[c] = row(exact, a)[c] + s*(row(exact, b)[c]-row(exact, a)[c])
					}
				}
				if d := testenv.MaxAbsDiff(row(fast, j), want); d > 1e-5 {
					t.Errorf("%d frames, every %d, clip %d: max abs diff %g from the expected row", n, k, j, d)
				}
			}
		}
	}
}

// TestPrefetchMatchesSequential: decoding ahead in a goroutine changes
// nothing in the features or the segmentation.
func TestPrefetchMatchesSequential(t *testing.T) {
	m := speedModel(t)
	frames := randomFrames(m, 41, 1)
	ref := features(t, m, Options{Runtime: ortsession.Options{Threads: 2}, BatchSize: 4, Prefetch: -1}, frames)
	for _, p := range []int{0, 1, 3, 100} {
		got := features(t, m, Options{Runtime: ortsession.Options{Threads: 2}, BatchSize: 4, Prefetch: p}, frames)
		if got.Frames != ref.Frames || len(got.Data) != len(ref.Data) || testenv.MaxAbsDiff(got.Data, ref.Data) != 0 {
			t.Errorf("prefetch %d: %d frames, %d values, diff %g; sequential: %d frames, %d values", p, got.Frames, len(got.Data), testenv.MaxAbsDiff(got.Data, ref.Data), ref.Frames, len(ref.Data))
		}
	}
	// Segment (through SegmentFeatures) gives the same result both ways.
	seg, err := NewSegmenter(m, Options{Runtime: ortsession.Options{Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	whole, err := seg.Segment(context.Background(), &memFrames{frames: frames}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	split, err := seg.SegmentFeatures(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if d := testenv.MaxAbsDiff(whole.Boundary, split.Boundary); d > 1e-6 || len(whole.Signs) != len(split.Signs) {
		t.Errorf("Segment and SegmentFeatures differ: prob diff %g, %d vs %d signs", d, len(whole.Signs), len(split.Signs))
	}
	if _, err := seg.SegmentFeatures(context.Background(), &Features{Data: []float32{1, 2}, Dim: 2}); err == nil {
		t.Error("SegmentFeatures accepted features of the wrong size")
	}
}

// TestPrefetchErrors: a decoding error and a cancellation reach the
// caller, and the decoding goroutine has stopped reading when Features
// returns.
func TestPrefetchErrors(t *testing.T) {
	m := speedModel(t)
	frames := randomFrames(m, 30, 2)
	seg, err := NewSegmenter(m, Options{Runtime: ortsession.Options{Threads: 2}, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	bad := errors.New("decode video.mp4: broken frame")
	src := &memFrames{frames: frames, failAt: 9, failErr: bad}
	if _, err := seg.Features(context.Background(), src, 0, nil); !errors.Is(err, bad) {
		t.Errorf("decoding error: got %v, want %v", err, bad)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src = &memFrames{frames: frames, hook: func(i int) {
		if i == 12 {
			cancel()
		}
	}}
	if _, err := seg.Features(ctx, src, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
	after := src.reads.Load()
	time.Sleep(50 * time.Millisecond)
	if n := src.reads.Load(); n != after {
		t.Errorf("the source was read %d more times after Features returned", n-after)
	}
}

func TestSpeedSettings(t *testing.T) {
	m := speedModel(t)
	frames := randomFrames(m, 20, 3)
	ref := features(t, m, Options{Runtime: ortsession.Options{Threads: 2}}, frames)
	// Settings that must not change the numbers.
	for _, rt := range []ortsession.Options{
		{Spinning: true}, {NoMemArena: true}, {Provider: ortsession.ProviderCPU},
		{GraphOptimization: ortsession.OptimizeNone}, {GraphOptimization: ortsession.OptimizeBasic},
		{GraphOptimization: ortsession.OptimizeExtended}, {GraphOptimization: ortsession.OptimizeAll},
	} {
		rt.Threads = 2
		got := features(t, m, Options{Runtime: rt}, frames)
		if d := testenv.MaxAbsDiff(got.Data, ref.Data); d > 1e-5 {
			t.Errorf("%+v: features differ from the default by %g", rt, d)
		}
	}
	if !(Options{}).Exact() || (Options{FeatureEvery: 2}).Exact() {
		t.Error("Exact: want true for the default and false for FeatureEvery 2")
	}
	// Settings that are refused as configuration errors, with what the
	// message must name.
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Runtime: ortsession.Options{Provider: "tpu"}}, `execution provider "tpu"`},
		{Options{Runtime: ortsession.Options{GraphOptimization: "max"}}, `graph optimisation level "max"`},
		{Options{FeatureEvery: -1}, "features every -1"},
		{Options{FeatureEvery: m.Features.ClipLength + 1}, "up to the clip length"},
		{Options{Runtime: ortsession.Options{CUDADevice: -1}}, "CUDA device -1"},
		{Options{BatchSize: -1}, "batch size -1"},
	} {
		seg, err := NewSegmenter(m, tc.opts)
		if err == nil {
			seg.Close()
			t.Errorf("%+v accepted", tc.opts)
			continue
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %q is not a *ConfigError mentioning %q", tc.opts, err, tc.want)
		}
	}
}

// TestCUDAUnavailable: with a CPU-only ONNX Runtime (the one `make setup`
// fetches) asking for CUDA fails with ErrNoCUDA and a hint, instead of
// silently running on the CPU; it is a runtime failure, not a
// configuration error.
func TestCUDAUnavailable(t *testing.T) {
	m := speedModel(t)
	seg, err := NewSegmenter(m, Options{Runtime: ortsession.Options{Provider: ortsession.ProviderCUDA}})
	if err == nil {
		seg.Close()
		t.Skip("skipping: this ONNX Runtime library has the CUDA execution provider")
	}
	var ce *ConfigError
	if !errors.Is(err, ortsession.ErrNoCUDA) || !strings.Contains(err.Error(), "--ort-lib") || errors.As(err, &ce) {
		t.Errorf("got %v; want ErrNoCUDA with a hint naming --ort-lib, not a configuration error", err)
	}
}
