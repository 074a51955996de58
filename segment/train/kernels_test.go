package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// TestKernels compares both kernel paths (assembly where the CPU has it,
// and pure Go) with float64 loops on shapes that hit every edge: row counts
// not divisible by 4, column counts not divisible by 16, offsets and
// leading dimensions larger than the product.
func TestKernels(t *testing.T) {
	paths := []bool{false}
	if useAVX2 {
		paths = append(paths, true)
	} else {
		t.Log("CPU without AVX2+FMA: only the pure-Go kernels run")
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, avx := range paths {
		for _, tc := range []struct{ m, k, n, ld, off int }{
			{64, 64, 600, 640, 13}, {2, 64, 37, 37, 0}, {64, 2, 300, 301, 1}, {7, 225, 1100, 1200, 50},
			{5, 3, 1, 9, 2}, {64, 64, 16, 16, 0}, {4, 1, 8, 8, 0},
		} {
			t.Run(fmt.Sprintf("avx2=%v/%+v", avx, tc), func(t *testing.T) {
				useAVX2 = avx
				rng := rand.New(rand.NewPCG(uint64(tc.m), uint64(tc.n)))
				rnd := func(n int) []float32 {
					v := make([]float32, n)
					for i := range v {
						v[i] = float32(rng.NormFloat64())
					}
					return v
				}
				// C[m, n] += A[m, k]·B[k, n] inside tensors with leading dimension ld.
				a, b, c := rnd(tc.m*tc.k), rnd(tc.k*tc.ld), rnd(tc.m*tc.ld)
				want := make([]float64, len(c))
				for i, v := range c {
					want[i] = float64(v)
				}
				for r := 0; r < tc.m; r++ {
					for t := 0; t < tc.n; t++ {
						for j := 0; j < tc.k; j++ {
							want[r*tc.ld+tc.off+t] += float64(a[r*tc.k+j]) * float64(b[j*tc.ld+tc.off+t])
						}
					}
				}
				mulAdd(c[tc.off:], tc.ld, packA(a, tc.k, tc.m, tc.k), tc.m, tc.k, b[tc.off:], tc.ld, tc.n)
				if e := maxRel(c, want); e > 1e-5 {
					t.Errorf("mulAdd: relative error %g", e)
				}
				// G[m, k] += D[m, n]·X[k, n]ᵀ.
				g := rnd(tc.m * tc.k)
				wantG := make([]float64, len(g))
				for i, v := range g {
					wantG[i] = float64(v)
				}
				for r := 0; r < tc.m; r++ {
					for j := 0; j < tc.k; j++ {
						for t := 0; t < tc.n; t++ {
							wantG[r*tc.k+j] += float64(c[r*tc.ld+tc.off+t]) * float64(b[j*tc.ld+tc.off+t])
						}
					}
				}
				mulAddNT(g, tc.m, tc.k, c[tc.off:], tc.ld, b[tc.off:], tc.ld, tc.n)
				if e := maxRel(g, wantG); e > 1e-5 {
					t.Errorf("mulAddNT: relative error %g", e)
				}
			})
		}
	}
}

// maxRel returns max |got − want| / max |want|.
func maxRel(got []float32, want []float64) float64 {
	var d, m float64
	for i, w := range want {
		d = math.Max(d, math.Abs(float64(got[i])-w))
		m = math.Max(m, math.Abs(w))
	}
	return d / m
}

// TestKernelPathsAgree runs a whole training pass with the pure-Go kernels
// and, where the CPU has it, the assembly ones: each loss must equal the
// float64 reference's, and the two gradients may differ only by rounding
// (FMA and summation order).
func TestKernelPathsAgree(t *testing.T) {
	paths := []bool{false}
	if useAVX2 {
		paths = append(paths, true)
	} else {
		t.Log("CPU without AVX2+FMA: only the pure-Go path runs")
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	cfg := Config{Stages: 2, Layers: 3, Channels: 8, Inputs: 5, Classes: 2, Dropout: 0.5}
	m, err := NewModel(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	const T = 600
	x, y := randomSequence(rand.New(rand.NewPCG(16, 17)), cfg.Inputs, 2, T)
	loss := DefaultLoss(nil)
	norm := loss.batchNorm([][]int32{y}, 2)
	drop := &dropKey{seed: 1}
	pf := make([]float64, len(m.params))
	for i, v := range m.params {
		pf[i] = float64(v)
	}
	keep := m.forward(x, T, true, drop, nil).keep
	want, _, _ := refLoss(m, pf, x, y, T, 0, T, loss, norm, keep, nil)
	var gs [][]float32
	for _, avx := range paths {
		useAVX2 = avx
		l, g := m.lossAndGrad(x, y, T, 0, T, loss, norm, drop, nil)
		gs = append(gs, g)
		t.Logf("avx2=%v: loss %.9g, float64 reference %.9g", avx, l, want)
		if math.Abs(l-want) > 1e-6*want {
			t.Errorf("avx2=%v: loss %v, reference %v", avx, l, want)
		}
	}
	if len(gs) == 2 {
		var gmax float64
		for _, v := range gs[0] {
			gmax = math.Max(gmax, math.Abs(float64(v)))
		}
		d := testenv.MaxAbsDiff(gs[0], gs[1]) / gmax
		t.Logf("gradients of the two paths: relative diff %.3g", d)
		if d > 1e-5 {
			t.Errorf("AVX2 and pure-Go gradients differ by %g", d)
		}
	}
}
