package train

import (
	"fmt"
	"math"
)

// Sequence is one training or validation video.
type Sequence struct {
	Name     string
	Features []float32 // [D, T] row-major: feature d of frame t at d·T + t
	Labels   []int32   // T frame labels in [0, C); negative (Ignore) frames are not scored
}

func (s *Sequence) check(cfg Config) error {
	T := len(s.Labels)
	if T == 0 {
		return fmt.Errorf("sequence %q has no frames", s.Name)
	}
	if len(s.Features) != cfg.Inputs*T {
		return fmt.Errorf("sequence %q: %d feature values for %d inputs × %d frames", s.Name, len(s.Features), cfg.Inputs, T)
	}
	for t, y := range s.Labels {
		if int(y) >= cfg.Classes {
			return fmt.Errorf("sequence %q: frame %d has label %d, the model has %d classes", s.Name, t, y, cfg.Classes)
		}
	}
	return nil
}

// adam is PyTorch's Adam without weight decay or amsgrad:
// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·m̂/(√v̂ + ε) with the
// bias corrections m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
type adam struct {
	lr, b1, b2, eps float64
	t               int64
	m, v            []float32
}

func newAdam(n int, lr float64) adam {
	return adam{lr: lr, b1: 0.9, b2: 0.999, eps: 1e-8, m: make([]float32, n), v: make([]float32, n)}
}

func (a *adam) update(p, g []float32) {
	a.t++
	bc1 := 1 - math.Pow(a.b1, float64(a.t))
	bc2 := 1 - math.Pow(a.b2, float64(a.t))
	step := a.lr / bc1
	sq2 := math.Sqrt(bc2)
	for i, gi := range g {
		m := a.b1*float64(a.m[i]) + (1-a.b1)*float64(gi)
		v := a.b2*float64(a.v[i]) + (1-a.b2)*float64(gi)*float64(gi)
		a.m[i], a.v[i] = float32(m), float32(v)
		p[i] = float32(float64(p[i]) - step*m/(math.Sqrt(v)/sq2+a.eps))
	}
}

// lossAndGrad runs a training pass on x [D, T] and returns the loss summed
// over stages on frames [lo, hi) with the batch denominators norm, and its
// gradient. Dropout masks come from drop (none when drop is nil).
func (m *Model) lossAndGrad(x []float32, labels []int32, T, lo, hi int, loss Loss, norm lossNorm, drop *dropKey, ws *workspace) (float64, []float32) {
	ws.reset()
	p := m.forward(x, T, true, drop, ws)
	C := m.cfg.Classes
	dout := make([][]float32, m.cfg.Stages)
	var total float64
	for s := range dout {
		dout[s] = ws.floats(C * T)
		clear(dout[s])
		total += loss.stageLoss(p.out[s], labels, C, T, lo, hi, norm, dout[s])
	}
	return total, m.backward(p, dout, ws)
}

// window returns sequence seq cut to frames [a, b) (features and labels).
func window(x []float32, labels []int32, D, a, b int) ([]float32, []int32) {
	T := len(labels)
	if a == 0 && b == T {
		return x, labels
	}
	w := make([]float32, D*(b-a))
	for d := 0; d < D; d++ {
		copy(w[d*(b-a):(d+1)*(b-a)], x[d*T+a:d*T+b])
	}
	return w, labels[a:b]
}

// Trainer updates a model with Adam, one batch of sequences per step.
type Trainer struct {
	model  *Model
	loss   Loss
	opt    adam
	seed   uint64
	window int
	ws     workspace
	grad   []float32
}

// NewTrainer returns a trainer for m with the given loss, Adam learning rate
// (the paper: 5e-4) and seed for dropout. A training pass holds about
// (S·(2L+1)+3)·F·T float32 values, 2 GB for an hour of 25 fps video with the
// paper's model; window > 0 bounds that by running the model on windows of
// that many frames, each extended by Config.Context frames on both sides:
// the loss and gradient are those of the whole sequences all the same. 0
// runs whole sequences.
func NewTrainer(m *Model, loss Loss, lr float64, seed uint64, window int) (*Trainer, error) {
	if err := loss.check(m.cfg.Classes); err != nil {
		return nil, err
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("trainer: learning rate %v must be a positive number", lr)
	}
	if window < 0 {
		return nil, fmt.Errorf("trainer: window %d must be ≥ 0", window)
	}
	return &Trainer{model: m, loss: loss, opt: newAdam(len(m.params), lr), seed: seed, window: window}, nil
}

// Model returns the model being trained (updated in place by Step).
func (tr *Trainer) Model() *Model { return tr.model }

// Step does one Adam update on a batch of sequences (the paper uses 8) and
// returns the batch's loss, as PyTorch computes it on the zero-padded batch
// with a mask: per stage, the cross-entropy over all labelled frames of the
// batch plus the smoothing term averaged over C·B·(T_max − 1), summed over
// stages. The dropout of each update depends only on the seed and the
// update's number, so a run is repeatable.
func (tr *Trainer) Step(batch ...Sequence) (float64, error) {
	cfg := tr.model.cfg
	if len(batch) == 0 {
		return 0, fmt.Errorf("train step: empty batch")
	}
	labels := make([][]int32, len(batch))
	for i := range batch {
		if err := batch[i].check(cfg); err != nil {
			return 0, err
		}
		labels[i] = batch[i].Labels
	}
	norm := tr.loss.batchNorm(labels, cfg.Classes)
	if tr.grad == nil {
		tr.grad = make([]float32, len(tr.model.params))
	}
	clear(tr.grad)
	R := cfg.Context()
	var total float64
	piece := 0
	for i := range batch {
		seq := &batch[i]
		T := len(seq.Labels)
		W := tr.window
		if W == 0 || W >= T {
			W = T
		}
		for lo := 0; lo < T; lo += W {
			hi := min(T, lo+W)
			// The smoothing pair (lo−1, lo) needs frame lo−1's exact
			// output, hence one more frame of context on the left.
			a, b := max(0, lo-R-1), min(T, hi+R)
			x, y := window(seq.Features, seq.Labels, cfg.Inputs, a, b)
			var drop *dropKey
			if cfg.Dropout > 0 {
				drop = &dropKey{seed: tr.seed, stream: uint64(tr.opt.t)<<20 | uint64(piece)}
			}
			l, g := tr.model.lossAndGrad(x, y, b-a, lo-a, hi-a, tr.loss, norm, drop, &tr.ws)
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return 0, fmt.Errorf("sequence %q frames %d–%d: loss is %v", seq.Name, lo, hi, l)
			}
			for j, v := range g {
				tr.grad[j] += v
			}
			total += l
			piece++
		}
	}
	tr.opt.update(tr.model.params, tr.grad)
	return total, nil
}
