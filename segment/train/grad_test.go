package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

func randomSequence(rng *rand.Rand, D, C, T int) ([]float32, []int32) {
	x := make([]float32, D*T)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]int32, T)
	for t := range y {
		y[t] = int32(rng.IntN(C))
	}
	return x, y
}

// convKind names the parameter kind of conv index ci for error reports.
func (m *Model) convKind(ci int) string {
	per := 2*m.cfg.Layers + 2
	s, j := ci/per, ci%per
	switch {
	case j == 0 && s == 0:
		return "input conv (stage 1)"
	case j == 0:
		return "input conv (later stages)"
	case j == per-1:
		return "output conv"
	case j%2 == 1:
		return "dilated conv"
	default:
		return "1x1 conv"
	}
}

// TestGradientsFiniteDifferences compares every parameter's gradient with a
// central difference of the float64 reference loss.
func TestGradientsFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		T       int
		lo, hi  int
		weights []float32
		ignore  bool
		dropout bool
	}{
		{"plain", Config{Stages: 2, Layers: 3, Channels: 4, Inputs: 3, Classes: 2}, 24, 0, 24, nil, false, false},
		{"weights+dropout", Config{Stages: 3, Layers: 2, Channels: 5, Inputs: 4, Classes: 3, Dropout: 0.5}, 17, 0, 17, []float32{0.2, 0.5, 0.3}, false, true},
		{"window+ignore", Config{Stages: 2, Layers: 3, Channels: 4, Inputs: 2, Classes: 2, Dropout: 0.3}, 30, 7, 21, []float32{0.7, 0.3}, true, true},
		{"T below dilation", Config{Stages: 2, Layers: 4, Channels: 3, Inputs: 2, Classes: 2}, 5, 0, 5, nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewModel(tc.cfg, 7)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x, y := randomSequence(rng, tc.cfg.Inputs, tc.cfg.Classes, tc.T)
			if tc.ignore {
				for t := 3; t < tc.T; t += 4 {
					y[t] = Ignore
				}
			}
			// A tight τ so that some pairs are clamped.
			loss := Loss{ClassWeights: tc.weights, Smoothing: 0.15, Tau: 0.5}
			var drop *dropKey
			if tc.dropout {
				drop = &dropKey{seed: 3, stream: 4}
			}
			// Denominators of an imaginary batch, as a window of a batch has.
			norm := lossNorm{ce: 7.5, pairs: float64(tc.cfg.Classes * 2 * tc.T)}
			p := m.forward(x, tc.T, true, drop, nil)
			dout := make([][]float32, tc.cfg.Stages)
			var got float64
			for s := range dout {
				dout[s] = make([]float32, tc.cfg.Classes*tc.T)
				got += loss.stageLoss(p.out[s], y, tc.cfg.Classes, tc.T, tc.lo, tc.hi, norm, dout[s])
			}
			var keep [][][]uint64
			if tc.dropout {
				keep = p.keep
			}
			grad := m.backward(p, dout, nil)

			pf := make([]float64, len(m.params))
			for i, v := range m.params {
				pf[i] = float64(v)
			}
			want, frozen, outs := refLoss(m, pf, x, y, tc.T, tc.lo, tc.hi, loss, norm, keep, nil)
			if d := math.Abs(got-want) / math.Abs(want); d > 1e-5 {
				t.Errorf("loss %v, reference %v (rel %.3g)", got, want, d)
			}
			var outErr float64
			for s := range outs {
				for i, v := range outs[s] {
					outErr = math.Max(outErr, math.Abs(float64(p.out[s][i])-v))
				}
			}
			if outErr > 1e-5 {
				t.Errorf("logits differ from the reference by %g", outErr)
			}
			const eps = 1e-6
			type agg struct{ maxDiff, maxGrad float64 }
			kinds := map[string]*agg{}
			var order []string
			for ci, c := range m.convs {
				k := m.convKind(ci)
				if kinds[k] == nil {
					kinds[k] = &agg{}
					order = append(order, k)
				}
				for i := c.w; i < c.b+c.out; i++ {
					v := pf[i]
					pf[i] = v + eps
					lp, _, _ := refLoss(m, pf, x, y, tc.T, tc.lo, tc.hi, loss, norm, keep, frozen)
					pf[i] = v - eps
					lm, _, _ := refLoss(m, pf, x, y, tc.T, tc.lo, tc.hi, loss, norm, keep, frozen)
					pf[i] = v
					num := (lp - lm) / (2 * eps)
					a := kinds[k]
					a.maxDiff = math.Max(a.maxDiff, math.Abs(float64(grad[i])-num))
					a.maxGrad = math.Max(a.maxGrad, math.Abs(num))
				}
			}
			for _, k := range order {
				a := kinds[k]
				rel := a.maxDiff / a.maxGrad
				t.Logf("%-26s max |grad| %.4g, max abs diff %.3g, relative %.3g", k, a.maxGrad, a.maxDiff, rel)
				if a.maxGrad == 0 || rel > 1e-4 {
					t.Errorf("%s: gradient relative error %.3g (max |grad| %g)", k, rel, a.maxGrad)
				}
			}
		})
	}
}

func TestClassWeights(t *testing.T) {
	for _, tc := range []struct {
		labels [][]int32
		C      int
		want   []float64
	}{
		// n = (3, 1): 1/3 and 1 over 4/3.
		{[][]int32{{0, 0, 1}, {0, Ignore}}, 2, []float64{0.25, 0.75}},
		// A class that never occurs counts as n = 1.
		{[][]int32{{0, 0}}, 2, []float64{1.0 / 3, 2.0 / 3}},
		{[][]int32{{2, 2, 1, 0, 0, 0}}, 3, []float64{(1.0 / 3) / (1.0/3 + 1 + 0.5), 1 / (1.0/3 + 1 + 0.5), 0.5 / (1.0/3 + 1 + 0.5)}},
	} {
		t.Run(fmt.Sprint(tc.labels), func(t *testing.T) {
			got := ClassWeights(tc.labels, tc.C)
			for c := range tc.want {
				if math.Abs(float64(got[c])-tc.want[c]) > 1e-7 {
					t.Errorf("weights %v, want %v", got, tc.want)
					break
				}
			}
			// Counted one sequence at a time, as from a Source.
			n := make([]int64, tc.C)
			for _, seq := range tc.labels {
				CountClasses(n, seq)
			}
			if streamed := WeightsFromCounts(n); !slices.Equal(streamed, got) {
				t.Errorf("streamed counts %v give weights %v, ClassWeights %v", n, streamed, got)
			}
		})
	}
}

// TestDropoutAndCores checks the dropout rate and that a training pass gives
// bit-identical gradients on 1 and 3 cores.
func TestDropoutAndCores(t *testing.T) {
	cfg := Config{Stages: 2, Layers: 3, Channels: 12, Inputs: 5, Classes: 2, Dropout: 0.3}
	m, err := NewModel(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	const T = 1000
	x, y := randomSequence(rand.New(rand.NewPCG(8, 9)), cfg.Inputs, 2, T)
	drop := &dropKey{seed: 1, stream: 2}
	p := m.forward(x, T, true, drop, nil)
	W := (T + 63) / 64
	n, k := 0, 0
	for s := range p.keep {
		for _, bits := range p.keep[s] {
			for o := 0; o < cfg.Channels; o++ {
				for tt := 0; tt < T; tt++ {
					n++
					if kept(bits, W, o, tt) {
						k++
					}
				}
			}
		}
	}
	frac := float64(k) / float64(n)
	t.Logf("kept %.4f of %d elements (dropout 0.3)", frac, n)
	if math.Abs(frac-0.7) > 0.01 {
		t.Errorf("kept fraction %v, want 0.7", frac)
	}
	var grads [][]float32
	for _, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		l := DefaultLoss(nil)
		_, g := m.lossAndGrad(x, y, T, 0, T, l, l.batchNorm([][]int32{y}, 2), drop, nil)
		runtime.GOMAXPROCS(old)
		grads = append(grads, g)
	}
	if !slices.Equal(grads[0], grads[1]) {
		t.Error("gradients differ between 1 and 3 cores")
	}
}

// TestWorkspaceReuse checks that recycled buffers (of other lengths, from
// earlier steps) give the same training as fresh ones.
func TestWorkspaceReuse(t *testing.T) {
	cfg := Config{Stages: 2, Layers: 3, Channels: 8, Inputs: 3, Classes: 2, Dropout: 0.5}
	rng := rand.New(rand.NewPCG(12, 13))
	var seqs []Sequence
	for _, T := range []int{80, 30, 120, 80} {
		x, y := randomSequence(rng, cfg.Inputs, 2, T)
		seqs = append(seqs, Sequence{Name: fmt.Sprint(T), Features: x, Labels: y})
	}
	var params [][]float32
	for _, fresh := range []bool{false, true} {
		m, err := NewModel(cfg, 2)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(m, DefaultLoss(nil), 1e-3, 3, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range seqs {
			if fresh {
				tr.ws = workspace{}
			}
			if _, err := tr.Step(s); err != nil {
				t.Fatal(err)
			}
		}
		params = append(params, m.params)
	}
	if !slices.Equal(params[0], params[1]) {
		t.Error("training with recycled buffers differs from fresh buffers")
	}
}

// TestDirectionalDerivative checks the gradient on a sequence of several
// column blocks (with dropout) by one directional derivative of the float64
// reference loss: (L(p+εv) − L(p−εv))/2ε against g·v.
func TestDirectionalDerivative(t *testing.T) {
	cfg := Config{Stages: 2, Layers: 4, Channels: 12, Inputs: 7, Classes: 2, Dropout: 0.5}
	m, err := NewModel(cfg, 9)
	if err != nil {
		t.Fatal(err)
	}
	const T = 3*colBlock + 77
	rng := rand.New(rand.NewPCG(14, 15))
	x, y := randomSequence(rng, cfg.Inputs, 2, T)
	loss := DefaultLoss([]float32{0.4, 0.6})
	norm := loss.batchNorm([][]int32{y}, 2)
	drop := &dropKey{seed: 5, stream: 6}
	p := m.forward(x, T, true, drop, nil)
	dout := make([][]float32, cfg.Stages)
	for s := range dout {
		dout[s] = make([]float32, 2*T)
		loss.stageLoss(p.out[s], y, 2, T, 0, T, norm, dout[s])
	}
	grad := m.backward(p, dout, nil)
	pf := make([]float64, len(m.params))
	v := make([]float64, len(m.params))
	var gv float64
	for i, w := range m.params {
		pf[i] = float64(w)
		v[i] = rng.NormFloat64()
		gv += float64(grad[i]) * v[i]
	}
	_, frozen, _ := refLoss(m, pf, x, y, T, 0, T, loss, norm, p.keep, nil)
	const eps = 1e-6
	at := func(sign float64) float64 {
		q := make([]float64, len(pf))
		for i := range q {
			q[i] = pf[i] + sign*eps*v[i]
		}
		l, _, _ := refLoss(m, q, x, y, T, 0, T, loss, norm, p.keep, frozen)
		return l
	}
	num := (at(1) - at(-1)) / (2 * eps)
	rel := math.Abs(num-gv) / math.Abs(num)
	t.Logf("T=%d: directional derivative %.9g, g·v %.9g, relative %.3g", T, num, gv, rel)
	if rel > 1e-4 {
		t.Errorf("directional derivative %v, g·v %v", num, gv)
	}
}
