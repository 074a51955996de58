package plot

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testFigure has a curve that is 1 on frames [100, 110) and 0 elsewhere,
// and two rows whose spans leave a 3-frame gap at 100–103.
func testFigure() *Figure {
	curve := make([]float64, 250)
	for i := 100; i < 110; i++ {
		curve[i] = 1
	}
	return &Figure{
		Title: "a <test> & more", Frames: 250, FPS: 25, Curve: curve, Threshold: 0.5,
		Rows: []Row{
			{Label: "ref", Spans: []Span{{0, 50}, {50, 100}, {103, 250}}},
			{Label: "hyp", Spans: []Span{{10, 100}, {103, 200}}},
		},
	}
}

func TestPNG(t *testing.T) {
	f := testFigure()
	var buf bytes.Buffer
	if err := f.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w, h := f.Size()
	if w != DefaultWidth || h != titleHeight+curveHeight+axisHeight+2*(rowHeight+rowGap)+rowGap {
		t.Fatalf("Size() = %d×%d", w, h)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("image is %v, want %d×%d", b, w, h)
	}
	g := f.geometry()
	at := func(x, y float64) color.RGBA {
		r, gg, b, a := img.At(int(x), int(y)).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(gg >> 8), uint8(b >> 8), uint8(a >> 8)}
	}
	rowMid := func(i int) float64 { return g.rowTop(i) + rowHeight/2 }
	checks := []struct {
		what string
		x, y float64
		want color.RGBA
	}{
		{"curve high at frame 105", g.x(105.5), g.y(1), colCurve},
		{"curve low at frame 20", g.x(20.5), g.y(0), colCurve},
		{"no curve above frame 20", g.x(20.5), g.y(0.75), colBackground},
		{"ref span 0", g.x(25), rowMid(0), RowColours(0)[0]},
		{"ref span 1", g.x(75), rowMid(0), RowColours(0)[1]},
		{"ref gap", g.x(101.5), rowMid(0), colBackground},
		{"ref span 2", g.x(200), rowMid(0), RowColours(0)[0]},
		{"hyp before first span", g.x(5), rowMid(1), colBackground},
		{"hyp span 0", g.x(50), rowMid(1), RowColours(1)[0]},
		{"hyp span 1", g.x(150), rowMid(1), RowColours(1)[1]},
		{"hyp after last span", g.x(221), rowMid(1), colBackground},
	}
	for _, c := range checks {
		if got := at(c.x, c.y); got != c.want {
			t.Errorf("%s: pixel (%.0f, %.0f) is %v, want %v", c.what, c.x, c.y, got, c.want)
		}
	}
	// The threshold line is dashed: some red pixels on its row, not all.
	red := 0
	for x := int(g.x0); x < int(g.x1); x++ {
		if at(float64(x), g.y(0.5)) == colThreshold {
			red++
		}
	}
	if span := int(g.x1 - g.x0); red < span/2 || red > span*3/4 {
		t.Errorf("threshold line: %d red pixels of %d", red, span)
	}
	assertNotBlank(t, img)
}

// assertNotBlank checks that an image has text, curve and segments: many
// non-background pixels in several colours.
func assertNotBlank(t *testing.T, img image.Image) {
	t.Helper()
	colours := map[color.Color]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colours[img.At(x, y)]++
		}
	}
	total := b.Dx() * b.Dy()
	bg := colours[colBackground]
	if len(colours) < 6 || total-bg < total/20 {
		t.Fatalf("image looks blank: %d colours, %d of %d pixels not background", len(colours), total-bg, total)
	}
}

// svgDoc is the part of an SVG file the tests look at.
type svgDoc struct {
	Width     string                            `xml:"width,attr"`
	Height    string                            `xml:"height,attr"`
	Rects     []struct{ X, Width, Fill string } `xml:"rect"`
	Polylines []struct {
		Points string `xml:"points,attr"`
	} `xml:"polyline"`
	Texts []string `xml:"text"`
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatalf("SVG does not parse: %v\n%s", err, data)
	}
	return d
}

// points parses a polyline's points.
func points(t *testing.T, s string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, p := range strings.Fields(s) {
		x, y, ok := strings.Cut(p, ",")
		xf, err1 := strconv.ParseFloat(x, 64)
		yf, err2 := strconv.ParseFloat(y, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad point %q", p)
		}
		out = append(out, [2]float64{xf, yf})
	}
	return out
}

func TestSVG(t *testing.T) {
	f := testFigure()
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, buf.Bytes())
	w, h := f.Size()
	if d.Width != strconv.Itoa(w) || d.Height != strconv.Itoa(h) {
		t.Fatalf("SVG size %s×%s, want %d×%d", d.Width, d.Height, w, h)
	}
	if len(d.Rects) != 1+3+2 { // background and the five spans
		t.Fatalf("%d rects, want 6", len(d.Rects))
	}
	if len(d.Polylines) != 1 {
		t.Fatalf("%d polylines, want 1", len(d.Polylines))
	}
	pts := points(t, d.Polylines[0].Points)
	if len(pts) != 250 {
		t.Fatalf("curve has %d points, want one per frame", len(pts))
	}
	g := f.geometry()
	for i, p := range pts {
		want := g.y(f.Curve[i])
		if math.Abs(p[0]-g.x(float64(i)+0.5)) > 0.01 || math.Abs(p[1]-want) > 0.01 {
			t.Fatalf("point %d = %v, want (%.2f, %.2f)", i, p, g.x(float64(i)+0.5), want)
		}
	}
	if !strings.Contains(strings.Join(d.Texts, "|"), "a <test> & more|") {
		t.Fatalf("title not found among texts %q", d.Texts)
	}
}

// TestTimeAxis checks the tick labels and positions when the figure
// starts mid-video: frames 130–379 at 25 fps are 5.2–15.2 s, ticked
// every second from 6 s.
func TestTimeAxis(t *testing.T) {
	f := testFigure()
	f.FirstFrame = 130
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Texts []struct {
			X    string `xml:"x,attr"`
			Text string `xml:",chardata"`
		} `xml:"text"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	g := f.geometry()
	var ticks []string
	for _, tx := range d.Texts {
		sec, err := strconv.Atoi(tx.Text)
		if err != nil {
			continue
		}
		ticks = append(ticks, tx.Text)
		x, _ := strconv.ParseFloat(tx.X, 64)
		centre := x + float64(textWidth(tx.Text))/2
		if want := g.x(float64(sec*25 - 130)); math.Abs(centre-want) > 0.01 {
			t.Errorf("tick %s s centred at x %.2f, want %.2f", tx.Text, centre, want)
		}
	}
	if got := strings.Join(ticks, " "); got != "6 7 8 9 10 11 12 13 14 15" {
		t.Errorf("ticks %q", got)
	}
}

func TestCurveDecimationAndGaps(t *testing.T) {
	// An hour at 25 fps: one spike must survive, and the SVG stays small.
	n := 90000
	curve := make([]float64, n)
	curve[45000] = 1
	for i := 1000; i < 2000; i++ {
		curve[i] = math.NaN() // no value: the curve breaks
	}
	f := &Figure{Frames: n, FPS: 25, Curve: curve}
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 200_000 {
		t.Fatalf("SVG of an hour is %d bytes", buf.Len())
	}
	d := parseSVG(t, buf.Bytes())
	if len(d.Polylines) != 2 {
		t.Fatalf("%d polylines, want 2 (split at the NaN run)", len(d.Polylines))
	}
	g := f.geometry()
	spike := false
	for _, pl := range d.Polylines {
		for _, p := range points(t, pl.Points) {
			if math.Abs(p[1]-g.y(1)) < 0.01 {
				spike = true
				if want := g.x(45000); math.Abs(p[0]-want) > 1 {
					t.Errorf("spike drawn at x %.2f, want about %.2f", p[0], want)
				}
			}
		}
	}
	if !spike {
		t.Fatal("the one-frame spike is not drawn")
	}
	img, err := f.Image()
	if err != nil {
		t.Fatal(err)
	}
	if got := img.RGBAAt(int(g.x(45000)), int(g.y(1))); got != colCurve {
		t.Fatalf("PNG spike pixel is %v", got)
	}
}

func TestNoCurve(t *testing.T) {
	f := testFigure()
	f.Curve = nil
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	if d := parseSVG(t, buf.Bytes()); len(d.Polylines) != 0 || len(d.Rects) != 6 {
		t.Fatalf("%d polylines, %d rects", len(d.Polylines), len(d.Rects))
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	f := testFigure()
	for _, name := range []string{"p.png", "p.SVG"} {
		path := filepath.Join(dir, name)
		if err := f.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".png") {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			assertNotBlank(t, img)
		} else {
			parseSVG(t, data)
		}
	}
	if err := f.WriteFile(filepath.Join(dir, "p.jpg")); err == nil || !strings.Contains(err.Error(), ".png or .svg") {
		t.Fatalf("unknown extension: %v", err)
	}
	// a figure that fails to draw leaves the existing file as it was
	before, err := os.ReadFile(filepath.Join(dir, "p.png"))
	if err != nil {
		t.Fatal(err)
	}
	bad := testFigure()
	bad.Frames = 0
	if err := bad.WriteFile(filepath.Join(dir, "p.png")); err == nil {
		t.Fatal("an invalid figure was written")
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "p.png")); !bytes.Equal(after, before) {
		t.Error("a failed write changed the existing plot")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d files left in the folder, want 2", len(entries))
	}
}

func TestFigureErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Figure)
		want string
	}{
		{"no frames", func(f *Figure) { f.Frames = 0 }, "0 frames"},
		{"no fps", func(f *Figure) { f.FPS = 0 }, "frame rate"},
		{"curve out of range", func(f *Figure) { f.Curve[3] = 1.5 }, "frame 3"},
		{"bad span", func(f *Figure) { f.Rows[1].Spans[0] = Span{5, 2} }, `row "hyp"`},
		{"too narrow", func(f *Figure) { f.Width = 50 }, "too small"},
		{"negative first frame", func(f *Figure) { f.FirstFrame = -1 }, "first frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testFigure()
			tc.edit(f)
			for _, write := range []func(*bytes.Buffer) error{
				func(b *bytes.Buffer) error { return f.WritePNG(b) },
				func(b *bytes.Buffer) error { return f.WriteSVG(b) },
			} {
				var buf bytes.Buffer
				if err := write(&buf); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.want)
				}
			}
		})
	}
}

func TestGlyphs(t *testing.T) {
	for r, g := range glyphs {
		if len(g) != glyphW*glyphH || strings.Trim(g, "#.") != "" {
			t.Errorf("glyph %q is %q: want %d cells of '#' or '.'", r, g, glyphW*glyphH)
		}
	}
	for _, r := range "0123456789abcdefghijklmnopqrstuvwxyz.:-()/ " {
		if _, ok := glyphs[r]; !ok {
			t.Errorf("no glyph for %q", r)
		}
	}
}

func TestTickStep(t *testing.T) {
	for _, tc := range []struct{ dur, max, want float64 }{
		{0.4, 12, 0.04},
		{10, 12, 1},
		{10, 4, 5},
		{60, 12, 5},
		{3600, 12, 300},
		{100000, 12, 10800},
	} {
		if got := tickStep(tc.dur, tc.max); got != tc.want {
			t.Errorf("tickStep(%v, %v) = %v, want %v", tc.dur, tc.max, got, tc.want)
		}
	}
}

// TestLongLabels checks that the plot moves right to fit long row labels
// and that the PNG text then lies inside the image.
func TestLongLabels(t *testing.T) {
	f := testFigure()
	long := "rh-idgloss+lh-idgloss+signseg-signs"
	f.Rows[0].Label = long
	g := f.geometry()
	if want := float64(textWidth(long) + 16); g.x0 != want {
		t.Fatalf("plot starts at x %v, want %v", g.x0, want)
	}
	img, err := f.Image()
	if err != nil {
		t.Fatal(err)
	}
	// The label's first glyph 'r' has its top-left cell set.
	top := int(g.rowTop(0) + (rowHeight-5*fontScale)/2)
	if got := img.RGBAAt(8, top); got != colText {
		t.Fatalf("label's first pixel is %v, want text colour", got)
	}
	f.Width = 300
	if err := f.WriteSVG(new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Fatalf("narrow figure with a long label: %v", err)
	}
}

// hourFigure is an hour at 25 fps with a noisy curve and 1800 segments
// per row.
func hourFigure() *Figure {
	n := 90000
	curve := make([]float64, n)
	for i := range curve {
		curve[i] = float64(i*7919%1000) / 1000
	}
	f := &Figure{Frames: n, FPS: 25, Curve: curve, Threshold: 0.5, Rows: make([]Row, 2)}
	for r := range f.Rows {
		for s := 0; s < n; s += 50 {
			f.Rows[r].Spans = append(f.Rows[r].Spans, Span{s + r, s + 45})
		}
	}
	return f
}

func BenchmarkPNGHour(b *testing.B) {
	f := hourFigure()
	for b.Loop() {
		var buf bytes.Buffer
		if err := f.WritePNG(&buf); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len()), "bytes/file")
	}
}

func BenchmarkSVGHour(b *testing.B) {
	f := hourFigure()
	for b.Loop() {
		var buf bytes.Buffer
		if err := f.WriteSVG(&buf); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len()), "bytes/file")
	}
}
