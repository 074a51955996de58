package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/decode"
)

// defaultModelNote is shown in --help: the default model is a baseline.
const defaultModelNote = "The default model, \"motion\", is a training-free baseline (motion features + changepoint\n" +
	"detection), not the paper's trained network; see the README for how to get a trained model."

// modelFlags are the flags of every command that runs a model.
func modelFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "model", Value: segment.DefaultModel, Usage: "model name (see signseg doctor) or model folder"},
		mediaPipeFlag(),
		&cli.StringFlag{Name: "decoder", Usage: "threshold (needs a temporal model) or changepoint (default: the model's)"},
		&cli.Float64Flag{Name: "threshold", Usage: "boundary probability above which a frame is a boundary (default: the model's, else 0.5)"},
		&cli.StringFlag{Name: "gaps", Usage: "split: signs share the boundary between them (touching signs); keep: leave gaps (default: the model's)"},
		&cli.IntFlag{Name: "min-sign-frames", Usage: "drop signs shorter than this many frames into the boundary; 0 turns the model's minimum off (default: the model's)"},
		&cli.BoolFlag{Name: "keep-edge-boundaries", Usage: "keep boundaries touching the first or last two frames (usually the video starting or stopping mid-sign); --keep-edge-boundaries=false drops them (default: the model's, else dropped)"},
		&cli.IntFlag{Name: "threads", Usage: "CPU threads for the model (default: all cores)"},
		&cli.IntFlag{Name: "batch-size", Usage: "clips per model call (default: the model's)"},
		&cli.IntFlag{Name: "feature-every", Usage: "fast, inexact: run the clip model on every k-th clip only and interpolate (2 to the clip length; see the README's Speed section for the measured deviation)"},
		&cli.StringFlag{Name: "device", Value: ortsession.ProviderCPU, Usage: "cpu, or cuda with a GPU build of ONNX Runtime (--ort-lib)"},
	}
}

// engine runs one model; it is created once per process and shared by all
// files (and jobs) of a command.
type engine struct {
	model *segment.Model
	seg   *segment.Segmenter
	tools media.Tools
}

// engineConfig is everything needed to build an engine; commands fill it
// from flags (engineConfigFrom), the ELAN recognizer from its parameters.
type engineConfig struct {
	ORTLib    string // --ort-lib; "" searches the usual places
	ModelsDir string // "" means the per-user default
	Model     string // name or folder; "" means the default model
	Segment   segment.Options
}

// engineConfigFrom reads the global and model flags. threadsPerJob
// replaces the default thread count when positive and --threads is unset.
func engineConfigFrom(c *cli.Context, threadsPerJob int) (engineConfig, error) {
	threads := c.Int("threads")
	if threadsPerJob > 0 && !c.IsSet("threads") {
		threads = threadsPerJob
	}
	// Only the flags given override the model's decoding; their values are
	// checked by segment.NewSegmenter, whose ConfigError is a usage error.
	var dec segment.Decoding
	if c.IsSet("decoder") {
		dec.Decoder = new(c.String("decoder"))
	}
	if c.IsSet("threshold") {
		dec.Threshold = new(c.Float64("threshold"))
	}
	if c.IsSet("gaps") {
		dec.Gaps = new(c.String("gaps"))
	}
	if c.IsSet("min-sign-frames") {
		dec.MinSignFrames = new(c.Int("min-sign-frames"))
	}
	if c.IsSet("keep-edge-boundaries") {
		dec.KeepEdgeBoundaries = new(c.Bool("keep-edge-boundaries"))
	}
	return engineConfig{
		ORTLib:    c.String("ort-lib"),
		ModelsDir: modelsDir(c),
		Model:     c.String("model"),
		Segment: segment.Options{
			Runtime:      ortsession.Options{Threads: threads, Provider: c.String("device")},
			BatchSize:    c.Int("batch-size"),
			FeatureEvery: c.Int("feature-every"),
			Decoding:     dec,
			Holistic:     holisticModels(c),
		},
	}, nil
}

// holisticModels loads the MediaPipe Holistic models for keypoint models:
// converted ones from the models folder, else from the npm package (see
// the pose command), converting them on first use.
func holisticModels(c *cli.Context) segment.HolisticModels {
	return holisticModelsIn(modelsDir(c), c)
}

// holisticModelsIn is holisticModels for commands with their own
// --models-dir (train), whose converted models go under that folder.
func holisticModelsIn(models string, c *cli.Context) segment.HolisticModels {
	cache, pkg := filepath.Join(models, pose.ModelsSubdir), mediaPipeDir(c)
	return func(complexity int) (*pose.Models, error) {
		m, err := pose.LoadModels(cache, pkg, complexity)
		if errors.Is(err, pose.ErrNoModels) {
			return nil, fmt.Errorf("%w (point --mediapipe or $%s at its package/ folder)", err, envMediaPipe)
		}
		return m, err
	}
}

// newEngine reads the flags and builds the engine (see buildEngine).
func newEngine(c *cli.Context, threadsPerJob int) (*engine, error) {
	cfg, err := engineConfigFrom(c, threadsPerJob)
	if err != nil {
		return nil, err
	}
	return buildEngine(cfg)
}

// buildEngine initialises ONNX Runtime, checks ffmpeg, loads the model and
// creates its sessions.
func buildEngine(cfg engineConfig) (*engine, error) {
	lib, err := ortenv.Find(cfg.ORTLib)
	if err != nil {
		return nil, err
	}
	if err := ortenv.Init(lib); err != nil {
		return nil, err
	}
	tools, err := media.FindTools()
	if err != nil {
		return nil, err
	}
	dir := cfg.ModelsDir
	if dir == "" {
		dir = segment.DefaultModelsDir()
	}
	m, err := segment.LoadModel(cfg.Model, dir)
	if err != nil {
		return nil, err
	}
	seg, err := segment.NewSegmenter(m, cfg.Segment)
	if err != nil {
		return nil, err
	}
	return &engine{model: m, seg: seg, tools: tools}, nil
}

func (e *engine) close() { e.seg.Close() }

// videoResult is the segmentation of one video with its media times.
type videoResult struct {
	*segment.Result
	Video      string
	Signs      []decode.TimeSpan
	Boundaries []decode.TimeSpan
	Sentences  []decode.TimeSpan // nil when the model gives none
	MediaSec   float64
	ProcSec    float64
}

// run segments one video; progress gets frames done and expected.
func (e *engine) run(ctx context.Context, video string, progress segment.Progress) (*videoResult, error) {
	start := time.Now()
	stream, err := e.tools.Open(ctx, video, e.seg.Preprocess())
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	res, err := e.seg.Segment(ctx, stream, stream.ExpectedFrames(), progress)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", video, err)
	}
	signs, bounds, err := res.Times()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", video, err)
	}
	sentences, err := res.SentenceTimes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", video, err)
	}
	return &videoResult{
		Result: res, Video: video, Signs: signs, Boundaries: bounds, Sentences: sentences,
		MediaSec: float64(res.Frames) / res.FPS, ProcSec: time.Since(start).Seconds(),
	}, nil
}

// defaultThreads is the intra-op thread count per job when files run in
// parallel: the cores split evenly, at least one each.
func defaultThreads(jobs int) int { return max(1, runtime.NumCPU()/max(jobs, 1)) }
