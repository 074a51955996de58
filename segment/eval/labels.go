package eval

import (
	"fmt"
	"math"
	"sort"

	"github.com/signseg/signseg/segment/decode"
)

// gapBoundaryFrames is the reference's limit: unannotated gaps shorter than
// this many frames between two signs are boundary frames.
const gapBoundaryFrames = 6

// FrameLabels turns sign annotations into n frame labels (0 sign, 1
// boundary) at fps, the way the reference's parse_glosses builds BSLCP
// ground truth from the RH-IDgloss and LH-IDgloss tiers. Within each tier,
// in order of start time:
//   - each annotation's start frame and end frame (decode.MSToFrame) are boundary
//     frames;
//   - if fewer than 6 frames lie strictly between the previous annotation's
//     end frame (the latest end so far) and this annotation's start frame,
//     they are boundary frames; longer gaps stay 0.
//
// Tiers are labelled independently and merged by union: a frame is a
// boundary if any tier makes it one. So two hands that annotate the same
// sign with slightly different times mark all their start and end frames,
// and a short gap on one hand is a boundary even where the other hand is
// mid-sign, as in the reference, which walks both tiers with the same rule.
// (The reference also carries the previous end from the last annotation of
// one tier, and one file, to the first of the next; that accident is not
// reproduced.) Frames at or beyond n are ignored. Confidence is ignored.
func FrameLabels(tiers [][]decode.TimeSpan, n int, fps float64) ([]int, error) {
	if !(fps > 0 && !math.IsInf(fps, 1)) {
		return nil, fmt.Errorf("labels: frame rate %v must be a positive number", fps)
	}
	if n < 0 {
		return nil, fmt.Errorf("labels: frame count %d must not be negative", n)
	}
	labels := make([]int, n)
	mark := func(f int) {
		if f >= 0 && f < n {
			labels[f] = 1
		}
	}
	for t, tier := range tiers {
		anns := append([]decode.TimeSpan(nil), tier...)
		for _, a := range anns {
			if a.BeginMS < 0 || a.EndMS < a.BeginMS {
				return nil, fmt.Errorf("labels: tier %d has an annotation from %d ms to %d ms; times must be ≥ 0 and end at or after the start", t+1, a.BeginMS, a.EndMS)
			}
		}
		sort.SliceStable(anns, func(i, j int) bool { return anns[i].BeginMS < anns[j].BeginMS })
		prevEnd := -1 // latest end frame so far; -1: none yet
		for _, a := range anns {
			s, e := decode.MSToFrame(a.BeginMS, fps), decode.MSToFrame(a.EndMS, fps)
			if prevEnd >= 0 && s-(prevEnd+1) < gapBoundaryFrames {
				for f := prevEnd + 1; f < s; f++ {
					mark(f)
				}
			}
			mark(s)
			mark(e)
			prevEnd = max(prevEnd, e)
		}
	}
	return labels, nil
}
