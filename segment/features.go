package segment

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/signseg/signseg/media"
)

// Frames is a stream of preprocessed frames, each C×H×W float32 in the
// model's preprocessing, at the model's frame rate. *media.Stream is one.
type Frames interface {
	// ReadFrame fills dst (len C·H·W) with the next frame and returns it
	// with its media time; io.EOF after the last frame.
	ReadFrame(dst []float32) (media.Frame, error)
}

// Progress is called with the number of frames processed so far and the
// expected total (0 when unknown).
type Progress func(done, total int)

// featureSeq is the feature sequence of one video: T rows of Dim values,
// where row i belongs to frame i+Offset.
type featureSeq struct {
	data    []float32 // T×Dim, row-major
	dim     int
	frames  int     // decoded frames N
	startMS float64 // media time of frame 0
}

func (f *featureSeq) len() int { return len(f.data) / f.dim }

// extractFeatures slides a stride-1 window of ClipLength frames over the
// stream and runs the clip model on batches of batchSize clips. Memory is
// bounded by the window and the batch: frames are kept only while a clip
// still needs them. Videos shorter than a clip are padded by repeating the
// last frame, giving one clip.
//
// every > 1 is the approximate fast path (Speed.FeatureEvery): only clips
// 0, every, 2·every, … and the last clip run through the model, and the
// rows in between are interpolated (interpolateRows, speed.go).
func extractFeatures(ctx context.Context, sess *session, spec FeatureSpec, src Frames, batchSize, every, expected int, progress Progress) (*featureSeq, error) {
	pp := spec.Preprocess
	w, h := pp.OutputSize()
	c := pp.Channels()
	hw := h * w
	frameLen := c * hw
	L := spec.ClipLength
	if batchSize <= 0 {
		batchSize = max(spec.BatchSize, 1)
	}
	clipLen := frameLen * L

	// ring holds the last L frames; frame k lives in ring[k%L].
	ring := make([][]float32, L)
	for i := range ring {
		ring[i] = make([]float32, frameLen)
	}
	batch := make([]float32, 0, batchSize*clipLen)
	seq := &featureSeq{dim: spec.Dim}

	flush := func() error {
		n := len(batch) / clipLen
		if n == 0 {
			return nil
		}
		out, shape, err := sess.run(batch, int64(n), int64(c), int64(L), int64(h), int64(w))
		if err != nil {
			return err
		}
		if len(shape) != 2 || shape[0] != int64(n) || shape[1] != int64(spec.Dim) {
			return fmt.Errorf("model %s: features output has shape %v, want [%d %d]", sess.name, shape, n, spec.Dim)
		}
		seq.data = append(seq.data, out...)
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
			for ch := 0; ch < c; ch++ {
				copy(clip[(ch*L+t)*hw:(ch*L+t+1)*hw], fr[ch*hw:(ch+1)*hw])
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
			seq.startMS = fr.TimeMs
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
		return nil, errors.New("the video has no frames")
	}
	seq.frames = n
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
		seq.data = interpolateRows(seq.data, spec.Dim, max(n-L+1, 1), every)
	}
	return seq, nil
}

// frameValues spreads per-feature values over all n frames: frame f takes
// the value of feature f−offset, and frames before the first or after the
// last feature take the nearest one, so every frame gets a value.
func frameValues(perFeature []float32, offset, n int) []float32 {
	out := make([]float32, n)
	if len(perFeature) == 0 {
		return out
	}
	for f := range out {
		i := min(max(f-offset, 0), len(perFeature)-1)
		out[f] = perFeature[i]
	}
	return out
}
