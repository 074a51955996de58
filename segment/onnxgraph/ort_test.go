package onnxgraph

import (
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
)

// initORT loads the process-wide ONNX Runtime environment (ortenv.Init is
// idempotent, so every test may call it).
func initORT(tb testing.TB) {
	tb.Helper()
	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(tb), Source: "test"}); err != nil {
		tb.Fatal(err)
	}
}

// session opens model with threads intra-op threads (0: ORT default).
func session(tb testing.TB, model []byte, in, out []string, threads int) *ort.DynamicAdvancedSession {
	tb.Helper()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		tb.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		tb.Fatal(err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		tb.Fatal(err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, in, out, opts)
	if err != nil {
		tb.Fatalf("create session: %v", err)
	}
	tb.Cleanup(func() { s.Destroy() })
	return s
}

// runFloat runs s on one float32 input and returns every output's data and
// shape.
func runFloat(tb testing.TB, s *ort.DynamicAdvancedSession, shape ort.Shape, data []float32, nOut int) ([][]float32, []ort.Shape) {
	tb.Helper()
	in, err := ort.NewTensor(shape, data)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, nOut)
	if err := s.Run([]ort.Value{in}, outs); err != nil {
		tb.Fatalf("run: %v", err)
	}
	var res [][]float32
	var shapes []ort.Shape
	for _, o := range outs {
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			tb.Fatalf("output is %T, want float32 tensor", o)
		}
		res = append(res, append([]float32(nil), t.GetData()...))
		shapes = append(shapes, t.GetShape().Clone())
		o.Destroy()
	}
	return res, shapes
}
