package onnxgraph

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// peakRSSMiB returns the process's peak resident set (VmHWM) in MiB, or -1.
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkMSTCN90k runs the paper-sized MS-TCN (S=4, L=10, F=64, D=1024,
// C=2) over one hour of 25 fps features in a single pass on 2 intra-op
// threads, with ORT's thread spinning on (default) and off.
func BenchmarkMSTCN90k(b *testing.B) {
	initORT(b)
	const T = 90000
	d := MSTCNDims{S: 4, L: 10, F: 64, D: 1024, C: 2}
	rng := rand.New(rand.NewPCG(1, 2))
	w, err := RandomMSTCN(rng, d)
	if err != nil {
		b.Fatal(err)
	}
	model, err := BuildMSTCN(w, MSTCNOptions{BoundaryClass: 1})
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, d.D*T)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	in, err := ort.NewTensor(ort.NewShape(1, int64(d.D), T), x)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Destroy()
	for _, spin := range []string{"1", "0"} {
		b.Run("spinning="+spin, func(b *testing.B) {
			opts, err := ort.NewSessionOptions()
			if err != nil {
				b.Fatal(err)
			}
			defer opts.Destroy()
			for _, e := range []error{opts.SetIntraOpNumThreads(2), opts.SetInterOpNumThreads(1),
				opts.AddSessionConfigEntry("session.intra_op.allow_spinning", spin)} {
				if e != nil {
					b.Fatal(e)
				}
			}
			s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{MSTCNInput}, []string{MSTCNBoundary}, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Destroy()
			runLoop(b, s, in)
			b.ReportMetric(peakRSSMiB(), "peakRSS-MiB")
		})
	}
}

// BenchmarkMotion measures the motion extractor on batches of 32 clips of
// 64×64 frames with 2 intra-op threads.
func BenchmarkMotion(b *testing.B) {
	initORT(b)
	for _, batch := range []int{32} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			model, err := BuildMotion(MotionConfig{})
			if err != nil {
				b.Fatal(err)
			}
			opts, err := ort.NewSessionOptions()
			if err != nil {
				b.Fatal(err)
			}
			defer opts.Destroy()
			if err := opts.SetIntraOpNumThreads(2); err != nil {
				b.Fatal(err)
			}
			s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{MotionInput}, []string{MotionOutput}, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Destroy()
			rng := rand.New(rand.NewPCG(3, 4))
			clips := squareClips(rng, batch, DefaultMotionSize, DefaultMotionSize, 2, 1)
			in, err := ort.NewTensor(ort.NewShape(int64(batch), 3, MotionFrames, DefaultMotionSize, DefaultMotionSize), clips)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Destroy()
			runLoop(b, s, in)
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "clips/s")
		})
	}
}

// BenchmarkReferenceMotion is the pure-Go reference, for comparison.
func BenchmarkReferenceMotion(b *testing.B) {
	clips := squareClips(rand.New(rand.NewPCG(3, 4)), 32, DefaultMotionSize, DefaultMotionSize, 2, 1)
	for b.Loop() {
		if _, err := ReferenceMotion(MotionConfig{}, clips, 32); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "clips/s")
}

// runLoop runs s on in for the benchmark's iterations.
func runLoop(b *testing.B, s *ort.DynamicAdvancedSession, in ort.Value) {
	b.ResetTimer()
	for b.Loop() {
		out := []ort.Value{nil}
		if err := s.Run([]ort.Value{in}, out); err != nil {
			b.Fatal(err)
		}
		out[0].Destroy()
	}
}
