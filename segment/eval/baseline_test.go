package eval

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/signseg/signseg/segment/decode"
)

func msSpans(ms ...int64) []decode.TimeSpan {
	var out []decode.TimeSpan
	for i := 0; i+1 < len(ms); i += 2 {
		out = append(out, decode.TimeSpan{BeginMS: ms[i], EndMS: ms[i+1]})
	}
	return out
}

func TestUniformBaseline(t *testing.T) {
	tests := []struct {
		name string
		ref  [][]decode.TimeSpan
		want []decode.TimeSpan
	}{
		{"no reference", nil, nil},
		{"empty tier", [][]decode.TimeSpan{{}}, nil},
		// Frames 0, 10, 15, 30: three sign runs in one span.
		{"three touching signs", [][]decode.TimeSpan{msSpans(0, 400, 400, 600, 600, 1200)}, msSpans(0, 400, 400, 800, 800, 1200)},
		// ⌊1000·i/3⌋.
		{"uneven split", [][]decode.TimeSpan{msSpans(0, 200, 200, 400, 400, 1000)}, msSpans(0, 333, 333, 666, 666, 1000)},
		// 29 unmarked frames between frame 20 and frame 50: two spans.
		{"long gap separates spans", [][]decode.TimeSpan{msSpans(0, 400, 400, 800, 2000, 2400)}, msSpans(0, 400, 400, 800, 2000, 2400)},
		// 5 frames (21–25) between: still one span of 3 signs.
		{"short gap joins", [][]decode.TimeSpan{msSpans(0, 400, 400, 800, 1040, 1240)}, msSpans(0, 413, 413, 826, 826, 1240)},
		// Exactly 6 frames (21–26) between: two spans.
		{"gap of six frames", [][]decode.TimeSpan{msSpans(0, 400, 400, 800, 1080, 1280)}, msSpans(0, 400, 400, 800, 1080, 1280)},
		// Both hands annotate the same two signs one frame apart: boundary
		// frames 0,1 10,11 20,21 leave two sign runs.
		{"two hands count once", [][]decode.TimeSpan{msSpans(0, 400, 400, 800), msSpans(40, 440, 440, 840)}, msSpans(0, 420, 420, 840)},
		{"unsorted", [][]decode.TimeSpan{msSpans(2000, 2400, 400, 800, 0, 400)}, msSpans(0, 400, 400, 800, 2000, 2400)},
		{"zero-length annotation", [][]decode.TimeSpan{msSpans(200, 200)}, msSpans(200, 200)},
		{"one-frame annotation", [][]decode.TimeSpan{msSpans(200, 240)}, msSpans(200, 240)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := UniformBaseline(tc.ref, 25)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestUniformBaselineErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		ref  [][]decode.TimeSpan
		fps  float64
		want string
	}{
		{"zero fps", [][]decode.TimeSpan{msSpans(0, 400)}, 0, "frame rate"},
		{"end before start", [][]decode.TimeSpan{msSpans(400, 0)}, 25, "400 ms to 0 ms"},
		{"negative time", [][]decode.TimeSpan{msSpans(-40, 400)}, 25, "-40 ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := UniformBaseline(tc.ref, tc.fps)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "uniform baseline: ") {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// randomReference returns one tier of signs of at least minFrames frames
// at 25 fps (any ms length), with random gaps: none, short (same span) or
// long (a new span).
func randomReference(rng *rand.Rand, signs, minFrames int) []decode.TimeSpan {
	var tier []decode.TimeSpan
	at := int64(40 * rng.IntN(20))
	for range signs {
		l := int64(40*minFrames + rng.IntN(400))
		tier = append(tier, decode.TimeSpan{BeginMS: at, EndMS: at + l})
		at += l
		switch rng.IntN(3) {
		case 0: // touching
		case 1:
			at += int64(40 * (1 + rng.IntN(4))) // short gap: same span
		default:
			at += int64(40 * (7 + rng.IntN(30))) // long gap: new span
		}
	}
	return tier
}

// evalTiers scores hyp against ref as signseg eval does: labels up to the
// last end frame of either, whole video, cut_endpoints applied.
func evalTiers(t *testing.T, ref [][]decode.TimeSpan, hyp []decode.TimeSpan) Report {
	t.Helper()
	n := 0
	for _, tier := range append(ref, hyp) {
		for _, a := range tier {
			n = max(n, decode.MSToFrame(a.EndMS, 25)+1)
		}
	}
	gt, err := FrameLabels(ref, n, 25)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := FrameLabels([][]decode.TimeSpan{hyp}, n, 25)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVideo("v", pred, gt, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate([]Video{v})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestUniformBaselineProperties checks, on random references, that a
// reference made of equal touching signs (with gaps only between spans) is
// its own uniform baseline and scores 100/100, and that on any reference
// with signs of 3 frames or more the baseline has as many signs as the
// reference, with the same span edges.
func TestUniformBaselineProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for range 300 {
		ref := randomReference(rng, 1+rng.IntN(12), 3)
		base, err := UniformBaseline([][]decode.TimeSpan{ref}, 25)
		if err != nil {
			t.Fatal(err)
		}
		if base[0].BeginMS != ref[0].BeginMS || base[len(base)-1].EndMS != ref[len(ref)-1].EndMS {
			t.Fatalf("baseline %v does not cover the reference %v", base, ref)
		}
		r := evalTiers(t, [][]decode.TimeSpan{ref}, base)
		if r.SignsPred != r.SignsGT {
			t.Fatalf("reference %v: baseline %v has %d signs, reference %d", ref, base, r.SignsPred, r.SignsGT)
		}
	}
	for range 300 {
		// Equal signs with long gaps only: the baseline is the reference.
		var ref []decode.TimeSpan
		at := int64(40 * rng.IntN(10))
		length := int64(40 * (3 + rng.IntN(10)))
		for range 1 + rng.IntN(10) {
			if rng.IntN(3) == 0 {
				at += int64(40 * (7 + rng.IntN(30)))
			}
			ref = append(ref, decode.TimeSpan{BeginMS: at, EndMS: at + length})
			at += length
		}
		base, err := UniformBaseline([][]decode.TimeSpan{ref}, 25)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(base, ref) {
			t.Fatalf("baseline of equal signs %v is %v", ref, base)
		}
		if r := evalTiers(t, [][]decode.TimeSpan{ref}, base); r.MF1B != 100 || r.MF1S != 100 {
			t.Fatalf("reference %v: mF1B %v mF1S %v, want 100", ref, r.MF1B, r.MF1S)
		}
	}
}
