package segment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// BenchmarkDefaultModel640x360 measures the whole default model, hands
// (decoding with ffmpeg, MediaPipe Holistic keypoints, the hands rule), on
// the 640×360, 25 fps real clip with 2 threads, and reports frames per
// second, the real-time factor and the minutes one hour of such video
// takes.
//
//	go test -run '^$' -bench DefaultModel -benchtime 3x ./segment/
func BenchmarkDefaultModel640x360(b *testing.B) {
	clip := filepath.Join(testenv.SharedDir(b, "media"), "demo-bsl-5s.mp4")
	_, seg := keypointSegmenter(b, DefaultModel)
	frames := 0
	b.ResetTimer()
	for range b.N {
		stream, err := media.Open(context.Background(), clip, seg.Preprocess())
		if err != nil {
			b.Fatal(err)
		}
		res, err := seg.Segment(context.Background(), stream, stream.ExpectedFrames(), nil)
		stream.Close()
		if err != nil {
			b.Fatal(err)
		}
		frames += res.Frames
	}
	fps := float64(frames) / b.Elapsed().Seconds()
	b.ReportMetric(fps, "frames/s")
	b.ReportMetric(fps/25, "x-realtime")
	b.ReportMetric(3600*25/fps/60, "min/hour-of-video")
}

// BenchmarkMotionModel640x360 measures the motion model (decoding with
// ffmpeg, motion features, changepoints, decoding) on a 640×360 synthetic
// video and reports frames per second and the real-time factor.
func BenchmarkMotionModel640x360(b *testing.B) {
	initORT(b)
	ffmpeg := testenv.Tool(b, "ffmpeg")
	path := filepath.Join(b.TempDir(), "signer.mp4")
	truth, err := synth.Render(context.Background(), ffmpeg, path, synth.Options{Seed: 1, Signs: 40})
	if err != nil {
		b.Fatal(err)
	}
	m, seg := motionSegmenter(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stream, err := media.Open(context.Background(), path, m.Features.Preprocess)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := seg.Segment(context.Background(), stream, 0, nil); err != nil {
			b.Fatal(err)
		}
		stream.Close()
	}
	perRun := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(truth.Frames)/perRun, "frames/s")
	b.ReportMetric(float64(truth.Frames)/25/perRun, "x-realtime")
}

// BenchmarkTemporal90k runs the paper-sized MS-TCN (4 stages, 10 layers,
// 64 maps, 1024-d input) over one hour of features (90,000 frames at
// 25 fps), in overlapping windows as Segment does, and reports the
// process's peak resident memory.
func BenchmarkTemporal90k(b *testing.B) {
	initORT(b)
	dims := onnxgraph.MSTCNDims{S: 4, L: 10, F: 64, D: 1024, C: 2}
	w, err := onnxgraph.RandomMSTCN(rand.New(rand.NewPCG(1, 2)), dims)
	if err != nil {
		b.Fatal(err)
	}
	model, err := onnxgraph.BuildMSTCN(w, onnxgraph.MSTCNOptions{BoundaryClass: 1})
	if err != nil {
		b.Fatal(err)
	}
	sess, err := ortsession.New("mstcn", model, []string{onnxgraph.MSTCNInput}, []string{onnxgraph.MSTCNBoundary}, ortsession.Options{Threads: 0})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	const T = 90000
	seq := &Features{Dim: dims.D, Data: make([]float32, T*dims.D)}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range seq.Data {
		seq.Data[i] = float32(rng.NormFloat64())
	}
	for _, win := range []int{T, defaultMaxWindow} {
		b.Run(fmt.Sprintf("window=%d", win), func(b *testing.B) {
			r := &thresholdScorer{sess: sess, spec: TemporalSpec{OutputKind: OutputProbability, ReceptiveField: dims.ReceptiveField()}, dim: dims.D, maxWindow: win}
			for i := 0; i < b.N; i++ {
				if _, err := r.boundaryProbabilities(context.Background(), seq); err != nil {
					b.Fatal(err)
				}
			}
			if kb, ok := peakRSSKiB(); ok {
				b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
			}
		})
	}
}

// peakRSSKiB reads VmHWM, the process's peak resident set, on Linux.
func peakRSSKiB() (int, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb, true
			}
		}
	}
	return 0, false
}
