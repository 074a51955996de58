package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/decode"
)

// benchCommand measures the clip-feature paths side by side on one video:
// the PyTorch reference (when available), the plain per-clip ONNX path, the
// exact tuned paths and each fast option, with the deviation each
// introduces against the exact result.
func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure clips/s of the exact and fast feature paths and the deviation of the fast ones",
		Description: "Runs every variant on the same video, interleaved round by round so that a shared\n" +
			"machine's load hits all of them alike, and prints median clips/s (end to end: decoding,\n" +
			"I3D, MS-TCN, decoding of boundaries), the ratio to the plain per-clip path, and for each\n" +
			"variant its feature cosine / max abs difference and boundary-probability difference\n" +
			"against the exact result. Needs a model with a clip model and a temporal model, e.g. one\n" +
			"made by `signseg model import`. Example:\n\n" +
			"  signseg bench --model bslcp --seconds 4 --rounds 3",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "model name or folder (an imported I3D + MS-TCN model)"},
			&cli.StringFlag{Name: "video", Usage: "video to run on (default: a generated synthetic signer)"},
			&cli.Float64Flag{Name: "seconds", Value: 4, Usage: "length of the generated video in seconds"},
			&cli.StringFlag{Name: "size", Value: "640x360", Usage: "frame size of the generated video, WxH"},
			&cli.IntFlag{Name: "rounds", Value: 3, Usage: "timed runs of every variant (medians are reported)"},
			&cli.IntFlag{Name: "threads", Usage: "CPU threads for the model (default: all cores)"},
			&cli.StringFlag{Name: "every", Value: "2,4,8", Usage: "fast options to measure: features every k clips, comma-separated (empty: none)"},
			&cli.BoolFlag{Name: "pytorch", Value: true, Usage: "measure the PyTorch reference when /usr/bin/python3 has torch"},
			&cli.StringFlag{Name: "pytorch-script", Value: filepath.Join("scripts", "fixtures", "make_fixtures.py"), Usage: "the PyTorch reference model definition (from the source tree)"},
		},
		Action:       benchAction,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageError{err} },
	}
}

// benchVariant is one way of running the model.
type benchVariant struct {
	name  string
	opts  segment.Options
	seg   *segment.Segmenter
	times []float64 // seconds per run
	feat  *segment.Features
	res   *segment.Result
}

func benchAction(c *cli.Context) error {
	ctx := c.Context
	w := c.App.Writer
	if c.String("model") == "" {
		return usagef("bench: give --model, an I3D + MS-TCN model (signseg model import)")
	}
	rounds := c.Int("rounds")
	if rounds < 1 {
		return usagef("--rounds %d: give at least 1", rounds)
	}
	var every []int
	if s := strings.TrimSpace(c.String("every")); s != "" {
		for _, f := range strings.Split(s, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || k < 2 {
				return usagef("--every %q: give whole numbers ≥ 2, comma-separated", s)
			}
			every = append(every, k)
		}
	}
	threads := c.Int("threads")
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if _, err := initRuntime(c); err != nil {
		return err
	}
	tools, err := media.FindTools()
	if err != nil {
		return err
	}
	m, err := segment.LoadModel(c.String("model"), modelsDir(c))
	if err != nil {
		return err
	}
	if m.Temporal == nil {
		return usagef("--model %s has no temporal model; the benchmark compares boundary probabilities, so give an I3D + MS-TCN model (signseg model import)", m.Name)
	}

	video := c.String("video")
	if video == "" {
		var wd, ht int
		if _, err := fmt.Sscanf(c.String("size"), "%dx%d", &wd, &ht); err != nil || wd < 16 || ht < 16 {
			return usagef("--size %q: give WxH, e.g. 640x360", c.String("size"))
		}
		dir, err := os.MkdirTemp("", "signseg-bench-")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		video = filepath.Join(dir, "signer.mp4")
		if err := renderBenchVideo(ctx, tools.FFmpeg.Path, video, c.Float64("seconds"), wd, ht); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "signseg bench: model %s (%s), %d threads of %d cores, %s, %d rounds\n",
		m.Name, m.Description, threads, runtime.NumCPU(), runtime.GOARCH, rounds)
	fmt.Fprintf(w, "load average at start: %s\n", loadAverage())

	if c.Bool("pytorch") {
		fmt.Fprintf(w, "%s\n", pytorchReference(ctx, c.String("pytorch-script"), threads, rounds))
	} else {
		fmt.Fprintf(w, "pytorch reference: skipped (--pytorch=false)\n")
	}

	variants := []*benchVariant{
		// The plain export as ONNX Runtime runs it out of the box: one clip
		// per call, default spinning, decoding in the same goroutine.
		{name: "plain per-clip (batch 1, sequential decode)", opts: segment.Options{BatchSize: 1, Prefetch: -1, Runtime: ortsession.Options{Spinning: true}}},
		// signseg's default: the model's batch, decode overlapped, no spinning.
		{name: "exact default (model batch, overlapped decode)", opts: segment.Options{}},
		{name: "exact tuned (batch 1, overlapped, spinning)", opts: segment.Options{BatchSize: 1, Runtime: ortsession.Options{Spinning: true}}},
	}
	for _, k := range every {
		variants = append(variants, &benchVariant{name: fmt.Sprintf("fast: features every %d clips", k), opts: segment.Options{FeatureEvery: k}})
	}
	var notes []string
	// The GPU path: measured when the library has CUDA, else a note.
	cuda := &benchVariant{name: "exact CUDA (GPU 0)", opts: segment.Options{Runtime: ortsession.Options{Provider: ortsession.ProviderCUDA}}}
	variants = append(variants, cuda)
	defer func() {
		for _, v := range variants {
			if v.seg != nil {
				v.seg.Close()
			}
		}
	}()
	kept := variants[:0]
	for _, v := range variants {
		v.opts.Runtime.Threads = threads
		seg, err := segment.NewSegmenter(m, v.opts)
		if err != nil {
			if v == cuda {
				notes = append(notes, fmt.Sprintf("%s: skipped: %v", v.name, err))
				continue
			}
			return err
		}
		v.seg = seg
		kept = append(kept, v)
	}
	variants = kept
	// One untimed call per variant, so that session start-up costs (first
	// allocations, thread pools) do not land in the first timed run.
	for _, v := range variants {
		if err := v.warmUp(ctx, m); err != nil {
			return fmt.Errorf("bench %s: warm-up: %w", v.name, err)
		}
	}

	var frames int
	for r := 0; r < rounds; r++ {
		for _, v := range variants {
			t0 := time.Now()
			f, res, err := v.run(ctx, tools, m, video)
			if err != nil {
				return fmt.Errorf("bench %s: %w", v.name, err)
			}
			v.times = append(v.times, time.Since(t0).Seconds())
			if v.feat == nil {
				v.feat, v.res = f, res
			}
			frames = res.Frames
		}
	}
	clips := max(frames-m.Features.ClipLength+1, 1)
	fmt.Fprintf(w, "video: %s, %d frames = %d clips of %d frames\n", video, frames, clips, m.Features.ClipLength)
	fmt.Fprintf(w, "load average at end:   %s\n", loadAverage())
	writeBenchTable(w, variants, clips)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	if kb, ok := peakRSS(); ok {
		fmt.Fprintf(w, "peak RSS of this process: %.0f MiB (all variants' sessions together)\n", float64(kb)/1024)
	}
	return nil
}

// run segments the video once: features, then the temporal model and
// boundary decoding.
func (v *benchVariant) run(ctx context.Context, tools media.Tools, m *segment.Model, video string) (*segment.Features, *segment.Result, error) {
	stream, err := tools.Open(ctx, video, v.seg.Preprocess())
	if err != nil {
		return nil, nil, err
	}
	defer stream.Close()
	f, err := v.seg.Features(ctx, stream, stream.ExpectedFrames(), nil)
	if err != nil {
		return nil, nil, err
	}
	res, err := v.seg.SegmentFeatures(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	return f, res, nil
}

// warmUp runs the clip model once on one batch of blank frames.
func (v *benchVariant) warmUp(ctx context.Context, m *segment.Model) error {
	n := m.Features.ClipLength + max(v.opts.BatchSize, m.Features.BatchSize, 1) - 1
	_, err := v.seg.Features(ctx, &blankFrames{n: n}, n, nil)
	return err
}

// blankFrames is a source of n zero frames.
type blankFrames struct{ i, n int }

func (b *blankFrames) ReadFrame(dst []float32) (media.Frame, error) {
	if b.i == b.n {
		return media.Frame{}, io.EOF
	}
	clear(dst)
	b.i++
	return media.Frame{Index: b.i - 1, Data: dst}, nil
}

// writeBenchTable prints speed and deviation against the first variant
// (plain, exact).
func writeBenchTable(w io.Writer, variants []*benchVariant, clips int) {
	if len(variants) == 0 {
		return
	}
	ref := variants[0]
	base := float64(clips) / median(ref.times)
	fmt.Fprintf(w, "\n%-48s %8s %7s  %-22s %9s %9s %9s %9s %s\n", "variant (end to end)", "clips/s", "×plain", "runs (s)", "feat cos", "feat |Δ|", "rel |Δ|", "prob |Δ|", "boundary decisions")
	for _, v := range variants {
		rate := float64(clips) / median(v.times)
		runs := make([]string, len(v.times))
		for i, t := range v.times {
			runs[i] = strconv.FormatFloat(t, 'f', 1, 64)
		}
		d := compareRuns(ref, v)
		fmt.Fprintf(w, "%-48s %8.3f %6.2f×  %-22s %9.6f %9.2e %9.2e %9.2e %d of %d frames changed, %d→%d boundaries\n",
			v.name, rate, rate/base, strings.Join(runs, " "), d.minCos, d.featMax, d.featMax/d.featScale, d.probMax, d.changed, len(v.res.Boundary), d.refBounds, d.bounds)
	}
	fmt.Fprintf(w, "\nfeat cos: the lowest per-frame cosine similarity of the feature vectors; |Δ|: max abs difference;\n"+
		"rel |Δ|: feat |Δ| over the largest |feature|; all against the first row (exact).\n"+
		"Boundary decisions: frames whose boundary/sign label differs.\n")
}

// benchDiff is the deviation of one variant from the reference.
type benchDiff struct {
	minCos, featMax, probMax float64
	featScale                float64 // max |feature| of the reference
	changed                  int
	refBounds, bounds        int
}

func compareRuns(ref, v *benchVariant) benchDiff {
	d := benchDiff{minCos: 1, refBounds: len(ref.res.Boundaries), bounds: len(v.res.Boundaries)}
	a, b := ref.feat, v.feat
	if a.Dim == b.Dim && len(a.Data) == len(b.Data) {
		for r := 0; r < a.Rows(); r++ {
			x, y := a.Data[r*a.Dim:(r+1)*a.Dim], b.Data[r*b.Dim:(r+1)*b.Dim]
			var xy, xx, yy float64
			for i := range x {
				xy += float64(x[i]) * float64(y[i])
				xx += float64(x[i]) * float64(x[i])
				yy += float64(y[i]) * float64(y[i])
				d.featMax = math.Max(d.featMax, math.Abs(float64(x[i])-float64(y[i])))
				d.featScale = math.Max(d.featScale, math.Abs(float64(x[i])))
			}
			cos := 1.0
			if xx > 0 && yy > 0 {
				cos = xy / math.Sqrt(xx*yy)
			}
			d.minCos = math.Min(d.minCos, cos)
		}
	} else {
		d.minCos, d.featMax = math.NaN(), math.NaN()
	}
	p, q := ref.res.Boundary, v.res.Boundary
	la, lb := boundaryMask(ref.res.Boundaries, len(p)), boundaryMask(v.res.Boundaries, len(q))
	for i := range min(len(p), len(q)) {
		d.probMax = math.Max(d.probMax, math.Abs(float64(p[i])-float64(q[i])))
		if la[i] != lb[i] {
			d.changed++
		}
	}
	return d
}

// boundaryMask marks the frames inside boundary spans.
func boundaryMask(spans []decode.FrameSpan, n int) []bool {
	m := make([]bool, n)
	for _, s := range spans {
		for f := max(s.Start, 0); f < min(s.End, n); f++ {
			m[f] = true
		}
	}
	return m
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// renderBenchVideo writes a synthetic signer of about seconds at 25 fps.
func renderBenchVideo(ctx context.Context, ffmpeg, path string, seconds float64, wd, ht int) error {
	if !(seconds > 0) {
		return usagef("--seconds %v: give a positive length", seconds)
	}
	// A sign plus hold is about 24 frames on average; lead and tail 10 each.
	signs := max(1, int(math.Round((seconds*25-20)/24)))
	if _, err := synth.Render(ctx, ffmpeg, path, synth.Options{Seed: 1, Width: wd, Height: ht, Signs: signs}); err != nil {
		return fmt.Errorf("bench: generate video: %w", err)
	}
	return nil
}

// pytorchScript is run by /usr/bin/python3: the reference InceptionI3d of
// the fixtures script, batch 1, timed per clip after one warm-up. Weights
// are random (speed does not depend on them).
const pytorchScript = `
import os, statistics, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[1])))
import torch
import make_fixtures as m
torch.set_num_threads(int(sys.argv[2]))
model = m.InceptionI3d(981).eval()
x = torch.from_numpy(m.i3d_input(1))
with torch.no_grad():
    model.features(x)
    ts = []
    for _ in range(int(sys.argv[3])):
        t0 = time.perf_counter()
        model.features(x)
        ts.append(time.perf_counter() - t0)
print(torch.__version__, statistics.median(ts), " ".join("%.2f" % t for t in ts))
`

// pytorchReference returns one line: the PyTorch reference's clips/s, or
// why it was skipped.
func pytorchReference(ctx context.Context, script string, threads, reps int) string {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(script); err != nil {
		return fmt.Sprintf("pytorch reference: skipped (%s not found: run from the source tree or give --pytorch-script)", script)
	}
	if err := exec.CommandContext(ctx, python, "-c", "import torch").Run(); err != nil {
		return fmt.Sprintf("pytorch reference: skipped (%s has no torch: apt-get install python3-torch)", python)
	}
	out, err := exec.CommandContext(ctx, python, "-c", pytorchScript, script, strconv.Itoa(threads), strconv.Itoa(reps)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return fmt.Sprintf("pytorch reference: failed: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return fmt.Sprintf("pytorch reference: unexpected output %q", out)
	}
	sec, err := strconv.ParseFloat(f[1], 64)
	if err != nil || sec <= 0 {
		return fmt.Sprintf("pytorch reference: unexpected output %q", out)
	}
	return fmt.Sprintf("pytorch reference (torch %s, model only, batch 1, %d threads): %.3f clips/s (median of runs %s s)",
		f[0], threads, 1/sec, strings.Join(f[2:], " "))
}

// loadAverage returns /proc/loadavg's first three fields, or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// peakRSS reads VmHWM, the process's peak resident set, on Linux.
func peakRSS() (kb int, ok bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, found := strings.CutPrefix(line, "VmHWM:"); found {
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb, true
			}
		}
	}
	return 0, false
}
