package train

import (
	"fmt"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		n       int
		frac    float64
		wantVal int
	}{
		{10, 0.2, 2}, {2, 0.1, 1}, {3, 0.9, 2}, {101, 0.1, 10},
	} {
		t.Run(fmt.Sprint(tc.n, tc.frac), func(t *testing.T) {
			tr, val, err := Split(tc.n, tc.frac, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(val) != tc.wantVal || len(tr)+len(val) != tc.n {
				t.Errorf("%d training and %d validation files, want %d validation of %d", len(tr), len(val), tc.wantVal, tc.n)
			}
			all := slices.Concat(tr, val)
			slices.Sort(all)
			for i, v := range all {
				if v != i {
					t.Fatalf("indices %v are not a partition of 0..%d", all, tc.n-1)
				}
			}
			tr2, val2, _ := Split(tc.n, tc.frac, 7)
			if !slices.Equal(tr, tr2) || !slices.Equal(val, val2) {
				t.Error("same seed, different split")
			}
		})
	}
	for _, bad := range []struct {
		n    int
		frac float64
	}{{1, 0.5}, {10, 0}, {10, 1}, {10, -0.1}} {
		if _, _, err := Split(bad.n, bad.frac, 1); err == nil {
			t.Errorf("Split(%d, %v) accepted", bad.n, bad.frac)
		}
	}
}
