package tflite

import (
	"testing"
)

// FuzzConvert feeds arbitrary bytes to the reader and converter (what
// `signseg model convert` does with a user's file): they must return an
// error or a model, never panic or hang.
func FuzzConvert(f *testing.F) {
	f.Add(addModel(0).bytes())
	f.Add(addModel(3).bytes())
	m := addModel(0)
	m.tensors = append(m.tensors, tTensor{name: "z", shape: []int32{1, 2, 2, 3}})
	m.ops = append(m.ops, tOp{code: opLogistic, in: []int32{2}, out: []int32{3}})
	m.outputs = []int32{3}
	f.Add(m.bytes())
	f.Add(tModel{
		tensors: []tTensor{
			{name: "w_sparse", shape: []int32{4, 4}, data: f32Bytes(1, 2, 3, 4, 5),
				csr: &tCSR{rows: 4, segments: []int32{0, 2, 2, 4, 5}, indices: []int32{0, 2, 1, 3, 0}}},
			{name: "w", shape: []int32{4, 4}},
		},
		inputs: []int32{}, outputs: []int32{1},
		ops: []tOp{{code: opDensify, in: []int32{0}, out: []int32{1}}},
	}.bytes())
	f.Add(allOpsModel().bytes())
	f.Add([]byte("\x10\x00\x00\x00TFL3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		_, _ = ConvertModel(m, "fuzz.tflite")
	})
}
