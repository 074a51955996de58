package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/signseg/signseg/segment"
)

// progress reports frames processed on stderr: a redrawn bar on a
// terminal, a plain line every few seconds otherwise, nothing when quiet.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	quiet bool
	every time.Duration // plain mode: seconds between lines
	last  time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	return &progress{w: w, tty: isTerminal(w), quiet: quiet, every: 10 * time.Second}
}

// terminal is a writer that says whether it is a terminal: tests pass one
// as stderr to take the terminal path in process.
type terminal interface {
	io.Writer
	isTerminal() bool
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	switch f := w.(type) {
	case *os.File:
		return isatty.IsTerminal(f.Fd())
	case terminal:
		return f.isTerminal()
	}
	return false
}

// file returns the callback for one video of one file.
func (p *progress) file(eafPath, video string) segment.Progress {
	if p == nil || p.quiet {
		return nil
	}
	name := filepath.Base(eafPath)
	if video != "" && filepath.Base(video) != name {
		name += " (" + filepath.Base(video) + ")"
	}
	start := time.Now()
	return func(done, total int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		now := time.Now()
		finished := total > 0 && done >= total
		if p.tty {
			// Redraw at most 10 times a second.
			if now.Sub(p.last) < 100*time.Millisecond && !finished {
				return
			}
			p.last = now
			fmt.Fprintf(p.w, "\r\033[K%s", bar(name, done, total, now.Sub(start)))
			if finished {
				fmt.Fprintln(p.w)
			}
			return
		}
		if now.Sub(start) >= p.every && now.Sub(p.last) >= p.every {
			p.last = now
			fmt.Fprintln(p.w, bar(name, done, total, now.Sub(start)))
		}
	}
}

// done ends a bar line on a terminal when a file ends early.
func (p *progress) done() {
	if p == nil || p.quiet || !p.tty {
		return
	}
	p.mu.Lock()
	fmt.Fprint(p.w, "\r\033[K")
	p.mu.Unlock()
}

// bar formats "name [#####     ] 50% 1200/2400 frames, 300 fps, ETA 4s".
func bar(name string, done, total int, elapsed time.Duration) string {
	fps := float64(done) / max(elapsed.Seconds(), 1e-3)
	if total <= 0 {
		return fmt.Sprintf("%s: %d frames, %.0f fps", name, done, fps)
	}
	frac := min(float64(done)/float64(total), 1)
	const width = 20
	n := int(frac * width)
	b := make([]byte, width)
	for i := range b {
		b[i] = ' '
		if i < n {
			b[i] = '#'
		}
	}
	eta := time.Duration(float64(total-min(done, total))/max(fps, 1e-3)) * time.Second
	return fmt.Sprintf("%s [%s] %3.0f%% %d/%d frames, %.0f fps, ETA %s", name, b, frac*100, done, total, fps, eta.Round(time.Second))
}
