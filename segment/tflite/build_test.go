package tflite

import (
	"encoding/binary"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Test models are written with the flatbuffers builder, following the same
// schema.fbs field indices as the reader (slot = field index).

type tTensor struct {
	name  string
	shape []int32
	typ   int8
	data  []byte // constant data, nil for activations
	csr   *tCSR  // sparsity: a 2-D matrix, dense rows, CSR columns
}

// tCSR is a 2-D sparse matrix in the TFLite format: traversal (d0, d1), d0
// DENSE, d1 SPARSE_CSR.
type tCSR struct {
	rows     int32
	segments []int32
	indices  []int32
}

type tOp struct {
	code    int32
	in, out []int32
	optType byte
	opt     func(b *flatbuffers.Builder) flatbuffers.UOffsetT
}

type tModel struct {
	version  uint32
	tensors  []tTensor
	inputs   []int32
	outputs  []int32
	ops      []tOp
	extraSub bool // add a second, empty subgraph
}

func int32Vector(b *flatbuffers.Builder, v []int32) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt32(v[i])
	}
	return b.EndVector(len(v))
}

func offsetVector(b *flatbuffers.Builder, v []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependUOffsetT(v[i])
	}
	return b.EndVector(len(v))
}

func (m tModel) bytes() []byte {
	b := flatbuffers.NewBuilder(1024)
	// Buffers: 0 is the empty sentinel, then one per constant tensor.
	bufs := []flatbuffers.UOffsetT{}
	b.StartObject(3)
	bufs = append(bufs, b.EndObject())
	bufIdx := make([]uint32, len(m.tensors))
	for i, t := range m.tensors {
		if t.data == nil {
			continue
		}
		d := b.CreateByteVector(t.data)
		b.StartObject(3)
		b.PrependUOffsetTSlot(0, d, 0)
		bufIdx[i] = uint32(len(bufs))
		bufs = append(bufs, b.EndObject())
	}
	var tensors []flatbuffers.UOffsetT
	for i, t := range m.tensors {
		name := b.CreateString(t.name)
		shape := int32Vector(b, t.shape)
		var sp flatbuffers.UOffsetT
		if t.csr != nil {
			seg := int32Vector(b, t.csr.segments)
			b.StartObject(1)
			b.PrependUOffsetTSlot(0, seg, 0)
			segT := b.EndObject()
			idx := int32Vector(b, t.csr.indices)
			b.StartObject(1)
			b.PrependUOffsetTSlot(0, idx, 0)
			idxT := b.EndObject()
			b.StartObject(6)
			b.PrependInt8Slot(0, 0, 0)
			b.PrependInt32Slot(1, t.csr.rows, 0)
			dense := b.EndObject()
			b.StartObject(6)
			b.PrependInt8Slot(0, 1, 0)
			b.PrependByteSlot(2, 1, 0) // Int32Vector
			b.PrependUOffsetTSlot(3, segT, 0)
			b.PrependByteSlot(4, 1, 0)
			b.PrependUOffsetTSlot(5, idxT, 0)
			sparse := b.EndObject()
			order := int32Vector(b, []int32{0, 1})
			dims := offsetVector(b, []flatbuffers.UOffsetT{dense, sparse})
			b.StartObject(3)
			b.PrependUOffsetTSlot(0, order, 0)
			b.PrependUOffsetTSlot(2, dims, 0)
			sp = b.EndObject()
		}
		b.StartObject(7)
		b.PrependUOffsetTSlot(0, shape, 0)
		b.PrependInt8Slot(1, t.typ, 0)
		b.PrependUint32Slot(2, bufIdx[i], 0)
		b.PrependUOffsetTSlot(3, name, 0)
		if sp != 0 {
			b.PrependUOffsetTSlot(6, sp, 0)
		}
		tensors = append(tensors, b.EndObject())
	}
	var codes, ops []flatbuffers.UOffsetT
	for i, op := range m.ops {
		b.StartObject(4)
		if op.code < 127 {
			b.PrependInt8Slot(0, int8(op.code), 0)
		} else {
			b.PrependInt8Slot(0, 127, 0)
		}
		b.PrependInt32Slot(2, 1, 1)
		b.PrependInt32Slot(3, op.code, 0)
		codes = append(codes, b.EndObject())
		var opt flatbuffers.UOffsetT
		if op.opt != nil {
			opt = op.opt(b)
		}
		in, out := int32Vector(b, op.in), int32Vector(b, op.out)
		b.StartObject(9)
		b.PrependUint32Slot(0, uint32(i), 0)
		b.PrependUOffsetTSlot(1, in, 0)
		b.PrependUOffsetTSlot(2, out, 0)
		if opt != 0 {
			b.PrependByteSlot(3, op.optType, 0)
			b.PrependUOffsetTSlot(4, opt, 0)
		}
		ops = append(ops, b.EndObject())
	}
	tv, iv, ov, opv := offsetVector(b, tensors), int32Vector(b, m.inputs), int32Vector(b, m.outputs), offsetVector(b, ops)
	sgName := b.CreateString("main")
	b.StartObject(5)
	b.PrependUOffsetTSlot(0, tv, 0)
	b.PrependUOffsetTSlot(1, iv, 0)
	b.PrependUOffsetTSlot(2, ov, 0)
	b.PrependUOffsetTSlot(3, opv, 0)
	b.PrependUOffsetTSlot(4, sgName, 0)
	subs := []flatbuffers.UOffsetT{b.EndObject()}
	if m.extraSub {
		b.StartObject(5)
		subs = append(subs, b.EndObject())
	}
	sv, cv, bv := offsetVector(b, subs), offsetVector(b, codes), offsetVector(b, bufs)
	desc := b.CreateString("test model")
	version := m.version
	if version == 0 {
		version = 3
	}
	b.StartObject(8)
	b.PrependUint32Slot(0, version, 0)
	b.PrependUOffsetTSlot(1, cv, 0)
	b.PrependUOffsetTSlot(2, sv, 0)
	b.PrependUOffsetTSlot(3, desc, 0)
	b.PrependUOffsetTSlot(4, bv, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte("TFL3"))
	return b.FinishedBytes()
}

func f32Bytes(v ...float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

func i32Bytes(v ...int32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(x))
	}
	return out
}

// addModel is x[1,2,2,3] + c[3] → y with the given fused activation, plus an
// optional op appended after it.
func addModel(activation int8) tModel {
	return tModel{
		tensors: []tTensor{
			{name: "x", shape: []int32{1, 2, 2, 3}},
			{name: "c", shape: []int32{3}, data: f32Bytes(1, -2, 3)},
			{name: "y", shape: []int32{1, 2, 2, 3}},
		},
		inputs: []int32{0}, outputs: []int32{2},
		ops: []tOp{{code: opAdd, in: []int32{0, 1}, out: []int32{2}, optType: 11,
			opt: func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
				b.StartObject(2)
				b.PrependInt8Slot(0, activation, 0)
				return b.EndObject()
			}}},
	}
}

// f16Bytes encodes values from {0, ±0.125, ±0.25, ±0.5, ±1} as float16.
func f16Bytes(v ...float32) []byte {
	bits := map[float32]uint16{0: 0, 0.125: 0x3000, 0.25: 0x3400, 0.5: 0x3800, 1: 0x3c00}
	out := make([]byte, 2*len(v))
	for i, x := range v {
		h, ok := bits[float32(math.Abs(float64(x)))]
		if !ok {
			panic("f16Bytes: unsupported value")
		}
		if x < 0 {
			h |= 0x8000
		}
		binary.LittleEndian.PutUint16(out[2*i:], h)
	}
	return out
}

func pattern(n int, vals ...float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = vals[(i*7+3)%len(vals)]
	}
	return out
}

func opts(fields ...func(b *flatbuffers.Builder)) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	return func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		b.StartObject(8)
		for _, f := range fields {
			f(b)
		}
		return b.EndObject()
	}
}

func s32(slot int, v int32) func(b *flatbuffers.Builder) {
	return func(b *flatbuffers.Builder) { b.PrependInt32Slot(slot, v, -999) }
}

func s8(slot int, v int8) func(b *flatbuffers.Builder) {
	return func(b *flatbuffers.Builder) { b.PrependInt8Slot(slot, v, -99) }
}

// allOpsModel chains every supported op in a small graph (a fuzz seed and a
// smoke test): float16 conv weights, sparse FC weights, SAME and VALID
// windows, NCHW and NHWC segments.
func allOpsModel() tModel {
	w := []float32{0.5, -0.25, 1, 0.125, -0.5, 0.25}
	return tModel{
		tensors: []tTensor{
			{name: "x", shape: []int32{1, 8, 8, 2}}, // 0
			{name: "w16", shape: []int32{4, 3, 3, 2}, typ: int8(Float16), data: f16Bytes(pattern(72, w...)...)}, // 1
			{name: "w", shape: []int32{4, 3, 3, 2}},                                                        // 2
			{name: "b", shape: []int32{4}, data: f32Bytes(0.1, -0.2, 0.3, 0)},                              // 3
			{name: "c1", shape: []int32{1, 4, 4, 4}},                                                       // 4
			{name: "dw", shape: []int32{1, 3, 3, 4}, data: f32Bytes(pattern(36, w...)...)},                 // 5
			{name: "c2", shape: []int32{1, 4, 4, 4}},                                                       // 6
			{name: "alpha", shape: []int32{1, 1, 4}, data: f32Bytes(0.1, 0.2, 0.3, 0.4)},                   // 7
			{name: "p1", shape: []int32{1, 4, 4, 4}},                                                       // 8
			{name: "pads", shape: []int32{4, 2}, typ: int8(Int32), data: i32Bytes(0, 0, 1, 1, 1, 1, 0, 0)}, // 9
			{name: "p2", shape: []int32{1, 6, 6, 4}},                                                       // 10
			{name: "mp", shape: []int32{1, 3, 3, 4}},                                                       // 11
			{name: "size", shape: []int32{2}, typ: int8(Int32), data: i32Bytes(6, 6)},                      // 12
			{name: "rs", shape: []int32{1, 6, 6, 4}},                                                       // 13
			{name: "cat", shape: []int32{1, 6, 6, 8}},                                                      // 14
			{name: "shape", shape: []int32{3}, typ: int8(Int32), data: i32Bytes(1, 36, 8)},                 // 15
			{name: "r", shape: []int32{1, 36, 8}},                                                          // 16
			{name: "sig", shape: []int32{1, 36, 8}},                                                        // 17
			{name: "axes", shape: []int32{1}, typ: int8(Int32), data: i32Bytes(1)},                         // 18
			{name: "mean", shape: []int32{1, 8}},                                                           // 19
			{name: "fcw_sparse", shape: []int32{3, 8}, data: f32Bytes(1, 2, 3, 4, 5),
				csr: &tCSR{rows: 3, segments: []int32{0, 2, 3, 5}, indices: []int32{0, 7, 3, 1, 6}}}, // 20
			{name: "fcw", shape: []int32{3, 8}},                                          // 21
			{name: "fc", shape: []int32{1, 3}},                                           // 22
			{name: "begin", shape: []int32{2}, typ: int8(Int32), data: i32Bytes(0, 1)},   // 23
			{name: "end", shape: []int32{2}, typ: int8(Int32), data: i32Bytes(1, 3)},     // 24
			{name: "strides", shape: []int32{2}, typ: int8(Int32), data: i32Bytes(1, 1)}, // 25
			{name: "out", shape: []int32{1, 2}},                                          // 26
		},
		inputs: []int32{0}, outputs: []int32{26, 13},
		ops: []tOp{
			{code: opDequantize, in: []int32{1}, out: []int32{2}},
			{code: opConv2D, in: []int32{0, 2, 3}, out: []int32{4}, optType: 1, opt: opts(s8(0, 0), s32(1, 2), s32(2, 2), s8(3, 3))},
			{code: opDepthwiseConv2D, in: []int32{4, 5, -1}, out: []int32{6}, optType: 2, opt: opts(s8(0, 0), s32(1, 1), s32(2, 1), s32(3, 1))},
			{code: opPRelu, in: []int32{6, 7}, out: []int32{8}},
			{code: opPad, in: []int32{8, 9}, out: []int32{10}},
			{code: opMaxPool2D, in: []int32{10}, out: []int32{11}, optType: 5, opt: opts(s8(0, 0), s32(1, 2), s32(2, 2), s32(3, 2), s32(4, 2))},
			{code: opResizeBilinear, in: []int32{11, 12}, out: []int32{13}, optType: 15, opt: opts(s8(3, 1))},
			{code: opConcatenation, in: []int32{10, 13}, out: []int32{14}, optType: 10, opt: opts(s32(0, 3))},
			{code: opReshape, in: []int32{14, 15}, out: []int32{16}},
			{code: opLogistic, in: []int32{16}, out: []int32{17}},
			{code: opMean, in: []int32{17, 18}, out: []int32{19}, optType: 27, opt: opts(s8(0, 0))},
			{code: opDensify, in: []int32{20}, out: []int32{21}},
			{code: opFullyConnected, in: []int32{19, 21, -1}, out: []int32{22}, optType: 8, opt: opts(s8(0, 1))},
			{code: opStridedSlice, in: []int32{22, 23, 24, 25}, out: []int32{26}, optType: 32, opt: opts()},
		},
	}
}
