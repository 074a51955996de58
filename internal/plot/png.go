package plot

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
)

// WritePNG draws the figure as a PNG image.
func (f *Figure) WritePNG(w io.Writer) error {
	img, err := f.Image()
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// Image draws the figure into an RGBA image of f.Size().
func (f *Figure) Image() (*image.RGBA, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	w, h := f.Size()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for _, s := range f.layout() {
		switch s.kind {
		case kRect:
			fillRect(img, s.x0, s.y0, s.x1, s.y1, s.c)
		case kLine:
			drawLine(img, s.x0, s.y0, s.x1, s.y1, s.c, s.dashed, 1)
		case kPolyline:
			for i := 0; i+3 < len(s.pts); i += 2 {
				drawLine(img, s.pts[i], s.pts[i+1], s.pts[i+2], s.pts[i+3], s.c, false, 2)
			}
		case kText:
			drawText(img, s.x0, s.y0, s.text, s.right, s.c)
		}
	}
	return img, nil
}

// fillRect fills the pixels whose centres lie in [x0, x1) × [y0, y1), and
// at least one pixel column so that short segments stay visible.
func fillRect(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	a, b := int(math.Round(x0)), int(math.Round(x1))
	if b <= a {
		b = a + 1
	}
	r := image.Rect(a, int(math.Round(y0)), b, int(math.Round(y1))).Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// drawLine draws a line of the given width in pixels by stepping along
// its longer axis; dashed lines alternate 6 pixels on, 4 off.
func drawLine(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA, dashed bool, width int) {
	dx, dy := x1-x0, y1-y0
	n := int(math.Ceil(math.Max(math.Abs(dx), math.Abs(dy))))
	b := img.Bounds()
	for i := 0; i <= n; i++ {
		if dashed && i%10 >= 6 {
			continue
		}
		t := 0.0
		if n > 0 {
			t = float64(i) / float64(n)
		}
		px, py := int(math.Floor(x0+t*dx)), int(math.Floor(y0+t*dy))
		for k := range width {
			for _, p := range [2]image.Point{{px, py + k}, {px + k, py}} {
				if p.In(b) {
					img.SetRGBA(p.X, p.Y, c)
				}
			}
		}
	}
}

// drawText draws s with the built-in font, top-left at (x, y), or
// top-right when right is set.
func drawText(img *image.RGBA, x, y float64, s string, right bool, c color.RGBA) {
	s = strings.ToLower(s)
	adv := (glyphW + 1) * fontScale
	left := int(math.Round(x))
	if right {
		left -= textWidth(s)
	}
	top := int(math.Round(y))
	b := img.Bounds()
	for i, r := range []rune(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs['?']
		}
		for row := range glyphH {
			for col := range glyphW {
				if g[row*glyphW+col] != '#' {
					continue
				}
				for sy := range fontScale {
					for sx := range fontScale {
						p := image.Pt(left+i*adv+col*fontScale+sx, top+row*fontScale+sy)
						if p.In(b) {
							img.SetRGBA(p.X, p.Y, c)
						}
					}
				}
			}
		}
	}
}

// glyphW and glyphH are the size of the built-in font's glyphs.
const glyphW, glyphH = 3, 5

// glyphs is the built-in font: glyphW×glyphH cells, rows top to bottom,
// '#' set. Letters are drawn as capitals; other runes draw as '?'.
var glyphs = map[rune]string{
	'0': "####.##.##.####", '1': ".#.##..#..#.###", '2': "###..#####..###",
	'3': "###..####..####", '4': "#.##.####..#..#", '5': "####..###..####",
	'6': "####..####.####", '7': "###..#..#..#..#", '8': "####.#####.####",
	'9': "####.####..####", 'a': ".#.#.#####.##.#", 'b': "##.#.###.#.###.",
	'c': ".###..#..#...##", 'd': "##.#.##.##.###.", 'e': "####..##.#..###",
	'f': "####..##.#..#..", 'g': ".###..#.##.#.##", 'h': "#.##.#####.##.#",
	'i': "###.#..#..#.###", 'j': "..#..#..##.#.#.", 'k': "#.##.###.#.##.#",
	'l': "#..#..#..#..###", 'm': "#.########.##.#", 'n': "##.#.##.##.##.#",
	'o': ".#.#.##.##.#.#.", 'p': "##.#.###.#..#..", 'q': ".#.#.##.###..##",
	'r': "##.#.###.#.##.#", 's': ".###...#...###.", 't': "###.#..#..#..#.",
	'u': "#.##.##.##.####", 'v': "#.##.##.##.#.#.", 'w': "#.##.########.#",
	'x': "#.##.#.#.#.##.#", 'y': "#.##.#.#..#..#.", 'z': "###..#.#.#..###",
	' ': "...............", '.': ".............#.", ',': "..........#.#..",
	':': "....#.....#....", '-': "......###......", '_': "............###",
	'(': "..#.#..#..#...#", ')': "#...#..#..#.#..", '/': "..#..#.#.#..#..",
	'@': ".#.#.#####...##", '%': "#.#..#.#.#..#.#", '+': "....#.###.#....",
	'=': "...###...###...", '?': "###..#.##....#.",
}
