package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// testFigure has a curve that is 1 on frames [100, 110) and 0 elsewhere,
// and two rows whose spans leave a 3-frame gap at 100–103.
func testFigure() *Figure {
	curve := make([]float64, 250)
	for i := 100; i < 110; i++ {
		curve[i] = 1
	}
	return &Figure{
		Title: "a <test> & more: mF1B 70.00, mF1S 28.57", Frames: 250, FPS: 25, FirstFrame: 8, Curve: curve, Threshold: 0.5,
		Rows: []Row{
			{Label: "reference", Spans: []Span{{0, 50}, {50, 100}, {103, 250}}},
			{Label: "hypothesis", Spans: []Span{{10, 100}, {103, 200}}},
		},
	}
}

// render draws f as WritePNG does and returns the image and the layout.
func render(t *testing.T, f *Figure) (image.Image, layout) {
	t.Helper()
	w, h := f.Size()
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	lay, err := f.draw(draw.New(c))
	if err != nil {
		t.Fatal(err)
	}
	return c.Image(), lay
}

// pixels maps figure coordinates (points, origin bottom left) to PNG
// pixels.
type pixels struct {
	f      *Figure
	lay    layout
	height int
}

func (p pixels) px(x vg.Length) int { return int(x.Dots(DPI)) }
func (p pixels) py(y vg.Length) int { return p.height - 1 - int(y.Dots(DPI)) }

// frameX is the x of the left edge of frame i.
func (p pixels) frameX(i float64) vg.Length {
	r := p.lay.rows
	return r.Min.X + vg.Length(i/float64(p.f.Frames))*(r.Max.X-r.Min.X)
}

// rowY is the y of the centre of row i.
func (p pixels) rowY(i int) vg.Length {
	r, n := p.lay.rows, len(p.f.Rows)
	return r.Min.Y + vg.Length((float64(n-i)-0.5)/float64(n))*(r.Max.Y-r.Min.Y)
}

// curveY is the y of curve value v.
func (p pixels) curveY(v float64) vg.Length {
	c := p.lay.curve
	return c.Min.Y + vg.Length(v)*(c.Max.Y-c.Min.Y)
}

func rgba(c color.Color) color.RGBA { return color.RGBAModel.Convert(c).(color.RGBA) }

// near reports whether two colours differ by at most d per channel.
func near(a, b color.RGBA, d int) bool {
	diff := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return diff(a.R, b.R) <= d && diff(a.G, b.G) <= d && diff(a.B, b.B) <= d
}

// findNear reports whether a pixel within r pixels of (x, y) has about
// colour c (lines are anti-aliased).
func findNear(img image.Image, x, y, r int, c color.RGBA) bool {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if near(rgba(img.At(x+dx, y+dy)), c, 24) {
				return true
			}
		}
	}
	return false
}

func assertNotBlank(t *testing.T, img image.Image) {
	t.Helper()
	colours := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colours[rgba(img.At(x, y))]++
		}
	}
	total := b.Dx() * b.Dy()
	bg := colours[color.RGBA{255, 255, 255, 255}]
	if len(colours) < 6 || total-bg < total/20 {
		t.Fatalf("image looks blank: %d colours, %d of %d pixels not background", len(colours), total-bg, total)
	}
}

func TestPNG(t *testing.T) {
	f := testFigure()
	var buf bytes.Buffer
	if err := f.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	// 150 dpi = 5906 pixels per metre, in a pHYs chunk right after IHDR.
	if phys := buf.Bytes()[33:54]; !bytes.Equal(phys[:17], []byte("\x00\x00\x00\x09pHYs\x00\x00\x17\x12\x00\x00\x17\x12\x01")) {
		t.Errorf("no 150 dpi pHYs chunk after IHDR: % x", phys)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w, h := f.PixelSize()
	if w != DefaultWidth*DPI || h < 500 || h > 700 {
		t.Fatalf("PixelSize() = %d×%d; want %d px wide (8 in at 150 dpi)", w, h, int(DefaultWidth*DPI))
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("image is %v, want %d×%d", b, w, h)
	}
	assertNotBlank(t, img)
	ref, lay := render(t, f)
	if ref.Bounds() != img.Bounds() {
		t.Fatalf("render gives %v", ref.Bounds())
	}
	p := pixels{f: f, lay: lay, height: h}
	// The two panels share the time axis.
	if lay.curve.Min.X != lay.rows.Min.X || lay.curve.Max.X != lay.rows.Max.X || lay.curve.Min.Y <= lay.rows.Max.Y {
		t.Fatalf("panels not aligned: curve %v, rows %v", lay.curve, lay.rows)
	}
	fills := []struct {
		what  string
		frame float64
		row   int
		want  color.RGBA
	}{
		{"ref span 0", 25, 0, RowColour(0)},
		{"ref span 1", 75, 0, RowColour(0)},
		{"ref gap", 101.5, 0, color.RGBA{255, 255, 255, 255}},
		{"ref span 2", 200, 0, RowColour(0)},
		{"hyp before first span", 5, 1, color.RGBA{255, 255, 255, 255}},
		{"hyp span 0", 50, 1, RowColour(1)},
		{"hyp span 1", 150, 1, RowColour(1)},
		{"hyp after last span", 221, 1, color.RGBA{255, 255, 255, 255}},
	}
	for _, c := range fills {
		x, y := p.px(p.frameX(c.frame)), p.py(p.rowY(c.row))
		if got := rgba(img.At(x, y)); got != c.want {
			t.Errorf("%s: pixel (%d, %d) is %v, want %v", c.what, x, y, got, c.want)
		}
		if got := rgba(ref.At(x, y)); got != c.want {
			t.Errorf("%s: rendered pixel (%d, %d) is %v, want %v", c.what, x, y, got, c.want)
		}
	}
	// Touching spans are set apart by a thin white line at frame 50 (a
	// lighter column, anti-aliased).
	x, y := p.px(p.frameX(50)), p.py(p.rowY(0))
	lighter := false
	for dx := -1; dx <= 1; dx++ {
		if c := rgba(img.At(x+dx, y)); int(c.R) > int(RowColour(0).R)+60 {
			lighter = true
		}
	}
	if !lighter {
		t.Errorf("no separator between touching reference spans at (%d, %d)", x, y)
	}
	curve := []struct {
		what      string
		frame, v  float64
		want      bool
		tolerance int
	}{
		{"curve high at frame 105", 105.5, 1, true, 3},
		{"curve low at frame 20", 20.5, 0, true, 3},
		{"no curve above frame 20", 20.5, 0.75, false, 3},
		{"no curve below frame 105", 105.5, 0.25, false, 3},
	}
	for _, c := range curve {
		x, y := p.px(p.frameX(c.frame)), p.py(p.curveY(c.v))
		if got := findNear(img, x, y, c.tolerance, CurveColour()); got != c.want {
			t.Errorf("%s: curve colour near (%d, %d): %v, want %v", c.what, x, y, got, c.want)
		}
	}
	// The threshold line is dashed: red on part of its row, not all.
	red, all := 0, 0
	y = p.py(p.curveY(0.5))
	for x := p.px(lay.curve.Min.X) + 2; x < p.px(lay.curve.Max.X)-2; x++ {
		all++
		if findNear(img, x, y, 1, ThresholdColour()) {
			red++
		}
	}
	if red < all/4 || red > all*9/10 {
		t.Errorf("threshold line: %d of %d columns red, want a dashed line", red, all)
	}
}

// svgDoc is the part of an SVG file the tests look at.
type svgDoc struct {
	Width  string `xml:"width,attr"`
	Height string `xml:"height,attr"`
	Paths  []struct {
		D     string `xml:"d,attr"`
		Style string `xml:"style,attr"`
	} `xml:"g>path"`
	Texts []string `xml:"g>text"`
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatalf("SVG does not parse: %v\n%.2000s", err, data)
	}
	return d
}

// hexFill is how the SVG writes a fill colour.
func hexFill(c color.RGBA) string { return fmt.Sprintf("fill:#%02X%02X%02X", c.R, c.G, c.B) }

// countStyle counts the paths whose style contains s.
func (d svgDoc) countStyle(s string) int {
	n := 0
	for _, p := range d.Paths {
		if strings.Contains(p.Style, s) {
			n++
		}
	}
	return n
}

func TestSVG(t *testing.T) {
	f := testFigure()
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, buf.Bytes())
	w, h := f.Size()
	if d.Width != fmt.Sprintf("%gpt", float64(w)) || d.Height != fmt.Sprintf("%gpt", float64(h)) {
		t.Errorf("SVG size %s × %s, want %v × %v pt", d.Width, d.Height, w, h)
	}
	text := strings.Join(d.Texts, "|")
	for _, want := range []string{f.Title, "P(boundary)", "time (s)", "reference", "hypothesis", "threshold 0.5", "0.5", "|1|", "|2|", "|10|"} {
		if !strings.Contains("|"+text+"|", want) {
			t.Errorf("SVG lacks the text %q; texts: %q", want, d.Texts)
		}
	}
	// Bars: one path per row, its spans as subpaths, plus the legend's
	// swatch.
	for i, want := range []int{3, 2} {
		var bars []string
		for _, p := range d.Paths {
			if strings.Contains(p.Style, hexFill(RowColour(i))) {
				bars = append(bars, p.D)
			}
		}
		if len(bars) != 2 || strings.Count(bars[0], "M") != want {
			t.Errorf("row %d: paths %q, want %d bars and a swatch", i, bars, want)
		}
	}
	c := CurveColour()
	if n := d.countStyle(fmt.Sprintf("stroke:#%02X%02X%02X", c.R, c.G, c.B)); n != 1+1 {
		t.Errorf("%d curve paths, want the curve and its legend line", n)
	}
	if strings.Contains(buf.String(), "-8000000000000000") {
		t.Error("SVG has an invalid colour")
	}
	if buf.Len() > 50_000 {
		t.Errorf("SVG of 10 s is %d bytes", buf.Len())
	}
}

func TestPDF(t *testing.T) {
	var buf bytes.Buffer
	if err := testFigure().WritePDF(&buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(data), []byte("%%EOF")) {
		t.Fatalf("not a PDF: %.40q … %q", data, data[max(len(data)-20, 0):])
	}
	// One page, its fonts embedded (a paper's PDF must embed them).
	if n := bytes.Count(data, []byte("/Type /Page\n")); n != 1 {
		t.Errorf("%d pages", n)
	}
	if !bytes.Contains(data, []byte("/FontFile")) {
		t.Error("fonts are not embedded")
	}
	if len(data) < 5_000 || len(data) > 1_000_000 {
		t.Errorf("PDF is %d bytes", len(data))
	}
}

func TestTimeTicks(t *testing.T) {
	labels := func(lo, hi float64, n int) []string {
		var l []string
		for _, tk := range (timeTicks{maxLabels: n}).Ticks(lo, hi) {
			if tk.Label != "" {
				l = append(l, tk.Label)
			}
		}
		return l
	}
	tests := []struct {
		lo, hi float64
		n      int
		want   string
	}{
		{0.32, 10.32, 12, "1 2 3 4 5 6 7 8 9 10"},
		{0.32, 4.72, 12, "0.5 1 1.5 2 2.5 3 3.5 4 4.5"},
		{0, 0.2, 12, "0 0.04 0.08 0.12 0.16 0.2"},
		{0, 3600, 12, "0 300 600 900 1200 1500 1800 2100 2400 2700 3000 3300 3600"},
		{0, 3600, 8, "0 600 1200 1800 2400 3000 3600"},
		{100, 160, 4, "105 120 135 150"},
	}
	for _, tc := range tests {
		if got := strings.Join(labels(tc.lo, tc.hi, tc.n), " "); got != tc.want {
			t.Errorf("ticks %v–%v s, at most %d: %q, want %q", tc.lo, tc.hi, tc.n, got, tc.want)
		}
	}
}

func TestCurveDecimationAndGaps(t *testing.T) {
	// An hour at 25 fps: a one-frame spike survives, the curve breaks at
	// a stretch without values, and the SVG stays small.
	n := 90000
	curve := make([]float64, n)
	curve[45000] = 1
	for i := 1000; i < 2000; i++ {
		curve[i] = math.NaN()
	}
	f := &Figure{Frames: n, FPS: 25, Curve: curve}
	xmin, xmax := f.seconds(0), f.seconds(float64(n))
	parts := f.curveParts(xmin, xmax)
	if len(parts) != 2 || !parts[0].band || !parts[1].band {
		t.Fatalf("%d parts, want 2 bands (split at the NaN run)", len(parts))
	}
	w, _ := f.Size()
	points, spike := 0, false
	for _, part := range parts {
		points += len(part.pts)
		// A band is its maxima left to right, then its minima back.
		h := len(part.pts) / 2
		for i := range h {
			hi, lo := part.pts[i], part.pts[len(part.pts)-1-i]
			if hi.X != lo.X || hi.Y < lo.Y || (i > 0 && hi.X <= part.pts[i-1].X) {
				t.Fatalf("band point %d: max %v, min %v", i, hi, lo)
			}
			if hi.Y == 1 {
				spike = true
				if want := 45000.5 / 25; math.Abs(hi.X-want) > 2*3600/w.Points() {
					t.Errorf("spike drawn at %.1f s, want about %.1f s", hi.X, want)
				}
			}
		}
	}
	if !spike || points > 2*int(w.Points())+2 {
		t.Fatalf("spike drawn: %v; %d points for %v pt of width", spike, points, w.Points())
	}
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 200_000 {
		t.Fatalf("SVG of an hour is %d bytes", buf.Len())
	}
	// The spike is drawn in the PNG too.
	img, lay := render(t, f)
	_, h := f.PixelSize()
	p := pixels{f: f, lay: lay, height: h}
	if x, y := p.px(p.frameX(45000.5)), p.py(p.curveY(1)); !findNear(img, x, y, 3, CurveColour()) {
		t.Errorf("no spike near (%d, %d) in the PNG", x, y)
	}
	// A lone value between NaNs becomes a short stroke; a short curve is
	// drawn point by point at frame centres.
	f = &Figure{Frames: 4, FPS: 25, Curve: []float64{math.NaN(), 0.5, math.NaN(), 0.25}}
	parts = f.curveParts(0, 4.0/25)
	if len(parts) != 2 || parts[0].band || len(parts[0].pts) != 2 || parts[0].pts[0].X != 1.5/25 || parts[0].pts[1].Y != 0.5 || parts[1].pts[0].X != 3.5/25 {
		t.Fatalf("parts %+v", parts)
	}
}

func TestNoCurve(t *testing.T) {
	f := testFigure()
	f.Curve = nil
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, buf.Bytes())
	c := CurveColour()
	if n := d.countStyle(fmt.Sprintf("stroke:#%02X%02X%02X", c.R, c.G, c.B)); n != 0 {
		t.Errorf("%d curve paths without a curve", n)
	}
	if strings.Contains(strings.Join(d.Texts, "|"), "P(boundary)|threshold") || len(f.legendLabels()) != 3 {
		t.Errorf("legend %q: the curve has no entry without a curve", f.legendLabels())
	}
	if d.countStyle(hexFill(RowColour(0))) != 2 {
		t.Error("no bars without a curve")
	}
}

func TestLegendWraps(t *testing.T) {
	f := testFigure()
	_, h1 := f.Size()
	if n := len(f.legendLines(DefaultWidth * vg.Inch)); n != 1 {
		t.Fatalf("%d legend lines for short labels", n)
	}
	f.Rows[0].Label = "reference (RH-IDgloss+LH-IDgloss)"
	f.Rows[1].Label = "hypothesis (signseg-signs, a long tier name)"
	_, h2 := f.Size()
	if n := len(f.legendLines(DefaultWidth * vg.Inch)); n < 2 || math.Abs(float64(h2-h1-vg.Length(n-1)*legendHeight*vg.Inch)) > 1e-9 {
		t.Fatalf("%d legend lines, height %v → %v", n, h1, h2)
	}
	img, _ := render(t, f)
	assertNotBlank(t, img)
	// Nothing is drawn beyond the right edge of the data area but the
	// legend: the legend's text stays inside the image (its last column is
	// white).
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		if got := rgba(img.At(b.Max.X-1, y)); got != (color.RGBA{255, 255, 255, 255}) {
			t.Fatalf("pixel (%d, %d) at the right edge is %v", b.Max.X-1, y, got)
		}
	}
	// The row labels start inside the image too.
	for y := b.Min.Y; y < b.Max.Y; y++ {
		if got := rgba(img.At(0, y)); got != (color.RGBA{255, 255, 255, 255}) {
			t.Fatalf("pixel (0, %d) at the left edge is %v", y, got)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	f := testFigure()
	magic := map[string]string{"p.png": "\x89PNG", "p.SVG": "<?xml", "p.pdf": "%PDF-"}
	for name, m := range magic {
		path := filepath.Join(dir, name)
		if err := f.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte(m)) || len(data) < 5000 {
			t.Errorf("%s: %d bytes starting %.8q", name, len(data), data)
		}
	}
	if err := f.WriteFile(filepath.Join(dir, "p.jpg")); err == nil || !strings.Contains(err.Error(), ".png, .svg or .pdf") {
		t.Fatalf("unknown extension: %v", err)
	}
	// A figure that fails to draw leaves an existing file as it was.
	before, err := os.ReadFile(filepath.Join(dir, "p.png"))
	if err != nil {
		t.Fatal(err)
	}
	bad := *f
	bad.Frames = 0
	if err := bad.WriteFile(filepath.Join(dir, "p.png")); err == nil {
		t.Fatal("bad figure: no error")
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "p.png")); !bytes.Equal(after, before) {
		t.Error("a failed write changed the existing plot")
	}
	if err := f.WriteFile(filepath.Join(dir, "missing", "p.png")); err == nil {
		t.Fatal("missing folder: no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("%d files left in the folder, want 3", len(entries))
	}
}

func TestFigureErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Figure)
		want string
	}{
		{"no frames", func(f *Figure) { f.Frames = 0 }, "at least one frame"},
		{"fps", func(f *Figure) { f.FPS = 0 }, "frame rate"},
		{"fps inf", func(f *Figure) { f.FPS = math.Inf(1) }, "frame rate"},
		{"first frame", func(f *Figure) { f.FirstFrame = -1 }, "first frame"},
		{"narrow", func(f *Figure) { f.Width = 2 }, "width"},
		{"curve value", func(f *Figure) { f.Curve[3] = 1.5 }, "not in [0, 1]"},
		{"span", func(f *Figure) { f.Rows[0].Spans[0] = Span{5, 2} }, "start ≤ end"},
	}
	for _, tc := range tests {
		f := testFigure()
		tc.edit(f)
		for _, format := range []Format{PNG, SVG, PDF} {
			if err := f.Write(&bytes.Buffer{}, format); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (%s): %v, want %q", tc.name, format, err, tc.want)
			}
		}
	}
	if err := testFigure().Write(&bytes.Buffer{}, "gif"); err == nil {
		t.Error("unknown format: no error")
	}
}

// hourFigure is an hour at 25 fps with signs every 30 frames.
func hourFigure() *Figure {
	n := 90000
	curve := make([]float64, n)
	var ref []Span
	for i := 0; i < n; i += 30 {
		curve[i] = 0.9
		ref = append(ref, Span{i + 2, i + 28})
	}
	return &Figure{Frames: n, FPS: 25, Curve: curve, Threshold: 0.5, Rows: []Row{{Label: "ref", Spans: ref}, {Label: "hyp", Spans: ref}}}
}

func BenchmarkPNGHour(b *testing.B) {
	f := hourFigure()
	for b.Loop() {
		if err := f.WritePNG(&bytes.Buffer{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSVGHour(b *testing.B) {
	f := hourFigure()
	for b.Loop() {
		if err := f.WriteSVG(&bytes.Buffer{}); err != nil {
			b.Fatal(err)
		}
	}
}
