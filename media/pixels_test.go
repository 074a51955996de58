package media

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/signseg/signseg/media/mediatest"
)

// TestPixels decodes a lossless pattern video and checks every output pixel
// whose whole scaler footprint in the source lies inside one pattern cell:
// any interpolating scaler must reproduce that cell's colour there, so the
// expected value is computed from the pattern alone, independently of
// swscale's coefficients. Pixels near cell edges are left out.
func TestPixels(t *testing.T) {
	dir := t.TempDir()
	norm := PaperI3D()
	norm.Mean = []float64{0.485, 0.456, 0.406} // distinct per channel, to catch channel mix-ups
	norm.Std = []float64{0.229, 0.224, 0.225}
	gray := norm
	gray.Color, gray.Mean, gray.Std = "gray", []float64{0.25}, []float64{0.5}
	hwc := norm
	hwc.Layout = "hwc"
	noCrop := Preprocess{FrameRate: Rational{25, 1}, Width: 96, Height: 64, Scaler: "bilinear"}
	cases := []struct {
		name string
		w, h int
		p    Preprocess
	}{
		{"640x360 i3d", 640, 360, PaperI3D()},
		{"640x360 mean/std", 640, 360, norm},
		{"odd 251x143 upscale", 251, 143, norm},
		{"gray", 320, 240, gray},
		{"hwc", 320, 240, hwc},
		{"no crop, bilinear, 96x64", 320, 240, noCrop},
	}
	for n, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := mediatest.Generate(t, dir, mediatest.Spec{Name: fmt.Sprintf("p%d.mkv", n), Frames: 3, Width: tc.w, Height: tc.h})
			s, err := Open(context.Background(), path, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ow, oh := tc.p.OutputSize()
			cx, cy := tc.p.cropOffset()
			c := tc.p.Channels()
			sx := float64(tc.w) / float64(tc.p.Width)
			sy := float64(tc.h) / float64(tc.p.Height)
			// Bicubic reaches 2 taps either side, scaled up when shrinking;
			// one more source pixel covers chroma and rounding of positions.
			rx := 2*math.Max(1, sx) + 1
			ry := 2*math.Max(1, sy) + 1
			for i := range 3 {
				f, err := s.Next()
				if err != nil {
					t.Fatal(err)
				}
				checked, worst := 0, 0.0
				for y := range oh {
					for x := range ow {
						col, ok := uniform(i, (float64(x+cx)+0.5)*sx-0.5, (float64(y+cy)+0.5)*sy-0.5, rx, ry, tc.w, tc.h)
						if !ok {
							continue
						}
						checked++
						want := expected(tc.p, col)
						for ch := range c {
							var got float32
							if tc.p.layout() == "hwc" {
								got = f.Data[(y*ow+x)*c+ch]
							} else {
								got = f.Data[ch*ow*oh+y*ow+x]
							}
							std := 1.0
							if len(tc.p.Std) > 0 {
								std = tc.p.Std[ch]
							}
							// One 8-bit step of swscale rounding.
							d := math.Abs(float64(got)-want[ch]) * std * 255
							worst = max(worst, d)
							if d > 1.01 {
								t.Fatalf("frame %d pixel (%d,%d) channel %d = %v, want %v (pattern colour %v)", i, x, y, ch, got, want[ch], col)
							}
						}
					}
				}
				if checked < ow*oh/4 {
					t.Fatalf("frame %d: only %d of %d pixels lie inside pattern cells", i, checked, ow*oh)
				}
				t.Logf("frame %d: %d of %d pixels checked, worst error %.2f/255", i, checked, ow*oh, worst)
			}
		})
	}
}

// uniform reports the pattern colour around source point (x, y) if every
// source pixel within rx, ry of it has that colour.
func uniform(frame int, x, y, rx, ry float64, w, h int) ([3]byte, bool) {
	x0, x1 := max(0, int(math.Floor(x-rx))), min(w-1, int(math.Ceil(x+rx)))
	y0, y1 := max(0, int(math.Floor(y-ry))), min(h-1, int(math.Ceil(y+ry)))
	col := mediatest.Pixel(frame, x0, y0, w, h)
	for yy := y0; yy <= y1; yy++ {
		for xx := x0; xx <= x1; xx++ {
			if mediatest.Pixel(frame, xx, yy, w, h) != col {
				return col, false
			}
		}
	}
	return col, true
}

// expected is the normalised value of an 8-bit colour under p, written out
// from the formula in the Preprocess documentation.
func expected(p Preprocess, col [3]byte) []float64 {
	mean := func(c int) float64 {
		if len(p.Mean) == 0 {
			return 0
		}
		return p.Mean[c]
	}
	std := func(c int) float64 {
		if len(p.Std) == 0 {
			return 1
		}
		return p.Std[c]
	}
	if p.Color == "gray" {
		y := (0.299*float64(col[0]) + 0.587*float64(col[1]) + 0.114*float64(col[2])) / 255
		return []float64{(y - mean(0)) / std(0)}
	}
	out := make([]float64, 3)
	for c := range 3 {
		out[c] = (float64(col[c])/255 - mean(c)) / std(c)
	}
	return out
}

// TestCropIsCentre compares a cropped decode with an uncropped one: the crop
// must be the centre of the resized picture, offset (16,16) for 256→224.
func TestCropIsCentre(t *testing.T) {
	dir := t.TempDir()
	path := mediatest.Generate(t, dir, mediatest.Spec{Name: "c.mkv", Frames: 2, Width: 333, Height: 201})
	full := PaperI3D()
	full.CropWidth, full.CropHeight = 0, 0
	for _, crop := range [][2]int{{224, 224}, {200, 101}} {
		p := PaperI3D()
		p.CropWidth, p.CropHeight = crop[0], crop[1]
		a := firstFrame(t, path, full)
		b := firstFrame(t, path, p)
		ox, oy := (256-crop[0])/2, (256-crop[1])/2
		for c := range 3 {
			for y := range crop[1] {
				for x := range crop[0] {
					got := b[c*crop[0]*crop[1]+y*crop[0]+x]
					want := a[c*256*256+(y+oy)*256+x+ox]
					if got != want {
						t.Fatalf("crop %v: channel %d pixel (%d,%d) = %v, uncropped (%d,%d) = %v", crop, c, x, y, got, x+ox, y+oy, want)
					}
				}
			}
		}
	}
}

func firstFrame(t *testing.T, path string, p Preprocess) []float32 {
	t.Helper()
	s, err := Open(context.Background(), path, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), f.Data...)
}
