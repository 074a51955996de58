package onnxgraph

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

// IRVersion is the ONNX IR version written into every model: 8 is the newest
// that the Debian onnx checker (1.12) accepts and ONNX Runtime 1.24 reads it.
const IRVersion = 8

// Opset is the default-domain operator set version the graphs are written for.
// Opset 13 takes Squeeze/Unsqueeze axes, Split sizes and Slice bounds as
// int64 input tensors, not attributes.
const Opset = 13

// DType is an ONNX TensorProto element type.
type DType int32

// Element types used by the builders.
const (
	Float DType = 1 // float32
	Int64 DType = 7 // int64
)

// Dim is one dimension of a graph input or output: a fixed size (Param
// empty) or a named dynamic size (Param set, Value ignored).
type Dim struct {
	Value int64
	Param string
}

// Fixed returns a dimension of fixed size n.
func Fixed(n int64) Dim { return Dim{Value: n} }

// Dynamic returns a named dynamic dimension such as "T" or "batch"; ONNX
// Runtime reports it as -1.
func Dynamic(name string) Dim { return Dim{Param: name} }

// Attribute types from onnx.proto (AttributeProto.AttributeType).
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrTensor = 4
	attrFloats = 6
	attrInts   = 7
)

// Attr is a node attribute; build it with AttrFloat, AttrInt, AttrInts,
// AttrFloats, AttrString or AttrTensor.
type Attr struct {
	name   string
	kind   int
	f      float32
	i      int64
	ints   []int64
	floats []float32
	s      string
	t      *tensor
}

// AttrFloat returns a float attribute.
func AttrFloat(name string, v float32) Attr { return Attr{name: name, kind: attrFloat, f: v} }

// AttrInt returns an int attribute.
func AttrInt(name string, v int64) Attr { return Attr{name: name, kind: attrInt, i: v} }

// AttrInts returns an ints attribute (kernel_shape, pads, dilations, ...).
func AttrInts(name string, v ...int64) Attr {
	return Attr{name: name, kind: attrInts, ints: append([]int64(nil), v...)}
}

// AttrFloats returns a floats attribute.
func AttrFloats(name string, v ...float32) Attr {
	return Attr{name: name, kind: attrFloats, floats: append([]float32(nil), v...)}
}

// AttrString returns a string attribute (auto_pad, mode, ...).
func AttrString(name, v string) Attr { return Attr{name: name, kind: attrString, s: v} }

// AttrTensor returns a float32 tensor attribute (the value of a Constant
// node). A size mismatch between dims and data is reported by Marshal.
func AttrTensor(name string, dims []int64, data []float32) Attr {
	return Attr{name: name, kind: attrTensor, t: &tensor{dims: append([]int64(nil), dims...), dtype: Float, f32: data}}
}

// tensor is an initializer or tensor attribute.
type tensor struct {
	name  string
	dims  []int64
	dtype DType
	f32   []float32
	i64   []int64
}

func (t *tensor) check() error {
	n := int64(1)
	for _, d := range t.dims {
		if d < 0 {
			return fmt.Errorf("tensor %q: negative dimension in %v", t.name, t.dims)
		}
		n *= d
	}
	got := len(t.f32)
	if t.dtype == Int64 {
		got = len(t.i64)
	}
	if int64(got) != n {
		return fmt.Errorf("tensor %q: shape %v needs %d values, got %d", t.name, t.dims, n, got)
	}
	return nil
}

type node struct {
	op      string
	inputs  []string
	outputs []string
	attrs   []Attr
}

type valueInfo struct {
	name  string
	dtype DType
	dims  []Dim
}

// Graph builds one ONNX graph. Methods return value names to wire into later
// nodes; the first mistake (a duplicate name, an undefined input, a data size
// that does not match its shape) is kept and returned by Marshal, so building
// code stays a straight line of calls.
type Graph struct {
	name    string
	nodes   []node
	inits   []*tensor
	inputs  []valueInfo
	outputs []valueInfo
	defined map[string]bool
	counter int
	err     error
}

// NewGraph returns an empty graph with the given name.
func NewGraph(name string) *Graph {
	return &Graph{name: name, defined: map[string]bool{}}
}

func (g *Graph) fail(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("graph %s: "+format, append([]any{g.name}, args...)...)
	}
}

func (g *Graph) define(name string) {
	if name == "" {
		g.fail("empty value name")
		return
	}
	if g.defined[name] {
		g.fail("value %q defined twice", name)
		return
	}
	g.defined[name] = true
}

// Input declares a graph input and returns its name.
func (g *Graph) Input(name string, t DType, dims ...Dim) string {
	g.define(name)
	g.inputs = append(g.inputs, valueInfo{name, t, append([]Dim(nil), dims...)})
	return name
}

// Float32 adds a float32 initializer (a constant weight) and returns its name.
func (g *Graph) Float32(name string, dims []int64, data []float32) string {
	return g.addInit(&tensor{name: name, dims: append([]int64(nil), dims...), dtype: Float, f32: data})
}

// Int64 adds an int64 initializer (shapes, axes, indices) and returns its name.
// dims may be empty for a scalar.
func (g *Graph) Int64(name string, dims []int64, data []int64) string {
	return g.addInit(&tensor{name: name, dims: append([]int64(nil), dims...), dtype: Int64, i64: data})
}

func (g *Graph) addInit(t *tensor) string {
	g.define(t.name)
	if err := t.check(); err != nil {
		g.fail("%v", err)
	}
	g.inits = append(g.inits, t)
	return t.name
}

// Node adds an operator with one output, named automatically, and returns the
// output's name. An empty input name marks an omitted optional input.
func (g *Graph) Node(op string, inputs []string, attrs ...Attr) string {
	g.counter++
	return g.NodeNamed(op, fmt.Sprintf("%s_%d", op, g.counter), inputs, attrs...)
}

// NodeNamed is Node with a chosen output name, for graph outputs.
func (g *Graph) NodeNamed(op, output string, inputs []string, attrs ...Attr) string {
	if op == "" {
		g.fail("node with empty op_type")
	}
	for _, in := range inputs {
		if in != "" && !g.defined[in] {
			g.fail("%s node reads undefined value %q", op, in)
		}
	}
	g.define(output)
	g.nodes = append(g.nodes, node{op: op, inputs: append([]string(nil), inputs...), outputs: []string{output}, attrs: attrs})
	return output
}

// Output declares an existing value as a graph output with its type and shape.
func (g *Graph) Output(name string, t DType, dims ...Dim) {
	if !g.defined[name] {
		g.fail("output %q is not defined", name)
	}
	g.outputs = append(g.outputs, valueInfo{name, t, append([]Dim(nil), dims...)})
}

// ModelInfo is the model-level data written around a graph.
type ModelInfo struct {
	Producer        string            // producer_name
	ProducerVersion string            // producer_version
	Doc             string            // doc_string
	Metadata        map[string]string // metadata_props, written sorted by key
}

// Marshal encodes the graph as an ONNX ModelProto (IR version IRVersion,
// default-domain opset Opset). The output is deterministic.
func (g *Graph) Marshal(info ModelInfo) ([]byte, error) {
	if g.err != nil {
		return nil, g.err
	}
	if len(g.outputs) == 0 {
		return nil, fmt.Errorf("graph %s: no outputs", g.name)
	}
	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, IRVersion)
	m = appendString(m, 2, info.Producer)
	m = appendString(m, 3, info.ProducerVersion)
	m = appendString(m, 6, info.Doc)
	gb, err := g.encodeGraph()
	if err != nil {
		return nil, err
	}
	m = appendBytes(m, 7, gb)
	var op []byte // OperatorSetIdProto: domain "" (default), version
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, Opset)
	m = appendBytes(m, 8, op)
	keys := make([]string, 0, len(info.Metadata))
	for k := range info.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var kv []byte
		kv = appendString(kv, 1, k)
		kv = appendString(kv, 2, info.Metadata[k])
		m = appendBytes(m, 14, kv)
	}
	return m, nil
}

func (g *Graph) encodeGraph() ([]byte, error) {
	var b []byte
	for _, n := range g.nodes {
		nb, err := encodeNode(n)
		if err != nil {
			return nil, fmt.Errorf("graph %s: %w", g.name, err)
		}
		b = appendBytes(b, 1, nb)
	}
	b = appendString(b, 2, g.name)
	for _, t := range g.inits {
		b = appendBytes(b, 5, encodeTensor(t))
	}
	for _, v := range g.inputs {
		b = appendBytes(b, 11, encodeValueInfo(v))
	}
	for _, v := range g.outputs {
		b = appendBytes(b, 12, encodeValueInfo(v))
	}
	return b, nil
}

func encodeNode(n node) ([]byte, error) {
	var b []byte
	for _, in := range n.inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, in)
	}
	for _, out := range n.outputs {
		b = appendString(b, 2, out)
	}
	b = appendString(b, 3, n.outputs[0]) // node name: unique because outputs are
	b = appendString(b, 4, n.op)
	for _, a := range n.attrs {
		ab, err := encodeAttr(a)
		if err != nil {
			return nil, fmt.Errorf("%s node %s: %w", n.op, n.outputs[0], err)
		}
		b = appendBytes(b, 5, ab)
	}
	return b, nil
}

func encodeAttr(a Attr) ([]byte, error) {
	if a.name == "" || a.kind == 0 {
		return nil, fmt.Errorf("attribute without name or value")
	}
	var b []byte
	b = appendString(b, 1, a.name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case attrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, a.s)
	case attrTensor:
		if err := a.t.check(); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.name, err)
		}
		b = appendBytes(b, 5, encodeTensor(a.t))
	case attrFloats:
		var p []byte
		for _, f := range a.floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendBytes(b, 7, p)
	case attrInts:
		var p []byte
		for _, v := range a.ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendBytes(b, 8, p)
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.kind))
	return b, nil
}

func encodeTensor(t *tensor) []byte {
	var b []byte
	if len(t.dims) > 0 {
		var p []byte
		for _, d := range t.dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendBytes(b, 1, p)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.dtype))
	b = appendString(b, 8, t.name)
	var raw []byte // raw_data is little-endian whatever the host
	if t.dtype == Int64 {
		raw = make([]byte, 8*len(t.i64))
		for i, v := range t.i64 {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	} else {
		raw = make([]byte, 4*len(t.f32))
		for i, v := range t.f32 {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

func encodeValueInfo(v valueInfo) []byte {
	var shape []byte
	for _, d := range v.dims {
		var db []byte
		if d.Param != "" {
			db = appendString(db, 2, d.Param)
		} else {
			db = protowire.AppendTag(db, 1, protowire.VarintType)
			db = protowire.AppendVarint(db, uint64(d.Value))
		}
		shape = appendBytes(shape, 1, db)
	}
	var tt []byte // TypeProto.Tensor
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(v.dtype))
	tt = appendBytes(tt, 2, shape)
	var typ []byte
	typ = appendBytes(typ, 1, tt)
	var b []byte
	b = appendString(b, 1, v.name)
	return appendBytes(b, 2, typ)
}

// appendString writes a string field, skipping empty optional strings.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendBytes writes an embedded message or packed field (always, even empty,
// so that an empty shape still marks a scalar).
func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// marshalModel adds extra to a builder's own metadata, refusing to override
// its keys, and marshals g with producer (default "signseg") and doc.
func marshalModel(g *Graph, what, producer, doc string, meta, extra map[string]string) ([]byte, error) {
	for k, v := range extra {
		if _, ok := meta[k]; ok {
			return nil, fmt.Errorf("%s: metadata key %q is reserved", what, k)
		}
		meta[k] = v
	}
	if producer == "" {
		producer = "signseg"
	}
	return g.Marshal(ModelInfo{Producer: producer, Doc: doc, Metadata: meta})
}
