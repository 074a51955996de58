package decode

import (
	"fmt"
	"math"
)

// Gap modes for Options.Gaps.
const (
	GapsSplit = "split" // split each boundary run between its neighbours, as the authors' demo does
	GapsKeep  = "keep"  // leave boundary runs as gaps between signs
)

// Options controls how per-frame boundary probabilities become signs.
type Options struct {
	// Threshold: a frame is a boundary frame if its probability is strictly
	// greater (the reference's classification_threshold, default 0.5).
	Threshold float64
	// Gaps is GapsSplit (each boundary run between two signs is shared
	// between them, as the authors' demo does) or GapsKeep (signs keep only
	// their own frames). Empty means GapsSplit.
	Gaps string
	// MinSignFrames: sign runs shorter than this become boundary frames, so
	// they merge with the neighbouring boundary runs (0 or 1: no minimum).
	MinSignFrames int
	// DropEdgeBoundaries turns every boundary run that touches the first two
	// or the last two frames into sign frames, so a video that starts or
	// stops mid-sign does not begin or end with a boundary. It is the
	// inference form of the reference's evaluation-only cut_endpoints, which
	// needs the ground truth (see CutEndpoints).
	DropEdgeBoundaries bool
}

// DefaultOptions returns signseg's default decoding: the reference
// demo's threshold 0.5 and split gaps, no minimum sign length, and edge
// boundaries dropped (the demo keeps them).
func DefaultOptions() Options {
	return Options{Threshold: 0.5, Gaps: GapsSplit, DropEdgeBoundaries: true}
}

// FrameSpan is a run of frames [Start, End) with a confidence in [0, 1].
type FrameSpan struct {
	Start, End int
	// Confidence of a sign is the mean of 1 − P(boundary) over the frames
	// of its own run (before GapsSplit widens it); of a boundary, the mean
	// of P(boundary) over its frames.
	Confidence float64
}

// Decoded is the result of Probabilities, spans in frame order.
// Signs never overlap each other, nor do boundaries; under GapsSplit a
// sign may cover (half of) the boundary runs next to it.
type Decoded struct {
	Signs      []FrameSpan
	Boundaries []FrameSpan
}

// Probabilities turns one boundary probability per frame into sign and
// boundary spans. The steps, in order:
//  1. frame i is a boundary frame if p[i] > opt.Threshold;
//  2. sign runs shorter than opt.MinSignFrames become boundary frames;
//  3. with opt.DropEdgeBoundaries, boundary runs that intersect frames
//     [0, 2) or [len(p)−2, len(p)) become sign frames (so the output has no
//     boundary there; a whole sequence of 4 frames or fewer is one sign);
//  4. signs are the maximal runs of sign frames, boundaries the maximal runs
//     of boundary frames, and confidences are taken over these runs;
//  5. with GapsSplit, for consecutive signs k and k+1 separated by a gap of
//     g frames, sign k grows by g/2 (rounded down) at its end and sign k+1
//     by g/2 at its start, so an odd gap leaves its middle frame to
//     neither. Boundary runs before the first or after the last sign stay
//     unassigned.
//
// Step 3 runs after step 2 so that no step can leave a boundary at an edge;
// a sign can then be shorter than MinSignFrames only if it is the whole
// sequence. Probabilities must lie in [0, 1]; an empty input gives no spans.
func Probabilities(p []float32, opt Options) (Decoded, error) {
	if err := opt.check(); err != nil {
		return Decoded{}, err
	}
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			return Decoded{}, fmt.Errorf("decode: boundary probability %v at frame %d is not in [0, 1]; the temporal model's output is invalid", v, i)
		}
	}
	n := len(p)
	b := make([]bool, n)
	for i, v := range p {
		b[i] = float64(v) > opt.Threshold
	}
	if opt.MinSignFrames > 1 {
		forBoolRuns(b, func(on bool, s, e int) {
			if !on && e-s < opt.MinSignFrames {
				fillBools(b[s:e], true)
			}
		})
	}
	if opt.DropEdgeBoundaries {
		forBoolRuns(b, func(on bool, s, e int) {
			if on && (s < 2 || e > n-2) {
				fillBools(b[s:e], false)
			}
		})
	}
	var d Decoded
	forBoolRuns(b, func(on bool, s, e int) {
		sum := 0.0
		for _, v := range p[s:e] {
			if on {
				sum += float64(v)
			} else {
				sum += 1 - float64(v)
			}
		}
		span := FrameSpan{Start: s, End: e, Confidence: sum / float64(e-s)}
		if on {
			d.Boundaries = append(d.Boundaries, span)
		} else {
			d.Signs = append(d.Signs, span)
		}
	})
	if opt.Gaps != GapsKeep {
		for k := 0; k+1 < len(d.Signs); k++ {
			h := (d.Signs[k+1].Start - d.Signs[k].End) / 2
			d.Signs[k].End += h
			d.Signs[k+1].Start -= h
		}
	}
	return d, nil
}

// check validates the options.
func (o Options) check() error {
	if !(o.Threshold >= 0 && o.Threshold <= 1) {
		return fmt.Errorf("decode: threshold %v must be between 0 and 1", o.Threshold)
	}
	if o.Gaps != "" && o.Gaps != GapsSplit && o.Gaps != GapsKeep {
		return fmt.Errorf("decode: gaps %q must be %q or %q", o.Gaps, GapsSplit, GapsKeep)
	}
	if o.MinSignFrames < 0 {
		return fmt.Errorf("decode: minimum sign length %d must not be negative", o.MinSignFrames)
	}
	return nil
}

// forBoolRuns calls f for each maximal run of equal values in b, in order.
// f may change the values inside its own run.
func forBoolRuns(b []bool, f func(on bool, start, end int)) {
	for i := 0; i < len(b); {
		j := i + 1
		for j < len(b) && b[j] == b[i] {
			j++
		}
		f(b[i], i, j)
		i = j
	}
}

// fillBools sets every element of b to v.
func fillBools(b []bool, v bool) {
	for i := range b {
		b[i] = v
	}
}

// TimeSpan is a time interval [BeginMS, EndMS) in integer milliseconds with
// an optional confidence (see FrameSpan).
type TimeSpan struct {
	BeginMS, EndMS int64
	Confidence     float64
}

// FrameMS returns the media time in milliseconds at which frame i begins:
// originMS + round(i·1000/fps), rounding halves away from zero. originMS is
// the media time of frame 0 (the first decoded frame; 0 for most files). At
// 25 fps every frame is an exact multiple of 40 ms. fps must lie in
// (0, 1000], so consecutive frames are at least 1 ms apart and any
// non-empty frame span maps to a non-empty time span.
func FrameMS(i int, fps float64, originMS int64) (int64, error) {
	if !(fps > 0 && fps <= 1000) {
		return 0, fmt.Errorf("frame rate %v must be above 0 and at most 1000 frames per second", fps)
	}
	if originMS < 0 {
		return 0, fmt.Errorf("time of the first frame %d ms must not be negative", originMS)
	}
	if i < 0 {
		return 0, fmt.Errorf("frame %d must not be negative", i)
	}
	return originMS + int64(math.Round(float64(i)*1000/fps)), nil
}

// SpanMS maps a frame span to media time: BeginMS = FrameMS(Start),
// EndMS = FrameMS(End) (the start of the first frame after the span), so
// adjacent spans share their boundary time, 0 ≤ BeginMS < EndMS, and the
// confidence is carried over.
func SpanMS(s FrameSpan, fps float64, originMS int64) (TimeSpan, error) {
	if s.Start < 0 || s.End <= s.Start {
		return TimeSpan{}, fmt.Errorf("frame span [%d, %d) is empty or negative", s.Start, s.End)
	}
	b, err := FrameMS(s.Start, fps, originMS)
	if err != nil {
		return TimeSpan{}, err
	}
	e, err := FrameMS(s.End, fps, originMS)
	if err != nil {
		return TimeSpan{}, err
	}
	return TimeSpan{BeginMS: b, EndMS: e, Confidence: s.Confidence}, nil
}

// ToMS maps every sign and boundary of d to media time with SpanMS.
func (d Decoded) ToMS(fps float64, originMS int64) (signs, boundaries []TimeSpan, err error) {
	conv := func(spans []FrameSpan) ([]TimeSpan, error) {
		out := make([]TimeSpan, 0, len(spans))
		for _, s := range spans {
			t, err := SpanMS(s, fps, originMS)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	if signs, err = conv(d.Signs); err != nil {
		return nil, nil, err
	}
	if boundaries, err = conv(d.Boundaries); err != nil {
		return nil, nil, err
	}
	return signs, boundaries, nil
}

// MSToFrame converts a time in milliseconds to a frame index the way the
// reference built its ground truth: round(ms/1000·fps), halves to even
// (Python's round), computed in float64 in that order.
func MSToFrame(ms int64, fps float64) int {
	return int(math.RoundToEven(float64(ms) / 1000 * fps))
}
