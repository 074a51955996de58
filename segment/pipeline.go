package segment

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment/decode"
)

// Options tune a Segmenter. The zero value is the default: the model's own
// decoding and batch size, all cores, exact results.
type Options struct {
	// Runtime sets the ONNX Runtime sessions' threads, execution provider
	// and tuning.
	Runtime ortsession.Options
	// BatchSize is the clips per ONNX call; 0 means the model's default.
	BatchSize int
	// Prefetch is how many decoded frames may wait for the model: a
	// goroutine keeps ffmpeg decoding while ONNX Runtime runs, so the CPU
	// never idles on the decoder. 0 means two batches (at least one clip);
	// negative decodes in the inference goroutine (the sequential path,
	// kept for benchmarks).
	Prefetch int
	// FeatureEvery k ≥ 2 runs the clip model only on every k-th clip (and
	// the last) and interpolates the features of the clips in between
	// linearly; the temporal model then sees a full-rate sequence, so the
	// boundary probabilities are interpolated too. About k times fewer
	// clip-model calls; not exact (see the README's "Speed" section for the
	// measured deviation). 0 or 1 computes every clip.
	FeatureEvery int
	// Decoding overrides the model's decoding settings field by field.
	Decoding Decoding
	// Holistic gives the MediaPipe Holistic models that keypoint features
	// run (nil: models with keypoint features cannot be used).
	Holistic HolisticModels
}

// Exact reports whether the options keep the reference numbers.
func (o Options) Exact() bool { return o.FeatureEvery <= 1 }

// Segmenter runs one model over videos. Its ONNX sessions are created once
// and reused for every video; Segment may be called from several goroutines
// at once. Close it when done.
type Segmenter struct {
	model    *Model
	features FeatureExtractor
	scorer   scorer
	decoding Decoding // with defaults set
}

// NewSegmenter creates the model's feature extractor and scorer. ONNX
// Runtime must be initialised (internal/ortenv). Settings that cannot work
// give a *ConfigError naming every problem.
func NewSegmenter(m *Model, opts Options) (*Segmenter, error) {
	dec := m.Decoding.Merge(opts.Decoding).withDefaults()
	var errs []error
	if err := dec.check(&m.Manifest); err != nil {
		errs = append(errs, err)
	}
	if err := opts.Runtime.Check(); err != nil {
		errs = append(errs, err)
	}
	if opts.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("batch size %d: give 0 (the model's) or more", opts.BatchSize))
	}
	if len(errs) > 0 {
		return nil, &ConfigError{Model: m.Name, Err: errors.Join(errs...)}
	}
	sc, err := decoders[*dec.Decoder].new(m, dec, opts)
	if err != nil {
		return nil, err
	}
	feats, err := m.newFeatures(m.Name, opts)
	if err != nil {
		sc.close()
		return nil, err
	}
	return &Segmenter{model: m, features: feats, scorer: sc, decoding: dec}, nil
}

// Preprocess is how the frames given to Segment and Features must be
// decoded (media.Open).
func (s *Segmenter) Preprocess() media.Preprocess { return s.features.Preprocess() }

// Decoding returns the decoding settings in effect, every field set.
func (s *Segmenter) Decoding() Decoding { return s.decoding }

// Close releases the ONNX sessions.
func (s *Segmenter) Close() {
	s.features.Close()
	s.scorer.close()
}

// Result is the segmentation of one video.
type Result struct {
	FPS     float64 // frame rate of the frames below
	Frames  int     // decoded frames
	StartMS float64 // media time of frame 0
	// Boundary is the per-frame boundary score the decoder thresholded: the
	// temporal model's probability, 1 on changepoint boundary frames, the
	// clarity of a dip of the hands' speed, or 1 − P(inside a sign).
	Boundary       []float32
	decode.Decoded // signs and boundaries as frame spans
	// Sentences are the sentence (phrase) spans of models that give them;
	// nil for the others.
	Sentences []decode.FrameSpan
	// SignerFrames is, for a keypoint model, the number of frames that
	// showed a signer (both shoulders); -1 for other models. Where it is
	// low, the video shows nobody MediaPipe can find, so nothing to segment.
	SignerFrames int
}

// Times maps the spans to integer media-time milliseconds (see
// decode.SpanMS).
func (r *Result) Times() (signs, boundaries []decode.TimeSpan, err error) {
	return r.Decoded.ToMS(r.FPS, r.originMS())
}

// SentenceTimes maps the sentences to media time like Times.
func (r *Result) SentenceTimes() ([]decode.TimeSpan, error) {
	if r.Sentences == nil {
		return nil, nil
	}
	s, _, err := decode.Decoded{Signs: r.Sentences}.ToMS(r.FPS, r.originMS())
	return s, err
}

func (r *Result) originMS() int64 { return max(int64(math.Round(r.StartMS)), 0) }

// Segment reads all frames from src and segments them. expected is the
// expected frame count for progress (0 if unknown); progress may be nil.
func (s *Segmenter) Segment(ctx context.Context, src Frames, expected int, progress Progress) (*Result, error) {
	f, err := s.Features(ctx, src, expected, progress)
	if err != nil {
		return nil, err
	}
	return s.SegmentFeatures(ctx, f)
}

// Features decodes src and returns its features, the first half of
// Segment; SegmentFeatures is the second. They are separate so that
// features can be computed once and compared or reused.
func (s *Segmenter) Features(ctx context.Context, src Frames, expected int, progress Progress) (*Features, error) {
	return s.features.Extract(ctx, src, expected, progress)
}

// SegmentFeatures segments a video from its features (from Features of a
// Segmenter with the same model).
func (s *Segmenter) SegmentFeatures(ctx context.Context, f *Features) (*Result, error) {
	m := s.model
	if f == nil || f.Dim != s.features.Dim() || len(f.Data)%max(f.Dim, 1) != 0 || f.Rows() == 0 || !(f.FPS > 0) {
		return nil, fmt.Errorf("model %s: features do not fit the model (want rows of %d values)", m.Name, s.features.Dim())
	}
	res, err := s.scorer.segment(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	res.FPS, res.Frames, res.StartMS = f.FPS, f.Frames, f.StartMS
	res.SignerFrames = -1
	if m.Features.Kind == FeaturesKeypoints {
		res.SignerFrames = signerFrames(f.Data, f.Rows())
	}
	return res, nil
}
