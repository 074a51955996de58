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
	n := make([]float64, classes)
	for _, seq := range labels {
		for _, y := range seq {
			if y >= 0 && int(y) < classes {
				n[y]++
			}
		}
	}
	inv := make([]float64, classes)
	var sum float64
	for c, v := range n {
		inv[c] = 1
		if v > 0 {
			inv[c] = 1 / v
		}
		sum += inv[c]
	}
	w := make([]float32, classes)
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

// stageLoss returns one stage's loss on frames [lo, hi) of logits out
// [C, T] and adds its gradient with respect to out to dout.
func (l Loss) stageLoss(out []float32, labels []int32, C, T, lo, hi int, dout []float32) float64 {
	// Log-softmax per frame, in float64.
	lp := make([]float64, C*(hi-lo))
	n := hi - lo
	for t := lo; t < hi; t++ {
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
			lp[c*n+t-lo] = float64(out[c*T+t]) - ls
		}
	}
	weight := func(y int32) float64 {
		if l.ClassWeights == nil {
			return 1
		}
		return float64(l.ClassWeights[y])
	}
	// Weighted cross-entropy: Σ w·(−log p_y) / Σ w.
	var ce, wsum float64
	for t := lo; t < hi; t++ {
		if y := labels[t]; y >= 0 && int(y) < C {
			w := weight(y)
			ce -= w * lp[int(y)*n+t-lo]
			wsum += w
		}
	}
	if wsum > 0 {
		ce /= wsum
		for t := lo; t < hi; t++ {
			y := labels[t]
			if y < 0 || int(y) >= C {
				continue
			}
			g := weight(y) / wsum
			for c := 0; c < C; c++ {
				d := math.Exp(lp[c*n+t-lo])
				if c == int(y) {
					d--
				}
				dout[c*T+t] += float32(g * d)
			}
		}
	} else {
		ce = 0 // no labelled frame: PyTorch would give NaN
	}
	loss := ce
	if l.Smoothing == 0 || n < 2 {
		return loss
	}
	// Truncated MSE between neighbouring frames' log-probabilities; the mean
	// runs over all C·(n−1) pairs.
	tau2 := l.Tau * l.Tau
	norm := l.Smoothing / float64(C*(n-1))
	var mse float64
	g := make([]float64, C)
	for t := 1; t < n; t++ {
		var gs float64
		for c := 0; c < C; c++ {
			d := lp[c*n+t] - lp[c*n+t-1]
			sq := d * d
			g[c] = 0
			if sq > tau2 {
				sq = tau2 // clamp: no gradient above τ²
			} else {
				g[c] = norm * 2 * d
			}
			mse += sq
			gs += g[c]
		}
		// Through log-softmax: d/dx_c = g_c − p_c·Σ_k g_k.
		for c := 0; c < C; c++ {
			dout[c*T+lo+t] += float32(g[c] - math.Exp(lp[c*n+t])*gs)
		}
	}
	return loss + norm*mse
}
