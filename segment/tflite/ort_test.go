package tflite

import (
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
)

// initORT loads the process-wide ONNX Runtime environment.
func initORT(tb testing.TB) {
	tb.Helper()
	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(tb), Source: "test"}); err != nil {
		tb.Fatal(err)
	}
}

// noSpinning turns off ONNX Runtime's busy-waiting between runs.
func noSpinning(o *ort.SessionOptions) error {
	return o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0")
}

// session opens an ONNX model with threads intra-op threads.
func session(tb testing.TB, model []byte, in, out []string, threads int, extra ...func(*ort.SessionOptions) error) *ort.DynamicAdvancedSession {
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
	for _, f := range extra {
		if err := f(opts); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, in, out, opts)
	if err != nil {
		tb.Fatalf("create session: %v", err)
	}
	tb.Cleanup(func() { s.Destroy() })
	return s
}

// run feeds one float32 input and returns every output's data and shape.
func run(tb testing.TB, s *ort.DynamicAdvancedSession, shape []int64, data []float32, nOut int) ([][]float32, [][]int64) {
	tb.Helper()
	in, err := ort.NewTensor(ort.NewShape(shape...), data)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, nOut)
	if err := s.Run([]ort.Value{in}, outs); err != nil {
		tb.Fatalf("run: %v", err)
	}
	var res [][]float32
	var shapes [][]int64
	for _, o := range outs {
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			tb.Fatalf("output of type %T", o)
		}
		res = append(res, append([]float32(nil), t.GetData()...))
		shapes = append(shapes, t.GetShape())
		o.Destroy()
	}
	return res, shapes
}
