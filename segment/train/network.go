package train

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// tapMat is one tap of a convolution as a packed matrix (packA) and its
// time shift: output t reads input t+shift.
type tapMat struct {
	ap    []float32
	shift int
}

// initMode says what applyTaps starts each output from.
type initMode int

const (
	accumulate initMode = iota // add to the output
	setZero                    // overwrite
	setBias                    // overwrite with a per-row bias
)

// applyTaps computes y[:, t] = init + Σ_k A_k·x[:, t+shift_k] (x is zero
// outside [0, T)) for the m rows of y and the k rows of x, one column block
// at a time in parallel, and then calls epi(t0, t1) on each block while it
// is still in cache: fusing the taps, the bias and the elementwise step
// that follows saves several passes over tensors far larger than the
// caches.
func applyTaps(y []float32, m, k int, x []float32, T int, taps []tapMat, mode initMode, bias []float32, epi func(t0, t1 int)) {
	_ = y[m*T-1]
	_ = x[k*T-1]
	parallel((T+colBlock-1)/colBlock, func(bi int) {
		t0, t1 := bi*colBlock, min(T, (bi+1)*colBlock)
		if mode != accumulate {
			for o := 0; o < m; o++ {
				row := y[o*T+t0 : o*T+t1]
				v := float32(0)
				if mode == setBias {
					v = bias[o]
				}
				for t := range row {
					row[t] = v
				}
			}
		}
		for _, tp := range taps {
			sh := tp.shift
			lo, hi := max(0, -sh), min(T, T-sh)
			a, b := max(t0, lo), min(t1, hi)
			if a < b {
				mulAddBlock(y[lo:], T, tp.ap, m, k, x[lo+sh:], T, a-lo, b-lo)
			}
		}
		if epi != nil {
			epi(t0, t1)
		}
	})
}

// convForward sets y [out, T] to conv c applied to x [in, T], then calls
// epi (when not nil) on each column block.
func (m *Model) convForward(c conv, x, y []float32, T int, epi func(t0, t1 int)) {
	taps := make([]tapMat, c.k)
	for k := range taps {
		w := m.params[c.w+k*c.out*c.in : c.w+(k+1)*c.out*c.in]
		taps[k] = tapMat{ap: packA(w, c.in, c.out, c.in), shift: (k - (c.k-1)/2) * c.dil}
	}
	applyTaps(y, c.out, c.in, x, T, taps, setBias, m.params[c.b:c.b+c.out], epi)
}

// convBackward adds conv c's weight and bias gradients for input x and
// output gradient dy to grad and, when dx is not nil, writes (mode) the
// input gradient to dx, calling epi on each of its column blocks.
func (m *Model) convBackward(c conv, x, dy, dx, grad []float32, T int, mode initMode, epi func(t0, t1 int)) {
	parallel(c.out, func(o int) {
		var s float64
		for _, v := range dy[o*T : (o+1)*T] {
			s += float64(v)
		}
		grad[c.b+o] += float32(s)
	})
	var taps []tapMat
	for k := 0; k < c.k; k++ {
		shift := (k - (c.k-1)/2) * c.dil
		lo, hi := max(0, -shift), min(T, T-shift)
		off := c.w + k*c.out*c.in
		if hi > lo {
			mulAddNT(grad[off:off+c.out*c.in], c.out, c.in, dy[lo:], T, x[lo+shift:], T, hi-lo)
		}
		if dx == nil {
			continue
		}
		// dx[:, u] += W_kᵀ·dy[:, u − shift]: a tap of the transposed conv.
		w := m.params[off : off+c.out*c.in]
		wt := make([]float32, c.in*c.out)
		for o := 0; o < c.out; o++ {
			for i := 0; i < c.in; i++ {
				wt[i*c.out+o] = w[o*c.in+i]
			}
		}
		taps = append(taps, tapMat{ap: packA(wt, c.out, c.in, c.out), shift: -shift})
	}
	if dx != nil {
		applyTaps(dx, c.in, c.out, dy, T, taps, mode, nil, epi)
	}
}

// softmaxCols sets y [C, T] to the softmax of x over C for every t.
func softmaxCols(x, y []float32, C, T int) {
	for t := 0; t < T; t++ {
		mx := float32(math.Inf(-1))
		for c := 0; c < C; c++ {
			mx = max(mx, x[c*T+t])
		}
		var s float64
		for c := 0; c < C; c++ {
			e := math.Exp(float64(x[c*T+t] - mx))
			y[c*T+t] = float32(e)
			s += e
		}
		for c := 0; c < C; c++ {
			y[c*T+t] = float32(float64(y[c*T+t]) / s)
		}
	}
}

// pass holds one forward pass's activations for the backward pass.
type pass struct {
	T    int
	x    []float32     // [D, T] input (not owned)
	in   [][]float32   // per stage s > 0: softmax of stage s−1 [C, T]
	h    [][][]float32 // per stage: h_0 … h_L [F, T], the residual stream
	a    [][][]float32 // per stage and layer: ReLU output [F, T]
	keep [][][]uint64  // per stage and layer: dropout keep bits, row by row (see kept); nil without dropout
	out  [][]float32   // per stage: logits [C, T]
}

// dropKey selects the dropout masks of one training pass.
type dropKey struct{ seed, stream uint64 }

// blockRNG returns the generator of the dropout mask of row o, column
// block blk of layer l in stage s: one stream per row and block, so blocks
// are drawn in parallel and the masks do not depend on the number of cores.
func (k dropKey) blockRNG(s, l, o, blk int) *rand.Rand {
	return rand.New(rand.NewPCG(k.seed, k.stream*0x9e3779b97f4a7c15+uint64(s)<<56+uint64(l)<<48+uint64(o)<<32+uint64(blk)))
}

// kept reports whether element t of row o survived dropout in a bitmap of
// words-per-row W.
func kept(bits []uint64, W, o, t int) bool { return bits[o*W+t/64]>>(t%64)&1 != 0 }

// dropThreshold turns a drop probability into a threshold on 16-bit
// uniforms: an element is kept when its uniform is ≥ the threshold, so p is
// applied in steps of 1/65536 (0.5 exactly).
func dropThreshold(p float64) uint64 { return uint64(math.Round(p * 65536)) }

// forward runs the model on x [D, T]. A training pass keeps every
// activation for backward and draws dropout masks from drop (none when drop
// is nil). Otherwise only the logits are kept (p.out).
func (m *Model) forward(x []float32, T int, train bool, drop *dropKey, ws *workspace) *pass {
	cfg := m.cfg
	S, L, F, C := cfg.Stages, cfg.Layers, cfg.Channels, cfg.Classes
	p := &pass{T: T, x: x, in: make([][]float32, S), h: make([][][]float32, S), a: make([][][]float32, S),
		keep: make([][][]uint64, S), out: make([][]float32, S)}
	thr := dropThreshold(cfg.Dropout)
	scale := float32(1 / (1 - float64(thr)/65536))
	W := (T + 63) / 64
	dropping := train && drop != nil && thr > 0
	var z, r []float32
	if !train {
		z, r = ws.floats(F*T), ws.floats(F*T)
	}
	for s := 0; s < S; s++ {
		ci := m.convIndex(s)
		in := x
		if s > 0 {
			in = ws.floats(C * T)
			softmaxCols(p.out[s-1], in, C, T)
			p.in[s] = in
		}
		h := ws.floats(F * T)
		m.convForward(m.convs[ci], in, h, T, nil)
		if train {
			p.h[s] = append(p.h[s], h)
		}
		for l := 0; l < L; l++ {
			if train {
				z, r = ws.floats(F*T), ws.floats(F*T)
			}
			m.convForward(m.convs[ci+1+2*l], h, z, T, func(t0, t1 int) {
				for o := 0; o < F; o++ {
					row := z[o*T+t0 : o*T+t1]
					for i, v := range row {
						row[i] = max(v, 0)
					}
				}
			})
			var keep []uint64
			if dropping {
				keep = ws.words(F * W)
				p.keep[s] = append(p.keep[s], keep)
			}
			// r becomes h_{l+1} = h_l + dropout(r) (in training; in
			// inference h is updated in place).
			m.convForward(m.convs[ci+2+2*l], z, r, T, func(t0, t1 int) {
				for o := 0; o < F; o++ {
					rr, hr := r[o*T+t0:o*T+t1], h[o*T+t0:o*T+t1]
					if dropping {
						// Branch-free: the keep bits are random, so
						// branches on them would mispredict half the time.
						// colBlock is a multiple of 64, so the block's
						// bits start a word.
						rng := drop.blockRNG(s, l, o, t0/colBlock)
						bits := keep[o*W+t0/64 : o*W+(t1+63)/64]
						clear(bits)
						tab := [2]float32{0, scale}
						var u uint64
						for t := range rr {
							if t%4 == 0 {
								u = rng.Uint64()
							}
							k := 1 ^ ((u&0xffff - thr) >> 63) // 1 when u&0xffff ≥ thr
							bits[t/64] |= k << (t % 64)
							rr[t] *= tab[k]
							u >>= 16
						}
					}
					if train {
						for t, v := range hr {
							rr[t] += v
						}
					} else {
						for t, v := range rr {
							hr[t] += v
						}
					}
				}
			})
			if train {
				p.a[s] = append(p.a[s], z)
				h = r
				p.h[s] = append(p.h[s], h)
			}
		}
		out := ws.floats(C * T)
		m.convForward(m.convs[ci+1+2*L], h, out, T, nil)
		p.out[s] = out
	}
	return p
}

// backward returns the parameter gradient for the pass p given dout, the
// loss gradient with respect to each stage's logits (modified in place).
func (m *Model) backward(p *pass, dout [][]float32, ws *workspace) []float32 {
	cfg := m.cfg
	S, L, F, C := cfg.Stages, cfg.Layers, cfg.Channels, cfg.Classes
	T := p.T
	W := (T + 63) / 64
	thr := dropThreshold(cfg.Dropout)
	scale := float32(1 / (1 - float64(thr)/65536))
	grad := ws.floats(len(m.params))
	clear(grad)
	dh := ws.floats(F * T)
	dr := ws.floats(F * T)
	da := ws.floats(F * T)
	for s := S - 1; s >= 0; s-- {
		ci := m.convIndex(s)
		m.convBackward(m.convs[ci+1+2*L], p.h[s][L], dout[s], dh, grad, T, setZero, nil)
		for l := L - 1; l >= 0; l-- {
			var bits []uint64
			if p.keep[s] != nil {
				bits = p.keep[s][l]
			}
			parallel(F, func(o int) {
				src, dst := dh[o*T:(o+1)*T], dr[o*T:(o+1)*T]
				if bits == nil {
					copy(dst, src)
					return
				}
				tab := [2]float32{0, scale}
				row := bits[o*W : (o+1)*W]
				for t, v := range src {
					dst[t] = v * tab[row[t/64]>>(t%64)&1]
				}
			})
			a := p.a[s][l]
			m.convBackward(m.convs[ci+2+2*l], a, dr, da, grad, T, setZero, func(t0, t1 int) {
				// ReLU: no gradient where the output was 0.
				for o := 0; o < F; o++ {
					ar, dar := a[o*T+t0:o*T+t1], da[o*T+t0:o*T+t1]
					for t, v := range ar {
						g := dar[t]
						if v <= 0 {
							g = 0 // a conditional move, not a branch
						}
						dar[t] = g
					}
				}
			})
			// dh (the gradient of h_{l+1}) passes unchanged through the
			// residual connection and gains the dilated conv's input gradient.
			m.convBackward(m.convs[ci+1+2*l], p.h[s][l], da, dh, grad, T, accumulate, nil)
		}
		if s == 0 {
			m.convBackward(m.convs[ci], p.x, dh, nil, grad, T, setZero, nil)
			break
		}
		din := ws.floats(C * T)
		m.convBackward(m.convs[ci], p.in[s], dh, din, grad, T, setZero, nil)
		// Softmax backward: dx_c = y_c·(dy_c − Σ_k y_k·dy_k).
		y := p.in[s]
		prev := dout[s-1]
		for t := 0; t < T; t++ {
			var dot float64
			for c := 0; c < C; c++ {
				dot += float64(y[c*T+t]) * float64(din[c*T+t])
			}
			for c := 0; c < C; c++ {
				prev[c*T+t] += float32(float64(y[c*T+t]) * (float64(din[c*T+t]) - dot))
			}
		}
	}
	return grad
}

// Predict returns the last stage's class probabilities [C, T] (row-major)
// for features x [D, T] (row-major, the layout of the ONNX input), without
// dropout.
func (m *Model) Predict(x []float32, T int) ([]float32, error) {
	if T <= 0 || len(x) != m.cfg.Inputs*T {
		return nil, fmt.Errorf("predict: %d feature values for %d inputs × %d frames", len(x), m.cfg.Inputs, T)
	}
	p := m.forward(x, T, false, nil, nil)
	y := make([]float32, m.cfg.Classes*T)
	softmaxCols(p.out[m.cfg.Stages-1], y, m.cfg.Classes, T)
	return y, nil
}

// workspace recycles the large buffers of training passes: a trainer's
// steps ask for the same sizes in the same order, so each request reuses the
// buffer of the same rank in the previous step (this halves peak memory
// compared with leaving them to the garbage collector). A nil workspace
// allocates. Buffers come back with undefined contents.
type workspace struct {
	f32 [][]float32
	u64 [][]uint64
	nf  int
	nu  int
}

// reset makes every buffer available again; slices handed out before must
// no longer be used.
func (w *workspace) reset() {
	if w != nil {
		w.nf, w.nu = 0, 0
	}
}

func (w *workspace) floats(n int) []float32 {
	if w == nil {
		return make([]float32, n)
	}
	b := take(&w.f32, w.nf, n)
	w.nf++
	return b
}

func (w *workspace) words(n int) []uint64 {
	if w == nil {
		return make([]uint64, n)
	}
	b := take(&w.u64, w.nu, n)
	w.nu++
	return b
}

// take returns (*pool)[i] resized to n, replacing it when it is too small.
func take[E any](pool *[][]E, i, n int) []E {
	if i < len(*pool) && cap((*pool)[i]) >= n {
		return (*pool)[i][:n]
	}
	b := make([]E, n)
	if i < len(*pool) {
		(*pool)[i] = b
	} else {
		*pool = append(*pool, b)
	}
	return b
}
