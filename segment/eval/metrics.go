package eval

import (
	"container/heap"
	"fmt"
	"math"
	"slices"
)

// This file reproduces the evaluation of Renz et al. (ICASSP 2021), eval.py
// and Trainer.predict of RenzKa/sign-segmentation, including the quirks the
// published numbers depend on (see ../shared/specs/paper-pipeline.md §7).
// Frame labels are 0 (sign) and 1 (boundary).

// LabelRun is a maximal run of equal frame labels, frames [Start, End).
type LabelRun struct {
	Label      int
	Start, End int
}

// LabelRuns returns the maximal runs of equal value in labels whose value is
// not one of background, in order. It is the reference's
// get_labels_start_end_time; unlike it, an empty sequence has no runs
// instead of being an error.
func LabelRuns(labels []int, background ...int) []LabelRun {
	isBG := func(v int) bool {
		for _, b := range background {
			if v == b {
				return true
			}
		}
		return false
	}
	var runs []LabelRun
	for i := 0; i < len(labels); {
		j := i + 1
		for j < len(labels) && labels[j] == labels[i] {
			j++
		}
		if !isBG(labels[i]) {
			runs = append(runs, LabelRun{Label: labels[i], Start: i, End: j})
		}
		i = j
	}
	return runs
}

// BoundaryRuns returns the boundary runs of labels (background 0 and −100,
// as the reference's boundary metric).
func BoundaryRuns(labels []int) []LabelRun { return LabelRuns(labels, 0, -100) }

// SignRuns returns the sign runs of labels (background 1 and −100, as the
// reference's sign metric).
func SignRuns(labels []int) []LabelRun { return LabelRuns(labels, 1, -100) }

// DilateBoundaries returns a copy of labels with each boundary widened the
// way the reference's dilate_boundaries does it: scanning left to right over
// the labels padded with two zeros on each side, a 1 followed by two 0s sets
// the next frame to 1 (and the following position is skipped), and a 1
// preceded by two 0s sets the previous frame to 1. The reference evaluates
// boundaries against these labels (gt_eval); dilate the full-length labels
// before cutting them to the predicted range.
func DilateBoundaries(labels []int) []int {
	n := len(labels)
	x := make([]int, n+4)
	copy(x[2:], labels)
	skip := false
	for j := 2; j < n+2; j++ {
		if skip {
			skip = false
			continue
		}
		if x[j] == 1 && x[j+1] == 0 && x[j+2] == 0 {
			x[j+1] = 1
			skip = true
		}
		if x[j] == 1 && x[j-1] == 0 && x[j-2] == 0 {
			x[j-1] = 1
		}
	}
	out := make([]int, n)
	copy(out, x[2:n+2])
	return out
}

// CutEndpoints returns a copy of pred with the reference's evaluation-time
// cut_endpoints applied. It needs the dilated ground truth, so it is for
// evaluation only; DecodeOptions.DropEdgeBoundaries is its inference form.
//
// End: if the last two predicted frames hold a boundary and the last four
// gtEval frames hold none, boundary frames are cleared walking back from the
// last frame (down to frame 1) until the first sign frame before the last
// two positions. Start: if the first two predicted frames hold a boundary
// and the first four gtEval frames hold none, boundary frames are cleared
// walking forward from frame 0 until a sign frame that comes after a cleared
// frame or lies beyond frame 2.
func CutEndpoints(pred, gtEval []int) []int {
	p := slices.Clone(pred)
	n := len(p)
	sum := func(x []int) int {
		s := 0
		for _, v := range x {
			s += v
		}
		return s
	}
	if sum(p[max(n-2, 0):]) > 0 && sum(gtEval[max(len(gtEval)-4, 0):]) == 0 {
		for j := n - 1; j > 0; j-- {
			if p[j] != 0 {
				p[j] = 0
			} else if j < n-2 {
				break
			}
		}
	}
	if sum(p[:min(2, n)]) > 0 && sum(gtEval[:min(4, len(gtEval))]) == 0 {
		cleared := false
		for j := range p {
			if p[j] != 0 {
				p[j] = 0
				cleared = true
			} else if j > 2 || cleared {
				break
			}
		}
	}
	return p
}

// boundaryThresholds are the mF1B distance thresholds in frames.
var boundaryThresholds = [4]float64{1, 2, 3, 4}

// signThresholds are the mF1S IoU thresholds: NumPy's
// arange(0.4, 0.76, 0.05), exactly as float64 (note 0.6499999999999999).
var signThresholds = [8]float64{0.4, 0.45, 0.5, 0.55, 0.6, 0.6499999999999999, 0.7, 0.75}

// BoundaryThresholds returns the mF1B distance thresholds (1–4 frames).
func BoundaryThresholds() []float64 { return append([]float64(nil), boundaryThresholds[:]...) }

// SignThresholds returns the eight mF1S IoU thresholds exactly as the
// reference computes them (NumPy arange(0.4, 0.76, 0.05)).
func SignThresholds() []float64 { return append([]float64(nil), signThresholds[:]...) }

// Video holds one video's frame labels for Evaluate; all three have the
// same length and hold only 0 (sign) and 1 (boundary).
type Video struct {
	Name   string // used in error messages
	Pred   []int  // predicted labels (the reference applies CutEndpoints first)
	GT     []int  // reference labels, for the sign metrics
	GTEval []int  // dilated reference labels, for the boundary metrics and Acc
}

// NewVideo builds the reference's evaluation inputs for one video:
// pred covers frames [offset, offset+len(pred)) of a video whose full-length
// reference labels are gtFull. GTEval is DilateBoundaries(gtFull) cut to that
// range (dilating before cutting, as the reference does), GT is gtFull cut to
// it, and Pred is CutEndpoints(pred, GTEval). The paper uses offset 8 and
// len(pred) = len(gtFull) − 15; labels that cover the whole video use
// offset 0 and equal lengths.
func NewVideo(name string, pred, gtFull []int, offset int) (Video, error) {
	if offset < 0 || offset+len(pred) > len(gtFull) {
		return Video{}, fmt.Errorf("evaluate %s: %d predicted frames from frame %d do not fit in %d reference frames; give labels for the same video and frame rate", name, len(pred), offset, len(gtFull))
	}
	gtEval := DilateBoundaries(gtFull)[offset : offset+len(pred)]
	gt := slices.Clone(gtFull[offset : offset+len(pred)])
	return Video{Name: name, Pred: CutEndpoints(pred, gtEval), GT: gt, GTEval: gtEval}, nil
}

// ThresholdScore is the score at one threshold, counts summed over videos.
// Precision, Recall and F1 are percentages; a 0/0 ratio counts as 0.
type ThresholdScore struct {
	Threshold  float64
	TP, FP, FN int
	Precision  float64
	Recall     float64
	F1         float64 // unrounded for boundaries; rounded to 2 decimals for signs, as the reference does
}

// Report holds the paper's metrics over a set of videos.
type Report struct {
	Videos int
	Frames int

	// MF1B is the mean boundary F1 over distance thresholds 1–4 frames,
	// rounded to 2 decimals.
	MF1B float64
	// MF1S is the mean of the eight rounded sign F1 values (IoU thresholds
	// 0.40–0.75), not rounded again.
	MF1S float64
	// F1S holds the sign F1 at IoU 0.5 and 0.75.
	F1S [2]float64

	Boundary [4]ThresholdScore // per distance threshold
	Sign     [8]ThresholdScore // per IoU threshold

	MeanPrecisionB float64 // mean boundary precision over the 4 thresholds, rounded to 2 decimals
	MeanRecallB    float64 // mean boundary recall over the 4 thresholds, rounded to 2 decimals

	Acc  float64 // percentage of frames where Pred equals GTEval
	IoU  float64 // 100 × mean over videos of the mean matched sign IoU
	Dist float64 // mean over videos of the mean distance (frames) from a predicted boundary to the nearest reference boundary

	WidthBPred float64 // mean over videos of boundary frames per predicted boundary run
	WidthBGT   float64 // the same for GTEval

	BoundariesPred, BoundariesGT int // boundary runs in Pred and GTEval
	SignsPred, SignsGT           int // sign runs in Pred and GT
}

// Evaluate computes the paper's metrics over videos. TP, FP and FN are summed
// over videos before precision, recall and F1 (micro-averaging); the means of
// Dist, WidthB and IoU are over videos, so a single-video call gives the
// per-video numbers. The definitions follow the reference exactly, with
// these choices where it crashes or yields NaN: a video with predicted but no
// reference boundaries counts every prediction as a false positive and is
// left out of Dist; a video with neither predicted nor reference signs is
// left out of IoU; precision or recall over zero items is 0.
func Evaluate(videos []Video) (Report, error) {
	var r Report
	r.Videos = len(videos)
	var bTP, bFP, bFN [4]int
	var sTP, sFP, sFN [8]int
	var correct int
	var dists, widthPred, widthGT, ious []float64
	for _, v := range videos {
		if err := v.check(); err != nil {
			return Report{}, err
		}
		r.Frames += len(v.Pred)
		for i := range v.Pred {
			if v.Pred[i] == v.GTEval[i] {
				correct++
			}
		}

		// Boundaries, against the dilated labels.
		pr, gr := BoundaryRuns(v.Pred), BoundaryRuns(v.GTEval)
		r.BoundariesPred += len(pr)
		r.BoundariesGT += len(gr)
		widthPred = append(widthPred, boundaryWidth(v.Pred, len(pr)))
		widthGT = append(widthGT, boundaryWidth(v.GTEval, len(gr)))
		pp, gp := runCentres(pr), runCentres(gr)
		switch {
		case len(pp) == 0:
			dists = append(dists, 0)
		case len(gp) > 0:
			dists = append(dists, nearestMean(pp, gp))
		}
		matched := greedyMatch(len(pp), len(gp), func(i, j int) float64 { return -math.Abs(gp[j] - pp[i]) })
		for k, th := range boundaryThresholds {
			tp := 0
			for _, negd := range matched {
				if -negd <= th {
					tp++
				}
			}
			bTP[k] += tp
			bFP[k] += len(pp) - tp
			bFN[k] += len(gp) - tp
		}

		// Signs, against the undilated labels.
		ps, gs := SignRuns(v.Pred), SignRuns(v.GT)
		r.SignsPred += len(ps)
		r.SignsGT += len(gs)
		chosen := greedyMatch(len(ps), len(gs), func(i, j int) float64 { return hullIoU(ps[i], gs[j]) })
		for k, th := range signThresholds {
			tp := 0
			for _, iou := range chosen {
				if iou > th {
					tp++
				}
			}
			sTP[k] += tp
			sFP[k] += len(ps) - tp
			sFN[k] += len(gs) - tp
		}
		// The reference pads the matched IoUs with zeros for the unmatched
		// items, but counts max(remaining rows, remaining columns) minus the
		// number matched, so usually nothing is padded; reproduced.
		m := len(chosen)
		pad := max(len(ps)-m, len(gs)-m) - m
		if len(ps) == 0 {
			pad = len(gs)
		}
		for ; pad > 0; pad-- {
			chosen = append(chosen, 0)
		}
		if len(chosen) > 0 {
			ious = append(ious, npMean(chosen))
		}
	}

	var recalls, precisions []float64
	f1b := make([]float64, 4)
	for k, th := range boundaryThresholds {
		s := score(th, bTP[k], bFP[k], bFN[k])
		r.Boundary[k] = s
		f1b[k] = s.F1
		precisions = append(precisions, s.Precision)
		recalls = append(recalls, s.Recall)
	}
	r.MF1B = round2(npMean(f1b))
	r.MeanPrecisionB = round2(npMean(precisions))
	r.MeanRecallB = round2(npMean(recalls))

	f1s := make([]float64, 8)
	for k, th := range signThresholds {
		s := score(th, sTP[k], sFP[k], sFN[k])
		s.F1 = round2(s.F1)
		r.Sign[k] = s
		f1s[k] = s.F1
	}
	r.MF1S = npMean(f1s)
	r.F1S = [2]float64{f1s[2], f1s[7]}

	if r.Frames > 0 {
		r.Acc = 100 * float64(correct) / float64(r.Frames)
	}
	r.IoU = 100 * npMean(ious)
	r.Dist = npMean(dists)
	r.WidthBPred = npMean(widthPred)
	r.WidthBGT = npMean(widthGT)
	return r, nil
}

// check validates one video's labels.
func (v Video) check() error {
	name := v.Name
	if name == "" {
		name = "video"
	}
	if len(v.Pred) == 0 {
		return fmt.Errorf("evaluate %s: no frames; give at least one frame of labels", name)
	}
	if len(v.GT) != len(v.Pred) || len(v.GTEval) != len(v.Pred) {
		return fmt.Errorf("evaluate %s: %d predicted, %d reference and %d dilated reference frames; all must have the same length", name, len(v.Pred), len(v.GT), len(v.GTEval))
	}
	for _, c := range []struct {
		what   string
		labels []int
	}{{"predicted", v.Pred}, {"reference", v.GT}, {"dilated reference", v.GTEval}} {
		for i, l := range c.labels {
			if l != 0 && l != 1 {
				return fmt.Errorf("evaluate %s: %s label %d at frame %d; labels must be 0 (sign) or 1 (boundary)", name, c.what, l, i)
			}
		}
	}
	return nil
}

// score turns summed counts into a ThresholdScore, in the reference's float
// order: F1 = 2·(Pr·Re)/(Pr+Re)·100, 0 where undefined.
func score(th float64, tp, fp, fn int) ThresholdScore {
	s := ThresholdScore{Threshold: th, TP: tp, FP: fp, FN: fn}
	var pr, re float64
	if tp+fp > 0 {
		pr = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		re = float64(tp) / float64(tp+fn)
	}
	s.Precision, s.Recall = pr*100, re*100
	if tp > 0 {
		s.F1 = 2.0 * (pr * re) / (pr + re) * 100
	}
	return s
}

// round2 rounds to 2 decimals the way NumPy's round does (scale, round half
// to even, unscale): 28.565 gives 28.56.
func round2(x float64) float64 { return math.RoundToEven(x*100) / 100 }

// npMean is NumPy's mean of a float64 array (pairwise sum, then divide), so
// that the side metrics match the reference to the last bit. The mean of
// nothing is 0 (NumPy gives NaN).
func npMean(a []float64) float64 {
	if len(a) == 0 {
		return 0
	}
	return npSum(a) / float64(len(a))
}

// npSum is NumPy's pairwise summation: below 8 elements a plain loop, up to
// 128 eight interleaved partial sums, above that the two halves (split at a
// multiple of 8) summed recursively.
func npSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for k := range r {
				r[k] += a[i+k]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return npSum(a[:n2]) + npSum(a[n2:])
	}
}

// boundaryWidth is the reference's mean boundary width: boundary frames per
// boundary run, 0 without runs.
func boundaryWidth(labels []int, runs int) float64 {
	if runs == 0 {
		return 0
	}
	c := 0
	for _, l := range labels {
		if l == 1 {
			c++
		}
	}
	return float64(c) / float64(runs)
}

// runCentres returns (Start+End)/2 of each run: a 1-frame run at k sits at k+0.5.
func runCentres(runs []LabelRun) []float64 {
	c := make([]float64, len(runs))
	for i, r := range runs {
		c[i] = float64(r.End+r.Start) / 2
	}
	return c
}

// nearestMean is the mean over pred of the distance to the nearest of gt;
// both are sorted ascending and gt is not empty.
func nearestMean(pred, gt []float64) float64 {
	d := make([]float64, len(pred))
	j := 0
	for i, p := range pred {
		for j+1 < len(gt) && gt[j+1] <= p {
			j++
		}
		best := math.Abs(gt[j] - p)
		if j+1 < len(gt) {
			best = math.Min(best, math.Abs(gt[j+1]-p))
		}
		d[i] = best
	}
	return npMean(d)
}

// hullIoU is the reference's segment IoU: intersection over the hull of the
// two segments, which is negative for disjoint segments.
func hullIoU(a, b LabelRun) float64 {
	inter := min(a.End, b.End) - max(a.Start, b.Start)
	hull := max(a.End, b.End) - min(a.Start, b.Start)
	return 1.0 * float64(inter) / float64(hull)
}

// greedyMatch reproduces the reference's greedy one-to-one matching on the
// P×G matrix score(i, j): min(P, G) times, take the largest remaining entry
// (first row, then first column, on ties) and delete its row and column. It
// returns the chosen entries in order. Distances are matched by passing
// their negation.
//
// Each row keeps its best entry over the columns not yet taken; a row whose
// best column is taken is rescanned only when it reaches the top of the
// heap. Row maxima only decrease as columns go, so a fresh top entry is the
// global maximum, and ties resolve as in the reference because the heap
// orders equal values by row and each rescan keeps the first column.
func greedyMatch(P, G int, score func(i, j int) float64) []float64 {
	m := min(P, G)
	if m == 0 {
		return nil
	}
	taken := make([]bool, G)
	best := func(i int) rowBest {
		b := rowBest{row: i, col: -1}
		for j := 0; j < G; j++ {
			if taken[j] {
				continue
			}
			if v := score(i, j); b.col < 0 || v > b.val {
				b.val, b.col = v, j
			}
		}
		return b
	}
	h := make(rowHeap, P)
	for i := range h {
		h[i] = best(i)
	}
	heap.Init(&h)
	out := make([]float64, 0, m)
	for len(out) < m {
		top := h[0]
		if taken[top.col] {
			h[0] = best(top.row)
			heap.Fix(&h, 0)
			continue
		}
		out = append(out, top.val)
		taken[top.col] = true
		heap.Pop(&h)
	}
	return out
}

// rowBest is a row's best entry over the columns not yet taken.
type rowBest struct {
	val      float64
	row, col int
}

// rowHeap orders rows by value (largest first), then row index.
type rowHeap []rowBest

func (h rowHeap) Len() int { return len(h) }
func (h rowHeap) Less(a, b int) bool {
	if h[a].val != h[b].val {
		return h[a].val > h[b].val
	}
	return h[a].row < h[b].row
}
func (h rowHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *rowHeap) Push(x any)   { *h = append(*h, x.(rowBest)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
