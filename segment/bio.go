package segment

import (
	"context"
	"errors"
	"fmt"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment/decode"
)

// NormalizeShoulders2023 (TemporalSpec.Normalize) prepares keypoints the
// way the 2023 pose segmenter of sign-language-processing/segmentation was
// trained: the 75 Holistic points with x and y in pixels and z as given,
// shifted by the mean shoulder midpoint and divided by the mean shoulder
// distance over the video, the 8 leg points and missing points 0
// (pose.NormalizeShoulders).
const NormalizeShoulders2023 = "shoulders-2023"

func fitsBIO(m *Manifest) error {
	if t := m.Temporal; t == nil || t.OutputKind != OutputBIO {
		return fmt.Errorf("decoder %q needs a temporal model with BIO outputs; this model has none", DecoderBIO)
	}
	return needsKeypoints(DecoderBIO)(m)
}

// bioScorer runs a pose segmenter that tags every frame O, B or I, for
// signs and, when it has that output, for sentences, and decodes the tags
// with decode.BIO.
type bioScorer struct {
	sess           *ortsession.Session
	sentences      bool
	sign, sentence decode.BIOThresholds
	normalize      string
}

func newBIOScorer(m *Model, dec Decoding, opts Options) (scorer, error) {
	t := m.Temporal
	outputs := []string{t.Output}
	if t.SentenceOutput != "" {
		outputs = append(outputs, t.SentenceOutput)
	}
	sess, err := ortsession.New(m.Name+" temporal", m.temporal, []string{t.Input}, outputs, opts.Runtime)
	if err != nil {
		return nil, err
	}
	b := dec.BIO
	return &bioScorer{
		sess: sess, sentences: t.SentenceOutput != "", normalize: t.Normalize,
		sign:     decode.BIOThresholds{Begin: *b.SignBegin, Outside: *b.SignOutside},
		sentence: decode.BIOThresholds{Begin: *b.SentenceBegin, Outside: *b.SentenceOutside},
	}, nil
}

func (s *bioScorer) close() { s.sess.Close() }

func (s *bioScorer) segment(ctx context.Context, f *Features) (*Result, error) {
	T := f.Rows()
	x, err := modelKeypoints(f, s.normalize)
	if errors.Is(err, pose.ErrNoShoulders) {
		// Nobody in view: nothing to annotate.
		res := &Result{Boundary: make([]float32, f.Frames)}
		if s.sentences {
			res.Sentences = []decode.FrameSpan{}
		}
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	outs, err := s.sess.Run(ortsession.Tensor{Data: x, Shape: []int64{1, int64(T), int64(len(x) / max(T, 1))}})
	if err != nil {
		return nil, err
	}
	tags := func(out ortsession.Tensor, th decode.BIOThresholds) ([]float32, []decode.FrameSpan, error) {
		if len(out.Data) != 3*T {
			return nil, nil, fmt.Errorf("BIO output has shape %v, want [1 %d 3]", out.Shape, T)
		}
		p := decode.BIOProbabilities(out.Data)
		spans, err := decode.BIO(p, th)
		return p, spans, err
	}
	p, signs, err := tags(outs[0], s.sign)
	if err != nil {
		return nil, err
	}
	res := &Result{Boundary: make([]float32, T)}
	for t := range T {
		res.Boundary[t] = 1 - p[3*t+decode.BIOInside]
	}
	res.Signs = signs
	for k := 0; k+1 < len(signs); k++ {
		if gap := (decode.FrameSpan{Start: signs[k].End, End: signs[k+1].Start}); gap.End > gap.Start {
			res.Boundaries = append(res.Boundaries, gap)
		}
	}
	if s.sentences {
		if _, res.Sentences, err = tags(outs[1], s.sentence); err != nil {
			return nil, err
		}
		if res.Sentences == nil {
			res.Sentences = []decode.FrameSpan{}
		}
	}
	return res, nil
}

// modelKeypoints turns keypoint rows into the model's input, [T][75·3].
func modelKeypoints(f *Features, normalize string) ([]float32, error) {
	if normalize != NormalizeShoulders2023 {
		return nil, fmt.Errorf("keypoint normalisation %q is not known (known: %s)", normalize, NormalizeShoulders2023)
	}
	T := f.Rows()
	k := &pose.Keypoints{Frames: T, People: 1, Points: kpPoints, Dims: 3,
		Data: make([]float32, T*kpPoints*3), Confidence: make([]float32, T*kpPoints)}
	for i := range T * kpPoints {
		copy(k.Data[3*i:3*i+3], f.Data[kpValues*i:kpValues*i+3])
		k.Confidence[i] = f.Data[kpValues*i+3]
	}
	n, err := pose.NormalizeShoulders(k, pose.HolisticShoulderNorm())
	if err != nil {
		return nil, err
	}
	return n.Data, nil
}
