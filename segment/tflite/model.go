// Package tflite reads TensorFlow Lite flatbuffer models and converts the
// float ones built from the ops MediaPipe's pose and hand models use into ONNX
// graphs (segment/onnxgraph), keeping the TFLite input and output names,
// shapes and NHWC layout so both can be compared one to one.
//
// The TFLite schema (tensorflow/lite/schema/schema.fbs, schema version 3) is
// read with hand-written accessors over github.com/google/flatbuffers/go: a
// field's vtable slot is 4 + 2·(its index in the table), and a union takes two
// slots (type, then value).
package tflite

import (
	"encoding/binary"
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"
)

// TensorType is a TFLite tensor element type (schema enum TensorType).
type TensorType int8

// Element types the converter handles.
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	UInt8   TensorType = 3
	Int64   TensorType = 4
	Int8    TensorType = 9
)

var typeNames = map[TensorType]string{0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING",
	6: "BOOL", 7: "INT16", 8: "COMPLEX64", 9: "INT8", 10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64",
	13: "RESOURCE", 14: "VARIANT", 15: "UINT32", 16: "UINT16", 17: "INT4"}

// String returns the schema name of t.
func (t TensorType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("TensorType(%d)", int8(t))
}

// size returns the bytes per element, 0 when unknown.
func (t TensorType) size() int {
	switch t {
	case Float32, Int32:
		return 4
	case Float16:
		return 2
	case UInt8, Int8:
		return 1
	case Int64:
		return 8
	}
	return 0
}

// Model is the first subgraph of a TFLite model with everything the
// converter needs, decoded and bounds-checked.
type Model struct {
	Version     uint32     // schema version (3 for current files)
	Description string     // the converter's description string
	Tensors     []Tensor   // the subgraph's tensors
	Inputs      []int      // tensor indices of the graph inputs
	Outputs     []int      // tensor indices of the graph outputs
	Operators   []Operator // in execution order
	Subgraphs   int        // subgraph count in the file (only the first is read)
}

// Tensor is one tensor of the subgraph.
type Tensor struct {
	Name      string
	Shape     []int
	Type      TensorType
	Data      []byte    // constant data (little-endian), nil for activations
	Sparsity  *Sparsity // set for sparse constants (expanded by DENSIFY)
	Quantized bool      // has quantization scales
	Index     int       // position in Model.Tensors
}

// Sparsity holds a tensor's SparsityParameters.
type Sparsity struct {
	TraversalOrder []int
	BlockMap       []int
	Dims           []DimMetadata
}

// DimMetadata is one level of a sparse tensor, in traversal order.
type DimMetadata struct {
	Sparse    bool  // SPARSE_CSR, else DENSE
	DenseSize int   // for DENSE levels
	Segments  []int // for SPARSE_CSR levels
	Indices   []int // for SPARSE_CSR levels
}

// Operator is one node of the subgraph.
type Operator struct {
	Code    int32  // BuiltinOperator
	Custom  string // custom_code for CUSTOM ops
	Inputs  []int  // tensor indices, -1 for an omitted optional input
	Outputs []int
	Opt     Options
}

// Name returns the op's schema name (CUSTOM ops give their custom code).
func (o *Operator) Name() string {
	if o.Code == opCustom && o.Custom != "" {
		return "CUSTOM(" + o.Custom + ")"
	}
	return OpName(o.Code)
}

// Options are the builtin options of the supported ops, flattened; only the
// fields of the op's own options table are filled.
type Options struct {
	Padding               int8 // 0 SAME, 1 VALID
	StrideW, StrideH      int
	DilationW, DilationH  int
	DepthMultiplier       int
	FilterW, FilterH      int
	Activation            int8
	Axis                  int
	AlignCorners          bool
	HalfPixelCenters      bool
	KeepDims              bool
	KeepNumDims           bool
	WeightsFormat         int8
	BeginMask, EndMask    int
	EllipsisMask          int
	NewAxisMask           int
	ShrinkAxisMask        int
	Offset                bool
	BlockSize             int
	PotScaleInt16         bool
	AsymmetricQuantInputs bool
}

// maxElements bounds any tensor the reader or converter materialises, so a
// malformed shape cannot ask for unbounded memory (the largest MediaPipe
// weight has ~2.4 M elements).
const maxElements = 1 << 27

// Parse decodes a TFLite flatbuffer. Any structural problem (truncated data,
// offsets out of range, inconsistent sizes) is an error, never a panic.
func Parse(buf []byte) (m *Model, err error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("not a TFLite model: %d bytes", len(buf))
	}
	if string(buf[4:8]) != "TFL3" {
		return nil, fmt.Errorf("not a TFLite model: file identifier %q, want \"TFL3\"", buf[4:8])
	}
	// The flatbuffers accessors index the byte slice directly; a corrupt
	// offset makes them panic, which is turned into an error here.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("corrupt TFLite flatbuffer: %v", r)
		}
	}()
	r := reader{buf: buf}
	return r.model()
}

type reader struct{ buf []byte }

// tab is a flatbuffers table with checked field access.
type tab struct {
	t flatbuffers.Table
	r *reader
}

func (r *reader) table(pos flatbuffers.UOffsetT) tab {
	if int(pos) < 0 || int(pos)+4 > len(r.buf) {
		panic(fmt.Sprintf("table offset %d out of range", pos))
	}
	t := tab{t: flatbuffers.Table{Bytes: r.buf, Pos: pos}, r: r}
	vt := int64(pos) - int64(flatbuffers.GetSOffsetT(r.buf[pos:]))
	if vt < 0 || vt+4 > int64(len(r.buf)) {
		panic(fmt.Sprintf("vtable offset %d out of range", vt))
	}
	return t
}

// field returns the absolute position of field i, 0 when absent.
func (t tab) field(i int) flatbuffers.UOffsetT {
	o := t.t.Offset(flatbuffers.VOffsetT(4 + 2*i))
	if o == 0 {
		return 0
	}
	return t.t.Pos + flatbuffers.UOffsetT(o)
}

func (t tab) int32(i int, def int32) int32 {
	p := t.field(i)
	if p == 0 {
		return def
	}
	return int32(binary.LittleEndian.Uint32(t.r.buf[p : p+4]))
}

func (t tab) uint32(i int) uint32 { return uint32(t.int32(i, 0)) }

func (t tab) int8(i int, def int8) int8 {
	p := t.field(i)
	if p == 0 {
		return def
	}
	return int8(t.r.buf[p])
}

func (t tab) bool(i int) bool { return t.int8(i, 0) != 0 }

func (t tab) uint64(i int) uint64 {
	p := t.field(i)
	if p == 0 {
		return 0
	}
	return binary.LittleEndian.Uint64(t.r.buf[p : p+8])
}

// vector returns the start and length of a vector field with elements of
// size elem, checked against the buffer.
func (t tab) vector(i, elem int) (flatbuffers.UOffsetT, int) {
	p := t.field(i)
	if p == 0 {
		return 0, 0
	}
	start := p + flatbuffers.GetUOffsetT(t.r.buf[p:])
	n := int(flatbuffers.GetUOffsetT(t.r.buf[start:]))
	if n < 0 || int64(start)+4+int64(n)*int64(elem) > int64(len(t.r.buf)) {
		panic(fmt.Sprintf("vector of %d elements at %d runs past the end", n, start))
	}
	return start + 4, n
}

func (t tab) bytes(i int) []byte {
	s, n := t.vector(i, 1)
	if n == 0 {
		return nil
	}
	return t.r.buf[s : int(s)+n]
}

func (t tab) string(i int) string { return string(t.bytes(i)) }

func (t tab) ints(i int) []int {
	s, n := t.vector(i, 4)
	out := make([]int, n)
	for j := range out {
		out[j] = int(int32(binary.LittleEndian.Uint32(t.r.buf[int(s)+4*j:])))
	}
	return out
}

func (t tab) tables(i int) []tab {
	s, n := t.vector(i, 4)
	out := make([]tab, n)
	for j := range out {
		p := s + flatbuffers.UOffsetT(4*j)
		out[j] = t.r.table(p + flatbuffers.GetUOffsetT(t.r.buf[p:]))
	}
	return out
}

// sub returns the table in field i (a table or a union value).
func (t tab) sub(i int) (tab, bool) {
	p := t.field(i)
	if p == 0 {
		return tab{}, false
	}
	return t.r.table(p + flatbuffers.GetUOffsetT(t.r.buf[p:])), true
}

func (r *reader) model() (*Model, error) {
	root := r.table(flatbuffers.GetUOffsetT(r.buf))
	m := &Model{Version: root.uint32(0), Description: root.string(3)}
	if m.Version != 3 {
		return nil, fmt.Errorf("TFLite schema version %d, only version 3 is supported", m.Version)
	}
	codes := root.tables(1)
	type opcode struct {
		code   int32
		custom string
	}
	ops := make([]opcode, len(codes))
	for i, c := range codes {
		// builtin_code (field 3) supersedes the old byte field when larger.
		code := int32(c.int8(0, 0))
		if b := c.int32(3, 0); b > code {
			code = b
		}
		ops[i] = opcode{code, c.string(1)}
	}
	bufTabs := root.tables(4)
	buffers := make([][]byte, len(bufTabs))
	for i, b := range bufTabs {
		buffers[i] = b.bytes(0)
		// Models over 2 GB keep data outside the flatbuffer (offset > 1).
		if off, size := b.uint64(1), b.uint64(2); off > 1 {
			if off > uint64(len(r.buf)) || size > uint64(len(r.buf))-off {
				return nil, fmt.Errorf("buffer %d: external data [%d, +%d) outside the %d-byte file", i, off, size, len(r.buf))
			}
			buffers[i] = r.buf[off : off+size]
		}
	}
	subs := root.tables(2)
	if len(subs) == 0 {
		return nil, fmt.Errorf("model has no subgraph")
	}
	m.Subgraphs = len(subs)
	sg := subs[0]
	for i, tt := range sg.tables(0) {
		t := Tensor{Name: tt.string(3), Shape: tt.ints(0), Type: TensorType(tt.int8(1, 0)), Index: i}
		n := 1
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && n > maxElements/d) {
				return nil, fmt.Errorf("tensor %d %q: shape %v is negative or too large", i, t.Name, t.Shape)
			}
			n *= d
		}
		if bi := int(tt.uint32(2)); bi != 0 {
			if bi >= len(buffers) {
				return nil, fmt.Errorf("tensor %d %q: buffer %d of %d", i, t.Name, bi, len(buffers))
			}
			t.Data = buffers[bi]
		}
		if q, ok := tt.sub(4); ok {
			_, ns := q.vector(2, 4)
			t.Quantized = ns > 0
		}
		if sp, ok := tt.sub(6); ok {
			s, err := readSparsity(sp)
			if err != nil {
				return nil, fmt.Errorf("tensor %d %q: %w", i, t.Name, err)
			}
			t.Sparsity = s
		}
		if len(t.Data) > 0 && t.Sparsity == nil {
			if es := t.Type.size(); es > 0 && len(t.Data) != n*es {
				return nil, fmt.Errorf("tensor %d %q: %d data bytes for shape %v of %s", i, t.Name, len(t.Data), t.Shape, t.Type)
			}
		}
		m.Tensors = append(m.Tensors, t)
	}
	nt := len(m.Tensors)
	checkIdx := func(what string, idx []int, optional bool) error {
		for _, x := range idx {
			if x >= nt || x < -1 || (x == -1 && !optional) {
				return fmt.Errorf("%s refers to tensor %d of %d", what, x, nt)
			}
		}
		return nil
	}
	m.Inputs, m.Outputs = sg.ints(1), sg.ints(2)
	if err := checkIdx("subgraph inputs", m.Inputs, false); err != nil {
		return nil, err
	}
	if err := checkIdx("subgraph outputs", m.Outputs, false); err != nil {
		return nil, err
	}
	for i, ot := range sg.tables(3) {
		idx := int(ot.uint32(0))
		if idx >= len(ops) {
			return nil, fmt.Errorf("operator %d: opcode index %d of %d", i, idx, len(ops))
		}
		op := Operator{Code: ops[idx].code, Custom: ops[idx].custom, Inputs: ot.ints(1), Outputs: ot.ints(2)}
		if err := checkIdx(fmt.Sprintf("operator %d (%s) inputs", i, op.Name()), op.Inputs, true); err != nil {
			return nil, err
		}
		if err := checkIdx(fmt.Sprintf("operator %d (%s) outputs", i, op.Name()), op.Outputs, false); err != nil {
			return nil, err
		}
		if o, ok := ot.sub(4); ok {
			op.Opt = readOptions(op.Code, o)
		}
		m.Operators = append(m.Operators, op)
	}
	return m, nil
}

// readOptions decodes the builtin options table of the supported ops; field
// indices follow schema.fbs.
func readOptions(code int32, o tab) Options {
	var p Options
	switch code {
	case opConv2D:
		p.Padding, p.StrideW, p.StrideH = o.int8(0, 0), int(o.int32(1, 0)), int(o.int32(2, 0))
		p.Activation = o.int8(3, 0)
		p.DilationW, p.DilationH = int(o.int32(4, 1)), int(o.int32(5, 1))
	case opDepthwiseConv2D:
		p.Padding, p.StrideW, p.StrideH = o.int8(0, 0), int(o.int32(1, 0)), int(o.int32(2, 0))
		p.DepthMultiplier, p.Activation = int(o.int32(3, 0)), o.int8(4, 0)
		p.DilationW, p.DilationH = int(o.int32(5, 1)), int(o.int32(6, 1))
	case opMaxPool2D, opAveragePool2D:
		p.Padding, p.StrideW, p.StrideH = o.int8(0, 0), int(o.int32(1, 0)), int(o.int32(2, 0))
		p.FilterW, p.FilterH, p.Activation = int(o.int32(3, 0)), int(o.int32(4, 0)), o.int8(5, 0)
	case opAdd, opMul, opSub:
		p.Activation, p.PotScaleInt16 = o.int8(0, 0), o.bool(1)
	case opConcatenation:
		p.Axis, p.Activation = int(o.int32(0, 0)), o.int8(1, 0)
	case opResizeBilinear:
		p.AlignCorners, p.HalfPixelCenters = o.bool(2), o.bool(3)
	case opFullyConnected:
		p.Activation, p.WeightsFormat, p.KeepNumDims = o.int8(0, 0), o.int8(1, 0), o.bool(2)
		p.AsymmetricQuantInputs = o.bool(3)
	case opMean:
		p.KeepDims = o.bool(0)
	case opStridedSlice:
		p.BeginMask, p.EndMask, p.EllipsisMask = int(o.int32(0, 0)), int(o.int32(1, 0)), int(o.int32(2, 0))
		p.NewAxisMask, p.ShrinkAxisMask, p.Offset = int(o.int32(3, 0)), int(o.int32(4, 0)), o.bool(5)
	case opDepthToSpace:
		p.BlockSize = int(o.int32(0, 0))
	}
	return p
}

func readSparsity(sp tab) (*Sparsity, error) {
	s := &Sparsity{TraversalOrder: sp.ints(0), BlockMap: sp.ints(1)}
	for _, d := range sp.tables(2) {
		dm := DimMetadata{Sparse: d.int8(0, 0) == 1, DenseSize: int(d.int32(1, 0))}
		if dm.Sparse {
			var err error
			if dm.Segments, err = indexVector(d, 2); err != nil {
				return nil, fmt.Errorf("sparsity segments: %w", err)
			}
			if dm.Indices, err = indexVector(d, 4); err != nil {
				return nil, fmt.Errorf("sparsity indices: %w", err)
			}
		}
		s.Dims = append(s.Dims, dm)
	}
	return s, nil
}

// indexVector reads a SparseIndexVector union (type in slot i, table in i+1):
// Int32Vector=1, Uint16Vector=2, Uint8Vector=3, each with values in field 0.
func indexVector(d tab, i int) ([]int, error) {
	typ := d.int8(i, 0)
	v, ok := d.sub(i + 1)
	if !ok {
		return nil, fmt.Errorf("missing index vector")
	}
	switch typ {
	case 1:
		return v.ints(0), nil
	case 2:
		s, n := v.vector(0, 2)
		out := make([]int, n)
		for j := range out {
			out[j] = int(binary.LittleEndian.Uint16(v.r.buf[int(s)+2*j:]))
		}
		return out, nil
	case 3:
		b := v.bytes(0)
		out := make([]int, len(b))
		for j, x := range b {
			out[j] = int(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("index vector type %d", typ)
}

// f16 converts an IEEE 754 half-precision value to float32.
func f16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal half: value = frac · 2^-24, exact in float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}
