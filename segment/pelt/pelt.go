package pelt

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// Options configures PELT.
type Options struct {
	// Penalty is added for every changepoint (≥ 0). Larger values give
	// fewer changepoints. Renz et al. (CVPRW 2021) used 80 on I3D features;
	// BICPenalty derives one from the features' noise level.
	Penalty float64
	// MinSize is the shortest segment in frames; 0 means 1.
	MinSize int
	// Jump restricts changepoints to multiples of Jump frames; 0 means 1.
	Jump int
}

// Find finds the changepoints of the T×D feature sequence x (row-major,
// frame t is x[t·D : (t+1)·D]) that minimise
//
//	Σ over segments [a, b) of C(a, b) + Penalty · (number of changepoints)
//
// where C(a, b) is the L2 cost: the sum over the segment's frames and all D
// dimensions of the squared deviation from the segment's mean. Changepoints
// are the starts of the second and later segments: sorted, in (0, T), each a
// multiple of Jump, every segment (the last included) at least MinSize
// frames long; T itself is not returned. MinSize and Jump play the roles of
// the `ruptures` library's Pelt(model="l2", min_size, jump) parameters.
// A sequence shorter than 2·MinSize has no changepoints.
//
// The search is exact (Killick et al., 2012, pruned exact linear time):
// optimal partitioning over the admissible ends with costs from prefix
// sums, pruning a start s once F(s) + C(s, t) exceeds F(t) at an admissible
// changepoint t. Because the L2 cost never rises when a segment is split,
// such an s can never again be optimal for ends at or after t + MinSize
// (the first ends for which t may precede the last segment), so it is
// dropped from then on. Prunings leave a small float margin, so rounding
// never prunes a start that could still be optimal. Cost is near-linear in
// T when changepoints keep occurring, O(T²/Jump²·D) at worst.
//
// Equal values are broken towards the earlier start. Errors: sizes that do
// not match, a negative or non-finite penalty, non-finite features, or a
// cancelled ctx.
func Find(ctx context.Context, x []float32, T, D int, opt Options) ([]int, error) {
	if T < 1 || D < 1 || len(x) != T*D {
		return nil, fmt.Errorf("pelt: %d feature values do not form %d frames of %d dimensions", len(x), T, D)
	}
	if !(opt.Penalty >= 0) || math.IsInf(opt.Penalty, 1) {
		return nil, fmt.Errorf("pelt: penalty %v must be a finite number ≥ 0", opt.Penalty)
	}
	if opt.MinSize < 0 || opt.Jump < 0 {
		return nil, fmt.Errorf("pelt: min size %d and jump %d must not be negative", opt.MinSize, opt.Jump)
	}
	minSize, jump := max(opt.MinSize, 1), max(opt.Jump, 1)
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("pelt: feature %d of frame %d is %v; features must be finite", i%D, i/D, v)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pelt: %w", err)
	}
	if T < 2*minSize {
		return nil, nil
	}

	// Admissible ends: changepoint candidates, then T.
	var ends []int
	for t := (minSize + jump - 1) / jump * jump; t <= T-minSize; t += jump {
		ends = append(ends, t)
	}
	if len(ends) == 0 {
		return nil, nil
	}
	ends = append(ends, T)
	c := newL2Cost(x, T, D, jump)

	F := make([]float64, T+1)
	prev := make([]int32, T+1)
	pruneAt := make([]int, T+1) // end from which a start is pruned; 0: never
	F[0] = -opt.Penalty
	starts := []int{0} // candidate starts, ascending, not yet dropped
	vals := make([]float64, 0, 64)
	for k, t := range ends {
		if k%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("pelt: %w", err)
			}
		}
		// Drop starts pruned for this and later ends.
		kept := starts[:0]
		for _, s := range starts {
			if pruneAt[s] == 0 || pruneAt[s] > t {
				kept = append(kept, s)
			}
		}
		starts = kept
		// Usable starts leave a last segment of at least minSize frames;
		// starts is ascending, so they are a prefix.
		nu := sort.SearchInts(starts, t-minSize+1)
		vals = vals[:0]
		best, arg := math.Inf(1), -1
		for _, s := range starts[:nu] {
			v := F[s] + c.cost(s, t)
			vals = append(vals, v)
			if v < best {
				best, arg = v, s
			}
		}
		F[t] = best + opt.Penalty
		prev[t] = int32(arg)
		if t == T {
			break
		}
		// Prune: s with F(s)+C(s,t) > F(t) cannot start the last segment of
		// any end ≥ t+minSize (the margin absorbs rounding of the costs).
		tol := 1e-9 * (math.Abs(F[t]) + c.q[c.row(t)] + 1)
		for i, s := range starts[:nu] {
			if pruneAt[s] == 0 && vals[i] > F[t]+tol {
				pruneAt[s] = t + minSize
			}
		}
		starts = append(starts, t)
	}
	var cps []int
	for t := int(prev[T]); t > 0; t = int(prev[t]) {
		cps = append(cps, t)
	}
	for i, j := 0, len(cps)-1; i < j; i, j = i+1, j-1 {
		cps[i], cps[j] = cps[j], cps[i]
	}
	return cps, nil
}

// l2Cost holds prefix sums of a centred T×D sequence at the frames that can
// bound a segment: the multiples of jump up to T, and T. Row r of s holds
// the sum of each dimension over frames [0, t) for the r-th such t, q[r]
// the sum of all squared values there. Centring (subtracting each
// dimension's mean first) keeps the subtraction in cost accurate when
// features have a large offset; storing only those rows divides the memory
// and the memory traffic by jump.
type l2Cost struct {
	d, jump int
	s       []float64
	q       []float64
}

// newL2Cost computes the prefix sums of x (T×D, row-major).
func newL2Cost(x []float32, T, D, jump int) *l2Cost {
	mean := make([]float64, D)
	for t := 0; t < T; t++ {
		for d, v := range x[t*D : (t+1)*D] {
			mean[d] += float64(v)
		}
	}
	for d := range mean {
		mean[d] /= float64(T)
	}
	rows := T/jump + 1
	if T%jump != 0 {
		rows++
	}
	c := &l2Cost{d: D, jump: jump, s: make([]float64, rows*D), q: make([]float64, rows)}
	acc := make([]float64, D)
	q := 0.0
	for t := 0; t <= T; t++ {
		if t%jump == 0 || t == T {
			r := c.row(t)
			copy(c.s[r*D:(r+1)*D], acc)
			c.q[r] = q
		}
		if t == T {
			break
		}
		for d, v := range x[t*D : (t+1)*D] {
			y := float64(v) - mean[d]
			acc[d] += y
			q += y * y
		}
	}
	return c
}

// row is the row of frame t, a multiple of jump or T.
func (c *l2Cost) row(t int) int {
	if t%c.jump == 0 {
		return t / c.jump
	}
	return len(c.q) - 1
}

// cost is the L2 cost of frames [a, b), a < b: Σ y² − ‖Σ y‖²/(b−a),
// clamped at 0 against rounding.
func (c *l2Cost) cost(a, b int) float64 {
	ra, rb := c.row(a), c.row(b)
	sa, sb := c.s[ra*c.d:(ra+1)*c.d], c.s[rb*c.d:(rb+1)*c.d]
	var ss float64
	for d := range sb {
		m := sb[d] - sa[d]
		ss += m * m
	}
	return max(c.q[rb]-c.q[ra]-ss/float64(b-a), 0)
}

// Boundaries turns changepoints into a per-frame boundary
// "probability" for decode.Probabilities: 1 on the dilate frames on each side
// of each changepoint cp, i.e. frames [cp−dilate, cp+dilate), and 0
// elsewhere (dilate < 1 counts as 1; frames outside [0, T) are ignored).
// A changepoint lies between frames cp−1 and cp, so the boundary run is
// centred on it, and under GapsSplit the two signs it separates meet
// exactly at cp.
func Boundaries(cps []int, T int, dilate int) []float32 {
	if T <= 0 {
		return nil
	}
	dilate = max(dilate, 1)
	p := make([]float32, T)
	for _, cp := range cps {
		for f := max(cp-dilate, 0); f < cp+dilate && f < T; f++ {
			p[f] = 1
		}
	}
	return p
}

// BICPenalty derives a PELT penalty for features of unknown scale,
// BIC-style:
//
//	penalty = factor · (D+1)/D · Σ_d σ̂_d² · ln T
//
// A changepoint adds D segment means and one location, and with Gaussian
// noise of variance σ² the L2 cost is σ² times −2·log-likelihood (plus a
// constant), so BIC's ln T per parameter becomes σ²·ln T in cost units; with
// per-dimension noise levels the D means cost Σ_d σ̂_d² ln T and the location
// their average. σ̂_d is a robust noise estimate that ignores the jumps
// themselves: the median absolute deviation of the frame-to-frame
// differences of dimension d, divided by 0.6745 (the normal MAD) and by √2
// (a difference of two frames has twice the noise variance). Where that MAD
// is 0 (e.g. a dimension that rarely changes), the mean squared difference
// over 2 is used instead. factor (≥ 0; 1 is plain BIC) scales the result.
// Constant features, or a single frame, give 0.
func BICPenalty(x []float32, T, D int, factor float64) (float64, error) {
	if T < 1 || D < 1 || len(x) != T*D {
		return 0, fmt.Errorf("penalty: %d feature values do not form %d frames of %d dimensions", len(x), T, D)
	}
	if !(factor >= 0) || math.IsInf(factor, 1) {
		return 0, fmt.Errorf("penalty: factor %v must be a finite number ≥ 0", factor)
	}
	if T < 2 {
		return 0, nil
	}
	diff := make([]float64, T-1)
	total := 0.0
	for d := 0; d < D; d++ {
		meanSq := 0.0
		for t := range diff {
			v := float64(x[(t+1)*D+d]) - float64(x[t*D+d])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("penalty: dimension %d of frames %d–%d is not finite; features must be finite", d, t, t+1)
			}
			diff[t] = v
			meanSq += v * v
		}
		meanSq /= float64(len(diff))
		med := medianInPlace(diff)
		for t, v := range diff {
			diff[t] = math.Abs(v - med)
		}
		mad := medianInPlace(diff)
		v := mad / 0.6745 * (mad / 0.6745) / 2
		if mad == 0 {
			v = meanSq / 2
		}
		total += v
	}
	return factor * float64(D+1) / float64(D) * total * math.Log(float64(T)), nil
}

// medianInPlace returns the median of a (reordering it); a is not empty.
func medianInPlace(a []float64) float64 {
	sort.Float64s(a)
	n := len(a)
	if n%2 == 1 {
		return a[n/2]
	}
	return (a[n/2-1] + a[n/2]) / 2
}
