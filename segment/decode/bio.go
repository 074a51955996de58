package decode

import (
	"fmt"
	"math"
)

// BIO class indices of the slp-2023 pose segmenter's outputs (per frame:
// outside, beginning, inside a segment).
const (
	BIOOutside = 0
	BIOBegin   = 1
	BIOInside  = 2
)

// Thresholds of the slp-2023 release (sign_language_segmentation/bin.py at
// tag v2023.0.3: probs_to_segments(probs["sign"], 60, 50) and
// probs_to_segments(probs["sentence"], 90, 90)), on probabilities ×100.
const (
	SLPSignBegin       = 60
	SLPSignOutside     = 50
	SLPSentenceBegin   = 90
	SLPSentenceOutside = 90
)

// bioInsideFallback is the fixed I threshold (×100) of the project's
// fallback decoding, used when no frame's B passes its threshold.
const bioInsideFallback = 50

// BIOThresholds are the thresholds of DecodeBIO, on probabilities ×100
// rounded to integers (the 2023 project's scale).
type BIOThresholds struct {
	Begin   float64 // a frame whose B is above it starts a segment
	Outside float64 // a frame whose O is above it ends one
}

// SLPSignThresholds returns the 2023 release's thresholds for signs.
func SLPSignThresholds() BIOThresholds {
	return BIOThresholds{Begin: SLPSignBegin, Outside: SLPSignOutside}
}

// SLPSentenceThresholds returns the 2023 release's thresholds for
// sentences.
func SLPSentenceThresholds() BIOThresholds {
	return BIOThresholds{Begin: SLPSentenceBegin, Outside: SLPSentenceOutside}
}

// BIOProbabilities turns log-probabilities (the model's outputs) into
// probabilities, element by element.
func BIOProbabilities(logp []float32) []float32 {
	p := make([]float32, len(logp))
	for i, v := range logp {
		p[i] = float32(math.Exp(float64(v)))
	}
	return p
}

// DecodeBIO turns per-frame BIO probabilities (probs [T][3] row-major, class
// order O, B, I) into segments, as the 2023 project's probs_to_segments
// does:
//
//   - every probability becomes round(p·100) (float32, halves to even, as
//     numpy);
//   - if no frame has B ≥ th.Begin, the segments are the runs that start at
//     a frame with I > 50 and continue until a frame with I < 50;
//   - otherwise a frame with B > th.Begin starts a segment; once a later
//     frame has B < th.Begin, the segment ends before the first frame with
//     B > th.Begin (which starts the next segment at once) or O >
//     th.Outside; a segment still open at the end runs to the last frame.
//
// Spans are FrameSpan [Start, End): the project's inclusive end e is End =
// e+1 (its open last segment, whose end it reports as T, ends at T too).
// Confidence is the mean over the span's frames of 1 − P(O).
func DecodeBIO(probs []float32, th BIOThresholds) ([]FrameSpan, error) {
	if len(probs)%3 != 0 {
		return nil, fmt.Errorf("decode BIO: %d probabilities are not 3 per frame", len(probs))
	}
	T := len(probs) / 3
	pct := make([]float64, len(probs))
	for i, p := range probs {
		pct[i] = math.RoundToEven(float64(p * 100)) // the product in float32, as numpy does
	}
	at := func(t, c int) float64 { return pct[3*t+c] }
	var spans []FrameSpan
	emit := func(start, end int) { // end exclusive
		var s float64
		for t := start; t < end; t++ {
			s += 1 - float64(probs[3*t+BIOOutside])
		}
		spans = append(spans, FrameSpan{Start: start, End: end, Confidence: s / float64(end-start)})
	}
	anyBegin := false
	for t := 0; t < T; t++ {
		if !(at(t, BIOBegin) < th.Begin) {
			anyBegin = true
			break
		}
	}
	if !anyBegin {
		for t := 0; t < T; {
			if !(at(t, BIOInside) > bioInsideFallback) {
				t++
				continue
			}
			end := T
			for j := t + 1; j < T; j++ {
				if at(j, BIOInside) < bioInsideFallback {
					end = j
					break
				}
			}
			emit(t, end)
			t = end
		}
		return spans, nil
	}
	start, passed := -1, false
	for t := 0; t < T; t++ {
		b, o := at(t, BIOBegin), at(t, BIOOutside)
		switch {
		case start < 0:
			if b > th.Begin {
				start = t
			}
		case passed:
			if b > th.Begin || o > th.Outside {
				emit(start, t)
				start, passed = t, false
				if o > th.Outside {
					start = -1
				}
			}
		case b < th.Begin:
			passed = true
		}
	}
	if start >= 0 {
		emit(start, T)
	}
	return spans, nil
}
