package media

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/signseg/signseg/media/mediatest"
)

// TestReadRGB decodes lossless pattern videos at their native size and
// rate and checks every frame's index, time, size and pixels.
func TestReadRGB(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		spec       mediatest.Spec
		w, h       int
		rate       float64
		exactPixel bool
	}{
		{mediatest.Spec{Name: "a.mkv", Frames: 5, Width: 64, Height: 48, Rate: "30"}, 64, 48, 30, true},
		{mediatest.Spec{Name: "b.mkv", Frames: 4, Width: 48, Height: 80, Rate: "50"}, 48, 80, 50, true},
		{mediatest.Spec{Name: "c.mp4", Frames: 3, Width: 64, Height: 32, Rotate: 90}, 32, 64, 25, false},
	}
	for _, c := range cases {
		t.Run(c.spec.Name, func(t *testing.T) {
			path := mediatest.Generate(t, dir, c.spec)
			s, err := OpenRGB(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if p := s.Preprocess(); p.Width != c.w || p.Height != c.h || p.FrameRate.Float64() != c.rate {
				t.Fatalf("native preprocess %+v, want %dx%d at %g fps", p, c.w, c.h, c.rate)
			}
			n := 0
			for {
				f, err := s.ReadRGB()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if f.Index != n || f.Width != c.w || f.Height != c.h || len(f.Pix) != c.w*c.h*3 || f.TimeMs != float64(n)*1000/c.rate {
					t.Fatalf("frame %d: index %d, %dx%d, %d bytes, %g ms", n, f.Index, f.Width, f.Height, len(f.Pix), f.TimeMs)
				}
				if c.exactPixel {
					for _, xy := range [][2]int{{1, 1}, {c.w - 2, 1}, {c.w / 2, c.h / 2}, {c.w * 3 / 8, c.h * 3 / 8}, {c.w - 2, c.h - 2}} {
						want := mediatest.Pixel(n, xy[0], xy[1], c.w, c.h)
						k := (xy[1]*c.w + xy[0]) * 3
						if got := [3]byte{f.Pix[k], f.Pix[k+1], f.Pix[k+2]}; got != want {
							t.Errorf("frame %d pixel %v = %v, want %v", n, xy, got, want)
						}
					}
				}
				n++
			}
			if n != c.spec.Frames {
				t.Errorf("%d frames, want %d", n, c.spec.Frames)
			}
			if _, err := s.ReadRGB(); !errors.Is(err, io.EOF) {
				t.Errorf("read after the end: %v, want io.EOF", err)
			}
		})
	}
}

// TestCreateRGB encodes frames of known colours (odd size: padded) and
// reads them back.
func TestCreateRGB(t *testing.T) {
	tools, err := FindTools()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.mp4")
	const w, h, n = 63, 40, 6
	enc, err := tools.CreateRGB(context.Background(), path, w, h, Rational{25, 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Write(make([]byte, 5)); err == nil {
		t.Error("a short frame was accepted")
	}
	colour := func(i int) [3]byte { return [3]byte{byte(40 * i), 200, byte(250 - 40*i)} }
	pix := make([]byte, w*h*3)
	for i := range n {
		for k := 0; k < len(pix); k += 3 {
			c := colour(i)
			pix[k], pix[k+1], pix[k+2] = c[0], c[1], c[2]
		}
		if err := enc.Write(pix); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := tools.OpenRGB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		f, err := s.ReadRGB()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Width != w+1 || f.Height != h {
			t.Fatalf("size %dx%d, want %dx%d (width padded to even)", f.Width, f.Height, w+1, h)
		}
		k := (h/2*f.Width + w/2) * 3
		want := colour(i)
		for ch := range 3 {
			if d := int(f.Pix[k+ch]) - int(want[ch]); d < -8 || d > 8 {
				t.Errorf("frame %d channel %d = %d, want %d ± 8", i, ch, f.Pix[k+ch], want[ch])
			}
		}
	}
	if _, err := s.ReadRGB(); !errors.Is(err, io.EOF) {
		t.Errorf("%d frames written, more read back: %v", n, err)
	}
}
