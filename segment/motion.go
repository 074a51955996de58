package segment

import (
	"fmt"
	"math"
	"sort"

	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// Changepoint signals (ChangepointConfig.Signal).
const (
	// SignalFeatures runs PELT on the clip features as they are, with the
	// BIC-style penalty of PenaltyForFeatures. It suits any model,
	// including the paper's I3D features.
	SignalFeatures = "features"
	// SignalMotionEnergy runs PELT on a one-dimensional motion profile of
	// the motion features (see motionEnergy), with the penalty of
	// varianceLogPenalty.
	SignalMotionEnergy = "motion-energy"
)

// signingSpaceShare is the share of the busiest grid cell's mean motion
// above which a cell counts as part of the signing space.
const signingSpaceShare = 0.05

// motionEnergy reduces motion features (onnxgraph.BuildMotion's layout,
// whose first MotionGrid² values are the mean |temporal difference| per
// cell of an 8×8 grid) to one value per frame: the square root of the
// summed motion in the signing space. The signing space is the set of cells
// whose mean motion over the whole video is at least 5 % of the busiest
// cell's, so a static background, a second person far away or compression
// noise in still regions do not count. The square root makes the profile
// roughly constant while a hand moves and near zero when it holds still,
// which suits PELT's piecewise-constant L2 model.
func motionEnergy(seq *Features) ([]float32, error) {
	cells := onnxgraph.MotionGrid * onnxgraph.MotionGrid
	if seq.Dim < cells {
		return nil, fmt.Errorf("changepoint signal %q needs motion features (at least %d values per frame), got %d", SignalMotionEnergy, cells, seq.Dim)
	}
	T, D := seq.Rows(), seq.Dim
	mean := make([]float64, cells)
	for t := 0; t < T; t++ {
		for c := 0; c < cells; c++ {
			mean[c] += float64(seq.Data[t*D+c])
		}
	}
	busiest := 0.0
	for _, m := range mean {
		busiest = math.Max(busiest, m)
	}
	var space []int
	for c, m := range mean {
		if m >= signingSpaceShare*busiest {
			space = append(space, c)
		}
	}
	out := make([]float32, T)
	for t := range out {
		var s float64
		for _, c := range space {
			s += float64(seq.Data[t*D+c])
		}
		out[t] = float32(math.Sqrt(max(s, 0)))
	}
	return out, nil
}

// varianceLogPenalty is the penalty rule for the motion profile:
//
//	penalty = factor · Var(x) · ln T
//
// BIC charges ln T per changepoint in units of the noise variance. The
// motion profile's frame-to-frame noise is far smaller than the variation
// inside one move (a hand speeds up and slows down), so a noise-based
// penalty would cut moves apart. The profile's total variance, which is
// dominated by the move/hold contrast, is the scale used instead: only
// changes comparable to that contrast pay for themselves. The manifest's
// factor (0.5 for the built-in model) sets the sensitivity.
func varianceLogPenalty(x []float32, factor float64) float64 {
	T := len(x)
	if T < 2 {
		return 0
	}
	var sum, sumSq float64
	for _, v := range x {
		sum += float64(v)
		sumSq += float64(v) * float64(v)
	}
	mean := sum / float64(T)
	variance := max(sumSq/float64(T)-mean*mean, 0)
	return factor * variance * math.Log(float64(T))
}

// restShare is the share of the typical sign's motion below which a
// segment between changepoints is a rest, not a sign.
const restShare = 0.3

// dropRests removes "signs" during which the hands hardly move: the still
// stretches before the first sign, after the last and during long pauses
// are segments between changepoints too, but annotating them as signs
// would only give the linguist empty annotations to delete. A sign is a
// rest when its mean motion (energy, per frame) is below restShare of the
// median over all signs' means; with fewer than three signs nothing is
// dropped, as the median then says little.
func dropRests(signs []decode.FrameSpan, energy []float32) []decode.FrameSpan {
	if len(signs) < 3 {
		return signs
	}
	means := make([]float64, len(signs))
	for i, s := range signs {
		var sum float64
		for _, v := range energy[s.Start:s.End] {
			sum += float64(v)
		}
		means[i] = sum / float64(s.End-s.Start)
	}
	sorted := append([]float64(nil), means...)
	sort.Float64s(sorted)
	median := sorted[len(sorted)/2]
	kept := signs[:0:0]
	for i, s := range signs {
		if means[i] >= restShare*median {
			kept = append(kept, s)
		}
	}
	return kept
}
