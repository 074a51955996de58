package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/plot"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/eval"
)

// evalCLI runs signseg in-process without --ort-lib: evaluation without
// --plot needs neither ONNX Runtime nor ffmpeg.
func evalCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"signseg"}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// namedTier is a tier to write into a test EAF.
type namedTier struct {
	id   string
	segs [][2]int64 // ms
}

// writeEAF saves an EAF linking a (possibly missing) video, with the tiers.
func writeEAF(t *testing.T, path string, tiers ...namedTier) {
	t.Helper()
	doc, err := eaf.New(eaf.NewOptions{VideoPath: strings.TrimSuffix(path, ".eaf") + ".mp4", EAFPath: path, Author: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tier := range tiers {
		spec := eaf.TierSpec{ID: tier.id, Annotator: "JD"}
		for _, s := range tier.segs {
			spec.Segments = append(spec.Segments, eaf.Segment{Start: s[0], End: s[1], Value: "X"})
		}
		if _, err := doc.AddTier(spec); err != nil {
			t.Fatal(err)
		}
	}
	if err := doc.Save(path, eaf.SaveOptions{NoBackup: true}); err != nil {
		t.Fatal(err)
	}
}

func parseEvalJSON(t *testing.T, stdout string) evalJSON {
	t.Helper()
	var out evalJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, stdout)
	}
	return out
}

// tableRow is one parsed row of the table: the name and the 10 numbers.
type tableRow struct {
	name string
	nums []string
}

// parseTable reads the table: a header, then rows whose last 10 fields are
// numbers (the name may contain spaces).
func parseTable(t *testing.T, stdout string) []tableRow {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) < 3 || !strings.Contains(lines[0], "mF1B") {
		t.Fatalf("table has no header or rows:\n%s", stdout)
	}
	var rows []tableRow
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 11 {
			t.Fatalf("short table row %q", l)
		}
		rows = append(rows, tableRow{name: strings.Join(f[:len(f)-10], " "), nums: f[len(f)-10:]})
	}
	return rows
}

// tableCells formats metrics as the table should show them.
func tableCells(m metricsJSON) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	return []string{strconv.Itoa(m.Frames), strconv.Itoa(m.SignsRef), strconv.Itoa(m.SignsHyp),
		f(m.MF1B), f(m.MF1S), f(m.F1S50), f(m.F1S75), f(m.PrecisionB), f(m.RecallB), f(m.Acc)}
}

// checkTableMatchesJSON runs the same evaluation with and without --json
// and checks that every table cell is the JSON value.
func checkTableMatchesJSON(t *testing.T, args ...string) evalJSON {
	t.Helper()
	table, stderr, code := evalCLI(t, args...)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	js, stderr, code := evalCLI(t, append([]string{args[0], "--json"}, args[1:]...)...)
	if code != 0 {
		t.Fatalf("eval --json: exit %d: %s", code, stderr)
	}
	out := parseEvalJSON(t, js)
	rows := parseTable(t, table)
	if len(rows) != len(out.Files)+1 {
		t.Fatalf("%d table rows for %d files", len(rows), len(out.Files))
	}
	for i, r := range rows {
		m, name := out.Total, fmt.Sprintf("total (%d files)", len(out.Files))
		if len(out.Files) == 1 {
			name = "total (1 file)"
		}
		if i < len(out.Files) {
			m, name = out.Files[i].metricsJSON, out.Files[i].File
		}
		if r.name != name || !reflect.DeepEqual(r.nums, tableCells(m)) {
			t.Errorf("table row %q %v, JSON %q %v", r.name, r.nums, name, tableCells(m))
		}
	}
	return out
}

// knownFiles writes the two files whose scores are worked out by hand in
// TestEvalKnownNumbers.
func knownFiles(t *testing.T, dir string) (a, b string) {
	ref := [][2]int64{{200, 520}, {520, 1000}} // frames 5, 13, 25
	a, b = filepath.Join(dir, "a.eaf"), filepath.Join(dir, "b.eaf")
	writeEAF(t, a, namedTier{"gloss", ref}, namedTier{"signseg-signs", [][2]int64{{200, 720}, {720, 1000}}}) // frames 5, 18, 25
	writeEAF(t, b, namedTier{"gloss", ref}, namedTier{"signseg-signs", ref})
	return a, b
}

// TestEvalKnownNumbers checks the command against scores worked out by
// hand at 25 fps. Each file is scored over the reference's extent, frames
// 5–25 (21 frames); below, frames are counted from 5.
//
// Reference labels: boundaries at 0, 8, 20; dilated on the whole video,
// then cut: 0–1, 7–9, 19–20 (positions 1, 8.5, 20); signs [1,8) [9,20).
//
// a.eaf: hypothesis boundaries 0, 13, 20 (positions 0.5, 13.5, 20.5):
// matched distances 0.5, 0.5, 5, so TP 2 FP 1 FN 1 at every threshold:
// F1 66.67, mF1B 66.67. Signs [1,13) [14,20): IoUs 7/12, 6/11: TP 2 at
// 0.40–0.50, 1 at 0.55, 0 above, so F1 100 ×3, 50, 0 ×4: mF1S 43.75.
// Accuracy 15/21 (6 frames differ from the dilated labels).
//
// b.eaf: the hypothesis is the reference: 100/100, accuracy 17/21.
//
// Total: boundaries TP 5 FP 1 FN 1: 83.33; signs TP 4, 3, 2: F1 100 ×3,
// 75, 50 ×4: mF1S 71.875; accuracy 32/42.
//
// Uniform baseline: one span [200, 1000] ms with 2 reference sign runs:
// cuts at 200, 600, 1000 ms, boundaries 0, 10, 20 (distances 0.5, 2,
// 0.5): F1 66.67 at 1 frame, 100 at 2–4: mF1B 91.67; signs [1,10)
// [11,20), IoUs 7/9, 9/11, both above 0.75: mF1S 100; accuracy 15/21.
func TestEvalKnownNumbers(t *testing.T) {
	a, b := knownFiles(t, t.TempDir())
	out := checkTableMatchesJSON(t, "eval", "--ref", "gloss", a, b)
	if out.Protocol != "reference" || out.FPS != 25 || !reflect.DeepEqual(out.RefTiers, []string{"gloss"}) || out.HypTier != "signseg-signs" || out.Baseline != "" {
		t.Fatalf("settings %+v", out)
	}
	type want struct {
		frames, signsRef, signsHyp int
		mf1b, mf1s, f1s50, f1s75   float64
		acc                        float64
		boundaryTP, signTP         []int
	}
	check := func(name string, m metricsJSON, w want) {
		t.Helper()
		close := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
		if m.Frames != w.frames || m.SignsRef != w.signsRef || m.SignsHyp != w.signsHyp ||
			!close(m.MF1B, w.mf1b) || !close(m.MF1S, w.mf1s) || !close(m.F1S50, w.f1s50) || !close(m.F1S75, w.f1s75) ||
			!close(m.Acc, w.acc) {
			t.Errorf("%s: got %+v\nwant %+v", name, m, w)
		}
		var btp, stp []int
		for _, s := range m.BoundaryScores {
			btp = append(btp, s.TP)
		}
		for _, s := range m.SignScores {
			stp = append(stp, s.TP)
		}
		if !reflect.DeepEqual(btp, w.boundaryTP) || !reflect.DeepEqual(stp, w.signTP) {
			t.Errorf("%s: TP per threshold %v %v, want %v %v", name, btp, stp, w.boundaryTP, w.signTP)
		}
	}
	check("a.eaf", out.Files[0].metricsJSON, want{21, 2, 2, 66.67, 43.75, 100, 0, 100 * 15.0 / 21, []int{2, 2, 2, 2}, []int{2, 2, 2, 1, 0, 0, 0, 0}})
	check("b.eaf", out.Files[1].metricsJSON, want{21, 2, 2, 100, 100, 100, 100, 100 * 17.0 / 21, []int{3, 3, 3, 3}, []int{2, 2, 2, 2, 2, 2, 2, 2}})
	check("total", out.Total, want{42, 4, 4, 83.33, 71.875, 100, 50, 100 * 32.0 / 42, []int{5, 5, 5, 5}, []int{4, 4, 4, 3, 2, 2, 2, 2}})
	if out.Files[0].File != a || out.Files[0].RefFile != a || out.Files[0].HypFile != a || out.Files[0].FirstFrame != 5 || out.Total.Files != 2 {
		t.Errorf("file names %+v, total files %d", out.Files[0], out.Total.Files)
	}

	base := checkTableMatchesJSON(t, "eval", "--ref", "gloss", "--baseline", "uniform", a, b)
	if base.Baseline != "uniform" || base.HypTier != "" || base.Files[0].HypFile != "" {
		t.Fatalf("baseline settings %+v", base)
	}
	check("uniform baseline", base.Files[0].metricsJSON, want{21, 2, 2, 91.67, 100, 100, 100, 100 * 15.0 / 21, []int{2, 3, 3, 3}, []int{2, 2, 2, 2, 2, 2, 2, 2}})
}

// TestEvalDirs checks --ref-dir/--hyp-dir against the same files given
// with both tiers in one file.
func TestEvalDirs(t *testing.T) {
	dir := t.TempDir()
	a, b := knownFiles(t, dir)
	same, _, code := evalCLI(t, "eval", "--json", "--ref", "gloss", a, b)
	if code != 0 {
		t.Fatal(code)
	}
	refDir, hypDir := filepath.Join(dir, "ref"), filepath.Join(dir, "hyp")
	os.Mkdir(refDir, 0o755)
	os.Mkdir(hypDir, 0o755)
	for _, p := range []string{a, b} {
		doc, err := eaf.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		split := func(tier string) namedTier {
			anns, err := doc.Annotations(tier)
			if err != nil {
				t.Fatal(err)
			}
			nt := namedTier{id: tier}
			for _, x := range anns {
				nt.segs = append(nt.segs, [2]int64{x.Start, x.End})
			}
			return nt
		}
		writeEAF(t, filepath.Join(refDir, filepath.Base(p)), split("gloss"))
		writeEAF(t, filepath.Join(hypDir, filepath.Base(p)), split("signseg-signs"))
	}
	os.WriteFile(filepath.Join(refDir, "notes.txt"), []byte("not an EAF"), 0o644)
	out := checkTableMatchesJSON(t, "eval", "--ref", "gloss", "--ref-dir", refDir, "--hyp-dir", hypDir)
	want := parseEvalJSON(t, same)
	if !reflect.DeepEqual(out.Total, want.Total) || len(out.Files) != 2 {
		t.Fatalf("folders give %+v\nsame files give %+v", out.Total, want.Total)
	}
	for i, f := range out.Files {
		if f.File != filepath.Base(want.Files[i].File) || f.RefFile != filepath.Join(refDir, f.File) || f.HypFile != filepath.Join(hypDir, f.File) ||
			!reflect.DeepEqual(f.metricsJSON, want.Files[i].metricsJSON) {
			t.Errorf("file %d: %+v", i, f)
		}
	}
	// A missing counterpart is an error naming the file.
	os.Remove(filepath.Join(hypDir, "b.eaf"))
	if _, stderr, code := evalCLI(t, "eval", "--ref", "gloss", "--ref-dir", refDir, "--hyp-dir", hypDir); code != 1 || !strings.Contains(stderr, "b.eaf has no counterpart") {
		t.Fatalf("missing hypothesis file: exit %d: %s", code, stderr)
	}
}

// randomTier returns non-overlapping annotations (ms) with random lengths
// and gaps, touching ones included.
func randomTier(rng *rand.Rand, n int) [][2]int64 {
	var segs [][2]int64
	at := int64(rng.IntN(2000))
	for range n {
		l := int64(1 + rng.IntN(1500))
		segs = append(segs, [2]int64{at, at + l})
		at += l
		if rng.IntN(3) > 0 {
			at += int64(rng.IntN(1000))
		}
	}
	return segs
}

// TestEvalProperties checks, on random files, that a hypothesis equal to
// the reference scores 100/100 in every file and in total, whatever the
// timing (one or two reference tiers, any frame rate), and that the total
// does not depend on the order of the files.
func TestEvalProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	dir := t.TempDir()
	var paths []string
	for i := range 12 {
		p := filepath.Join(dir, fmt.Sprintf("f%02d.eaf", i))
		ref := randomTier(rng, 1+rng.IntN(25))
		writeEAF(t, p, namedTier{"gloss", ref}, namedTier{"copy", ref}, namedTier{"other", randomTier(rng, 1+rng.IntN(25))})
		paths = append(paths, p)
	}
	for _, fps := range []string{"25", "30", "50"} {
		stdout, stderr, code := evalCLI(t, append([]string{"eval", "--json", "--fps", fps, "--ref", "gloss", "--hyp", "copy"}, paths...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		out := parseEvalJSON(t, stdout)
		for _, f := range append(out.Files, fileMetrics{File: "total", metricsJSON: out.Total}) {
			if f.MF1B != 100 || f.MF1S != 100 || f.SignsHyp != f.SignsRef {
				t.Errorf("%s at %s fps: hypothesis = reference scores mF1B %v mF1S %v (%d of %d signs)", f.File, fps, f.MF1B, f.MF1S, f.SignsHyp, f.SignsRef)
			}
		}
	}
	// Two reference tiers: the hypothesis is the merged reference only
	// if it has the same frame labels, so compare both ways round instead:
	// scores against two tiers do not depend on the tiers' order.
	one, _, _ := evalCLI(t, append([]string{"eval", "--json", "--ref", "gloss,other", "--hyp", "copy"}, paths...)...)
	two, _, _ := evalCLI(t, append([]string{"eval", "--json", "--ref", "other,gloss", "--hyp", "copy"}, paths...)...)
	o1, o2 := parseEvalJSON(t, one), parseEvalJSON(t, two)
	if !reflect.DeepEqual(o1.Total, o2.Total) {
		t.Errorf("--ref gloss,other and other,gloss differ:\n%+v\n%+v", o1.Total, o2.Total)
	}

	// File order.
	args := []string{"eval", "--json", "--ref", "gloss", "--hyp", "other"}
	first, _, code := evalCLI(t, append(args, paths...)...)
	if code != 0 {
		t.Fatal(code)
	}
	want := parseEvalJSON(t, first)
	for range 5 {
		perm := rng.Perm(len(paths))
		shuffled := make([]string, len(paths))
		for i, j := range perm {
			shuffled[i] = paths[j]
		}
		stdout, _, _ := evalCLI(t, append(args, shuffled...)...)
		got := parseEvalJSON(t, stdout)
		if !reflect.DeepEqual(got.Total, want.Total) {
			t.Fatalf("order %v changes the total:\n%+v\nwant\n%+v", perm, got.Total, want.Total)
		}
		for i, j := range perm {
			if !reflect.DeepEqual(got.Files[i], want.Files[j]) {
				t.Fatalf("order %v: file %s scores differently", perm, shuffled[i])
			}
		}
	}
}

func TestEvalUsageAndErrors(t *testing.T) {
	dir := t.TempDir()
	a, b := knownFiles(t, dir)
	empty := filepath.Join(dir, "empty.eaf")
	writeEAF(t, empty, namedTier{"gloss", nil}, namedTier{"signseg-signs", nil})
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"eval", "--help"}, 0, "--baseline"},
		{"no ref", []string{"eval", a}, 2, "--ref TIER"},
		{"no files", []string{"eval", "--ref", "gloss"}, 2, "give one or more .eaf files"},
		{"bad baseline", []string{"eval", "--ref", "gloss", "--baseline", "random", a}, 2, "only baseline is uniform"},
		{"bad fps", []string{"eval", "--ref", "gloss", "--fps", "0", a}, 2, "--fps"},
		{"bad plot name", []string{"eval", "--ref", "gloss", "--plot", "x.jpg", a}, 2, ".png, .svg or .pdf"},
		{"plot of two files", []string{"eval", "--ref", "gloss", "--plot", "x.png", a, b}, 2, "one file; got 2"},
		{"media without plot", []string{"eval", "--ref", "gloss", "--media", "v.mp4", a}, 2, "--media is for --plot or --frames video"},
		{"bad frames", []string{"eval", "--ref", "gloss", "--frames", "all", a}, 2, `--frames "all": give reference`},
		{"frames-total without video", []string{"eval", "--ref", "gloss", "--frames-total", "100", a}, 2, "--frames-total is for --frames video"},
		{"frames-total zero", []string{"eval", "--ref", "gloss", "--frames", "video", "--frames-total", "0", a}, 2, "a positive number"},
		{"media and frames-total", []string{"eval", "--ref", "gloss", "--frames", "video", "--frames-total", "9", "--media", "v.mp4", a}, 2, "not both"},
		{"media of two files", []string{"eval", "--ref", "gloss", "--frames", "video", "--media", "v.mp4", a, b}, 2, "one file; got 2"},
		{"video missing", []string{"eval", "--ref", "gloss", "--frames", "video", a}, 1, "a.mp4"},
		{"video missing: how to go on", []string{"eval", "--ref", "gloss", "--frames", "video", a}, 1, "--frames-total N"},
		{"media missing", []string{"eval", "--ref", "gloss", "--frames", "video", "--media", filepath.Join(dir, "nope.mp4"), a}, 1, "nope.mp4"},
		{"help says when to use which", []string{"eval", "--help"}, 0, "to compare with published numbers"},
		{"hyp-dir alone", []string{"eval", "--ref", "gloss", "--hyp-dir", dir}, 2, "--hyp-dir needs --ref-dir"},
		{"files and ref-dir", []string{"eval", "--ref", "gloss", "--ref-dir", dir, "--hyp-dir", dir, a}, 2, "not both"},
		{"ref-dir alone", []string{"eval", "--ref", "gloss", "--ref-dir", dir}, 2, "--ref-dir needs --hyp-dir"},
		{"missing file", []string{"eval", "--ref", "gloss", filepath.Join(dir, "nope.eaf")}, 1, "nope.eaf"},
		{"missing ref tier", []string{"eval", "--ref", "RH-IDgloss", a}, 1, `a.eaf: no tier "RH-IDgloss" (tiers: gloss, signseg-signs); name an existing tier with --ref`},
		{"missing hyp tier", []string{"eval", "--ref", "gloss", "--hyp", "mine", a}, 1, `no tier "mine"`},
		{"no annotations", []string{"eval", "--ref", "gloss", empty}, 1, "empty.eaf: reference tier gloss has no annotations"},
		{"empty ref-dir", []string{"eval", "--ref", "gloss", "--ref-dir", t.TempDir(), "--baseline", "uniform"}, 1, "no .eaf files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := evalCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("want one error line, got:\n%s", stderr)
			}
		})
	}
}

// TestEvalEndToEnd segments a synthetic signer video with signseg, then
// evaluates the tier against the human one and plots it. The scores are
// checked against the segment package applied to the tiers read back, and
// the plot for its size, its segments and the model's curve.
func TestEvalEndToEnd(t *testing.T) {
	dir := t.TempDir()
	path, _ := fixture(t, dir, "session", 5)
	if _, stderr, code := runCLI(t, "segment", "--quiet", "--model", "motion", path); code != 0 {
		t.Fatalf("segment: exit %d: %s", code, stderr)
	}
	out := checkTableMatchesJSON(t, "eval", "--ref", "gloss", path)

	// The same numbers from the tiers read back.
	doc, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spans := func(tier string) []decode.TimeSpan {
		anns, err := doc.Annotations(tier)
		if err != nil || len(anns) == 0 {
			t.Fatalf("tier %s: %d annotations, %v", tier, len(anns), err)
		}
		var s []decode.TimeSpan
		for _, a := range anns {
			s = append(s, decode.TimeSpan{BeginMS: a.Start, EndMS: a.End})
		}
		return s
	}
	ref, hyp := spans("gloss"), spans("signseg-signs")
	first, n := decode.MSToFrame(ref[0].BeginMS, 25), decode.MSToFrame(ref[len(ref)-1].EndMS, 25)+1
	gt, _ := eval.FrameLabels([][]decode.TimeSpan{ref}, n, 25)
	pred, _ := eval.FrameLabels([][]decode.TimeSpan{hyp}, n, 25)
	v, err := eval.NewVideo("v", pred[first:], gt, first)
	if err != nil {
		t.Fatal(err)
	}
	r, err := eval.Evaluate([]eval.Video{v})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Total, toMetricsJSON(r)) || !reflect.DeepEqual(out.Files[0].metricsJSON, toMetricsJSON(r)) {
		t.Fatalf("eval gives %+v\nthe tiers give %+v", out.Total, toMetricsJSON(r))
	}
	t.Logf("synthetic video: mF1B %.2f mF1S %.2f (%d reference, %d predicted signs)", r.MF1B, r.MF1S, r.SignsGT, r.SignsPred)

	// The plots: PNG (8 in at 150 dpi), SVG and PDF, not blank, with the
	// curve and both rows of segments.
	pngPath, svgPath, pdfPath := filepath.Join(dir, "session.png"), filepath.Join(dir, "session.svg"), filepath.Join(dir, "session.pdf")
	for _, p := range []string{pngPath, svgPath, pdfPath} {
		stdout, stderr, code := runCLI(t, "eval", "--ref", "gloss", "--plot", p, path)
		if code != 0 || strings.Contains(stderr, "warning") || !strings.Contains(stdout, "mF1B") {
			t.Fatalf("--plot %s: exit %d\n%s%s", p, code, stdout, stderr)
		}
	}
	data, err := os.ReadFile(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 8*plot.DPI || b.Dy() < 500 || b.Dy() > 800 {
		t.Fatalf("PNG is %v, want 1200 px wide", b)
	}
	counts := map[color.RGBA]int{}
	curvePixels := 0
	cc := plot.CurveColour()
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			counts[c]++
			if max(absDiff(c.R, cc.R), absDiff(c.G, cc.G), absDiff(c.B, cc.B)) < 30 {
				curvePixels++
			}
		}
	}
	if curvePixels < 300 {
		t.Errorf("the PNG has %d curve pixels", curvePixels)
	}
	for row := range 2 {
		if c := counts[plot.RowColour(row)]; c < 1000 {
			t.Errorf("the PNG has %d segment pixels in row %d", c, row)
		}
	}
	if bg := counts[color.RGBA{255, 255, 255, 255}]; len(counts) < 6 || b.Dx()*b.Dy()-bg < b.Dx()*b.Dy()/20 {
		t.Fatalf("the PNG looks blank: %d colours, %d background pixels", len(counts), bg)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	style := func(kind string, c color.RGBA) []byte {
		return []byte(fmt.Sprintf("%s:#%02X%02X%02X", kind, c.R, c.G, c.B))
	}
	// Per row, one path of bars (a subpath per sign) and a legend swatch.
	if !bytes.Contains(svg, style("stroke", cc)) || bytes.Count(svg, style("fill", plot.RowColour(0))) != 2 ||
		bytes.Count(svg, style("fill", plot.RowColour(1))) != 2 || !bytes.Contains(svg, []byte("time (s)")) {
		t.Fatalf("SVG lacks the curve, the segments or the time axis:\n%.2000s", svg)
	}
	if pdf, err := os.ReadFile(pdfPath); err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 5000 {
		t.Fatalf("PDF: %d bytes, %v", len(pdf), err)
	}

	// Without the video the plot has no curve, and says why; a video
	// named with --media must exist.
	if err := os.Rename(filepath.Join(dir, "session.mp4"), filepath.Join(dir, "moved.mp4")); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "eval", "--ref", "gloss", "--plot", svgPath, path)
	if code != 0 || !strings.Contains(stderr, "warning: "+path+": plotting without the boundary probability") || !strings.Contains(stdout, "mF1B") {
		t.Fatalf("--plot without the video: exit %d\n%s%s", code, stdout, stderr)
	}
	if svg, _ := os.ReadFile(svgPath); bytes.Contains(svg, style("stroke", cc)) || !bytes.Contains(svg, style("fill", plot.RowColour(0))) {
		t.Fatal("the plot without the video has a curve or no segments")
	}
	if _, stderr, code := runCLI(t, "eval", "--ref", "gloss", "--plot", svgPath, "--media", filepath.Join(dir, "nope.mp4"), path); code != 1 || !strings.Contains(stderr, "nope.mp4") {
		t.Fatalf("--media missing: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "eval", "--ref", "gloss", "--plot", svgPath, "--media", filepath.Join(dir, "moved.mp4"), path); code != 0 || stderr != "" {
		t.Fatalf("--media: exit %d: %s", code, stderr)
	}
	if svg, _ := os.ReadFile(svgPath); !bytes.Contains(svg, style("stroke", cc)) {
		t.Fatal("the plot with --media has no curve")
	}
}

// TestEvalCorpus runs eval on every tier of the public EAF corpus: a tier
// scored against itself gets mF1B 100 (and mF1S 100 when its labels have
// signs), the uniform baseline scores without error, and the table always
// matches the JSON.
func TestEvalCorpus(t *testing.T) {
	root := testenv.SharedDir(t, "corpus/eaf")
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".eaf") {
			files = append(files, p)
		}
		return nil
	})
	tiers := 0
	for _, p := range files {
		doc, err := eaf.ReadFile(p)
		if err != nil {
			continue // unreadable corpus files are the eaf package's tests' concern
		}
		for _, tier := range doc.Tiers() {
			if anns, err := doc.Annotations(tier.ID); err != nil || len(anns) == 0 {
				continue
			}
			tiers++
			out := checkTableMatchesJSON(t, "eval", "--ref", tier.ID, "--hyp", tier.ID, p)
			if m := out.Total; m.MF1B != 100 || (m.SignsRef > 0 && m.MF1S != 100) || m.SignsHyp != m.SignsRef {
				t.Errorf("%s tier %s against itself: mF1B %v mF1S %v, %d/%d signs", p, tier.ID, m.MF1B, m.MF1S, m.SignsHyp, m.SignsRef)
			}
			out = checkTableMatchesJSON(t, "eval", "--ref", tier.ID, "--baseline", "uniform", p)
			if m := out.Total; m.MF1B < 0 || m.MF1B > 100 || m.MF1S < 0 || m.MF1S > 100 {
				t.Errorf("%s tier %s: uniform baseline mF1B %v mF1S %v", p, tier.ID, m.MF1B, m.MF1S)
			}
		}
	}
	if tiers < 20 {
		t.Fatalf("only %d tiers with annotations in %d corpus files", tiers, len(files))
	}
	t.Logf("%d tiers in %d files", tiers, len(files))
}

// TestEvalAccExplained: a tier scored against itself gets F1 100 but a
// frame accuracy below 100, because acc (the paper's) compares with the
// reference's widened boundaries; --help must say so. b.eaf's numbers are
// worked out in TestEvalKnownNumbers: 4 of 21 frames are boundary only in
// the widened reference, so acc is 17/21.
func TestEvalAccExplained(t *testing.T) {
	_, b := knownFiles(t, t.TempDir())
	out := checkTableMatchesJSON(t, "eval", "--ref", "gloss", "--hyp", "gloss", b)
	if m := out.Total; m.MF1B != 100 || m.MF1S != 100 || math.Abs(m.Acc-100*17.0/21) > 1e-9 {
		t.Fatalf("a tier against itself: mF1B %v mF1S %v acc %v; want 100, 100, %v", m.MF1B, m.MF1S, m.Acc, 100*17.0/21)
	}
	help, _, code := evalCLI(t, "eval", "--help")
	if code != 0 {
		t.Fatalf("eval --help: exit %d", code)
	}
	text := strings.Join(strings.Fields(help), " ")
	for _, want := range []string{"acc is the paper's frame accuracy", "widened", "below 100 even for a tier scored against itself"} {
		if !strings.Contains(text, want) {
			t.Errorf("eval --help does not explain acc (%q missing):\n%s", want, help)
		}
	}
}

// videoProtocolCase is a case of segment/eval/testdata/video_protocol.json,
// the authors' evaluation code run on frame labels of whole videos (see
// scripts/fixtures/eval_video_protocol.py).
type videoProtocolCase struct {
	Name          string          `json:"name"`
	Frames        int             `json:"frames"`
	Ref           [][][2]int64    `json:"ref"`
	Hyp           [][2]int64      `json:"hyp"`
	Official      *officialScores `json:"official"`
	OfficialError string          `json:"official_error"`
}

// officialScores are the authors' numbers for one video or all; nil is
// NaN there.
type officialScores struct {
	MF1B       float64    `json:"mf1b"`
	MF1S       float64    `json:"mf1s"`
	F1S        [2]float64 `json:"f1s"`
	Acc        float64    `json:"frame_accuracy"`
	PrecisionB *float64   `json:"boundary_precision"`
	RecallB    *float64   `json:"boundary_recall"`
	IoU        *float64   `json:"mean_iou"`
	Dist       float64    `json:"mean_boundary_distance"`
	BTP        []int      `json:"boundary_tp"`
	BFP        []int      `json:"boundary_fp"`
	STP        []int      `json:"sign_tp"`
	SFP        []int      `json:"sign_fp"`
	Frames     int        `json:"frames"`
}

func loadVideoProtocolCases(t *testing.T) ([]videoProtocolCase, officialScores) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "segment", "eval", "testdata", "video_protocol.json"))
	if err != nil {
		t.Fatalf("committed fixture missing: %v", err)
	}
	var f struct {
		Cases []videoProtocolCase `json:"cases"`
		Total officialScores      `json:"total"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases, f.Total
}

// writeCase writes a case's tiers into path, EAF times shiftMS earlier:
// reference tiers gloss and gloss2 (empty unless the case has two),
// hypothesis signseg-signs.
func writeCase(t *testing.T, path string, c videoProtocolCase, shiftMS int64) {
	t.Helper()
	shift := func(segs [][2]int64) [][2]int64 {
		out := make([][2]int64, len(segs))
		for i, s := range segs {
			out[i] = [2]int64{s[0] - shiftMS, s[1] - shiftMS}
		}
		return out
	}
	if len(c.Ref) > 2 {
		t.Fatalf("%s: %d reference tiers", c.Name, len(c.Ref))
	}
	ref := append(slices.Clone(c.Ref), nil, nil)
	writeEAF(t, path, namedTier{"gloss", shift(ref[0])}, namedTier{"gloss2", shift(ref[1])}, namedTier{"signseg-signs", shift(c.Hyp)})
}

// checkOfficialJSON compares one entry of the --json output with the
// authors' numbers to 1e-6; their NaN is our 0, and a NaN mean IoU over
// several videos is not compared (eval leaves such a video out of it).
func checkOfficialJSON(t *testing.T, name string, m metricsJSON, o officialScores, several bool) {
	t.Helper()
	num := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	got := []float64{m.MF1B, m.MF1S, m.F1S50, m.F1S75, m.Acc, m.PrecisionB, m.RecallB, m.Dist}
	want := []float64{o.MF1B, o.MF1S, o.F1S[0], o.F1S[1], o.Acc, num(o.PrecisionB), num(o.RecallB), o.Dist}
	if o.IoU != nil || !several {
		got, want = append(got, m.IoU), append(want, num(o.IoU))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Errorf("%s: mF1B mF1S F1S@.5 F1S@.75 acc P R dist IoU\n got %v\nwant %v (the authors' code)", name, got, want)
			break
		}
	}
	var btp, bfp, stp, sfp []int
	for _, s := range m.BoundaryScores {
		btp, bfp = append(btp, s.TP), append(bfp, s.FP)
	}
	for _, s := range m.SignScores {
		stp, sfp = append(stp, s.TP), append(sfp, s.FP)
	}
	if !reflect.DeepEqual([][]int{btp, bfp, stp, sfp, {m.Frames}}, [][]int{o.BTP, o.BFP, o.STP, o.SFP, {o.Frames}}) {
		t.Errorf("%s: counts %v %v %v %v frames %d, the authors' code %v %v %v %v frames %d", name, btp, bfp, stp, sfp, m.Frames, o.BTP, o.BFP, o.STP, o.SFP, o.Frames)
	}
}

// TestEvalVideoProtocolMatchesOfficial runs eval --frames video through
// EAF tiers and checks every file's numbers and the micro-averaged total
// against the authors' evaluation code on the same frame labels (the
// worked example, predictions outside the reference and at the video's
// edges, no reference boundaries, predictions everywhere, a single frame,
// random files). The frame counts come once from --frames-total and once
// from real videos through ffprobe.
func TestEvalVideoProtocolMatchesOfficial(t *testing.T) {
	cases, total := loadVideoProtocolCases(t)
	dir := t.TempDir()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	var paths []string
	byPath := map[string]videoProtocolCase{}
	var short, crashed string
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("c%02d.eaf", i))
		writeCase(t, p, c, 0)
		byPath[p] = c
		const ref = "gloss,gloss2"

		// One file, with the frame count given.
		stdout, stderr, code := evalCLI(t, "eval", "--json", "--frames", "video", "--frames-total", strconv.Itoa(c.Frames), "--ref", ref, p)
		switch {
		case c.Frames < 16:
			if code != 1 || !strings.Contains(stderr, p+": the video has 12 frames; --frames video scores frames 8 to N−8, as the paper, and needs at least 16; no video left") {
				t.Fatalf("%s: exit %d: %s", c.Name, code, stderr)
			}
			short = p
		case code != 0:
			t.Fatalf("%s: exit %d: %s", c.Name, code, stderr)
		case c.Official == nil:
			// The authors' code raises on predicted boundaries without
			// reference ones: each prediction is a false positive.
			out := parseEvalJSON(t, stdout)
			m := out.Total
			if m.BoundariesRef != 0 || m.BoundariesHyp == 0 || m.BoundaryScores[0].FP != m.BoundariesHyp || m.BoundaryScores[3].TP != 0 || m.MF1B != 0 {
				t.Errorf("%s: %+v", c.Name, m)
			}
			crashed = p
		default:
			out := parseEvalJSON(t, stdout)
			if out.Protocol != "video" || out.Files[0].FirstFrame != 8 || out.Files[0].VideoFrames != c.Frames || len(out.Skipped) != 0 {
				t.Fatalf("%s: settings %+v %+v", c.Name, out, out.Files[0])
			}
			checkOfficialJSON(t, c.Name, out.Files[0].metricsJSON, *c.Official, false)
		}

		// A video of that many frames, linked by the file.
		video := strings.TrimSuffix(p, ".eaf") + ".mp4"
		cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=32x32:r=25",
			"-frames:v", strconv.Itoa(c.Frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", video)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v: %s", err, out)
		}
		if c.Official != nil || c.Frames < 16 {
			paths = append(paths, p)
		}
	}
	if short == "" || crashed == "" {
		t.Fatal("the fixture lacks a too short or a failing case")
	}
	// All files at once, frame counts from the videos: each file and the
	// total as the authors' code gives them; the short video is left out
	// with a warning.
	args := append([]string{"eval", "--frames", "video", "--ref", "gloss,gloss2"}, paths...)
	out := checkTableMatchesJSON(t, args...)
	if out.Protocol != "video" || len(out.Skipped) != 1 || out.Skipped[0].File != short || len(out.Files) != len(paths)-1 {
		t.Fatalf("protocol %q, skipped %+v, %d files", out.Protocol, out.Skipped, len(out.Files))
	}
	for _, f := range out.Files {
		c := byPath[f.File]
		if f.VideoFrames != c.Frames {
			t.Errorf("%s: ffprobe gives %d frames, want %d", c.Name, f.VideoFrames, c.Frames)
		}
		checkOfficialJSON(t, c.Name+" (video)", f.metricsJSON, *c.Official, false)
	}
	checkOfficialJSON(t, "total", out.Total, total, true)
	if _, stderr, _ := evalCLI(t, append([]string{"eval", "--json"}, args[1:]...)...); !strings.Contains(stderr, "warning: "+short+": left out") {
		t.Errorf("no warning for the short video: %s", stderr)
	}
}

// TestEvalProtocols scores the same tiers with both protocols: the
// reference protocol sees only the reference's extent, the video protocol
// the whole video, where the hypothesis's signs outside the reference
// count; the video's TIME_ORIGIN shifts the annotations onto its frames.
func TestEvalProtocols(t *testing.T) {
	cases, _ := loadVideoProtocolCases(t)
	c := cases[1]
	if c.Name != "predictions outside the reference" || c.Official == nil {
		t.Fatalf("fixture case 1 is %q", c.Name)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "outside.eaf")
	writeCase(t, p, c, 0)
	args := []string{"eval", "--json", "--ref", "gloss,gloss2"}
	stdout, stderr, code := evalCLI(t, append(args, p)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ref := parseEvalJSON(t, stdout)
	stdout, stderr, code = evalCLI(t, append(args, "--frames", "video", "--frames-total", "100", p)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	video := parseEvalJSON(t, stdout)
	// Reference protocol: frames 30–70 (the reference's extent), where
	// the hypothesis has its boundary runs 35–36, 50–52 (a 1-frame gap
	// between annotations is a boundary) and 68; the video protocol scores
	// frames 8–92 and adds the runs 10, 20–22, 75 and 90.
	if ref.Protocol != "reference" || ref.Files[0].FirstFrame != 30 || ref.Total.Frames != 41 || ref.Files[0].VideoFrames != 0 {
		t.Errorf("reference protocol: %+v", ref.Files[0])
	}
	if video.Protocol != "video" || video.Files[0].FirstFrame != 8 || video.Total.Frames != 85 || video.Files[0].VideoFrames != 100 {
		t.Errorf("video protocol: %+v", video.Files[0])
	}
	if ref.Total.BoundariesHyp != 3 || video.Total.BoundariesHyp != 7 || video.Total.MF1B >= ref.Total.MF1B {
		t.Errorf("boundaries %d → %d, mF1B %v → %v: the video protocol should add 4 false positives", ref.Total.BoundariesHyp, video.Total.BoundariesHyp, ref.Total.MF1B, video.Total.MF1B)
	}
	checkOfficialJSON(t, c.Name, video.Total, *c.Official, false)

	// TIME_ORIGIN 200: the same annotations 200 ms earlier in EAF time
	// fall on the same frames of the video.
	shifted := filepath.Join(dir, "shifted.eaf")
	writeCase(t, shifted, c, 200)
	data, err := os.ReadFile(shifted)
	if err != nil {
		t.Fatal(err)
	}
	patched := strings.Replace(string(data), "<MEDIA_DESCRIPTOR ", `<MEDIA_DESCRIPTOR TIME_ORIGIN="200" `, 1)
	if patched == string(data) {
		t.Fatal("no MEDIA_DESCRIPTOR to patch")
	}
	if err := os.WriteFile(shifted, []byte(patched), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = evalCLI(t, "eval", "--json", "--ref", "gloss,gloss2", "--frames", "video", "--frames-total", "100", shifted)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkOfficialJSON(t, c.Name+" with TIME_ORIGIN", parseEvalJSON(t, stdout).Total, *c.Official, false)
}

// absDiff is |a − b|.
func absDiff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
