package media

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os/exec"
	"strconv"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media/mediatest"
)

// refFrames is ffprobe's independent view of a file: the presentation time
// of every video frame and the container start time.
type refFrames struct {
	pts   []float64 // seconds, presentation order
	start float64   // format start_time in seconds
}

func probeFrames(t testing.TB, path string) refFrames {
	t.Helper()
	ffprobe := testenv.Tool(t, "ffprobe")
	out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=best_effort_timestamp_time:format=start_time", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe frames of %s: %v", path, err)
	}
	var j struct {
		Frames []struct {
			T *string `json:"best_effort_timestamp_time"`
		} `json:"frames"`
		Format struct {
			Start string `json:"start_time"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		t.Fatal(err)
	}
	var r refFrames
	for _, f := range j.Frames {
		if f.T == nil {
			// The last MPEG-2 picture is flushed without a timestamp;
			// ffmpeg gives it the previous one plus one frame.
			n := len(r.pts)
			if n < 2 {
				t.Fatalf("ffprobe: frame %d of %s has no timestamp", n, path)
			}
			r.pts = append(r.pts, 2*r.pts[n-1]-r.pts[n-2])
			continue
		}
		v, err := strconv.ParseFloat(*f.T, 64)
		if err != nil {
			t.Fatalf("ffprobe frame time %q of %s: %v", *f.T, path, err)
		}
		r.pts = append(r.pts, v)
	}
	r.start, _ = strconv.ParseFloat(j.Format.Start, 64)
	return r
}

// decoded is what a test keeps of each frame: not the pixels, so that long
// videos need little memory.
type decoded struct {
	index  int
	timeMs float64
	source int // pattern index read from the picture
}

// brightnessAt reads a CHW/HWC frame of p at fractions (u, v) of the source
// picture and returns the mean of its channels in 0…1, undoing the
// normalisation.
func brightnessAt(p Preprocess, data []float32) func(u, v float64) float64 {
	w, h := p.OutputSize()
	cx, cy := p.cropOffset()
	c := p.Channels()
	return func(u, v float64) float64 {
		x := int(u*float64(p.Width)) - cx
		y := int(v*float64(p.Height)) - cy
		sum := 0.0
		for ch := range c {
			var val float32
			if p.layout() == "hwc" {
				val = data[(y*w+x)*c+ch]
			} else {
				val = data[ch*w*h+y*w+x]
			}
			mean, std := 0.0, 1.0
			if len(p.Mean) > 0 {
				mean, std = p.Mean[ch], p.Std[ch]
			}
			sum += float64(val)*std + mean
		}
		return sum / float64(c)
	}
}

// decodeIndices decodes path and reads the pattern index of every frame.
func decodeIndices(t testing.TB, path string, p Preprocess) ([]decoded, *Stream) {
	t.Helper()
	s, err := Open(context.Background(), path, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []decoded
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, s
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(out), err)
		}
		out = append(out, decoded{f.Index, f.TimeMs, mediatest.ReadIndex(brightnessAt(p, f.Data))})
	}
}

// gridSlot returns the output slot of a time in seconds: ffmpeg's fps filter
// rescales integer timestamps and rounds half away from zero
// (AV_ROUND_NEAR_INF). ffprobe's times have 6 decimals, so x is first
// rounded to 1e-6 to undo binary floating-point error (0.58×25 = 14.4999…).
func gridSlot(seconds, fps float64) int {
	x := seconds * fps
	return int(math.Round(math.Round(x*1e6) / 1e6))
}
