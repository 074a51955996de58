package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// benchRow is one parsed row of the bench table (rounds = 1).
type benchRow struct {
	rate, ratio, cos, feat, rel, prob float64
	changed                           int
}

// parseBenchRow reads the columns after the variant name.
func parseBenchRow(t *testing.T, line, name string) benchRow {
	t.Helper()
	f := strings.Fields(strings.TrimPrefix(line, name))
	if len(f) < 8 {
		t.Fatalf("row %q: too few columns", line)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "×"), 64)
		if err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		return v
	}
	changed, err := strconv.Atoi(f[7])
	if err != nil {
		t.Fatalf("row %q: %v", line, err)
	}
	return benchRow{rate: num(f[0]), ratio: num(f[1]), cos: num(f[3]), feat: num(f[4]), rel: num(f[5]), prob: num(f[6]), changed: changed}
}

// TestBench runs `signseg bench` with the reduced-width fixture model on a
// short generated video: the exact variants must reproduce the plain
// path's features and boundary decisions, the fast one must report a
// deviation, and the CUDA variant is measured or skipped with the reason.
func TestBench(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	models := importFixture(t, "i3d_small.pth.tar")
	stdout, stderr, code := runCLI(t, "--models-dir", models, "bench", "--model", "fixture", "--seconds", "1.6",
		"--size", "160x96", "--rounds", "1", "--threads", "2", "--every", "2", "--pytorch-script", "/nonexistent/make_fixtures.py")
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "pytorch reference: skipped (/nonexistent/make_fixtures.py not found") {
		t.Errorf("no note that the PyTorch reference was skipped:\n%s", stdout)
	}
	rows := map[string]benchRow{}
	names := []string{"plain per-clip", "exact default", "exact tuned", "fast: features every 2 clips"}
	for _, line := range strings.Split(stdout, "\n") {
		for _, n := range names {
			if strings.HasPrefix(line, n) {
				name := line[:strings.Index(line, ")")+1]
				if n == names[3] {
					name = n
				}
				rows[n] = parseBenchRow(t, line, name)
			}
		}
	}
	if len(rows) != len(names) {
		t.Fatalf("found rows %v, want %v:\n%s", rows, names, stdout)
	}
	if r := rows["plain per-clip"]; r.ratio != 1 || r.feat != 0 || r.changed != 0 || !(r.rate > 0) {
		t.Errorf("plain row %+v: want ratio 1 and no deviation from itself", r)
	}
	for _, n := range names[1:3] {
		if r := rows[n]; r.feat > 1e-4 || r.rel > 1e-5 || r.cos < 0.99999 || r.prob > 1e-4 || r.changed != 0 || !(r.rate > 0) {
			t.Errorf("%s: %+v; an exact path must match the plain one (features ≤ 1e-4)", n, r)
		}
	}
	if r := rows[names[3]]; !(r.feat > 1e-4) || !(r.cos < 1) || !(r.rate > 0) {
		t.Errorf("fast row %+v: interpolated features should differ from the exact ones", r)
	}
	if !strings.Contains(stdout, "exact CUDA (GPU 0)") {
		t.Errorf("no CUDA line:\n%s", stdout)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	models := importFixture(t, "i3d_small.pth.tar")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "fixture", "--rounds", "0"}, "--rounds 0"},
		{[]string{"--model", "fixture", "--every", "1"}, `--every "1"`},
		{[]string{"--model", "fixture", "--size", "big"}, `--size "big"`},
		{[]string{"--model", "motion"}, "has no temporal model"},
		{[]string{}, "give --model"},
	} {
		args := append([]string{"--models-dir", models, "bench", "--pytorch=false"}, tc.args...)
		_, stderr, code := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}
