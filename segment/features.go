package segment

import (
	"context"
	"errors"
	"fmt"
	"sort"

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

// Features is the feature sequence of one video: row i (Dim values)
// belongs to frame i+Offset.
type Features struct {
	Data    []float32 // rows × Dim, row-major
	Dim     int
	Offset  int
	Frames  int     // decoded frames
	FPS     float64 // their frame rate
	StartMS float64 // media time of frame 0
}

// Rows returns the number of feature rows.
func (f *Features) Rows() int { return len(f.Data) / max(f.Dim, 1) }

// FeatureExtractor turns the frames of one video into features. Each model
// has one, made by its feature kind (FeatureSpec.Kind); Extract may be
// called from several goroutines at once.
type FeatureExtractor interface {
	// Preprocess is the frame rate, size and normalisation of the frames
	// that Extract reads.
	Preprocess() media.Preprocess
	// Dim is the number of values per feature row.
	Dim() int
	// Offset is the frame that feature row 0 belongs to.
	Offset() int
	// Extract reads src to its end and returns its features. expected is
	// the expected frame count for progress (0 if unknown); progress may be
	// nil.
	Extract(ctx context.Context, src Frames, expected int, progress Progress) (*Features, error)
	// Close releases the extractor's resources.
	Close()
}

// featureKind is one way of computing features, named by FeatureSpec.Kind.
type featureKind struct {
	// check validates the kind's own fields of a manifest.
	check func(spec FeatureSpec) error
	// open reads and verifies what the kind needs from the model folder dir
	// ("" for a built-in model) and returns the extractor's constructor.
	open func(spec FeatureSpec, dir string) (newExtractorFunc, error)
	// describe says in one line what the features are, for people.
	describe func(spec FeatureSpec) string
}

// newExtractorFunc creates a model's extractor; it returns a *ConfigError
// for options that do not fit the kind.
type newExtractorFunc func(model string, opts Options) (FeatureExtractor, error)

// featureKinds are the feature kinds by name: adding a kind is adding an
// entry here.
var featureKinds = map[string]featureKind{
	FeaturesClip:      {check: checkClipSpec, open: openClip, describe: describeClip},
	FeaturesKeypoints: {check: checkKeypointSpec, open: openKeypoints, describe: describeKeypoints},
}

// String describes the features in one line (model info).
func (f FeatureSpec) String() string {
	k, err := lookupFeatureKind(f.Kind)
	if err != nil {
		return err.Error()
	}
	return k.describe(f)
}

func lookupFeatureKind(kind string) (featureKind, error) {
	if kind == "" {
		kind = FeaturesClip
	}
	k, ok := featureKinds[kind]
	if !ok {
		var known []string
		for name := range featureKinds {
			known = append(known, name)
		}
		sort.Strings(known)
		return featureKind{}, fmt.Errorf("features.kind %q is not known (known: %v)", kind, known)
	}
	return k, nil
}

// errNoFrames is returned when a video decodes to no frames at all.
var errNoFrames = errors.New("the video has no frames")

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
