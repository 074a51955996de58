package train

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// BenchmarkKernels measures the matrix products of one 64→64 conv tap over
// T frames: forward (mulAdd), weight gradient (mulAddNT).
func BenchmarkKernels(b *testing.B) {
	const M, K, T = 64, 64, 9000
	rng := rand.New(rand.NewPCG(1, 1))
	a := make([]float32, M*K)
	x := make([]float32, K*T)
	y := make([]float32, M*T)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	ap := packA(a, K, M, K)
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, avx := range []bool{true, false} {
		if avx && !useAVX2 {
			continue
		}
		name := "go"
		if avx {
			name = "avx2"
		}
		b.Run("mulAdd/"+name, func(b *testing.B) {
			useAVX2 = avx
			for b.Loop() {
				mulAdd(y, T, ap, M, K, x, T, T)
			}
			b.ReportMetric(float64(M*K*T)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
		b.Run("mulAddNT/"+name, func(b *testing.B) {
			useAVX2 = avx
			for b.Loop() {
				mulAddNT(a, M, K, y, T, x, T, T)
			}
			b.ReportMetric(float64(M*K*T)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// BenchmarkStep measures one training step (forward, backward, Adam) of the
// paper's model (4×10×64, dropout 0.5) on T frames of D features: D=128 is
// the motion features, D=225 about the keypoint features. It reports
// seconds per epoch per hour of 25 fps video (the step's wall time scaled to
// 90 000 frames; the cost is linear in T) and the same in CPU seconds
// (cpu-s/epoch/hour), which a loaded machine disturbs less. T defaults to
// 9000 (6 minutes); SIGNSEG_BENCH_T=90000 runs a whole hour (about 2.3 GB).
func BenchmarkStep(b *testing.B) {
	T := 9000
	if v, err := strconv.Atoi(os.Getenv("SIGNSEG_BENCH_T")); err == nil && v > 0 {
		T = v
	}
	for _, D := range []int{128, 225} {
		b.Run(fmt.Sprintf("D=%d/T=%d", D, T), func(b *testing.B) {
			m, err := NewModel(DefaultConfig(D), 1)
			if err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(m, DefaultLoss(nil), 5e-4, 1, 0)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(2, 2))
			x, y := randomSequence(rng, D, 2, T)
			seq := Sequence{Name: "bench", Features: x, Labels: y}
			cpu0 := cpuSeconds()
			for b.Loop() {
				if _, err := tr.Step(seq); err != nil {
					b.Fatal(err)
				}
			}
			scale := 90000 / float64(T) / float64(b.N)
			b.ReportMetric(b.Elapsed().Seconds()*scale, "s/epoch/hour")
			b.ReportMetric((cpuSeconds()-cpu0)*scale, "cpu-s/epoch/hour")
		})
	}
}
