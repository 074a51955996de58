package pose

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// readF32 reads a committed raw little-endian float32 fixture; a missing one
// fails the test (regenerate with scripts/fixtures/slp_fixtures.py).
func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixture missing (make it with /usr/bin/python3 scripts/fixtures/slp_fixtures.py): %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

type poseMeta struct {
	Example struct {
		SHA256 string `json:"sha256"`
		Frames int    `json:"frames"`
		Input  string `json:"input"`
	} `json:"example"`
	Synth struct {
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
		Frames int    `json:"frames"`
		Input  string `json:"input"`
	} `json:"synth"`
}

func readPoseMeta(t *testing.T) poseMeta {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "slp_pose.json"))
	if err != nil {
		t.Fatalf("fixture missing (make it with /usr/bin/python3 scripts/fixtures/slp_fixtures.py): %v", err)
	}
	var m poseMeta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The Go selection and normalisation against the fixture script's numpy
// implementation (pose-format's masked-array semantics): on the synthetic
// Holistic file (always) and on example.pose (when ../shared is present).
func TestHolisticPreprocessParity(t *testing.T) {
	meta := readPoseMeta(t)
	cases := []struct {
		name, path, sum, input string
		frames                 int
		shared                 bool
	}{
		{"synthetic", filepath.Join("testdata", meta.Synth.File), meta.Synth.SHA256, meta.Synth.Input, meta.Synth.Frames, false},
		{"example.pose", "example.pose", meta.Example.SHA256, meta.Example.Input, meta.Example.Frames, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if c.shared {
				path = filepath.Join(testenv.SharedDir(t, "models/slp-2023"), c.path)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("fixture missing: %v", err)
			}
			if s := sha256.Sum256(raw); hex.EncodeToString(s[:]) != c.sum {
				t.Fatalf("%s is not the file the fixtures were made from", path)
			}
			f, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			k, err := f.Holistic()
			if err != nil {
				t.Fatal(err)
			}
			norm, err := NormalizeShoulders(k, HolisticShoulderNorm())
			if err != nil {
				t.Fatal(err)
			}
			p0, err := norm.Person(0)
			if err != nil {
				t.Fatal(err)
			}
			got := p0.Data
			want := readF32(t, filepath.Join("testdata", c.input))
			if k.Frames != c.frames || len(want) != c.frames*HolisticPoints*3 {
				t.Fatalf("%d frames, fixture %d (%d values)", k.Frames, c.frames, len(want))
			}
			d := testenv.MaxAbsDiff(got, want)
			t.Logf("%s: %d frames × %d people, person 0 × 75 × 3, Go vs numpy pre-processing max abs diff %.3g", c.name, k.Frames, k.People, d)
			if d > 1e-5 {
				t.Errorf("max abs diff %.3g > 1e-5", d)
			}
		})
	}
}

// A hand-computed case: 3 frames, 4 points of 3 dims; shoulders 0 and 1;
// frame 2 lacks a shoulder and is left out of the means; point 3 is zeroed.
func TestNormalizeShoulders(t *testing.T) {
	k := &Keypoints{Frames: 3, People: 1, Points: 4, Dims: 3,
		Data: []float32{
			0, 0, 0, 2, 0, 0, 4, 5, 1, 9, 9, 9, // frame 0: midpoint (1,0,0), distance 2
			2, 2, 0, 4, 2, 0, 0, 0, 0, 9, 9, 9, // frame 1: midpoint (3,2,0), distance 2; point 2 missing
			7, 7, 7, 0, 0, 0, 2, 1, 0, 9, 9, 9, // frame 2: right shoulder missing
		},
		Confidence: []float32{1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1}}
	norm, err := NormalizeShoulders(k, ShoulderNorm{Left: 0, Right: 1, Zero: []int{3}})
	if err != nil {
		t.Fatal(err)
	}
	got := norm.Data
	// center (2,1,0), scale 2
	want := []float32{
		-1, -0.5, 0, 0, -0.5, 0, 1, 2, 0.5, 0, 0, 0,
		0, 0.5, 0, 1, 0.5, 0, 0, 0, 0, 0, 0, 0,
		2.5, 3, 3.5, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	}
	if d := testenv.MaxAbsDiff(got, want); d > 1e-7 {
		t.Errorf("got %v\nwant %v", got, want)
	}

	errCases := []struct {
		name string
		k    *Keypoints
		n    ShoulderNorm
		want error
		msg  string
	}{
		{"no shoulders", &Keypoints{Frames: 1, People: 1, Points: 2, Dims: 1, Data: []float32{1, 2}, Confidence: []float32{0, 1}}, ShoulderNorm{Left: 0, Right: 1}, ErrNoShoulders, ""},
		{"same place", &Keypoints{Frames: 1, People: 1, Points: 2, Dims: 1, Data: []float32{1, 1}, Confidence: []float32{1, 1}}, ShoulderNorm{Left: 0, Right: 1}, nil, "distance is 0"},
		{"no frames", &Keypoints{People: 1, Points: 2, Dims: 1}, ShoulderNorm{Left: 0, Right: 1}, nil, "0 frames"},
		{"bad index", &Keypoints{Frames: 1, People: 1, Points: 2, Dims: 1, Data: []float32{1, 2}, Confidence: []float32{1, 1}}, ShoulderNorm{Left: 0, Right: 2}, nil, "outside"},
		{"bad zero", &Keypoints{Frames: 1, People: 1, Points: 2, Dims: 1, Data: []float32{1, 2}, Confidence: []float32{1, 1}}, ShoulderNorm{Left: 0, Right: 1, Zero: []int{5}}, nil, "outside"},
		{"short data", &Keypoints{Frames: 1, People: 1, Points: 2, Dims: 1, Data: []float32{1}, Confidence: []float32{1, 1}}, ShoulderNorm{Left: 0, Right: 1}, nil, "values"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NormalizeShoulders(c.k, c.n)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want %v / %q", err, c.want, c.msg)
			}
		})
	}
}

// NewHolistic and Set build a file in pose-format's conventions that
// writes, reads back and selects to the same points.
func TestNewHolisticRoundTrip(t *testing.T) {
	f := NewHolistic(320, 240, 25, 3)
	if err := f.Set(1, 11, 0.5, 0.25, -0.1, 0.9); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(2, HolisticPoints-1, 1, 1, 0.3, 1); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]int{{3, 0}, {0, HolisticPoints}, {-1, 0}} {
		if err := f.Set(bad[0], bad[1], 0, 0, 0, 1); err == nil {
			t.Errorf("Set(%d, %d) accepted", bad[0], bad[1])
		}
	}
	if err := f.Set(0, 0, 0, 0, 0, 0); err == nil {
		t.Error("Set with confidence 0 accepted")
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	all, err := g.Holistic()
	if err != nil {
		t.Fatal(err)
	}
	k, err := all.Person(0)
	if err != nil {
		t.Fatal(err)
	}
	i := (1*HolisticPoints + 11) * 3
	if got := k.Data[i : i+3]; got[0] != 160 || got[1] != 60 || got[2] != float32(-0.1) || k.Confidence[HolisticPoints+11] != 0.9 {
		t.Errorf("point 11 of frame 1 = %v (conf %g), want [160 60 -0.1] (0.9)", got, k.Confidence[HolisticPoints+11])
	}
	if k.Names[11] != "LEFT_SHOULDER" || k.Names[12] != "RIGHT_SHOULDER" || k.Names[33] != "WRIST" || k.Names[74] != "PINKY_TIP" {
		t.Errorf("names %v", k.Names)
	}
	// HolisticShoulderNorm's indices are the named points.
	n := HolisticShoulderNorm()
	if k.Names[n.Left] != "LEFT_SHOULDER" || k.Names[n.Right] != "RIGHT_SHOULDER" {
		t.Errorf("shoulders %d, %d are %s, %s", n.Left, n.Right, k.Names[n.Left], k.Names[n.Right])
	}
	var legs []string
	for _, p := range n.Zero {
		legs = append(legs, k.Names[p])
	}
	if want := "LEFT_KNEE RIGHT_KNEE LEFT_ANKLE RIGHT_ANKLE LEFT_HEEL RIGHT_HEEL LEFT_FOOT_INDEX RIGHT_FOOT_INDEX"; strings.Join(legs, " ") != want {
		t.Errorf("zeroed points %v, want %s", legs, want)
	}
}

func TestSelect(t *testing.T) {
	f := smallFile()
	all, err := f.Select("HAND", "BODY")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := all.Person(2); err == nil || !strings.Contains(err.Error(), "no person 2") {
		t.Errorf("Person(2) of 2 people: %v", err)
	}
	k, err := all.Person(1)
	if err != nil {
		t.Fatal(err)
	}
	if k.Points != 5 || strings.Join(k.Names, ",") != "W,T,A,B,Ç" {
		t.Fatalf("selected %d points %v", k.Points, k.Names)
	}
	// frame 3, selected point 2 = BODY point 0 of person 1
	src := f.Body.Index(3, 1, 0)
	dst := (3*k.Points + 2) * k.Dims
	for d := 0; d < 3; d++ {
		if k.Data[dst+d] != f.Body.Data[src+d] {
			t.Fatalf("selected data differs at dim %d", d)
		}
	}
	if k.Confidence[3*k.Points+2] != f.Body.Confidence[(3*2+1)*5] {
		t.Error("selected confidence differs")
	}
	if _, err := f.Select("BODY", "FACE"); err == nil || !strings.Contains(err.Error(), "no component FACE") {
		t.Errorf("Select of a missing component: %v", err)
	}
	if _, err := f.Holistic(); err == nil || !strings.Contains(err.Error(), "POSE_LANDMARKS") {
		t.Errorf("Holistic on a non-Holistic file: %v", err)
	}
}
