package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/plot"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/eval"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "score a tier of signs against a reference tier with the paper's metrics (mF1B, mF1S)",
		ArgsUsage: "FILE.eaf...",
		Description: "Compares the signs of a hypothesis tier (by default signseg's) with a reference tier drawn by\n" +
			"annotators, in the same files (FILE.eaf...) or in same-named files of two folders (--ref-dir,\n" +
			"--hyp-dir), and prints mF1B (boundary F1 over 1–4 frames) and mF1S (sign F1 over IoU\n" +
			"0.40–0.75) per file and in total, as defined by Renz et al. (ICASSP 2021).\n\n" +
			"Both tiers become frame labels at --fps as the paper built its ground truth: each\n" +
			"annotation's start and end frame, and gaps of fewer than 6 frames between annotations, are\n" +
			"boundaries; several --ref tiers (e.g. both hands) are merged. The total sums the counts over\n" +
			"files (micro-average), as the paper does.\n\n" +
			"Which frames count (--frames):\n" +
			"  reference (default)  the frames the reference covers, from the first reference annotation's\n" +
			"                       start to the last one's end. For partly annotated files: a video counts\n" +
			"                       only where it was annotated, and no video is needed.\n" +
			"  video                the paper's protocol, to compare with published numbers: labels cover the\n" +
			"                       whole video (frames outside the reference annotations are signs, and\n" +
			"                       predicted boundaries there count), scored on the frames the paper's model\n" +
			"                       predicts (8 to N−8 of N; videos under 16 frames are left out). Use it for\n" +
			"                       fully annotated videos. N comes from the linked video (ffprobe, at\n" +
			"                       --fps), or --media, or --frames-total N when there is no video.\n" +
			"The two give different numbers on the same tiers.\n\n" +
			"acc is the paper's frame accuracy: the share of frames whose label (sign or boundary) equals\n" +
			"the reference's after each reference boundary is widened by up to a frame on either side, as the\n" +
			"paper's evaluation widens it for the boundary scores. A 1-frame boundary is thus 3 frames in\n" +
			"the reference only, so acc is below 100 even for a tier scored against itself; compare\n" +
			"segmentations by mF1B and mF1S.\n\n" +
			"--baseline uniform scores the paper's uniform baseline instead of a tier: each stretch of\n" +
			"reference signing split into as many equal signs as the reference has there.\n\n" +
			"--plot draws one file's boundary probability (recomputed by running --model on the linked\n" +
			"video, or --media) with the threshold, and the reference and hypothesis signs underneath as\n" +
			"the metrics see them, over time in seconds, with mF1B and mF1S in the title: PNG (150 dpi),\n" +
			"SVG or PDF by the file's extension. The model flags only affect this curve, not the tier\n" +
			"being scored.",
		Flags: concatFlags([]cli.Flag{
			&cli.StringFlag{Name: "ref", Usage: "reference tier(s), comma-separated (e.g. RH-IDgloss,LH-IDgloss); required"},
			&cli.StringFlag{Name: "hyp", Value: "signseg-signs", Usage: "hypothesis tier"},
			&cli.StringFlag{Name: "ref-dir", Usage: "folder of reference EAF files (instead of FILE.eaf...)"},
			&cli.StringFlag{Name: "hyp-dir", Usage: "folder of hypothesis EAF files with the same names as in --ref-dir"},
			&cli.Float64Flag{Name: "fps", Value: 25, Usage: "frame rate of the labels (the model's: 25 for the paper)"},
			&cli.StringFlag{Name: "frames", Value: framesReference, Usage: "frames to score: reference (the reference's extent) or video (the whole video, the paper's protocol)"},
			&cli.IntFlag{Name: "frames-total", Usage: "with --frames video: the video's frame count at --fps, for every file, instead of probing the linked video"},
			&cli.StringFlag{Name: "baseline", Usage: "score a baseline instead of --hyp: uniform"},
			&cli.BoolFlag{Name: "json", Usage: "print machine-readable results on stdout"},
			&cli.StringFlag{Name: "plot", Usage: "draw one file's boundary probability and segments into this .png (150 dpi), .svg or .pdf file"},
			&cli.StringFlag{Name: "media", Usage: "with --plot or --frames video: use this video instead of the one the file links"},
			mediaDirFlag(),
		}, modelFlags()),
		Action: evalAction,
	}
}

// evalPair is one evaluated file: the reference tiers come from RefPath,
// the hypothesis tier from HypPath (the same file unless --ref-dir).
type evalPair struct {
	Name, RefPath, HypPath string
}

// The evaluation protocols (--frames).
const (
	framesReference = "reference" // the reference's extent
	framesVideo     = "video"     // the whole video, as the paper
)

// evalOptions are the labelling settings of an evaluation.
type evalOptions struct {
	refTiers    []string
	hypTier     string
	baseline    string // "" or eval.BaselineUniform
	fps         float64
	frames      string // framesReference or framesVideo
	framesTotal int    // --frames-total; 0: probe the video
	media       string // --media
}

// evalFile is one file's labels and scores.
type evalFile struct {
	evalPair
	First  int // first evaluated frame (at the evaluation's fps, label time)
	Frames int // evaluated frames, from First
	// VideoFrames is the video's frame count (--frames video), else 0.
	VideoFrames int
	// ShiftMS is added to EAF times to get label time: the media's
	// TIME_ORIGIN with --frames video (labels index the video's frames),
	// else 0 (labels index EAF time).
	ShiftMS int64
	Video   eval.Video
	Report  eval.Report
	hypDoc  *eaf.Document // for --plot: the file whose video is shown
}

// skippedFile is a file that --frames video leaves out, and why.
type skippedFile struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

func evalAction(c *cli.Context) error {
	opt, pairs, err := evalSetup(c)
	if err != nil {
		return err
	}
	files, skipped, total, err := evaluateFiles(c.Context, pairs, opt)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(c.App.ErrWriter, "%s: warning: %s: left out: %s\n", programName, s.File, s.Reason)
	}
	if p := c.String("plot"); p != "" {
		if err := plotFile(c.Context, c, p, files[0], opt); err != nil {
			return err
		}
	}
	if c.Bool("json") {
		return writeEvalJSON(c.App.Writer, files, skipped, total, opt)
	}
	return writeEvalTable(c.App.Writer, files, total)
}

// evalSetup checks the flags and lists the files.
func evalSetup(c *cli.Context) (evalOptions, []evalPair, error) {
	opt := evalOptions{hypTier: c.String("hyp"), baseline: c.String("baseline"), fps: c.Float64("fps"),
		frames: c.String("frames"), framesTotal: c.Int("frames-total"), media: c.String("media")}
	for _, t := range strings.Split(c.String("ref"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			opt.refTiers = append(opt.refTiers, t)
		}
	}
	if len(opt.refTiers) == 0 {
		return opt, nil, usagef("eval: give the reference tier with --ref TIER (or --ref RH-TIER,LH-TIER)")
	}
	if opt.baseline != "" && opt.baseline != eval.BaselineUniform {
		return opt, nil, usagef("eval: --baseline %q: the only baseline is %s", opt.baseline, eval.BaselineUniform)
	}
	if opt.baseline == "" && opt.hypTier == "" {
		return opt, nil, usagef("eval: --hyp must not be empty")
	}
	if !(opt.fps > 0 && opt.fps <= 1000) {
		return opt, nil, usagef("eval: --fps %v: give a frame rate between 0 and 1000", opt.fps)
	}
	if opt.frames != framesReference && opt.frames != framesVideo {
		return opt, nil, usagef("eval: --frames %q: give reference (the reference's extent) or video (the whole video, the paper's protocol)", opt.frames)
	}
	if c.IsSet("frames-total") && opt.frames != framesVideo {
		return opt, nil, usagef("eval: --frames-total is for --frames video")
	}
	if c.IsSet("frames-total") && opt.framesTotal <= 0 {
		return opt, nil, usagef("eval: --frames-total %d: give the video's frame count at --fps, a positive number", opt.framesTotal)
	}
	if opt.media != "" && opt.framesTotal > 0 && c.String("plot") == "" {
		return opt, nil, usagef("eval: give either --media or --frames-total, not both")
	}
	if p := c.String("plot"); p != "" {
		if _, err := plot.FormatOf(p); err != nil {
			return opt, nil, usagef("eval: --plot %s: name the file .png, .svg or .pdf", p)
		}
	}
	refDir, hypDir := c.String("ref-dir"), c.String("hyp-dir")
	var pairs []evalPair
	switch {
	case refDir == "" && hypDir != "":
		return opt, nil, usagef("eval: --hyp-dir needs --ref-dir")
	case refDir == "":
		if c.NArg() == 0 {
			return opt, nil, usagef("eval: give one or more .eaf files, or --ref-dir and --hyp-dir")
		}
		for _, p := range c.Args().Slice() {
			pairs = append(pairs, evalPair{Name: p, RefPath: p, HypPath: p})
		}
	default:
		if c.NArg() > 0 {
			return opt, nil, usagef("eval: give either .eaf files or --ref-dir, not both")
		}
		if hypDir == "" && opt.baseline == "" {
			return opt, nil, usagef("eval: --ref-dir needs --hyp-dir (or --baseline)")
		}
		var err error
		if pairs, err = dirPairs(refDir, hypDir); err != nil {
			return opt, nil, err
		}
	}
	if c.String("plot") != "" && len(pairs) != 1 {
		return opt, nil, usagef("eval: --plot draws one file; got %d", len(pairs))
	}
	if opt.media != "" && c.String("plot") == "" && opt.frames != framesVideo {
		return opt, nil, usagef("eval: --media is for --plot or --frames video")
	}
	if opt.media != "" && len(pairs) != 1 {
		return opt, nil, usagef("eval: --media names the video of one file; got %d files", len(pairs))
	}
	if len(mediaDirList(c)) > 0 && c.String("plot") == "" {
		return opt, nil, usagef("eval: --media-dir is for --plot")
	}
	return opt, pairs, nil
}

// dirPairs pairs each .eaf file of refDir with the same-named file of
// hypDir ("" when the hypothesis is a baseline), in name order.
func dirPairs(refDir, hypDir string) ([]evalPair, error) {
	entries, err := os.ReadDir(refDir)
	if err != nil {
		return nil, fmt.Errorf("--ref-dir: %w", err)
	}
	var pairs []evalPair
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".eaf") {
			continue
		}
		p := evalPair{Name: e.Name(), RefPath: filepath.Join(refDir, e.Name())}
		p.HypPath = p.RefPath
		if hypDir != "" {
			p.HypPath = filepath.Join(hypDir, e.Name())
			if _, err := os.Stat(p.HypPath); err != nil {
				return nil, fmt.Errorf("%s has no counterpart in --hyp-dir: %w; give folders with the same file names", p.RefPath, err)
			}
		}
		pairs = append(pairs, p)
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("--ref-dir %s: no .eaf files", refDir)
	}
	return pairs, nil
}

// evaluateFiles labels and scores each file, and all of them together. The
// total is computed over the files in name order, so it does not depend on
// the order they were given in (the means of the side metrics are float
// sums). With --frames video, videos too short for the paper's protocol
// are left out, as the paper does, and listed in skipped.
func evaluateFiles(ctx context.Context, pairs []evalPair, opt evalOptions) (files []evalFile, skipped []skippedFile, total eval.Report, err error) {
	files = make([]evalFile, 0, len(pairs))
	for _, p := range pairs {
		f, err := evaluateFile(ctx, p, opt)
		var short *eval.TooShortError
		if errors.As(err, &short) {
			skipped = append(skipped, skippedFile{File: p.Name, Reason: fmt.Sprintf("the video has %d frames; --frames video scores frames %d to N−%d, as the paper, and needs at least %d", short.Frames, eval.VideoLeadFrames, eval.VideoTrailFrames+1, eval.MinVideoFrames)})
			continue
		}
		if err != nil {
			return nil, nil, eval.Report{}, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, nil, eval.Report{}, fmt.Errorf("%s: %s; no video left to evaluate with --frames video (use --frames reference)", skipped[0].File, skipped[0].Reason)
	}
	sorted := slices.Clone(files)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].evalPair, sorted[j].evalPair
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.RefPath+"\x00"+a.HypPath < b.RefPath+"\x00"+b.HypPath
	})
	videos := make([]eval.Video, len(sorted))
	for i, f := range sorted {
		videos[i] = f.Video
	}
	total, err = eval.Evaluate(videos)
	if err != nil {
		return nil, nil, eval.Report{}, err
	}
	return files, skipped, total, nil
}

// evaluateFile reads the tiers of one pair and scores them.
func evaluateFile(ctx context.Context, p evalPair, opt evalOptions) (evalFile, error) {
	refDoc, err := eaf.ReadFile(p.RefPath)
	if err != nil {
		return evalFile{}, err
	}
	var ref [][]decode.TimeSpan
	for _, id := range opt.refTiers {
		spans, err := tierSpans(refDoc, p.RefPath, id, "--ref")
		if err != nil {
			return evalFile{}, err
		}
		ref = append(ref, spans)
	}
	hypDoc := refDoc
	var hyp []decode.TimeSpan
	what := "tier " + opt.hypTier
	if opt.baseline != "" {
		if hyp, err = eval.UniformBaseline(ref, opt.fps); err != nil {
			return evalFile{}, fmt.Errorf("%s: %w", p.RefPath, err)
		}
		what = "the " + opt.baseline + " baseline"
	} else {
		if p.HypPath != p.RefPath {
			if hypDoc, err = eaf.ReadFile(p.HypPath); err != nil {
				return evalFile{}, err
			}
		}
		if hyp, err = tierSpans(hypDoc, p.HypPath, opt.hypTier, "--hyp"); err != nil {
			return evalFile{}, err
		}
	}
	if opt.frames == framesVideo {
		return evaluateWholeVideo(ctx, p, opt, refDoc, hypDoc, ref, hyp, what)
	}
	// The evaluated frames: the reference's extent (see the command's
	// description). Labels start at frame 0 and are cut at the range's
	// start after dilation, as the reference dilates before slicing.
	first, n := -1, 0
	for _, tier := range ref {
		for _, a := range tier {
			if s := decode.MSToFrame(a.BeginMS, opt.fps); first < 0 || s < first {
				first = s
			}
			n = max(n, decode.MSToFrame(a.EndMS, opt.fps)+1)
		}
	}
	if first < 0 {
		what := "reference tier " + opt.refTiers[0] + " has"
		if len(opt.refTiers) > 1 {
			what = "reference tiers " + strings.Join(opt.refTiers, ", ") + " have"
		}
		return evalFile{}, fmt.Errorf("%s: %s no annotations; nothing to evaluate (with --frames video a file without reference signs can be scored)", p.RefPath, what)
	}
	gt, err := eval.FrameLabels(ref, n, opt.fps)
	if err != nil {
		return evalFile{}, fmt.Errorf("%s: reference: %w", p.RefPath, err)
	}
	pred, err := eval.FrameLabels([][]decode.TimeSpan{hyp}, n, opt.fps)
	if err != nil {
		return evalFile{}, fmt.Errorf("%s: %s: %w", p.HypPath, what, err)
	}
	v, err := eval.NewVideo(p.Name, pred[first:], gt, first)
	if err != nil {
		return evalFile{}, err
	}
	r, err := eval.Evaluate([]eval.Video{v})
	if err != nil {
		return evalFile{}, err
	}
	return evalFile{evalPair: p, First: first, Frames: n - first, Video: v, Report: r, hypDoc: hypDoc}, nil
}

// evaluateWholeVideo scores one file with the paper's protocol: labels
// over all frames of the video, in media time (EAF time plus the video's
// TIME_ORIGIN), scored on eval.VideoWindow.
func evaluateWholeVideo(ctx context.Context, p evalPair, opt evalOptions, refDoc, hypDoc *eaf.Document, ref [][]decode.TimeSpan, hyp []decode.TimeSpan, what string) (evalFile, error) {
	total, shift, err := videoFrames(ctx, refDoc, p.RefPath, opt)
	if err != nil {
		return evalFile{}, err
	}
	shifted := func(spans []decode.TimeSpan) []decode.TimeSpan {
		out := make([]decode.TimeSpan, len(spans))
		for i, a := range spans {
			out[i] = decode.TimeSpan{BeginMS: a.BeginMS + shift, EndMS: a.EndMS + shift, Confidence: a.Confidence}
		}
		return out
	}
	refMedia := make([][]decode.TimeSpan, len(ref))
	for i, tier := range ref {
		refMedia[i] = shifted(tier)
	}
	gt, err := eval.FrameLabels(refMedia, total, opt.fps)
	if err != nil {
		return evalFile{}, fmt.Errorf("%s: reference: %w", p.RefPath, err)
	}
	pred, err := eval.FrameLabels([][]decode.TimeSpan{shifted(hyp)}, total, opt.fps)
	if err != nil {
		return evalFile{}, fmt.Errorf("%s: %s: %w", p.HypPath, what, err)
	}
	v, err := eval.NewWholeVideo(p.Name, pred, gt)
	if err != nil {
		return evalFile{}, err
	}
	r, err := eval.Evaluate([]eval.Video{v})
	if err != nil {
		return evalFile{}, err
	}
	first, n := eval.VideoWindow(total)
	return evalFile{evalPair: p, First: first, Frames: n, VideoFrames: total, ShiftMS: shift, Video: v, Report: r, hypDoc: hypDoc}, nil
}

// videoFrames returns the frame count at --fps of the video doc links (or
// --media, or --frames-total) and its TIME_ORIGIN in ms (the first video
// descriptor's, when the count is given).
func videoFrames(ctx context.Context, doc *eaf.Document, path string, opt evalOptions) (int, int64, error) {
	if opt.framesTotal > 0 {
		for _, md := range doc.Media() {
			if md.IsVideo() {
				return opt.framesTotal, md.TimeOrigin, nil
			}
		}
		return opt.framesTotal, 0, nil
	}
	video, origin := opt.media, int64(0)
	r, rerr := doc.ResolveVideo(eaf.ResolveOptions{})
	if rerr == nil {
		origin = r.Descriptor.TimeOrigin
	}
	if video == "" {
		if rerr != nil {
			return 0, 0, fmt.Errorf("%s; --frames video needs the video's length: give it with --frames-total N (frames at --fps), or use --frames reference", oneLine(rerr))
		}
		video = r.Path
	}
	info, err := media.Probe(ctx, video)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: --frames video needs the video's length: %w", path, err)
	}
	n := int(math.Round(info.End().Seconds() * opt.fps))
	if n <= 0 {
		return 0, 0, fmt.Errorf("%s: %s: ffprobe gives no duration; give the frame count with --frames-total N", path, video)
	}
	return n, origin, nil
}

// tierSpans returns a tier's annotations as time spans (EAF time).
func tierSpans(doc *eaf.Document, path, id, flag string) ([]decode.TimeSpan, error) {
	if _, ok := doc.Tier(id); !ok {
		var names []string
		for _, t := range doc.Tiers() {
			names = append(names, t.ID)
		}
		return nil, fmt.Errorf("%s: no tier %q (tiers: %s); name an existing tier with %s", path, id, strings.Join(names, ", "), flag)
	}
	anns, err := doc.Annotations(id)
	if err != nil {
		return nil, fmt.Errorf("%s: tier %s: %w", path, id, err)
	}
	spans := make([]decode.TimeSpan, 0, len(anns))
	for _, a := range anns {
		if a.Start < 0 || a.End < a.Start {
			return nil, fmt.Errorf("%s: tier %s: annotation %s runs from %d ms to %d ms; fix its times in ELAN", path, id, a.ID, a.Start, a.End)
		}
		spans = append(spans, decode.TimeSpan{BeginMS: a.Start, EndMS: a.End})
	}
	return spans, nil
}

// writeEvalTable prints one row per file and the total.
func writeEvalTable(w io.Writer, files []evalFile, total eval.Report) error {
	totalName := fmt.Sprintf("total (%d files)", len(files))
	if len(files) == 1 {
		totalName = "total (1 file)"
	}
	// Names are padded to one width so that they read left-aligned in
	// the right-aligned table.
	width := len("file")
	for _, f := range files {
		width = max(width, utf8.RuneCountInString(f.Name))
	}
	width = max(width, len(totalName))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tframes\tref signs\thyp signs\tmF1B\tmF1S\tF1S@0.50\tF1S@0.75\tP(B)\tR(B)\tacc\t\n", width, "file")
	row := func(name string, r eval.Report) {
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", width, name, r.Frames, r.SignsGT, r.SignsPred,
			r.MF1B, r.MF1S, r.F1S[0], r.F1S[1], r.MeanPrecisionB, r.MeanRecallB, r.Acc)
	}
	for _, f := range files {
		row(f.Name, f.Report)
	}
	row(totalName, total)
	return tw.Flush()
}

// evalJSON is the --json output.
type evalJSON struct {
	// Protocol is the --frames setting: "reference" (the reference's
	// extent) or "video" (the paper's whole-video protocol).
	Protocol string        `json:"protocol"`
	FPS      float64       `json:"fps"`
	RefTiers []string      `json:"ref_tiers"`
	HypTier  string        `json:"hyp_tier,omitempty"`
	Baseline string        `json:"baseline,omitempty"`
	Files    []fileMetrics `json:"files"`
	Skipped  []skippedFile `json:"skipped,omitempty"` // videos too short for --frames video
	Total    metricsJSON   `json:"total"`
}

// fileMetrics is one file's entry of the --json output.
type fileMetrics struct {
	File       string `json:"file"`
	RefFile    string `json:"ref_file"`
	HypFile    string `json:"hyp_file,omitempty"`
	FirstFrame int    `json:"first_frame"` // the first evaluated frame, at fps
	// VideoFrames is the video's frame count at fps (--frames video).
	VideoFrames int `json:"video_frames,omitempty"`
	metricsJSON
}

// metricsJSON is eval.Report with "ref" for the reference and "hyp"
// for the hypothesis. Percentages are unrounded except where the paper
// rounds (mf1b, mf1s, sign F1, mean boundary precision and recall).
type metricsJSON struct {
	Files          int             `json:"files"`
	Frames         int             `json:"frames"`
	MF1B           float64         `json:"mf1b"`
	MF1S           float64         `json:"mf1s"`
	F1S50          float64         `json:"f1s_50"`
	F1S75          float64         `json:"f1s_75"`
	PrecisionB     float64         `json:"boundary_precision"`
	RecallB        float64         `json:"boundary_recall"`
	Acc            float64         `json:"frame_accuracy"`
	IoU            float64         `json:"mean_iou"`
	Dist           float64         `json:"mean_boundary_distance"`
	WidthBHyp      float64         `json:"boundary_width_hyp"`
	WidthBRef      float64         `json:"boundary_width_ref"`
	BoundariesHyp  int             `json:"boundaries_hyp"`
	BoundariesRef  int             `json:"boundaries_ref"`
	SignsHyp       int             `json:"signs_hyp"`
	SignsRef       int             `json:"signs_ref"`
	BoundaryScores []thresholdJSON `json:"boundary"`
	SignScores     []thresholdJSON `json:"sign"`
}

// thresholdJSON is one threshold's counts and scores.
type thresholdJSON struct {
	Threshold float64 `json:"threshold"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

func toMetricsJSON(r eval.Report) metricsJSON {
	m := metricsJSON{
		Files: r.Videos, Frames: r.Frames, MF1B: r.MF1B, MF1S: r.MF1S, F1S50: r.F1S[0], F1S75: r.F1S[1],
		PrecisionB: r.MeanPrecisionB, RecallB: r.MeanRecallB, Acc: r.Acc, IoU: r.IoU, Dist: r.Dist,
		WidthBHyp: r.WidthBPred, WidthBRef: r.WidthBGT,
		BoundariesHyp: r.BoundariesPred, BoundariesRef: r.BoundariesGT, SignsHyp: r.SignsPred, SignsRef: r.SignsGT,
	}
	conv := func(s eval.ThresholdScore) thresholdJSON {
		return thresholdJSON{Threshold: s.Threshold, TP: s.TP, FP: s.FP, FN: s.FN, Precision: s.Precision, Recall: s.Recall, F1: s.F1}
	}
	for _, s := range r.Boundary {
		m.BoundaryScores = append(m.BoundaryScores, conv(s))
	}
	for _, s := range r.Sign {
		m.SignScores = append(m.SignScores, conv(s))
	}
	return m
}

func writeEvalJSON(w io.Writer, files []evalFile, skipped []skippedFile, total eval.Report, opt evalOptions) error {
	out := evalJSON{Protocol: opt.frames, FPS: opt.fps, RefTiers: opt.refTiers, Baseline: opt.baseline, Skipped: skipped, Total: toMetricsJSON(total)}
	if opt.baseline == "" {
		out.HypTier = opt.hypTier
	}
	for _, f := range files {
		fm := fileMetrics{File: f.Name, RefFile: f.RefPath, FirstFrame: f.First, VideoFrames: f.VideoFrames, metricsJSON: toMetricsJSON(f.Report)}
		if opt.baseline == "" {
			fm.HypFile = f.HypPath
		}
		out.Files = append(out.Files, fm)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// plotFile draws one file's figure. The probability curve needs the model
// (ONNX Runtime and ffmpeg: errors) and the video: when the linked video
// cannot be found or read, the figure is drawn without the curve and a
// warning says why, so that a linguist without the video still sees the
// segments. A video named with --media, or searched for with --media-dir,
// must work.
func plotFile(ctx context.Context, c *cli.Context, path string, f evalFile, opt evalOptions) error {
	fig := evalFigure(f, opt)
	e, err := newEngine(c, 0)
	if err != nil {
		return err
	}
	defer e.close()
	media := c.String("media")
	dirs, err := mediaDirsFrom(c)
	if err != nil {
		return err
	}
	curve, err := e.boundaryCurve(ctx, f.hypDoc, media, dirs, f.First, f.Frames, opt.fps, f.ShiftMS)
	switch {
	case err == nil:
		fig.Curve, fig.Threshold = curve, *e.seg.Decoding().Threshold
	case ctx.Err() != nil:
		return ctx.Err()
	case media != "" || dirs != nil:
		// The user said where the video is: not finding it is an error.
		return err
	default:
		fmt.Fprintf(c.App.ErrWriter, "%s: warning: %s: plotting without the boundary probability: %s\n", programName, f.Name, oneLine(err))
	}
	return fig.WriteFile(path)
}

// evalFigure is the figure of one file without the curve: the reference
// and hypothesis signs as the metrics see them (sign runs of the labels).
func evalFigure(f evalFile, opt evalOptions) *plot.Figure {
	runs := func(labels []int) []plot.Span {
		var out []plot.Span
		for _, r := range eval.SignRuns(labels) {
			out = append(out, plot.Span{Start: r.Start, End: r.End})
		}
		return out
	}
	hypLabel := "hypothesis (" + opt.hypTier + ")"
	if opt.baseline != "" {
		hypLabel = opt.baseline + " baseline"
	}
	title := fmt.Sprintf("%s: mF1B %.2f, mF1S %.2f", filepath.Base(f.Name), f.Report.MF1B, f.Report.MF1S)
	if opt.frames == framesVideo {
		title += " (whole video)"
	}
	return &plot.Figure{
		Title: title, Frames: f.Frames, FPS: opt.fps, FirstFrame: f.First,
		Rows: []plot.Row{
			{Label: "reference (" + strings.Join(opt.refTiers, "+") + ")", Spans: runs(f.Video.GT)},
			{Label: hypLabel, Spans: runs(f.Video.Pred)},
		},
	}
}

// boundaryCurve runs the model on the video doc links (or media) and
// returns its per-frame boundary score resampled onto the evaluated
// frames first … first+n−1 at fps, in label time: EAF time plus shiftMS
// (media time is EAF time plus the descriptor's TIME_ORIGIN); frames the
// video does not cover are NaN.
func (e *engine) boundaryCurve(ctx context.Context, doc *eaf.Document, media string, dirs *eaf.MediaDirs, first, n int, fps float64, shiftMS int64) ([]float64, error) {
	var origin int64
	r, rerr := doc.ResolveVideo(eaf.ResolveOptions{MediaDirs: dirs})
	rerr = withMediaAdvice(rerr)
	if rerr == nil {
		origin = r.Descriptor.TimeOrigin
	}
	video := media
	if video == "" {
		if rerr != nil {
			return nil, rerr
		}
		video = r.Path
	}
	res, err := e.run(ctx, video, nil)
	if err != nil {
		return nil, err
	}
	if len(res.Boundary) == 0 {
		return nil, errors.New(video + ": no frames decoded")
	}
	curve := make([]float64, n)
	for f := range curve {
		mediaMS := float64(first+f)*1000/fps - float64(shiftMS) + float64(origin)
		i := int(math.Round((mediaMS - res.StartMS) / 1000 * res.FPS))
		if i >= 0 && i < len(res.Boundary) {
			curve[f] = float64(res.Boundary[i])
		} else {
			curve[f] = math.NaN()
		}
	}
	return curve, nil
}
