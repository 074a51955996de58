package plot

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
)

// WriteSVG draws the figure as an SVG 1.1 document.
func (f *Figure) WriteSVG(w io.Writer) error {
	if err := f.check(); err != nil {
		return err
	}
	width, height := f.Size()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	fmt.Fprintf(bw, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"%d\">\n",
		width, height, width, height, 5*fontScale+2)
	for _, s := range f.layout() {
		switch s.kind {
		case kRect:
			x1 := max(s.x1, s.x0+1) // as in PNG: at least one pixel wide
			fmt.Fprintf(bw, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n",
				num(s.x0), num(s.y0), num(x1-s.x0), num(s.y1-s.y0), hex(s.c))
		case kLine:
			dash := ""
			if s.dashed {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(bw, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"1\"%s/>\n",
				num(s.x0), num(s.y0), num(s.x1), num(s.y1), hex(s.c), dash)
		case kPolyline:
			var pts strings.Builder
			for i := 0; i+1 < len(s.pts); i += 2 {
				if i > 0 {
					pts.WriteByte(' ')
				}
				pts.WriteString(num(s.pts[i]) + "," + num(s.pts[i+1]))
			}
			fmt.Fprintf(bw, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n",
				pts.String(), hex(s.c))
		case kText:
			anchor := ""
			if s.right {
				anchor = ` text-anchor="end"`
			}
			// (x0, y0) is the top of the text; SVG places the baseline.
			fmt.Fprintf(bw, "<text x=\"%s\" y=\"%s\" fill=\"%s\"%s>", num(s.x0), num(s.y0+5*fontScale), hex(s.c), anchor)
			if err := xml.EscapeText(bw, []byte(s.text)); err != nil {
				return err
			}
			bw.WriteString("</text>\n")
		}
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// num formats a coordinate with at most 2 decimals.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// hex formats an opaque colour as #rrggbb.
func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
