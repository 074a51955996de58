package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/eval"
	"github.com/signseg/signseg/segment/onnxgraph"
	"github.com/signseg/signseg/segment/train"
)

// Files and folders of training.
const (
	trainRecordFile   = "train.json"     // in the trained model's folder
	trainTemporalFile = "mstcn.onnx"     // the trained temporal model
	featureCacheDir   = ".feature-cache" // under the models folder
	trainStateDir     = ".train-state"   // under the models folder: NAME.state for --resume
)

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:      "train",
		Usage:     "train the paper's MS-TCN on annotated EAF files, on the features of any signseg model",
		ArgsUsage: "FILE.eaf|DIR...",
		Description: "The reference tiers (--ref) of the EAF files (or of the .eaf files in each DIR) become frame\n" +
			"labels by the paper's rule, as in `signseg eval`; the features of the linked videos come from\n" +
			"--features (motion, hands, an imported I3D model...) and are cached under\n" +
			"<models-dir>/" + featureCacheDir + ", keyed by the video's SHA-256 and the feature model (keypoints:\n" +
			"by their MediaPipe settings, shared with segment, video and batch), so a second run decodes\n" +
			"no video. Training and validation read each file's features from the cache when they need\n" +
			"them, so memory holds a few videos' features, whatever the number of files. Files\n" +
			"are split into training and validation by file (--val or --val-files). Each epoch prints the\n" +
			"training loss and validation mF1B/mF1S (reference extent, as `eval`), as a bar on a terminal;\n" +
			"training stops early when mF1B has not improved for --patience epochs.\n" +
			"The best epoch is written as the model --out (a normal model folder with train.json) and\n" +
			"compared with the feature model itself on the validation files. Ctrl-C saves the best\n" +
			"model so far; --resume continues a stopped run (same files and flags).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "ref", Usage: "reference tier(s), comma-separated (e.g. RH-IDgloss,LH-IDgloss); required"},
			&cli.StringFlag{Name: "features", Usage: "model whose features are used (motion, hands, an imported model); required"},
			&cli.StringFlag{Name: "out", Usage: "name of the new model (letters, digits, . _ -); required"},
			&cli.StringFlag{Name: "models-dir", Usage: "folder of installed models (default: the global --models-dir, $SIGNSEG_MODELS, else the per-user models folder)"},
			&cli.StringFlag{Name: "val", Value: "20%", Usage: "share of the files held out for validation, by file (e.g. 20% or 0.2)"},
			&cli.StringFlag{Name: "val-files", Usage: "instead of --val: the validation files, comma-separated (EAF paths or base names)"},
			&cli.IntFlag{Name: "stages", Value: 4, Usage: "MS-TCN stages"},
			&cli.IntFlag{Name: "layers", Value: 10, Usage: "dilated layers per stage"},
			&cli.IntFlag{Name: "channels", Value: 64, Usage: "feature maps per layer"},
			&cli.IntFlag{Name: "epochs", Value: 100, Usage: "maximum epochs"},
			&cli.IntFlag{Name: "patience", Value: 20, Usage: "stop after this many epochs without a better validation mF1B (0: never)"},
			&cli.IntFlag{Name: "batch", Value: 1, Usage: "videos per Adam step; the paper's 8 suits hundreds of videos (with 8 videos it makes one step per epoch and learnt nothing in 24 epochs on generated signers)"},
			&cli.Float64Flag{Name: "lr", Value: 5e-4, Usage: "Adam's learning rate"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of the split, initialisation, dropout and order"},
			&cli.BoolFlag{Name: "resume", Usage: "continue the stopped run of --out"},
			&cli.BoolFlag{Name: "force", Usage: "replace an installed model of the same name"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress"},
			&cli.IntFlag{Name: "threads", Usage: "CPU threads for the feature model (default: all cores)"},
			mediaPipeFlag(),
			mediaDirFlag(),
		},
		Action: trainAction,
	}
}

// trainSettings are the command's checked flags.
type trainSettings struct {
	refTiers []string
	features string
	out      string
	dir      string
	val      float64
	valFiles []string
	cfg      train.Config
	opts     train.Options
	resume   bool
	force    bool
}

// trainFile is one EAF file with its reference and video, and where its
// features are cached. The features themselves are read from the cache
// when needed and dropped after, so that memory does not grow with the
// number of files.
type trainFile struct {
	EAF      string
	Video    string
	SHA256   string
	ref      [][]decode.TimeSpan // EAF time
	originMS int64               // TIME_ORIGIN of the video's descriptor
	cache    string              // the feature cache file
	featID   string
	meta     segment.Features // the features without their Data: frames, rate, offset, start
	rows     int              // feature rows in the cache
	counts   []int64          // frames per class in the training labels
	cached   bool
}

// trainRecord is train.json: how the model was trained.
type trainRecord struct {
	Tool          string             `json:"tool"`
	Created       string             `json:"created"`
	FeatureModel  string             `json:"feature_model"`
	FeatureID     string             `json:"feature_id"`
	RefTiers      []string           `json:"ref_tiers"`
	Data          trainData          `json:"data"`
	Settings      trainSettingsJSON  `json:"settings"`
	Seed          uint64             `json:"seed"`
	Epochs        []trainEpochJSON   `json:"epochs"`
	BestEpoch     int                `json:"best_epoch"`
	Stop          string             `json:"stop"`
	Scores        map[string]trainMS `json:"scores"` // "trained" and "feature_model" on the validation files
	ScoreProtocol string             `json:"score_protocol"`
}

type trainData struct {
	Train []trainFileJSON `json:"train"`
	Val   []trainFileJSON `json:"validation"`
}

type trainFileJSON struct {
	EAF    string `json:"eaf"`
	Video  string `json:"video"`
	SHA256 string `json:"video_sha256"`
	Frames int    `json:"frames"`
}

type trainSettingsJSON struct {
	Stages       int     `json:"stages"`
	Layers       int     `json:"layers"`
	Channels     int     `json:"channels"`
	Dropout      float64 `json:"dropout"`
	MaxEpochs    int     `json:"max_epochs"`
	Patience     int     `json:"patience"`
	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"`
	Val          string  `json:"validation"`
}

type trainEpochJSON struct {
	Epoch   int     `json:"epoch"`
	Loss    float64 `json:"loss"`
	MF1B    float64 `json:"val_mf1b"`
	MF1S    float64 `json:"val_mf1s"`
	Seconds float64 `json:"seconds"`
}

type trainMS struct {
	MF1B float64 `json:"mf1b"`
	MF1S float64 `json:"mf1s"`
}

func trainAction(c *cli.Context) error {
	s, err := trainSetup(c)
	if err != nil {
		return err
	}
	paths, err := trainPaths(c.Args().Slice())
	if err != nil {
		return err
	}
	if _, err := initRuntime(c); err != nil {
		return err
	}
	tools, err := media.FindTools()
	if err != nil {
		return err
	}
	fm, err := segment.LoadModel(s.features, s.dir)
	if err != nil {
		return fmt.Errorf("--features: %w", err)
	}
	seg, err := segment.NewSegmenter(fm, segment.Options{
		Runtime:  ortsession.Options{Threads: c.Int("threads")},
		Holistic: holisticModelsIn(s.dir, c),
	})
	if err != nil {
		return fmt.Errorf("--features %s: %w", s.features, err)
	}
	defer seg.Close()
	dirs, err := mediaDirsFrom(c)
	if err != nil {
		return err
	}
	featID, err := featureIdentity(fm)
	if err != nil {
		return err
	}
	w, ew := c.App.Writer, c.App.ErrWriter
	prog := newProgress(ew, c.Bool("quiet"))

	// Every file is read and its features cached before training, so that
	// a bad file stops the run at once; one file's features are in memory
	// at a time.
	files := make([]*trainFile, 0, len(paths))
	computed := 0
	for _, p := range paths {
		f, err := readTrainFile(p, s.refTiers, dirs)
		if err != nil {
			return err
		}
		if err := f.cacheFeatures(c.Context, s.dir, featID, fm.Features.Dim, seg, tools, prog, s.cfg.Classes); err != nil {
			return err
		}
		if !f.cached {
			computed++
		}
		files = append(files, f)
	}
	fmt.Fprintf(w, "features (%s): %d computed, %d from the cache %s\n", s.features, computed, len(files)-computed, filepath.Join(s.dir, featureCacheDir))

	trainIdx, valIdx, err := splitFiles(files, s)
	if err != nil {
		return err
	}
	trainSeqs := make(trainSource, len(trainIdx))
	counts := make([]int64, s.cfg.Classes)
	for k, i := range trainIdx {
		trainSeqs[k] = files[i]
		for c, n := range files[i].counts {
			counts[c] += n
		}
	}
	val := make([]*trainFile, len(valIdx))
	for k, i := range valIdx {
		val[k] = files[i]
	}
	fmt.Fprintf(w, "%d training files, %d validation files: %s\n", len(trainIdx), len(valIdx), strings.Join(baseNames(val), ", "))

	s.cfg.Inputs = fm.Features.Dim
	s.opts.Loss = train.DefaultLoss(train.WeightsFromCounts(counts))
	dec := decode.Options{Threshold: 0.5, Gaps: decode.GapsSplit, DropEdgeBoundaries: true}
	s.opts.Validate = func(ctx context.Context, m *train.Model) (float64, string, error) {
		r, err := scoreModel(m, val, dec)
		if err != nil {
			return 0, "", err
		}
		return r.MF1B, fmt.Sprintf("val mF1B %.2f mF1S %.2f", r.MF1B, r.MF1S), nil
	}
	var epochs []trainEpochJSON
	s.opts.OnEpoch = func(r train.EpochReport) {
		mf1s := 0.0
		if i := strings.LastIndex(r.Summary, "mF1S "); i >= 0 {
			mf1s, _ = strconv.ParseFloat(r.Summary[i+5:], 64)
		}
		// A resumed run may redo epochs that its saved model did not have.
		for len(epochs) > 0 && epochs[len(epochs)-1].Epoch >= r.Epoch {
			epochs = epochs[:len(epochs)-1]
		}
		epochs = append(epochs, trainEpochJSON{Epoch: r.Epoch, Loss: r.Loss, MF1B: r.Score, MF1S: mf1s, Seconds: r.Elapsed.Seconds()})
		mark := ""
		if r.Improved {
			mark = " *"
		}
		line := fmt.Sprintf("epoch %d/%d loss %.4f %s, %.1fs%s", r.Epoch, s.opts.Epochs, r.Loss, r.Summary, r.Elapsed.Seconds(), mark)
		if prog.tty && !prog.quiet {
			fmt.Fprintf(ew, "\r\033[K%s", epochBar(r.Epoch, s.opts.Epochs, line))
			return
		}
		fmt.Fprintln(w, line)
	}
	if err := os.MkdirAll(filepath.Dir(s.opts.StatePath), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(s.opts.StatePath), err)
	}
	var res *train.Result
	var fitErr error
	if s.resume {
		epochs = previousEpochs(filepath.Join(s.dir, s.out))
		res, fitErr = train.Resume(c.Context, trainSeqs, s.opts)
	} else {
		m, err := train.NewModel(s.cfg, s.opts.Seed)
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintf(w, "model: MS-TCN %d stages × %d layers × %d channels, %d inputs, %d parameters\n", s.cfg.Stages, s.cfg.Layers, s.cfg.Channels, s.cfg.Inputs, m.NumParams())
		res, fitErr = train.Fit(c.Context, m, trainSeqs, s.opts)
	}
	if prog.tty && !prog.quiet {
		fmt.Fprintln(ew)
	}
	if res == nil {
		return fitErr
	}
	if res.BestEpoch == 0 {
		if fitErr == nil {
			fitErr = errors.New("no epoch finished")
		}
		return fmt.Errorf("train: %w; no model written", fitErr)
	}
	interrupted := fitErr != nil
	rec := trainRecord{
		Tool: programName + " " + appVersion(), Created: time.Now().UTC().Format(time.RFC3339),
		FeatureModel: fm.Name, FeatureID: featID, RefTiers: s.refTiers, Seed: s.opts.Seed,
		Epochs: epochs, BestEpoch: res.BestEpoch, Stop: res.Stop,
		ScoreProtocol: "validation files, frames of the reference's extent (signseg eval --frames reference)",
		Settings: trainSettingsJSON{Stages: res.Best.Config().Stages, Layers: res.Best.Config().Layers, Channels: res.Best.Config().Channels,
			Dropout: res.Best.Config().Dropout, MaxEpochs: s.opts.Epochs, Patience: s.opts.Patience, Batch: s.opts.Batch,
			LearningRate: s.opts.LearningRate, Val: valSetting(s)},
	}
	for _, i := range trainIdx {
		rec.Data.Train = append(rec.Data.Train, files[i].json())
	}
	for _, f := range val {
		rec.Data.Val = append(rec.Data.Val, f.json())
	}
	// Scores of the trained model as written, through the normal pipeline
	// (ONNX Runtime), and of the feature model itself. On Ctrl-C the model
	// is saved without them.
	ctx := c.Context
	if interrupted {
		ctx = context.Background()
	}
	dest, err := writeTrainedModel(ctx, s, fm, res.Best, &rec)
	if err != nil {
		return err
	}
	if interrupted {
		fmt.Fprintf(w, "stopped in epoch %d: saved the best model so far (epoch %d, val mF1B %.2f) as %s; continue with --resume\n", res.Epochs+1, res.BestEpoch, res.BestScore, dest)
		return fitErr
	}
	trained, err := segment.LoadModel(dest, s.dir)
	if err != nil {
		return fmt.Errorf("train: the written model does not load (please report this): %w", err)
	}
	tseg, err := segment.NewSegmenter(trained, segment.Options{Runtime: ortsession.Options{Threads: c.Int("threads")}, Holistic: holisticModelsIn(s.dir, c)})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	defer tseg.Close()
	rt, err := scoreSegmenter(ctx, tseg, val)
	if err != nil {
		return err
	}
	rd, err := scoreSegmenter(ctx, seg, val)
	if err != nil {
		return err
	}
	rec.Scores = map[string]trainMS{"trained": {rt.MF1B, rt.MF1S}, "feature_model": {rd.MF1B, rd.MF1S}}
	if _, err := writeModelFolder(s, fm, res.Best, &rec, true); err != nil {
		return err
	}
	fmt.Fprintf(w, "stopped after %d epochs (%s); best epoch %d\n", res.Epochs, res.Stop, res.BestEpoch)
	// Names are padded to one width so that they read left-aligned in the
	// right-aligned table.
	head := fmt.Sprintf("model (%d validation files)", len(val))
	rows := []string{s.out + " (trained)", fm.Name + " (untrained default)"}
	width := max(len(head), len(rows[0]), len(rows[1]))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tmF1B\tmF1S\tF1S@0.50\t\n", width, head)
	for i, r := range []eval.Report{rt, rd} {
		fmt.Fprintf(tw, "%-*s\t%.2f\t%.2f\t%.2f\t\n", width, rows[i], r.MF1B, r.MF1S, r.F1S[0])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote model %q into %s\nuse it with: %s video --model %s VIDEO.mp4\n", s.out, dest, programName, s.out)
	return nil
}

// trainSetup checks the flags.
func trainSetup(c *cli.Context) (*trainSettings, error) {
	s := &trainSettings{features: c.String("features"), out: c.String("out"), dir: modelCmdDir(c), resume: c.Bool("resume"), force: c.Bool("force")}
	for _, t := range strings.Split(c.String("ref"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			s.refTiers = append(s.refTiers, t)
		}
	}
	switch {
	case len(s.refTiers) == 0:
		return nil, usagef("train: give the reference tier with --ref TIER (or --ref RH-TIER,LH-TIER)")
	case s.features == "":
		return nil, usagef("train: give the feature model with --features (e.g. motion, hands, or an imported model)")
	case s.out == "":
		return nil, usagef("train: give the new model's name with --out NAME")
	case !validModelName.MatchString(s.out):
		return nil, usagef("train: --out %q: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s.out)
	case c.NArg() == 0:
		return nil, usagef("train: give .eaf files or folders of them")
	case s.dir == "":
		return nil, usagef("train: no models folder known; give --models-dir")
	}
	for _, m := range segment.ListModels("") {
		if m.Name == s.out {
			return nil, usagef("train: --out %q is a built-in model; choose another name", s.out)
		}
	}
	if vf := c.String("val-files"); vf != "" {
		if c.IsSet("val") {
			return nil, usagef("train: give either --val or --val-files")
		}
		for _, f := range strings.Split(vf, ",") {
			if f = strings.TrimSpace(f); f != "" {
				s.valFiles = append(s.valFiles, f)
			}
		}
	} else {
		v := strings.TrimSpace(c.String("val"))
		pct := strings.HasSuffix(v, "%")
		x, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if pct {
			x /= 100
		}
		if err != nil || !(x > 0 && x < 1) {
			return nil, usagef("train: --val %q: give the validation share as a percentage (20%%) or fraction (0.2)", c.String("val"))
		}
		s.val = x
	}
	s.cfg = train.DefaultConfig(1)
	s.cfg.Stages, s.cfg.Layers, s.cfg.Channels = c.Int("stages"), c.Int("layers"), c.Int("channels")
	if err := s.cfg.Validate(); err != nil {
		return nil, usagef("train: --stages %d, --layers %d, --channels %d: give 1–16 stages, 1–20 layers, 1–4096 channels", s.cfg.Stages, s.cfg.Layers, s.cfg.Channels)
	}
	if c.Int64("seed") < 0 {
		return nil, usagef("train: --seed %d: give a number ≥ 0", c.Int64("seed"))
	}
	s.opts = train.Options{Epochs: c.Int("epochs"), Patience: c.Int("patience"), LearningRate: c.Float64("lr"), Seed: uint64(c.Int64("seed")), Batch: c.Int("batch")}
	if s.opts.Epochs <= 0 || s.opts.Patience < 0 || s.opts.Batch <= 0 || !(s.opts.LearningRate > 0 && s.opts.LearningRate < 1) {
		return nil, usagef("train: --epochs %d and --batch %d must be > 0, --patience %d ≥ 0, --lr %v between 0 and 1", s.opts.Epochs, s.opts.Batch, s.opts.Patience, s.opts.LearningRate)
	}
	s.opts.StatePath = filepath.Join(s.dir, trainStateDir, s.out+".state")
	if _, err := os.Stat(s.opts.StatePath); err != nil && s.resume {
		return nil, usagef("train --resume: no stopped run of %s (%s); start one without --resume", s.out, s.opts.StatePath)
	}
	dest := filepath.Join(s.dir, s.out)
	if _, err := os.Stat(dest); err == nil && !s.force && !s.resume {
		return nil, fmt.Errorf("train: %s already exists; choose another --out or add --force to replace it", dest)
	}
	return s, nil
}

// trainPaths expands folders into their .eaf files (sorted); files keep
// their order.
func trainPaths(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, errors.Unwrap(err))
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		n := len(out)
		for _, e := range entries {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".eaf") {
				out = append(out, filepath.Join(a, e.Name()))
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: no .eaf files in this folder", a)
		}
	}
	return out, nil
}

// readTrainFile reads the reference tiers of one EAF file and finds its
// video.
func readTrainFile(path string, tiers []string, dirs *eaf.MediaDirs) (*trainFile, error) {
	doc, err := eaf.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &trainFile{EAF: path}
	n := 0
	for _, id := range tiers {
		spans, err := tierSpans(doc, path, id, "--ref")
		if err != nil {
			return nil, err
		}
		n += len(spans)
		f.ref = append(f.ref, spans)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: reference tier(s) %s have no annotations; annotate the file or leave it out", path, strings.Join(tiers, ", "))
	}
	r, err := doc.ResolveVideo(eaf.ResolveOptions{MediaDirs: dirs})
	if err != nil {
		return nil, withMediaAdvice(err)
	}
	f.Video, f.originMS = r.Path, r.Descriptor.TimeOrigin
	return f, nil
}

// featureIdentity names a feature model's features in the cache: the
// model's name and the SHA-256 of its feature spec (and of its feature
// graph's file, which the spec only names). Keypoints are named by their
// extraction alone (segment.FeatureSpec.KeypointExtraction), so that every
// keypoint model, and every command that runs one (engine.features), shares
// one video's keypoints.
func featureIdentity(m *segment.Model) (string, error) {
	if name, ok := m.Features.KeypointExtraction(); ok {
		return name, nil
	}
	js, err := json.Marshal(m.Features)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(js)
	if m.Features.File != "" && m.Dir != "" {
		sum, _, err := fileSHA256(filepath.Join(m.Dir, m.Features.File))
		if err != nil {
			return "", fmt.Errorf("--features %s: %w", m.Name, err)
		}
		h.Write([]byte(sum))
	}
	return m.Name + "-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// cacheFeatures makes sure that f's features are in the cache: it reads
// them from there, else computes them from the video and stores them. It
// checks f's reference against them and counts its frame labels per
// class (classes), then drops them.
func (f *trainFile) cacheFeatures(ctx context.Context, modelsDir, featID string, dim int, seg *segment.Segmenter, tools media.Tools, prog *progress, classes int) error {
	sum, _, err := fileSHA256(f.Video)
	if err != nil {
		return fmt.Errorf("%s: video: %w", f.EAF, err)
	}
	f.SHA256, f.featID = sum, featID
	f.cache = filepath.Join(modelsDir, featureCacheDir, featID, sum+".features")
	feats, err := readFeatureCache(f.cache, sum, featID, dim)
	f.cached = err == nil
	if err != nil {
		// A missing, damaged or foreign file is computed and replaced.
		if feats, err = f.computeFeatures(ctx, seg, tools, prog); err != nil {
			return err
		}
	}
	f.meta, f.rows = *feats, feats.Rows()
	f.meta.Data = nil
	seq, err := f.sequence(feats)
	if err != nil {
		return err
	}
	f.counts = make([]int64, classes)
	train.CountClasses(f.counts, seq.Labels)
	return nil
}

// computeFeatures computes f's features from its video and writes them
// into the cache.
func (f *trainFile) computeFeatures(ctx context.Context, seg *segment.Segmenter, tools media.Tools, prog *progress) (*segment.Features, error) {
	stream, err := tools.Open(ctx, f.Video, seg.Preprocess())
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	feats, err := seg.Features(ctx, stream, stream.ExpectedFrames(), prog.file(f.EAF, f.Video))
	prog.done()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Video, err)
	}
	if feats.Rows() == 0 {
		return nil, fmt.Errorf("%s: no frames decoded", f.Video)
	}
	if err := os.MkdirAll(filepath.Dir(f.cache), 0o755); err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	if err := writeFeatureCache(f.cache, f.SHA256, f.featID, feats); err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	// The same features in the first cache format (gob) are stale.
	os.Remove(strings.TrimSuffix(f.cache, ".features") + ".gob")
	return feats, nil
}

// features reads f's features back from the cache.
func (f *trainFile) features() (*segment.Features, error) {
	fe, err := readFeatureCache(f.cache, f.SHA256, f.featID, f.meta.Dim)
	if err == nil && (fe.Rows() != f.rows || fe.Frames != f.meta.Frames || fe.Offset != f.meta.Offset) {
		err = errors.New("changed since this run began")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: feature cache: %w; run the training again", f.EAF, err)
	}
	return fe, nil
}

// trainSource gives train.Fit the training files' sequences, read from the
// feature cache one at a time.
type trainSource []*trainFile

func (s trainSource) Len() int          { return len(s) }
func (s trainSource) Name(i int) string { return s[i].EAF }

func (s trainSource) Load(i int) (train.Sequence, error) {
	fe, err := s[i].features()
	if err != nil {
		return train.Sequence{}, err
	}
	return s[i].sequence(fe)
}

// frameShiftMS is added to EAF times to get the time from the first
// decoded frame: EAF time + TIME_ORIGIN is media time, and the pipeline
// times frame i from round(StartMS) (segment.Result.Times).
func (f *trainFile) frameShiftMS() int64 {
	return f.originMS - max(int64(math.Round(f.meta.StartMS)), 0)
}

// sequence returns the training sequence of f's features fe: features
// [D, rows] and the label of the frame of each row; frames outside the
// reference's extent are not scored (partly annotated files teach nothing
// there).
func (f *trainFile) sequence(fe *segment.Features) (train.Sequence, error) {
	shift := f.frameShiftMS()
	var tiers [][]decode.TimeSpan
	first, last := -1, -1
	for _, tier := range f.ref {
		var out []decode.TimeSpan
		for _, a := range tier {
			b, e := a.BeginMS+shift, a.EndMS+shift
			if e < 0 {
				continue
			}
			a.BeginMS, a.EndMS = max(b, 0), e
			out = append(out, a)
			if s := decode.MSToFrame(a.BeginMS, fe.FPS); first < 0 || s < first {
				first = s
			}
			last = max(last, decode.MSToFrame(a.EndMS, fe.FPS))
		}
		tiers = append(tiers, out)
	}
	if first < 0 || first >= fe.Frames {
		return train.Sequence{}, fmt.Errorf("%s: the reference annotations lie outside the video %s; check the linked video and its time origin", f.EAF, f.Video)
	}
	labels, err := eval.FrameLabels(tiers, fe.Frames, fe.FPS)
	if err != nil {
		return train.Sequence{}, fmt.Errorf("%s: reference: %w", f.EAF, err)
	}
	T, D := fe.Rows(), fe.Dim
	seq := train.Sequence{Name: f.EAF, Features: make([]float32, D*T), Labels: make([]int32, T)}
	for t := range T {
		for d := range D {
			seq.Features[d*T+t] = fe.Data[t*D+d]
		}
		fr := t + fe.Offset
		if fr < first || fr > last || fr >= len(labels) {
			seq.Labels[t] = train.Ignore
		} else {
			seq.Labels[t] = int32(labels[fr])
		}
	}
	return seq, nil
}

func (f *trainFile) json() trainFileJSON {
	return trainFileJSON{EAF: f.EAF, Video: f.Video, SHA256: f.SHA256, Frames: f.meta.Frames}
}

// video scores hypothesis signs (media time) against f's reference as
// `signseg eval` does with --frames reference at the features' frame rate.
func (f *trainFile) video(hyp []decode.TimeSpan) (eval.Video, error) {
	fps := f.meta.FPS
	first, n := -1, 0
	for _, tier := range f.ref {
		for _, a := range tier {
			if s := decode.MSToFrame(a.BeginMS, fps); first < 0 || s < first {
				first = s
			}
			n = max(n, decode.MSToFrame(a.EndMS, fps)+1)
		}
	}
	gt, err := eval.FrameLabels(f.ref, n, fps)
	if err != nil {
		return eval.Video{}, fmt.Errorf("%s: reference: %w", f.EAF, err)
	}
	// Media time to EAF time, as the segment command writes tiers.
	var spans []decode.TimeSpan
	for _, s := range hyp {
		s.BeginMS -= f.originMS
		s.EndMS -= f.originMS
		if s.EndMS < 0 {
			continue
		}
		s.BeginMS = max(s.BeginMS, 0)
		spans = append(spans, s)
	}
	pred, err := eval.FrameLabels([][]decode.TimeSpan{spans}, n, fps)
	if err != nil {
		return eval.Video{}, fmt.Errorf("%s: %w", f.EAF, err)
	}
	return eval.NewVideo(f.EAF, pred[first:], gt, first)
}

// scoreFiles scores, on the validation files, the signs that signsOf
// finds in each file's features; it reads one file's features at a time.
func scoreFiles(files []*trainFile, signsOf func(*segment.Features) ([]decode.TimeSpan, error)) (eval.Report, error) {
	videos := make([]eval.Video, 0, len(files))
	for _, f := range files {
		fe, err := f.features()
		if err != nil {
			return eval.Report{}, err
		}
		signs, err := signsOf(fe)
		if err != nil {
			return eval.Report{}, fmt.Errorf("%s: %w", f.EAF, err)
		}
		v, err := f.video(signs)
		if err != nil {
			return eval.Report{}, err
		}
		videos = append(videos, v)
	}
	return eval.Evaluate(videos)
}

// scoreModel scores a model in training on the validation files: its
// boundary probabilities decoded as the segment pipeline decodes a
// temporal model's (per frame, then decode.Probabilities).
func scoreModel(m *train.Model, files []*trainFile, dec decode.Options) (eval.Report, error) {
	return scoreFiles(files, func(fe *segment.Features) ([]decode.TimeSpan, error) {
		T, D := fe.Rows(), fe.Dim
		x := make([]float32, D*T)
		for t := range T {
			for d := range D {
				x[d*T+t] = fe.Data[t*D+d]
			}
		}
		p, err := m.Predict(x, T)
		if err != nil {
			return nil, err
		}
		// Row t's boundary probability (class 1) for frame t+Offset; frames
		// before and after the rows take the nearest row's.
		perFrame := make([]float32, fe.Frames)
		for fr := range perFrame {
			perFrame[fr] = p[T+min(max(fr-fe.Offset, 0), T-1)]
		}
		d, err := decode.Probabilities(perFrame, dec)
		if err != nil {
			return nil, err
		}
		signs, _, err := d.ToMS(fe.FPS, max(int64(math.Round(fe.StartMS)), 0))
		return signs, err
	})
}

// scoreSegmenter scores a model through the normal pipeline on the cached
// features of the validation files.
func scoreSegmenter(ctx context.Context, seg *segment.Segmenter, files []*trainFile) (eval.Report, error) {
	return scoreFiles(files, func(fe *segment.Features) ([]decode.TimeSpan, error) {
		res, err := seg.SegmentFeatures(ctx, fe)
		if err != nil {
			return nil, err
		}
		signs, _, err := res.Times()
		return signs, err
	})
}

// splitFiles divides the files by file: --val-files by name, else
// train.Split with the seed.
func splitFiles(files []*trainFile, s *trainSettings) (trainIdx, valIdx []int, err error) {
	if len(s.valFiles) == 0 {
		trainIdx, valIdx, err = train.Split(len(files), s.val, s.opts.Seed)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("train: %w", err)}
		}
		return trainIdx, valIdx, nil
	}
	isVal := make([]bool, len(files))
	for _, v := range s.valFiles {
		found := false
		for i, f := range files {
			if f.EAF == v || filepath.Base(f.EAF) == v || filepath.Clean(f.EAF) == filepath.Clean(v) {
				isVal[i], found = true, true
			}
		}
		if !found {
			return nil, nil, usagef("train: --val-files %s is not one of the files given", v)
		}
	}
	for i := range files {
		if isVal[i] {
			valIdx = append(valIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	if len(trainIdx) == 0 {
		return nil, nil, usagef("train: --val-files names every file; leave some for training")
	}
	return trainIdx, valIdx, nil
}

func valSetting(s *trainSettings) string {
	if len(s.valFiles) > 0 {
		return "files: " + strings.Join(s.valFiles, ",")
	}
	return strconv.FormatFloat(s.val*100, 'g', -1, 64) + "%"
}

func baseNames(files []*trainFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Base(f.EAF)
	}
	sort.Strings(out)
	return out
}

// epochBar formats "[####      ] line" for a terminal.
func epochBar(epoch, total int, line string) string {
	const width = 10
	n := min(epoch*width/max(total, 1), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(" ", width-n) + "] " + line
}

// previousEpochs returns the epochs of an interrupted run's saved model,
// so that a resumed run's train.json keeps the whole curve.
func previousEpochs(dir string) []trainEpochJSON {
	data, err := os.ReadFile(filepath.Join(dir, trainRecordFile))
	if err != nil {
		return nil
	}
	var rec trainRecord
	if json.Unmarshal(data, &rec) != nil {
		return nil
	}
	return rec.Epochs
}

// writeTrainedModel writes the model folder (replacing an interrupted
// run's) and returns its path.
func writeTrainedModel(_ context.Context, s *trainSettings, fm *segment.Model, m *train.Model, rec *trainRecord) (string, error) {
	return writeModelFolder(s, fm, m, rec, s.force || s.resume)
}

func writeModelFolder(s *trainSettings, fm *segment.Model, m *train.Model, rec *trainRecord, replace bool) (string, error) {
	w := m.Export()
	d, err := w.Dims()
	if err != nil {
		return "", err
	}
	temporal, err := onnxgraph.BuildMSTCN(w, onnxgraph.MSTCNOptions{BoundaryClass: 1, Metadata: map[string]string{
		"trained_by": rec.Tool, "feature_model": fm.Name}})
	if err != nil {
		return "", fmt.Errorf("train: %w", err)
	}
	files := map[string][]byte{trainTemporalFile: temporal}
	spec := fm.Features
	if spec.File != "" {
		// The feature graph travels with the model.
		data, err := os.ReadFile(filepath.Join(fm.Dir, spec.File))
		if err != nil {
			return "", fmt.Errorf("train: feature model %s: %w", fm.Name, err)
		}
		files[spec.File] = data
	}
	js, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	files[trainRecordFile] = append(js, '\n')
	man := segment.Manifest{
		Name: s.out,
		Description: fmt.Sprintf("MS-TCN (%d stages × %d layers × %d channels) trained by %s train on %s features (%d files)",
			d.S, d.L, d.F, programName, fm.Name, len(rec.Data.Train)),
		Provenance: fmt.Sprintf("trained by %s train, best of %d epochs (epoch %d), seed %d; see %s", rec.Tool, len(rec.Epochs), rec.BestEpoch, rec.Seed, trainRecordFile),
		License:    "trained on the user's own annotations: the terms of that data apply; feature model: " + fm.License,
		Features:   spec,
		Temporal: &segment.TemporalSpec{
			File: trainTemporalFile, Input: onnxgraph.MSTCNInput, Output: onnxgraph.MSTCNBoundary,
			OutputKind: segment.OutputProbability, ReceptiveField: d.ReceptiveField(),
		},
		Decoding: segment.Decoding{Decoder: new(segment.DecoderThreshold), Threshold: new(0.5), Gaps: new(decode.GapsSplit)},
	}
	dest, err := segment.WriteModel(s.dir, &man, files, replace)
	if err != nil {
		return "", fmt.Errorf("train: %w", err)
	}
	return dest, nil
}

// printTrainRecord adds how a trained model was trained to `model info`;
// models without train.json print nothing.
func printTrainRecord(w io.Writer, dir string) error {
	if dir == "" {
		return nil
	}
	path := filepath.Join(dir, trainRecordFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var rec trainRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	st := rec.Settings
	fmt.Fprintf(w, "trained by:  %s on %s, features of %s, reference tiers %s\n", rec.Tool, rec.Created, rec.FeatureModel, strings.Join(rec.RefTiers, ","))
	fmt.Fprintf(w, "  data:     %d training files, %d validation files (%s)\n", len(rec.Data.Train), len(rec.Data.Val), st.Val)
	fmt.Fprintf(w, "  settings: %d stages × %d layers × %d channels, lr %g, batch %d, patience %d, max %d epochs, seed %d\n",
		st.Stages, st.Layers, st.Channels, st.LearningRate, st.Batch, st.Patience, st.MaxEpochs, rec.Seed)
	fmt.Fprintf(w, "  run:      %d epochs (%s), best epoch %d\n", len(rec.Epochs), rec.Stop, rec.BestEpoch)
	if t, ok := rec.Scores["trained"]; ok {
		fm := rec.Scores["feature_model"]
		fmt.Fprintf(w, "  scores:   validation mF1B %.2f mF1S %.2f (%s untrained: mF1B %.2f mF1S %.2f)\n", t.MF1B, t.MF1S, rec.FeatureModel, fm.MF1B, fm.MF1S)
	}
	return nil
}
