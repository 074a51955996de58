package media

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media/mediatest"
)

// BenchmarkDecode measures decoding throughput of H.264 (ffmpeg's testsrc2
// pattern, 20 s at 25 fps) into the paper's 224×224 float32 frames. It
// reports frames/s over the whole Open…EOF, steady-frames/s after the first
// frame, and first-frame-ms: the fixed cost of starting ffprobe and ffmpeg.
func BenchmarkDecode(b *testing.B) {
	for _, size := range [][2]int{{640, 360}, {1280, 720}, {1920, 1080}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			path := mediatest.Generate(b, b.TempDir(), mediatest.Spec{Name: "bench.mp4", Frames: 500,
				Width: size[0], Height: size[1], Lavfi: "testsrc2", Args: []string{"-preset", "veryfast"}})
			benchDecode(b, path, 500)
		})
	}
}

// BenchmarkDecodeDemo decodes the paper's demo clip (640×360 BSL signing).
func BenchmarkDecodeDemo(b *testing.B) {
	benchDecode(b, filepath.Join(testenv.SharedDir(b, "media"), "demo-bsl-5s.mp4"), 125)
}

func benchDecode(b *testing.B, path string, want int) {
	p := PaperI3D()
	dst := make([]float32, p.FrameLen())
	frames := 0
	var startup, steady time.Duration
	for b.Loop() {
		t0 := time.Now()
		s, err := Open(context.Background(), path, p)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		var t1 time.Time
		for {
			_, err := s.ReadFrame(dst)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				t1 = time.Now()
				startup += t1.Sub(t0)
			}
			n++
		}
		steady += time.Since(t1)
		s.Close()
		if n != want {
			b.Fatalf("decoded %d frames, want %d", n, want)
		}
		frames += n
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(frames-b.N)/steady.Seconds(), "steady-frames/s")
	b.ReportMetric(float64(startup.Milliseconds())/float64(b.N), "first-frame-ms")
}
