package segment

import (
	"context"
	"fmt"
	"math"
)

// Options tune a Segmenter.
type Options struct {
	Threads   int          // intra-op threads per ONNX session; 0 = all cores
	BatchSize int          // clips per ONNX call; 0 = the model's default
	Decode    DecodeConfig // overrides of the model's decoding defaults
	Speed     Speed        // session tuning, decode overlap, GPU and fast paths (speed.go)
}

// Segmenter runs one model over videos. Its ONNX sessions are created once
// and reused for every video; Segment may be called from several goroutines
// at once. Close it when done.
type Segmenter struct {
	model    *Model
	features *session
	temporal *temporalRunner
	batch    int
	decode   DecodeConfig
	speed    Speed
}

// NewSegmenter creates the model's sessions. ONNX Runtime must be
// initialised (internal/ortenv).
func NewSegmenter(m *Model, opts Options) (*Segmenter, error) {
	dec := m.Decoding.Merge(opts.Decode).withDefaults()
	if err := dec.check(m.Temporal != nil); err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	if err := opts.Speed.check(m.Features.ClipLength); err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	s := &Segmenter{model: m, batch: opts.BatchSize, decode: dec, speed: opts.Speed}
	var err error
	s.features, err = newSessionWith(m.Name+" features", m.features, m.Features.Input, m.Features.Output, opts.Threads, opts.Speed)
	if err != nil {
		return nil, err
	}
	if t := m.Temporal; t != nil && dec.Decoder == DecoderThreshold {
		sess, err := newSessionWith(m.Name+" temporal", m.temporal, t.Input, t.Output, opts.Threads, opts.Speed)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.temporal = &temporalRunner{sess: sess, spec: *t, dim: m.Features.Dim}
	}
	return s, nil
}

// Decoding returns the decoding settings in effect.
func (s *Segmenter) Decoding() DecodeConfig { return s.decode }

// Close releases the ONNX sessions.
func (s *Segmenter) Close() {
	s.features.close()
	if s.temporal != nil {
		s.temporal.sess.close()
	}
}

// Result is the segmentation of one video.
type Result struct {
	FPS     float64 // frame rate of the frames below
	Frames  int     // decoded frames
	StartMS float64 // media time of frame 0
	// Boundary is the per-frame boundary score the decoder thresholded: the
	// temporal model's probability, or 1 on changepoint boundary frames.
	Boundary []float32
	Decoded  // signs and boundaries as frame spans
}

// Times maps the spans to integer media-time milliseconds (see SpanMS).
func (r *Result) Times() (signs, boundaries []TimeSpan, err error) {
	origin := int64(math.Round(r.StartMS))
	return r.Decoded.ToMS(r.FPS, max(origin, 0))
}

// Segment reads all frames from src and segments them. expected is the
// expected frame count for progress (0 if unknown); progress may be nil.
func (s *Segmenter) Segment(ctx context.Context, src Frames, expected int, progress Progress) (*Result, error) {
	seq, err := s.extract(ctx, src, expected, progress) // speed.go
	if err != nil {
		return nil, err
	}
	return s.fromFeatures(ctx, seq)
}

// fromFeatures turns a video's features into boundary scores and spans.
func (s *Segmenter) fromFeatures(ctx context.Context, seq *featureSeq) (*Result, error) {
	m := s.model
	var err error
	var perFeature, energy []float32
	switch s.decode.Decoder {
	case DecoderThreshold:
		if perFeature, err = s.temporal.boundaryProbabilities(ctx, seq); err != nil {
			return nil, err
		}
	case DecoderChangepoint:
		if perFeature, energy, err = s.changepoints(ctx, seq); err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
	}
	perFrame := frameValues(perFeature, m.Features.Offset, seq.frames)
	dec, err := DecodeProbabilities(perFrame, DecodeOptions{
		Threshold:          s.decode.Threshold,
		Gaps:               s.decode.Gaps,
		MinSignFrames:      s.decode.MinSignFrames,
		DropEdgeBoundaries: !s.decode.KeepEdgeBoundaries,
	})
	if err != nil {
		return nil, fmt.Errorf("model %s: decoding: %w", m.Name, err)
	}
	if energy != nil {
		dec.Signs = dropRests(dec.Signs, frameValues(energy, m.Features.Offset, seq.frames))
	}
	return &Result{FPS: m.FPS(), Frames: seq.frames, StartMS: seq.startMS, Boundary: perFrame, Decoded: dec}, nil
}

// changepoints finds boundaries by PELT on the configured signal and
// returns them as a per-feature 0/1 boundary score, with the motion profile
// when the signal is SignalMotionEnergy.
func (s *Segmenter) changepoints(ctx context.Context, seq *featureSeq) (boundary, energy []float32, err error) {
	cp := s.decode.Changepoint
	T := seq.len()
	x, D := seq.data, seq.dim
	penalty := cp.Penalty
	switch cp.Signal {
	case SignalMotionEnergy:
		if energy, err = motionEnergy(seq); err != nil {
			return nil, nil, err
		}
		x, D = energy, 1
		if penalty == 0 {
			penalty = varianceLogPenalty(x, cp.PenaltyFactor)
		}
	default:
		if penalty == 0 {
			if penalty, err = PenaltyForFeatures(x, T, D, cp.PenaltyFactor); err != nil {
				return nil, nil, err
			}
		}
	}
	cps, err := PELT(ctx, x, T, D, PELTOptions{Penalty: penalty, MinSize: cp.MinSize, Jump: cp.Jump})
	if err != nil {
		return nil, nil, err
	}
	return ChangepointBoundaries(cps, T, cp.Dilate), energy, nil
}
