// Package plot draws signseg's evaluation figure with gonum.org/v1/plot:
// a per-frame boundary probability curve over a time axis in seconds, with
// the threshold, and rows of segments (reference, hypothesis) as bars
// underneath on the same time axis, a legend and a title. It writes PNG
// (150 dpi), SVG and PDF from the same drawing.
package plot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/signseg/signseg/internal/atomicfile"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one plot. The x axis covers Frames frames at FPS, the first
// of which is frame FirstFrame of the video; Curve and Rows index frames
// from 0 at the left edge.
type Figure struct {
	Title      string
	Frames     int     // frames on the x axis; must be positive
	FPS        float64 // frame rate, for the time axis in seconds; must be positive
	FirstFrame int     // video frame number at the left edge, for the time axis; ≥ 0
	// Curve holds one value in [0, 1] per frame (shorter is fine; NaN
	// means no value at that frame); nil draws an empty panel, for when
	// no curve is available.
	Curve      []float64
	CurveLabel string  // the curve's axis label and legend entry; "" means "P(boundary)"
	Threshold  float64 // drawn as a dashed line when in (0, 1)
	Rows       []Row   // segment rows under the curve, top to bottom
	// Width is the figure's width in inches; 0 means DefaultWidth. The
	// height follows from the number of rows.
	Width float64
}

// Row is a labelled row of segments.
type Row struct {
	Label string
	Spans []Span
}

// Span is a segment of frames [Start, End).
type Span struct{ Start, End int }

// DefaultWidth is the figure's width in inches when Figure.Width is 0:
// the full text width of a two-column paper page, a little more.
const DefaultWidth = 8.0

// DPI is the resolution of PNG output.
const DPI = 150

// Layout heights, in inches, and font sizes, in points.
const (
	titleHeight  = 0.40
	legendHeight = 0.27
	curveHeight  = 1.9
	rowHeight    = 0.42
	axisHeight   = 0.55 // tick labels and "time (s)" under the rows
	minWidth     = 3.0
	titleSize    = 12
	textSize     = 10
	barFraction  = 0.7 // a bar's share of its row's height
)

// Colours of the figure (Tableau 10, readable in print and by most
// colour-blind readers).
var (
	colText      = color.RGBA{20, 20, 20, 255}
	colGrid      = color.RGBA{220, 220, 220, 255}
	colCurve     = color.RGBA{31, 119, 180, 255}
	colThreshold = color.RGBA{214, 39, 40, 255}
	rowColours   = []color.RGBA{
		{44, 160, 44, 255},  // reference: green
		{255, 127, 14, 255}, // hypothesis: orange
		{148, 103, 189, 255},
		{140, 86, 75, 255},
	}
)

// RowColour returns the colour of row i's bars.
func RowColour(i int) color.RGBA { return rowColours[i%len(rowColours)] }

// CurveColour is the colour of the probability curve.
func CurveColour() color.RGBA { return colCurve }

// ThresholdColour is the colour of the threshold line.
func ThresholdColour() color.RGBA { return colThreshold }

// check validates the figure.
func (f *Figure) check() error {
	if f.Frames <= 0 {
		return fmt.Errorf("plot: %d frames; a plot needs at least one frame", f.Frames)
	}
	if !(f.FPS > 0 && !math.IsInf(f.FPS, 1)) {
		return fmt.Errorf("plot: frame rate %v must be a positive number", f.FPS)
	}
	if f.FirstFrame < 0 {
		return fmt.Errorf("plot: first frame %d must not be negative", f.FirstFrame)
	}
	if f.Width != 0 && !(f.Width >= minWidth && f.Width <= 100) {
		return fmt.Errorf("plot: width %v in is out of range; use %v to 100 inches", f.Width, minWidth)
	}
	for i, v := range f.Curve {
		if !math.IsNaN(v) && !(v >= 0 && v <= 1) {
			return fmt.Errorf("plot: curve value %v at frame %d is not in [0, 1]", v, i)
		}
	}
	for _, r := range f.Rows {
		for _, s := range r.Spans {
			if s.Start < 0 || s.End < s.Start {
				return fmt.Errorf("plot: row %q has a span [%d, %d); spans need 0 ≤ start ≤ end", r.Label, s.Start, s.End)
			}
		}
	}
	return nil
}

// Size returns the figure's size.
func (f *Figure) Size() (w, h vg.Length) {
	width := f.Width
	if width == 0 {
		width = DefaultWidth
	}
	rows := max(len(f.Rows), 1)
	w = vg.Length(width) * vg.Inch
	legend := float64(len(f.legendLines(w))) * legendHeight
	return w, vg.Length(titleHeight+legend+curveHeight+float64(rows)*rowHeight+axisHeight) * vg.Inch
}

// Legend geometry, in points.
const (
	thumbW    = 22
	thumbH    = 9
	legendGap = 5
)

// legendLabels returns the legend's entries: the curve (when it has a
// value), the threshold, the rows.
func (f *Figure) legendLabels() []string {
	var l []string
	for _, v := range f.Curve[:min(len(f.Curve), f.Frames)] {
		if !math.IsNaN(v) {
			l = append(l, f.curveLabel())
			break
		}
	}
	if f.Threshold > 0 && f.Threshold < 1 {
		l = append(l, fmt.Sprintf("threshold %g", f.Threshold))
	}
	for _, r := range f.Rows {
		l = append(l, r.Label)
	}
	return l
}

// legendLines packs the legend's entries (indexes into legendLabels) into
// lines that fit a figure of width w; there is always at least one line.
func (f *Figure) legendLines(w vg.Length) [][]int {
	ts := textStyle(textSize)
	// The legend starts at the data area's left edge, right of the y
	// axis labels: estimated here from the longest row label, with room
	// to spare.
	indent := vg.Points(60)
	for _, r := range f.Rows {
		indent = max(indent, ts.Width(r.Label)+vg.Points(24))
	}
	avail := w - indent - vg.Points(30)
	lines := [][]int{nil}
	var x vg.Length
	for i, l := range f.legendLabels() {
		ew := thumbW + legendGap + ts.Width(l) + 3*legendGap
		if x > 0 && x+ew > avail {
			lines = append(lines, nil)
			x = 0
		}
		lines[len(lines)-1] = append(lines[len(lines)-1], i)
		x += ew
	}
	return lines
}

// curveLabel is the curve's name.
func (f *Figure) curveLabel() string {
	if f.CurveLabel == "" {
		return "P(boundary)"
	}
	return f.CurveLabel
}

// PixelSize returns the size of the PNG in pixels.
func (f *Figure) PixelSize() (w, h int) {
	wl, hl := f.Size()
	return int(math.Ceil(wl.Dots(DPI))), int(math.Ceil(hl.Dots(DPI)))
}

// seconds is the time of the left edge of frame i (from the left edge).
func (f *Figure) seconds(frame float64) float64 {
	return (float64(f.FirstFrame) + frame) / f.FPS
}

// layout is where draw put the two panels' data areas, for tests.
type layout struct {
	curve, rows vg.Rectangle
}

// sans is the figure's typeface, one of the fonts gonum embeds.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// textStyle returns the figure's text style at size pt.
func textStyle(pt vg.Length) text.Style {
	return text.Style{Color: colText, Font: font.From(sans, pt), Handler: gplot.DefaultTextHandler}
}

// newPanel returns a plot with the figure's fonts and an x range.
func newPanel(xmin, xmax float64) *gplot.Plot {
	p := gplot.New()
	p.BackgroundColor = nil // the figure fills its background once
	p.X.Min, p.X.Max = xmin, xmax
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, textSize)
		a.Tick.Label.Font = font.From(sans, textSize)
		a.Label.TextStyle.Color, a.Tick.Label.Color = colText, colText
	}
	return p
}

// draw draws the figure onto c, whose size is f.Size().
func (f *Figure) draw(c draw.Canvas) (layout, error) {
	if err := f.check(); err != nil {
		return layout{}, err
	}
	xmin, xmax := f.seconds(0), f.seconds(float64(f.Frames))
	w, _ := f.Size()
	ticks := timeTicks{maxLabels: max(int(w/vg.Inch*1.5), 3)}

	// The curve panel: probability, threshold, horizontal grid.
	cp := newPanel(xmin, xmax)
	cp.Y.Min, cp.Y.Max = 0, 1
	cp.Y.Label.Text = f.curveLabel()
	cp.Y.Tick.Marker = gplot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25}, {Value: 0.5, Label: "0.5"}, {Value: 0.75}, {Value: 1, Label: "1"}}
	cp.X.Tick.Marker = blankLabels{ticks}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = colGrid, colGrid
	grid.Horizontal.Width, grid.Vertical.Width = vg.Points(0.5), vg.Points(0.5)
	cp.Add(grid)
	var thumbs []gplot.Thumbnailer
	for i, part := range f.curveParts(xmin, xmax) {
		l, err := plotter.NewLine(part.pts)
		if err != nil {
			return layout{}, fmt.Errorf("plot: %w", err)
		}
		l.Color, l.Width = colCurve, vg.Points(1.2)
		if part.band {
			cp.Add(&band{pts: part.pts, style: l.LineStyle})
		} else {
			cp.Add(l)
		}
		if i == 0 {
			thumbs = append(thumbs, l)
		}
	}
	if f.Threshold > 0 && f.Threshold < 1 {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: f.Threshold}, {X: xmax, Y: f.Threshold}})
		if err != nil {
			return layout{}, fmt.Errorf("plot: %w", err)
		}
		l.Color, l.Width, l.Dashes = colThreshold, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
		cp.Add(l)
		thumbs = append(thumbs, l)
	}

	// The segment panel: one row of bars per Row, labelled on the y axis.
	rp := newPanel(xmin, xmax)
	rp.X.Label.Text = "time (s)"
	rp.X.Tick.Marker = ticks
	n := max(len(f.Rows), 1)
	rp.Y.Min, rp.Y.Max = 0, float64(n)
	var rowTicks gplot.ConstantTicks
	for i, r := range f.Rows {
		rowTicks = append(rowTicks, gplot.Tick{Value: float64(n-i) - 0.5, Label: r.Label})
	}
	rp.Y.Tick.Marker = rowTicks
	rp.Y.Tick.Length = 0
	rgrid := plotter.NewGrid()
	rgrid.Vertical.Color, rgrid.Vertical.Width = colGrid, vg.Points(0.5)
	rgrid.Horizontal.Color = nil // no horizontal lines through the rows
	rp.Add(rgrid)
	bars := make([]*rowBars, len(f.Rows))
	for i, r := range f.Rows {
		bars[i] = &rowBars{f: f, spans: r.Spans, y: float64(n-i) - 0.5, colour: RowColour(i)}
		rp.Add(bars[i])
		thumbs = append(thumbs, bars[i])
	}

	// Title and legend strips across the top; the panels below, cropped
	// so that their data areas line up on the time axis.
	w = c.Max.X - c.Min.X
	top := c.Max.Y
	lines := f.legendLines(w)
	legendH := vg.Inch * legendHeight * vg.Length(len(lines))
	titleC := draw.Crop(c, 0, 0, top-c.Min.Y-vg.Inch*titleHeight, 0)
	// gonum measures labels by their advance width; a little margin keeps
	// the first glyph of a long row label inside the image.
	panels := draw.Crop(c, vg.Points(6), 0, 0, -vg.Inch*titleHeight-legendH)
	curveC := draw.Crop(panels, 0, 0, panels.Max.Y-panels.Min.Y-vg.Inch*curveHeight, 0)
	rowsC := draw.Crop(panels, 0, 0, 0, -vg.Inch*curveHeight)
	dc, dr := cp.DataCanvas(curveC), rp.DataCanvas(rowsC)
	left := max(dc.Min.X-curveC.Min.X, dr.Min.X-rowsC.Min.X)
	right := max(curveC.Max.X-dc.Max.X, rowsC.Max.X-dr.Max.X, vg.Points(12))
	curveC = draw.Crop(curveC, left-(dc.Min.X-curveC.Min.X), -(right - (curveC.Max.X - dc.Max.X)), 0, 0)
	rowsC = draw.Crop(rowsC, left-(dr.Min.X-rowsC.Min.X), -(right - (rowsC.Max.X - dr.Max.X)), 0, 0)

	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	cp.Draw(curveC)
	rp.Draw(rowsC)

	if f.Title != "" {
		ts := textStyle(titleSize)
		ts.XAlign, ts.YAlign = draw.XCenter, draw.YCenter
		titleC.FillText(ts, vg.Point{X: c.Min.X + w/2, Y: (titleC.Min.Y + titleC.Max.Y) / 2}, f.Title)
	}

	// Legend: lines of entries under the title, left-aligned with the
	// data area.
	labels := f.legendLabels()
	if len(labels) != len(thumbs) {
		return layout{}, fmt.Errorf("plot: %d legend entries for %d labels", len(thumbs), len(labels))
	}
	ls := textStyle(textSize)
	ls.YAlign = draw.YCenter
	for k, line := range lines {
		x := c.Min.X + vg.Points(6) + left
		y := top - vg.Inch*titleHeight - vg.Inch*legendHeight*(vg.Length(k)+0.5)
		for _, i := range line {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: y - thumbH/2}, Max: vg.Point{X: x + thumbW, Y: y + thumbH/2}}}
			thumbs[i].Thumbnail(&tc)
			x += thumbW + legendGap
			c.FillText(ls, vg.Point{X: x, Y: y}, labels[i])
			x += ls.Width(labels[i]) + 3*legendGap
		}
	}
	return layout{curve: cp.DataCanvas(curveC).Rectangle, rows: rp.DataCanvas(rowsC).Rectangle}, nil
}

// curvePart is a piece of the curve in seconds: a line through its
// points, or, for a curve with more frames than the figure has room for,
// a band: the outline of each column's minimum to maximum (the maxima left
// to right, then the minima back), filled.
type curvePart struct {
	pts  plotter.XYs
	band bool
}

// curveParts returns the curve split at NaN values; a frame's value sits at
// the frame's centre. With more than two frames per point of the figure's
// width, the curve becomes bands of per-column minima and maxima, which
// keeps every peak, keeps vector output small, and rasterizes fast (a
// zig-zag line through every column does not).
func (f *Figure) curveParts(xmin, xmax float64) []curvePart {
	curve := f.Curve[:min(len(f.Curve), f.Frames)]
	var parts []curvePart
	w, _ := f.Size()
	cols := int(w.Points()) // about one column per point of width
	if len(curve) <= 2*cols {
		var cur plotter.XYs
		flush := func() {
			if len(cur) == 1 { // a single point: a short flat stroke
				cur = append(cur, plotter.XY{X: cur[0].X + 0.5/f.FPS, Y: cur[0].Y})
			}
			if len(cur) > 0 {
				parts = append(parts, curvePart{pts: cur})
			}
			cur = nil
		}
		for i, v := range curve {
			if math.IsNaN(v) {
				flush()
				continue
			}
			cur = append(cur, plotter.XY{X: f.seconds(float64(i) + 0.5), Y: v})
		}
		flush()
		return parts
	}
	var hi, lo plotter.XYs
	flush := func() {
		if len(hi) > 0 {
			band := append(hi, lo...)
			slices.Reverse(band[len(hi):])
			parts = append(parts, curvePart{pts: band, band: true})
		}
		hi, lo = nil, nil
	}
	perCol := float64(f.Frames) / float64(cols)
	for c := range cols {
		a, b := int(float64(c)*perCol), min(int(float64(c+1)*perCol), len(curve))
		l, h := math.Inf(1), math.Inf(-1)
		for _, v := range curve[a:max(a, b)] {
			if !math.IsNaN(v) {
				l, h = math.Min(l, v), math.Max(h, v)
			}
		}
		if math.IsInf(l, 1) {
			flush()
			continue
		}
		x := xmin + (float64(c)+0.5)*(xmax-xmin)/float64(cols)
		hi, lo = append(hi, plotter.XY{X: x, Y: h}), append(lo, plotter.XY{X: x, Y: l})
	}
	flush()
	return parts
}

// band draws a curvePart band: filled, and outlined so that a flat
// stretch still shows as a line.
type band struct {
	pts   plotter.XYs
	style draw.LineStyle
}

// Plot fills and outlines the band.
func (b *band) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	pts := make([]vg.Point, len(b.pts))
	for i, q := range b.pts {
		pts[i] = vg.Point{X: trX(q.X), Y: trY(q.Y)}
	}
	c.FillPolygon(b.style.Color, pts)
	c.StrokeLines(b.style, append(pts, pts[0]))
}

// rowBars draws one row's spans as bars.
type rowBars struct {
	f      *Figure
	spans  []Span
	y      float64 // the row's centre
	colour color.RGBA
}

// Plot draws the bars; touching spans are separated by a thin white line.
// All bars of the row are one path, and so are the separators: a raster
// canvas then fills once per row, not once per sign (an hour has
// thousands).
func (r *rowBars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	y0, y1 := trY(r.y-barFraction/2), trY(r.y+barFraction/2)
	var bars, edges vg.Path
	for _, s := range r.spans {
		a, b := min(s.Start, r.f.Frames), min(s.End, r.f.Frames)
		if b <= a {
			continue
		}
		x0, x1 := trX(r.f.seconds(float64(a))), trX(r.f.seconds(float64(b)))
		bars.Move(vg.Point{X: x0, Y: y0})
		bars.Line(vg.Point{X: x1, Y: y0})
		bars.Line(vg.Point{X: x1, Y: y1})
		bars.Line(vg.Point{X: x0, Y: y1})
		bars.Close()
		if x1-x0 >= vg.Points(2) { // narrower bars would turn white
			for _, x := range []vg.Length{x0, x1} {
				edges.Move(vg.Point{X: x, Y: y0})
				edges.Line(vg.Point{X: x, Y: y1})
			}
		}
	}
	if len(bars) == 0 {
		return
	}
	c.SetColor(r.colour)
	c.Fill(bars)
	if len(edges) > 0 {
		c.SetLineStyle(draw.LineStyle{Color: color.White, Width: vg.Points(0.6)})
		c.Stroke(edges)
	}
}

// Thumbnail draws the legend's swatch.
func (r *rowBars) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(r.colour, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// timeTicks labels round numbers of seconds, at most maxLabels of them,
// with an unlabelled tick halfway between.
type timeTicks struct{ maxLabels int }

// tickSteps are the label spacings timeTicks chooses from, in seconds.
var tickSteps = []float64{0.04, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600}

// Ticks returns the ticks between lo and hi seconds.
func (t timeTicks) Ticks(lo, hi float64) []gplot.Tick {
	step := math.Ceil((hi-lo)/float64(t.maxLabels)/3600) * 3600
	for _, s := range tickSteps {
		if (hi-lo)/s <= float64(t.maxLabels) {
			step = s
			break
		}
	}
	var ticks []gplot.Tick
	for k := math.Ceil(lo / step * 2); k/2*step <= hi+1e-9; k++ {
		v := k / 2 * step
		tick := gplot.Tick{Value: v}
		if math.Mod(k, 2) == 0 {
			tick.Label = strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

// blankLabels keeps a ticker's ticks but not its labels (the curve panel
// shares the time axis labelled under the rows).
type blankLabels struct{ gplot.Ticker }

// Ticks returns the ticks without labels.
func (b blankLabels) Ticks(min, max float64) []gplot.Tick {
	t := b.Ticker.Ticks(min, max)
	for i := range t {
		t[i].Label = ""
	}
	return t
}

// Format is an output format of Write.
type Format string

// The output formats.
const (
	PNG Format = "png"
	SVG Format = "svg"
	PDF Format = "pdf"
)

// FormatOf returns the format a file name's extension names (.png, .svg,
// .pdf, any case).
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return PNG, nil
	case ".svg":
		return SVG, nil
	case ".pdf":
		return PDF, nil
	default:
		return "", fmt.Errorf("plot %s: unknown format %q; name the file .png, .svg or .pdf", path, ext)
	}
}

// Write draws the figure to w in the format.
func (f *Figure) Write(w io.Writer, format Format) error {
	if err := f.check(); err != nil {
		return err
	}
	width, height := f.Size()
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch format {
	case PNG:
		img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
		c = vgimg.PngCanvas{Canvas: img}
	case SVG:
		c = vgsvg.New(width, height)
	case PDF:
		c = vgpdf.New(width, height)
	default:
		return fmt.Errorf("plot: unknown format %q; use png, svg or pdf", format)
	}
	if _, err := f.draw(draw.New(c)); err != nil {
		return err
	}
	if format == PNG {
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			return err
		}
		_, err := w.Write(withDPI(buf.Bytes(), DPI))
		return err
	}
	_, err := c.WriteTo(w)
	return err
}

// withDPI returns a PNG file with a pHYs chunk after the header saying
// dpi, so that word processors and LaTeX place the figure at its size in
// inches. Go's encoder writes IHDR first, always 13 bytes of data.
func withDPI(png []byte, dpi float64) []byte {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4 // signature, length, type, data, CRC
	if len(png) < ihdrEnd || string(png[12:16]) != "IHDR" {
		return png
	}
	ppm := uint32(math.Round(dpi / 0.0254)) // pixels per metre
	chunk := make([]byte, 0, 21)
	chunk = binary.BigEndian.AppendUint32(chunk, 9)
	chunk = append(chunk, "pHYs"...)
	chunk = binary.BigEndian.AppendUint32(chunk, ppm)
	chunk = binary.BigEndian.AppendUint32(chunk, ppm)
	chunk = append(chunk, 1) // unit: metre
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := make([]byte, 0, len(png)+len(chunk))
	out = append(out, png[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, png[ihdrEnd:]...)
}

// WritePNG draws the figure to w as a PNG image at DPI.
func (f *Figure) WritePNG(w io.Writer) error { return f.Write(w, PNG) }

// WriteSVG draws the figure to w as SVG.
func (f *Figure) WriteSVG(w io.Writer) error { return f.Write(w, SVG) }

// WritePDF draws the figure to w as PDF.
func (f *Figure) WritePDF(w io.Writer) error { return f.Write(w, PDF) }

// WriteFile writes the figure to path as PNG, SVG or PDF, chosen by the
// extension (.png, .svg or .pdf). The file is written completely or not at
// all (internal/atomicfile): a failure leaves an existing file as it was.
func (f *Figure) WriteFile(path string) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	// Draw first, so that a figure that cannot be drawn touches no file.
	var buf bytes.Buffer
	if err := f.Write(&buf, format); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), atomicfile.Options{}); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
