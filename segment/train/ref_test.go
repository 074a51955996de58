package train

import "math"

// This file is a plain-loop float64 implementation of the model and loss,
// written independently of the fast kernels, for finite-difference checks.

// refConv applies conv c with parameters p (the model's layout) to x [in, T].
func refConv(c conv, p []float64, x []float64, T int) []float64 {
	y := make([]float64, c.out*T)
	half := (c.k - 1) / 2
	for o := 0; o < c.out; o++ {
		for t := 0; t < T; t++ {
			s := p[c.b+o]
			for k := 0; k < c.k; k++ {
				u := t + (k-half)*c.dil
				if u < 0 || u >= T {
					continue
				}
				for i := 0; i < c.in; i++ {
					s += p[c.w+(k*c.out+o)*c.in+i] * x[i*T+u]
				}
			}
			y[o*T+t] = s
		}
	}
	return y
}

func refLogSoftmax(x []float64, C, T int) []float64 {
	y := make([]float64, len(x))
	for t := 0; t < T; t++ {
		m := math.Inf(-1)
		for c := 0; c < C; c++ {
			m = math.Max(m, x[c*T+t])
		}
		var s float64
		for c := 0; c < C; c++ {
			s += math.Exp(x[c*T+t] - m)
		}
		for c := 0; c < C; c++ {
			y[c*T+t] = x[c*T+t] - m - math.Log(s)
		}
	}
	return y
}

// refLoss returns the loss of model m with parameters p on x, labels, frames
// [lo, hi) with batch denominators norm, and each stage's logits. keep is the dropout bitmap per stage and
// layer (nil: none). frozen, when not nil, gives each stage's log-softmax
// used for the earlier frame of each smoothing pair (the detached operand);
// refLoss returns the log-softmaxes it computed, so a caller can freeze them
// at a base point: the finite-difference derivative of that function is the
// gradient PyTorch computes with .detach().
func refLoss(m *Model, p []float64, x []float32, labels []int32, T, lo, hi int, loss Loss, norm lossNorm, keep [][][]uint64, frozen [][]float64) (float64, [][]float64, [][]float64) {
	cfg := m.cfg
	C, L := cfg.Classes, cfg.Layers
	scale := 1 / (1 - float64(dropThreshold(cfg.Dropout))/65536)
	in := make([]float64, len(x))
	for i, v := range x {
		in[i] = float64(v)
	}
	var total float64
	var lps, outs [][]float64
	for s := 0; s < cfg.Stages; s++ {
		ci := m.convIndex(s)
		h := refConv(m.convs[ci], p, in, T)
		for l := 0; l < L; l++ {
			z := refConv(m.convs[ci+1+2*l], p, h, T)
			for i := range z {
				z[i] = math.Max(z[i], 0)
			}
			r := refConv(m.convs[ci+2+2*l], p, z, T)
			for i := range r {
				if keep != nil {
					if !kept(keep[s][l], (T+63)/64, i/T, i%T) {
						r[i] = 0
					} else {
						r[i] *= scale
					}
				}
				h[i] += r[i]
			}
		}
		out := refConv(m.convs[ci+1+2*L], p, h, T)
		outs = append(outs, out)
		lp := refLogSoftmax(out, C, T)
		lps = append(lps, lp)
		prev := lp
		if frozen != nil {
			prev = frozen[s]
		}
		var ce float64
		for t := lo; t < hi; t++ {
			if y := labels[t]; y >= 0 {
				w := 1.0
				if loss.ClassWeights != nil {
					w = float64(loss.ClassWeights[y])
				}
				ce -= w * lp[int(y)*T+t]
			}
		}
		total += ce / norm.ce
		var mse float64
		for c := 0; c < C; c++ {
			for t := max(lo, 1); t < hi; t++ {
				d := lp[c*T+t] - prev[c*T+t-1]
				mse += math.Min(d*d, loss.Tau*loss.Tau)
			}
		}
		total += loss.Smoothing * mse / norm.pairs
		// The next stage reads the softmax.
		in = make([]float64, len(lp))
		for i, v := range lp {
			in[i] = math.Exp(v)
		}
	}
	return total, lps, outs
}
