package onnxgraph

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Conv3D is one Conv3d layer in PyTorch layout: Weight is [Out, In, KT, KH,
// KW] row-major; Bias has Out values or is nil (the I3D's units have none,
// its logits layer has one).
type Conv3D struct {
	Out, In int
	Kernel  [3]int // KT, KH, KW
	Weight  []float32
	Bias    []float32
}

// BatchNorm holds the eval-mode parameters of a BatchNorm3d layer, one value
// per channel.
type BatchNorm struct {
	Weight, Bias, Mean, Var []float32 // γ, β, running mean, running variance
}

// Unit3D is the I3D's basic block: Conv3d (no bias, stride Stride, TF "same"
// padding) → BatchNorm3d (eps I3DBatchNormEps) → ReLU.
type Unit3D struct {
	Conv   Conv3D
	BN     BatchNorm
	Stride [3]int // zero means 1 (2 for I3DWeights.Conv1a, the stem)
}

// Inception is one Inception module: branches B0 (1×1×1), B1a→B1b (1×1×1
// then 3×3×3), B2a→B2b, and a 3×3×3 max pool → B3b, concatenated on channels
// in that order.
type Inception struct {
	B0, B1a, B1b, B2a, B2b, B3b Unit3D
}

// I3DWeights holds an InceptionI3d (Carreira & Zisserman 2017, in the
// BSL-1K variant used by Renz et al. 2021). Channel counts come from the
// weights, so reduced-width models work too.
type I3DWeights struct {
	Conv1a Unit3D      // Conv3d_1a_7x7, stride 2
	Conv2b Unit3D      // Conv3d_2b_1x1
	Conv2c Unit3D      // Conv3d_2c_3x3
	Mixed  []Inception // Mixed_3b … Mixed_5c, in I3DMixed order
	Logits *Conv3D     // optional 1×1×1 classifier with bias
}

// i3dMixed names the nine Inception modules in order.
var i3dMixed = [9]string{"Mixed_3b", "Mixed_3c", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f", "Mixed_5b", "Mixed_5c"}

// I3DMixed returns the names of the nine Inception modules in order (the
// state-dict prefixes Mixed_3b … Mixed_5c).
func I3DMixed() [9]string { return i3dMixed }

// I3DBatchNormEps is the BatchNorm3d epsilon of the published model (TF's
// 0.001, not PyTorch's default 1e-5).
const I3DBatchNormEps = 0.001

// The fixed clip the graph is built for: pads of TF "same" padding depend on
// the input size, so only the batch dimension is dynamic.
const (
	I3DFrames = 16
	I3DSize   = 224
)

// Names of the I3D graph's input and outputs.
const (
	I3DInput    = "clips"    // [N, 3, 16, 224, 224]
	I3DFeatures = "features" // [N, Dim]: the average-pooled output
	I3DLogits   = "logits"   // [N, C]
)

// I3DOptions controls BuildI3D.
type I3DOptions struct {
	// KeepBatchNorm writes BatchNormalization nodes instead of folding each
	// BatchNorm into its convolution's weights and bias (for checking the
	// folding).
	KeepBatchNorm bool
	// Logits adds the output "logits" [N, C]; the weights must have them.
	Logits bool
	// Producer is the producer_name; "signseg" when empty.
	Producer string
	// Metadata is added to metadata_props; it may not override the keys
	// BuildI3D writes.
	Metadata map[string]string
}

func (u *Unit3D) stride() [3]int {
	s := u.Stride
	for i := range s {
		if s[i] == 0 {
			s[i] = 1
		}
	}
	return s
}

func (c *Conv3D) check(what string, in int) error {
	k := c.Kernel
	if c.Out <= 0 || c.In != in || k[0] <= 0 || k[1] <= 0 || k[2] <= 0 {
		return fmt.Errorf("%s: shape [%d,%d,%d,%d,%d], want %d input channels", what, c.Out, c.In, k[0], k[1], k[2], in)
	}
	if len(c.Weight) != c.Out*c.In*k[0]*k[1]*k[2] {
		return fmt.Errorf("%s: %d weights for shape [%d,%d,%d,%d,%d]", what, len(c.Weight), c.Out, c.In, k[0], k[1], k[2])
	}
	if c.Bias != nil && len(c.Bias) != c.Out {
		return fmt.Errorf("%s: %d biases for %d output channels", what, len(c.Bias), c.Out)
	}
	return nil
}

func (u *Unit3D) check(what string, in int) error {
	if err := u.Conv.check(what+" conv", in); err != nil {
		return err
	}
	n := u.Conv.Out
	if len(u.BN.Weight) != n || len(u.BN.Bias) != n || len(u.BN.Mean) != n || len(u.BN.Var) != n {
		return fmt.Errorf("%s batch norm: %d/%d/%d/%d values, want %d each", what, len(u.BN.Weight), len(u.BN.Bias), len(u.BN.Mean), len(u.BN.Var), n)
	}
	for i, v := range u.BN.Var {
		if !(v >= 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s batch norm: running variance %g at channel %d", what, v, i)
		}
	}
	return nil
}

// Out returns the number of channels an Inception module produces.
func (m *Inception) Out() int {
	return m.B0.Conv.Out + m.B1b.Conv.Out + m.B2b.Conv.Out + m.B3b.Conv.Out
}

// Dims checks that every layer's input channels match what feeds it and
// returns the feature size (Mixed_5c's channels) and the number of classes
// (0 without logits).
func (w *I3DWeights) Dims() (dim, classes int, err error) {
	if w == nil {
		return 0, 0, errors.New("I3D: no weights")
	}
	if len(w.Mixed) != len(i3dMixed) {
		return 0, 0, fmt.Errorf("I3D: %d Inception modules, want %d", len(w.Mixed), len(i3dMixed))
	}
	if err := w.Conv1a.check("Conv3d_1a_7x7", 3); err != nil {
		return 0, 0, fmt.Errorf("I3D: %w", err)
	}
	if err := w.Conv2b.check("Conv3d_2b_1x1", w.Conv1a.Conv.Out); err != nil {
		return 0, 0, fmt.Errorf("I3D: %w", err)
	}
	if err := w.Conv2c.check("Conv3d_2c_3x3", w.Conv2b.Conv.Out); err != nil {
		return 0, 0, fmt.Errorf("I3D: %w", err)
	}
	c := w.Conv2c.Conv.Out
	for i := range w.Mixed {
		m := &w.Mixed[i]
		n := i3dMixed[i]
		for _, b := range []struct {
			name string
			u    *Unit3D
			in   int
		}{{"b0", &m.B0, c}, {"b1a", &m.B1a, c}, {"b1b", &m.B1b, m.B1a.Conv.Out}, {"b2a", &m.B2a, c}, {"b2b", &m.B2b, m.B2a.Conv.Out}, {"b3b", &m.B3b, c}} {
			if err := b.u.check(n+"."+b.name, b.in); err != nil {
				return 0, 0, fmt.Errorf("I3D: %w", err)
			}
		}
		c = m.Out()
	}
	if w.Logits != nil {
		if err := w.Logits.check("logits", c); err != nil {
			return 0, 0, fmt.Errorf("I3D: %w", err)
		}
		if w.Logits.Kernel != [3]int{1, 1, 1} || len(w.Logits.Bias) != w.Logits.Out {
			return 0, 0, fmt.Errorf("I3D: logits must be a 1×1×1 convolution with bias")
		}
		return c, w.Logits.Out, nil
	}
	return c, 0, nil
}

// samePads returns TF "same" padding (front, back) for input size n, kernel
// k and stride s, as the BSL-1K I3D computes it in every forward pass.
func samePads(n, k, s int) (front, back int) {
	var pad int
	if n%s == 0 {
		pad = max(k-s, 0)
	} else {
		pad = max(k-n%s, 0)
	}
	return pad / 2, pad - pad/2
}

// i3dBuilder tracks the current value and its [C, T, H, W] shape.
type i3dBuilder struct {
	g    *Graph
	fold bool
}

type vol struct {
	name       string
	c, t, h, w int
}

// padsFor returns ONNX pads [t0,h0,w0,t1,h1,w1] and the output size.
func padsFor(in vol, k, s [3]int) ([]int64, [3]int) {
	n := [3]int{in.t, in.h, in.w}
	pads := make([]int64, 6)
	var out [3]int
	for i := range 3 {
		f, b := samePads(n[i], k[i], s[i])
		pads[i], pads[i+3] = int64(f), int64(b)
		out[i] = (n[i]+f+b-k[i])/s[i] + 1
	}
	return pads, out
}

func ints3(v [3]int) []int64 { return []int64{int64(v[0]), int64(v[1]), int64(v[2])} }

func convDims(c *Conv3D) []int64 {
	return []int64{int64(c.Out), int64(c.In), int64(c.Kernel[0]), int64(c.Kernel[1]), int64(c.Kernel[2])}
}

// unit writes Conv → (folded) BatchNorm → ReLU.
func (b *i3dBuilder) unit(name string, u *Unit3D, x vol) vol {
	g := b.g
	s := u.stride()
	pads, out := padsFor(x, u.Conv.Kernel, s)
	attrs := []Attr{AttrInts("kernel_shape", ints3(u.Conv.Kernel)...), AttrInts("strides", ints3(s)...), AttrInts("pads", pads...)}
	var y string
	if b.fold {
		w, bias := foldBN(&u.Conv, &u.BN, I3DBatchNormEps)
		wn := g.Float32(name+".conv3d.weight", convDims(&u.Conv), w)
		bn := g.Float32(name+".conv3d.bias", []int64{int64(u.Conv.Out)}, bias)
		y = g.Node("Conv", []string{x.name, wn, bn}, attrs...)
	} else {
		wn := g.Float32(name+".conv3d.weight", convDims(&u.Conv), u.Conv.Weight)
		in := []string{x.name, wn}
		if u.Conv.Bias != nil {
			in = append(in, g.Float32(name+".conv3d.bias", []int64{int64(u.Conv.Out)}, u.Conv.Bias))
		}
		y = g.Node("Conv", in, attrs...)
		n := []int64{int64(u.Conv.Out)}
		y = g.Node("BatchNormalization", []string{y,
			g.Float32(name+".bn.weight", n, u.BN.Weight), g.Float32(name+".bn.bias", n, u.BN.Bias),
			g.Float32(name+".bn.running_mean", n, u.BN.Mean), g.Float32(name+".bn.running_var", n, u.BN.Var)},
			AttrFloat("epsilon", I3DBatchNormEps))
	}
	y = g.Node("Relu", []string{y})
	return vol{y, u.Conv.Out, out[0], out[1], out[2]}
}

// maxPool writes the zero-padded "same" max pool. Its inputs are ReLU
// outputs (≥ 0), so ONNX MaxPool's padding (ignored positions) gives the
// same maxima as PyTorch's explicit zero padding.
func (b *i3dBuilder) maxPool(x vol, k, s [3]int) vol {
	pads, out := padsFor(x, k, s)
	y := b.g.Node("MaxPool", []string{x.name}, AttrInts("kernel_shape", ints3(k)...), AttrInts("strides", ints3(s)...), AttrInts("pads", pads...))
	return vol{y, x.c, out[0], out[1], out[2]}
}

func (b *i3dBuilder) inception(name string, m *Inception, x vol) vol {
	b0 := b.unit(name+".b0", &m.B0, x)
	b1 := b.unit(name+".b1b", &m.B1b, b.unit(name+".b1a", &m.B1a, x))
	b2 := b.unit(name+".b2b", &m.B2b, b.unit(name+".b2a", &m.B2a, x))
	b3 := b.unit(name+".b3b", &m.B3b, b.maxPool(x, [3]int{3, 3, 3}, [3]int{1, 1, 1}))
	y := b.g.Node("Concat", []string{b0.name, b1.name, b2.name, b3.name}, AttrInt("axis", 1))
	return vol{y, b0.c + b1.c + b2.c + b3.c, b0.t, b0.h, b0.w}
}

// foldBN returns the convolution's weights and bias with the eval-mode
// batch norm folded in: w' = w·γ/√(var+ε), b' = β + (b − mean)·γ/√(var+ε),
// computed in float64.
func foldBN(c *Conv3D, bn *BatchNorm, eps float64) ([]float32, []float32) {
	per := len(c.Weight) / c.Out
	w := make([]float32, len(c.Weight))
	bias := make([]float32, c.Out)
	for o := 0; o < c.Out; o++ {
		scale := float64(bn.Weight[o]) / math.Sqrt(float64(bn.Var[o])+eps)
		for i := o * per; i < (o+1)*per; i++ {
			w[i] = float32(float64(c.Weight[i]) * scale)
		}
		var cb float64
		if c.Bias != nil {
			cb = float64(c.Bias[o])
		}
		bias[o] = float32(float64(bn.Bias[o]) + (cb-float64(bn.Mean[o]))*scale)
	}
	return w, bias
}

// BuildI3D writes w as an ONNX model with input "clips" [N, 3, 16, 224, 224]
// (N dynamic, values as the paper's preprocessing gives them) and output
// "features" [N, Dim], the average-pooled Mixed_5c output, plus "logits"
// [N, C] when asked. TF "same" padding is computed for the fixed clip and
// written as explicit asymmetric pads; BatchNorm is folded into the
// convolutions unless opts.KeepBatchNorm; dropout is omitted (identity at
// inference).
func BuildI3D(w *I3DWeights, opts I3DOptions) ([]byte, error) {
	dim, classes, err := w.Dims()
	if err != nil {
		return nil, fmt.Errorf("build I3D: %w", err)
	}
	if opts.Logits && w.Logits == nil {
		return nil, errors.New("build I3D: logits asked for, but the weights have no logits layer")
	}
	g := NewGraph("i3d")
	b := &i3dBuilder{g: g, fold: !opts.KeepBatchNorm}
	x := vol{g.Input(I3DInput, Float, Dynamic("batch"), Fixed(3), Fixed(I3DFrames), Fixed(I3DSize), Fixed(I3DSize)), 3, I3DFrames, I3DSize, I3DSize}
	if w.Conv1a.Stride == [3]int{} {
		w2 := *w
		w2.Conv1a.Stride = [3]int{2, 2, 2} // the stem's stride is part of the topology
		w = &w2
	}
	x = b.unit("Conv3d_1a_7x7", &w.Conv1a, x)
	x = b.maxPool(x, [3]int{1, 3, 3}, [3]int{1, 2, 2})
	x = b.unit("Conv3d_2b_1x1", &w.Conv2b, x)
	x = b.unit("Conv3d_2c_3x3", &w.Conv2c, x)
	x = b.maxPool(x, [3]int{1, 3, 3}, [3]int{1, 2, 2})
	for i := range w.Mixed {
		x = b.inception(i3dMixed[i], &w.Mixed[i], x)
		switch i3dMixed[i] {
		case "Mixed_3c":
			x = b.maxPool(x, [3]int{3, 3, 3}, [3]int{2, 2, 2})
		case "Mixed_4f":
			x = b.maxPool(x, [3]int{2, 2, 2}, [3]int{2, 2, 2})
		}
	}
	// AvgPool3d((ceil(T/8), 7, 7), stride 1): for the 16×224×224 clip it
	// covers the whole 2×7×7 volume.
	k := [3]int{(I3DFrames + 7) / 8, 7, 7}
	if x.t != k[0] || x.h != k[1] || x.w != k[2] {
		return nil, fmt.Errorf("build I3D: Mixed_5c output is %d×%d×%d, the average pool expects %d×%d×%d", x.t, x.h, x.w, k[0], k[1], k[2])
	}
	pooled := g.Node("AveragePool", []string{x.name}, AttrInts("kernel_shape", ints3(k)...), AttrInts("strides", 1, 1, 1))
	g.NodeNamed("Flatten", I3DFeatures, []string{pooled}, AttrInt("axis", 1))
	g.Output(I3DFeatures, Float, Dynamic("batch"), Fixed(int64(dim)))
	if opts.Logits {
		l := w.Logits
		wn := g.Float32("logits.conv3d.weight", convDims(l), l.Weight)
		bn := g.Float32("logits.conv3d.bias", []int64{int64(l.Out)}, l.Bias)
		y := g.Node("Conv", []string{pooled, wn, bn}, AttrInts("kernel_shape", 1, 1, 1))
		g.NodeNamed("Flatten", I3DLogits, []string{y}, AttrInt("axis", 1))
		g.Output(I3DLogits, Float, Dynamic("batch"), Fixed(int64(classes)))
	}
	meta := map[string]string{
		"model":        "i3d",
		"feature_dim":  strconv.Itoa(dim),
		"classes":      strconv.Itoa(classes),
		"clip":         fmt.Sprintf("%dx%dx%d", I3DFrames, I3DSize, I3DSize),
		"bn_folded":    strconv.FormatBool(!opts.KeepBatchNorm),
		"bn_epsilon":   strconv.FormatFloat(I3DBatchNormEps, 'g', -1, 64),
		"same_padding": "tf-same, explicit pads for the fixed clip",
	}
	return marshalModel(g, "build I3D", opts.Producer, "InceptionI3d feature extractor: clips [N,3,16,224,224] -> features [N,Dim]", meta, opts.Metadata)
}
