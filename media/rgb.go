package media

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// RGBFrame is one decoded frame as 8-bit RGB, row by row, at the video's
// displayed size (rotation applied).
type RGBFrame struct {
	Index  int     // 0-based position in the output sequence
	TimeMs float64 // media time in milliseconds: Index × 1000 / FrameRate
	Width  int
	Height int
	Pix    []byte // Width·Height·3 bytes, R G B per pixel
}

// NativeRGB returns the preprocessing that keeps a video as it is shown:
// its displayed size (after rotation), its nominal frame rate (the average
// rate when the nominal one is missing; 25 fps when both are) and RGB
// samples in HWC order. Pose estimation wants this: it crops and warps the
// regions it needs itself.
func NativeRGB(in *Info) Preprocess {
	rate := in.FrameRate
	if rate.IsZero() || rate.Float64() > 240 {
		rate = in.AvgFrameRate
	}
	if rate.IsZero() {
		rate = Rational{25, 1}
	}
	w, h := in.DisplaySize()
	return Preprocess{FrameRate: rate, Width: w, Height: h, Scaler: "bilinear", Color: "rgb", Layout: "hwc"}
}

// OpenRGB opens the video at path for ReadRGB at its native size and frame
// rate (NativeRGB), with ffmpeg found by FindTools' rules.
func OpenRGB(ctx context.Context, path string) (*Stream, error) {
	t, err := lookTools()
	if err != nil {
		return nil, err
	}
	return t.OpenRGB(ctx, path)
}

// OpenRGB opens the video at path with NativeRGB's preprocessing (Open
// with no size and no rate). Read frames with ReadRGB (Next and ReadFrame
// work too, as floats in [0,1]).
func (t Tools) OpenRGB(ctx context.Context, path string) (*Stream, error) {
	return t.Open(ctx, path, Preprocess{Scaler: "bilinear", Color: "rgb", Layout: "hwc"})
}

// ReadRGB returns the next frame as 8-bit RGB without conversion, or io.EOF
// after the last one. Pix is a buffer owned by the Stream, overwritten by
// the next call. Errors are those of ReadFrame.
func (s *Stream) ReadRGB() (RGBFrame, error) {
	if s.err != nil {
		return RGBFrame{}, s.err
	}
	if s.closed {
		return RGBFrame{}, fmt.Errorf("decode %s: read after Close", s.info.Path)
	}
	if err := s.ctx.Err(); err != nil {
		return RGBFrame{}, s.fail(fmt.Errorf("decode %s: %w", s.info.Path, err))
	}
	if _, err := io.ReadFull(s.proc.out, s.raw); err != nil {
		return RGBFrame{}, s.fail(s.endError(err))
	}
	w, h := s.p.OutputSize()
	f := RGBFrame{Index: s.next, TimeMs: s.p.FrameRate.frameTimeMs(s.next), Width: w, Height: h, Pix: s.raw}
	s.next++
	return f, nil
}

// RGBWriter encodes 8-bit RGB frames into a video file (H.264 in MP4 or
// MKV, by ffmpeg's choice from the name) through an ffmpeg subprocess.
// Close it to finish the file.
type RGBWriter struct {
	path   string
	w, h   int
	cmd    *exec.Cmd
	in     io.WriteCloser
	stderr *tailWriter
	err    error
}

// CreateRGB starts ffmpeg writing a w×h video of the given frame rate to
// path (overwriting it).
func (t Tools) CreateRGB(ctx context.Context, path string, w, h int, rate Rational) (*RGBWriter, error) {
	if w <= 0 || h <= 0 || rate.IsZero() {
		return nil, fmt.Errorf("encode %s: bad size %dx%d or frame rate %s", path, w, h, rate)
	}
	// libx264 with yuv420p wants even sizes: pad by one pixel if needed.
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", w, h), "-r", rate.String(), "-i", "pipe:0",
		"-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
		"-pix_fmt", "yuv420p", "file:" + path}
	cmd := exec.CommandContext(ctx, t.FFmpeg.Path, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	tw := &tailWriter{max: 4096}
	cmd.Stdout, cmd.Stderr = nil, tw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("encode %s: start %s: %w", path, t.FFmpeg.Path, err)
	}
	return &RGBWriter{path: path, w: w, h: h, cmd: cmd, in: in, stderr: tw}, nil
}

// Write encodes one frame of w·h·3 bytes.
func (e *RGBWriter) Write(pix []byte) error {
	if e.err != nil {
		return e.err
	}
	if len(pix) != e.w*e.h*3 {
		return fmt.Errorf("encode %s: frame of %d bytes, want %d", e.path, len(pix), e.w*e.h*3)
	}
	if _, err := e.in.Write(pix); err != nil {
		e.err = fmt.Errorf("encode %s: %w (ffmpeg: %s)", e.path, err, e.waitMessage())
		return e.err
	}
	return nil
}

func (e *RGBWriter) waitMessage() string {
	_ = e.in.Close()
	_ = e.cmd.Wait()
	return ffMessage(e.stderr.Bytes(), e.path)
}

// Close finishes the file and waits for ffmpeg.
func (e *RGBWriter) Close() error {
	if e.err != nil {
		return e.err
	}
	if err := e.in.Close(); err != nil && err != os.ErrClosed {
		return fmt.Errorf("encode %s: %w", e.path, err)
	}
	if err := e.cmd.Wait(); err != nil {
		return fmt.Errorf("encode %s: ffmpeg: %v: %s", e.path, err, ffMessage(e.stderr.Bytes(), e.path))
	}
	e.err = fmt.Errorf("encode %s: writer closed", e.path)
	return nil
}
