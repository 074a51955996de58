package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Split divides n files into training and validation by file, never by
// frame, so that validation scores are honest: round(n·fraction) files (at
// least one when fraction > 0) chosen by a shuffle seeded with seed go to
// validation, the rest to training. Both index lists are sorted.
func Split(n int, fraction float64, seed uint64) (train, val []int, err error) {
	if !(fraction > 0 && fraction < 1) {
		return nil, nil, fmt.Errorf("split: validation fraction %v must be between 0 and 1", fraction)
	}
	if n < 2 {
		return nil, nil, fmt.Errorf("split: %d files; need at least 2 to hold one out for validation", n)
	}
	k := min(max(int(math.Round(float64(n)*fraction)), 1), n-1)
	perm := rand.New(rand.NewPCG(seed, 0x73706c6974)).Perm(n) // "split"
	val, train = perm[:k], perm[k:]
	slices.Sort(val)
	slices.Sort(train)
	return train, val, nil
}
