package onnxgraph

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/encoding/protowire"
)

// fields splits one protobuf message into (number, raw value) pairs: varints
// as uint64, length-delimited fields as []byte.
func fields(t *testing.T, b []byte) []struct {
	num protowire.Number
	v   any
} {
	t.Helper()
	var out []struct {
		num protowire.Number
		v   any
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v any
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			v, n = protowire.ConsumeFixed32(b)
		default:
			t.Fatalf("unexpected wire type %d", typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, struct {
			num protowire.Number
			v   any
		}{num, v})
	}
	return out
}

// TestModelHeader decodes the ModelProto's top-level fields and checks the
// IR version, the opset, the sorted metadata and determinism.
func TestModelHeader(t *testing.T) {
	build := func() []byte {
		g := NewGraph("g")
		x := g.Input("x", Float, Fixed(2))
		g.Output(g.NodeNamed("Relu", "y", []string{x}), Float, Fixed(2))
		b, err := g.Marshal(ModelInfo{Producer: "p", Metadata: map[string]string{"b": "2", "a": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	m := build()
	if !bytes.Equal(m, build()) {
		t.Error("Marshal is not deterministic")
	}
	var ir uint64
	var opsets [][]byte
	var meta []string
	for _, f := range fields(t, m) {
		switch f.num {
		case 1:
			ir = f.v.(uint64)
		case 8:
			opsets = append(opsets, f.v.([]byte))
		case 14:
			kv := fields(t, f.v.([]byte))
			meta = append(meta, string(kv[0].v.([]byte))+"="+string(kv[1].v.([]byte)))
		}
	}
	if ir != 8 {
		t.Errorf("ir_version %d, want 8", ir)
	}
	if len(opsets) != 1 {
		t.Fatalf("%d opset imports, want 1", len(opsets))
	}
	if op := fields(t, opsets[0]); len(op) != 1 || op[0].num != 2 || op[0].v.(uint64) != 13 {
		t.Errorf("opset import %+v, want only version=13 (default domain)", op)
	}
	if want := []string{"a=1", "b=2"}; !reflect.DeepEqual(meta, want) {
		t.Errorf("metadata %v, want %v", meta, want)
	}
}

// TestAttributeKinds runs a graph that uses every attribute kind and both
// initializer types through ONNX Runtime and compares with values computed
// here by hand.
func TestAttributeKinds(t *testing.T) {
	initORT(t)
	g := NewGraph("attrs")
	x := g.Input("x", Float, Dynamic("n"), Fixed(3))
	y := g.Node("LeakyRelu", []string{x}, AttrFloat("alpha", 0.25))                      // float
	c := g.Node("Constant", nil, AttrFloats("value_floats", 1, 2, 3))                    // floats
	s := g.Node("Constant", nil, AttrTensor("value", []int64{1, 3}, []float32{2, 2, 2})) // tensor
	y = g.Node("Mul", []string{g.Node("Add", []string{y, c}), s})
	y = g.Node("Pad", []string{y, g.Int64("pads", []int64{4}, []int64{0, 1, 0, 1})}, AttrString("mode", "reflect")) // string, int64 initializer
	y = g.Node("Softmax", []string{y}, AttrInt("axis", 0))                                                          // int
	w := g.Float32("w", []int64{1, 1, 3}, []float32{1, 0, -1})
	y = g.Node("Conv", []string{g.Node("Unsqueeze", []string{y, g.Int64("ax", []int64{1}, []int64{1})}), w}, AttrInts("kernel_shape", 3)) // ints
	g.Output(g.NodeNamed("Squeeze", "out", []string{y, "ax"}), Float, Dynamic("n"), Fixed(3))
	model, err := g.Marshal(ModelInfo{})
	if err != nil {
		t.Fatal(err)
	}
	in := []float32{-4, 0, 4, 1, -1, 2}
	// By hand: leaky relu, +[1,2,3], ×2, reflect pad 1 each side, softmax over
	// rows, then out[j] = p[j] − p[j+2].
	rows := [2][]float64{}
	for r := 0; r < 2; r++ {
		v := make([]float64, 3)
		for j := range v {
			a := float64(in[r*3+j])
			if a < 0 {
				a *= 0.25
			}
			v[j] = (a + float64(j+1)) * 2
		}
		rows[r] = []float64{v[1], v[0], v[1], v[2], v[1]}
	}
	var want []float32
	for r := 0; r < 2; r++ {
		p := make([]float64, 5)
		for j := range p {
			p[j] = math.Exp(rows[r][j]) / (math.Exp(rows[0][j]) + math.Exp(rows[1][j]))
		}
		for j := 0; j < 3; j++ {
			want = append(want, float32(p[j]-p[j+2]))
		}
	}
	sess := session(t, model, []string{"x"}, []string{"out"}, 1)
	got, _ := runFloat(t, sess, ort.NewShape(2, 3), in, 1)
	if d := testenv.MaxAbsDiff(got[0], want); d > 1e-6 {
		t.Errorf("got %v, want %v", got[0], want)
	}
}

func TestGraphErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(g *Graph)
		want  string
	}{
		{"duplicate", func(g *Graph) { g.Input("x", Float); g.Input("x", Float) }, "defined twice"},
		{"undefined input", func(g *Graph) { g.Output(g.Node("Relu", []string{"nope"}), Float) }, "undefined value"},
		{"size mismatch", func(g *Graph) { g.Output(g.Float32("w", []int64{2, 2}, []float32{1}), Float) }, "needs 4 values"},
		{"undefined output", func(g *Graph) { g.Output("y", Float) }, "not defined"},
		{"no outputs", func(g *Graph) { g.Input("x", Float) }, "no outputs"},
		{"bad tensor attr", func(g *Graph) {
			g.Output(g.Node("Constant", nil, AttrTensor("value", []int64{3}, nil)), Float)
		}, "needs 3 values"},
		{"empty op", func(g *Graph) { g.Output(g.NodeNamed("", "y", nil), Float) }, "empty op_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGraph("g")
			tc.build(g)
			_, err := g.Marshal(ModelInfo{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
