package pose

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
)

// BenchmarkHolistic measures the whole keypoint pipeline, decoding
// included, on the 640×360 real clip with 2 threads per model: frames/s and
// each stage's share of the time (ms/frame and %).
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
	}{{"full", ComplexityFull}, {"lite", ComplexityLite}} {
		b.Run(c.name, func(b *testing.B) {
			mm := m
			if c.complexity != ComplexityFull {
				lm, err := LoadModels(filepath.Join(b.TempDir()), testenv.MediaPipePackage(b), c.complexity)
				if err != nil {
					b.Fatal(err)
				}
				mm = lm
			}
			tr, err := NewTracker(mm, Options{Threads: 2})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			frames := 0
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				sum, err := TrackVideo(context.Background(), tools, clip, tr, nil)
				if err != nil {
					b.Fatal(err)
				}
				frames += sum.Frames
			}
			el := time.Since(start)
			b.ReportMetric(float64(frames)/el.Seconds(), "frames/s")
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
