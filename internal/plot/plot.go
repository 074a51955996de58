// Package plot draws signseg's evaluation figure: a per-frame boundary
// probability curve over a time axis, with rows of segments (reference,
// prediction) underneath, as PNG (image/png) or SVG (written by hand), so
// that no plotting dependency is needed.
//
// Both formats are drawn from the same list of shapes (see layout), so
// they show the same picture; PNG text uses a built-in 3×5 pixel font.
package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/signseg/signseg/internal/atomicfile"
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
	CurveLabel string  // shown above the curve panel; "" means "p(boundary)"
	Threshold  float64 // drawn as a dashed line when in (0, 1)
	Rows       []Row   // segment rows under the curve, top to bottom
	Width      int     // image width in pixels; 0 means DefaultWidth
}

// Row is a labelled row of segments.
type Row struct {
	Label string
	Spans []Span
}

// Span is a segment of frames [Start, End).
type Span struct{ Start, End int }

// DefaultWidth is the image width when Figure.Width is 0.
const DefaultWidth = 1200

// Layout constants, in pixels.
const (
	marginLeft   = 110
	marginRight  = 20
	titleHeight  = 28
	curveHeight  = 180
	rowGap       = 6
	rowHeight    = 26
	axisHeight   = 30
	minPlotWidth = 100
	fontScale    = 2 // PNG font: 3×5 glyphs drawn at 2× (6×10 px)
)

// Colours of the figure.
var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colFrame      = color.RGBA{120, 120, 120, 255}
	colGrid       = color.RGBA{225, 225, 225, 255}
	colText       = color.RGBA{20, 20, 20, 255}
	colCurve      = color.RGBA{31, 119, 180, 255}
	colThreshold  = color.RGBA{214, 39, 40, 255}
	// rowColours holds two alternating shades per row, so touching
	// segments stay distinguishable; rows beyond it reuse them.
	rowColours = [][2]color.RGBA{
		{{44, 160, 44, 255}, {152, 223, 138, 255}},  // reference: greens
		{{255, 127, 14, 255}, {255, 187, 120, 255}}, // prediction: oranges
		{{148, 103, 189, 255}, {197, 176, 213, 255}},
	}
)

// RowColours returns the two alternating colours of row i's segments.
func RowColours(i int) [2]color.RGBA { return rowColours[i%len(rowColours)] }

// CurveColour is the colour of the probability curve.
func CurveColour() color.RGBA { return colCurve }

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
	if need := f.leftMargin() + marginRight + minPlotWidth; f.Width != 0 && f.Width < need {
		return fmt.Errorf("plot: width %d px is too small for the labels; use at least %d", f.Width, need)
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

// leftMargin leaves room for the longest label left of the plot.
func (f *Figure) leftMargin() int {
	m := marginLeft
	for _, r := range f.Rows {
		m = max(m, textWidth(r.Label)+16)
	}
	return max(m, textWidth(f.CurveLabel)+16)
}

// Size returns the image size in pixels.
func (f *Figure) Size() (w, h int) {
	w = f.Width
	if w == 0 {
		w = DefaultWidth
	}
	return w, titleHeight + curveHeight + axisHeight + len(f.Rows)*(rowHeight+rowGap) + rowGap
}

// geometry maps frames and values to pixels.
type geometry struct {
	w, h        int
	x0, x1      float64 // plot area, left and right
	curveTop    float64
	curveBottom float64
	frames      int
	rowsTop     float64
}

func (f *Figure) geometry() geometry {
	w, h := f.Size()
	top := float64(titleHeight)
	return geometry{
		w: w, h: h,
		x0: float64(f.leftMargin()), x1: float64(w - marginRight),
		curveTop: top, curveBottom: top + curveHeight,
		frames:  f.Frames,
		rowsTop: top + curveHeight + rowGap,
	}
}

// x is the left edge of frame i (or the right edge of frame i−1).
func (g geometry) x(frame float64) float64 {
	return g.x0 + frame*(g.x1-g.x0)/float64(g.frames)
}

// curvePad keeps values 0 and 1 off the panel's frame lines.
const curvePad = 8

// y maps a curve value in [0, 1] into the curve panel.
func (g geometry) y(v float64) float64 {
	return g.curveBottom - curvePad - v*(g.curveBottom-g.curveTop-2*curvePad)
}

// rowTop is the top of segment row i.
func (g geometry) rowTop(i int) float64 { return g.rowsTop + float64(i*(rowHeight+rowGap)) }

// axisTop is the top of the time axis labels.
func (g geometry) axisTop(rows int) float64 { return g.rowTop(rows) }

// shape is one drawing operation; both renderers draw the same list.
type shape struct {
	kind   shapeKind
	c      color.RGBA
	x0, y0 float64 // rect: corners; line: ends; text: position (left, top)
	x1, y1 float64
	dashed bool      // line
	pts    []float64 // polyline: x, y pairs
	text   string
	right  bool // text: x is the right edge
}

type shapeKind int

const (
	kRect shapeKind = iota
	kLine
	kPolyline
	kText
)

// layout returns the figure's shapes in drawing order.
func (f *Figure) layout() []shape {
	g := f.geometry()
	var s []shape
	rect := func(x0, y0, x1, y1 float64, c color.RGBA) {
		s = append(s, shape{kind: kRect, x0: x0, y0: y0, x1: x1, y1: y1, c: c})
	}
	line := func(x0, y0, x1, y1 float64, c color.RGBA, dashed bool) {
		s = append(s, shape{kind: kLine, x0: x0, y0: y0, x1: x1, y1: y1, c: c, dashed: dashed})
	}
	text := func(x, y float64, t string, right bool) {
		s = append(s, shape{kind: kText, x0: x, y0: y, text: t, right: right, c: colText})
	}
	rect(0, 0, float64(g.w), float64(g.h), colBackground)
	if f.Title != "" {
		text(8, 8, f.Title, false)
	}

	// Time grid and labels.
	rows := len(f.Rows)
	gridBottom := g.rowTop(rows) - rowGap
	step := tickStep(float64(f.Frames)/f.FPS, (g.x1-g.x0)/90)
	for k := math.Ceil(float64(f.FirstFrame) / f.FPS / step); ; k++ {
		sec := k * step
		fr := sec*f.FPS - float64(f.FirstFrame)
		if fr > float64(f.Frames)+1e-9 {
			break
		}
		x := g.x(fr)
		line(x, g.curveTop, x, gridBottom, colGrid, false)
		lbl := formatSeconds(sec, step)
		text(x-float64(textWidth(lbl))/2, g.axisTop(rows)+4, lbl, false)
	}
	text(g.x0-16, g.axisTop(rows)+4, "time (s)", true)

	// Curve panel.
	for _, v := range []float64{0, 0.5, 1} {
		y := g.y(v)
		line(g.x0, y, g.x1, y, colGrid, false)
		text(g.x0-8, y-5*fontScale/2, fmt.Sprintf("%.1f", v), true)
	}
	label := f.CurveLabel
	if label == "" {
		label = "p(boundary)"
	}
	text(g.x0-8, g.curveTop+(curveHeight)/4, label, true)
	if f.Threshold > 0 && f.Threshold < 1 {
		y := g.y(f.Threshold)
		line(g.x0, y, g.x1, y, colThreshold, true)
	}
	for _, pts := range curvePaths(f.Curve, f.Frames, g) {
		s = append(s, shape{kind: kPolyline, pts: pts, c: colCurve})
	}
	line(g.x0, g.curveTop, g.x1, g.curveTop, colFrame, false)
	line(g.x0, g.curveBottom, g.x1, g.curveBottom, colFrame, false)
	line(g.x0, g.curveTop, g.x0, g.curveBottom, colFrame, false)
	line(g.x1, g.curveTop, g.x1, g.curveBottom, colFrame, false)

	// Segment rows.
	for i, r := range f.Rows {
		top := g.rowTop(i)
		cols := RowColours(i)
		for k, sp := range r.Spans {
			a, b := min(sp.Start, f.Frames), min(sp.End, f.Frames)
			if b <= a {
				continue
			}
			rect(g.x(float64(a)), top, g.x(float64(b)), top+rowHeight, cols[k%2])
		}
		line(g.x0, top+rowHeight, g.x1, top+rowHeight, colFrame, false)
		text(g.x0-8, top+(rowHeight-5*fontScale)/2, r.Label, true)
	}
	return s
}

// curvePaths returns the curve as polylines (x, y pairs), split at NaN
// values. A frame's value sits at the frame's centre. With more than two
// frames per pixel column, each column is drawn as its minimum and maximum,
// which keeps every peak visible and the SVG small.
func curvePaths(curve []float64, frames int, g geometry) [][]float64 {
	curve = curve[:min(len(curve), frames)]
	var paths [][]float64
	var cur []float64
	flush := func() {
		if len(cur) >= 2 {
			if len(cur) == 2 { // a single point: a short flat stroke
				cur = append(cur, cur[0]+1, cur[1])
			}
			paths = append(paths, cur)
		}
		cur = nil
	}
	cols := int(g.x1 - g.x0)
	if len(curve) <= 2*cols {
		for i, v := range curve {
			if math.IsNaN(v) {
				flush()
				continue
			}
			cur = append(cur, g.x(float64(i)+0.5), g.y(v))
		}
		flush()
		return paths
	}
	perCol := float64(frames) / float64(cols)
	for c := range cols {
		a, b := int(float64(c)*perCol), min(int(float64(c+1)*perCol), len(curve))
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range curve[a:max(a, b)] {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if math.IsInf(lo, 1) {
			flush()
			continue
		}
		x := g.x0 + float64(c) + 0.5
		cur = append(cur, x, g.y(hi), x, g.y(lo))
	}
	flush()
	return paths
}

// textWidth is the width in pixels of s in the PNG font.
func textWidth(s string) int {
	n := len([]rune(s))
	if n == 0 {
		return 0
	}
	return n*(glyphW+1)*fontScale - fontScale
}

// tickStep returns a round step in seconds giving at most maxTicks ticks
// over dur seconds.
func tickStep(dur, maxTicks float64) float64 {
	steps := []float64{0.04, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600}
	for _, st := range steps {
		if dur/st <= maxTicks {
			return st
		}
	}
	return math.Ceil(dur/maxTicks/3600) * 3600
}

// formatSeconds prints a tick label with as many decimals as step needs.
func formatSeconds(sec, step float64) string {
	switch {
	case step < 0.1:
		return fmt.Sprintf("%.2f", sec)
	case step < 1:
		return fmt.Sprintf("%.1f", sec)
	default:
		return fmt.Sprintf("%.0f", sec)
	}
}

// WriteFile writes the figure to path as PNG or SVG, chosen by the
// extension (.png or .svg). The file is written completely or not at all
// (internal/atomicfile): a failure leaves an existing file as it was.
func (f *Figure) WriteFile(path string) error {
	var write func(io.Writer) error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		write = f.WritePNG
	case ".svg":
		write = f.WriteSVG
	default:
		return fmt.Errorf("plot %s: unknown format %q; name the file .png or .svg", path, ext)
	}
	if err := atomicfile.Write(path, atomicfile.Options{}, write); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
