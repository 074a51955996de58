package segment

import (
	"context"
	"math"
	"slices"
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
	// KeypointDim is the size of a keypoint feature row.
	KeypointDim = kpDim

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
	handsHoldSec     = 0.15 // still (below handsStillSpeed) this long inside signing, the hands hold
	handsCitationSec = 2.0  // the longest citation-form sign: longer pieces between holds hold several
	handsStillSpeed  = 0.25 // shoulder widths per second: slower than this …
	handsStillSec    = 1.0  // … for this long, a hand rests
	handsRestLine    = 0.8  // a hand below this share of the way from shoulders to hips rests
	handsFoldedGap   = 0.3  // shoulder widths (about a hand's breadth): hands closer than this …
	handsFoldedLine  = 0.5  // … and below this share of the way, held still, are folded: they rest
	handsMinSignSec  = 0.12 // shorter pieces are not signs
	handsDilateFrame = 1    // boundary frames on each side of a minimum, as for changepoints
)

// handsScorer is the training-free keypoint rule behind the "hands" model:
// boundaries are the clear dips of the hands' speed, and rests are never
// signs.
type handsScorer struct {
	opts decode.Options // only boundaries above opts.Threshold delimit signs
}

func newHandsScorer(_ *Model, dec Decoding, _ Options) (scorer, error) {
	return &handsScorer{opts: dec.decodeOptions()}, nil
}

func (h *handsScorer) close() {}

func (h *handsScorer) segment(_ context.Context, f *Features) (*Result, error) {
	r := handsScores(f.Data, f.Rows(), f.FPS, h.opts.Threshold)
	// Keypoint rows are frames (offset 0), so the scores are per frame.
	return thresholded(f, r.boundary, func(signs []decode.FrameSpan) []decode.FrameSpan { return r.keep(signs, f.FPS) }, h.opts)
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
//  1. Each hand's speed is measured in shoulder widths per second after
//     smoothing over handsSmoothSec: the speed of its wrist plus that of
//     its 21 points relative to the wrist (the change of hand shape); see
//     handTrack.
//  2. A hand rests while it is not found, hangs below the rest line (80 %
//     of the way from the shoulders to the hips), stays slower than
//     handsStillSpeed for handsStillSec, or is folded with the other hand
//     (both still, closer than handsFoldedGap, below half-way from the
//     shoulders to the hips: a posture of rest however brief); the frames
//     where a hand does not rest form signing stretches, and the signing
//     speed is the summed speed of the hands that do not rest.
//  3. Inside a stretch, a hold (the signing speed below handsStillSpeed
//     for at least handsHoldSec) ends a sign: citation-form signs end in
//     one. Fluent signing mostly drops holds, so a stretch without holds,
//     and a piece between holds longer than handsCitationSec, is split at
//     the dips of its moving part (still frames at its ends, such as the
//     hold that ends it, have only noise): local minima of the speed whose
//     clarity, 1 − speed / the lower of the highest speeds within
//     handsPeakSec on each side, is above threshold (the model's, 0.2:
//     neighbouring signs in fluent signing run into each other, so the
//     speed between them falls only a little); of two dips closer than
//     handsMinGapSec the clearer stays. In a stretch without holds the
//     signs lie between its first and last clear dip (the way into and out
//     of the signing space, from and to a rest, is not a sign; where the
//     video starts or ends mid-signing there is none), or cover the whole
//     stretch when it has fewer than two; after a stretch's last hold, the
//     hands going down to rest are not a sign.
func handsScores(kp []float32, T int, fps, threshold float64) handsResult {
	res := handsResult{boundary: make([]float32, T)}
	if T == 0 || fps <= 0 {
		return res
	}
	// The scale: the median shoulder width over the frames that show both
	// shoulders. Without it there is no signer to measure.
	var widths []float64
	for t := range T {
		lx, ly, lc := keypoint(kp, t, kpLeftShoulder)
		rx, ry, rc := keypoint(kp, t, kpRightShoulder)
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
	lowered := make([]bool, T) // both hands below the rest line or not found
	for t := range lowered {
		lowered[t] = true
	}
	var pos [2][][]float64
	var v [2][]float64
	for i, hand := range []struct{ wrist, first int }{{kpLeftWrist, kpLeftHand}, {kpRightWrist, kpRightHand}} {
		pos[i], v[i] = handTrack(kp, T, fps, scale, hand.wrist, hand.first)
	}
	// Hands folded together below the chest rest, however briefly.
	folded := make([]bool, T)
	for t := range T {
		l, r := pos[0][t], pos[1][t]
		folded[t] = l != nil && r != nil && dist(l, r) < handsFoldedGap*scale &&
			min(l[1], r[1]) > bodyLine(kp, t, handsFoldedLine) &&
			v[0][t] < handsStillSpeed && v[1][t] < handsStillSpeed
	}
	for i := range pos {
		rest := make([]bool, T)
		for t := range T {
			rest[t] = pos[i][t] == nil || pos[i][t][1] > bodyLine(kp, t, handsRestLine) || folded[t]
			lowered[t] = lowered[t] && rest[t]
		}
		markStill(rest, v[i], int(math.Round(handsStillSec*fps)))
		for t := range T {
			if !rest[t] {
				signing[t] = true
				speed[t] += v[i][t]
			}
		}
	}

	st := stretchRule{speed: speed, boundary: res.boundary, fps: fps, threshold: threshold, frames: T}
	forRuns(signing, func(a, b int) {
		res.regions = append(res.regions, st.apply(a, b, b < T && lowered[b]))
	})
	return res
}

// handTrack returns where one hand is in each frame (the mean of its 21
// points, or the pose's wrist when the hand was not found; nil when
// neither was) and its speed in shoulder widths (scale pixels) per second:
// the speed of its wrist (the hand model's, else the pose's: one point
// either way, so that a hand found in one frame and not the next does not
// jump), smoothed over handsSmoothSec, plus the speed of its 21 points
// relative to the wrist (the change of hand shape).
func handTrack(kp []float32, T int, fps, scale float64, wrist, first int) ([][]float64, []float64) {
	pos := make([][]float64, T)
	track := make([][]float64, T)
	shape := make([][]float64, T)
	for t := range T {
		if _, _, c := keypoint(kp, t, first); c >= handsFound {
			wx, wy, _ := keypoint(kp, t, first)
			track[t] = []float64{wx, wy}
			var sx, sy float64
			sh := make([]float64, 0, 2*kpHandLen)
			for i := range kpHandLen {
				x, y, _ := keypoint(kp, t, first+i)
				sx += x
				sy += y
				sh = append(sh, x-wx, y-wy)
			}
			pos[t] = []float64{sx / kpHandLen, sy / kpHandLen}
			shape[t] = sh
		} else if x, y, c := keypoint(kp, t, wrist); c >= handsFound {
			pos[t] = []float64{x, y}
			track[t] = pos[t]
		}
	}
	pos = smoothTracks(pos, handsSmoothSec*fps)
	track = smoothTracks(track, handsSmoothSec*fps)
	shape = smoothTracks(shape, handsSmoothSec*fps)
	v := make([]float64, T)
	for t := 1; t+1 < T; t++ {
		if track[t-1] == nil || track[t] == nil || track[t+1] == nil {
			continue
		}
		v[t] = dist(track[t+1], track[t-1]) * fps / 2 / scale
		if shape[t-1] != nil && shape[t+1] != nil {
			var sum float64
			for i := 0; i < 2*kpHandLen; i += 2 {
				sum += math.Hypot(shape[t+1][i]-shape[t-1][i], shape[t+1][i+1]-shape[t-1][i+1])
			}
			v[t] += sum / kpHandLen * fps / 2 / scale
		}
	}
	return pos, v
}

// stretchRule finds the boundaries of one signing stretch from the signing
// speed, writing their clarity into boundary.
type stretchRule struct {
	speed     []float64
	boundary  []float32
	fps       float64
	threshold float64
	frames    int // of the video
}

// apply returns the region of the stretch [a, b) in which signs lie;
// lowered says that the stretch ends with the hands lowered (not merely
// still, or the video's end). Citation-form signs end in a hold, which
// fluent signing mostly drops (hold deletion): so when the stretch has
// holds, each hold ends a sign, and only pieces between holds longer than
// handsCitationSec are split further at their clear dips; a stretch
// without holds is split at its clear dips alone.
func (st stretchRule) apply(a, b int, lowered bool) handsRegion {
	holds := st.holds(a, b)
	if len(holds) == 0 {
		clear := st.dips(a, b)
		if len(clear) < 2 {
			return handsRegion{start: a, end: b, whole: true}
		}
		// The way into and out of the signing space is not a sign; where
		// the video starts or ends during signing there is none.
		r := handsRegion{start: clear[0], end: clear[len(clear)-1]}
		if a == 0 {
			r.start = a
		}
		if b == st.frames {
			r.end = b
		}
		return r
	}
	// A piece is long when the holds around it are more than
	// handsCitationSec apart, centre to centre (the length of a hold does
	// not matter); the cuts are where the holds end.
	mids := append(append([]int{a}, middles(holds)...), b)
	cuts := append(append([]int{a}, ends(holds)...), b)
	region := handsRegion{start: a, end: b}
	if lowered {
		// After the last hold the hands only go down to rest.
		region.end = cuts[len(cuts)-2]
	}
	for i := 0; i+1 < len(cuts); i++ {
		if float64(mids[i+1]-mids[i]) <= handsCitationSec*st.fps {
			continue
		}
		// Fluent signing: as in a stretch without holds, the way in before
		// the first dip and the way out after the last are not signs.
		clear := st.dips(cuts[i], cuts[i+1])
		if len(clear) > 0 && i == 0 && a > 0 {
			region.start = clear[0]
		}
		if len(clear) > 0 && i+2 == len(cuts) && b < st.frames {
			region.end = clear[len(clear)-1]
		}
	}
	for _, c := range cuts[1 : len(cuts)-1] {
		st.mark(c, 1)
	}
	return region
}

// span is a run of frames [start, end).
type span struct{ start, end int }

func middles(s []span) []int {
	m := make([]int, len(s))
	for i, h := range s {
		m[i] = (h.start + h.end) / 2
	}
	return m
}

func ends(s []span) []int {
	e := make([]int, len(s))
	for i, h := range s {
		e[i] = h.end
	}
	return e
}

// holds returns the holds inside (a, b): runs of at least handsHoldSec in
// which the signing speed stays below handsStillSpeed (a longer run is a
// rest and has ended the stretch). A hold is the last part of its sign, so
// the next sign starts with the movement after it.
func (st stretchRule) holds(a, b int) []span {
	minLen := max(1, int(math.Ceil(handsHoldSec*st.fps-1e-9)))
	slow := make([]bool, b-a)
	for i := range slow {
		slow[i] = st.speed[a+i] < handsStillSpeed
	}
	var holds []span
	forRuns(slow, func(x, y int) {
		if x > 0 && a+y < b && y-x >= minLen {
			holds = append(holds, span{a + x, a + y})
		}
	})
	return holds
}

// dips marks the speed minima of the moving part of [a, b) with their
// clarity, 1 − speed / the lower of the highest speeds within handsPeakSec
// on each side; of two minima closer than handsMinGapSec the clearer
// stays. It returns the marked minima clearer than the threshold, in
// order. The still frames at either end (the hold that ends a piece, hands
// still as the video starts) are not searched: their minima are noise.
func (st stretchRule) dips(a, b int) []int {
	speed := st.speed
	for a < b && speed[a] < handsStillSpeed {
		a++
	}
	for b > a && speed[b-1] < handsStillSpeed {
		b--
	}
	peak := max(1, int(math.Round(handsPeakSec*st.fps)))
	minGap := max(1, int(math.Round(handsMinGapSec*st.fps)))
	type minimum struct {
		t       int
		clarity float64
	}
	var mins []minimum
	for i := a + 1; i+1 < b; i++ {
		if !(speed[i] < speed[i-1]) {
			continue
		}
		// A minimum may be a plateau: take its middle.
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
	var kept, clear []int
	for _, m := range mins {
		if slices.ContainsFunc(kept, func(k int) bool { return abs(k-m.t) < minGap }) {
			continue
		}
		kept = append(kept, m.t)
		st.mark(m.t, m.clarity)
		if m.clarity > st.threshold {
			clear = append(clear, m.t)
		}
	}
	sort.Ints(clear)
	return clear
}

// mark gives the boundary at frame t its clarity, on handsDilateFrame
// frames before it and on t itself, as for changepoints.
func (st stretchRule) mark(t int, clarity float64) {
	for f := max(t-handsDilateFrame, 0); f <= t; f++ {
		st.boundary[f] = float32(clarity)
	}
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

// signerFrames counts the keypoint rows, of T, that show both shoulders.
func signerFrames(kp []float32, T int) int {
	n := 0
	for t := range T {
		_, _, lc := keypoint(kp, t, kpLeftShoulder)
		_, _, rc := keypoint(kp, t, kpRightShoulder)
		if lc >= handsFound && rc >= handsFound {
			n++
		}
	}
	return n
}

// keypoint returns x, y and the confidence of point i in row t.
func keypoint(kp []float32, t, i int) (x, y, c float64) {
	o := (t*kpPoints + i) * kpValues
	return float64(kp[o]), float64(kp[o+1]), float64(kp[o+3])
}

// bodyLine is the image row at share of the way from the shoulders down to
// the hips in frame t (as the pose model places them, visible or not);
// +Inf when the pose has no shoulders.
func bodyLine(kp []float32, t int, share float64) float64 {
	_, ls, lc := keypoint(kp, t, kpLeftShoulder)
	_, rs, rc := keypoint(kp, t, kpRightShoulder)
	_, lh, _ := keypoint(kp, t, kpLeftHip)
	_, rh, _ := keypoint(kp, t, kpRightHip)
	if lc < handsFound || rc < handsFound || (lh == 0 && rh == 0) {
		return math.Inf(1)
	}
	shoulders, hips := (ls+rs)/2, (lh+rh)/2
	return shoulders + share*(hips-shoulders)
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
