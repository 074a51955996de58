package train

import (
	"runtime"
	"sync"
)

// The convolutions are matrix products on [channels, T] row-major tensors:
// a kernel tap k of a dilated conv is W_k·X shifted in time, which is a
// product with a column offset, so no im2col copy is needed.
//
// Every output element is computed by exactly one goroutine in a fixed
// order, so results do not depend on the number of cores.

// colBlock is the number of time steps packed at once: 64 channels × 256
// float32 = 64 KiB, which stays in L2 while every row block of A uses it.
const colBlock = 256

// parallel runs f(i) for i in [0, n) on up to GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += w {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// packA lays out a [m, k] row-major matrix (leading dimension lda) as
// row quads: p[q*k*4 + j*4 + r] = a[(4q+r)*lda + j], zero-filled past m.
func packA(a []float32, lda, m, k int) []float32 {
	mq := (m + 3) / 4
	p := make([]float32, mq*k*4)
	for r := 0; r < m; r++ {
		q, rr := r/4, r%4
		row := a[r*lda : r*lda+k]
		dst := p[q*k*4:]
		for j, v := range row {
			dst[j*4+rr] = v
		}
	}
	return p
}

// mulAdd computes C[m, n] += A·B with A packed by packA ([m, k]), B [k, n]
// with leading dimension ldb and C with ldc. The slices may start at a
// column offset of larger tensors. Column blocks run in parallel.
func mulAdd(c []float32, ldc int, ap []float32, m, k int, b []float32, ldb, n int) {
	if n <= 0 || m <= 0 || k <= 0 {
		return
	}
	checkMulAdd(c, ldc, ap, m, k, b, ldb, 0, n)
	parallel((n+colBlock-1)/colBlock, func(bi int) {
		mulAddBlock(c, ldc, ap, m, k, b, ldb, bi*colBlock, min(n, (bi+1)*colBlock))
	})
}

// checkMulAdd panics unless columns [t0, t1) of the product fit the slices:
// the assembly reads and writes inside these bounds.
func checkMulAdd(c []float32, ldc int, ap []float32, m, k int, b []float32, ldb, t0, t1 int) {
	_ = b[(k-1)*ldb+t1-1]
	_ = c[(m-1)*ldc+t1-1]
	_ = ap[((m+3)/4)*k*4-1]
	_ = b[t0]
	_ = c[t0]
}

// mulAddBlock adds columns [t0, t1) of A·B to C on the calling goroutine.
func mulAddBlock(c []float32, ldc int, ap []float32, m, k int, b []float32, ldb, t0, t1 int) {
	if t1 <= t0 {
		return
	}
	if useAVX2 {
		mulAddBlockAVX2(c, ldc, ap, m, k, b, ldb, t0, t1)
		return
	}
	mulAddBlockGo(c, ldc, ap, m, k, b, ldb, t0, t1)
}

// mulAddBlockGo is the pure-Go mulAddBlock: B's columns are packed in
// quads and each 4×4 tile of C is summed in registers.
func mulAddBlockGo(c []float32, ldc int, ap []float32, m, k int, b []float32, ldb, t0, t1 int) {
	mq := (m + 3) / 4
	nb := t1 - t0
	nq := (nb + 3) / 4
	// Pack B[:, t0:t0+nb] as column quads: bp[q*k*4 + j*4 + c].
	bp := make([]float32, nq*k*4)
	for j := 0; j < k; j++ {
		row := b[j*ldb+t0 : j*ldb+t0+nb]
		for t, v := range row {
			bp[(t/4)*k*4+j*4+t%4] = v
		}
	}
	for q := 0; q < mq; q++ {
		aq := ap[q*k*4 : (q+1)*k*4]
		for cq := 0; cq < nq; cq++ {
			bq := bp[cq*k*4 : (cq+1)*k*4]
			var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
			for j := 0; j+4 <= len(aq) && j+4 <= len(bq); j += 4 {
				a := aq[j : j+4 : j+4]
				bb := bq[j : j+4 : j+4]
				a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
				b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
				c20 += a2 * b0
				c21 += a2 * b1
				c22 += a2 * b2
				c23 += a2 * b3
				c30 += a3 * b0
				c31 += a3 * b1
				c32 += a3 * b2
				c33 += a3 * b3
			}
			acc := [4][4]float32{
				{c00, c01, c02, c03},
				{c10, c11, c12, c13},
				{c20, c21, c22, c23},
				{c30, c31, c32, c33},
			}
			col := t0 + cq*4
			nc := min(4, t1-col)
			for r := 0; r < 4; r++ {
				row := q*4 + r
				if row >= m {
					break
				}
				dst := c[row*ldc+col : row*ldc+col+nc]
				for i := range dst {
					dst[i] += acc[r][i]
				}
			}
		}
	}
}

// mulAddNT computes G[m, k] += D·Xᵀ for D [m, n] (leading dimension ldd)
// and X [k, n] (ldx): the weight gradient of a product, a reduction over
// time. Rows of G are split between goroutines; each sums over time in
// blocks of colBlock, in order.
func mulAddNT(g []float32, m, k int, d []float32, ldd int, x []float32, ldx, n int) {
	if n <= 0 || m <= 0 || k <= 0 {
		return
	}
	_ = d[(m-1)*ldd+n-1]
	_ = x[(k-1)*ldx+n-1]
	_ = g[m*k-1]
	if useAVX2 {
		mulAddNTAVX2(g, m, k, d, ldd, x, ldx, n)
		return
	}
	mq := (m + 3) / 4
	parallel(mq, func(q int) {
		r0 := q * 4
		nr := min(4, m-r0)
		for t0 := 0; t0 < n; t0 += colBlock {
			nb := min(colBlock, n-t0)
			var drows [4][]float32
			for r := 0; r < 4; r++ {
				if r < nr {
					drows[r] = d[(r0+r)*ldd+t0 : (r0+r)*ldd+t0+nb]
				} else {
					drows[r] = make([]float32, nb)
				}
			}
			d0, d1, d2, d3 := drows[0], drows[1], drows[2], drows[3]
			j := 0
			for ; j+4 <= k; j += 4 {
				x0 := x[j*ldx+t0 : j*ldx+t0+nb]
				x1 := x[(j+1)*ldx+t0 : (j+1)*ldx+t0+nb]
				x2 := x[(j+2)*ldx+t0 : (j+2)*ldx+t0+nb]
				x3 := x[(j+3)*ldx+t0 : (j+3)*ldx+t0+nb]
				var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
				for t := 0; t < nb; t++ {
					a0, a1, a2, a3 := d0[t], d1[t], d2[t], d3[t]
					b0, b1, b2, b3 := x0[t], x1[t], x2[t], x3[t]
					c00 += a0 * b0
					c01 += a0 * b1
					c02 += a0 * b2
					c03 += a0 * b3
					c10 += a1 * b0
					c11 += a1 * b1
					c12 += a1 * b2
					c13 += a1 * b3
					c20 += a2 * b0
					c21 += a2 * b1
					c22 += a2 * b2
					c23 += a2 * b3
					c30 += a3 * b0
					c31 += a3 * b1
					c32 += a3 * b2
					c33 += a3 * b3
				}
				acc := [4][4]float32{
					{c00, c01, c02, c03},
					{c10, c11, c12, c13},
					{c20, c21, c22, c23},
					{c30, c31, c32, c33},
				}
				for r := 0; r < nr; r++ {
					row := g[(r0+r)*k+j : (r0+r)*k+j+4]
					for i := range row {
						row[i] += acc[r][i]
					}
				}
			}
			for ; j < k; j++ {
				xj := x[j*ldx+t0 : j*ldx+t0+nb]
				for r := 0; r < nr; r++ {
					var s float32
					dr := drows[r]
					for t, v := range xj {
						s += dr[t] * v
					}
					g[(r0+r)*k+j] += s
				}
			}
		}
	})
}

// mulAddBlockAVX2 is mulAddBlock with the kern4x16 micro-kernel: for each
// 16-column panel of B (which stays in L1), every row quad of A; the edges
// that do not fill a 4×16 tile go through mulAddRef.
func mulAddBlockAVX2(c []float32, ldc int, ap []float32, m, k int, b []float32, ldb, t0, t1 int) {
	mq := m / 4
	t := t0
	for ; t+16 <= t1; t += 16 {
		for q := 0; q < mq; q++ {
			kern4x16(k, &ap[q*k*4], &b[t], ldb, &c[q*4*ldc+t], ldc)
		}
	}
	mulAddRef(c, ldc, ap, k, b, ldb, mq*4, m, t0, t)
	mulAddRef(c, ldc, ap, k, b, ldb, 0, m, t, t1)
}

// mulAddRef adds rows [r0, r1) and columns [t0, t1) of A·B to C with plain
// loops (A packed by packA).
func mulAddRef(c []float32, ldc int, ap []float32, k int, b []float32, ldb, r0, r1, t0, t1 int) {
	for r := r0; r < r1; r++ {
		a := ap[(r/4)*k*4+r%4:]
		for t := t0; t < t1; t++ {
			var s float32
			for j := 0; j < k; j++ {
				s += a[j*4] * b[j*ldb+t]
			}
			c[r*ldc+t] += s
		}
	}
}

// ntBlock is the time block of the AVX2 weight-gradient kernel: 4 rows of D
// stay in L1 and 64 rows of X (128 KiB) in L2.
const ntBlock = 512

// mulAddNTAVX2 is mulAddNT with the kernDot4x2 micro-kernel over row quads
// of D and column pairs of G, summing time in blocks of ntBlock in order.
func mulAddNTAVX2(g []float32, m, k int, d []float32, ldd int, x []float32, ldx, n int) {
	mq := m / 4
	n8 := n / 8 * 8
	kp := k / 2 * 2
	tasks := mq
	if m%4 != 0 {
		tasks++ // the leftover rows
	}
	parallel(tasks, func(q int) {
		r0 := q * 4
		if q == mq {
			mulAddNTRef(g, k, d, ldd, x, ldx, r0, m, 0, k, 0, n)
			return
		}
		var out [8]float32
		for t0 := 0; t0 < n8; t0 += ntBlock {
			nb := min(ntBlock, n8-t0)
			for j := 0; j < kp; j += 2 {
				kernDot4x2(nb, &d[r0*ldd+t0], ldd, &x[j*ldx+t0], ldx, &out[0])
				for r := 0; r < 4; r++ {
					g[(r0+r)*k+j] += out[2*r]
					g[(r0+r)*k+j+1] += out[2*r+1]
				}
			}
			mulAddNTRef(g, k, d, ldd, x, ldx, r0, r0+4, kp, k, t0, t0+nb)
		}
		mulAddNTRef(g, k, d, ldd, x, ldx, r0, r0+4, 0, k, n8, n)
	})
}

// mulAddNTRef adds Σ_{t0≤t<t1} D[r][t]·X[j][t] to G[r][j] for rows [r0, r1)
// and columns [j0, j1) with plain loops.
func mulAddNTRef(g []float32, k int, d []float32, ldd int, x []float32, ldx, r0, r1, j0, j1, t0, t1 int) {
	if t1 <= t0 {
		return
	}
	for r := r0; r < r1; r++ {
		dr := d[r*ldd+t0 : r*ldd+t1]
		for j := j0; j < j1; j++ {
			xj := x[j*ldx+t0 : j*ldx+t1]
			var s float32
			for t, v := range dr {
				s += v * xj[t]
			}
			g[r*k+j] += s
		}
	}
}
