package pose

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/signseg/signseg/media"
)

// Summary describes a tracked video.
type Summary struct {
	Path          string
	Width, Height int
	FPS           float64
	Frames        int
	NoSigner      int // frames without a signer
	Left, Right   int // frames with the left / right hand found
}

// String is a one-line report, e.g. for the command line.
func (s Summary) String() string {
	pct := func(n int) float64 {
		if s.Frames == 0 {
			return 0
		}
		return 100 * float64(n) / float64(s.Frames)
	}
	return fmt.Sprintf("%s: %d frames (%dx%d, %.4g fps), no signer on %d (%.1f %%), left hand on %d (%.1f %%), right hand on %d (%.1f %%)",
		s.Path, s.Frames, s.Width, s.Height, s.FPS, s.NoSigner, pct(s.NoSigner), s.Left, pct(s.Left), s.Right, pct(s.Right))
}

// TrackVideo decodes the video at path at its native size and rate and
// runs tr on every frame (TrackStream).
func TrackVideo(ctx context.Context, tools media.Tools, path string, tr *Tracker, fn func(media.RGBFrame, Frame) error) (Summary, error) {
	s, err := tools.OpenRGB(ctx, path)
	if err != nil {
		return Summary{Path: path}, err
	}
	defer s.Close()
	p := s.Preprocess()
	sum := Summary{Path: path, Width: p.Width, Height: p.Height, FPS: p.FrameRate.Float64()}
	err = TrackStream(ctx, s, path, tr, func(f media.RGBFrame, kf Frame) error {
		sum.add(kf)
		if fn != nil {
			return fn(f, kf)
		}
		return nil
	})
	return sum, err
}

// RGBFrames is a source of 8-bit RGB frames in order; *media.Stream is one.
type RGBFrames interface {
	ReadRGB() (media.RGBFrame, error)
}

// TrackStream runs tr (Reset first) on every frame of src, calling fn in
// frame order with the decoded frame and its keypoints (fn may draw on the
// frame's pixels). name labels errors. It stops at the first error of
// decoding, of the models or of fn, or when ctx ends. With
// Options.Pipeline the pose and hand stages of successive frames run
// concurrently.
func TrackStream(ctx context.Context, src RGBFrames, name string, tr *Tracker, fn func(media.RGBFrame, Frame) error) error {
	tr.Reset()
	if tr.opt.Pipeline {
		return trackPipelined(ctx, src, name, tr, fn)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := src.ReadRGB()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		kf, err := tr.Process(f)
		if err != nil {
			return fmt.Errorf("%s: frame %d: %w", name, f.Index, err)
		}
		if err := fn(f, kf); err != nil {
			return err
		}
	}
}

// add counts one frame's keypoints.
func (s *Summary) add(kf Frame) {
	s.Frames++
	if !kf.Signer {
		s.NoSigner++
	}
	if kf.Left.Present {
		s.Left++
	}
	if kf.Right.Present {
		s.Right++
	}
}

// staged is a frame between the pipeline's two stages.
type staged struct {
	f  media.RGBFrame
	kf Frame
}

// trackPipelined runs decoding and the pose stage in one goroutine and the
// hand stage and emit in this one. Frames travel with their own copy of
// the pixels, from a pool of buffers that bounds the memory.
func trackPipelined(ctx context.Context, s RGBFrames, path string, tr *Tracker, emit func(media.RGBFrame, Frame) error) error {
	const depth = 2
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan []byte, depth+1)
	for range depth + 1 {
		free <- nil
	}
	work := make(chan staged, depth)
	errc := make(chan error, 1)
	go func() {
		defer close(work)
		for {
			f, err := s.ReadRGB()
			if errors.Is(err, io.EOF) {
				errc <- nil
				return
			}
			if err != nil {
				errc <- err
				return
			}
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
			f.Pix = append(buf[:0], f.Pix...)
			kf, err := tr.processPose(f)
			if err != nil {
				errc <- fmt.Errorf("%s: frame %d: %w", path, f.Index, err)
				return
			}
			select {
			case work <- staged{f, kf}:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
	}()
	var firstErr error
	for st := range work {
		if firstErr != nil {
			continue // drain so the producer can finish
		}
		if err := tr.processHands(st.f, &st.kf); err != nil {
			firstErr = fmt.Errorf("%s: frame %d: %w", path, st.f.Index, err)
			cancel()
			continue
		}
		if err := emit(st.f, st.kf); err != nil {
			firstErr = err
			cancel()
			continue
		}
		free <- st.f.Pix
	}
	if err := <-errc; firstErr == nil && err != nil {
		firstErr = err
	}
	return firstErr
}
