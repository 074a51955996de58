package segment

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/signseg/signseg/segment/decode"
)

// Keypoint features (FeaturesKeypoints) hold, per frame, 75 points of
// MediaPipe Holistic in this order: the 33 pose landmarks, the 21 landmarks
// of the signer's left hand, the 21 of the right hand. Each point has four
// values: x and y in video pixels (y down), z as the model gives it, and a
// confidence in [0, 1] (visibility for pose points, the hand's presence for
// hand points); a missing point is all zeros.
const (
	// FeaturesKeypoints is the feature kind of body and hand keypoints.
	FeaturesKeypoints = "keypoints"

	kpValues    = 4
	kpPoints    = 75
	kpDim       = kpPoints * kpValues
	kpLeftHand  = 33
	kpRightHand = 54
	kpHandLen   = 21

	kpLeftShoulder, kpRightShoulder = 11, 12
	kpLeftWrist, kpRightWrist       = 15, 16
	kpLeftHip, kpRightHip           = 23, 24
)

// The hands rule's parameters. They are physical (seconds, shoulder
// widths), fixed once for every video, and were set before the rule was
// run on real signing; see handsScores for the rule.
const (
	handsFound       = 0.5  // a point or hand counts when its confidence is at least this
	handsSmoothSec   = 0.08 // Gaussian σ of the position smoothing
	handsPeakSec     = 0.5  // the peaks around a minimum are searched this far on each side
	handsMinGapSec   = 0.2  // of two boundaries closer than this the clearer is kept
	handsStillSpeed  = 0.25 // shoulder widths per second: slower than this …
	handsStillSec    = 1.0  // … for this long, a hand rests
	handsRestLine    = 0.8  // a hand below this share of the way from shoulders to hips rests
	handsMinSignSec  = 0.12 // shorter pieces are not signs
	handsDilateFrame = 1    // boundary frames on each side of a minimum, as for changepoints
)

// handsScorer is the training-free keypoint rule behind the "hands" model:
// boundaries are the clear dips of the hands' speed, and rests are never
// signs.
type handsScorer struct {
	fps       float64
	threshold float64 // the decoder's: only boundaries above it delimit signs
}

func newHandsScorer(m *Model, dec Decoding, _ Options) (scorer, error) {
	if m.Features.Kind != FeaturesKeypoints {
		return nil, &ConfigError{Model: m.Name, Err: fmt.Errorf("decoder %q needs keypoint features; this model's are %q", DecoderHands, m.Features.Kind)}
	}
	return &handsScorer{fps: m.FPS(), threshold: *dec.Threshold}, nil
}

func (h *handsScorer) close() {}

func (h *handsScorer) score(_ context.Context, f *Features) ([]float32, func([]decode.FrameSpan) []decode.FrameSpan, error) {
	if f.Dim != kpDim {
		return nil, nil, fmt.Errorf("the hands rule needs keypoints (%d values per frame), got %d", kpDim, f.Dim)
	}
	r := handsScores(f.Data, f.Rows(), h.fps, h.threshold)
	keep := func(signs []decode.FrameSpan) []decode.FrameSpan {
		// Scores are per feature row; keypoint rows are frames (offset 0).
		return r.keep(signs, h.fps)
	}
	return r.boundary, keep, nil
}

// handsResult is what the rule finds in one video.
type handsResult struct {
	boundary []float32 // per frame: the clarity of a boundary there, else 0
	regions  []handsRegion
}

// handsRegion is where signs may lie in one signing stretch: frames
// [start, end), as one sign when whole.
type handsRegion struct {
	start, end int
	whole      bool
}

// handsScores applies the hands rule to T rows of keypoints (kpDim values
// each) at fps:
//
//  1. Each hand's position (the mean of its 21 points, or the pose's wrist
//     when the hand was not found) is smoothed over handsSmoothSec, and its
//     speed, plus the speed of its 21 points relative to the wrist (the
//     change of hand shape), is measured in shoulder widths per second.
//  2. A hand rests while it is not found, hangs below the rest line (80 %
//     of the way from the shoulders to the hips) or stays slower than
//     handsStillSpeed for handsStillSec; the frames where a hand does not
//     rest form signing stretches, and the signing speed is the summed
//     speed of the hands that do not rest.
//  3. A boundary is a local minimum of the signing speed whose clarity,
//     1 − speed / the lower of the highest speeds within handsPeakSec on
//     each side, is its score (the decoder keeps those above threshold,
//     0.5 by default); of two boundaries closer than handsMinGapSec the
//     clearer stays. Signs lie between the first and the last boundary of a
//     stretch (the way into and out of the signing space is not a sign), or
//     cover the whole stretch when it has fewer than two.
func handsScores(kp []float32, T int, fps, threshold float64) handsResult {
	res := handsResult{boundary: make([]float32, T)}
	if T == 0 || fps <= 0 {
		return res
	}
	pt := func(t, i int) (x, y, c float64) {
		o := (t*kpPoints + i) * kpValues
		return float64(kp[o]), float64(kp[o+1]), float64(kp[o+3])
	}
	// The scale: the median shoulder width over the frames that show both
	// shoulders. Without it there is no signer to measure.
	var widths []float64
	for t := range T {
		lx, ly, lc := pt(t, kpLeftShoulder)
		rx, ry, rc := pt(t, kpRightShoulder)
		if lc >= handsFound && rc >= handsFound {
			widths = append(widths, math.Hypot(lx-rx, ly-ry))
		}
	}
	if len(widths) == 0 {
		return res
	}
	sort.Float64s(widths)
	scale := widths[len(widths)/2]
	if scale <= 0 {
		return res
	}

	speed := make([]float64, T) // signing speed, shoulder widths per second
	signing := make([]bool, T)
	for _, hand := range []struct{ wrist, first int }{{kpLeftWrist, kpLeftHand}, {kpRightWrist, kpRightHand}} {
		// Position (x, y) and shape (21 points relative to the wrist, x and
		// y), with a presence flag per frame.
		pos := make([][]float64, T)
		shape := make([][]float64, T)
		for t := range T {
			if _, _, c := pt(t, hand.first); c >= handsFound {
				wx, wy, _ := pt(t, hand.first)
				var sx, sy float64
				sh := make([]float64, 0, 2*kpHandLen)
				for i := range kpHandLen {
					x, y, _ := pt(t, hand.first+i)
					sx += x
					sy += y
					sh = append(sh, x-wx, y-wy)
				}
				pos[t] = []float64{sx / kpHandLen, sy / kpHandLen}
				shape[t] = sh
			} else if x, y, c := pt(t, hand.wrist); c >= handsFound {
				pos[t] = []float64{x, y}
			}
		}
		pos = smoothTracks(pos, handsSmoothSec*fps)
		shape = smoothTracks(shape, handsSmoothSec*fps)
		v := make([]float64, T)
		for t := 1; t+1 < T; t++ {
			if pos[t-1] == nil || pos[t] == nil || pos[t+1] == nil {
				continue
			}
			v[t] = dist(pos[t+1], pos[t-1]) * fps / 2 / scale
			if shape[t-1] != nil && shape[t+1] != nil {
				var sum float64
				for i := 0; i < 2*kpHandLen; i += 2 {
					sum += math.Hypot(shape[t+1][i]-shape[t-1][i], shape[t+1][i+1]-shape[t-1][i+1])
				}
				v[t] += sum / kpHandLen * fps / 2 / scale
			}
		}
		rest := make([]bool, T)
		for t := range T {
			rest[t] = pos[t] == nil || pos[t][1] > restLine(kp, t)
		}
		markStill(rest, v, int(math.Round(handsStillSec*fps)))
		for t := range T {
			if !rest[t] {
				signing[t] = true
				speed[t] += v[t]
			}
		}
	}

	peak := max(1, int(math.Round(handsPeakSec*fps)))
	minGap := max(1, int(math.Round(handsMinGapSec*fps)))
	forRuns(signing, func(a, b int) {
		type minimum struct {
			t       int
			clarity float64
		}
		var mins []minimum
		for i := a + 1; i+1 < b; i++ {
			if !(speed[i] < speed[i-1]) {
				continue
			}
			// A minimum may be a plateau (a hold): take its middle.
			j := i
			for j+1 < b && speed[j+1] == speed[i] {
				j++
			}
			if j+1 == b || speed[j+1] < speed[i] {
				continue
			}
			t := (i + j) / 2
			left, right := 0.0, 0.0
			for u := max(a, t-peak); u < t; u++ {
				left = max(left, speed[u])
			}
			for u := t + 1; u < min(b, t+peak+1); u++ {
				right = max(right, speed[u])
			}
			if lower := min(left, right); lower > 0 {
				mins = append(mins, minimum{t, 1 - speed[t]/lower})
			}
		}
		sort.SliceStable(mins, func(i, j int) bool { return mins[i].clarity > mins[j].clarity })
		var kept []int
		for _, m := range mins {
			near := false
			for _, k := range kept {
				if abs(k-m.t) < minGap {
					near = true
					break
				}
			}
			if !near {
				kept = append(kept, m.t)
				for f := max(m.t-handsDilateFrame, a); f < min(m.t+handsDilateFrame, b); f++ {
					res.boundary[f] = float32(m.clarity)
				}
			}
		}
		// Only boundaries the decoder will keep delimit the signs.
		var clear []int
		for _, k := range kept {
			if float64(res.boundary[k]) > threshold {
				clear = append(clear, k)
			}
		}
		sort.Ints(clear)
		if len(clear) >= 2 {
			res.regions = append(res.regions, handsRegion{start: clear[0], end: clear[len(clear)-1]})
		} else {
			res.regions = append(res.regions, handsRegion{start: a, end: b, whole: true})
		}
	})
	return res
}

// keep cuts the decoded signs to the signing regions (a whole region is one
// sign), drops pieces shorter than handsMinSignSec, and gives each sign the
// clarity of its less clear boundary as confidence (1 where it meets a
// rest).
func (r handsResult) keep(signs []decode.FrameSpan, fps float64) []decode.FrameSpan {
	minLen := max(1, int(math.Ceil(handsMinSignSec*fps)))
	clarity := func(f int) float64 {
		c := 0.0
		for u := max(f-1, 0); u <= f && u < len(r.boundary); u++ {
			c = max(c, float64(r.boundary[u]))
		}
		return c
	}
	var out []decode.FrameSpan
	for _, reg := range r.regions {
		if reg.whole {
			if reg.end-reg.start >= minLen {
				out = append(out, decode.FrameSpan{Start: reg.start, End: reg.end, Confidence: 1})
			}
			continue
		}
		for _, s := range signs {
			a, b := max(s.Start, reg.start), min(s.End, reg.end)
			if b-a < minLen {
				continue
			}
			conf := 1.0
			if a > reg.start {
				conf = min(conf, clarity(a))
			}
			if b < reg.end {
				conf = min(conf, clarity(b))
			}
			out = append(out, decode.FrameSpan{Start: a, End: b, Confidence: conf})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// restLine is the image row below which a hand rests in frame t: 80 % of
// the way from the shoulders down to the hips (as the pose model places
// them, visible or not); +Inf when the pose has no shoulders.
func restLine(kp []float32, t int) float64 {
	y := func(i int) (float64, float64) {
		o := (t*kpPoints + i) * kpValues
		return float64(kp[o+1]), float64(kp[o+3])
	}
	ls, lc := y(kpLeftShoulder)
	rs, rc := y(kpRightShoulder)
	lh, _ := y(kpLeftHip)
	rh, _ := y(kpRightHip)
	if lc < handsFound || rc < handsFound || (lh == 0 && rh == 0) {
		return math.Inf(1)
	}
	shoulders, hips := (ls+rs)/2, (lh+rh)/2
	return shoulders + handsRestLine*(hips-shoulders)
}

// markStill sets rest over every run of at least n frames in which the
// hand moves slower than handsStillSpeed.
func markStill(rest []bool, v []float64, n int) {
	slow := make([]bool, len(v))
	for t := range v {
		slow[t] = v[t] < handsStillSpeed
	}
	forRuns(slow, func(a, b int) {
		if b-a >= max(n, 1) {
			for t := a; t < b; t++ {
				rest[t] = true
			}
		}
	})
}

// smoothTracks smooths each coordinate of a track over time with a
// Gaussian of sigma frames, using only the frames where the track exists
// (nil rows stay nil).
func smoothTracks(track [][]float64, sigma float64) [][]float64 {
	if sigma < 0.5 {
		return track
	}
	reach := int(math.Ceil(3 * sigma))
	w := make([]float64, reach+1)
	for i := range w {
		w[i] = math.Exp(-float64(i*i) / (2 * sigma * sigma))
	}
	out := make([][]float64, len(track))
	for t, row := range track {
		if row == nil {
			continue
		}
		acc := make([]float64, len(row))
		var total float64
		for u := max(t-reach, 0); u <= min(t+reach, len(track)-1); u++ {
			if track[u] == nil || len(track[u]) != len(row) {
				continue
			}
			wt := w[abs(u-t)]
			total += wt
			for i, x := range track[u] {
				acc[i] += wt * x
			}
		}
		for i := range acc {
			acc[i] /= total
		}
		out[t] = acc
	}
	return out
}

// forRuns calls f for every maximal run [a, b) of true values.
func forRuns(b []bool, f func(a, b int)) {
	for i := 0; i < len(b); {
		if !b[i] {
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] {
			j++
		}
		f(i, j)
		i = j
	}
}

func dist(a, b []float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
