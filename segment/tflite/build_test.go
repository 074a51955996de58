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
