package eval

import "fmt"

// The paper's protocol scores the frames its model predicts: a 16-frame
// window centred on frame i+8 gives feature i, so an N-frame video has
// predictions for frames 8 … N−8 and none for the first 8 and the last 7.
// The authors' loader cuts the labels to gt[8:−7] after dilating the
// whole video's labels, and drops videos with fewer than 16 frames
// (RenzKa/sign-segmentation datasets/bslcp.py, num_in_frames = 16).
const (
	// VideoLeadFrames is the number of frames at the start of a video that
	// the paper's evaluation leaves out.
	VideoLeadFrames = 8
	// VideoTrailFrames is the number of frames at the end of a video that
	// the paper's evaluation leaves out.
	VideoTrailFrames = 7
	// MinVideoFrames is the shortest video the paper's evaluation scores.
	MinVideoFrames = VideoLeadFrames + VideoTrailFrames + 1
)

// VideoWindow returns the frames [first, first+n) of a video of total
// frames that the paper's whole-video evaluation scores; n is 0 when the
// video has fewer than MinVideoFrames frames (the paper leaves such videos
// out).
func VideoWindow(total int) (first, n int) {
	return VideoLeadFrames, max(total-VideoLeadFrames-VideoTrailFrames, 0)
}

// TooShortError is returned by NewWholeVideo for a video the paper's
// evaluation leaves out.
type TooShortError struct {
	Name   string
	Frames int
}

// Error says why the video is not scored.
func (e *TooShortError) Error() string {
	return fmt.Sprintf("evaluate %s: %d frames; the paper's protocol scores frames %d to N−%d and needs at least %d",
		e.Name, e.Frames, VideoLeadFrames, VideoTrailFrames+1, MinVideoFrames)
}

// NewWholeVideo builds the paper's evaluation inputs for one video from
// labels of all its frames, as the authors' evaluation does: pred and gt
// label every frame of the video (frames outside any annotation are sign
// frames, 0), the reference is dilated over the whole video, and all three
// are cut to VideoWindow before CutEndpoints. A video shorter than
// MinVideoFrames gives a *TooShortError.
func NewWholeVideo(name string, pred, gt []int) (Video, error) {
	if len(pred) != len(gt) {
		return Video{}, fmt.Errorf("evaluate %s: %d predicted and %d reference frames; label the same video at the same frame rate", name, len(pred), len(gt))
	}
	first, n := VideoWindow(len(gt))
	if n == 0 {
		return Video{}, &TooShortError{Name: name, Frames: len(gt)}
	}
	return NewVideo(name, pred[first:first+n], gt, first)
}
