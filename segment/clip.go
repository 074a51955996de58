package segment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// FeaturesClip is the feature kind of the paper's pipeline: an ONNX clip
// model maps each stride-1 window of ClipLength frames, [N, C, ClipLength,
// H, W], to one feature row [N, Dim]. It is the kind of a manifest that
// names none.
const FeaturesClip = "clip"

// builtinClipGraphs are the clip models that signseg builds from fixed
// weights instead of reading them from a file (FeatureSpec.Builtin), for
// the frame size that the spec's preprocessing produces.
var builtinClipGraphs = map[string]func(spec FeatureSpec) ([]byte, error){
	"motion": func(spec FeatureSpec) ([]byte, error) {
		w, h := spec.Preprocess.OutputSize()
		return onnxgraph.BuildMotion(onnxgraph.MotionConfig{Height: h, Width: w})
	},
}

// checkClipSpec validates the clip model fields of a manifest.
func checkClipSpec(f FeatureSpec) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if (f.File == "") == (f.Builtin == "") {
		add("features: give exactly one of file and builtin")
	}
	if _, ok := builtinClipGraphs[f.Builtin]; f.Builtin != "" && !ok {
		add("features.builtin %q is not a built-in clip model (known: motion)", f.Builtin)
	}
	if f.Layout != "NCTHW" || (f.Preprocess.Layout != "" && f.Preprocess.Layout != "chw") {
		add("features.layout %q is not supported (only NCTHW)", f.Layout)
	}
	if f.ClipLength < 1 {
		add("features.clip_length must be ≥ 1")
	}
	if f.Stride != 1 {
		add("features.stride %d is not supported (only 1: one feature per frame)", f.Stride)
	}
	if f.Offset < 0 || f.Offset >= max(f.ClipLength, 1) {
		add("features.offset %d must be in [0, clip_length)", f.Offset)
	}
	if f.Input == "" || f.Output == "" {
		add("features.input and features.output must be named")
	}
	if err := f.Preprocess.Validate(); err != nil {
		add("features.preprocess: %v", err)
	}
	return errors.Join(errs...)
}

// openClip reads the clip model (or builds a built-in one) and checks its
// inputs and outputs against the spec.
func openClip(spec FeatureSpec, dir string) (newExtractorFunc, error) {
	var graph []byte
	var err error
	if spec.Builtin != "" {
		graph, err = builtinClipGraphs[spec.Builtin](spec)
	} else {
		graph, err = os.ReadFile(filepath.Join(dir, spec.File))
	}
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	pp := spec.Preprocess
	w, h := pp.OutputSize()
	in := []int64{ortsession.DimDynamic, int64(pp.Channels()), int64(spec.ClipLength), int64(h), int64(w)}
	if err := ortsession.CheckIO("features", graph, spec.Input, spec.Output, in, []int64{ortsession.DimDynamic, int64(spec.Dim)}); err != nil {
		return nil, err
	}
	return func(model string, opts Options) (FeatureExtractor, error) {
		if opts.FeatureEvery < 0 || opts.FeatureEvery > spec.ClipLength {
			return nil, &ConfigError{Model: model, Err: fmt.Errorf("features every %d clips: give 1 (exact) up to the clip length %d", opts.FeatureEvery, spec.ClipLength)}
		}
		sess, err := ortsession.New(model+" features", graph, []string{spec.Input}, []string{spec.Output}, opts.Runtime)
		if err != nil {
			return nil, err
		}
		batch := opts.BatchSize
		if batch <= 0 {
			batch = max(spec.BatchSize, 1)
		}
		return &clipExtractor{spec: spec, sess: sess, batch: batch, every: opts.FeatureEvery, prefetch: opts.Prefetch}, nil
	}, nil
}

// clipExtractor runs a clip model over a video.
type clipExtractor struct {
	spec     FeatureSpec
	sess     *ortsession.Session
	batch    int // clips per ONNX call
	every    int // Options.FeatureEvery
	prefetch int // Options.Prefetch
}

func (c *clipExtractor) Preprocess() media.Preprocess { return c.spec.Preprocess }
func (c *clipExtractor) Dim() int                     { return c.spec.Dim }
func (c *clipExtractor) Offset() int                  { return c.spec.Offset }
func (c *clipExtractor) Close()                       { c.sess.Close() }

// Extract decodes src, ahead in its own goroutine unless Prefetch < 0, and
// runs the clip model on its clips.
func (c *clipExtractor) Extract(ctx context.Context, src Frames, expected int, progress Progress) (*Features, error) {
	if c.prefetch >= 0 {
		depth := c.prefetch
		if depth == 0 {
			depth = max(2*c.batch, c.spec.ClipLength)
		}
		p := prefetch(ctx, src, c.spec.Preprocess.FrameLen(), depth)
		defer p.close()
		src = p
	}
	return c.extract(ctx, src, expected, progress)
}

// extract slides a stride-1 window of ClipLength frames over the
// stream and runs the clip model on batches of batchSize clips. Memory is
// bounded by the window and the batch: frames are kept only while a clip
// still needs them. Videos shorter than a clip are padded by repeating the
// last frame, giving one clip.
//
// every > 1 is the approximate fast path (Options.FeatureEvery): only clips
// 0, every, 2·every, … and the last clip run through the model, and the
// rows in between are interpolated (interpolateRows).
func (c *clipExtractor) extract(ctx context.Context, src Frames, expected int, progress Progress) (*Features, error) {
	spec, batchSize, every := c.spec, c.batch, c.every
	pp := spec.Preprocess
	w, h := pp.OutputSize()
	ch := pp.Channels()
	hw := h * w
	frameLen := ch * hw
	L := spec.ClipLength
	clipLen := frameLen * L

	// ring holds the last L frames; frame k lives in ring[k%L].
	ring := make([][]float32, L)
	for i := range ring {
		ring[i] = make([]float32, frameLen)
	}
	batch := make([]float32, 0, batchSize*clipLen)
	seq := &Features{Dim: spec.Dim, Offset: spec.Offset, FPS: pp.FrameRate.Float64()}

	flush := func() error {
		n := len(batch) / clipLen
		if n == 0 {
			return nil
		}
		out, err := c.sess.Run1(batch, int64(n), int64(ch), int64(L), int64(h), int64(w))
		if err != nil {
			return err
		}
		shape := out.Shape
		if len(shape) != 2 || shape[0] != int64(n) || shape[1] != int64(spec.Dim) {
			return fmt.Errorf("model %s: features output has shape %v, want [%d %d]", c.sess.Name(), shape, n, spec.Dim)
		}
		seq.Data = append(seq.Data, out.Data...)
		batch = batch[:0]
		return nil
	}
	// addClip appends the clip whose last frame is k to the batch, in
	// NCTHW order: for each channel, the L frames' planes in time order.
	addClip := func(k int) error {
		start := len(batch)
		batch = batch[:start+clipLen]
		clip := batch[start:]
		for t := 0; t < L; t++ {
			fr := ring[(k-L+1+t)%L]
			for p := 0; p < ch; p++ {
				copy(clip[(p*L+t)*hw:(p*L+t+1)*hw], fr[p*hw:(p+1)*hw])
			}
		}
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	}

	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fr, err := src.ReadFrame(ring[n%L])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			seq.StartMS = fr.TimeMs
		}
		if n >= L-1 && (every <= 1 || (n-L+1)%every == 0) {
			if err := addClip(n); err != nil {
				return nil, err
			}
		}
		n++
		if progress != nil {
			progress(n, expected)
		}
	}
	if n == 0 {
		return nil, errNoFrames
	}
	seq.Frames = n
	if n < L {
		// Repeat the last frame to fill one clip.
		last := ring[(n-1)%L]
		for k := n; k < L; k++ {
			copy(ring[k%L], last)
		}
		if err := addClip(L - 1); err != nil {
			return nil, err
		}
	}
	if every > 1 && n > L && (n-L)%every != 0 {
		// The last clip ends the interpolation (the ring holds its frames).
		if err := addClip(n - 1); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if every > 1 {
		seq.Data = interpolateRows(seq.Data, spec.Dim, max(n-L+1, 1), every)
	}
	return seq, nil
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
		// Cannot happen when extract and this agree; keep the data
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

func describeClip(f FeatureSpec) string {
	what := f.File
	if f.Builtin != "" {
		what = "built-in " + f.Builtin
	}
	pp := f.Preprocess
	w, h := pp.OutputSize()
	return fmt.Sprintf("%s: clips of %d frames (%dx%d %s at %s fps) → %d-d, feature i at frame i+%d, batch %d",
		what, f.ClipLength, w, h, pp.Color, pp.FrameRate, f.Dim, f.Offset, f.BatchSize)
}
