package eval

import (
	"fmt"
	"sort"

	"github.com/signseg/signseg/segment/decode"
)

// BaselineUniform is the name of the uniform baseline (signseg eval
// --baseline uniform).
const BaselineUniform = "uniform"

// UniformBaseline returns the paper's indicative "uniform" baseline for a
// reference: each stretch of continuous signing in the reference is split
// into as many equal signs as the reference has there. It knows where and
// how many signs there are, but not where the boundaries between them lie,
// so it shows how much of a score comes from the boundaries alone.
//
// The reference's annotations (all tiers merged) are sorted by start time
// and grouped into spans: an annotation joins the current span unless fewer
// frames than the 6-frame gap rule of FrameLabels allows (that is, 6 or
// more) lie strictly between the span's latest end frame and its start
// frame, the gaps FrameLabels leaves unmarked. A span runs from its
// earliest start to its latest end (in ms). The number of signs k of a span
// is the number of sign runs (SignRuns) of the reference's FrameLabels
// strictly inside the span's first and last frame, the count the sign
// metrics see, so two hands annotating the same sign count once; a span
// with no sign run inside counts one sign. The span [S, E] ms then becomes
// k touching spans with cuts at S + ⌊(E−S)·i/k⌋ ms, i = 0…k.
//
// The result is a tier of signs in the reference's time base, to be turned
// into frame labels with FrameLabels like any predicted tier. Confidence is
// 0. fps must be positive; annotations must have 0 ≤ begin ≤ end.
func UniformBaseline(ref [][]decode.TimeSpan, fps float64) ([]decode.TimeSpan, error) {
	var all []decode.TimeSpan
	lastEnd := -1
	for _, tier := range ref {
		for _, a := range tier {
			all = append(all, a)
			lastEnd = max(lastEnd, decode.MSToFrame(a.EndMS, fps))
		}
	}
	// FrameLabels validates fps and the annotations; its labels give k.
	labels, err := FrameLabels(ref, lastEnd+1, fps)
	if err != nil {
		return nil, fmt.Errorf("uniform baseline: %w", err)
	}
	if len(all) == 0 {
		return nil, nil
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].BeginMS < all[j].BeginMS })

	type span struct {
		beginMS, endMS int64
		first, last    int // frames
	}
	var spans []span
	for _, a := range all {
		s, e := decode.MSToFrame(a.BeginMS, fps), decode.MSToFrame(a.EndMS, fps)
		if n := len(spans); n > 0 && s-(spans[n-1].last+1) < gapBoundaryFrames {
			sp := &spans[n-1]
			sp.endMS = max(sp.endMS, a.EndMS)
			sp.last = max(sp.last, e)
			continue
		}
		spans = append(spans, span{beginMS: a.BeginMS, endMS: a.EndMS, first: s, last: e})
	}

	var out []decode.TimeSpan
	for _, sp := range spans {
		k := max(len(SignRuns(labels[sp.first:sp.last+1])), 1)
		d := sp.endMS - sp.beginMS
		prev := sp.beginMS
		for i := 1; i <= k; i++ {
			cut := sp.beginMS + d*int64(i)/int64(k)
			out = append(out, decode.TimeSpan{BeginMS: prev, EndMS: cut})
			prev = cut
		}
	}
	return out, nil
}
