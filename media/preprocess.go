package media

import (
	"fmt"
	"math"
	"strings"
)

// Preprocess describes the frames a model wants. It is normally read from a
// model manifest (hence the JSON tags); PaperI3D returns the values of the
// paper's I3D. The zero values of Scaler, Color and Layout mean "bicubic",
// "rgb" and "chw"; empty Mean and Std mean 0 and 1.
//
// Each output value is (x/255 − Mean[c]) / Std[c], where x is the 8-bit
// sample after resampling to FrameRate, resizing to Width×Height (ignoring
// the aspect ratio) with ffmpeg's scaler and cropping the centre
// CropWidth×CropHeight. For "gray", x is 0.299·R + 0.587·G + 0.114·B of
// those samples (BT.601 luma, full range, not rounded).
type Preprocess struct {
	FrameRate  Rational  `json:"frame_rate"`            // output frame rate, e.g. 25 or "30000/1001"
	Width      int       `json:"width"`                 // resize width in pixels
	Height     int       `json:"height"`                // resize height in pixels
	Scaler     string    `json:"scaler,omitempty"`      // ffmpeg scaler flags, e.g. "bicubic", "bilinear", "lanczos+accurate_rnd"
	CropWidth  int       `json:"crop_width,omitempty"`  // centre crop width; 0 = no crop
	CropHeight int       `json:"crop_height,omitempty"` // centre crop height; 0 = no crop
	Color      string    `json:"color,omitempty"`       // "rgb" (3 channels, R G B) or "gray" (1 channel, BT.601 luma)
	Mean       []float64 `json:"mean,omitempty"`        // per-channel mean subtracted from x/255
	Std        []float64 `json:"std,omitempty"`         // per-channel divisor, non-zero
	Layout     string    `json:"layout,omitempty"`      // "chw" (channel-first, default) or "hwc"
}

// PaperI3D returns the preprocessing of Renz et al. 2021's I3D: 25 fps, RGB,
// bicubic resize to 256×256, centre crop 224×224, (x/255 − 0.5)/1,
// channel-first (paper-pipeline.md §1).
func PaperI3D() Preprocess {
	return Preprocess{
		FrameRate: Rational{25, 1},
		Width:     256, Height: 256, Scaler: "bicubic",
		CropWidth: 224, CropHeight: 224,
		Color: "rgb",
		Mean:  []float64{0.5, 0.5, 0.5}, Std: []float64{1, 1, 1},
		Layout: "chw",
	}
}

// scalerFlags are the flags of ffmpeg's swscale (libswscale/options.c).
var scalerFlags = map[string]bool{
	"fast_bilinear": true, "bilinear": true, "bicubic": true, "experimental": true,
	"neighbor": true, "area": true, "bicublin": true, "gauss": true, "sinc": true,
	"lanczos": true, "spline": true, "print_info": true, "accurate_rnd": true,
	"full_chroma_int": true, "full_chroma_inp": true, "bitexact": true,
}

// maxSide bounds sizes so that a typo cannot ask for gigabytes per frame.
const maxSide = 8192

// Validate reports the first problem with p as an error that names the
// field and the accepted values.
func (p Preprocess) Validate() error {
	if p.FrameRate.IsZero() || p.FrameRate.Num < 0 || p.FrameRate.Den < 0 {
		return fmt.Errorf("preprocess: frame_rate must be positive (e.g. 25 or \"30000/1001\"), got %v", p.FrameRate)
	}
	if f := p.FrameRate.Float64(); f > 1000 {
		return fmt.Errorf("preprocess: frame_rate %v is above 1000 fps", p.FrameRate)
	}
	if p.Width <= 0 || p.Height <= 0 || p.Width > maxSide || p.Height > maxSide {
		return fmt.Errorf("preprocess: width and height must be between 1 and %d, got %d×%d", maxSide, p.Width, p.Height)
	}
	for _, f := range strings.Split(p.scaler(), "+") {
		if !scalerFlags[f] {
			return fmt.Errorf("preprocess: unknown scaler flag %q in %q (use e.g. bicubic, bilinear, area, lanczos, optionally +accurate_rnd)", f, p.Scaler)
		}
	}
	if (p.CropWidth == 0) != (p.CropHeight == 0) || p.CropWidth < 0 || p.CropHeight < 0 {
		return fmt.Errorf("preprocess: crop_width and crop_height must both be positive or both 0 (no crop), got %d×%d", p.CropWidth, p.CropHeight)
	}
	if p.CropWidth > p.Width || p.CropHeight > p.Height {
		return fmt.Errorf("preprocess: crop %d×%d is larger than the resized frame %d×%d", p.CropWidth, p.CropHeight, p.Width, p.Height)
	}
	switch p.color() {
	case "rgb", "gray":
	default:
		return fmt.Errorf("preprocess: color must be \"rgb\" or \"gray\", got %q", p.Color)
	}
	switch p.layout() {
	case "chw", "hwc":
	default:
		return fmt.Errorf("preprocess: layout must be \"chw\" (channel-first) or \"hwc\", got %q", p.Layout)
	}
	c := p.Channels()
	if len(p.Mean) != 0 && len(p.Mean) != c {
		return fmt.Errorf("preprocess: mean has %d values, want %d (one per %s channel) or none", len(p.Mean), c, p.color())
	}
	if len(p.Std) != 0 && len(p.Std) != c {
		return fmt.Errorf("preprocess: std has %d values, want %d (one per %s channel) or none", len(p.Std), c, p.color())
	}
	for i, s := range p.Std {
		if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("preprocess: std[%d] is %v; it must be a finite non-zero number", i, s)
		}
	}
	for i, m := range p.Mean {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return fmt.Errorf("preprocess: mean[%d] is %v; it must be finite", i, m)
		}
	}
	return nil
}

func (p Preprocess) scaler() string {
	if p.Scaler == "" {
		return "bicubic"
	}
	return p.Scaler
}

func (p Preprocess) color() string {
	if p.Color == "" {
		return "rgb"
	}
	return p.Color
}

func (p Preprocess) layout() string {
	if p.Layout == "" {
		return "chw"
	}
	return p.Layout
}

// Channels returns 3 for "rgb" and 1 for "gray".
func (p Preprocess) Channels() int {
	if p.color() == "gray" {
		return 1
	}
	return 3
}

// OutputSize returns the width and height of an output frame: the crop when
// there is one, else the resize.
func (p Preprocess) OutputSize() (w, h int) {
	if p.CropWidth > 0 {
		return p.CropWidth, p.CropHeight
	}
	return p.Width, p.Height
}

// FrameLen returns the number of float32 values in one frame: channels ×
// height × width.
func (p Preprocess) FrameLen() int {
	w, h := p.OutputSize()
	return p.Channels() * w * h
}

// cropOffset is the top-left corner of the centre crop, rounded down like
// ffmpeg's default crop position.
func (p Preprocess) cropOffset() (x, y int) {
	if p.CropWidth == 0 {
		return 0, 0
	}
	return (p.Width - p.CropWidth) / 2, (p.Height - p.CropHeight) / 2
}

// Filter returns the ffmpeg filter chain that implements p's resampling,
// resize and crop, e.g. for the paper's I3D
// "fps=fps=25/1:start_time=0,scale=256:256:flags=bicubic,format=rgb24,crop=224:224:16:16".
// Record it with features so that runs can be compared. Open prefixes it
// with a timestamp shift for containers whose clock does not start at 0.
func (p Preprocess) Filter() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fps=fps=%s:start_time=0,scale=%d:%d:flags=%s,format=rgb24", p.FrameRate, p.Width, p.Height, p.scaler())
	if p.CropWidth > 0 {
		x, y := p.cropOffset()
		fmt.Fprintf(&b, ",crop=%d:%d:%d:%d", p.CropWidth, p.CropHeight, x, y)
	}
	return b.String()
}

// luts returns, per output channel, the normalised value of each 8-bit
// input, so the conversion costs one table look-up per sample. For gray,
// the three tables hold the BT.601 weighted terms, whose sum is normalised.
func (p Preprocess) luts() (t [3][256]float32) {
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
	if p.color() == "gray" {
		w := [3]float64{0.299, 0.587, 0.114}
		m, s := mean(0), std(0)
		for c := range 3 {
			for x := range 256 {
				v := w[c] * float64(x) / 255 / s
				if c == 0 {
					v -= m / s
				}
				t[c][x] = float32(v)
			}
		}
		return t
	}
	for c := range 3 {
		for x := range 256 {
			t[c][x] = float32((float64(x)/255 - mean(c)) / std(c))
		}
	}
	return t
}
