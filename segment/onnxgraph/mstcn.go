package onnxgraph

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Conv1D is one Conv1d layer in PyTorch layout: Weight is [Out, In, K]
// row-major and Bias has Out values.
type Conv1D struct {
	Out, In, K int
	Weight     []float32
	Bias       []float32
}

func (c *Conv1D) check(what string, out, in, k int) error {
	if c.Out != out || c.In != in || c.K != k {
		return fmt.Errorf("%s: shape [%d,%d,%d], want [%d,%d,%d]", what, c.Out, c.In, c.K, out, in, k)
	}
	if len(c.Weight) != out*in*k || len(c.Bias) != out {
		return fmt.Errorf("%s: %d weights and %d biases for shape [%d,%d,%d]", what, len(c.Weight), len(c.Bias), out, in, k)
	}
	return nil
}

// MSTCNLayer is one dilated residual layer: Dilated (F→F, kernel 3,
// dilation 2^l for layer l) then ReLU then Pointwise (F→F, kernel 1).
type MSTCNLayer struct {
	Dilated   Conv1D
	Pointwise Conv1D
}

// MSTCNStage is one single-stage TCN: In (D or C → F, kernel 1), the
// layers, and Out (F → C, kernel 1).
type MSTCNStage struct {
	In     Conv1D
	Layers []MSTCNLayer
	Out    Conv1D
}

// MSTCNWeights holds a multi-stage TCN (Farha & Gall 2019, as used by
// Renz et al. 2021). Its shape defines every hyperparameter; see Dims.
type MSTCNWeights struct {
	Stages []MSTCNStage
}

// MSTCNDims are the hyperparameters of an MS-TCN: S stages of L layers with F
// feature maps, D input features and C classes.
type MSTCNDims struct {
	S, L, F, D, C int
}

// ReceptiveField returns the number of frames that one output frame sees
// through the whole model: each stage's layers reach 2^0+…+2^(L-1) = 2^L−1
// frames to each side, and the stages add up (the paper's per-stage figure
// is 2·(2^L−1)+1 = 2047 for L=10).
func (d MSTCNDims) ReceptiveField() int { return 2*d.S*(1<<d.L-1) + 1 }

// StageReceptiveField returns the receptive field of one stage, 2·(2^L−1)+1.
func (d MSTCNDims) StageReceptiveField() int { return 2*(1<<d.L-1) + 1 }

// Dims checks that all shapes agree and returns the hyperparameters.
func (w *MSTCNWeights) Dims() (MSTCNDims, error) {
	if w == nil || len(w.Stages) == 0 {
		return MSTCNDims{}, errors.New("MS-TCN has no stages")
	}
	s0 := &w.Stages[0]
	d := MSTCNDims{S: len(w.Stages), L: len(s0.Layers), F: s0.In.Out, D: s0.In.In, C: s0.Out.Out}
	if d.L == 0 || d.L > 24 || d.F <= 0 || d.D <= 0 || d.C <= 0 {
		return d, fmt.Errorf("MS-TCN has unusable dimensions %+v", d)
	}
	for si := range w.Stages {
		st := &w.Stages[si]
		in := d.D
		if si > 0 {
			in = d.C
		}
		if err := st.In.check(fmt.Sprintf("stage %d input conv", si), d.F, in, 1); err != nil {
			return d, err
		}
		if len(st.Layers) != d.L {
			return d, fmt.Errorf("stage %d has %d layers, stage 0 has %d", si, len(st.Layers), d.L)
		}
		for li := range st.Layers {
			if err := st.Layers[li].Dilated.check(fmt.Sprintf("stage %d layer %d dilated conv", si, li), d.F, d.F, 3); err != nil {
				return d, err
			}
			if err := st.Layers[li].Pointwise.check(fmt.Sprintf("stage %d layer %d 1x1 conv", si, li), d.F, d.F, 1); err != nil {
				return d, err
			}
		}
		if err := st.Out.check(fmt.Sprintf("stage %d output conv", si), d.C, d.F, 1); err != nil {
			return d, err
		}
	}
	return d, nil
}

// MSTCNOptions controls BuildMSTCN.
type MSTCNOptions struct {
	// BoundaryClass is the class whose last-stage softmax probability is the
	// "boundary" output (the paper: 1).
	BoundaryClass int
	// Logits adds the output "logits" [1, C, T]: the last stage's raw
	// per-class scores.
	Logits bool
	// Producer is the producer_name; "signseg" when empty.
	Producer string
	// Metadata is added to metadata_props (for example the source checkpoint's
	// hash); it may not override the keys BuildMSTCN writes.
	Metadata map[string]string
}

// Names of the MS-TCN graph's input and outputs.
const (
	MSTCNInput    = "features" // [1, D, T]
	MSTCNBoundary = "boundary" // [1, T]
	MSTCNLogits   = "logits"   // [1, C, T]
)

// BuildMSTCN writes w as an ONNX model with input "features" [1, D, T]
// (T dynamic) and output "boundary" [1, T] = softmax over classes of the last
// stage at opts.BoundaryClass, plus "logits" when asked. Dropout and the
// training mask are omitted (identity at inference). metadata_props records
// S, L, F, D, C, the boundary class and the receptive fields.
func BuildMSTCN(w *MSTCNWeights, opts MSTCNOptions) ([]byte, error) {
	d, err := w.Dims()
	if err != nil {
		return nil, fmt.Errorf("build MS-TCN: %w", err)
	}
	if opts.BoundaryClass < 0 || opts.BoundaryClass >= d.C {
		return nil, fmt.Errorf("build MS-TCN: boundary class %d outside 0..%d", opts.BoundaryClass, d.C-1)
	}
	g := NewGraph("mstcn")
	x := g.Input(MSTCNInput, Float, Fixed(1), Fixed(int64(d.D)), Dynamic("T"))
	conv := func(name string, c *Conv1D, in string, dil int) string {
		wn := g.Float32(name+".weight", []int64{int64(c.Out), int64(c.In), int64(c.K)}, c.Weight)
		bn := g.Float32(name+".bias", []int64{int64(c.Out)}, c.Bias)
		p := int64(dil * (c.K - 1) / 2)
		return g.Node("Conv", []string{in, wn, bn},
			AttrInts("kernel_shape", int64(c.K)), AttrInts("dilations", int64(dil)),
			AttrInts("pads", p, p), AttrInts("strides", 1))
	}
	h := x
	var out string
	for si := range w.Stages {
		st := &w.Stages[si]
		pre := fmt.Sprintf("stage%d", si)
		if si > 0 {
			h = g.Node("Softmax", []string{out}, AttrInt("axis", 1))
		}
		h = conv(pre+".conv_1x1", &st.In, h, 1)
		for li := range st.Layers {
			lp := fmt.Sprintf("%s.layers.%d", pre, li)
			r := conv(lp+".conv_dilated", &st.Layers[li].Dilated, h, 1<<li)
			r = g.Node("Relu", []string{r})
			r = conv(lp+".conv_1x1", &st.Layers[li].Pointwise, r, 1)
			h = g.Node("Add", []string{h, r})
		}
		out = conv(pre+".conv_out", &st.Out, h, 1)
	}
	probs := g.Node("Softmax", []string{out}, AttrInt("axis", 1))
	idx := g.Int64("boundary_class", nil, []int64{int64(opts.BoundaryClass)})
	g.NodeNamed("Gather", MSTCNBoundary, []string{probs, idx}, AttrInt("axis", 1))
	g.Output(MSTCNBoundary, Float, Fixed(1), Dynamic("T"))
	if opts.Logits {
		g.NodeNamed("Identity", MSTCNLogits, []string{out})
		g.Output(MSTCNLogits, Float, Fixed(1), Fixed(int64(d.C)), Dynamic("T"))
	}
	meta := map[string]string{
		"model":                     "mstcn",
		"stages":                    strconv.Itoa(d.S),
		"layers":                    strconv.Itoa(d.L),
		"feature_maps":              strconv.Itoa(d.F),
		"input_dim":                 strconv.Itoa(d.D),
		"classes":                   strconv.Itoa(d.C),
		"boundary_class":            strconv.Itoa(opts.BoundaryClass),
		"receptive_field":           strconv.Itoa(d.ReceptiveField()),
		"receptive_field_per_stage": strconv.Itoa(d.StageReceptiveField()),
	}
	return marshalModel(g, "build MS-TCN", opts.Producer, "MS-TCN temporal model: features [1,D,T] -> boundary probability [1,T]", meta, opts.Metadata)
}

// RandomMSTCN returns an MS-TCN of the given dimensions with random weights,
// for tests and fixtures. Weights are uniform in ±1/√fan_in (PyTorch's default
// scale) and the residual branch is damped by 1/√L, so activations stay O(1)
// even for L=10.
func RandomMSTCN(rng *rand.Rand, d MSTCNDims) (*MSTCNWeights, error) {
	if d.S <= 0 || d.L <= 0 || d.L > 24 || d.F <= 0 || d.D <= 0 || d.C <= 0 {
		return nil, fmt.Errorf("random MS-TCN: unusable dimensions %+v", d)
	}
	conv := func(out, in, k int, damp float64) Conv1D {
		c := Conv1D{Out: out, In: in, K: k, Weight: make([]float32, out*in*k), Bias: make([]float32, out)}
		a := damp / math.Sqrt(float64(in*k))
		for i := range c.Weight {
			c.Weight[i] = float32(a * (2*rng.Float64() - 1))
		}
		for i := range c.Bias {
			c.Bias[i] = float32(a * (2*rng.Float64() - 1))
		}
		return c
	}
	w := &MSTCNWeights{Stages: make([]MSTCNStage, d.S)}
	for s := range w.Stages {
		in := d.D
		if s > 0 {
			in = d.C
		}
		st := MSTCNStage{In: conv(d.F, in, 1, 1)}
		for range d.L {
			st.Layers = append(st.Layers, MSTCNLayer{
				Dilated:   conv(d.F, d.F, 3, 1),
				Pointwise: conv(d.F, d.F, 1, 1/math.Sqrt(float64(d.L))),
			})
		}
		st.Out = conv(d.C, d.F, 1, 1)
		w.Stages[s] = st
	}
	return w, nil
}

// ReferenceMSTCN runs w on x ([D, T] row-major, batch 1) with plain loops in
// float64, independently of the ONNX graph. It returns the softmax
// probability of class boundaryClass of the last stage ([T]) and that stage's
// logits ([C, T] row-major).
func ReferenceMSTCN(w *MSTCNWeights, x []float32, T, boundaryClass int) (boundary, logits []float32, err error) {
	d, err := w.Dims()
	if err != nil {
		return nil, nil, fmt.Errorf("reference MS-TCN: %w", err)
	}
	if T <= 0 || len(x) != d.D*T {
		return nil, nil, fmt.Errorf("reference MS-TCN: %d input values for D=%d, T=%d", len(x), d.D, T)
	}
	if boundaryClass < 0 || boundaryClass >= d.C {
		return nil, nil, fmt.Errorf("reference MS-TCN: boundary class %d outside 0..%d", boundaryClass, d.C-1)
	}
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	var out []float64
	for si := range w.Stages {
		st := &w.Stages[si]
		if si > 0 {
			cur = softmaxColumns(out, d.C, T)
		}
		h := refConv(&st.In, cur, T, 1)
		for li := range st.Layers {
			r := refConv(&st.Layers[li].Dilated, h, T, 1<<li)
			for i, v := range r {
				r[i] = math.Max(v, 0)
			}
			r = refConv(&st.Layers[li].Pointwise, r, T, 1)
			for i := range h {
				h[i] += r[i]
			}
		}
		out = refConv(&st.Out, h, T, 1)
	}
	p := softmaxColumns(out, d.C, T)
	boundary = make([]float32, T)
	for t := range boundary {
		boundary[t] = float32(p[boundaryClass*T+t])
	}
	logits = make([]float32, len(out))
	for i, v := range out {
		logits[i] = float32(v)
	}
	return boundary, logits, nil
}

// refConv is a zero-padded, length-preserving 1-D convolution (cross-
// correlation, as in PyTorch) of x [In, T] with dilation dil.
func refConv(c *Conv1D, x []float64, T, dil int) []float64 {
	y := make([]float64, c.Out*T)
	half := (c.K - 1) / 2
	for o := 0; o < c.Out; o++ {
		row := y[o*T : (o+1)*T]
		for t := range row {
			row[t] = float64(c.Bias[o])
		}
		for i := 0; i < c.In; i++ {
			xi := x[i*T : (i+1)*T]
			for k := 0; k < c.K; k++ {
				wv := float64(c.Weight[(o*c.In+i)*c.K+k])
				shift := (k - half) * dil // output t reads input t+shift
				for t := range row {
					if s := t + shift; s >= 0 && s < T {
						row[t] += wv * xi[s]
					}
				}
			}
		}
	}
	return y
}

// softmaxColumns normalises x [C, T] over C for every t.
func softmaxColumns(x []float64, C, T int) []float64 {
	y := make([]float64, len(x))
	for t := 0; t < T; t++ {
		m := math.Inf(-1)
		for c := 0; c < C; c++ {
			m = math.Max(m, x[c*T+t])
		}
		var s float64
		for c := 0; c < C; c++ {
			y[c*T+t] = math.Exp(x[c*T+t] - m)
			s += y[c*T+t]
		}
		for c := 0; c < C; c++ {
			y[c*T+t] /= s
		}
	}
	return y
}
