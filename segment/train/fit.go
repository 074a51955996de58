package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Options controls Fit and Resume.
type Options struct {
	Epochs       int     // maximum number of epochs in all (> 0), counting resumed ones
	Patience     int     // stop after this many epochs without a better validation score; 0: never
	LearningRate float64 // Adam's, the paper: 5e-4
	Seed         uint64  // dropout and the order of the sequences in each epoch
	Loss         Loss
	Window       int // see NewTrainer; 0: whole sequences
	Batch        int // sequences per Adam step (the paper: 8); 0 means 1
	// StatePath, when set, receives the training state after every epoch,
	// written atomically; Resume continues from it.
	StatePath string
	// Validate scores the model after each epoch, higher is better (for
	// example mF1B on the validation files, from Predict); summary goes into
	// the report. It must not modify m.
	Validate func(ctx context.Context, m *Model) (score float64, summary string, err error)
	// OnEpoch, when set, receives each epoch's report (to print it).
	OnEpoch func(EpochReport)
}

// EpochReport describes one finished epoch.
type EpochReport struct {
	Epoch     int     // 1-based
	Loss      float64 // mean training loss of the epoch's steps
	Score     float64 // validation score
	Summary   string  // from Validate
	Improved  bool    // Score is the best so far (the best weights were updated)
	BestEpoch int
	BestScore float64
	Elapsed   time.Duration
}

// Result is the outcome of Fit or Resume.
type Result struct {
	Best      *Model  // weights of the best epoch; the starting model when none finished
	BestEpoch int     // 0 when no epoch finished
	BestScore float64 // -Inf when no epoch finished
	Epochs    int     // epochs finished, counting resumed ones
	Stop      string  // "epochs", "early stopping" or "interrupted"
}

// run is the state of a training run between epochs; it is what the state
// file holds.
type run struct {
	tr        *Trainer
	epoch     int
	best      *Model
	bestEpoch int
	bestScore float64
	stale     int
	names     []string
	batch     int
}

// Fit trains m (in place) on the sequences of train with Adam, one step per
// batch of sequences (or windows) in an order shuffled per epoch from the
// seed, validates after each epoch and keeps the best weights. It loads each
// sequence when its step needs it and drops it after the step, so memory
// holds one batch of sequences at a time; every sequence is loaded and
// checked once before training starts. It stops after opts.Epochs, or when
// the score has not improved for opts.Patience epochs. When ctx is cancelled
// (Ctrl-C) it stops between steps and returns the result so far, whose Best
// holds the best weights, with ctx's error; the state file then holds the
// last finished epoch, from which Resume continues.
func Fit(ctx context.Context, m *Model, train Source, opts Options) (*Result, error) {
	if err := checkFit(ctx, m.cfg, train, opts); err != nil {
		return nil, err
	}
	tr, err := NewTrainer(m, opts.Loss, opts.LearningRate, opts.Seed, opts.Window)
	if err != nil {
		return nil, err
	}
	r := &run{tr: tr, best: m.Clone(), bestScore: math.Inf(-1), names: names(train), batch: max(opts.Batch, 1)}
	return r.loop(ctx, train, opts)
}

// Resume continues the run saved in opts.StatePath on the same training
// sequences (by name and order). The model, optimiser state, learning rate,
// seed, loss, window and batch come from the file; opts gives the rest
// (Epochs, Patience, Validate, OnEpoch).
func Resume(ctx context.Context, train Source, opts Options) (*Result, error) {
	if opts.StatePath == "" {
		return nil, errors.New("resume: no state file given")
	}
	r, err := loadState(opts.StatePath)
	if err != nil {
		return nil, err
	}
	if got := names(train); !slices.Equal(got, r.names) {
		return nil, fmt.Errorf("resume %s: the training files differ from the saved run's (%d files then, %d now); resume with the same files or start a new run", opts.StatePath, len(r.names), len(got))
	}
	opts.LearningRate, opts.Seed, opts.Loss, opts.Window, opts.Batch = r.tr.opt.lr, r.tr.seed, r.tr.loss, r.tr.window, r.batch
	if err := checkFit(ctx, r.tr.model.cfg, train, opts); err != nil {
		return nil, err
	}
	return r.loop(ctx, train, opts)
}

func names(src Source) []string {
	n := make([]string, src.Len())
	for i := range n {
		n[i] = src.Name(i)
	}
	return n
}

// checkFit checks the options and every sequence, loading them one at a
// time, so that a bad file stops the run before training rather than in
// its first epoch.
func checkFit(ctx context.Context, cfg Config, train Source, opts Options) error {
	if train == nil || train.Len() == 0 {
		return errors.New("train: no training sequences")
	}
	if opts.Epochs <= 0 || opts.Patience < 0 || opts.Batch < 0 {
		return fmt.Errorf("train: epochs %d must be > 0, patience %d and batch %d ≥ 0", opts.Epochs, opts.Patience, opts.Batch)
	}
	if opts.Validate == nil {
		return errors.New("train: no validation function")
	}
	for i := range train.Len() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		seq, err := load(train, i)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if err := seq.check(cfg); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	return nil
}

// load returns sequence i of src, its error naming the sequence.
func load(src Source, i int) (Sequence, error) {
	seq, err := src.Load(i)
	if err != nil {
		return Sequence{}, fmt.Errorf("load %s: %w", src.Name(i), err)
	}
	return seq, nil
}

func (r *run) result(stop string) *Result {
	return &Result{Best: r.best.Clone(), BestEpoch: r.bestEpoch, BestScore: r.bestScore, Epochs: r.epoch, Stop: stop}
}

func (r *run) loop(ctx context.Context, train Source, opts Options) (*Result, error) {
	for r.epoch < opts.Epochs {
		if opts.Patience > 0 && r.stale >= opts.Patience {
			return r.result("early stopping"), nil
		}
		start := time.Now()
		order := rand.New(rand.NewPCG(r.tr.seed, 0x6f72646572<<16|uint64(r.epoch))).Perm(train.Len()) // "order"
		var sum float64
		steps := 0
		for i := 0; i < len(order); i += r.batch {
			if err := ctx.Err(); err != nil {
				return r.result("interrupted"), fmt.Errorf("training interrupted in epoch %d: %w", r.epoch+1, err)
			}
			// A new slice per step: the last step's sequences are then
			// unreachable while this step's load.
			batch := make([]Sequence, 0, r.batch)
			for _, j := range order[i:min(i+r.batch, len(order))] {
				seq, err := load(train, j)
				if err != nil {
					return r.result("error"), fmt.Errorf("epoch %d: %w", r.epoch+1, err)
				}
				batch = append(batch, seq)
			}
			l, err := r.tr.Step(batch...)
			if err != nil {
				return r.result("error"), fmt.Errorf("epoch %d: %w", r.epoch+1, err)
			}
			sum += l
			steps++
		}
		score, summary, err := opts.Validate(ctx, r.tr.model)
		if err != nil {
			if ctx.Err() != nil {
				return r.result("interrupted"), fmt.Errorf("training interrupted in epoch %d: %w", r.epoch+1, err)
			}
			return r.result("error"), fmt.Errorf("epoch %d: validate: %w", r.epoch+1, err)
		}
		if math.IsNaN(score) || math.IsInf(score, 0) {
			return r.result("error"), fmt.Errorf("epoch %d: validation score %v is not a finite number", r.epoch+1, score)
		}
		r.epoch++
		rep := EpochReport{Epoch: r.epoch, Loss: sum / float64(steps), Score: score, Summary: summary}
		if score > r.bestScore {
			r.best, r.bestEpoch, r.bestScore, r.stale = r.tr.model.Clone(), r.epoch, score, 0
			rep.Improved = true
		} else {
			r.stale++
		}
		rep.BestEpoch, rep.BestScore, rep.Elapsed = r.bestEpoch, r.bestScore, time.Since(start)
		if opts.StatePath != "" {
			if err := r.save(opts.StatePath); err != nil {
				return r.result("error"), err
			}
		}
		if opts.OnEpoch != nil {
			opts.OnEpoch(rep)
		}
	}
	if opts.Patience > 0 && r.stale >= opts.Patience {
		return r.result("early stopping"), nil
	}
	return r.result("epochs"), nil
}
