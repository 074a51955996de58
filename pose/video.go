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
// runs tr (Reset first) on every frame, calling fn with the decoded frame
// and its keypoints (fn may draw on the frame's pixels). It stops at the
// first error of decoding, of the models or of fn, or when ctx ends.
func TrackVideo(ctx context.Context, tools media.Tools, path string, tr *Tracker, fn func(media.RGBFrame, Frame) error) (Summary, error) {
	s, err := tools.OpenRGB(ctx, path)
	if err != nil {
		return Summary{Path: path}, err
	}
	defer s.Close()
	p := s.Preprocess()
	sum := Summary{Path: path, Width: p.Width, Height: p.Height, FPS: p.FrameRate.Float64()}
	tr.Reset()
	for {
		f, err := s.ReadRGB()
		if errors.Is(err, io.EOF) {
			return sum, nil
		}
		if err != nil {
			return sum, err
		}
		kf, err := tr.Process(f)
		if err != nil {
			return sum, fmt.Errorf("%s: frame %d: %w", path, f.Index, err)
		}
		sum.Frames++
		if !kf.Signer {
			sum.NoSigner++
		}
		if kf.Left.Present {
			sum.Left++
		}
		if kf.Right.Present {
			sum.Right++
		}
		if fn != nil {
			if err := fn(f, kf); err != nil {
				return sum, err
			}
		}
	}
}
