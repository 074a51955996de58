package decode

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// probs turns 0/1 labels into probabilities: lo for 0, hi for 1.
func probs(labels []int, lo, hi float32) []float32 {
	p := make([]float32, len(labels))
	for i, l := range labels {
		p[i] = lo
		if l == 1 {
			p[i] = hi
		}
	}
	return p
}

// spans drops confidences so tests can compare frame ranges only.
func spans(s []FrameSpan) [][2]int {
	out := [][2]int{}
	for _, x := range s {
		out = append(out, [2]int{x.Start, x.End})
	}
	return out
}

func TestDecodeSpecExample(t *testing.T) {
	// paper-pipeline.md §6: feature i is frame i+8, so with one probability
	// per feature frame the time of "frame" 0 is 8·40 = 320 ms.
	p := probs([]int{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, 0.1, 0.9)
	tests := []struct {
		gaps       string
		signs      [][2]int
		signsMS    [][2]int64
		boundaries [][2]int64
	}{
		{GapsKeep, [][2]int{{0, 2}, {4, 7}, {8, 12}, {13, 14}},
			[][2]int64{{320, 400}, {480, 600}, {640, 800}, {840, 880}},
			[][2]int64{{400, 480}, {600, 640}, {800, 840}}},
		{GapsSplit, [][2]int{{0, 3}, {3, 7}, {8, 12}, {13, 14}},
			[][2]int64{{320, 440}, {440, 600}, {640, 800}, {840, 880}},
			[][2]int64{{400, 480}, {600, 640}, {800, 840}}},
	}
	for _, tc := range tests {
		d, err := Probabilities(p, Options{Threshold: 0.5, Gaps: tc.gaps})
		if err != nil {
			t.Fatal(err)
		}
		if got := spans(d.Signs); !reflect.DeepEqual(got, tc.signs) {
			t.Errorf("%s: signs %v, want %v", tc.gaps, got, tc.signs)
		}
		signs, bounds, err := d.ToMS(25, 320)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range signs {
			if [2]int64{s.BeginMS, s.EndMS} != tc.signsMS[i] {
				t.Errorf("%s: sign %d at %d–%d ms, want %v", tc.gaps, i, s.BeginMS, s.EndMS, tc.signsMS[i])
			}
		}
		for i, b := range bounds {
			if [2]int64{b.BeginMS, b.EndMS} != tc.boundaries[i] {
				t.Errorf("%s: boundary %d at %d–%d ms, want %v", tc.gaps, i, b.BeginMS, b.EndMS, tc.boundaries[i])
			}
		}
		if len(signs) != len(tc.signsMS) || len(bounds) != len(tc.boundaries) {
			t.Errorf("%s: %d signs %d boundaries", tc.gaps, len(signs), len(bounds))
		}
	}
}

func TestDecodeOptions(t *testing.T) {
	L := func(l ...int) []int { return l }
	tests := []struct {
		name   string
		labels []int
		opt    Options
		signs  [][2]int
		bounds [][2]int
	}{
		{"empty", L(), Options{Threshold: 0.5}, [][2]int{}, [][2]int{}},
		{"all sign", L(0, 0, 0), Options{Threshold: 0.5}, [][2]int{{0, 3}}, [][2]int{}},
		{"all boundary", L(1, 1, 1, 1), Options{Threshold: 0.5}, [][2]int{}, [][2]int{{0, 4}}},
		{"all boundary, edges dropped", L(1, 1, 1, 1, 1, 1), Options{Threshold: 0.5, DropEdgeBoundaries: true}, [][2]int{{0, 6}}, [][2]int{}},
		{"one-frame signs keep", L(0, 1, 0, 1, 0), Options{Threshold: 0.5, Gaps: GapsKeep}, [][2]int{{0, 1}, {2, 3}, {4, 5}}, [][2]int{{1, 2}, {3, 4}}},
		{"one-frame gaps split leave the middle frame", L(0, 1, 0, 1, 0), Options{Threshold: 0.5, Gaps: GapsSplit}, [][2]int{{0, 1}, {2, 3}, {4, 5}}, [][2]int{{1, 2}, {3, 4}}},
		{"odd gap of 3 under split", L(0, 0, 1, 1, 1, 0, 0), Options{Threshold: 0.5}, [][2]int{{0, 3}, {4, 7}}, [][2]int{{2, 5}}},
		{"even gap of 4 under split", L(0, 1, 1, 1, 1, 0), Options{Threshold: 0.5}, [][2]int{{0, 3}, {3, 6}}, [][2]int{{1, 5}}},
		{"odd gap of 5 under split", L(0, 1, 1, 1, 1, 1, 0), Options{Threshold: 0.5}, [][2]int{{0, 3}, {4, 7}}, [][2]int{{1, 6}}},
		{"edge boundaries kept", L(1, 1, 0, 0, 1, 0, 0, 1), Options{Threshold: 0.5, Gaps: GapsSplit}, [][2]int{{2, 4}, {5, 7}}, [][2]int{{0, 2}, {4, 5}, {7, 8}}},
		{"edge boundaries are not absorbed by split", L(1, 0, 0, 1), Options{Threshold: 0.5}, [][2]int{{1, 3}}, [][2]int{{0, 1}, {3, 4}}},
		{"edge boundaries dropped", L(1, 1, 0, 0, 1, 0, 0, 1), Options{Threshold: 0.5, Gaps: GapsKeep, DropEdgeBoundaries: true}, [][2]int{{0, 4}, {5, 8}}, [][2]int{{4, 5}}},
		{"boundary touching frame 1 dropped, frame n-3 kept", L(0, 1, 1, 0, 0, 0, 1, 0, 0), Options{Threshold: 0.5, DropEdgeBoundaries: true}, [][2]int{{0, 6}, {7, 9}}, [][2]int{{6, 7}}},
		{"boundary at frame 2 kept", L(0, 0, 1, 0, 0, 0, 0), Options{Threshold: 0.5, Gaps: GapsKeep, DropEdgeBoundaries: true}, [][2]int{{0, 2}, {3, 7}}, [][2]int{{2, 3}}},
		{"boundary at n-3 kept, at n-2 dropped", L(0, 0, 0, 1, 0, 1, 0), Options{Threshold: 0.5, Gaps: GapsKeep, DropEdgeBoundaries: true}, [][2]int{{0, 3}, {4, 7}}, [][2]int{{3, 4}}},
		{"min sign merges short signs into boundaries", L(0, 0, 0, 1, 0, 1, 0, 0, 0), Options{Threshold: 0.5, Gaps: GapsKeep, MinSignFrames: 2}, [][2]int{{0, 3}, {6, 9}}, [][2]int{{3, 6}}},
		{"min sign, then split", L(0, 0, 0, 1, 0, 1, 0, 0, 0), Options{Threshold: 0.5, MinSignFrames: 2}, [][2]int{{0, 4}, {5, 9}}, [][2]int{{3, 6}}},
		{"min sign 1 is no minimum", L(0, 1, 0), Options{Threshold: 0.5, Gaps: GapsKeep, MinSignFrames: 1}, [][2]int{{0, 1}, {2, 3}}, [][2]int{{1, 2}}},
		{"min sign at the edge, then edge drop", L(0, 0, 1, 0, 0, 0, 0, 0), Options{Threshold: 0.5, MinSignFrames: 3, DropEdgeBoundaries: true}, [][2]int{{0, 8}}, [][2]int{}},
		{"min sign longer than the video", L(0, 0, 0), Options{Threshold: 0.5, MinSignFrames: 5}, [][2]int{}, [][2]int{{0, 3}}},
		{"min sign longer than the video, edges dropped", L(0, 0, 0), Options{Threshold: 0.5, MinSignFrames: 5, DropEdgeBoundaries: true}, [][2]int{{0, 3}}, [][2]int{}},
		{"short video, edges dropped", L(0, 1, 1, 0), Options{Threshold: 0.5, DropEdgeBoundaries: true}, [][2]int{{0, 4}}, [][2]int{}},
		{"empty gaps mode means split", L(0, 1, 1, 0), Options{Threshold: 0.5}, [][2]int{{0, 2}, {2, 4}}, [][2]int{{1, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Probabilities(probs(tc.labels, 0.2, 0.8), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := spans(d.Signs); !reflect.DeepEqual(got, tc.signs) {
				t.Errorf("signs %v, want %v", got, tc.signs)
			}
			if got := spans(d.Boundaries); !reflect.DeepEqual(got, tc.bounds) {
				t.Errorf("boundaries %v, want %v", got, tc.bounds)
			}
		})
	}
}

func TestDecodeThreshold(t *testing.T) {
	// 0.25 and 0.5 are exact in float32; 0.7 is 0.699999988.
	p := []float32{0.5, 0.50001, 0.25, 0.7, 0.7, 0.2, 1, 0}
	tests := []struct {
		th     float64
		bounds [][2]int
	}{
		{0.5, [][2]int{{1, 2}, {3, 5}, {6, 7}}}, // strict: 0.5 is not a boundary
		{0.3, [][2]int{{0, 2}, {3, 5}, {6, 7}}},
		{0.7, [][2]int{{6, 7}}},
		{0, [][2]int{{0, 7}}},
		{1, [][2]int{}},
	}
	for _, tc := range tests {
		d, err := Probabilities(p, Options{Threshold: tc.th, Gaps: GapsKeep})
		if err != nil {
			t.Fatal(err)
		}
		if got := spans(d.Boundaries); !reflect.DeepEqual(got, tc.bounds) {
			t.Errorf("threshold %v: boundaries %v, want %v", tc.th, got, tc.bounds)
		}
	}
}

func TestDecodeConfidence(t *testing.T) {
	p := []float32{0.1, 0.3, 0.8, 0.6, 0.0, 0.2}
	d, err := Probabilities(p, Options{Threshold: 0.5, Gaps: GapsSplit})
	if err != nil {
		t.Fatal(err)
	}
	// Signs [0,2) and [4,6) (split to [0,3) and [3,6)): confidences over
	// their own runs, 1 − mean(0.1, 0.3) = 0.8 and 1 − mean(0, 0.2) = 0.9;
	// boundary [2,4): mean(0.8, 0.6) = 0.7.
	want := []float64{0.8, 0.9}
	for i, s := range d.Signs {
		if math.Abs(s.Confidence-want[i]) > 1e-6 {
			t.Errorf("sign %d confidence %v, want %v", i, s.Confidence, want[i])
		}
	}
	if len(d.Boundaries) != 1 || math.Abs(d.Boundaries[0].Confidence-0.7) > 1e-6 {
		t.Errorf("boundaries %+v, want one with confidence 0.7", d.Boundaries)
	}
	if got := spans(d.Signs); !reflect.DeepEqual(got, [][2]int{{0, 3}, {3, 6}}) {
		t.Errorf("signs %v", got)
	}
	// The confidence is carried to times.
	signs, _, err := d.ToMS(25, 0)
	if err != nil {
		t.Fatal(err)
	}
	if signs[1].Confidence != d.Signs[1].Confidence {
		t.Errorf("confidence lost in ToMS")
	}
}

func TestDecodeErrors(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		p    []float32
		opt  Options
	}{
		{"NaN probability", []float32{0, nan}, DefaultOptions()},
		{"probability above 1", []float32{1.5}, DefaultOptions()},
		{"negative probability", []float32{-0.1}, DefaultOptions()},
		{"threshold above 1", []float32{0}, Options{Threshold: 1.5}},
		{"threshold NaN", []float32{0}, Options{Threshold: math.NaN()}},
		{"bad gaps", []float32{0}, Options{Threshold: 0.5, Gaps: "raw"}},
		{"negative min sign", []float32{0}, Options{Threshold: 0.5, MinSignFrames: -1}},
	}
	for _, tc := range tests {
		if _, err := Probabilities(tc.p, tc.opt); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestDecodeInvariants checks, on random probabilities and options, what
// the documentation promises, against a frame-by-frame reading of it.
func TestDecodeInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 3000 {
		n := rng.IntN(30)
		p := make([]float32, n)
		for i := range p {
			p[i] = float32(rng.IntN(11)) / 10
		}
		opt := Options{
			Threshold:          float64(rng.IntN(11)) / 10,
			Gaps:               []string{GapsKeep, GapsSplit}[rng.IntN(2)],
			MinSignFrames:      rng.IntN(5),
			DropEdgeBoundaries: rng.IntN(2) == 0,
		}
		d, err := Probabilities(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("trial %d p=%v opt=%+v → %+v: "+format, append([]any{trial, p, opt, d}, args...)...)
		}
		// Owner of each frame: 's' sign run, 'b' boundary run.
		owner := make([]byte, n)
		for _, b := range d.Boundaries {
			if b.Start < 0 || b.End > n || b.End <= b.Start {
				fail("bad boundary %+v", b)
			}
			if opt.DropEdgeBoundaries && (b.Start < 2 || b.End > n-2) {
				fail("boundary %+v touches an edge", b)
			}
			for f := b.Start; f < b.End; f++ {
				if owner[f] != 0 {
					fail("boundaries overlap at %d", f)
				}
				owner[f] = 'b'
			}
		}
		for f := range owner {
			if owner[f] == 0 {
				owner[f] = 's'
			}
		}
		// Under keep, signs are exactly the non-boundary runs.
		var want [][2]int
		for i := 0; i < n; {
			j := i
			for j < n && owner[j] == owner[i] {
				j++
			}
			if owner[i] == 's' {
				want = append(want, [2]int{i, j})
			}
			i = j
		}
		if want == nil {
			want = [][2]int{}
		}
		if opt.Gaps == GapsKeep && !reflect.DeepEqual(spans(d.Signs), want) {
			fail("signs are not the complement of boundaries: want %v", want)
		}
		if len(d.Signs) != len(want) {
			fail("%d signs, %d sign runs", len(d.Signs), len(want))
		}
		for k, s := range d.Signs {
			if s.Start < 0 || s.End > n || s.End <= s.Start {
				fail("bad sign %+v", s)
			}
			if k > 0 {
				gap := s.Start - d.Signs[k-1].End
				if gap < 0 || (opt.Gaps == GapsSplit && gap > 1) {
					fail("gap %d before sign %d", gap, k)
				}
			}
			if own := want[k][1] - want[k][0]; opt.MinSignFrames > 0 && own < opt.MinSignFrames && own != n {
				fail("sign %v shorter than %d", want[k], opt.MinSignFrames)
			}
			if s.Confidence < 0 || s.Confidence > 1 {
				fail("confidence %v", s.Confidence)
			}
		}
		// Without the extra rules, boundary frames are exactly p > threshold.
		if opt.MinSignFrames <= 1 && !opt.DropEdgeBoundaries {
			for f := range p {
				if (owner[f] == 'b') != (float64(p[f]) > opt.Threshold) {
					fail("frame %d owner %c", f, owner[f])
				}
			}
		}
	}
}

func TestFrameMS(t *testing.T) {
	tests := []struct {
		frame  int
		fps    float64
		origin int64
		want   int64
	}{
		{0, 25, 0, 0},
		{1, 25, 0, 40},
		{90000, 25, 0, 3600000},
		{7, 25, 320, 600},
		{1, 30, 0, 33},                 // 33.33
		{2, 30, 0, 67},                 // 66.67
		{3, 30, 0, 100},                // 100
		{1, 30000.0 / 1001, 0, 33},     // 33.37
		{1, 80, 0, 13},                 // 12.5: halves away from zero
		{3, 80, 5, 43},                 // 37.5 → 38, + 5
		{1, 1000, 0, 1},                // one frame per ms
		{3, 1000.0 / 3, 0, 9},          // 3 ms per frame
		{100, 24000.0 / 1001, 0, 4171}, // 4170.8
	}
	for _, tc := range tests {
		got, err := FrameMS(tc.frame, tc.fps, tc.origin)
		if err != nil || got != tc.want {
			t.Errorf("FrameMS(%d, %v, %d) = %d, %v; want %d", tc.frame, tc.fps, tc.origin, got, err, tc.want)
		}
	}
	for _, bad := range []struct {
		frame  int
		fps    float64
		origin int64
	}{{0, 0, 0}, {0, -25, 0}, {0, math.NaN(), 0}, {0, math.Inf(1), 0}, {0, 1001, 0}, {0, 25, -1}, {-1, 25, 0}} {
		if _, err := FrameMS(bad.frame, bad.fps, bad.origin); err == nil {
			t.Errorf("FrameMS(%d, %v, %d): no error", bad.frame, bad.fps, bad.origin)
		}
	}
}

func TestSpanMS(t *testing.T) {
	// Every non-empty span maps to end > begin ≥ 0 at any allowed rate, and
	// adjacent spans share their boundary time.
	rng := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		fps := 1 + rng.Float64()*999
		origin := int64(rng.IntN(100000))
		a := rng.IntN(100000)
		b := a + 1 + rng.IntN(3)
		c := b + 1 + rng.IntN(3)
		s1, err1 := SpanMS(FrameSpan{Start: a, End: b}, fps, origin)
		s2, err2 := SpanMS(FrameSpan{Start: b, End: c}, fps, origin)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !(s1.BeginMS >= 0 && s1.EndMS > s1.BeginMS && s2.EndMS > s2.BeginMS && s1.EndMS == s2.BeginMS) {
			t.Fatalf("fps %v: %+v %+v", fps, s1, s2)
		}
		// Rounding moves a frame's time by at most half a millisecond.
		if d := float64(s1.BeginMS-origin) - float64(a)*1000/fps; d > 0.5+1e-9 || d < -0.5-1e-9 {
			t.Fatalf("frame %d at %v fps → %d ms", a, fps, s1.BeginMS-origin)
		}
	}
	for _, s := range []FrameSpan{{Start: 3, End: 3}, {Start: 4, End: 3}, {Start: -1, End: 3}} {
		if _, err := SpanMS(s, 25, 0); err == nil {
			t.Errorf("SpanMS(%+v): no error", s)
		}
	}
	if _, _, err := (Decoded{Signs: []FrameSpan{{Start: 0, End: 1}}}).ToMS(0, 0); err == nil {
		t.Error("ToMS with fps 0: no error")
	}
}

func TestMSToFrame(t *testing.T) {
	// Expected values from Python: round(ms / 1000 * fps).
	tests := []struct {
		ms   int64
		fps  float64
		want int
	}{
		{0, 25, 0}, {19, 25, 0}, {20, 25, 0}, {21, 25, 1}, {59, 25, 1}, {60, 25, 2},
		{100, 25, 2}, {140, 25, 4}, {180, 25, 4}, {220, 25, 6}, {260, 25, 6},
		{300, 25, 8}, {340, 25, 8}, {380, 25, 10}, {420, 25, 10}, {460, 25, 12},
		{500, 25, 12}, {1180, 25, 30}, {99980, 25, 2500}, {3599980, 25, 90000},
		{50, 30, 2}, {150, 30, 4}, {250, 30, 8}, {350, 30, 10}, {1050, 30, 32},
		{10, 50, 0}, {30, 50, 2}, {50, 50, 2}, {70, 50, 4},
	}
	for _, tc := range tests {
		if got := MSToFrame(tc.ms, tc.fps); got != tc.want {
			t.Errorf("MSToFrame(%d, %v) = %d, want %d", tc.ms, tc.fps, got, tc.want)
		}
	}
}
