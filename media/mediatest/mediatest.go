// Package mediatest generates small videos with ffmpeg at test time, so that
// tests never depend on committed media. The default picture is a known
// pattern: a 4×4 grid of Palette colours whose centre 2×2 cells hold the
// frame's index as 16 black/white bits, so a test can check colours after
// resizing and cropping and tell which source frame a decoded frame shows.
package mediatest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// Spec describes a video to generate. Zero values get defaults noted per
// field.
type Spec struct {
	Name   string // file name in dir; its extension picks the container (.mp4, .mpg, .mkv, .avi, .m4a, …). Required.
	Width  int    // default 320
	Height int    // default 240
	Rate   string // source frame rate in ffmpeg syntax, default "25"; e.g. "30000/1001"
	// Frames is the number of source frames. 0 makes a zero-length file: no
	// video stream (with Audio, an audio-only file).
	Frames int

	Codec  string // video encoder; default libx264 (mpeg2video for .mpg, ffv1 for .mkv)
	PixFmt string // encoder pixel format; default yuv420p (bgr0 for ffv1)

	// Lavfi, when set, names an ffmpeg test source (e.g. "testsrc2") used
	// instead of the Pattern; it is much faster for large benchmark videos.
	Lavfi string

	// Select is an ffmpeg select expression over the source index n (e.g.
	// "lt(mod(n,5),3)"); frames it rejects are dropped with their
	// timestamps kept, which makes the video variable-rate.
	Select string

	Rotate     int     // value of the "rotate" metadata set by stream copy (ffmpeg 5.1 stores 90 as a 90° counter-clockwise display matrix)
	Audio      bool    // add a 440 Hz sine track as long as the video (1 s if Frames is 0)
	VideoDelay float64 // seconds by which the video starts after the audio

	Args []string // extra output options, e.g. {"-movflags", "+faststart"}
}

// Palette holds the colours of the 16 grid cells, row by row. Cells 5, 6, 9
// and 10 (the centre) are covered by the index bits.
var Palette = [16][3]byte{
	{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {200, 200, 30},
	{200, 30, 200}, {30, 200, 200}, {120, 60, 20}, {20, 120, 60},
	{60, 20, 120}, {240, 140, 40}, {40, 240, 140}, {140, 40, 240},
	{100, 100, 100}, {180, 100, 160}, {90, 180, 60}, {60, 90, 180},
}

// IndexBits is the number of bits of the frame index drawn in the centre.
const IndexBits = 16

// Pixel returns the pattern colour of pixel (x, y) of frame i in a w×h
// picture.
func Pixel(i, x, y, w, h int) [3]byte {
	cx, cy := x*4/w, y*4/h
	if cx >= 1 && cx <= 2 && cy >= 1 && cy <= 2 {
		bx, by := x*8/w-2, y*8/h-2
		if i>>(by*4+bx)&1 == 1 {
			return [3]byte{255, 255, 255}
		}
		return [3]byte{0, 0, 0}
	}
	return Palette[cy*4+cx]
}

// BitCentre returns the centre of index bit b as fractions (u, v) of the
// picture's width and height.
func BitCentre(b int) (u, v float64) {
	return (2 + float64(b%4) + 0.5) / 8, (2 + float64(b/4) + 0.5) / 8
}

// ReadIndex decodes a frame index from a picture, given a function that
// returns the brightness (0 to 1) at fractions (u, v) of its width and
// height.
func ReadIndex(brightness func(u, v float64) float64) int {
	n := 0
	for b := range IndexBits {
		if brightness(BitCentre(b)) > 0.5 {
			n |= 1 << b
		}
	}
	return n
}

// Generate writes the video described by s into dir (usually t.TempDir())
// and returns its path. It fails the test if ffmpeg is missing (under make
// test) or fails.
func Generate(t testing.TB, dir string, s Spec) string {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	if s.Name == "" {
		t.Fatal("mediatest: Spec.Name is required")
	}
	if s.Width == 0 {
		s.Width = 320
	}
	if s.Height == 0 {
		s.Height = 240
	}
	if s.Rate == "" {
		s.Rate = "25"
	}
	ext := strings.ToLower(filepath.Ext(s.Name))
	if s.Codec == "" {
		switch ext {
		case ".mpg", ".mpeg", ".vob", ".ts", ".mts":
			s.Codec = "mpeg2video"
		case ".mkv":
			s.Codec = "ffv1"
		default:
			s.Codec = "libx264"
		}
	}
	if s.PixFmt == "" {
		s.PixFmt = "yuv420p"
		if s.Codec == "ffv1" {
			s.PixFmt = "bgr0"
		}
	}
	out := filepath.Join(dir, s.Name)
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}
	var stdin io.Reader
	video := s.Frames > 0
	if video {
		size := fmt.Sprintf("%dx%d", s.Width, s.Height)
		if s.Lavfi != "" {
			args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("%s=size=%s:rate=%s", s.Lavfi, size, s.Rate))
		} else {
			stdin = &patternReader{n: s.Frames, w: s.Width, h: s.Height}
			args = append(args, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", size, "-r", s.Rate, "-i", "pipe:0")
		}
	}
	if s.Audio {
		dur := 1.0
		if video {
			rate, err := strconv.ParseFloat(s.Rate, 64)
			if num, den, ok := strings.Cut(s.Rate, "/"); ok {
				n, _ := strconv.ParseFloat(num, 64)
				d, _ := strconv.ParseFloat(den, 64)
				rate, err = n/d, nil
			}
			if err != nil {
				t.Fatalf("mediatest: bad Rate %q", s.Rate)
			}
			dur = float64(s.Frames)/rate + s.VideoDelay
		}
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%g", dur))
	}
	switch {
	case video:
		args = append(args, "-map", "0:v")
		if s.Audio {
			args = append(args, "-map", "1:a")
		}
		var vf []string
		if s.Select != "" {
			vf = append(vf, "select='"+s.Select+"'")
		}
		if s.VideoDelay != 0 {
			vf = append(vf, fmt.Sprintf("setpts=PTS+%g/TB", s.VideoDelay))
		}
		if len(vf) > 0 {
			args = append(args, "-vf", strings.Join(vf, ","), "-vsync", "passthrough")
		}
		args = append(args, "-frames:v", strconv.Itoa(s.Frames), "-c:v", s.Codec, "-pix_fmt", s.PixFmt)
	case s.Audio:
		args = append(args, "-map", "0:a")
	default:
		// A container with no frames: what a recorder leaves when it
		// stops at once.
		args = append(args, "-f", "lavfi", "-i", "color=size=64x64:rate=25", "-frames:v", "0", "-c:v", "libx264")
	}
	args = append(args, s.Args...)
	if s.Rotate == 0 {
		run(t, ffmpeg, stdin, append(args, out))
		return out
	}
	// The encoder ignores rotate metadata; a stream copy sets it.
	tmp := filepath.Join(dir, "unrotated-"+s.Name)
	run(t, ffmpeg, stdin, append(args, tmp))
	run(t, ffmpeg, nil, []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", tmp,
		"-map", "0", "-c", "copy", "-metadata:s:v:0", "rotate=" + strconv.Itoa(s.Rotate), out})
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	return out
}

func run(t testing.TB, ffmpeg string, stdin io.Reader, args []string) {
	t.Helper()
	cmd := exec.Command(ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stderr = stdin, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mediatest: %v: %s\nffmpeg %s", err, stderr.String(), strings.Join(args, " "))
	}
}

// patternReader renders frames 0…n−1 of the pattern as rgb24, one frame at
// a time, so large videos need no large buffer.
type patternReader struct {
	n, w, h, i int
	frame      []byte
}

func (r *patternReader) Read(p []byte) (int, error) {
	if len(r.frame) == 0 {
		if r.i == r.n {
			return 0, io.EOF
		}
		r.frame = make([]byte, 0, r.w*r.h*3)
		for y := range r.h {
			for x := range r.w {
				c := Pixel(r.i, x, y, r.w, r.h)
				r.frame = append(r.frame, c[0], c[1], c[2])
			}
		}
		r.i++
	}
	n := copy(p, r.frame)
	r.frame = r.frame[n:]
	return n, nil
}

// Truncate writes the first keep bytes of src to a new file dst, imitating
// an interrupted copy, and returns dst.
func Truncate(t testing.TB, src, dst string, keep int64) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if keep > int64(len(b)) {
		t.Fatalf("mediatest: Truncate %s: keep %d > size %d", src, keep, len(b))
	}
	if err := os.WriteFile(dst, b[:keep], 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
