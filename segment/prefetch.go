package segment

import (
	"context"
	"fmt"
	"sync"

	"github.com/signseg/signseg/media"
)

// prefetcher decodes frames in its own goroutine into a pool of depth
// buffers, so that ffmpeg and the preprocessing run while the model does.
// Memory is bounded by the pool.
type prefetcher struct {
	ready  chan prefetched
	free   chan []float32
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error // sticky error or io.EOF, after the last frame
}

type prefetched struct {
	buf []float32
	fr  media.Frame
	err error
}

// prefetch starts decoding src into frames of frameLen values, at most
// depth ahead of the reader.
func prefetch(ctx context.Context, src Frames, frameLen, depth int) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	depth = max(depth, 1)
	p := &prefetcher{ready: make(chan prefetched, depth), free: make(chan []float32, depth), ctx: ctx, cancel: cancel}
	for range depth {
		p.free <- make([]float32, frameLen)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.ready)
		for {
			var buf []float32
			select {
			case buf = <-p.free:
			case <-ctx.Done():
				return
			}
			fr, err := src.ReadFrame(buf)
			select {
			case p.ready <- prefetched{buf: buf, fr: fr, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

// ReadFrame copies the next decoded frame into dst.
func (p *prefetcher) ReadFrame(dst []float32) (media.Frame, error) {
	if p.err != nil {
		return media.Frame{}, p.err
	}
	item, ok := <-p.ready
	if !ok {
		// The goroutine stopped on cancellation (close or the caller's
		// context) before it could hand over a frame.
		p.err = fmt.Errorf("decoding stopped: %w", p.ctx.Err())
		return media.Frame{}, p.err
	}
	if item.err != nil {
		p.err = item.err
		return media.Frame{}, item.err
	}
	n := copy(dst, item.buf)
	fr := item.fr
	fr.Data = dst[:n]
	p.free <- item.buf
	return fr, nil
}

// close stops the decoding goroutine and waits for it, so that the source
// is no longer read when close returns (the caller may then close it).
func (p *prefetcher) close() {
	p.cancel()
	p.wg.Wait()
}
