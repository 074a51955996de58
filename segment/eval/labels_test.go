package eval

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/signseg/signseg/segment/decode"
)

// ones returns n labels with 1 at the given frames.
func ones(n int, frames ...int) []int {
	l := make([]int, n)
	for _, f := range frames {
		l[f] = 1
	}
	return l
}

func TestFrameLabels(t *testing.T) {
	tests := []struct {
		name  string
		tiers [][]decode.TimeSpan
		n     int
		want  []int
	}{
		{"no tiers", nil, 4, ones(4)},
		{"start and end frames", [][]decode.TimeSpan{{{BeginMS: 100, EndMS: 500}}}, 20, ones(20, 2, 12)},
		{
			// Gap of 5 frames (13–17) is a boundary; then a gap of 6 (26–31) is not.
			"short gaps", [][]decode.TimeSpan{{{BeginMS: 100, EndMS: 500}, {BeginMS: 700, EndMS: 1000}, {BeginMS: 1300, EndMS: 1400}}}, 40,
			ones(40, 2, 12, 13, 14, 15, 16, 17, 18, 25, 32, 35),
		},
		{"touching annotations", [][]decode.TimeSpan{{{BeginMS: 0, EndMS: 200}, {BeginMS: 200, EndMS: 400}}}, 12, ones(12, 0, 5, 10)},
		{"unsorted tier", [][]decode.TimeSpan{{{BeginMS: 700, EndMS: 1000}, {BeginMS: 100, EndMS: 500}}}, 30, ones(30, 2, 12, 13, 14, 15, 16, 17, 18, 25)},
		{"two hands overlapping: union of all ends", [][]decode.TimeSpan{{{BeginMS: 0, EndMS: 400}}, {{BeginMS: 200, EndMS: 600}}}, 20, ones(20, 0, 5, 10, 15)},
		{
			// RH has a 1-frame gap at frame 11; LH signs across it, but
			// tiers are labelled independently, so frame 11 is a boundary.
			"short gap on one hand", [][]decode.TimeSpan{{{BeginMS: 0, EndMS: 400}, {BeginMS: 480, EndMS: 800}}, {{BeginMS: 200, EndMS: 1000}}}, 30,
			ones(30, 0, 5, 10, 11, 12, 20, 25),
		},
		{"frames past n ignored", [][]decode.TimeSpan{{{BeginMS: 100, EndMS: 500}, {BeginMS: 600, EndMS: 900}}}, 14, ones(14, 2, 12, 13)},
		{"zero-length annotation", [][]decode.TimeSpan{{{BeginMS: 200, EndMS: 200}}}, 8, ones(8, 5)},
		{"empty video", [][]decode.TimeSpan{{{BeginMS: 0, EndMS: 200}}}, 0, ones(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FrameLabels(tc.tiers, tc.n, 25)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// refParseGlosses is the reference's parse_glosses loop for one tier of
// sorted annotations: it returns the boundary frame list it builds.
func refParseGlosses(anns []decode.TimeSpan, fps float64) []int {
	var times []int
	endOld := 0
	r := func(ms int64) int { return decode.MSToFrame(ms, fps) }
	for _, a := range anns {
		if endOld == 0 {
			endOld = r(a.EndMS) + 1
		}
		if r(a.BeginMS)-endOld < 6 {
			for endOld < r(a.BeginMS) {
				times = append(times, endOld)
				endOld++
			}
		}
		times = append(times, r(a.BeginMS), r(a.EndMS))
		endOld = r(a.EndMS) + 1
	}
	return times
}

func TestFrameLabelsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 1000 {
		var tiers [][]decode.TimeSpan
		n := 0
		for range 1 + rng.IntN(2) {
			var tier []decode.TimeSpan
			ms := int64(rng.IntN(500))
			for range rng.IntN(8) {
				b := ms + int64(rng.IntN(400)) // gaps of 0–16 frames
				e := b + 40 + int64(rng.IntN(1000))
				tier = append(tier, decode.TimeSpan{BeginMS: b, EndMS: e})
				ms = e
			}
			tiers = append(tiers, tier)
			n = max(n, int(ms/40)+3)
		}
		got, err := FrameLabels(tiers, n, 25)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int, n)
		for _, tier := range tiers {
			for _, f := range refParseGlosses(tier, 25) {
				want[f] = 1
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d tiers %v:\ngot  %v\nwant %v", trial, tiers, got, want)
		}
	}
}

func TestFrameLabelsErrors(t *testing.T) {
	tests := []struct {
		name  string
		tiers [][]decode.TimeSpan
		n     int
		fps   float64
	}{
		{"fps 0", nil, 5, 0},
		{"negative frames", nil, -1, 25},
		{"end before start", [][]decode.TimeSpan{{{BeginMS: 500, EndMS: 400}}}, 5, 25},
		{"negative time", [][]decode.TimeSpan{{{BeginMS: -40, EndMS: 400}}}, 5, 25},
	}
	for _, tc := range tests {
		if _, err := FrameLabels(tc.tiers, tc.n, tc.fps); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
