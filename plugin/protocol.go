package plugin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Result lines. ELAN compares them with equals, so nothing may follow.
const (
	ResultDone   = "RESULT: DONE."
	ResultFailed = "RESULT: FAILED."
)

// MaxProgress is the highest progress printed: ELAN treats 1.0 as
// "finished" and reads the output at once, so 1.0 is never printed; the
// RESULT line ends the run instead.
const MaxProgress = 0.99

// ProgressFunc reports a fraction of the work done (0–1) and a short note.
type ProgressFunc func(fraction float64, message string)

// Runner does the segmentation for Recognize. It reports its own progress
// as fractions 0–1, which Recognize maps onto part of ELAN's bar, and must
// stop when ctx is cancelled.
type Runner func(ctx context.Context, req Request, progress ProgressFunc) (Result, error)

// Protocol writes the stdout side of ELAN's recognizer protocol:
// PROGRESS lines that never go backwards, never reach 1.0 and come at most
// every percent or every two seconds; plain ASCII report lines; and one
// RESULT line at the end. It is safe for concurrent use. A failed write
// (ELAN closed the pipe) is kept for Err and reported to NewProtocol's
// onBroken callback.
type Protocol struct {
	mu       sync.Mutex
	w        *bufio.Writer
	last     float64
	lastAt   time.Time
	lastMsg  string
	err      error
	ended    bool
	onBroken func()
	now      func() time.Time
}

// NewProtocol writes to w. onBroken, if not nil, is called once when a
// write fails, so that the caller can stop the work nobody listens to.
func NewProtocol(w io.Writer, onBroken func()) *Protocol {
	return &Protocol{w: bufio.NewWriter(w), last: -1, onBroken: onBroken, now: time.Now}
}

// Progress prints "PROGRESS: <fraction> <message>" when the value grew by
// at least 0.01 since the last line, or after two seconds when the value
// or message changed. The value is capped at MaxProgress and never lower than
// the last one printed.
func (p *Protocol) Progress(fraction float64, message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	if !(fraction >= 0) { // also NaN
		fraction = 0
	}
	fraction = float64(int(min(fraction, MaxProgress)*100+1e-9)) / 100 // 2 decimals, rounded down
	fraction = max(fraction, p.last, 0)
	message = asciiLine(message)
	now := p.now()
	if p.last >= 0 && fraction < p.last+0.01 && (now.Sub(p.lastAt) < 2*time.Second || fraction == p.last && message == p.lastMsg) {
		return
	}
	line := fmt.Sprintf("PROGRESS: %.2f", fraction)
	if message != "" {
		line += " " + message
	}
	p.last, p.lastAt, p.lastMsg = fraction, now, message
	p.writeLine(line)
}

// Info prints a report line (ASCII, never one ELAN would take for a
// protocol keyword).
func (p *Protocol) Info(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	for _, line := range strings.Split(fmt.Sprintf(format, a...), "\n") {
		p.writeLine(reportLine(line))
	}
}

// End prints the RESULT line for err (DONE when nil, else the reason and
// FAILED) and stops all further output.
func (p *Protocol) End(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			p.writeLine(reportLine("ERROR: " + line))
		}
		p.writeLine(ResultFailed)
	} else {
		p.writeLine(ResultDone)
	}
	p.ended = true
}

// Err returns the first write error.
func (p *Protocol) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *Protocol) writeLine(line string) {
	if p.err != nil {
		return
	}
	p.w.WriteString(line)
	p.w.WriteByte('\n')
	if err := p.w.Flush(); err != nil {
		p.err = fmt.Errorf("write to ELAN: %w", err)
		if p.onBroken != nil {
			p.onBroken()
		}
	}
}

// asciiLine keeps a message on one printable ASCII line: ELAN decodes
// stdout in the platform charset. Other characters become '?'.
func asciiLine(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// reportLine makes s a safe report line: ASCII, and never "0", a RESULT
// or PROGRESS line, or a control character, which ELAN would act on.
func reportLine(s string) string {
	s = strings.ReplaceAll(asciiLine(s), "PROGRESS:", "PROGRESS -")
	if s == "0" || strings.HasPrefix(s, "RESULT:") {
		s = "signseg: " + s
	}
	return s
}

// Progress phases of a run, as fractions of ELAN's bar.
const (
	progressStart = 0.01 // first line, so the bar leaves its busy state
	progressRun   = 0.03 // the Runner's 0 maps here...
	progressEnd   = 0.95 // ...and its 1 here
	progressWrite = 0.97 // writing the output
)

// Recognize runs one recognizer call: it reads the parameter document
// (params, already read from stdin), asks run for the result, writes the
// output tiers atomically and prints the protocol lines on out. It returns
// nil after RESULT: DONE., or the error that was reported before RESULT:
// FAILED. It never returns without a RESULT line, even when run panics.
// Cancelling ctx (SIGTERM from ELAN's Stop button) stops run and leaves
// the output file as it was.
func Recognize(ctx context.Context, spec Spec, params Params, out *Protocol, run Runner) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error (please report it): %v\n%s", r, firstLines(string(debug.Stack()), 12))
		}
		if err == nil {
			err = out.Err()
		}
		out.End(err)
	}()
	out.Progress(progressStart, "reading parameters")
	req, err := NewRequest(spec, params)
	if err != nil {
		return err
	}
	res, err := run(ctx, req, func(f float64, msg string) {
		out.Progress(progressRun+(progressEnd-progressRun)*min(max(f, 0), 1), msg)
	})
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return errStopped
		}
		return err
	}
	out.Progress(progressWrite, "writing tiers")
	data, err := MarshalTiers(req.Tiers(res))
	if err != nil {
		return err
	}
	if err := out.Err(); err != nil {
		return err // nobody is listening: leave the file alone
	}
	if ctx.Err() != nil {
		return errStopped
	}
	if err := WriteFileAtomic(req.Output, data); err != nil {
		return err
	}
	n := 0
	for _, t := range req.Tiers(res) {
		n += len(t.Spans)
	}
	out.Info("signseg: wrote %d segments to %s", n, req.Output)
	for _, w := range res.Warnings {
		out.Info("signseg: warning: %s", w)
	}
	if req.SentencesOutput == "" {
		return nil
	}
	if res.Sentences == nil {
		out.Info("signseg: this model finds no sentences; %s was left as it was", req.SentencesOutput)
		return nil
	}
	if data, err = MarshalTiers(SentenceTiers(res)); err != nil {
		return err
	}
	if err := WriteFileAtomic(req.SentencesOutput, data); err != nil {
		return err
	}
	out.Info("signseg: wrote %d sentences to %s", len(res.Sentences), req.SentencesOutput)
	return nil
}

// errStopped is the reason given when ELAN's Stop button (SIGTERM) or a
// closed pipe cancelled the run.
var errStopped = errors.New("stopped before the end; the output file was not changed")

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
