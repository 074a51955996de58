package train

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"weak"

	"github.com/signseg/signseg/internal/testenv"
)

// trackedSource hands out a fresh copy of each sequence on every Load, as a
// file cache does, and keeps a weak pointer to each copy's features: after
// a full collection (runtime.GC returns once the cycle, sweeping included,
// is done) the copies still reachable are those that Fit still holds. That
// count is exact, not a heap size, so it does not depend on the machine's
// load.
type trackedSource struct {
	seqs    Sequences
	copies  []weak.Pointer[float32]
	loads   int
	maxLive int // the most copies alive when Load was called
	failAt  int // Load of this sequence fails when > 0 (1-based)
}

func (s *trackedSource) Len() int          { return s.seqs.Len() }
func (s *trackedSource) Name(i int) string { return s.seqs.Name(i) }

func (s *trackedSource) Load(i int) (Sequence, error) {
	s.maxLive = max(s.maxLive, s.live())
	if s.failAt == i+1 {
		return Sequence{}, errors.New("cache file damaged")
	}
	s.loads++
	f := slices.Clone(s.seqs[i].Features)
	s.copies = append(s.copies, weak.Make(&f[0]))
	return Sequence{Name: s.seqs[i].Name, Features: f, Labels: slices.Clone(s.seqs[i].Labels)}, nil
}

// live collects garbage and counts the loaded copies still reachable.
func (s *trackedSource) live() int {
	runtime.GC()
	n := 0
	for _, w := range s.copies {
		if w.Value() != nil {
			n++
		}
	}
	return n
}

// TestFitHoldsOneBatch trains on 3 and on 12 sequences loaded from a
// Source, with batches of 1 and 3: while a sequence is being loaded, Fit
// holds at most the batch's other sequences (so memory does not grow with
// the number of sequences), and none while it validates; every sequence is
// loaded once to be checked and once per epoch; and the weights equal those
// of the same run on sequences held in memory.
func TestFitHoldsOneBatch(t *testing.T) {
	cfg := Config{Stages: 2, Layers: 3, Channels: 8, Inputs: 4, Classes: 2, Dropout: 0.5}
	for _, tc := range []struct{ n, batch int }{{3, 1}, {12, 1}, {3, 3}, {12, 3}} {
		t.Run(fmt.Sprintf("%d sequences batch %d", tc.n, tc.batch), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(51, uint64(tc.n)))
			var seqs Sequences
			for i := range tc.n {
				seqs = append(seqs, synthetic(rng, fmt.Sprint("seq", i), cfg.Inputs, 50+7*i))
			}
			const epochs = 3
			src := &trackedSource{seqs: seqs}
			liveInValidate := 0
			opts := Options{Epochs: epochs, Batch: tc.batch, LearningRate: 5e-3, Seed: 2, Loss: DefaultLoss([]float32{0.3, 0.7}),
				Validate: func(context.Context, *Model) (float64, string, error) {
					liveInValidate = max(liveInValidate, src.live())
					return 0, "", nil
				}}
			m, err := NewModel(cfg, 3)
			if err != nil {
				t.Fatal(err)
			}
			lazy, err := Fit(context.Background(), m.Clone(), src, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d loads, at most %d sequences alive at a load, %d during validation", src.loads, src.maxLive, liveInValidate)
			if src.maxLive > tc.batch-1 || liveInValidate != 0 {
				t.Errorf("Fit held %d sequences at a load (batch %d) and %d while validating", src.maxLive, tc.batch, liveInValidate)
			}
			if want := tc.n * (epochs + 1); src.loads != want {
				t.Errorf("%d loads, want %d (a check and %d epochs)", src.loads, want, epochs)
			}
			held, err := Fit(context.Background(), m.Clone(), seqs, opts)
			if err != nil {
				t.Fatal(err)
			}
			if d := testenv.MaxAbsDiff(lazy.Best.params, held.Best.params); d != 0 {
				t.Errorf("weights from a Source differ from weights from memory by %g", d)
			}
		})
	}
}

// TestFitSourceErrors checks that a sequence that fails to load or does not
// fit the model stops Fit before training, naming the sequence.
func TestFitSourceErrors(t *testing.T) {
	m, train, opts := fitSetup(t, t.TempDir())
	bad := slices.Clone(train)
	bad[2].Labels = append(slices.Clone(bad[2].Labels), 0)
	for _, tc := range []struct {
		name string
		src  *trackedSource
		want string
	}{
		{"load fails", &trackedSource{seqs: train, failAt: 2}, "load train1: cache file damaged"},
		{"frames differ", &trackedSource{seqs: bad}, `sequence "train2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			epochs := 0
			o := opts
			o.OnEpoch = func(EpochReport) { epochs++ }
			_, err := Fit(context.Background(), m.Clone(), tc.src, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || epochs != 0 {
				t.Errorf("error %v (want %q) after %d epochs (want none)", err, tc.want, epochs)
			}
		})
	}
}
