package eval

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// rt returns x unchanged; arithmetic on its result happens in float64 at
// run time, like the code under test, instead of exactly as Go constants.
func rt(x float64) float64 { return x }

// The worked example of paper-pipeline.md §8, whose numbers come from
// running the reference functions.
var (
	workedPred = []int{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}
	workedGT   = []int{0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0}
)

func TestEvaluateWorkedExample(t *testing.T) {
	r, err := Evaluate([]Video{{Name: "worked", Pred: workedPred, GT: workedGT, GTEval: workedGT}})
	if err != nil {
		t.Fatal(err)
	}
	if r.MF1B != 70.0 {
		t.Errorf("mF1B = %v, want 70.00", r.MF1B)
	}
	if round2(r.MF1S) != 28.57 || math.Abs(r.MF1S-28.57) > 1e-12 {
		t.Errorf("mF1S = %v, want 28.57", r.MF1S)
	}
	wantB := []struct{ tp, fp, fn int }{{1, 2, 1}, {2, 1, 0}, {2, 1, 0}, {2, 1, 0}}
	wantBF1 := []float64{40, 80, 80, 80}
	for k, w := range wantB {
		s := r.Boundary[k]
		if s.TP != w.tp || s.FP != w.fp || s.FN != w.fn {
			t.Errorf("boundary th %v: TP/FP/FN = %d/%d/%d, want %d/%d/%d", s.Threshold, s.TP, s.FP, s.FN, w.tp, w.fp, w.fn)
		}
		if math.Abs(s.F1-wantBF1[k]) > 1e-9 {
			t.Errorf("boundary th %v: F1 = %v, want %v", s.Threshold, s.F1, wantBF1[k])
		}
	}
	wantS := []struct {
		tp, fp, fn int
		f1         float64
	}{{2, 2, 1, 57.14}, {2, 2, 1, 57.14}, {1, 3, 2, 28.57}, {1, 3, 2, 28.57}, {1, 3, 2, 28.57}, {1, 3, 2, 28.57}, {0, 4, 3, 0}, {0, 4, 3, 0}}
	for k, w := range wantS {
		s := r.Sign[k]
		if s.TP != w.tp || s.FP != w.fp || s.FN != w.fn || s.F1 != w.f1 {
			t.Errorf("sign th %v: TP/FP/FN/F1 = %d/%d/%d/%v, want %d/%d/%d/%v", s.Threshold, s.TP, s.FP, s.FN, s.F1, w.tp, w.fp, w.fn, w.f1)
		}
	}
	if r.F1S != [2]float64{28.57, 0} {
		t.Errorf("F1S = %v, want [28.57 0]", r.F1S)
	}
	// Side numbers: P=3, G=2, nearest distances 1.0, 3.5, 1.5, widths 4/3
	// and 2, matched IoUs 2/3, 1/2, 1/3 whose NumPy mean is
	// 0.49999999999999994; 8 of 14 frames agree.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"BoundariesPred", float64(r.BoundariesPred), 3},
		{"BoundariesGT", float64(r.BoundariesGT), 2},
		{"SignsPred", float64(r.SignsPred), 4},
		{"SignsGT", float64(r.SignsGT), 3},
		{"Dist", r.Dist, 2.0},
		{"WidthBPred", r.WidthBPred, rt(4) / 3},
		{"WidthBGT", r.WidthBGT, 2.0},
		{"IoU", r.IoU, 100 * rt(0.49999999999999994)},
		{"Acc", r.Acc, 100 * rt(8) / 14},
		{"MeanPrecisionB", r.MeanPrecisionB, 58.33}, // (1/3 + 3·2/3)/4
		{"MeanRecallB", r.MeanRecallB, 87.5},        // (1/2 + 3·1)/4
		{"Frames", float64(r.Frames), 14},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDilateBoundaries(t *testing.T) {
	tests := []struct{ in, want []int }{
		// The two examples of paper-pipeline.md §8.
		{[]int{0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0}, []int{0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0}},
		{[]int{1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0}, []int{1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0}},
		// Hand-traced by the rules.
		{[]int{}, []int{}},
		{[]int{0}, []int{0}},
		{[]int{1}, []int{1}},
		{[]int{0, 1}, []int{1, 1}},
		{[]int{0, 0, 1, 0, 0}, []int{0, 1, 1, 1, 0}},
		{[]int{1, 0, 1, 0, 0}, []int{1, 0, 1, 1, 0}},       // i=0: frame 2 is 1, so no right widening; i=2 sets 3
		{[]int{0, 1, 0, 1, 0, 0}, []int{1, 1, 0, 1, 1, 0}}, // i=1: right needs two 0s; left sets 0; i=3 sets 4, left has 1 at 1
		{[]int{1, 1, 1, 1}, []int{1, 1, 1, 1}},
	}
	for _, tc := range tests {
		in := slices.Clone(tc.in)
		got := DilateBoundaries(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("DilateBoundaries(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("DilateBoundaries modified its input")
		}
	}
}

func TestCutEndpoints(t *testing.T) {
	z := func(n int) []int { return make([]int, n) }
	tests := []struct {
		name         string
		pred, gtEval []int
		want         []int
	}{
		{"end walk passes 0s in the last two", []int{0, 0, 0, 1, 1, 0, 1}, z(7), []int{0, 0, 0, 0, 0, 0, 0}},
		{"start stops after a cleared run", []int{1, 0, 1, 1, 0, 0, 0}, z(7), []int{0, 0, 1, 1, 0, 0, 0}},
		{"start walks over a leading 0", []int{0, 1, 0, 1, 0, 0, 0}, z(7), []int{0, 0, 0, 1, 0, 0, 0}},
		{"start clears a run past frame 2", []int{0, 1, 1, 1, 0, 1, 0, 0, 0}, z(9), []int{0, 0, 0, 0, 0, 1, 0, 0, 0}},
		{"end walk runs first", []int{0, 1, 1, 1, 0, 1, 0}, z(7), []int{0, 0, 0, 0, 0, 0, 0}},
		{"gt boundary at the end keeps it", []int{0, 0, 0, 0, 0, 1, 1}, []int{0, 0, 0, 0, 0, 0, 1}, []int{0, 0, 0, 0, 0, 1, 1}},
		{"gt boundary in first four keeps start", []int{1, 1, 0, 0, 0, 0, 0}, []int{0, 0, 0, 1, 0, 0, 0}, []int{1, 1, 0, 0, 0, 0, 0}},
		{"gt boundary at frame 4 does not", []int{1, 1, 0, 0, 0, 0, 0}, []int{0, 0, 0, 0, 1, 0, 0}, []int{0, 0, 0, 0, 0, 0, 0}},
		{"all boundary: end walk stops at frame 1, start clears 0", []int{1, 1, 1, 1, 1}, z(5), []int{0, 0, 0, 0, 0}},
		{"interior untouched", []int{0, 0, 1, 0, 0, 1, 0, 0}, z(8), []int{0, 0, 1, 0, 0, 1, 0, 0}},
		{"one frame", []int{1}, []int{0}, []int{0}},
		{"empty", []int{}, []int{}, []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.pred)
			got := CutEndpoints(tc.pred, tc.gtEval)
			if !slices.Equal(got, tc.want) {
				t.Errorf("CutEndpoints(%v, %v) = %v, want %v", tc.pred, tc.gtEval, got, tc.want)
			}
			if !slices.Equal(in, tc.pred) {
				t.Errorf("CutEndpoints modified its input")
			}
		})
	}
}

func TestLabelRuns(t *testing.T) {
	l := []int{1, 1, 0, 2, 2, 1, -100, 0, 0}
	got := LabelRuns(l, 0, -100)
	want := []LabelRun{{1, 0, 2}, {2, 3, 5}, {1, 5, 6}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LabelRuns = %v, want %v", got, want)
	}
	if got := SignRuns(workedPred); !reflect.DeepEqual(got, []LabelRun{{0, 0, 2}, {0, 4, 7}, {0, 8, 12}, {0, 13, 14}}) {
		t.Errorf("SignRuns = %v", got)
	}
	if got := BoundaryRuns(workedPred); !reflect.DeepEqual(got, []LabelRun{{1, 2, 4}, {1, 7, 8}, {1, 12, 13}}) {
		t.Errorf("BoundaryRuns = %v", got)
	}
	if got := LabelRuns(nil); got != nil {
		t.Errorf("LabelRuns(nil) = %v", got)
	}
}

func TestSignThresholdExactFloat(t *testing.T) {
	// Sign [0,13) against [0,20): IoU 13/20 is above 0.6499999999999999
	// but not above a literal 0.65.
	pred := append(make([]int, 13), 1, 1, 1, 1, 1, 1, 1)
	gt := make([]int, 20)
	r, err := Evaluate([]Video{{Pred: pred, GT: gt, GTEval: gt}})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 1, 1, 1, 1, 1, 0, 0}
	for k, w := range want {
		if r.Sign[k].TP != w {
			t.Errorf("threshold %v: TP %d, want %d", r.Sign[k].Threshold, r.Sign[k].TP, w)
		}
	}
	if 13.0/20 > 0.65 {
		t.Errorf("13/20 > 0.65 in float64: the test no longer tells the thresholds apart")
	}
	if got := SignThresholds(); got[5] != 0.6499999999999999 || len(got) != 8 {
		t.Errorf("SignThresholds = %v", got)
	}
	if got := BoundaryThresholds(); !slices.Equal(got, []float64{1, 2, 3, 4}) {
		t.Errorf("BoundaryThresholds = %v", got)
	}
}

func TestBoundaryDistanceInclusive(t *testing.T) {
	// Runs [3,4) and [4,5): centres 3.5 and 4.5, distance exactly 1.
	pred := []int{0, 0, 0, 1, 0, 0, 0, 0}
	gt := []int{0, 0, 0, 0, 1, 0, 0, 0}
	r, err := Evaluate([]Video{{Pred: pred, GT: gt, GTEval: gt}})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 4 {
		if r.Boundary[k].TP != 1 || r.Boundary[k].FP != 0 || r.Boundary[k].FN != 0 {
			t.Errorf("threshold %v: %+v, want TP 1", r.Boundary[k].Threshold, r.Boundary[k])
		}
	}
	if r.MF1B != 100 || r.Dist != 1 {
		t.Errorf("mF1B %v dist %v, want 100 and 1", r.MF1B, r.Dist)
	}
}

func TestBoundariesWithoutReference(t *testing.T) {
	// Video a: 2 predicted boundaries, none in the reference (the
	// reference crashes here; every prediction is a false positive and the
	// video is left out of Dist). Video b: one boundary 2 frames off.
	a := Video{Name: "a", Pred: []int{0, 1, 0, 0, 1, 0}, GT: make([]int, 6), GTEval: make([]int, 6)}
	b := Video{Name: "b", Pred: []int{0, 0, 1, 0, 0, 0}, GT: []int{1, 0, 0, 0, 0, 0}, GTEval: []int{1, 0, 0, 0, 0, 0}}
	r, err := Evaluate([]Video{a})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 4 {
		if s := r.Boundary[k]; s.TP != 0 || s.FP != 2 || s.FN != 0 {
			t.Errorf("threshold %v: %+v, want TP 0 FP 2 FN 0", s.Threshold, s)
		}
	}
	if r.MF1B != 0 || r.Dist != 0 {
		t.Errorf("mF1B %v dist %v, want 0 and 0", r.MF1B, r.Dist)
	}
	r, err = Evaluate([]Video{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if r.Dist != 2 {
		t.Errorf("dist %v, want 2 (video a left out)", r.Dist)
	}
	// Totals: th 1: TP 0, FP 3, FN 1; th 2–4: TP 1, FP 2, FN 0.
	if s := r.Boundary[1]; s.TP != 1 || s.FP != 2 || s.FN != 0 {
		t.Errorf("threshold 2: %+v", s)
	}
	// No predictions at all: FN only, Dist 0 for the video.
	r, err = Evaluate([]Video{{Pred: make([]int, 6), GT: b.GT, GTEval: b.GT}})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Boundary[0]; s.TP != 0 || s.FP != 0 || s.FN != 1 || r.Dist != 0 || r.MF1B != 0 {
		t.Errorf("no predictions: %+v dist %v", s, r.Dist)
	}
}

func TestSignEdgeCases(t *testing.T) {
	// All-boundary prediction and reference: no signs anywhere, so the
	// video is left out of IoU (the reference gives NaN).
	ones := []int{1, 1, 1}
	r, err := Evaluate([]Video{{Pred: ones, GT: ones, GTEval: ones}})
	if err != nil {
		t.Fatal(err)
	}
	if r.IoU != 0 || r.SignsPred != 0 || r.MF1S != 0 {
		t.Errorf("no signs: IoU %v signs %d mF1S %v", r.IoU, r.SignsPred, r.MF1S)
	}
	// Predicted signs without reference signs: all FP, IoU mean 0.
	r, err = Evaluate([]Video{{Pred: []int{0, 1, 0}, GT: ones, GTEval: ones}})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Sign[0]; s.TP != 0 || s.FP != 2 || s.FN != 0 || r.IoU != 0 {
		t.Errorf("signs without reference: %+v IoU %v", s, r.IoU)
	}
	// Disjoint signs get a negative hull IoU and are still matched; the
	// mean IoU keeps it: pred [0,2), gt [4,6): (2−4)/(6−0) = −1/3.
	r, err = Evaluate([]Video{{Pred: []int{0, 0, 1, 1, 1, 1}, GT: []int{1, 1, 1, 1, 0, 0}, GTEval: []int{1, 1, 1, 1, 0, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := 100 * rt(-2.0/6); r.IoU != want {
		t.Errorf("disjoint IoU = %v, want %v", r.IoU, want)
	}
	// More references than predictions: the reference's padding count
	// max(rows, cols) − matched is 2 − 1 = 1 here, so one zero is added.
	// pred sign [0,6); gt signs [0,2) [3,4) [5,6): best IoU 2/6 = 1/3.
	gt := []int{0, 0, 1, 0, 1, 0}
	r, err = Evaluate([]Video{{Pred: make([]int, 6), GT: gt, GTEval: gt}})
	if err != nil {
		t.Fatal(err)
	}
	if want := 100 * (rt(1.0/3) / 2); r.IoU != want {
		t.Errorf("padded IoU = %v, want %v", r.IoU, want)
	}
}

func TestMF1BReferenceFloatOrder(t *testing.T) {
	// P=5, G=11 with one match at distance 4: the F1s are 0, 0, 0,
	// 12.500000000000004 in the reference's float order; their mean
	// 3.125000000000001 rounds to 3.13 (exact arithmetic gives 3.125 → 3.12).
	n := 210
	gt := make([]int, n)
	for k := 0; k <= 200; k += 20 {
		gt[k] = 1
	}
	pred := make([]int, n)
	for _, f := range []int{4, 50, 90, 130, 170} {
		pred[f] = 1
	}
	r, err := Evaluate([]Video{{Pred: pred, GT: gt, GTEval: gt}})
	if err != nil {
		t.Fatal(err)
	}
	if r.BoundariesPred != 5 || r.BoundariesGT != 11 {
		t.Fatalf("P, G = %d, %d", r.BoundariesPred, r.BoundariesGT)
	}
	if r.MF1B != 3.13 {
		t.Errorf("mF1B = %v, want 3.13", r.MF1B)
	}
	if r.Boundary[3].F1 != 12.500000000000004 {
		t.Errorf("F1 at 4 frames = %v, want 12.500000000000004", r.Boundary[3].F1)
	}
}

func TestRound2(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{28.565, 28.56}, // NumPy: 2856.4999… → 2856
		{70, 70},
		{57.142857142857146, 57.14},
		{28.571428571428573, 28.57},
		{0.125, 0.12}, // 12.5 rounds half to even
		{0.375, 0.38},
	} {
		if got := round2(tc.in); got != tc.want {
			t.Errorf("round2(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNpSum(t *testing.T) {
	// NumPy's pairwise order differs from a plain loop: for eight values
	// it is ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)).
	// With a = 1e16 (float spacing 2 there), (a+1)+(1−a) loses both 1s.
	big, one := rt(1e16), rt(1)
	a := []float64{big, one, -big, one, one, one, one, one}
	if got, want := npSum(a), ((big+one)+(-big+one))+((one+one)+(one+one)); got != want || got != 4 {
		t.Errorf("npSum = %v, want %v", got, want)
	}
	// Against a direct pairwise definition on random data of many lengths.
	rng := rand.New(rand.NewPCG(1, 2))
	var ref func(a []float64) float64
	ref = func(a []float64) float64 {
		n := len(a)
		if n < 8 {
			s := 0.0
			for _, v := range a {
				s += v
			}
			return s
		}
		if n <= 128 {
			r := make([]float64, 8)
			copy(r, a[:8])
			m := n / 8 * 8
			for i := 8; i < m; i++ {
				r[i%8] += a[i]
			}
			s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
			for i := m; i < n; i++ {
				s += a[i]
			}
			return s
		}
		h := n / 2 / 8 * 8
		return ref(a[:h]) + ref(a[h:])
	}
	for n := range 400 {
		a := make([]float64, n)
		for i := range a {
			a[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)))
		}
		if got, want := npSum(a), ref(a); got != want {
			t.Fatalf("n=%d: npSum %v, ref %v", n, got, want)
		}
	}
}

// naiveGreedy is the reference's matching as written: on a dense matrix,
// take each row's maximum, the first row with the largest, its first
// column, and delete both.
func naiveGreedy(m [][]float64) []float64 {
	rows := make([][]float64, len(m))
	for i := range m {
		rows[i] = append([]float64(nil), m[i]...)
	}
	var out []float64
	for len(rows) > 0 && len(rows[0]) > 0 {
		bi, bj := 0, 0
		for i, r := range rows {
			aj := 0
			for j := range r {
				if r[j] > r[aj] {
					aj = j
				}
			}
			if i == 0 || r[aj] > rows[bi][bj] {
				bi, bj = i, aj
			}
		}
		out = append(out, rows[bi][bj])
		rows = append(rows[:bi], rows[bi+1:]...)
		for i := range rows {
			rows[i] = append(rows[i][:bj:bj], rows[i][bj+1:]...)
		}
	}
	return out
}

func TestGreedyMatchMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 3000 {
		P, G := rng.IntN(9), rng.IntN(9)
		levels := 1 + rng.IntN(6) // few levels: many ties
		m := make([][]float64, P)
		for i := range m {
			m[i] = make([]float64, G)
			for j := range m[i] {
				m[i][j] = float64(rng.IntN(levels)) - 2
			}
		}
		got := greedyMatch(P, G, func(i, j int) float64 { return m[i][j] })
		want := naiveGreedy(m)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: %v: greedyMatch %v, naive %v", trial, m, got, want)
		}
	}
}

// refVideo recomputes one video's counts the way eval.py does, on dense
// matrices: boundary matching by row minima of the distance matrix, sign
// matching by row maxima of the hull-IoU matrix, the reference's padding.
func refVideo(pred, gt, gtEval []int) (bTP, bFP, bFN [4]int, sTP, sFP, sFN [8]int, dist float64, hasDist bool, iou float64, hasIoU bool) {
	centres := func(l []int) []float64 {
		var c []float64
		for i := 0; i < len(l); {
			j := i
			for j < len(l) && l[j] == l[i] {
				j++
			}
			if l[i] == 1 {
				c = append(c, float64(i+j)/2)
			}
			i = j
		}
		return c
	}
	signs := func(l []int) [][2]int {
		var s [][2]int
		for i := 0; i < len(l); {
			j := i
			for j < len(l) && l[j] == l[i] {
				j++
			}
			if l[i] == 0 {
				s = append(s, [2]int{i, j})
			}
			i = j
		}
		return s
	}
	pp, gp := centres(pred), centres(gtEval)
	var chosen []float64
	if len(pp) > 0 && len(gp) > 0 {
		m := make([][]float64, len(pp))
		mins := make([]float64, len(pp))
		for i := range pp {
			m[i] = make([]float64, len(gp))
			mins[i] = math.Inf(1)
			for j := range gp {
				m[i][j] = -math.Abs(gp[j] - pp[i])
				mins[i] = math.Min(mins[i], -m[i][j])
			}
		}
		dist, hasDist = npMean(mins), true
		for _, v := range naiveGreedy(m) {
			chosen = append(chosen, -v)
		}
	} else if len(pp) == 0 {
		dist, hasDist = 0, true
	}
	for k, th := range []float64{1, 2, 3, 4} {
		for _, d := range chosen {
			if d <= th {
				bTP[k]++
			} else {
				bFP[k]++
			}
		}
		bFP[k] += len(pp) - len(chosen)
		bFN[k] = len(gp) - bTP[k]
	}
	ps, gs := signs(pred), signs(gt)
	var ious []float64
	if len(ps) > 0 {
		m := make([][]float64, len(ps))
		for i, p := range ps {
			m[i] = make([]float64, len(gs))
			for j, g := range gs {
				m[i][j] = float64(min(p[1], g[1])-max(p[0], g[0])) / float64(max(p[1], g[1])-min(p[0], g[0]))
			}
		}
		ious = naiveGreedy(m)
		if len(gs) == 0 {
			ious = nil
		}
	}
	for k, th := range []float64{0.4, 0.45, 0.5, 0.55, 0.6, 0.6499999999999999, 0.7, 0.75} {
		for _, v := range ious {
			if v > th {
				sTP[k]++
			} else {
				sFP[k]++
			}
		}
		sFP[k] += len(ps) - len(ious)
		sFN[k] = len(gs) - sTP[k]
	}
	diff := len(gs)
	if len(ps) > 0 {
		diff = max(len(ps)-len(ious), len(gs)-len(ious)) - len(ious)
	}
	for ; diff > 0; diff-- {
		ious = append(ious, 0)
	}
	if len(ious) > 0 {
		iou, hasIoU = npMean(ious), true
	}
	return
}

func randomLabels(rng *rand.Rand, n int) []int {
	l := make([]int, n)
	v := rng.IntN(2)
	for i := range l {
		if rng.IntN(4) == 0 {
			v = 1 - v
		}
		l[i] = v
	}
	return l
}

func TestEvaluateMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 500 {
		n := 1 + rng.IntN(40)
		pred, gt := randomLabels(rng, n), randomLabels(rng, n)
		gtEval := DilateBoundaries(gt)
		r, err := Evaluate([]Video{{Pred: pred, GT: gt, GTEval: gtEval}})
		if err != nil {
			t.Fatal(err)
		}
		bTP, bFP, bFN, sTP, sFP, sFN, dist, _, iou, _ := refVideo(pred, gt, gtEval)
		for k := range 4 {
			if b := r.Boundary[k]; b.TP != bTP[k] || b.FP != bFP[k] || b.FN != bFN[k] {
				t.Fatalf("trial %d pred %v gtEval %v th %v: %+v, want %d/%d/%d", trial, pred, gtEval, b.Threshold, b, bTP[k], bFP[k], bFN[k])
			}
		}
		for k := range 8 {
			if s := r.Sign[k]; s.TP != sTP[k] || s.FP != sFP[k] || s.FN != sFN[k] {
				t.Fatalf("trial %d pred %v gt %v th %v: %+v, want %d/%d/%d", trial, pred, gt, s.Threshold, s, sTP[k], sFP[k], sFN[k])
			}
		}
		if r.Dist != dist || r.IoU != 100*iou {
			t.Fatalf("trial %d pred %v gt %v: dist %v IoU %v, want %v %v", trial, pred, gt, r.Dist, r.IoU, dist, 100*iou)
		}
	}
}

func TestEvaluateProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 200 {
		// A perfect prediction scores 100 everywhere (a video needs both a
		// sign and a boundary).
		var videos []Video
		for range 1 + rng.IntN(5) {
			var l []int
			for {
				l = randomLabels(rng, 2+rng.IntN(50))
				if len(BoundaryRuns(l)) > 0 && len(SignRuns(l)) > 0 {
					break
				}
			}
			videos = append(videos, Video{Pred: l, GT: l, GTEval: l})
		}
		r, err := Evaluate(videos)
		if err != nil {
			t.Fatal(err)
		}
		if r.MF1B != 100 || r.MF1S != 100 || r.Acc != 100 || r.IoU != 100 || r.Dist != 0 || r.MeanPrecisionB != 100 || r.MeanRecallB != 100 {
			t.Fatalf("trial %d: perfect prediction scored %+v", trial, r)
		}

		// Order of videos: counts and the rounded headline numbers are
		// identical; means over videos agree up to float summation order.
		videos = videos[:0]
		for range 2 + rng.IntN(6) {
			n := 1 + rng.IntN(60)
			gt := randomLabels(rng, n)
			v, err := NewVideo("v", randomLabels(rng, n), gt, 0)
			if err != nil {
				t.Fatal(err)
			}
			videos = append(videos, v)
		}
		a, err := Evaluate(videos)
		if err != nil {
			t.Fatal(err)
		}
		rng.Shuffle(len(videos), func(i, j int) { videos[i], videos[j] = videos[j], videos[i] })
		b, err := Evaluate(videos)
		if err != nil {
			t.Fatal(err)
		}
		if a.Boundary != b.Boundary || a.Sign != b.Sign || a.MF1B != b.MF1B || a.MF1S != b.MF1S || a.Acc != b.Acc {
			t.Fatalf("trial %d: order changed the scores:\n%+v\n%+v", trial, a, b)
		}
		for _, p := range [][2]float64{{a.IoU, b.IoU}, {a.Dist, b.Dist}, {a.WidthBPred, b.WidthBPred}, {a.WidthBGT, b.WidthBGT}} {
			if math.Abs(p[0]-p[1]) > 1e-9 {
				t.Fatalf("trial %d: order changed a mean: %v vs %v", trial, p[0], p[1])
			}
		}
		// Micro-averaging: the counts over all videos are the sums of the
		// per-video counts.
		var sum [4]int
		for _, v := range videos {
			one, err := Evaluate([]Video{v})
			if err != nil {
				t.Fatal(err)
			}
			for k := range 4 {
				sum[k] += one.Boundary[k].TP
			}
		}
		for k := range 4 {
			if sum[k] != a.Boundary[k].TP {
				t.Fatalf("trial %d: TP over videos %d, summed %d", trial, a.Boundary[k].TP, sum[k])
			}
		}
		// Scores stay in range.
		if a.MF1B < 0 || a.MF1B > 100 || a.MF1S < 0 || a.MF1S > 100 {
			t.Fatalf("trial %d: out of range %v %v", trial, a.MF1B, a.MF1S)
		}
	}
}

func TestEvaluateSymmetry(t *testing.T) {
	// With undilated references (GTEval = GT), swapping prediction and
	// reference swaps FP and FN and keeps TP, so F1, mF1B, mF1S and Acc
	// are unchanged: both matchings are greedy on a symmetric score.
	rng := rand.New(rand.NewPCG(27, 28))
	for trial := range 2000 {
		n := 1 + rng.IntN(40)
		a, b := randomLabels(rng, n), randomLabels(rng, n)
		r1, err1 := Evaluate([]Video{{Pred: a, GT: b, GTEval: b}})
		r2, err2 := Evaluate([]Video{{Pred: b, GT: a, GTEval: a}})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for k := range 4 {
			x, y := r1.Boundary[k], r2.Boundary[k]
			if x.TP != y.TP || x.FP != y.FN || x.FN != y.FP || x.F1 != y.F1 {
				t.Fatalf("trial %d %v %v: boundary %+v vs %+v", trial, a, b, x, y)
			}
		}
		for k := range 8 {
			x, y := r1.Sign[k], r2.Sign[k]
			if x.TP != y.TP || x.FP != y.FN || x.FN != y.FP || x.F1 != y.F1 {
				t.Fatalf("trial %d %v %v: sign %+v vs %+v", trial, a, b, x, y)
			}
		}
		if r1.MF1B != r2.MF1B || r1.MF1S != r2.MF1S || r1.Acc != r2.Acc {
			t.Fatalf("trial %d: %v/%v/%v vs %v/%v/%v", trial, r1.MF1B, r1.MF1S, r1.Acc, r2.MF1B, r2.MF1S, r2.Acc)
		}
	}
}

func TestNewEvalVideo(t *testing.T) {
	// Dilating the full-length labels before cutting differs from cutting
	// first: the boundary at full frame 1 widens into frame 2 = cut frame 0.
	full := []int{0, 1, 0, 0, 0, 0, 0, 0}
	pred := []int{0, 0, 0, 0, 0}
	v, err := NewVideo("x", pred, full, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 0, 0, 0, 0}; !reflect.DeepEqual(v.GTEval, want) {
		t.Errorf("GTEval = %v, want %v", v.GTEval, want)
	}
	if want := []int{0, 0, 0, 0, 0}; !reflect.DeepEqual(v.GT, want) {
		t.Errorf("GT = %v, want %v", v.GT, want)
	}
	// CutEndpoints is applied with the cut dilated labels: the reference has
	// a boundary in the first four frames, so a leading predicted boundary
	// stays; at the end there is none, so the trailing one goes.
	v, err = NewVideo("x", []int{1, 0, 0, 0, 1}, full, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 0, 0, 0, 0}; !reflect.DeepEqual(v.Pred, want) {
		t.Errorf("Pred = %v, want %v", v.Pred, want)
	}
	if _, err := NewVideo("x", pred, full, 4); err == nil {
		t.Error("prediction past the end: no error")
	}
	if _, err := NewVideo("x", pred, full, -1); err == nil {
		t.Error("negative offset: no error")
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name string
		v    Video
	}{
		{"empty", Video{}},
		{"lengths", Video{Pred: []int{0, 1}, GT: []int{0}, GTEval: []int{0, 1}}},
		{"value", Video{Pred: []int{0, 2}, GT: []int{0, 1}, GTEval: []int{0, 1}}},
		{"ignore label", Video{Pred: []int{0, 1}, GT: []int{-100, 1}, GTEval: []int{0, 1}}},
	}
	for _, tc := range tests {
		if _, err := Evaluate([]Video{tc.v}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	r, err := Evaluate(nil)
	if err != nil || r.MF1B != 0 || r.Videos != 0 {
		t.Errorf("no videos: %+v, %v", r, err)
	}
}

// BenchmarkEvaluate scores one hour at 25 fps (90,000 frames) with signs of
// 10–40 frames and boundaries of 1–6 frames in prediction and reference.
func BenchmarkEvaluate(b *testing.B) {
	rng := rand.New(rand.NewPCG(25, 26))
	labels := func() []int {
		l := make([]int, 0, 90000)
		for len(l) < 90000 {
			for range 10 + rng.IntN(31) {
				l = append(l, 0)
			}
			for range 1 + rng.IntN(6) {
				l = append(l, 1)
			}
		}
		return l[:90000]
	}
	v, err := NewVideo("hour", labels(), labels(), 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Evaluate([]Video{v}); err != nil {
			b.Fatal(err)
		}
	}
}
