package train

import (
	"fmt"
	"math"
)

// Ignore is the label of a frame that the cross-entropy skips (PyTorch's
// ignore_index, as in MS-TCN).
const Ignore = -100

// Loss configures the training loss, per stage and summed over stages
// (MS-TCN, Farha & Gall 2019, eq. 5–7; Renz et al. 2021 use it unchanged):
//
//	CE(p, y; w) + Smoothing · mean over c and t of min((log p[c,t] − log p̂[c,t−1])², Tau²)
//
// where CE is the class-weighted mean cross-entropy over labelled frames
// (Σ w[y]·(−log p[y]) / Σ w[y], PyTorch's CrossEntropyLoss with weight and
// ignore_index), and p̂ is p treated as a constant (detached): only the later
// frame of each pair receives a gradient.
type Loss struct {
	// ClassWeights has one weight per class; nil means 1 for all. The paper
	// uses w_c = (1/n_c) / Σ_k 1/n_k over the training labels (ClassWeights).
	ClassWeights []float32
	Smoothing    float64 // λ, the paper: 0.15
	Tau          float64 // τ, the paper: 4
}

// DefaultLoss returns the paper's loss with the given class weights.
func DefaultLoss(weights []float32) Loss {
	return Loss{ClassWeights: weights, Smoothing: 0.15, Tau: 4}
}

// ClassWeights returns the paper's class weights for labels with classes
// classes: w_c = (1/n_c) / Σ_k (1/n_k) where n_c counts the frames labelled
// c; 1/n_c is taken as 1 when n_c = 0. Labels outside [0, classes) are not
// counted.
func ClassWeights(labels [][]int32, classes int) []float32 {
	n := make([]int64, classes)
	for _, seq := range labels {
		CountClasses(n, seq)
	}
	return WeightsFromCounts(n)
}

// CountClasses adds the frames of labels to counts: counts[c] += the number
// labelled c. Labels outside [0, len(counts)) are not counted. With
// WeightsFromCounts it gives ClassWeights in one pass over sequences that
// are loaded one at a time.
func CountClasses(counts []int64, labels []int32) {
	for _, y := range labels {
		if y >= 0 && int(y) < len(counts) {
			counts[y]++
		}
	}
}

// WeightsFromCounts returns the paper's class weights (see ClassWeights)
// from the frame count of each class.
func WeightsFromCounts(counts []int64) []float32 {
	inv := make([]float64, len(counts))
	var sum float64
	for c, v := range counts {
		inv[c] = 1
		if v > 0 {
			inv[c] = 1 / float64(v)
		}
		sum += inv[c]
	}
	w := make([]float32, len(counts))
	for c := range w {
		w[c] = float32(inv[c] / sum)
	}
	return w
}

func (l Loss) check(classes int) error {
	if l.ClassWeights != nil && len(l.ClassWeights) != classes {
		return fmt.Errorf("loss: %d class weights for %d classes", len(l.ClassWeights), classes)
	}
	for _, w := range l.ClassWeights {
		if !(w >= 0) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("loss: class weight %v must be a finite number ≥ 0", w)
		}
	}
	if !(l.Smoothing >= 0) || !(l.Tau > 0) || math.IsInf(l.Smoothing, 0) || math.IsInf(l.Tau, 0) {
		return fmt.Errorf("loss: smoothing %v and tau %v must be finite, ≥ 0 and > 0", l.Smoothing, l.Tau)
	}
	return nil
}

// lossNorm holds the denominators of a batch's loss, which PyTorch takes
// over the whole zero-padded batch: the cross-entropy's Σ w[y] over every
// labelled frame, and the smoothing mean's element count C·B·(T_max − 1).
// Splitting a batch into windows keeps them, so windows give the batch's
// exact gradient.
type lossNorm struct{ ce, pairs float64 }

// batchNorm returns the denominators for a batch of label sequences.
func (l Loss) batchNorm(batch [][]int32, C int) lossNorm {
	var n lossNorm
	maxT := 0
	for _, y := range batch {
		maxT = max(maxT, len(y))
		for _, v := range y {
			if v >= 0 && int(v) < C {
				n.ce += l.weight(v)
			}
		}
	}
	n.pairs = float64(C * len(batch) * max(maxT-1, 0))
	return n
}

func (l Loss) weight(y int32) float64 {
	if l.ClassWeights == nil {
		return 1
	}
	return float64(l.ClassWeights[y])
}

// stageLoss returns one stage's share of the batch loss from frames
// [lo, hi) of logits out [C, T] (a window of a sequence) and adds its
// gradient with respect to out to dout: the cross-entropy of the labelled
// frames in [lo, hi) and the smoothing terms of the pairs (t−1, t) with t in
// [max(lo, 1), hi), so frame lo−1 must be valid when lo > 0.
func (l Loss) stageLoss(out []float32, labels []int32, C, T, lo, hi int, norm lossNorm, dout []float32) float64 {
	// Log-softmax per frame from lo0, in float64.
	lo0 := max(lo-1, 0)
	n := hi - lo0
	lp := make([]float64, C*n)
	for t := lo0; t < hi; t++ {
		mx := math.Inf(-1)
		for c := 0; c < C; c++ {
			mx = math.Max(mx, float64(out[c*T+t]))
		}
		var s float64
		for c := 0; c < C; c++ {
			s += math.Exp(float64(out[c*T+t]) - mx)
		}
		ls := mx + math.Log(s)
		for c := 0; c < C; c++ {
			lp[c*n+t-lo0] = float64(out[c*T+t]) - ls
		}
	}
	// Weighted cross-entropy: Σ w·(−log p_y) / Σ w; no labelled frame in
	// the batch gives 0 (PyTorch would give NaN).
	var loss float64
	if norm.ce > 0 {
		for t := lo; t < hi; t++ {
			y := labels[t]
			if y < 0 || int(y) >= C {
				continue
			}
			g := l.weight(y) / norm.ce
			loss -= g * lp[int(y)*n+t-lo0]
			for c := 0; c < C; c++ {
				d := math.Exp(lp[c*n+t-lo0])
				if c == int(y) {
					d--
				}
				dout[c*T+t] += float32(g * d)
			}
		}
	}
	if l.Smoothing == 0 || norm.pairs <= 0 {
		return loss
	}
	// Truncated MSE between neighbouring frames' log-probabilities; the
	// earlier frame is a constant (detached).
	tau2 := l.Tau * l.Tau
	scale := l.Smoothing / norm.pairs
	var mse float64
	g := make([]float64, C)
	for t := max(lo, 1); t < hi; t++ {
		i := t - lo0
		var gs float64
		for c := 0; c < C; c++ {
			d := lp[c*n+i] - lp[c*n+i-1]
			sq := d * d
			g[c] = 0
			if sq > tau2 {
				sq = tau2 // clamp: no gradient above τ²
			} else {
				g[c] = scale * 2 * d
			}
			mse += sq
			gs += g[c]
		}
		// Through log-softmax: d/dx_c = g_c − p_c·Σ_k g_k.
		for c := 0; c < C; c++ {
			dout[c*T+t] += float32(g[c] - math.Exp(lp[c*n+i])*gs)
		}
	}
	return loss + scale*mse
}
