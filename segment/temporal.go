package segment

import (
	"context"
	"fmt"
	"math"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/segment/decode"
)

// defaultMaxWindow is the longest feature sequence given to the temporal
// model in one call (about 22 minutes at 25 fps); longer sequences run in
// overlapping windows. Activations grow linearly with the window.
const defaultMaxWindow = 32768

// thresholdScorer runs a temporal model over a whole feature sequence;
// its boundary probabilities are what the threshold decoder thresholds.
type thresholdScorer struct {
	sess      *ortsession.Session
	spec      TemporalSpec
	dim       int
	maxWindow int
	opts      decode.Options
}

func newThresholdScorer(m *Model, dec Decoding, opts Options) (scorer, error) {
	t := m.Temporal // present: Decoding.check requires it
	sess, err := ortsession.New(m.Name+" temporal", m.temporal, []string{t.Input}, []string{t.Output}, opts.Runtime)
	if err != nil {
		return nil, err
	}
	return &thresholdScorer{sess: sess, spec: *t, dim: m.Features.Dim, opts: dec.decodeOptions()}, nil
}

func (r *thresholdScorer) segment(ctx context.Context, f *Features) (*Result, error) {
	p, err := r.boundaryProbabilities(ctx, f)
	if err != nil {
		return nil, err
	}
	return thresholded(f, p, nil, r.opts)
}

func (r *thresholdScorer) close() { r.sess.Close() }

// boundaryProbabilities returns P(boundary) per feature frame. Sequences up
// to maxWindow run in one pass. Longer ones run in windows whose cores tile
// the sequence and whose context on each side covers half the receptive
// field, so every output sees exactly the inputs it would see in one pass:
// the result equals the single pass up to float rounding.
func (r *thresholdScorer) boundaryProbabilities(ctx context.Context, seq *Features) ([]float32, error) {
	T := seq.Rows()
	reach := (r.spec.ReceptiveField - 1) / 2
	maxWin := r.maxWindow
	if maxWin <= 0 {
		maxWin = defaultMaxWindow
	}
	if T <= maxWin {
		return r.window(seq, 0, T)
	}
	core := maxWin - 2*reach
	if core < 1 {
		return nil, fmt.Errorf("model %s: window of %d frames cannot hold the receptive field of %d frames", r.sess.Name(), maxWin, r.spec.ReceptiveField)
	}
	out := make([]float32, 0, T)
	for start := 0; start < T; start += core {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+core, T)
		lo, hi := max(start-reach, 0), min(end+reach, T)
		p, err := r.window(seq, lo, hi)
		if err != nil {
			return nil, err
		}
		out = append(out, p[start-lo:end-lo]...)
	}
	return out, nil
}

// window runs the model on feature frames [lo, hi).
func (r *thresholdScorer) window(seq *Features, lo, hi int) ([]float32, error) {
	T, D := hi-lo, r.dim
	// Features are stored T×D; the model wants [1, D, T].
	in := transposeBlocked(seq.Data[lo*D:hi*D], T, D)
	res, err := r.sess.Run1(in, 1, int64(D), int64(T))
	if err != nil {
		return nil, err
	}
	out, shape := res.Data, res.Shape
	switch r.spec.OutputKind {
	case OutputProbability:
		if len(shape) != 2 || shape[0] != 1 || shape[1] != int64(T) {
			return nil, fmt.Errorf("model %s: output shape %v, want [1 %d]", r.sess.Name(), shape, T)
		}
		return out, nil
	default: // OutputLogits
		if len(shape) != 3 || shape[0] != 1 || shape[2] != int64(T) || int64(r.spec.BoundaryClass) >= shape[1] {
			return nil, fmt.Errorf("model %s: output shape %v, want [1 C %d] with C > %d", r.sess.Name(), shape, T, r.spec.BoundaryClass)
		}
		return softmaxClass(out, int(shape[1]), T, r.spec.BoundaryClass), nil
	}
}

// softmaxClass returns softmax over the class axis of logits [C, T] at
// class k, computed stably.
func softmaxClass(logits []float32, C, T, k int) []float32 {
	p := make([]float32, T)
	for t := 0; t < T; t++ {
		m := math.Inf(-1)
		for c := 0; c < C; c++ {
			m = math.Max(m, float64(logits[c*T+t]))
		}
		var sum float64
		for c := 0; c < C; c++ {
			sum += math.Exp(float64(logits[c*T+t]) - m)
		}
		p[t] = float32(math.Exp(float64(logits[k*T+t])-m) / sum)
	}
	return p
}

// transposeBlocked returns the cols×rows transpose of the rows×cols matrix
// x, in tiles so that both sides stay in cache (a plain loop writes with a
// stride of rows and is several times slower on long sequences).
func transposeBlocked(x []float32, rows, cols int) []float32 {
	const tile = 32
	out := make([]float32, len(x))
	for r0 := 0; r0 < rows; r0 += tile {
		r1 := min(r0+tile, rows)
		for c0 := 0; c0 < cols; c0 += tile {
			c1 := min(c0+tile, cols)
			for r := r0; r < r1; r++ {
				row := x[r*cols : (r+1)*cols]
				for c := c0; c < c1; c++ {
					out[c*rows+r] = row[c]
				}
			}
		}
	}
	return out
}
