package segment

import (
	"fmt"
	"runtime"

	ort "github.com/yalue/onnxruntime_go"
)

// session is one ONNX Runtime session with a single input and output.
// Run is safe for concurrent use (ONNX Runtime allows concurrent Run calls on
// one session; each call here has its own tensors).
type session struct {
	name    string // for error messages
	sess    *ort.DynamicAdvancedSession
	in, out string
}

// newSession creates a session from ONNX bytes with threads intra-op threads
// (0 = all cores) and the default (exact, CPU) speed settings.
func newSession(name string, onnx []byte, in, out string, threads int) (*session, error) {
	return newSessionWith(name, onnx, in, out, threads, Speed{})
}

// newSessionWith is newSession with the session settings of sp (see
// speed.go): spinning, graph optimisation, memory arena, execution provider.
func newSessionWith(name string, onnx []byte, in, out string, threads int, sp Speed) (*session, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("model %s: session options: %w", name, err)
	}
	defer opts.Destroy()
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	// Without spinning the threads sleep between calls instead of burning
	// the CPU that ffmpeg needs for decoding (Speed.Spinning turns it on).
	spin := "0"
	if sp.Spinning {
		spin = "1"
	}
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", spin); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	if err := sp.apply(opts); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(onnx, []string{in}, []string{out}, opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: create session: %w", name, err)
	}
	return &session{name: name, sess: s, in: in, out: out}, nil
}

// run feeds data with the given shape and returns the output values and shape.
func (s *session) run(data []float32, shape ...int64) ([]float32, []int64, error) {
	in, err := ort.NewTensor(ort.NewShape(shape...), data)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: input tensor %v: %w", s.name, shape, err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil}
	if err := s.sess.Run([]ort.Value{in}, outs); err != nil {
		return nil, nil, fmt.Errorf("model %s: run on input %v: %w", s.name, shape, err)
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, nil, fmt.Errorf("model %s: output %q is not a float32 tensor", s.name, s.out)
	}
	// The tensor's memory belongs to ONNX Runtime: copy it out.
	res := append([]float32(nil), t.GetData()...)
	return res, t.GetShape(), nil
}

func (s *session) close() {
	if s != nil && s.sess != nil {
		s.sess.Destroy()
		s.sess = nil
	}
}

// ioInfo returns the inputs and outputs an ONNX model declares.
func ioInfo(onnx []byte) (ins, outs []ort.InputOutputInfo, err error) {
	return ort.GetInputOutputInfoWithONNXData(onnx)
}
