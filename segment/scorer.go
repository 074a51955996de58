package segment

import (
	"context"
	"errors"
	"fmt"

	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/pelt"
)

// Decoder names (Decoding.Decoder).
const (
	DecoderThreshold   = "threshold"   // threshold the temporal model's boundary probability
	DecoderChangepoint = "changepoint" // PELT changepoints on the features
	DecoderHands       = "hands"       // the keypoint rule of handsScores
	DecoderBIO         = "bio"         // BIO tags of a pose segmenter (decode.BIO)
)

// scorer finds the signs of a video in its features: it fills a Result's
// per-frame Boundary score and its spans. A Segmenter chooses its scorer
// once, by the decoder, from scorers.
type scorer interface {
	segment(ctx context.Context, f *Features) (*Result, error)
	close()
}

// decoderKind is one way of decoding, named by Decoding.Decoder.
type decoderKind struct {
	// fits says why a model cannot be decoded this way (nil if it can).
	fits func(m *Manifest) error
	// new creates the scorer; dec has its defaults set and fits the model.
	new func(m *Model, dec Decoding, opts Options) (scorer, error)
}

// decoders are the decoders by name: adding one is adding an entry here.
var decoders = map[string]decoderKind{
	DecoderThreshold:   {fits: fitsThreshold, new: newThresholdScorer},
	DecoderChangepoint: {fits: func(*Manifest) error { return nil }, new: newChangepointScorer},
	DecoderHands:       {fits: needsKeypoints(DecoderHands), new: newHandsScorer},
	DecoderBIO:         {fits: fitsBIO, new: newBIOScorer},
}

func fitsThreshold(m *Manifest) error {
	if t := m.Temporal; t == nil || t.OutputKind == OutputBIO {
		return errors.New(`decoder "threshold" needs a temporal model of boundary probabilities; this model has none, use "changepoint"`)
	}
	return nil
}

func needsKeypoints(decoder string) func(m *Manifest) error {
	return func(m *Manifest) error {
		if m.Features.Kind != FeaturesKeypoints {
			return fmt.Errorf("decoder %q needs keypoint features; this model's features are %q", decoder, m.Features.Kind)
		}
		return nil
	}
}

// thresholded decodes one boundary score per row of f with opts, then lets
// keep (if not nil) remove or trim signs that are not signs.
func thresholded(f *Features, perRow []float32, keep func([]decode.FrameSpan) []decode.FrameSpan, opts decode.Options) (*Result, error) {
	perFrame := frameValues(perRow, f.Offset, f.Frames)
	dec, err := decode.Probabilities(perFrame, opts)
	if err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if keep != nil {
		dec.Signs = keep(dec.Signs)
	}
	return &Result{Boundary: perFrame, Decoded: dec}, nil
}

// changepointScorer finds boundaries by PELT on the features, or on their
// motion profile (SignalMotionEnergy), and drops still stretches there.
type changepointScorer struct {
	cp   Changepoint // with defaults set
	opts decode.Options
}

func newChangepointScorer(_ *Model, dec Decoding, _ Options) (scorer, error) {
	return &changepointScorer{cp: dec.Changepoint, opts: dec.decodeOptions()}, nil
}

func (s *changepointScorer) close() {}

func (s *changepointScorer) segment(ctx context.Context, f *Features) (*Result, error) {
	p, keep, err := s.changepoints(ctx, f)
	if err != nil {
		return nil, err
	}
	return thresholded(f, p, keep, s.opts)
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
