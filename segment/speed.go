package segment

import (
	"context"
	"errors"
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/signseg/signseg/media"
)

// Execution providers for Speed.Provider.
const (
	ProviderCPU  = "cpu"  // ONNX Runtime's CPU kernels (the default)
	ProviderCUDA = "cuda" // NVIDIA GPU; needs a CUDA build of ONNX Runtime
)

// Graph optimisation levels for Speed.GraphOptimization.
const (
	OptimizeAll      = "all" // ONNX Runtime's default and ours: every fusion, layout transforms
	OptimizeExtended = "extended"
	OptimizeBasic    = "basic"
	OptimizeNone     = "none"
)

// Speed tunes how a Segmenter runs its models. The zero value is the
// default: exact results on the CPU, with decoding overlapped with
// inference. Every field except FeatureEvery leaves the numbers as they are
// (up to float rounding, ≤ 1e-5 on the fixtures); FeatureEvery trades
// exactness for speed and is off unless set.
type Speed struct {
	// Prefetch is how many decoded frames may wait for the model: a
	// goroutine keeps ffmpeg decoding while ONNX Runtime runs, so the CPU
	// never idles on the decoder. 0 means two batches (at least one clip);
	// negative decodes in the inference goroutine (the sequential path,
	// kept for benchmarks).
	Prefetch int
	// Spinning lets ONNX Runtime's idle threads busy-wait for work. Faster
	// on a dedicated machine, but it burns CPU that ffmpeg and other jobs
	// could use, so it is off by default.
	Spinning bool
	// GraphOptimization is the ONNX Runtime graph optimisation level:
	// OptimizeAll ("" too), OptimizeExtended, OptimizeBasic or OptimizeNone.
	GraphOptimization string
	// NoMemArena turns off ONNX Runtime's CPU memory arena and memory-pattern
	// planning: less memory held between calls, usually a little slower.
	NoMemArena bool
	// Provider is ProviderCPU ("" too) or ProviderCUDA.
	Provider string
	// CUDADevice is the GPU index for ProviderCUDA.
	CUDADevice int
	// FeatureEvery k ≥ 2 runs the clip model only on every k-th clip (and
	// the last) and interpolates the features of the clips in between
	// linearly; the temporal model then sees a full-rate sequence, so the
	// boundary probabilities are interpolated too. About k times fewer
	// clip-model calls; not exact (see the README's "Speed" section for the
	// measured deviation). 0 or 1 computes every clip.
	FeatureEvery int
}

// check validates the settings for a clip model of clipLength frames.
func (sp Speed) check(clipLength int) error {
	switch sp.Provider {
	case "", ProviderCPU, ProviderCUDA:
	default:
		return fmt.Errorf("execution provider %q is not supported; use %q or %q", sp.Provider, ProviderCPU, ProviderCUDA)
	}
	if _, err := sp.optLevel(); err != nil {
		return err
	}
	if sp.CUDADevice < 0 {
		return fmt.Errorf("CUDA device %d: give a GPU index ≥ 0", sp.CUDADevice)
	}
	if sp.FeatureEvery < 0 || sp.FeatureEvery > clipLength {
		return fmt.Errorf("features every %d clips: give 1 (exact) up to the clip length %d", sp.FeatureEvery, clipLength)
	}
	return nil
}

// Exact reports whether the settings keep the reference numbers.
func (sp Speed) Exact() bool { return sp.FeatureEvery <= 1 }

func (sp Speed) optLevel() (ort.GraphOptimizationLevel, error) {
	switch sp.GraphOptimization {
	case "", OptimizeAll:
		return ort.GraphOptimizationLevelEnableAll, nil
	case OptimizeExtended:
		return ort.GraphOptimizationLevelEnableExtended, nil
	case OptimizeBasic:
		return ort.GraphOptimizationLevelEnableBasic, nil
	case OptimizeNone:
		return ort.GraphOptimizationLevelDisableAll, nil
	}
	return 0, fmt.Errorf("graph optimisation level %q is not one of %s, %s, %s, %s", sp.GraphOptimization, OptimizeAll, OptimizeExtended, OptimizeBasic, OptimizeNone)
}

// apply sets the session options other than threads and spinning.
func (sp Speed) apply(opts *ort.SessionOptions) error {
	level, err := sp.optLevel()
	if err != nil {
		return err
	}
	if err := opts.SetGraphOptimizationLevel(level); err != nil {
		return fmt.Errorf("graph optimisation level: %w", err)
	}
	if sp.NoMemArena {
		if err := opts.SetCpuMemArena(false); err != nil {
			return fmt.Errorf("memory arena: %w", err)
		}
		if err := opts.SetMemPattern(false); err != nil {
			return fmt.Errorf("memory pattern: %w", err)
		}
	}
	if sp.Provider == ProviderCUDA {
		return appendCUDA(opts, sp.CUDADevice)
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

// extract computes a video's features with the Segmenter's speed settings:
// decoding runs ahead in its own goroutine unless Prefetch < 0.
func (s *Segmenter) extract(ctx context.Context, src Frames, expected int, progress Progress) (*featureSeq, error) {
	spec := s.model.Features
	if s.speed.Prefetch >= 0 {
		depth := s.speed.Prefetch
		if depth == 0 {
			batch := s.batch
			if batch <= 0 {
				batch = max(spec.BatchSize, 1)
			}
			depth = max(2*batch, spec.ClipLength)
		}
		p := prefetch(ctx, src, spec.Preprocess.FrameLen(), depth)
		defer p.close()
		src = p
	}
	return extractFeatures(ctx, s.features, spec, src, s.batch, s.speed.FeatureEvery, expected, progress)
}

// Features is the clip-feature sequence of one video: row i (Dim values)
// belongs to frame i+Offset.
type Features struct {
	Data    []float32 // rows × Dim, row-major
	Dim     int
	Offset  int
	Frames  int     // decoded frames
	StartMS float64 // media time of frame 0
}

// Rows returns the number of feature rows.
func (f *Features) Rows() int { return len(f.Data) / max(f.Dim, 1) }

// Features decodes src and returns its clip features, the first half of
// Segment; SegmentFeatures is the second. They are separate so that the
// features of different speed settings can be compared (signseg bench).
func (s *Segmenter) Features(ctx context.Context, src Frames, expected int, progress Progress) (*Features, error) {
	seq, err := s.extract(ctx, src, expected, progress)
	if err != nil {
		return nil, err
	}
	return &Features{Data: seq.data, Dim: seq.dim, Offset: s.model.Features.Offset, Frames: seq.frames, StartMS: seq.startMS}, nil
}

// SegmentFeatures segments a video from its features (from Features of a
// Segmenter with the same model).
func (s *Segmenter) SegmentFeatures(ctx context.Context, f *Features) (*Result, error) {
	if f == nil || f.Dim != s.model.Features.Dim || len(f.Data)%max(f.Dim, 1) != 0 || f.Rows() == 0 {
		return nil, fmt.Errorf("model %s: features do not fit the model (want rows of %d values)", s.model.Name, s.model.Features.Dim)
	}
	return s.fromFeatures(ctx, &featureSeq{data: f.Data, dim: f.Dim, frames: f.Frames, startMS: f.StartMS})
}

// interpolateRows expands the rows computed by the FeatureEvery path to
// all total rows. The computed rows are those with index j%every == 0 and
// the last one (total−1), in order; rows in between are linear
// interpolations of their two computed neighbours.
func interpolateRows(computed []float32, dim, total, every int) []float32 {
	if every <= 1 || total <= 1 {
		return computed
	}
	// Index of each computed row in the full sequence.
	var idx []int
	for j := 0; j < total; j += every {
		idx = append(idx, j)
	}
	if idx[len(idx)-1] != total-1 {
		idx = append(idx, total-1)
	}
	if len(idx)*dim != len(computed) {
		// Cannot happen when extractFeatures and this agree; keep the data
		// visible rather than panic on a slice bound.
		return computed
	}
	out := make([]float32, total*dim)
	for r := range idx {
		copy(out[idx[r]*dim:(idx[r]+1)*dim], computed[r*dim:(r+1)*dim])
		if r == 0 {
			continue
		}
		a, b := idx[r-1], idx[r]
		ra, rb := computed[(r-1)*dim:r*dim], computed[r*dim:(r+1)*dim]
		for j := a + 1; j < b; j++ {
			t := float32(j-a) / float32(b-a)
			row := out[j*dim : (j+1)*dim]
			for c := range row {
				row[c] = ra[c] + t*(rb[c]-ra[c])
			}
		}
	}
	return out
}

// prefetcher decodes frames in its own goroutine into a pool of depth
// buffers, so that ffmpeg and the preprocessing run while the model does.
// Memory is bounded by the pool.
type prefetcher struct {
	ready  chan prefetched
	free   chan []float32
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error // sticky error or io.EOF, after the last frame
}

type prefetched struct {
	buf []float32
	fr  media.Frame
	err error
}

// prefetch starts decoding src into frames of frameLen values, at most
// depth ahead of the reader.
func prefetch(ctx context.Context, src Frames, frameLen, depth int) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	depth = max(depth, 1)
	p := &prefetcher{ready: make(chan prefetched, depth), free: make(chan []float32, depth), ctx: ctx, cancel: cancel}
	for range depth {
		p.free <- make([]float32, frameLen)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.ready)
		for {
			var buf []float32
			select {
			case buf = <-p.free:
			case <-ctx.Done():
				return
			}
			fr, err := src.ReadFrame(buf)
			select {
			case p.ready <- prefetched{buf: buf, fr: fr, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

// ReadFrame copies the next decoded frame into dst.
func (p *prefetcher) ReadFrame(dst []float32) (media.Frame, error) {
	if p.err != nil {
		return media.Frame{}, p.err
	}
	item, ok := <-p.ready
	if !ok {
		// The goroutine stopped on cancellation (close or the caller's
		// context) before it could hand over a frame.
		p.err = fmt.Errorf("decoding stopped: %w", p.ctx.Err())
		return media.Frame{}, p.err
	}
	if item.err != nil {
		p.err = item.err
		return media.Frame{}, item.err
	}
	n := copy(dst, item.buf)
	fr := item.fr
	fr.Data = dst[:n]
	p.free <- item.buf
	return fr, nil
}

// close stops the decoding goroutine and waits for it, so that the source
// is no longer read when close returns (the caller may then close it).
func (p *prefetcher) close() {
	p.cancel()
	p.wg.Wait()
}
