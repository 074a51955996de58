// Package ortsession runs ONNX graphs through ONNX Runtime: one Session per
// graph, created with the thread and tuning settings of Options. It is
// shared by the segmentation models (package segment) and the keypoint
// models (package pose). ONNX Runtime itself must be initialised first
// (internal/ortenv owns the one process-wide environment).
package ortsession

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Execution providers for Options.Provider.
const (
	ProviderCPU  = "cpu"  // ONNX Runtime's CPU kernels (the default)
	ProviderCUDA = "cuda" // NVIDIA GPU; needs a CUDA build of ONNX Runtime
)

// Graph optimisation levels for Options.GraphOptimization.
const (
	OptimizeAll      = "all" // ONNX Runtime's default and ours: every fusion, layout transforms
	OptimizeExtended = "extended"
	OptimizeBasic    = "basic"
	OptimizeNone     = "none"
)

// Options tune how a session runs. The zero value is the default: all
// cores, exact results on the CPU, idle threads asleep. None of the fields
// changes the numbers beyond float rounding.
type Options struct {
	// Threads is the number of intra-op threads; 0 means all cores.
	Threads int
	// Spinning lets ONNX Runtime's idle threads busy-wait for work. Faster
	// on a dedicated machine, but it burns CPU that ffmpeg and other jobs
	// could use, so it is off by default.
	Spinning bool
	// GraphOptimization is OptimizeAll ("" too), OptimizeExtended,
	// OptimizeBasic or OptimizeNone.
	GraphOptimization string
	// NoMemArena turns off ONNX Runtime's CPU memory arena and memory-pattern
	// planning: less memory held between calls, usually a little slower.
	NoMemArena bool
	// Provider is ProviderCPU ("" too) or ProviderCUDA.
	Provider string
	// CUDADevice is the GPU index for ProviderCUDA.
	CUDADevice int
}

// Check validates the settings without creating anything.
func (o Options) Check() error {
	var errs []error
	switch o.Provider {
	case "", ProviderCPU, ProviderCUDA:
	default:
		errs = append(errs, fmt.Errorf("execution provider %q is not supported; use %q or %q", o.Provider, ProviderCPU, ProviderCUDA))
	}
	if _, err := o.optLevel(); err != nil {
		errs = append(errs, err)
	}
	if o.CUDADevice < 0 {
		errs = append(errs, fmt.Errorf("CUDA device %d: give a GPU index ≥ 0", o.CUDADevice))
	}
	if o.Threads < 0 {
		errs = append(errs, fmt.Errorf("threads %d: give 0 (all cores) or more", o.Threads))
	}
	return errors.Join(errs...)
}

func (o Options) optLevel() (ort.GraphOptimizationLevel, error) {
	switch o.GraphOptimization {
	case "", OptimizeAll:
		return ort.GraphOptimizationLevelEnableAll, nil
	case OptimizeExtended:
		return ort.GraphOptimizationLevelEnableExtended, nil
	case OptimizeBasic:
		return ort.GraphOptimizationLevelEnableBasic, nil
	case OptimizeNone:
		return ort.GraphOptimizationLevelDisableAll, nil
	}
	return 0, fmt.Errorf("graph optimisation level %q is not one of %s, %s, %s, %s", o.GraphOptimization, OptimizeAll, OptimizeExtended, OptimizeBasic, OptimizeNone)
}

// sessionOptions builds ONNX Runtime's options from o.
func (o Options) sessionOptions() (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := o.apply(opts); err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

func (o Options) apply(opts *ort.SessionOptions) error {
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return err
	}
	// Without spinning the threads sleep between calls instead of burning
	// the CPU that ffmpeg needs for decoding.
	spin := "0"
	if o.Spinning {
		spin = "1"
	}
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", spin); err != nil {
		return err
	}
	level, err := o.optLevel()
	if err != nil {
		return err
	}
	if err := opts.SetGraphOptimizationLevel(level); err != nil {
		return fmt.Errorf("graph optimisation level: %w", err)
	}
	if o.NoMemArena {
		if err := opts.SetCpuMemArena(false); err != nil {
			return fmt.Errorf("memory arena: %w", err)
		}
		if err := opts.SetMemPattern(false); err != nil {
			return fmt.Errorf("memory pattern: %w", err)
		}
	}
	if o.Provider == ProviderCUDA {
		return appendCUDA(opts, o.CUDADevice)
	}
	return nil
}

// ErrNoCUDA is returned (wrapped) when the loaded ONNX Runtime library
// cannot run the CUDA execution provider.
var ErrNoCUDA = errors.New("the CUDA execution provider is not available")

// appendCUDA adds the CUDA execution provider. A CPU-only ONNX Runtime
// library (like the one `make setup` fetches) fails here, and the error
// says what to do instead of falling back silently to the CPU.
func appendCUDA(opts *ort.SessionOptions, device int) error {
	const hint = "use an ONNX Runtime 1.24 GPU build (onnxruntime-gpu, with CUDA 12 and cuDNN 9 installed) via --ort-lib, or run on the CPU"
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("%w in this ONNX Runtime library: %v; %s", ErrNoCUDA, err, hint)
	}
	defer cuda.Destroy()
	if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(device)}); err != nil {
		return fmt.Errorf("%w: CUDA device %d: %v; %s", ErrNoCUDA, device, err, hint)
	}
	if err := opts.AppendExecutionProviderCUDA(cuda); err != nil {
		return fmt.Errorf("%w: %v; %s", ErrNoCUDA, err, hint)
	}
	return nil
}

// Session is one ONNX Runtime session over a graph with float32 inputs and
// outputs. Run is safe for concurrent use: ONNX Runtime allows concurrent
// Run calls on one session, and each call here has its own tensors.
type Session struct {
	name    string // for error messages
	sess    *ort.DynamicAdvancedSession
	inputs  []string
	outputs []string
}

// New creates a session for the ONNX graph in onnx that feeds the named
// inputs and returns the named outputs, in that order. name labels errors.
func New(name string, onnx []byte, inputs, outputs []string, o Options) (*Session, error) {
	opts, err := o.sessionOptions()
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	defer opts.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(onnx, inputs, outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: create session: %w", name, err)
	}
	return &Session{name: name, sess: s, inputs: inputs, outputs: outputs}, nil
}

// Tensor is a dense float32 tensor in row-major order.
type Tensor struct {
	Data  []float32
	Shape []int64
}

// Run feeds one tensor per input, in the order given to New, and returns
// one per output. The returned data is a copy that the caller owns.
func (s *Session) Run(inputs ...Tensor) ([]Tensor, error) {
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("model %s: %d inputs given, the session takes %d", s.name, len(inputs), len(s.inputs))
	}
	ins := make([]ort.Value, len(inputs))
	defer func() {
		for _, v := range ins {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, in := range inputs {
		t, err := ort.NewTensor(ort.NewShape(in.Shape...), in.Data)
		if err != nil {
			return nil, fmt.Errorf("model %s: input %s %v: %w", s.name, s.inputs[i], in.Shape, err)
		}
		ins[i] = t
	}
	outs := make([]ort.Value, len(s.outputs))
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := s.sess.Run(ins, outs); err != nil {
		return nil, fmt.Errorf("model %s: run on input %v: %w", s.name, inputs[0].Shape, err)
	}
	res := make([]Tensor, len(outs))
	for i, v := range outs {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("model %s: output %q is not a float32 tensor", s.name, s.outputs[i])
		}
		// The tensor's memory belongs to ONNX Runtime: copy it out.
		res[i] = Tensor{Data: append([]float32(nil), t.GetData()...), Shape: t.GetShape()}
	}
	return res, nil
}

// Run1 runs a session of one input and one output on data of the given
// shape.
func (s *Session) Run1(data []float32, shape ...int64) (Tensor, error) {
	out, err := s.Run(Tensor{Data: data, Shape: shape})
	if err != nil {
		return Tensor{}, err
	}
	return out[0], nil
}

// Name returns the name the session was created with.
func (s *Session) Name() string { return s.name }

// Close releases the session; a nil or closed session is left alone.
func (s *Session) Close() {
	if s != nil && s.sess != nil {
		s.sess.Destroy()
		s.sess = nil
	}
}

// Dynamic dimension markers for CheckIO shapes.
const (
	// DimDynamic requires a dynamic dimension (named or −1) or accepts any
	// fixed size.
	DimDynamic = -1
	// DimAny accepts any dimension.
	DimAny = -2
)

// CheckIO checks that the graph in onnx has a float32 input and output of
// the given names and shapes, so that a model that does not match its
// description fails when it is loaded, with a clear message, instead of
// deep inside a run. In the wanted shapes a dimension ≥ 0 must match
// exactly unless the graph leaves it dynamic; DimDynamic and DimAny accept
// any. what names the graph in messages.
func CheckIO(what string, onnx []byte, in, out string, wantIn, wantOut []int64) error {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(onnx)
	if err != nil {
		return fmt.Errorf("%s: not a loadable ONNX graph: %w", what, err)
	}
	find := func(list []ort.InputOutputInfo, name, kind string, want []int64) error {
		var names []string
		for _, io := range list {
			names = append(names, io.Name)
			if io.Name != name {
				continue
			}
			if io.DataType != ort.TensorElementDataTypeFloat {
				return fmt.Errorf("%s %s %q has element type %v, want float32", what, kind, name, io.DataType)
			}
			dims := io.Dimensions
			if len(dims) != len(want) {
				return fmt.Errorf("%s %s %q has rank %d %v, want rank %d %v", what, kind, name, len(dims), dims, len(want), want)
			}
			for i, w := range want {
				if w >= 0 && dims[i] >= 0 && dims[i] != w {
					return fmt.Errorf("%s %s %q has dimension %d = %d, want %d (shape %v)", what, kind, name, i, dims[i], w, dims)
				}
			}
			return nil
		}
		return fmt.Errorf("%s graph has no %s named %q (it has %s)", what, kind, name, strings.Join(names, ", "))
	}
	if err := find(ins, in, "input", wantIn); err != nil {
		return err
	}
	return find(outs, out, "output", wantOut)
}
