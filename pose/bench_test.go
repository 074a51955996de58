package pose

import (
	"context"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
)

// BenchmarkHolistic measures the whole keypoint pipeline, decoding
// included, on the 640×360 real clip with 2 threads (2 per model, or 1 per
// model in each of the pipeline's two stages): frames/s, CPU time per frame
// and each stage's share of the time (ms/frame and %; in the pipelined run
// the stages overlap, so the shares add up to more than 100 %).
//
//	go test -run '^$' -bench Holistic -benchtime 1x ./pose/
func BenchmarkHolistic(b *testing.B) {
	clip := filepath.Join(testenv.SharedDir(b, "media"), "demo-bsl-5s.mp4")
	m := testModels(b)
	tools, err := media.FindTools()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		complexity int
		opt        Options
	}{
		{"full", ComplexityFull, Options{Threads: 2}},
		{"full-pipelined", ComplexityFull, Options{Threads: 1, Pipeline: true}}, // two stages × 1 thread
		{"lite", ComplexityLite, Options{Threads: 2}},
	} {
		b.Run(c.name, func(b *testing.B) {
			mm := m
			if c.complexity != ComplexityFull {
				lm, err := LoadModels(filepath.Join(b.TempDir()), testenv.MediaPipePackage(b), c.complexity)
				if err != nil {
					b.Fatal(err)
				}
				mm = lm
			}
			tr, err := NewTracker(mm, c.opt)
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			frames := 0
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			for range b.N {
				sum, err := TrackVideo(context.Background(), tools, clip, tr, nil)
				if err != nil {
					b.Fatal(err)
				}
				frames += sum.Frames
			}
			el := time.Since(start)
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(frames)/el.Seconds(), "frames/s")
			// CPU time (this process, ffmpeg excluded) per frame: on a
			// machine shared with other jobs, wall time overstates the
			// cost; 2 threads fully busy would give 2 CPU-s per second.
			b.ReportMetric(cpu.Seconds()*1000/float64(frames), "cpu-ms/frame")
			var names []string
			for k := range tr.Stats.Time {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				d := tr.Stats.Time[k]
				b.Logf("%-14s %6.2f ms/frame  %5.1f %%  (%d runs)", k, float64(d.Microseconds())/1000/float64(frames), 100*d.Seconds()/el.Seconds(), tr.Stats.Runs[k])
			}
		})
	}
}

// cpuTime is the user and system time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
