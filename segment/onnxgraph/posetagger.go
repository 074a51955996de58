package onnxgraph

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Linear is a fully connected layer in PyTorch layout: Weight [Out, In]
// row-major, Bias [Out].
type Linear struct {
	Out, In int
	Weight  []float32
	Bias    []float32
}

func (l *Linear) check(what string, out, in int) error {
	if l.Out != out || l.In != in {
		return fmt.Errorf("%s: shape [%d,%d], want [%d,%d]", what, l.Out, l.In, out, in)
	}
	if len(l.Weight) != out*in || len(l.Bias) != out {
		return fmt.Errorf("%s: %d weights and %d biases for shape [%d,%d]", what, len(l.Weight), len(l.Bias), out, in)
	}
	return nil
}

// LSTMDirection is one direction of a one-layer PyTorch LSTM, in PyTorch's
// layout: the four gates stacked in the order input, forget, cell (g),
// output; WeightIH [4H, In], WeightHH [4H, H], BiasIH and BiasHH [4H].
type LSTMDirection struct {
	WeightIH, WeightHH []float32
	BiasIH, BiasHH     []float32
}

func (d *LSTMDirection) check(what string, in, h int) error {
	if len(d.WeightIH) != 4*h*in || len(d.WeightHH) != 4*h*h || len(d.BiasIH) != 4*h || len(d.BiasHH) != 4*h {
		return fmt.Errorf("%s: %d, %d, %d, %d values for W_ih [%d,%d], W_hh [%d,%d], b_ih and b_hh [%d]",
			what, len(d.WeightIH), len(d.WeightHH), len(d.BiasIH), len(d.BiasHH), 4*h, in, 4*h, h, 4*h)
	}
	return nil
}

// PoseTaggerWeights holds the pose segmenter of sign-language-processing/
// segmentation (2023 release, class PoseTaggingModel): a Linear projection
// of the flattened keypoints, one bidirectional LSTM layer (no activation
// in between), and two Linear heads over the concatenated [forward,
// backward] hidden states, each followed by log-softmax: signs and
// sentences, BIO classes O=0, B=1, I=2. The released model is 225 → 256,
// LSTM 128 per direction, 256 → 3.
type PoseTaggerWeights struct {
	Projection        Linear
	Hidden            int // LSTM hidden size per direction
	Forward, Backward LSTMDirection
	Sign, Sentence    Linear
}

// PoseTaggerDims are the sizes of a pose tagger: In input features per
// frame, Proj projection (LSTM input) size, Hidden LSTM size per
// direction, Classes per head.
type PoseTaggerDims struct {
	In, Proj, Hidden, Classes int
}

// Dims checks that all shapes agree and returns the sizes.
func (w *PoseTaggerWeights) Dims() (PoseTaggerDims, error) {
	if w == nil {
		return PoseTaggerDims{}, errors.New("pose tagger: no weights")
	}
	d := PoseTaggerDims{In: w.Projection.In, Proj: w.Projection.Out, Hidden: w.Hidden, Classes: w.Sign.Out}
	if d.In <= 0 || d.Proj <= 0 || d.Hidden <= 0 || d.Classes <= 0 {
		return d, fmt.Errorf("pose tagger has unusable dimensions %+v", d)
	}
	if err := w.Projection.check("projection", d.Proj, d.In); err != nil {
		return d, err
	}
	if err := w.Forward.check("forward LSTM", d.Proj, d.Hidden); err != nil {
		return d, err
	}
	if err := w.Backward.check("backward LSTM", d.Proj, d.Hidden); err != nil {
		return d, err
	}
	if err := w.Sign.check("sign head", d.Classes, 2*d.Hidden); err != nil {
		return d, err
	}
	if err := w.Sentence.check("sentence head", d.Classes, 2*d.Hidden); err != nil {
		return d, err
	}
	return d, nil
}

// PoseTaggerOptions controls BuildPoseTagger.
type PoseTaggerOptions struct {
	// Producer is the producer_name; "signseg" when empty.
	Producer string
	// Metadata is added to metadata_props (for example the source file's
	// hash); it may not override the keys BuildPoseTagger writes.
	Metadata map[string]string
}

// Names of the pose tagger graph's input and outputs.
const (
	PoseTaggerInput    = "pose"     // [N, T, In]
	PoseTaggerSign     = "sign"     // [N, T, Classes] log-probabilities
	PoseTaggerSentence = "sentence" // [N, T, Classes] log-probabilities
)

// onnxGateOrder maps ONNX's LSTM gate blocks (input, output, forget, cell)
// to PyTorch's (input, forget, cell, output): ONNX block k is PyTorch block
// onnxGateOrder[k].
var onnxGateOrder = [4]int{0, 3, 1, 2}

// reorderGates returns the rows of a PyTorch [4H, cols] gate matrix (or
// [4H] bias, cols = 1) in ONNX's gate order.
func reorderGates(src []float32, h, cols int) []float32 {
	out := make([]float32, 0, len(src))
	for _, g := range onnxGateOrder {
		out = append(out, src[g*h*cols:(g+1)*h*cols]...)
	}
	return out
}

// BuildPoseTagger writes w as an ONNX model.
//
// Input "pose" [N, T, In] float32 (N and T dynamic): per frame the
// pre-processed keypoints flattened point-major, feature point·Dims + dim
// (for the released model the 75 Holistic points × (x, y, z) of
// pose.HolisticPoints, normalised by pose.NormalizeShoulders); the PyTorch
// model's [N, T, 75, 3] input in the same memory order.
//
// Outputs "sign" and "sentence" [N, T, Classes]: per-frame log-
// probabilities (log-softmax) of the BIO classes, as the PyTorch model
// returns them.
//
// The LSTM is the ONNX LSTM operator (bidirectional, hidden_size H; the
// gates reordered from PyTorch's i, f, g, o to ONNX's i, o, f, c, and B
// the concatenation [b_ih, b_hh] per direction).
func BuildPoseTagger(w *PoseTaggerWeights, opts PoseTaggerOptions) ([]byte, error) {
	d, err := w.Dims()
	if err != nil {
		return nil, fmt.Errorf("build pose tagger: %w", err)
	}
	H := d.Hidden
	g := NewGraph("pose_tagger")
	x := g.Input(PoseTaggerInput, Float, Dynamic("N"), Dynamic("T"), Fixed(int64(d.In)))
	linear := func(name string, l *Linear, in string) string {
		wt := make([]float32, l.In*l.Out) // [In, Out] for MatMul
		for o := 0; o < l.Out; o++ {
			for i := 0; i < l.In; i++ {
				wt[i*l.Out+o] = l.Weight[o*l.In+i]
			}
		}
		wn := g.Float32(name+".weight_t", []int64{int64(l.In), int64(l.Out)}, wt)
		bn := g.Float32(name+".bias", []int64{int64(l.Out)}, l.Bias)
		return g.Node("Add", []string{g.Node("MatMul", []string{in, wn}), bn})
	}
	h := linear("pose_projection", &w.Projection, x)
	h = g.Node("Transpose", []string{h}, AttrInts("perm", 1, 0, 2)) // [T, N, P]: ONNX LSTM's layout 0
	var W, R, B []float32
	for _, dir := range []*LSTMDirection{&w.Forward, &w.Backward} {
		W = append(W, reorderGates(dir.WeightIH, H, d.Proj)...)
		R = append(R, reorderGates(dir.WeightHH, H, H)...)
	}
	for _, dir := range []*LSTMDirection{&w.Forward, &w.Backward} {
		B = append(B, reorderGates(dir.BiasIH, H, 1)...)
		B = append(B, reorderGates(dir.BiasHH, H, 1)...)
	}
	wn := g.Float32("encoder.W", []int64{2, int64(4 * H), int64(d.Proj)}, W)
	rn := g.Float32("encoder.R", []int64{2, int64(4 * H), int64(H)}, R)
	bn := g.Float32("encoder.B", []int64{2, int64(8 * H)}, B)
	y := g.Node("LSTM", []string{h, wn, rn, bn},
		AttrInt("hidden_size", int64(H)), AttrString("direction", "bidirectional"))
	// Y [T, 2, N, H] → [N, T, 2, H] → [N, T, 2H]: forward then backward, as
	// PyTorch concatenates them.
	y = g.Node("Transpose", []string{y}, AttrInts("perm", 2, 0, 1, 3))
	y = g.Node("Reshape", []string{y, g.Int64("concat_shape", []int64{3}, []int64{0, 0, -1})})
	for _, head := range []struct {
		name, out string
		l         *Linear
	}{{"sign_bio_head", PoseTaggerSign, &w.Sign}, {"sentence_bio_head", PoseTaggerSentence, &w.Sentence}} {
		z := linear(head.name, head.l, y)
		g.NodeNamed("LogSoftmax", head.out, []string{z}, AttrInt("axis", -1))
		g.Output(head.out, Float, Dynamic("N"), Dynamic("T"), Fixed(int64(d.Classes)))
	}
	meta := map[string]string{
		"model":        "pose-tagger",
		"input_dim":    strconv.Itoa(d.In),
		"projection":   strconv.Itoa(d.Proj),
		"lstm_hidden":  strconv.Itoa(H),
		"classes":      strconv.Itoa(d.Classes),
		"class_order":  "O,B,I",
		"outputs":      "log-probabilities",
		"input_layout": "[N,T,In]: per frame the keypoints flattened point-major (point*dims+dim)",
	}
	return marshalModel(g, "build pose tagger", opts.Producer,
		"pose tagger: keypoints [N,T,In] -> sign and sentence BIO log-probabilities [N,T,3]", meta, opts.Metadata)
}

// RandomPoseTagger returns a pose tagger of the given sizes with weights
// uniform in ±scale/√fan_in, for tests.
func RandomPoseTagger(rng *rand.Rand, d PoseTaggerDims, scale float64) (*PoseTaggerWeights, error) {
	if d.In <= 0 || d.Proj <= 0 || d.Hidden <= 0 || d.Classes <= 0 {
		return nil, fmt.Errorf("random pose tagger: unusable dimensions %+v", d)
	}
	u := func(n, fan int) []float32 {
		a := scale / math.Sqrt(float64(fan))
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(a * (2*rng.Float64() - 1))
		}
		return v
	}
	lin := func(out, in int) Linear {
		return Linear{Out: out, In: in, Weight: u(out*in, in), Bias: u(out, in)}
	}
	dir := func() LSTMDirection {
		H := d.Hidden
		return LSTMDirection{WeightIH: u(4*H*d.Proj, H), WeightHH: u(4*H*H, H), BiasIH: u(4*H, H), BiasHH: u(4*H, H)}
	}
	return &PoseTaggerWeights{Projection: lin(d.Proj, d.In), Hidden: d.Hidden, Forward: dir(), Backward: dir(),
		Sign: lin(d.Classes, 2*d.Hidden), Sentence: lin(d.Classes, 2*d.Hidden)}, nil
}

// ReferencePoseTagger runs w on x ([T, In] row-major, batch 1) with plain
// loops in float64 and PyTorch's LSTM equations, independently of the ONNX
// graph. It returns the sign and sentence log-probabilities, [T, Classes]
// each.
func ReferencePoseTagger(w *PoseTaggerWeights, x []float32, T int) (sign, sentence []float32, err error) {
	d, err := w.Dims()
	if err != nil {
		return nil, nil, fmt.Errorf("reference pose tagger: %w", err)
	}
	if T <= 0 || len(x) != T*d.In {
		return nil, nil, fmt.Errorf("reference pose tagger: %d input values for T=%d, In=%d", len(x), T, d.In)
	}
	lin := func(l *Linear, in []float64) []float64 {
		out := make([]float64, l.Out)
		for o := range out {
			s := float64(l.Bias[o])
			for i, v := range in {
				s += float64(l.Weight[o*l.In+i]) * v
			}
			out[o] = s
		}
		return out
	}
	proj := make([][]float64, T)
	for t := range proj {
		in := make([]float64, d.In)
		for i := range in {
			in[i] = float64(x[t*d.In+i])
		}
		proj[t] = lin(&w.Projection, in)
	}
	H := d.Hidden
	hs := make([][]float64, T) // [2H] per frame: forward then backward
	for t := range hs {
		hs[t] = make([]float64, 2*H)
	}
	sigmoid := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for k, dir := range []*LSTMDirection{&w.Forward, &w.Backward} {
		h, c := make([]float64, H), make([]float64, H)
		for s := 0; s < T; s++ {
			t := s
			if k == 1 {
				t = T - 1 - s
			}
			gates := make([]float64, 4*H) // PyTorch order i, f, g, o
			for r := range gates {
				v := float64(dir.BiasIH[r]) + float64(dir.BiasHH[r])
				for i, xv := range proj[t] {
					v += float64(dir.WeightIH[r*d.Proj+i]) * xv
				}
				for j, hv := range h {
					v += float64(dir.WeightHH[r*H+j]) * hv
				}
				gates[r] = v
			}
			for j := 0; j < H; j++ {
				ig, fg := sigmoid(gates[j]), sigmoid(gates[H+j])
				gg, og := math.Tanh(gates[2*H+j]), sigmoid(gates[3*H+j])
				c[j] = fg*c[j] + ig*gg
				h[j] = og * math.Tanh(c[j])
			}
			copy(hs[t][k*H:(k+1)*H], h)
		}
	}
	logSoftmax := func(z []float64) []float32 {
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(v - m)
		}
		out := make([]float32, len(z))
		for i, v := range z {
			out[i] = float32(v - m - math.Log(s))
		}
		return out
	}
	for t := 0; t < T; t++ {
		sign = append(sign, logSoftmax(lin(&w.Sign, hs[t]))...)
		sentence = append(sentence, logSoftmax(lin(&w.Sentence, hs[t]))...)
	}
	return sign, sentence, nil
}
