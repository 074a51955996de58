// Package synth renders synthetic "signer" videos with known sign
// boundaries, for tests and the demo.
//
// A video shows a static body (torso and head) and a hand that performs a
// sequence of moves. Each move ("sign") carries the hand along a wavy path
// from one place in the signing space to the next; between moves the hand
// holds still for a few frames (the transition, i.e. the boundary). The
// ground truth is exact because the generator decides it.
//
// This tests the machinery (decoding, features, changepoints, metrics,
// file handling) end to end; it says nothing about real signing.
package synth

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand"
	"os/exec"
	"strconv"
)

// Options describe the video to render. Zero fields take the defaults.
type Options struct {
	Seed          int64
	Width, Height int // default 640×360
	FPS           int // default 25
	Signs         int // default 12
	// MinSign and MaxSign bound a move's length in frames (default 10–24).
	MinSign, MaxSign int
	// MinHold and MaxHold bound a hold's length in frames (default 4–7).
	MinHold, MaxHold int
	// Lead and Tail are still frames before the first and after the last
	// move (default 10).
	Lead, Tail int
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Width, 640)
	def(&o.Height, 360)
	def(&o.FPS, 25)
	def(&o.Signs, 12)
	def(&o.MinSign, 10)
	def(&o.MaxSign, 24)
	def(&o.MinHold, 4)
	def(&o.MaxHold, 7)
	def(&o.Lead, 10)
	def(&o.Tail, 10)
	return o
}

// Span is a half-open range of frames [Start, End).
type Span struct{ Start, End int }

// Truth is what was rendered: the moves as frame spans.
type Truth struct {
	FPS    int
	Frames int
	Signs  []Span
}

// MS returns a frame index's time in ms.
func (t Truth) MS(frame int) int64 { return int64(frame) * 1000 / int64(t.FPS) }

// Plan decides the moves and the hand's position in every frame without
// rendering anything.
func Plan(opt Options) (Truth, [][2]float64) {
	opt = opt.withDefaults()
	rng := rand.New(rand.NewSource(opt.Seed))
	w, h := float64(opt.Width), float64(opt.Height)
	// The signing space: in front of the torso, below the head.
	place := func() [2]float64 {
		return [2]float64{w*0.3 + rng.Float64()*w*0.4, h*0.35 + rng.Float64()*h*0.45}
	}
	var pos [][2]float64
	cur := place()
	hold := func(n int) {
		for i := 0; i < n; i++ {
			pos = append(pos, cur)
		}
	}
	hold(opt.Lead)
	var signs []Span
	for s := 0; s < opt.Signs; s++ {
		if s > 0 {
			hold(opt.MinHold + rng.Intn(opt.MaxHold-opt.MinHold+1))
		}
		n := opt.MinSign + rng.Intn(opt.MaxSign-opt.MinSign+1)
		next := place()
		// A wavy path: straight line plus a sideways sine with 1–3 half
		// waves, so the hand never stops inside a move.
		waves := float64(1 + rng.Intn(3))
		amp := (0.04 + 0.06*rng.Float64()) * h
		dx, dy := next[0]-cur[0], next[1]-cur[1]
		l := math.Hypot(dx, dy) + 1e-9
		nx, ny := -dy/l, dx/l
		start := len(pos)
		for i := 1; i <= n; i++ {
			u := float64(i) / float64(n)
			e := u * u * (3 - 2*u) // smooth start and stop
			off := amp * math.Sin(math.Pi*waves*u)
			pos = append(pos, [2]float64{cur[0] + dx*e + nx*off, cur[1] + dy*e + ny*off})
		}
		signs = append(signs, Span{start, len(pos)})
		cur = next
	}
	hold(opt.Tail)
	return Truth{FPS: opt.FPS, Frames: len(pos), Signs: signs}, pos
}

// Render writes the video to path (H.264 MP4, or whatever the extension
// tells ffmpeg) and returns the ground truth.
func Render(ctx context.Context, ffmpeg, path string, opt Options) (Truth, error) {
	opt = opt.withDefaults()
	truth, pos := Plan(opt)
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", opt.Width, opt.Height),
		"-r", strconv.Itoa(opt.FPS), "-i", "pipe:0",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return Truth{}, err
	}
	if err := cmd.Start(); err != nil {
		return Truth{}, fmt.Errorf("start %s: %w", ffmpeg, err)
	}
	bw := bufio.NewWriterSize(stdin, 1<<20)
	frame := make([]byte, opt.Width*opt.Height*3)
	bg := background(opt.Width, opt.Height)
	noise := rand.New(rand.NewSource(opt.Seed + 1))
	var werr error
	for _, p := range pos {
		copy(frame, bg)
		disc(frame, opt.Width, opt.Height, p[0], p[1], float64(opt.Height)*0.06, [3]byte{230, 180, 150})
		// Mild sensor noise, so a still hand is not perfectly still.
		for i := 0; i < len(frame); i += 97 {
			frame[i] = byte(min(255, max(0, int(frame[i])+noise.Intn(7)-3)))
		}
		if _, werr = bw.Write(frame); werr != nil {
			break
		}
	}
	if werr == nil {
		werr = bw.Flush()
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return Truth{}, fmt.Errorf("ffmpeg encoding %s: %v: %s", path, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if werr != nil {
		return Truth{}, fmt.Errorf("ffmpeg encoding %s: %w", path, werr)
	}
	return truth, nil
}

// background draws the static scene: a grey wall, a torso and a head.
func background(w, h int) []byte {
	img := make([]byte, w*h*3)
	for i := 0; i < len(img); i += 3 {
		img[i], img[i+1], img[i+2] = 90, 100, 110
	}
	fw, fh := float64(w), float64(h)
	ellipse(img, w, h, fw*0.5, fh*1.0, fw*0.22, fh*0.55, [3]byte{40, 50, 80})
	disc(img, w, h, fw*0.5, fh*0.22, fh*0.14, [3]byte{200, 160, 130})
	return img
}

func disc(img []byte, w, h int, cx, cy, r float64, c [3]byte) {
	ellipse(img, w, h, cx, cy, r, r, c)
}

func ellipse(img []byte, w, h int, cx, cy, rx, ry float64, c [3]byte) {
	y0, y1 := max(0, int(cy-ry)), min(h-1, int(cy+ry)+1)
	x0, x1 := max(0, int(cx-rx)), min(w-1, int(cx+rx)+1)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			if dx*dx+dy*dy <= 1 {
				i := (y*w + x) * 3
				img[i], img[i+1], img[i+2] = c[0], c[1], c[2]
			}
		}
	}
}
