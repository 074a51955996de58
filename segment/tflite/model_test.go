package tflite

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParseBuiltModel(t *testing.T) {
	m, err := Parse(addModel(3).bytes())
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 3 || m.Description != "test model" || len(m.Tensors) != 3 || len(m.Operators) != 1 {
		t.Fatalf("parsed %+v", m)
	}
	op := m.Operators[0]
	if op.Name() != "ADD" || op.Opt.Activation != 3 || !slices.Equal(op.Inputs, []int{0, 1}) {
		t.Errorf("operator %+v", op)
	}
	c := m.Tensors[1]
	if c.Name != "c" || !slices.Equal(c.Shape, []int{3}) || len(c.Data) != 12 {
		t.Errorf("constant %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	good := addModel(0).bytes()
	v2 := addModel(0)
	v2.version = 2
	badType := append([]byte(nil), good...)
	copy(badType[4:8], "XXXX")
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "not a TFLite model", nil},
		{"identifier", "file identifier", badType},
		{"version", "schema version 2", v2.bytes()},
		{"truncated", "corrupt", good[:len(good)/3]},
		{"garbage", "corrupt", append([]byte{0xff, 0xff, 0xff, 0x7f, 'T', 'F', 'L', '3'}, make([]byte, 64)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestUnsupportedOp(t *testing.T) {
	m := addModel(0)
	m.tensors = append(m.tensors, tTensor{name: "z", shape: []int32{1, 2, 2, 3}})
	m.ops = append(m.ops, tOp{code: 25, in: []int32{2}, out: []int32{3}}) // SOFTMAX
	m.outputs = []int32{3}
	_, err := Convert(m.bytes(), "tiny_softmax.tflite")
	var u *UnsupportedError
	if !errors.As(err, &u) {
		t.Fatalf("error %v, want *UnsupportedError", err)
	}
	if u.Op != "SOFTMAX" || u.Model != "tiny_softmax.tflite" || u.Operator != 1 {
		t.Errorf("error fields %+v", u)
	}
	for _, s := range []string{"tiny_softmax.tflite", "SOFTMAX", "not supported"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
}

func TestUnsupportedOption(t *testing.T) {
	_, err := Convert(addModel(5).bytes(), "sign_bit.tflite") // SIGN_BIT activation
	var u *UnsupportedError
	if !errors.As(err, &u) || u.Op != "ADD" || !strings.Contains(err.Error(), "fused activation 5") {
		t.Fatalf("error %v, want an unsupported fused activation on ADD", err)
	}
}

func TestConvertRejects(t *testing.T) {
	two := addModel(0)
	two.extraSub = true
	intIn := addModel(0)
	intIn.tensors[0].typ = int8(Int32)
	for _, tc := range []struct {
		name, want string
		m          tModel
	}{
		{"subgraphs", "2 subgraphs", two},
		{"int input", "only FLOAT32 inputs", intIn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert(tc.m.bytes(), "m.tflite")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "m.tflite") {
				t.Fatalf("error %v, want one naming m.tflite and containing %q", err, tc.want)
			}
		})
	}
}

func TestF16(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x7bff, 65504},
		{0x0001, 5.960464477539063e-08}, {0x03ff, 6.097555160522461e-05}, {0x0400, 6.103515625e-05},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	} {
		if got := f16(tc.h); got != tc.want {
			t.Errorf("f16(%#04x) = %g, want %g", tc.h, got, tc.want)
		}
	}
	if !math.IsNaN(float64(f16(0x7e00))) {
		t.Error("f16(0x7e00) is not NaN")
	}
}

func TestSamePads(t *testing.T) {
	// TF SAME: out = ceil(in/stride), total = max((out−1)·stride + eff − in, 0),
	// the odd pixel after.
	for _, tc := range []struct{ in, k, s, d, before, after int }{
		{224, 3, 2, 1, 0, 1}, {224, 3, 1, 1, 1, 1}, {7, 5, 1, 1, 2, 2}, {8, 2, 2, 1, 0, 0},
		{9, 2, 2, 1, 0, 1}, {10, 3, 1, 2, 2, 2}, {4, 1, 1, 1, 0, 0}, {5, 4, 1, 1, 1, 2},
	} {
		b, a := samePads(tc.in, tc.k, tc.s, tc.d)
		if b != tc.before || a != tc.after {
			t.Errorf("samePads(%d, k=%d, s=%d, d=%d) = %d, %d, want %d, %d", tc.in, tc.k, tc.s, tc.d, b, a, tc.before, tc.after)
		}
	}
}

func TestTranspose(t *testing.T) {
	// NHWC [1,2,2,3] → NCHW [1,3,2,2]: element (h,w,c) = 6h+3w+c.
	data := make([]float32, 12)
	for i := range data {
		data[i] = float32(i)
	}
	sh, got := transpose([]int{1, 2, 2, 3}, data, nhwcToNCHW)
	want := []float32{0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}
	if !slices.Equal(sh, []int{1, 3, 2, 2}) || !slices.Equal(got, want) {
		t.Errorf("transpose = %v %v, want [1 3 2 2] %v", sh, got, want)
	}
}

func TestDensify(t *testing.T) {
	// The 4×4 matrix
	//   1 0 2 0
	//   0 0 0 0
	//   0 3 0 4
	//   5 0 0 0
	// in CSR: segments [0 2 2 4 5], indices [0 2 1 3 0].
	dense := []float32{1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 4, 5, 0, 0, 0}
	sparse := func(seg, idx []int32, vals ...float32) tModel {
		return tModel{
			tensors: []tTensor{
				{name: "w_sparse", shape: []int32{4, 4}, data: f32Bytes(vals...), csr: &tCSR{rows: 4, segments: seg, indices: idx}},
				{name: "w", shape: []int32{4, 4}},
			},
			inputs: []int32{}, outputs: []int32{1},
			ops: []tOp{{code: opDensify, in: []int32{0}, out: []int32{1}}},
		}
	}
	good := sparse([]int32{0, 2, 2, 4, 5}, []int32{0, 2, 1, 3, 0}, 1, 2, 3, 4, 5)
	m, err := Parse(good.bytes())
	if err != nil {
		t.Fatal(err)
	}
	k, err := densify(&m.Tensors[0])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(k.f32, dense) {
		t.Errorf("densify = %v, want %v", k.f32, dense)
	}
	for _, tc := range []struct {
		name, want string
		m          tModel
	}{
		{"index out of range", "outside dimension", sparse([]int32{0, 2, 2, 4, 5}, []int32{0, 9, 1, 3, 0}, 1, 2, 3, 4, 5)},
		{"too few values", "more non-zero positions", sparse([]int32{0, 2, 2, 4, 5}, []int32{0, 2, 1, 3, 0}, 1, 2, 3)},
		{"too many values", "stored values but", sparse([]int32{0, 2, 2, 4, 5}, []int32{0, 2, 1, 3, 0}, 1, 2, 3, 4, 5, 6)},
		{"bad segments", "segment", sparse([]int32{0, 2, 9, 4, 5}, []int32{0, 2, 1, 3, 0}, 1, 2, 3, 4, 5)},
		{"short segments", "segment", sparse([]int32{0, 2}, []int32{0, 2}, 1, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.m.bytes())
			if err == nil {
				_, err = densify(&m.Tensors[0])
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
