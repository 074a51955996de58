package tflite

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/signseg/signseg/segment/onnxgraph"
)

// Supported lists the TFLite builtin ops Convert handles.
var Supported = []string{"ADD", "CONCATENATION", "CONV_2D", "DENSIFY", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
	"DEQUANTIZE", "FULLY_CONNECTED", "LOGISTIC", "MAX_POOL_2D", "MEAN", "PAD", "PRELU", "RESHAPE",
	"RESIZE_BILINEAR", "STRIDED_SLICE"}

// UnsupportedError reports an op (or an option of a supported op) that the
// converter does not handle; conversion stops rather than write a graph that
// could compute something else.
type UnsupportedError struct {
	Model    string // the model's name as given to Convert
	Op       string // TFLite op name, e.g. "SOFTMAX"
	Operator int    // index in the subgraph
	Detail   string // the unsupported option, empty for an unknown op
}

func (e *UnsupportedError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s: operator %d (%s): %s is not supported", e.Model, e.Operator, e.Op, e.Detail)
	}
	return fmt.Sprintf("%s: operator %d: TFLite op %s is not supported (the converter handles %s)",
		e.Model, e.Operator, e.Op, strings.Join(Supported, ", "))
}

// errDetail marks an op-level error as an unsupported option.
type errDetail string

func (e errDetail) Error() string { return string(e) }

// Convert parses a TFLite model and converts it into an ONNX model (IR 8,
// opset 13). The ONNX graph keeps the TFLite input and output names and
// shapes, inputs and outputs in NHWC layout; internally 4-D activations run
// in NCHW. name identifies the model in errors and the ONNX metadata. Every
// error names the model; an unknown op or option is an *UnsupportedError.
func Convert(tflite []byte, name string) ([]byte, error) {
	m, err := Parse(tflite)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ConvertModel(m, name)
}

// ConvertModel converts an already parsed model; see Convert.
func ConvertModel(m *Model, name string) ([]byte, error) {
	c := &converter{m: m, name: name, g: onnxgraph.NewGraph(graphName(name)), vals: map[int]*value{}}
	if m.Subgraphs != 1 {
		return nil, fmt.Errorf("%s: %d subgraphs; only single-subgraph models can be converted", name, m.Subgraphs)
	}
	for _, i := range m.Inputs {
		t := &m.Tensors[i]
		if t.Type != Float32 {
			return nil, fmt.Errorf("%s: input %q is %s; only FLOAT32 inputs are supported", name, t.Name, t.Type)
		}
		c.vals[i] = &value{shape: t.Shape, plain: c.g.Input(t.Name, onnxgraph.Float, dims(t.Shape)...)}
	}
	for i := range m.Operators {
		op := &m.Operators[i]
		if err := c.operator(op); err != nil {
			var d errDetail
			if errors.As(err, &d) {
				return nil, &UnsupportedError{Model: name, Op: op.Name(), Operator: i, Detail: string(d)}
			}
			var u *UnsupportedError
			if errors.As(err, &u) {
				u.Model, u.Operator = name, i
				return nil, u
			}
			return nil, fmt.Errorf("%s: operator %d (%s): %w", name, i, op.Name(), err)
		}
	}
	for _, i := range m.Outputs {
		t := &m.Tensors[i]
		v := c.vals[i]
		if v == nil {
			return nil, fmt.Errorf("%s: output %q is never computed", name, t.Name)
		}
		x, err := c.plain(v)
		if err != nil {
			return nil, fmt.Errorf("%s: output %q: %w", name, t.Name, err)
		}
		c.g.NodeNamed("Identity", t.Name, []string{x})
		c.g.Output(t.Name, onnxgraph.Float, dims(t.Shape)...)
	}
	meta := map[string]string{"source_format": "tflite", "source_model": name}
	if m.Description != "" {
		meta["tflite_description"] = m.Description
	}
	out, err := c.g.Marshal(onnxgraph.ModelInfo{Producer: "signseg tflite", Metadata: meta})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func graphName(name string) string {
	if name == "" {
		return "tflite"
	}
	return name
}

func dims(shape []int) []onnxgraph.Dim {
	d := make([]onnxgraph.Dim, len(shape))
	for i, s := range shape {
		d[i] = onnxgraph.Fixed(int64(s))
	}
	return d
}

// value is a TFLite tensor during conversion: an ONNX value in TFLite
// layout (plain), in NCHW layout (rank 4 only), both, or a folded constant.
type value struct {
	shape []int // TFLite (NHWC) shape
	plain string
	nchw  string
	k     *constant
}

type converter struct {
	m     *Model
	name  string
	g     *onnxgraph.Graph
	vals  map[int]*value
	names int
}

func (c *converter) fresh(prefix string) string {
	c.names++
	return fmt.Sprintf("%s_%d", prefix, c.names)
}

// nhwcToNCHW and nchwToNHWC are Transpose perms.
var (
	nhwcToNCHW = []int{0, 3, 1, 2}
	nchwToNHWC = []int{0, 2, 3, 1}
)

// plain returns v's ONNX value in TFLite layout.
func (c *converter) plain(v *value) (string, error) {
	if v.plain != "" {
		return v.plain, nil
	}
	if v.k != nil {
		if v.k.f32 == nil {
			return "", fmt.Errorf("integer constant used as data")
		}
		v.plain = c.g.Float32(c.fresh("const"), int64s(v.k.shape), v.k.f32)
		return v.plain, nil
	}
	v.plain = c.g.Node("Transpose", []string{v.nchw}, onnxgraph.AttrInts("perm", int64s(nchwToNHWC)...))
	return v.plain, nil
}

// nchw returns v's ONNX value in NCHW layout; v must have rank 4.
func (c *converter) nchw(v *value) (string, error) {
	if v.nchw != "" {
		return v.nchw, nil
	}
	if len(v.shape) != 4 {
		return "", fmt.Errorf("rank-%d tensor where a 4-D (NHWC) one is needed", len(v.shape))
	}
	if v.k != nil {
		if v.k.f32 == nil {
			return "", fmt.Errorf("integer constant used as data")
		}
		sh, data := transpose(v.k.shape, v.k.f32, nhwcToNCHW)
		v.nchw = c.g.Float32(c.fresh("const"), int64s(sh), data)
		return v.nchw, nil
	}
	v.nchw = c.g.Node("Transpose", []string{v.plain}, onnxgraph.AttrInts("perm", int64s(nhwcToNCHW)...))
	return v.nchw, nil
}

// constNCHW returns a float constant of rank ≤ 4, broadcast against NHWC
// data, re-laid for broadcasting against the same data in NCHW.
func (c *converter) constNCHW(k *constant) (string, error) {
	if len(k.shape) > 4 || k.f32 == nil {
		return "", fmt.Errorf("constant of shape %v cannot broadcast against 4-D data", k.shape)
	}
	sh := append(slices.Repeat([]int{1}, 4-len(k.shape)), k.shape...)
	sh, data := transpose(sh, k.f32, nhwcToNCHW)
	return c.g.Float32(c.fresh("const"), int64s(sh), data), nil
}

// input returns the value of the operator's j-th input, folding constants.
func (c *converter) input(op *Operator, j int) (*value, error) {
	if j >= len(op.Inputs) || op.Inputs[j] < 0 {
		return nil, fmt.Errorf("input %d is missing", j)
	}
	idx := op.Inputs[j]
	if v := c.vals[idx]; v != nil {
		return v, nil
	}
	t := &c.m.Tensors[idx]
	if t.Data == nil {
		return nil, fmt.Errorf("input tensor %q is read before any operator writes it", t.Name)
	}
	if t.Sparsity != nil {
		if op.Code != opDensify {
			return nil, fmt.Errorf("sparse tensor %q is read by %s, not by DENSIFY", t.Name, op.Name())
		}
		return &value{shape: t.Shape}, nil // densify reads the tensor itself
	}
	if t.Quantized {
		return nil, errDetail(fmt.Sprintf("quantized tensor %q (%s)", t.Name, t.Type))
	}
	k, err := decodeDense(t)
	if err != nil {
		return nil, err
	}
	v := &value{shape: t.Shape, k: k}
	c.vals[idx] = v
	return v, nil
}

// constIn returns the j-th input as a folded constant.
func (c *converter) constIn(op *Operator, j int, what string) (*constant, error) {
	v, err := c.input(op, j)
	if err != nil {
		return nil, err
	}
	if v.k == nil {
		return nil, errDetail(fmt.Sprintf("non-constant %s", what))
	}
	return v.k, nil
}

// optionalConst returns input j as a constant, nil when omitted.
func (c *converter) optionalConst(op *Operator, j int, what string) (*constant, error) {
	if j >= len(op.Inputs) || op.Inputs[j] < 0 {
		return nil, nil
	}
	return c.constIn(op, j, what)
}

func (c *converter) setOut(op *Operator, v *value) error {
	if len(op.Outputs) != 1 {
		return fmt.Errorf("%d outputs, want 1", len(op.Outputs))
	}
	idx := op.Outputs[0]
	if c.vals[idx] != nil || c.m.Tensors[idx].Data != nil {
		return fmt.Errorf("output tensor %q is written twice", c.m.Tensors[idx].Name)
	}
	v.shape = c.m.Tensors[idx].Shape
	if c.m.Tensors[idx].Type != Float32 {
		return errDetail(fmt.Sprintf("output of type %s", c.m.Tensors[idx].Type))
	}
	c.vals[idx] = v
	return nil
}

func (c *converter) outShape(op *Operator) []int {
	if len(op.Outputs) == 0 {
		return nil
	}
	return c.m.Tensors[op.Outputs[0]].Shape
}

// activation applies a fused activation function.
func (c *converter) activation(x string, a int8) (string, error) {
	switch a {
	case 0:
		return x, nil
	case 1:
		return c.g.Node("Relu", []string{x}), nil
	case 2:
		return c.clip(x, -1, 1), nil
	case 3:
		return c.clip(x, 0, 6), nil
	case 4:
		return c.g.Node("Tanh", []string{x}), nil
	}
	return "", errDetail(fmt.Sprintf("fused activation %d", a))
}

func (c *converter) clip(x string, lo, hi float32) string {
	l := c.g.Float32(c.fresh("clip_min"), nil, []float32{lo})
	h := c.g.Float32(c.fresh("clip_max"), nil, []float32{hi})
	return c.g.Node("Clip", []string{x, l, h})
}

func (c *converter) operator(op *Operator) error {
	switch op.Code {
	case opConv2D, opDepthwiseConv2D:
		return c.conv(op)
	case opMaxPool2D:
		return c.maxPool(op)
	case opAdd:
		return c.add(op)
	case opPad:
		return c.pad(op)
	case opReshape:
		return c.reshape(op)
	case opConcatenation:
		return c.concat(op)
	case opResizeBilinear:
		return c.resize(op)
	case opLogistic:
		return c.unary(op, "Sigmoid")
	case opPRelu:
		return c.prelu(op)
	case opFullyConnected:
		return c.fullyConnected(op)
	case opMean:
		return c.mean(op)
	case opStridedSlice:
		return c.stridedSlice(op)
	case opDepthToSpace:
		return c.depthToSpace(op)
	case opDequantize:
		return c.dequantize(op)
	case opDensify:
		return c.densify(op)
	}
	return &UnsupportedError{Op: op.Name()}
}

// samePads returns TF "SAME" padding: the output has ceil(in/stride)
// positions and the odd pixel of padding goes after (bottom/right).
func samePads(in, k, stride, dilation int) (int, int) {
	eff := (k-1)*dilation + 1
	out := (in + stride - 1) / stride
	total := max((out-1)*stride+eff-in, 0)
	return total / 2, total - total/2
}

// pads2D returns ONNX pads [top, left, bottom, right] for a 2-D window.
func pads2D(o *Options, h, w, kh, kw int) ([]int64, error) {
	if o.StrideH < 1 || o.StrideW < 1 || o.DilationH < 1 || o.DilationW < 1 {
		return nil, errDetail(fmt.Sprintf("stride %dx%d with dilation %dx%d", o.StrideH, o.StrideW, o.DilationH, o.DilationW))
	}
	switch o.Padding {
	case 1: // VALID
		return []int64{0, 0, 0, 0}, nil
	case 0: // SAME
		t, b := samePads(h, kh, o.StrideH, o.DilationH)
		l, r := samePads(w, kw, o.StrideW, o.DilationW)
		return []int64{int64(t), int64(l), int64(b), int64(r)}, nil
	}
	return nil, errDetail(fmt.Sprintf("padding %d", o.Padding))
}

func (c *converter) conv(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 4 {
		return fmt.Errorf("input has shape %v, want NHWC", x.shape)
	}
	xn, err := c.nchw(x)
	if err != nil {
		return err
	}
	w, err := c.constIn(op, 1, "filter")
	if err != nil {
		return err
	}
	if len(w.shape) != 4 || w.f32 == nil {
		return fmt.Errorf("filter has shape %v, want 4-D float", w.shape)
	}
	bias, err := c.optionalConst(op, 2, "bias")
	if err != nil {
		return err
	}
	o := op.Opt
	inC := x.shape[3]
	kh, kw := w.shape[1], w.shape[2]
	var wShape []int
	var wData []float32
	group := 1
	if op.Code == opConv2D {
		// OHWI → OIHW; a filter with fewer input channels is a grouped conv.
		if w.shape[3] == 0 || inC%w.shape[3] != 0 {
			return fmt.Errorf("filter %v does not fit %d input channels", w.shape, inC)
		}
		group = inC / w.shape[3]
		wShape, wData = transpose(w.shape, w.f32, []int{0, 3, 1, 2})
	} else {
		// 1HW(C·m) → (C·m)1HW, one group per input channel.
		outC := w.shape[3]
		if w.shape[0] != 1 || inC == 0 || outC%inC != 0 {
			return fmt.Errorf("depthwise filter %v does not fit %d input channels", w.shape, inC)
		}
		if o.DepthMultiplier != 0 && o.DepthMultiplier != outC/inC {
			return fmt.Errorf("depth multiplier %d but filter %v for %d channels", o.DepthMultiplier, w.shape, inC)
		}
		group = inC
		wShape, wData = transpose(w.shape, w.f32, []int{3, 0, 1, 2})
	}
	pads, err := pads2D(&o, x.shape[1], x.shape[2], kh, kw)
	if err != nil {
		return err
	}
	ins := []string{xn, c.g.Float32(c.fresh("weight"), int64s(wShape), wData)}
	if bias != nil {
		if bias.f32 == nil || len(bias.f32) != wShape[0] {
			return fmt.Errorf("bias of shape %v for %d output channels", bias.shape, wShape[0])
		}
		ins = append(ins, c.g.Float32(c.fresh("bias"), []int64{int64(wShape[0])}, bias.f32))
	}
	y := c.g.Node("Conv", ins,
		onnxgraph.AttrInts("kernel_shape", int64(kh), int64(kw)),
		onnxgraph.AttrInts("strides", int64(o.StrideH), int64(o.StrideW)),
		onnxgraph.AttrInts("dilations", int64(o.DilationH), int64(o.DilationW)),
		onnxgraph.AttrInts("pads", pads...),
		onnxgraph.AttrInt("group", int64(group)))
	if y, err = c.activation(y, o.Activation); err != nil {
		return err
	}
	return c.setOut(op, &value{nchw: y})
}

func (c *converter) maxPool(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	xn, err := c.nchw(x)
	if err != nil {
		return err
	}
	o := op.Opt
	o.DilationH, o.DilationW = 1, 1
	if o.FilterH < 1 || o.FilterW < 1 {
		return errDetail(fmt.Sprintf("filter %dx%d", o.FilterH, o.FilterW))
	}
	pads, err := pads2D(&o, x.shape[1], x.shape[2], o.FilterH, o.FilterW)
	if err != nil {
		return err
	}
	// ONNX MaxPool ignores padded positions, like TFLite.
	y := c.g.Node("MaxPool", []string{xn},
		onnxgraph.AttrInts("kernel_shape", int64(o.FilterH), int64(o.FilterW)),
		onnxgraph.AttrInts("strides", int64(o.StrideH), int64(o.StrideW)),
		onnxgraph.AttrInts("pads", pads...))
	if y, err = c.activation(y, o.Activation); err != nil {
		return err
	}
	return c.setOut(op, &value{nchw: y})
}

func (c *converter) add(op *Operator) error {
	a, err := c.input(op, 0)
	if err != nil {
		return err
	}
	b, err := c.input(op, 1)
	if err != nil {
		return err
	}
	if a.k != nil && b.k != nil {
		return errDetail("ADD of two constants")
	}
	if a.k != nil {
		a, b = b, a // addition commutes; keep the constant second
	}
	var x, y string
	// Stay in NCHW when either operand already is (a residual connection);
	// a constant is re-laid to broadcast the same way.
	useNCHW := len(a.shape) == 4 && (a.nchw != "" || b.nchw != "") && (b.k != nil || len(b.shape) == 4)
	if useNCHW {
		if x, err = c.nchw(a); err != nil {
			return err
		}
		if b.k != nil {
			y, err = c.constNCHW(b.k)
		} else {
			y, err = c.nchw(b)
		}
	} else {
		if x, err = c.plain(a); err != nil {
			return err
		}
		y, err = c.plain(b)
	}
	if err != nil {
		return err
	}
	z := c.g.Node("Add", []string{x, y})
	if z, err = c.activation(z, op.Opt.Activation); err != nil {
		return err
	}
	if useNCHW {
		return c.setOut(op, &value{nchw: z})
	}
	return c.setOut(op, &value{plain: z})
}

func (c *converter) unary(op *Operator, onnxOp string) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	if x.k != nil {
		return errDetail("constant input")
	}
	if x.nchw != "" {
		return c.setOut(op, &value{nchw: c.g.Node(onnxOp, []string{x.nchw})})
	}
	return c.setOut(op, &value{plain: c.g.Node(onnxOp, []string{x.plain})})
}

func (c *converter) pad(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	p, err := c.constIn(op, 1, "paddings")
	if err != nil {
		return err
	}
	r := len(x.shape)
	if p.i32 == nil || len(p.i32) != 2*r {
		return fmt.Errorf("paddings of shape %v for a rank-%d tensor", p.shape, r)
	}
	for _, v := range p.i32 {
		if v < 0 {
			return errDetail("negative padding")
		}
	}
	order := make([]int, r)
	for i := range order {
		order[i] = i
	}
	var in string
	nchw := r == 4 && x.k == nil
	if nchw {
		order = nhwcToNCHW
		in, err = c.nchw(x)
	} else {
		in, err = c.plain(x)
	}
	if err != nil {
		return err
	}
	pads := make([]int64, 2*r)
	for i, d := range order {
		pads[i], pads[r+i] = p.i32[2*d], p.i32[2*d+1]
	}
	y := c.g.Node("Pad", []string{in, c.g.Int64(c.fresh("pads"), []int64{int64(2 * r)}, pads)},
		onnxgraph.AttrString("mode", "constant"))
	if nchw {
		return c.setOut(op, &value{nchw: y})
	}
	return c.setOut(op, &value{plain: y})
}

func (c *converter) reshape(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	out := c.outShape(op)
	if numElements(out) != numElements(x.shape) {
		return fmt.Errorf("reshape of %v into %v", x.shape, out)
	}
	in, err := c.plain(x)
	if err != nil {
		return err
	}
	// The output tensor's static shape replaces the new_shape input (which
	// may hold -1).
	shape := c.g.Int64(c.fresh("shape"), []int64{int64(len(out))}, int64s(out))
	return c.setOut(op, &value{plain: c.g.Node("Reshape", []string{in, shape})})
}

func (c *converter) concat(op *Operator) error {
	var vs []*value
	anyNCHW := false
	for j := range op.Inputs {
		v, err := c.input(op, j)
		if err != nil {
			return err
		}
		vs = append(vs, v)
		anyNCHW = anyNCHW || v.nchw != ""
	}
	if len(vs) == 0 {
		return fmt.Errorf("no inputs")
	}
	r := len(vs[0].shape)
	axis := op.Opt.Axis
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return fmt.Errorf("axis %d for rank %d", op.Opt.Axis, r)
	}
	for _, v := range vs {
		if len(v.shape) != r {
			return fmt.Errorf("inputs of ranks %d and %d", r, len(v.shape))
		}
	}
	useNCHW := r == 4 && anyNCHW
	names := make([]string, len(vs))
	for j, v := range vs {
		var err error
		if useNCHW {
			names[j], err = c.nchw(v)
		} else {
			names[j], err = c.plain(v)
		}
		if err != nil {
			return err
		}
	}
	if useNCHW {
		axis = slices.Index(nhwcToNCHW, axis)
	}
	y := c.g.Node("Concat", names, onnxgraph.AttrInt("axis", int64(axis)))
	y, err := c.activation(y, op.Opt.Activation)
	if err != nil {
		return err
	}
	if useNCHW {
		return c.setOut(op, &value{nchw: y})
	}
	return c.setOut(op, &value{plain: y})
}

func (c *converter) resize(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	xn, err := c.nchw(x)
	if err != nil {
		return err
	}
	size, err := c.constIn(op, 1, "size")
	if err != nil {
		return err
	}
	if len(size.i32) != 2 || size.i32[0] < 1 || size.i32[1] < 1 {
		return fmt.Errorf("size %v, want [height, width]", size.i32)
	}
	mode := "asymmetric" // TF's default: in = out·scale
	switch {
	case op.Opt.AlignCorners && op.Opt.HalfPixelCenters:
		return errDetail("align_corners together with half_pixel_centers")
	case op.Opt.AlignCorners:
		mode = "align_corners"
	case op.Opt.HalfPixelCenters:
		// in = (out+0.5)·scale − 0.5, clamped at the edges: ONNX half_pixel.
		mode = "half_pixel"
	}
	sizes := c.g.Int64(c.fresh("sizes"), []int64{4}, []int64{int64(x.shape[0]), int64(x.shape[3]), size.i32[0], size.i32[1]})
	y := c.g.Node("Resize", []string{xn, "", "", sizes},
		onnxgraph.AttrString("mode", "linear"),
		onnxgraph.AttrString("coordinate_transformation_mode", mode))
	return c.setOut(op, &value{nchw: y})
}

func (c *converter) prelu(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	alpha, err := c.constIn(op, 1, "alpha")
	if err != nil {
		return err
	}
	if len(x.shape) == 4 && x.k == nil {
		xn, err := c.nchw(x)
		if err != nil {
			return err
		}
		a, err := c.constNCHW(alpha)
		if err != nil {
			return err
		}
		return c.setOut(op, &value{nchw: c.g.Node("PRelu", []string{xn, a})})
	}
	xp, err := c.plain(x)
	if err != nil {
		return err
	}
	a := c.g.Float32(c.fresh("alpha"), int64s(alpha.shape), alpha.f32)
	return c.setOut(op, &value{plain: c.g.Node("PRelu", []string{xp, a})})
}

func (c *converter) fullyConnected(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	w, err := c.constIn(op, 1, "weights")
	if err != nil {
		return err
	}
	bias, err := c.optionalConst(op, 2, "bias")
	if err != nil {
		return err
	}
	if op.Opt.WeightsFormat != 0 {
		return errDetail(fmt.Sprintf("weights format %d", op.Opt.WeightsFormat))
	}
	if len(w.shape) != 2 || w.f32 == nil || w.shape[1] == 0 || numElements(x.shape)%w.shape[1] != 0 {
		return fmt.Errorf("weights of shape %v for input %v", w.shape, x.shape)
	}
	xp, err := c.plain(x)
	if err != nil {
		return err
	}
	// TFLite flattens every dimension but the last into rows.
	in, out := w.shape[1], w.shape[0]
	flat := c.g.Node("Reshape", []string{xp, c.g.Int64(c.fresh("shape"), []int64{2}, []int64{-1, int64(in)})})
	ins := []string{flat, c.g.Float32(c.fresh("weight"), []int64{int64(out), int64(in)}, w.f32)}
	if bias != nil {
		if len(bias.f32) != out {
			return fmt.Errorf("bias of shape %v for %d outputs", bias.shape, out)
		}
		ins = append(ins, c.g.Float32(c.fresh("bias"), []int64{int64(out)}, bias.f32))
	}
	y := c.g.Node("Gemm", ins, onnxgraph.AttrInt("transB", 1))
	if y, err = c.activation(y, op.Opt.Activation); err != nil {
		return err
	}
	shape := c.outShape(op)
	if numElements(shape) != numElements(x.shape)/in*out {
		return fmt.Errorf("output shape %v for %d rows of %d", shape, numElements(x.shape)/in, out)
	}
	y = c.g.Node("Reshape", []string{y, c.g.Int64(c.fresh("shape"), []int64{int64(len(shape))}, int64s(shape))})
	return c.setOut(op, &value{plain: y})
}

func (c *converter) mean(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	ax, err := c.constIn(op, 1, "axes")
	if err != nil {
		return err
	}
	r := len(x.shape)
	reduced := make([]bool, r)
	for _, a := range ax.i32 {
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) {
			return fmt.Errorf("axis %d for rank %d", a, r)
		}
		reduced[a] = true
	}
	if len(ax.i32) == 0 || ax.i32 == nil {
		return errDetail("MEAN without axes")
	}
	// In NCHW the kept dimensions must come out in the same order as in
	// NHWC when they are dropped (e.g. reducing H and W).
	useNCHW := r == 4 && x.nchw != ""
	if useNCHW && !op.Opt.KeepDims {
		var kn, kp []int
		for _, d := range nhwcToNCHW {
			if !reduced[d] {
				kn = append(kn, d)
			}
		}
		for d := range r {
			if !reduced[d] {
				kp = append(kp, d)
			}
		}
		useNCHW = slices.Equal(kn, kp)
	}
	var in string
	var axes []int64
	for d := range r {
		if reduced[d] {
			if useNCHW {
				axes = append(axes, int64(slices.Index(nhwcToNCHW, d)))
			} else {
				axes = append(axes, int64(d))
			}
		}
	}
	slices.Sort(axes)
	if useNCHW {
		in, err = c.nchw(x)
	} else {
		in, err = c.plain(x)
	}
	if err != nil {
		return err
	}
	keep := int64(0)
	if op.Opt.KeepDims {
		keep = 1
	}
	y := c.g.Node("ReduceMean", []string{in}, onnxgraph.AttrInts("axes", axes...), onnxgraph.AttrInt("keepdims", keep))
	if useNCHW && op.Opt.KeepDims {
		return c.setOut(op, &value{nchw: y})
	}
	return c.setOut(op, &value{plain: y})
}

func (c *converter) stridedSlice(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	var bes [3]*constant
	for j, what := range []string{"begin", "end", "strides"} {
		if bes[j], err = c.constIn(op, j+1, what); err != nil {
			return err
		}
	}
	o := op.Opt
	if o.EllipsisMask != 0 || o.NewAxisMask != 0 {
		return errDetail(fmt.Sprintf("ellipsis mask %d / new axis mask %d", o.EllipsisMask, o.NewAxisMask))
	}
	r := len(x.shape)
	for j, b := range bes {
		if len(b.i32) != r {
			return fmt.Errorf("%d %s values for rank %d", len(b.i32), []string{"begin", "end", "strides"}[j], r)
		}
	}
	starts, ends, steps := make([]int64, r), make([]int64, r), make([]int64, r)
	for d := range r {
		n := int64(x.shape[d])
		b, e, s := bes[0].i32[d], bes[1].i32[d], bes[2].i32[d]
		if s == 0 {
			return fmt.Errorf("stride 0 on axis %d", d)
		}
		if o.Offset {
			e += b
		}
		if o.BeginMask&(1<<d) != 0 {
			b = map[bool]int64{true: 0, false: n - 1}[s > 0]
		} else if b < 0 {
			b += n
		}
		if o.EndMask&(1<<d) != 0 && o.ShrinkAxisMask&(1<<d) == 0 {
			e = map[bool]int64{true: n, false: -1}[s > 0]
		} else if e < 0 && !(o.Offset) {
			e += n
		}
		if o.ShrinkAxisMask&(1<<d) != 0 {
			if b < 0 || b >= n {
				return fmt.Errorf("shrink index %d outside axis %d of size %d", b, d, n)
			}
			e, s = b+1, 1
		}
		if s > 0 {
			b, e = clamp(b, 0, n), clamp(e, 0, n)
		} else {
			b, e = clamp(b, -1, n-1), clamp(e, -1, n-1)
			if e == -1 {
				e = -n - 1 // ONNX reads -1 as the last element
			}
		}
		starts[d], ends[d], steps[d] = b, e, s
	}
	in, err := c.plain(x)
	if err != nil {
		return err
	}
	axes := make([]int64, r)
	for d := range axes {
		axes[d] = int64(d)
	}
	rr := []int64{int64(r)}
	y := c.g.Node("Slice", []string{in, c.g.Int64(c.fresh("starts"), rr, starts), c.g.Int64(c.fresh("ends"), rr, ends),
		c.g.Int64(c.fresh("axes"), rr, axes), c.g.Int64(c.fresh("steps"), rr, steps)})
	shape := c.outShape(op)
	y = c.g.Node("Reshape", []string{y, c.g.Int64(c.fresh("shape"), []int64{int64(len(shape))}, int64s(shape))})
	return c.setOut(op, &value{plain: y})
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

func (c *converter) depthToSpace(op *Operator) error {
	x, err := c.input(op, 0)
	if err != nil {
		return err
	}
	xn, err := c.nchw(x)
	if err != nil {
		return err
	}
	bs := op.Opt.BlockSize
	if bs < 1 || x.shape[3]%(bs*bs) != 0 {
		return fmt.Errorf("block size %d for %d channels", bs, x.shape[3])
	}
	// TF's NHWC depth_to_space reads channel (i·bs + j)·C' + c, which is
	// ONNX's DCR order.
	y := c.g.Node("DepthToSpace", []string{xn}, onnxgraph.AttrInt("blocksize", int64(bs)), onnxgraph.AttrString("mode", "DCR"))
	return c.setOut(op, &value{nchw: y})
}

func (c *converter) dequantize(op *Operator) error {
	if len(op.Inputs) != 1 || op.Inputs[0] < 0 {
		return fmt.Errorf("want one input")
	}
	t := &c.m.Tensors[op.Inputs[0]]
	v, err := c.input(op, 0)
	if err != nil {
		return err
	}
	if v.k == nil || v.k.f32 == nil || (t.Type != Float16 && t.Data != nil) {
		return errDetail(fmt.Sprintf("dequantizing a %s tensor (only float16 constants are supported)", t.Type))
	}
	// The float16 weights were widened when decoded: compute in float32.
	return c.setOut(op, &value{k: v.k})
}

func (c *converter) densify(op *Operator) error {
	if len(op.Inputs) != 1 || op.Inputs[0] < 0 || len(op.Outputs) != 1 {
		return fmt.Errorf("want one input and one output")
	}
	t := &c.m.Tensors[op.Inputs[0]]
	if t.Sparsity == nil || t.Data == nil {
		return errDetail("DENSIFY of a tensor without sparsity parameters")
	}
	k, err := densify(t)
	if err != nil {
		return err
	}
	out := c.m.Tensors[op.Outputs[0]]
	if out.Type != t.Type || !slices.Equal(out.Shape, t.Shape) {
		return fmt.Errorf("output %q does not match the sparse input", out.Name)
	}
	idx := op.Outputs[0]
	if c.vals[idx] != nil {
		return fmt.Errorf("output tensor %q is written twice", out.Name)
	}
	// The dense result keeps the input's type: a float16 result goes on to
	// DEQUANTIZE, which accepts it because the data is already widened.
	c.vals[idx] = &value{shape: out.Shape, k: k}
	return nil
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// transpose permutes a row-major tensor: out dimension i is in dimension
// perm[i].
func transpose(shape []int, data []float32, perm []int) ([]int, []float32) {
	r := len(shape)
	out := make([]int, r)
	for i, p := range perm {
		out[i] = shape[p]
	}
	inStride := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		inStride[d] = s
		s *= shape[d]
	}
	res := make([]float32, len(data))
	idx := make([]int, r) // index in the output
	for o := range res {
		off := 0
		for i := range r {
			off += idx[i] * inStride[perm[i]]
		}
		res[o] = data[off]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, res
}
