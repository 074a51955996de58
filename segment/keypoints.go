package segment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment/tflite"
)

// Pose landmark models for FeatureSpec.PoseModel (MediaPipe's model
// complexity).
var poseModels = map[string]int{"lite": pose.ComplexityLite, "full": pose.ComplexityFull, "heavy": pose.ComplexityHeavy}

// keypointTrackerVersion counts the changes of signseg's Holistic tracking
// (pose, segment/tflite) that change the keypoints it finds in the same
// frames; raise it with such a change, so that keypoints cached by an older
// signseg are not reused (KeypointExtraction).
const keypointTrackerVersion = 1

// keypointSmoothing is whether keypoint features run MediaPipe's landmark
// smoothing (Holistic's smooth_landmarks, on by default).
const keypointSmoothing = true

// HolisticModels returns the MediaPipe Holistic models (pose.LoadModels)
// of a pose model complexity; keypoint features need it (Options.Holistic).
type HolisticModels func(complexity int) (*pose.Models, error)

// checkKeypointSpec validates the keypoint fields of a manifest.
func checkKeypointSpec(f FeatureSpec) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if f.Dim != kpDim || f.Offset != 0 {
		add("features: keypoints have dim %d (75 points × x, y, z, confidence) and offset 0, not %d and %d", kpDim, f.Dim, f.Offset)
	}
	if _, ok := poseModels[f.PoseModel]; f.PoseModel != "" && !ok {
		add("features.pose_model %q must be lite, full or heavy", f.PoseModel)
	}
	pp := f.Preprocess
	if pp.Width != 0 || pp.Height != 0 || pp.CropWidth != 0 || pp.CropHeight != 0 {
		add("features.preprocess: keypoints are found on the video as it is; give no size or crop")
	}
	if !pp.FrameRate.IsZero() {
		if f := pp.FrameRate.Float64(); !(f > 0 && f <= 1000) {
			add("features.preprocess.frame_rate %v must be above 0 and at most 1000 (or absent: the video's own)", pp.FrameRate)
		}
	}
	return errors.Join(errs...)
}

// openKeypoints: keypoint features need no files of the model; the
// Holistic models come from Options.Holistic when a Segmenter is made.
func openKeypoints(spec FeatureSpec, _ string) (newExtractorFunc, error) {
	complexity := keypointComplexity(spec)
	return func(model string, opts Options) (FeatureExtractor, error) {
		if opts.Holistic == nil {
			return nil, fmt.Errorf("model %s reads keypoints, and no MediaPipe Holistic models were given", model)
		}
		models, err := opts.Holistic(complexity)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", model, err)
		}
		// The pose stage of one frame runs beside the hand stage of the
		// previous one, each with half the threads.
		threads := opts.Runtime.Threads
		if threads <= 0 {
			threads = runtime.NumCPU()
		}
		po := pose.Options{Threads: max(threads/2, 1), Session: opts.Runtime, Pipeline: threads > 1, NoSmoothing: !keypointSmoothing}
		k := &keypointExtractor{spec: spec, models: models, opts: po}
		// A first tracker now, so that a model that does not load fails
		// here rather than on the first video.
		tr, err := pose.NewTracker(models, po)
		if err != nil {
			return nil, err
		}
		k.free = append(k.free, tr)
		return k, nil
	}, nil
}

// keypointExtractor finds MediaPipe Holistic keypoints in every frame. A
// tracker follows one video at a time, so concurrent Extract calls each
// take one from a pool.
type keypointExtractor struct {
	spec   FeatureSpec
	models *pose.Models
	opts   pose.Options

	mu   sync.Mutex
	free []*pose.Tracker // trackers not in use
}

// Preprocess is the video at its own size (and rate, unless the model
// names one), as 8-bit RGB.
func (k *keypointExtractor) Preprocess() media.Preprocess { return keypointPreprocess(k.spec) }

// keypointPreprocess is how keypoint features decode the video: at its own
// size, as 8-bit RGB, at the spec's rate (or the video's own).
func keypointPreprocess(spec FeatureSpec) media.Preprocess {
	return media.Preprocess{FrameRate: spec.Preprocess.FrameRate, Color: "rgb", Layout: "hwc", Scaler: "bilinear"}
}

// keypointComplexity is the spec's pose model complexity.
func keypointComplexity(spec FeatureSpec) int {
	if spec.PoseModel != "" {
		return poseModels[spec.PoseModel]
	}
	return pose.ComplexityFull
}

// KeypointExtraction names how keypoint features find their keypoints:
// "keypoints-" and a hash of everything that decides them (the MediaPipe
// Holistic package version, the pose model complexity, smoothing, the
// video's decoding with its frame rate, and keypointTrackerVersion), and
// nothing else. Models whose features have the same name get the same
// keypoints from a video, whatever they do with them next, so that the
// keypoints can be computed once and shared (signseg's feature cache keys
// them by it). ok is false for features of other kinds.
func (f FeatureSpec) KeypointExtraction() (name string, ok bool) {
	if f.Kind != FeaturesKeypoints {
		return "", false
	}
	// The ONNX Runtime threads and execution provider are left out: they
	// change the keypoints only by rounding.
	what := fmt.Sprintf("holistic %s, tracker %d, complexity %d, smoothing %t, dim %d, decoding %+v",
		tflite.HolisticVersion, keypointTrackerVersion, keypointComplexity(f), keypointSmoothing, kpDim, keypointPreprocess(f))
	sum := sha256.Sum256([]byte(what))
	return "keypoints-" + hex.EncodeToString(sum[:8]), true
}

func (k *keypointExtractor) Dim() int    { return kpDim }
func (k *keypointExtractor) Offset() int { return 0 }

func (k *keypointExtractor) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, tr := range k.free {
		tr.Close()
	}
	k.free = nil
}

func (k *keypointExtractor) tracker() (*pose.Tracker, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n := len(k.free); n > 0 {
		tr := k.free[n-1]
		k.free = k.free[:n-1]
		return tr, nil
	}
	return pose.NewTracker(k.models, k.opts)
}

func (k *keypointExtractor) release(tr *pose.Tracker) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.free = append(k.free, tr)
}

// Extract reads src, which must give RGB frames (a *media.Stream opened
// with Preprocess), and returns one row of keypoints per frame.
func (k *keypointExtractor) Extract(ctx context.Context, src Frames, expected int, progress Progress) (*Features, error) {
	rgb, ok := src.(pose.RGBFrames)
	if !ok {
		return nil, errors.New("keypoint features read 8-bit RGB frames: open the video with the model's preprocessing (media.Open)")
	}
	f := &Features{Dim: kpDim, FPS: k.spec.Preprocess.FrameRate.Float64()}
	if s, ok := src.(interface{ Preprocess() media.Preprocess }); ok {
		f.FPS = s.Preprocess().FrameRate.Float64()
	}
	if !(f.FPS > 0) {
		return nil, errors.New("keypoint features: the frames' rate is unknown (open the video with media.Open)")
	}
	tr, err := k.tracker()
	if err != nil {
		return nil, err
	}
	defer k.release(tr)
	err = pose.TrackStream(ctx, rgb, "video", tr, func(fr media.RGBFrame, kf pose.Frame) error {
		if f.Frames == 0 {
			f.StartMS = fr.TimeMs
		}
		f.Data = appendKeypoints(f.Data, &kf)
		f.Frames++
		if progress != nil {
			progress(f.Frames, expected)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if f.Frames == 0 {
		return nil, errNoFrames
	}
	return f, nil
}

// appendKeypoints appends one frame's row: pose, left hand, right hand,
// each point x, y, z, confidence; all zeros when missing.
func appendKeypoints(row []float32, kf *pose.Frame) []float32 {
	start := len(row)
	row = append(row, make([]float32, kpDim)...)
	if !kf.Signer {
		return row
	}
	r := row[start:]
	put := func(i int, l pose.Landmark) {
		copy(r[i*kpValues:], []float32{l.X, l.Y, l.Z, l.Visibility})
	}
	for i, l := range kf.Pose {
		put(i, l)
	}
	for _, h := range []struct {
		hand  *pose.Hand
		first int
	}{{&kf.Left, kpLeftHand}, {&kf.Right, kpRightHand}} {
		if !h.hand.Present {
			continue
		}
		for i, l := range h.hand.Points {
			l.Visibility = h.hand.Presence
			put(h.first+i, l)
		}
	}
	return row
}

func describeKeypoints(f FeatureSpec) string {
	model, rate := f.PoseModel, "the video's own rate"
	if model == "" {
		model = "full"
	}
	if !f.Preprocess.FrameRate.IsZero() {
		rate = f.Preprocess.FrameRate.String() + " fps"
	}
	return fmt.Sprintf("keypoints: MediaPipe Holistic (pose model %s), 75 points × (x, y, z, confidence) per frame at %s", model, rate)
}
