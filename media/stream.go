package media

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"sync"
)

// Frame is one decoded, preprocessed frame.
type Frame struct {
	Index  int       // 0-based position in the output sequence
	TimeMs float64   // media time in milliseconds: Index × 1000 / FrameRate
	Data   []float32 // Preprocess.FrameLen() values in the Preprocess layout
}

// Stream delivers the frames of one video, in order, from an ffmpeg
// subprocess. Memory use is one 8-bit frame plus, for Next, one float
// frame, whatever the video's length: ffmpeg blocks on its output pipe until
// the caller asks for the next frame. A Stream is not safe for concurrent
// use. Always call Close.
type Stream struct {
	ctx      context.Context
	info     *Info
	p        Preprocess
	expected int
	frameLen int

	proc   *process
	raw    []byte    // one rgb24 frame from the pipe
	buf    []float32 // Next's reused output
	lut    [3][256]float32
	next   int
	err    error // sticky: once set, every read returns it
	closed bool
}

// process is the ffmpeg child.
type process struct {
	cmd    *exec.Cmd
	out    *os.File // read end of the frame pipe
	stderr *tailWriter
	*exit
}

// exit is what the reaping goroutine shares with the Stream. It does not
// reach the pipe, so an abandoned Stream's pipe is closed by its finalizer,
// which ends a blocked ffmpeg with a broken pipe, and the goroutine reaps it.
type exit struct {
	done chan struct{} // closed once the child has exited and been reaped
	err  error         // cmd.Wait's result, valid after done
}

// Open starts decoding the video at path with ffmpeg found by FindTools'
// rules. See Tools.Open.
func Open(ctx context.Context, path string, p Preprocess) (*Stream, error) {
	t, err := lookTools()
	if err != nil {
		return nil, err
	}
	return t.Open(ctx, path, p)
}

// Open probes the video at path and starts an ffmpeg process that decodes
// its first video stream, applies the display rotation, resamples it to
// p.FrameRate (dropping or repeating frames onto an even grid, so variable
// frame rates come out evenly spaced), resizes and crops it as p says, and
// writes raw RGB to a pipe. A p of Width and Height 0 keeps the video's
// displayed size, and then a zero FrameRate its own rate (NativeRGB).
// Frame i has media time i/p.FrameRate; see the package documentation for
// how that relates to the container's clock.
//
// The input is only read: nothing is written next to it or anywhere else.
// Cancelling ctx kills ffmpeg; the process is reaped even if Close is never
// called.
func (t Tools) Open(ctx context.Context, path string, p Preprocess) (*Stream, error) {
	native := p.Width == 0 && p.Height == 0
	if !native {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	info, err := t.Probe(ctx, path)
	if err != nil {
		return nil, err
	}
	if native {
		// The video's own size (and rate, when p has none): what keypoint
		// models want, which crop and warp what they need themselves.
		n := NativeRGB(info)
		p.Width, p.Height = n.Width, n.Height
		if p.FrameRate.IsZero() {
			p.FrameRate = n.FrameRate
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	s := &Stream{
		ctx:      ctx,
		info:     info,
		p:        p,
		expected: p.FrameRate.framesIn(info.End().Seconds()),
		frameLen: p.FrameLen(),
		lut:      p.luts(),
	}
	w, h := p.OutputSize()
	s.raw = make([]byte, w*h*3)
	s.proc, err = startFFmpeg(ctx, t.FFmpeg.Path, decodeArgs(info, p))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return s, nil
}

// decodeArgs builds the ffmpeg command line. -copyts keeps the container's
// own timestamps (ffmpeg would otherwise shift them by a start time that
// depends on which streams are mapped), setpts subtracts Origin, and the
// fps filter's start_time=0 anchors the output grid at media time 0.
func decodeArgs(in *Info, p Preprocess) []string {
	chain := p.Filter()
	if in.Origin != 0 {
		chain = fmt.Sprintf("setpts=PTS-%.9f/TB,", in.Origin.Seconds()) + chain
	}
	return []string{
		"-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "0",
		"-copyts", "-i", ffInput(in.Path),
		"-map", fmt.Sprintf("0:%d", in.Stream), "-an", "-sn", "-dn",
		"-vf", chain, "-vsync", "passthrough",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
	}
}

func startFFmpeg(ctx context.Context, bin string, args []string) (*process, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	ex := &exit{done: make(chan struct{})}
	pr := &process{cmd: cmd, out: r, stderr: &tailWriter{max: 4096}, exit: ex}
	// Stdout is our own pipe, not cmd.StdoutPipe, so that Wait may run at
	// once in the background without closing the reader under us.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, w, pr.stderr
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	w.Close()
	go func() {
		ex.err = cmd.Wait()
		close(ex.done)
	}()
	return pr, nil
}

// Info returns the probe result of the input.
func (s *Stream) Info() *Info { return s.info }

// Preprocess returns the preprocessing this stream applies.
func (s *Stream) Preprocess() Preprocess { return s.p }

// FrameLen returns the number of float32 values per frame.
func (s *Stream) FrameLen() int { return s.frameLen }

// ExpectedFrames estimates the number of frames the stream will deliver,
// from the probed duration × frame rate, for progress reports; 0 when the
// duration is unknown. The actual count may differ by a frame or two.
func (s *Stream) ExpectedFrames() int { return s.expected }

// Next returns the next frame, or io.EOF after the last one. Frame.Data is a
// buffer owned by the Stream and overwritten by the next call; use ReadFrame
// to decode into memory of your own.
func (s *Stream) Next() (Frame, error) {
	if s.buf == nil {
		s.buf = make([]float32, s.frameLen)
	}
	return s.ReadFrame(s.buf)
}

// ReadFrame decodes the next frame into dst[:FrameLen()], for example a
// slot of a batch tensor, and returns it with Data = dst[:FrameLen()]. At
// the end of the video it returns io.EOF. A failure of ffmpeg, output that
// ends inside a frame, or a video that stops well short of its probed
// duration while ffmpeg reports errors (a truncated file) is an error that
// quotes ffmpeg's last messages. After an error every call returns it.
func (s *Stream) ReadFrame(dst []float32) (Frame, error) {
	if s.err != nil {
		return Frame{}, s.err
	}
	if s.closed {
		return Frame{}, fmt.Errorf("decode %s: read after Close", s.info.Path)
	}
	if len(dst) < s.frameLen {
		return Frame{}, fmt.Errorf("decode %s: destination holds %d values, a frame needs %d", s.info.Path, len(dst), s.frameLen)
	}
	if err := s.ctx.Err(); err != nil {
		return Frame{}, s.fail(fmt.Errorf("decode %s: %w", s.info.Path, err))
	}
	_, err := io.ReadFull(s.proc.out, s.raw)
	if err != nil {
		return Frame{}, s.fail(s.endError(err))
	}
	dst = dst[:s.frameLen]
	s.convert(dst)
	f := Frame{Index: s.next, TimeMs: s.p.FrameRate.frameTimeMs(s.next), Data: dst}
	s.next++
	return f, nil
}

// fail records a sticky error; io.EOF is sticky too.
func (s *Stream) fail(err error) error {
	s.err = err
	return err
}

// endError turns the end of the pipe into io.EOF or a descriptive error,
// after waiting for ffmpeg's exit status.
func (s *Stream) endError(readErr error) error {
	path := s.info.Path
	if readErr != io.EOF && readErr != io.ErrUnexpectedEOF {
		return fmt.Errorf("decode %s: read from ffmpeg: %w", path, readErr)
	}
	<-s.proc.done
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	msg := ffMessage(s.proc.stderr.Bytes(), path)
	if s.proc.err != nil {
		if msg == "" {
			msg = "no message"
		}
		return fmt.Errorf("decode %s: ffmpeg failed after %d frames (%v): %s", path, s.next, s.proc.err, msg)
	}
	if readErr == io.ErrUnexpectedEOF {
		return fmt.Errorf("decode %s: ffmpeg output ended inside frame %d: %s", path, s.next, msg)
	}
	if s.next == 0 {
		if msg == "" {
			msg = "no message"
		}
		return fmt.Errorf("decode %s: ffmpeg decoded no frames from the video stream; the file is damaged or its codec is unsupported (ffmpeg: %s)", path, msg)
	}
	// ffmpeg exits 0 on a truncated file after decoding what it can, and
	// says so on stderr. Missing more than a second of the probed duration
	// with such messages means the file is damaged.
	slack := max(int(math.Ceil(s.p.FrameRate.Float64())), s.expected/50)
	if s.proc.stderr.Total() > 0 && s.next < s.expected-slack {
		return fmt.Errorf("decode %s: video ended after %d of about %d frames; the file seems truncated or damaged (ffmpeg: %s)", path, s.next, s.expected, msg)
	}
	return io.EOF
}

// convert turns the rgb24 frame in s.raw into normalised floats in dst.
func (s *Stream) convert(dst []float32) {
	raw := s.raw
	n := len(raw) / 3
	l0, l1, l2 := &s.lut[0], &s.lut[1], &s.lut[2]
	switch {
	case s.p.color() == "gray":
		for i := range n {
			dst[i] = l0[raw[3*i]] + l1[raw[3*i+1]] + l2[raw[3*i+2]]
		}
	case s.p.layout() == "hwc":
		for i := range n {
			dst[3*i] = l0[raw[3*i]]
			dst[3*i+1] = l1[raw[3*i+1]]
			dst[3*i+2] = l2[raw[3*i+2]]
		}
	default:
		r, g, b := dst[:n], dst[n:2*n], dst[2*n:3*n]
		for i := range n {
			px := raw[3*i : 3*i+3 : 3*i+3]
			r[i] = l0[px[0]]
			g[i] = l1[px[1]]
			b[i] = l2[px[2]]
		}
	}
}

// Close stops ffmpeg if it is still running, waits for it to exit and
// releases the pipe. It is safe to call more than once, and stopping before
// the end of the video is not an error.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	select {
	case <-s.proc.done:
	default:
		// Killing rather than closing the pipe first avoids ffmpeg
		// printing a broken-pipe error; both end it.
		_ = s.proc.cmd.Process.Kill()
		<-s.proc.done
	}
	return s.proc.out.Close()
}

// tailWriter keeps the last max bytes written to it (ffmpeg's stderr), so a
// chatty ffmpeg cannot grow memory.
type tailWriter struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	total int64
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total += int64(len(p))
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.max:]...)
	}
	return len(p), nil
}

// Bytes returns a copy of the retained tail.
func (w *tailWriter) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.buf...)
}

// Total returns how many bytes were written in all.
func (w *tailWriter) Total() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}
