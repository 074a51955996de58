package pelt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/signseg/signseg/segment/decode"
)

// directCost is the L2 cost of frames [a, b) computed from its definition:
// the segment's mean, then the squared deviations from it.
func directCost(x []float32, D, a, b int) float64 {
	c := 0.0
	for d := 0; d < D; d++ {
		m := 0.0
		for t := a; t < b; t++ {
			m += float64(x[t*D+d])
		}
		m /= float64(b - a)
		for t := a; t < b; t++ {
			y := float64(x[t*D+d]) - m
			c += y * y
		}
	}
	return c
}

// bruteForce is optimal partitioning without pruning: every admissible
// end, every admissible start, costs from their definition; ties go to
// the earlier start.
func bruteForce(x []float32, T, D int, pen float64, minSize, jump int) []int {
	if T < 2*minSize {
		return nil
	}
	isCP := func(t int) bool { return t%jump == 0 && t >= minSize && t <= T-minSize }
	F := make([]float64, T+1)
	prev := make([]int, T+1)
	F[0] = -pen
	for t := 1; t <= T; t++ {
		if t != T && !isCP(t) {
			continue
		}
		F[t] = math.Inf(1)
		for s := 0; s <= t-minSize; s++ {
			if s != 0 && !isCP(s) {
				continue
			}
			if v := F[s] + directCost(x, D, s, t) + pen; v < F[t] {
				F[t], prev[t] = v, s
			}
		}
	}
	var cps []int
	for t := prev[T]; t > 0; t = prev[t] {
		cps = append([]int{t}, cps...)
	}
	return cps
}

// piecewise returns a T×D piecewise-constant signal with Gaussian noise of
// standard deviation sigma, and its true changepoints.
func piecewise(rng *rand.Rand, T, D, minLen, maxLen int, sigma float64) ([]float32, []int) {
	x := make([]float32, T*D)
	var cps []int
	mean := make([]float64, D)
	for t := 0; t < T; {
		for d := range mean {
			mean[d] = rng.NormFloat64() * 3
		}
		end := min(t+minLen+rng.IntN(maxLen-minLen+1), T)
		for ; t < end; t++ {
			for d := range mean {
				x[t*D+d] = float32(mean[d] + sigma*rng.NormFloat64())
			}
		}
		if t < T {
			cps = append(cps, t)
		}
	}
	return x, cps
}

func TestPELTMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	ctx := context.Background()
	found := 0
	for trial := range 1500 {
		T := 1 + rng.IntN(70)
		D := 1 + rng.IntN(3)
		minSize := 1 + rng.IntN(4)
		jump := 1 + rng.IntN(4)
		x, _ := piecewise(rng, T, D, 1, 15, 0.2+rng.Float64())
		if rng.IntN(5) == 0 { // a large offset: centring must keep costs exact enough
			for i := range x {
				x[i] += 1000
			}
		}
		pen := []float64{0, 0.5, 2, 10, 50, 1e4}[rng.IntN(6)]
		got, err := Find(ctx, x, T, D, Options{Penalty: pen, MinSize: minSize, Jump: jump})
		if err != nil {
			t.Fatal(err)
		}
		want := bruteForce(x, T, D, pen, minSize, jump)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d T=%d D=%d min=%d jump=%d pen=%v:\nPELT        %v\nbrute force %v", trial, T, D, minSize, jump, pen, got, want)
		}
		found += len(got)
	}
	if found == 0 {
		t.Fatal("no changepoints in any trial: the comparison tests nothing")
	}
}

func TestPELTKnown(t *testing.T) {
	// [0,0,0,0,10,10,10,10]: with jump 3 the candidates are 3 and 6.
	// One changepoint at 3 costs 80 ([0,10,10,10,10] around 8), two at 3
	// and 6 cost 66.67, none 200, at 6 alone 133.33 (hand computed).
	x := []float32{0, 0, 0, 0, 10, 10, 10, 10}
	tests := []struct {
		pen  float64
		jump int
		min  int
		want []int
	}{
		{1, 1, 1, []int{4}},
		{1, 3, 1, []int{3, 6}},
		{100, 3, 1, []int{3}},
		{121, 3, 1, nil}, // 80 + 121 > 200
		{1, 1, 5, nil},   // no two segments of 5 in 8 frames
		{1, 2, 3, []int{4}},
		{0, 1, 1, []int{4}}, // zero penalty: splits that gain nothing are not taken
	}
	for _, tc := range tests {
		got, err := Find(context.Background(), x, 8, 1, Options{Penalty: tc.pen, Jump: tc.jump, MinSize: tc.min})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("pen %v jump %d min %d: %v, want %v", tc.pen, tc.jump, tc.min, got, tc.want)
		}
	}
}

func TestPELTRecoversChangepoints(t *testing.T) {
	// Clear steps with low noise and the derived penalty: PELT finds the
	// true changepoints exactly.
	rng := rand.New(rand.NewPCG(17, 18))
	for trial := range 20 {
		T, D := 2000, 8
		x, truth := piecewise(rng, T, D, 20, 60, 0.1)
		pen, err := BICPenalty(x, T, D, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Find(context.Background(), x, T, D, Options{Penalty: pen, MinSize: 2, Jump: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, truth) {
			t.Fatalf("trial %d: found %v\nwant %v", trial, got, truth)
		}
	}
}

func TestPELTErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		x    []float32
		T, D int
		opt  Options
	}{
		{"size mismatch", make([]float32, 5), 2, 2, Options{}},
		{"no frames", nil, 0, 1, Options{}},
		{"no dimensions", nil, 3, 0, Options{}},
		{"negative penalty", make([]float32, 4), 4, 1, Options{Penalty: -1}},
		{"NaN penalty", make([]float32, 4), 4, 1, Options{Penalty: math.NaN()}},
		{"infinite penalty", make([]float32, 4), 4, 1, Options{Penalty: math.Inf(1)}},
		{"NaN feature", []float32{0, float32(math.NaN()), 0, 0}, 4, 1, Options{}},
		{"negative jump", make([]float32, 4), 4, 1, Options{Jump: -1}},
	}
	for _, tc := range tests {
		if _, err := Find(ctx, tc.x, tc.T, tc.D, tc.opt); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Find(cancelled, make([]float32, 100), 100, 1, Options{Penalty: 1}); err == nil {
		t.Error("cancelled context: no error")
	}
	// One frame, or fewer than 2·MinSize: no changepoints, no error.
	for _, T := range []int{1, 3} {
		got, err := Find(ctx, make([]float32, T), T, 1, Options{MinSize: 2})
		if err != nil || got != nil {
			t.Errorf("T=%d: %v, %v", T, got, err)
		}
	}
}

func TestChangepointBoundaries(t *testing.T) {
	tests := []struct {
		cps    []int
		T, dil int
		want   []float32
	}{
		{[]int{3}, 7, 1, []float32{0, 0, 1, 1, 0, 0, 0}},
		{[]int{3}, 7, 2, []float32{0, 1, 1, 1, 1, 0, 0}},
		{[]int{3}, 7, 0, []float32{0, 0, 1, 1, 0, 0, 0}}, // dilate < 1 counts as 1
		{[]int{1, 5}, 7, 1, []float32{1, 1, 0, 0, 1, 1, 0}},
		{[]int{3, 4}, 8, 1, []float32{0, 0, 1, 1, 1, 0, 0, 0}},
		{[]int{0, 6}, 6, 2, []float32{1, 1, 0, 0, 1, 1}},
		{nil, 3, 1, []float32{0, 0, 0}},
		{[]int{2}, 0, 1, nil},
	}
	for _, tc := range tests {
		if got := Boundaries(tc.cps, tc.T, tc.dil); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Boundaries(%v, %d, %d) = %v, want %v", tc.cps, tc.T, tc.dil, got, tc.want)
		}
	}
	// Through the decoder: changepoints 10 and 20 in 30 frames, dilated by
	// one, split: three signs meeting exactly at the changepoints.
	d, err := decode.Probabilities(Boundaries([]int{10, 20}, 30, 1), decode.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := []decode.FrameSpan{{Start: 0, End: 10, Confidence: 1}, {Start: 10, End: 20, Confidence: 1}, {Start: 20, End: 30, Confidence: 1}}
	if got := d.Signs; !reflect.DeepEqual(got, want) {
		t.Errorf("signs %v, want [0,10) [10,20) [20,30)", got)
	}
}

func TestBICPenalty(t *testing.T) {
	// Gaussian noise of standard deviation 1 and 3 in two dimensions, with
	// steps every 200 frames added: the robust estimate ignores the steps, so the penalty is
	// close to (3/2)·(1+9)·ln T.
	rng := rand.New(rand.NewPCG(19, 20))
	T, D := 20000, 2
	x := make([]float32, T*D)
	for t := 0; t < T; t++ {
		step := float64((t / 200) % 2 * 20)
		x[t*D] = float32(step + rng.NormFloat64())
		x[t*D+1] = float32(-step + 3*rng.NormFloat64())
	}
	got, err := BICPenalty(x, T, D, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := 1.5 * 10 * math.Log(float64(T))
	if math.Abs(got-want) > 0.05*want {
		t.Errorf("penalty %v, want about %v", got, want)
	}
	half, err := BICPenalty(x, T, D, 0.5)
	if err != nil || math.Abs(half-got/2) > 1e-9*got {
		t.Errorf("factor 0.5: %v, want %v", half, got/2)
	}
	// A dimension whose differences are mostly 0 falls back to the mean
	// squared difference: diffs 0,0,0,4 → 16/4/2 = 2; (D+1)/D = 2.
	got, err = BICPenalty([]float32{0, 0, 0, 0, 4}, 5, 1, 1)
	if err != nil || math.Abs(got-2*2*math.Log(5)) > 1e-12 {
		t.Errorf("fallback: %v, %v; want %v", got, err, 2*2*math.Log(5))
	}
	// Constant features need no penalty; one frame has nothing to split.
	for _, x := range [][]float32{{7, 7, 7, 7}, {1}} {
		if got, err := BICPenalty(x, len(x), 1, 1); err != nil || got != 0 {
			t.Errorf("%v: %v, %v", x, got, err)
		}
	}
	for _, bad := range []struct {
		x    []float32
		T, D int
		f    float64
	}{{[]float32{1, 2}, 3, 1, 1}, {[]float32{1, 2}, 2, 1, -1}, {[]float32{1, float32(math.Inf(1))}, 2, 1, 1}} {
		if _, err := BICPenalty(bad.x, bad.T, bad.D, bad.f); err == nil {
			t.Errorf("BICPenalty(%v, %d, %d, %v): no error", bad.x, bad.T, bad.D, bad.f)
		}
	}
}

// BenchmarkPELT runs PELT on piecewise-constant features of 64 dimensions
// (segments of 10–40 frames, the scale of signs at 25 fps) with the derived
// penalty, jump 2 and min size 2 as in the changepoint decoder. Compare
// ns/op across the three lengths to see the near-linear cost.
func BenchmarkPELT(b *testing.B) {
	const D = 64
	for _, T := range []int{22500, 45000, 90000} {
		b.Run(fmt.Sprintf("T=%d", T), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(21, 22))
			x, _ := piecewise(rng, T, D, 10, 40, 1)
			pen, err := BICPenalty(x, T, D, 1)
			if err != nil {
				b.Fatal(err)
			}
			opt := Options{Penalty: pen, MinSize: 2, Jump: 2}
			var cps []int
			b.ResetTimer()
			for b.Loop() {
				cps, err = Find(context.Background(), x, T, D, opt)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(cps)), "changepoints")
		})
	}
	// Without any change pruning cannot drop starts: PELT's worst case,
	// quadratic in the length of a stretch without change.
	b.Run("stationary/T=11250", func(b *testing.B) {
		T := 11250
		rng := rand.New(rand.NewPCG(23, 24))
		x, _ := piecewise(rng, T, D, T, T, 1)
		pen, err := BICPenalty(x, T, D, 1)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := Find(context.Background(), x, T, D, Options{Penalty: pen, MinSize: 2, Jump: 2}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
