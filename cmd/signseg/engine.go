package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/decode"
)

// defaultModelNote is shown in --help: what the default model is, and that
// it is not the paper's network.
const defaultModelNote = "The default model, \"hands\", is a training-free rule on MediaPipe Holistic keypoints (holds\n" +
	"and dips of the hands' speed), not the paper's trained network; --model motion is the older\n" +
	"motion baseline. See the README for how good they are and how to get a trained model."

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
		noFeatureCacheFlag(),
	}
}

// envNoFeatureCache set to true is --no-feature-cache; the tests set it,
// so that they never read keypoints stored by an earlier run.
const envNoFeatureCache = "SIGNSEG_NO_FEATURE_CACHE"

// noFeatureCacheFlag turns the keypoint cache of engine.features off.
func noFeatureCacheFlag() cli.Flag {
	return &cli.BoolFlag{Name: "no-feature-cache", EnvVars: []string{envNoFeatureCache},
		Usage: "compute keypoints again even when they are in the feature cache (<models-dir>/" + featureCacheDir + "), and store none"}
}

// engine runs one model; it is created once per process and shared by all
// files (and jobs) of a command.
type engine struct {
	model *segment.Model
	seg   *segment.Segmenter
	tools media.Tools
	// featID names the model's keypoint extraction in the feature cache
	// folder cacheDir; "" when the model's features are not keypoints.
	// cacheDir is "" when the cache is off.
	featID, cacheDir string
	warn             io.Writer // where a failed cache write is reported
	warnOnce         sync.Once
}

// engineConfig is everything needed to build an engine; commands fill it
// from flags (engineConfigFrom), the ELAN recognizer from its parameters.
type engineConfig struct {
	ORTLib    string // --ort-lib; "" searches the usual places
	ModelsDir string // "" means the per-user default
	Model     string // name or folder; "" means the default model
	Segment   segment.Options
	// NoFeatureCache computes keypoints every time (--no-feature-cache).
	NoFeatureCache bool
	// Warn gets one line when keypoints cannot be stored; nil discards it.
	Warn io.Writer
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
		// Commands without the flag (eval's plot) read false: cached.
		NoFeatureCache: c.Bool("no-feature-cache"),
		Warn:           c.App.ErrWriter,
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
	e := &engine{model: m, seg: seg, tools: tools, warn: cfg.Warn}
	if e.warn == nil {
		e.warn = io.Discard
	}
	// Only keypoints are cached: they take 10–30 frames a second to find,
	// and a video's keypoints are small (1.2 kB a frame). Clip features
	// (the motion baseline's, I3D's) are either computed faster than
	// hashing and reading them back would save, or 4 kB a frame for I3D,
	// which would fill the disk for a one-off segmentation; train caches
	// those for its epochs only.
	if name, ok := m.Features.KeypointExtraction(); ok {
		e.featID = name
		if !cfg.NoFeatureCache && dir != "" {
			e.cacheDir = filepath.Join(dir, featureCacheDir)
		}
	}
	return e, nil
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
	// FeatureCache says where a keypoint model's keypoints came from:
	// "cached" (the feature cache) or "computed"; "" for other models.
	FeatureCache string
}

// run segments one video; progress gets frames done and expected.
func (e *engine) run(ctx context.Context, video string, progress segment.Progress) (*videoResult, error) {
	start := time.Now()
	feats, from, err := e.features(ctx, video, progress)
	if err != nil {
		return nil, err
	}
	res, err := e.seg.SegmentFeatures(ctx, feats)
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
		MediaSec: float64(res.Frames) / res.FPS, ProcSec: time.Since(start).Seconds(), FeatureCache: from,
	}, nil
}

// features returns the video's features and where they came from (see
// videoResult.FeatureCache). A cached model's keypoints are read from the
// cache when there, and stored there when computed; the video is hashed
// once per call for the key. A damaged or foreign cache file is computed
// again and replaced; a cache that cannot be written costs a warning, never
// the run.
func (e *engine) features(ctx context.Context, video string, progress segment.Progress) (*segment.Features, string, error) {
	if e.featID == "" {
		fe, err := e.extract(ctx, video, progress)
		return fe, "", err
	}
	if e.cacheDir == "" {
		fe, err := e.extract(ctx, video, progress)
		return fe, "computed", err
	}
	sum, _, err := fileSHA256(video)
	if err != nil {
		// Opening the video will say what is wrong with it.
		fe, err := e.extract(ctx, video, progress)
		return fe, "computed", err
	}
	path := filepath.Join(e.cacheDir, e.featID, sum+".features")
	if fe, err := readFeatureCache(path, sum, e.featID, e.model.Features.Dim); err == nil {
		if progress != nil {
			progress(fe.Frames, fe.Frames)
		}
		return fe, "cached", nil
	}
	fe, err := e.extract(ctx, video, progress)
	if err != nil {
		return nil, "", err
	}
	err = os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		err = writeFeatureCache(path, sum, e.featID, fe)
	}
	if err != nil {
		// Once per run: a read-only models folder would say it for every file.
		e.warnOnce.Do(func() {
			fmt.Fprintf(e.warn, "%s: warning: keypoints not stored in the feature cache (they are computed again next time; --no-feature-cache stops trying): %s\n", programName, oneLine(err))
		})
	}
	return fe, "computed", nil
}

// extract decodes the video and computes its features.
func (e *engine) extract(ctx context.Context, video string, progress segment.Progress) (*segment.Features, error) {
	stream, err := e.tools.Open(ctx, video, e.seg.Preprocess())
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	fe, err := e.seg.Features(ctx, stream, stream.ExpectedFrames(), progress)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", video, err)
	}
	return fe, nil
}

// defaultThreads is the intra-op thread count per job when files run in
// parallel: the cores split evenly, at least one each.
func defaultThreads(jobs int) int { return max(1, runtime.NumCPU()/max(jobs, 1)) }
