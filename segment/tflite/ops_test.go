package tflite

import (
	"math"
	"slices"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Small hand-built models run through the converter and ONNX Runtime, for
// op options the MediaPipe models do not exercise; expected values are
// worked out from the TFLite definitions.

func optTable(fields ...func(b *flatbuffers.Builder)) func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
	return func(b *flatbuffers.Builder) flatbuffers.UOffsetT {
		b.StartObject(8)
		for _, f := range fields {
			f(b)
		}
		return b.EndObject()
	}
}

func i32Slot(slot int, v int32) func(b *flatbuffers.Builder) {
	return func(b *flatbuffers.Builder) { b.PrependInt32Slot(slot, v, -999) }
}

func i8Slot(slot int, v int8) func(b *flatbuffers.Builder) {
	return func(b *flatbuffers.Builder) { b.PrependInt8Slot(slot, v, -99) }
}

// identityConv is a 1×1 CONV_2D with identity weights (c channels), which
// puts the following op on the converter's NCHW path.
func identityConv(in, w, out int32, c int) tOp {
	return tOp{code: opConv2D, in: []int32{in, w}, out: []int32{out}, optType: 1,
		opt: optTable(i8Slot(0, 1), i32Slot(1, 1), i32Slot(2, 1))}
}

func identityWeights(name string, c int) tTensor {
	w := make([]float32, c*c)
	for i := range c {
		w[i*c+i] = 1
	}
	return tTensor{name: name, shape: []int32{int32(c), 1, 1, int32(c)}, data: f32Bytes(w...)}
}

// runBuilt converts m and runs it on x, returning the single output.
func runBuilt(t *testing.T, m tModel, x []float32) ([]float32, []int64) {
	t.Helper()
	onnx, err := Convert(m.bytes(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	in := m.tensors[m.inputs[0]]
	out := m.tensors[m.outputs[0]]
	s := session(t, onnx, []string{in.name}, []string{out.name}, 1)
	var shape []int64
	for _, d := range in.shape {
		shape = append(shape, int64(d))
	}
	got, shapes := run(t, s, shape, x, 1)
	return got[0], shapes[0]
}

func arange(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i) - float32(n)/3
	}
	return x
}

func TestAddConstantNCHW(t *testing.T) {
	initORT(t)
	// conv(identity) then x + c with RELU6: the constant [3] must broadcast
	// over channels in the NCHW graph.
	m := tModel{
		tensors: []tTensor{
			{name: "x", shape: []int32{1, 2, 2, 3}}, identityWeights("w", 3), {name: "h", shape: []int32{1, 2, 2, 3}},
			{name: "c", shape: []int32{3}, data: f32Bytes(1, -2, 3)}, {name: "y", shape: []int32{1, 2, 2, 3}},
		},
		inputs: []int32{0}, outputs: []int32{4},
		ops: []tOp{identityConv(0, 1, 2, 3), {code: opAdd, in: []int32{2, 3}, out: []int32{4}, optType: 11, opt: optTable(i8Slot(0, 3))}},
	}
	x := arange(12)
	got, shape := runBuilt(t, m, x)
	c := []float32{1, -2, 3}
	for i, v := range x {
		want := min(max(v+c[i%3], 0), 6)
		if math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("y[%d] = %g, want %g", i, got[i], want)
		}
	}
	if !slices.Equal(shape, []int64{1, 2, 2, 3}) {
		t.Errorf("shape %v", shape)
	}
}

// pySlice lists the indices Python's x[b:e:s] takes on an axis of size n
// (TF's strided_slice follows the same rules); nil bounds are masked.
func pySlice(n int, b, e *int, s int) []int {
	var lo, hi int
	if s > 0 {
		lo, hi = 0, n
	} else {
		lo, hi = -1, n-1
	}
	norm := func(v *int, def int) int {
		if v == nil {
			return def
		}
		x := *v
		if x < 0 {
			x += n
		}
		return min(max(x, lo), hi)
	}
	start := norm(b, map[bool]int{true: 0, false: n - 1}[s > 0])
	stop := norm(e, map[bool]int{true: n, false: -1}[s > 0])
	var out []int
	for i := start; (s > 0 && i < stop) || (s < 0 && i > stop); i += s {
		out = append(out, i)
	}
	return out
}

func TestStridedSlice(t *testing.T) {
	initORT(t)
	shape := []int{1, 4, 5, 2}
	p := func(v int) *int { return &v }
	for _, tc := range []struct {
		name                    string
		begin, end, strides     []int32
		beginMask, endMask, shr int32
	}{
		{"step 2", []int32{0, 1, 0, 0}, []int32{1, 3, 5, 2}, []int32{1, 1, 2, 1}, 0, 0, 0},
		{"negative begin", []int32{0, -3, -4, 0}, []int32{1, 4, -1, 2}, []int32{1, 1, 1, 1}, 0, 0, 0},
		{"reverse with end mask", []int32{0, 0, -1, 0}, []int32{1, 4, 0, 2}, []int32{1, 1, -1, 1}, 0, 4, 0},
		{"reverse step 2", []int32{0, 3, 4, 1}, []int32{1, 0, 0, 0}, []int32{1, -2, -2, -1}, 0, 14, 0},
		{"masks", []int32{0, 2, 3, 1}, []int32{0, 0, 0, 0}, []int32{1, 1, 1, 1}, 15, 15, 0},
		{"shrink last", []int32{0, 1, 0, 1}, []int32{1, 3, 5, 2}, []int32{1, 1, 1, 1}, 0, 0, 8},
		{"clamped", []int32{0, -9, 0, 0}, []int32{1, 99, 3, 2}, []int32{1, 1, 1, 1}, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Expected: per axis the Python slice, or the single index
			// for a shrunk axis.
			var idx [][]int
			var outShape []int32
			for d := range 4 {
				var b, e *int
				if tc.beginMask&(1<<d) == 0 {
					b = p(int(tc.begin[d]))
				}
				if tc.endMask&(1<<d) == 0 {
					e = p(int(tc.end[d]))
				}
				if tc.shr&(1<<d) != 0 {
					v := int(tc.begin[d])
					if v < 0 {
						v += shape[d]
					}
					idx = append(idx, []int{v})
					continue
				}
				ix := pySlice(shape[d], b, e, int(tc.strides[d]))
				idx = append(idx, ix)
				outShape = append(outShape, int32(len(ix)))
			}
			x := arange(40)
			var want []float32
			for _, a := range idx[0] {
				for _, b := range idx[1] {
					for _, c := range idx[2] {
						for _, d := range idx[3] {
							want = append(want, x[((a*4+b)*5+c)*2+d])
						}
					}
				}
			}
			m := tModel{
				tensors: []tTensor{
					{name: "x", shape: []int32{1, 4, 5, 2}},
					{name: "begin", shape: []int32{4}, typ: int8(Int32), data: i32Bytes(tc.begin...)},
					{name: "end", shape: []int32{4}, typ: int8(Int32), data: i32Bytes(tc.end...)},
					{name: "strides", shape: []int32{4}, typ: int8(Int32), data: i32Bytes(tc.strides...)},
					{name: "y", shape: outShape},
				},
				inputs: []int32{0}, outputs: []int32{4},
				ops: []tOp{{code: opStridedSlice, in: []int32{0, 1, 2, 3}, out: []int32{4}, optType: 32,
					opt: optTable(i32Slot(0, tc.beginMask), i32Slot(1, tc.endMask), i32Slot(2, 0), i32Slot(3, 0), i32Slot(4, tc.shr))}},
			}
			got, _ := runBuilt(t, m, x)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestMeanAndDepthToSpace(t *testing.T) {
	initORT(t)
	t.Run("mean over H, W", func(t *testing.T) {
		m := tModel{
			tensors: []tTensor{
				{name: "x", shape: []int32{1, 2, 3, 4}}, identityWeights("w", 4), {name: "h", shape: []int32{1, 2, 3, 4}},
				{name: "axes", shape: []int32{2}, typ: int8(Int32), data: i32Bytes(1, 2)}, {name: "y", shape: []int32{1, 4}},
			},
			inputs: []int32{0}, outputs: []int32{4},
			ops: []tOp{identityConv(0, 1, 2, 4), {code: opMean, in: []int32{2, 3}, out: []int32{4}, optType: 27, opt: optTable()}},
		}
		x := arange(24)
		got, _ := runBuilt(t, m, x)
		for c := range 4 {
			var sum float32
			for p := range 6 {
				sum += x[p*4+c]
			}
			if math.Abs(float64(got[c]-sum/6)) > 1e-5 {
				t.Errorf("mean[%d] = %g, want %g", c, got[c], sum/6)
			}
		}
	})
	t.Run("depth to space", func(t *testing.T) {
		// TF: out[h·2+i, w·2+j, c] = in[h, w, (i·2+j)·C' + c], C' = 2.
		m := tModel{
			tensors: []tTensor{
				{name: "x", shape: []int32{1, 1, 2, 8}}, identityWeights("w", 8), {name: "h", shape: []int32{1, 1, 2, 8}},
				{name: "y", shape: []int32{1, 2, 4, 2}},
			},
			inputs: []int32{0}, outputs: []int32{3},
			ops: []tOp{identityConv(0, 1, 2, 8), {code: opDepthToSpace, in: []int32{2}, out: []int32{3}, optType: 1, opt: optTable(i32Slot(0, 2))}},
		}
		x := arange(16)
		got, _ := runBuilt(t, m, x)
		for oh := range 2 {
			for ow := range 4 {
				for c := range 2 {
					i, w, j := oh, ow/2, ow%2
					want := x[w*8+(i*2+j)*2+c]
					if g := got[(oh*4+ow)*2+c]; g != want {
						t.Fatalf("out[%d,%d,%d] = %g, want %g", oh, ow, c, g, want)
					}
				}
			}
		}
	})
}

// TestAllOps converts and runs a graph using every supported op, as a smoke
// test of the whole chain (shapes, finiteness); the values of every op are
// checked by TestParity on the MediaPipe models and the op tests above.
func TestAllOps(t *testing.T) {
	initORT(t)
	m := allOpsModel()
	onnx, err := Convert(m.bytes(), "all_ops.tflite")
	if err != nil {
		t.Fatal(err)
	}
	s := session(t, onnx, []string{"x"}, []string{"out", "rs"}, 1)
	got, shapes := run(t, s, []int64{1, 8, 8, 2}, arange(128), 2)
	if !slices.Equal(shapes[0], []int64{1, 2}) || !slices.Equal(shapes[1], []int64{1, 6, 6, 4}) {
		t.Fatalf("output shapes %v", shapes)
	}
	for _, v := range append(got[0], got[1]...) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("non-finite output %v", got)
		}
	}
}
