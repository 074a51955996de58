package segment

import (
	"context"
	"fmt"

	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/pelt"
)

// Decoder names (Decoding.Decoder).
const (
	DecoderThreshold   = "threshold"   // threshold the temporal model's boundary probability
	DecoderChangepoint = "changepoint" // PELT changepoints on the features
	DecoderHands       = "hands"       // the keypoint rule of handsScores
)

// scorer turns a video's features into a boundary score per feature row,
// which decoding then thresholds. A Segmenter chooses its scorer once, by
// the decoder, from scorers.
type scorer interface {
	// score returns one boundary score in [0, 1] per row of f, and
	// optionally a filter that removes decoded signs that are not signs
	// (nil keeps them all).
	score(ctx context.Context, f *Features) ([]float32, func([]decode.FrameSpan) []decode.FrameSpan, error)
	close()
}

// scorers are the decoders by name; dec has its defaults set.
var scorers = map[string]func(m *Model, dec Decoding, opts Options) (scorer, error){
	DecoderThreshold:   newThresholdScorer,
	DecoderChangepoint: newChangepointScorer,
	DecoderHands:       newHandsScorer,
}

// changepointScorer finds boundaries by PELT on the features, or on their
// motion profile (SignalMotionEnergy), and drops still stretches there.
type changepointScorer struct {
	model string
	cp    Changepoint // with defaults set
}

func newChangepointScorer(m *Model, dec Decoding, _ Options) (scorer, error) {
	if err := checkSignal(*dec.Changepoint.Signal, m.Features); err != nil {
		return nil, &ConfigError{Model: m.Name, Err: err}
	}
	return &changepointScorer{model: m.Name, cp: dec.Changepoint}, nil
}

// checkSignal refuses the motion profile on features that are not the
// built-in motion features: it reads their first 64 values as a grid of
// motion, which other features are not.
func checkSignal(signal string, f FeatureSpec) error {
	if signal == SignalMotionEnergy && f.Builtin != "motion" {
		return fmt.Errorf("changepoint signal %q needs the built-in motion features; these features are not (use %q)", signal, SignalFeatures)
	}
	return nil
}

func (s *changepointScorer) close() {}

func (s *changepointScorer) score(ctx context.Context, f *Features) ([]float32, func([]decode.FrameSpan) []decode.FrameSpan, error) {
	p, keep, err := s.changepoints(ctx, f)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", s.model, err)
	}
	return p, keep, nil
}

func (s *changepointScorer) changepoints(ctx context.Context, f *Features) ([]float32, func([]decode.FrameSpan) []decode.FrameSpan, error) {
	cp := s.cp
	T := f.Rows()
	x, D := f.Data, f.Dim
	penalty := *cp.Penalty
	var keep func([]decode.FrameSpan) []decode.FrameSpan
	if *cp.Signal == SignalMotionEnergy {
		energy, err := motionEnergy(f)
		if err != nil {
			return nil, nil, err
		}
		x, D = energy, 1
		if penalty == 0 {
			penalty = varianceLogPenalty(x, *cp.PenaltyFactor)
		}
		perFrame := frameValues(energy, f.Offset, f.Frames)
		keep = func(signs []decode.FrameSpan) []decode.FrameSpan { return dropRests(signs, perFrame) }
	} else if penalty == 0 {
		var err error
		if penalty, err = pelt.BICPenalty(x, T, D, *cp.PenaltyFactor); err != nil {
			return nil, nil, err
		}
	}
	cps, err := pelt.Find(ctx, x, T, D, pelt.Options{Penalty: penalty, MinSize: *cp.MinSize, Jump: *cp.Jump})
	if err != nil {
		return nil, nil, err
	}
	return pelt.Boundaries(cps, T, *cp.Dilate), keep, nil
}
