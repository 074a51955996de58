package tflite

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// fixtureDir holds the reference outputs written by
// scripts/fixtures/tflite_fixtures.py (an independent numpy implementation
// of the TFLite ops) for real crops of a video frame.
const fixtureDir = "testdata/parity"

// Tolerances of the parity tests, by element role (the fixture's layout
// letters; see scripts/fixtures/tflite_fixtures.py).
//
// Coordinates in input pixels (x, y) and everything in metres or heatmap units
// must agree to 1e-3; probabilities to 1e-5. Logits (visibility, presence,
// detection scores, segmentation) are compared as the probabilities the
// MediaPipe graphs turn them into (sigmoid): a logit of −500 carries float32
// rounding of ~1e-4 that no float32 implementation avoids and that no
// probability shows.
//
// The segmentation head (m) sums terms of hundreds into values near 0, so its
// float32 rounding is far larger: a float32 run of the numpy reference differs
// from its float64 run by up to 0.016 in logit; its mask probabilities are
// held to 2e-3 (the mask is not a keypoint output).
//
// Depth (z) and the regressions of detector anchors that the pipeline
// rejects (score < 0.5) may reach hundreds of pixels, far outside the input;
// for those the bound adds float32's accumulated relative rounding, 2e-5·|ref|
// (a float32 run of the numpy reference differs from its float64 run by up
// to 1.1e-3 at |ref| = 239 and 2.8e-3 at |ref| = 311).
const (
	tolCoord    = 1e-3
	tolProb     = 1e-5
	tolRelative = 2e-5
	tolMask     = 2e-3
	minScore    = 0.5
)

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// compare returns the worst excess |got−want| − bound (≤ 0 passes), the
// worst raw difference, and where it is.
func compare(layout string, got, want []float32, stride int, scores []float32, perAnchor int) (excess, raw float64, at int) {
	excess = math.Inf(-1)
	for k, w := range want {
		i := k * stride
		g, r := float64(got[i]), float64(w)
		d := math.Abs(g - r)
		var bound float64
		switch role := layout[i%len(layout)]; role {
		case 'x', 'y', 'w', 'h':
			bound = tolCoord
		case 'p':
			bound = tolProb
		case 'l':
			d, bound = math.Abs(sigmoid(g)-sigmoid(r)), tolProb
		case 'm':
			d, bound = math.Abs(sigmoid(g)-sigmoid(r)), tolMask
		case 'z':
			bound = tolCoord + tolRelative*math.Abs(r)
		case 'b':
			bound = tolCoord
			if sigmoid(float64(scores[i/perAnchor])) < minScore {
				bound += tolRelative * math.Abs(r)
			}
		default:
			panic("unknown layout role " + string(role))
		}
		if raw < math.Abs(g-r) || math.IsNaN(d) {
			raw = math.Abs(g - r)
		}
		if d-bound > excess || math.IsNaN(d) {
			excess, at = d-bound, i
		}
	}
	return excess, raw, at
}

type fixtureFile struct {
	Models []fixtureModel `json:"models"`
}

type fixtureModel struct {
	Model string   `json:"model"`
	Ops   []string `json:"ops"`
	Input struct {
		Name  string     `json:"name"`
		File  string     `json:"file"`
		Shape []int64    `json:"shape"`
		Range [2]float32 `json:"range"`
	} `json:"input"`
	Outputs []struct {
		Name   string  `json:"name"`
		Shape  []int64 `json:"shape"`
		Layout string  `json:"layout"`
		Stride int     `json:"stride"`
		File   string  `json:"file"`
	} `json:"outputs"`
}

func loadFixtures(t testing.TB) []fixtureModel {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "fixtures.json"))
	if err != nil {
		t.Fatalf("committed parity fixtures: %v (regenerate with scripts/fixtures/tflite_fixtures.py)", err)
	}
	var f fixtureFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("fixtures.json: %v", err)
	}
	if len(f.Models) == 0 {
		t.Fatal("fixtures.json lists no models")
	}
	return f.Models
}

func readFloats(t testing.TB, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s: %d bytes is not a float32 array", name, len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// fixtureInput turns the stored uint8 crop into the model's float input,
// u8·(hi−lo)/255 + lo in float32, as the fixture script does.
func fixtureInput(t testing.TB, fm *fixtureModel) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, fm.Input.File))
	if err != nil {
		t.Fatal(err)
	}
	n := int64(1)
	for _, d := range fm.Input.Shape {
		n *= d
	}
	if int64(len(b)) != n {
		t.Fatalf("%s: %d bytes for shape %v", fm.Input.File, len(b), fm.Input.Shape)
	}
	lo, hi := fm.Input.Range[0], fm.Input.Range[1]
	scale := (hi - lo) / 255
	x := make([]float32, n)
	for i, v := range b {
		x[i] = float32(v)*scale + lo
	}
	return x
}

func readModel(t testing.TB, name string) []byte {
	t.Helper()
	p, err := OpenPackage(testenv.MediaPipePackage(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParity converts every fixture model from the npm package, runs it in
// ONNX Runtime on the fixture crop and compares each output with the numpy
// reference.
func TestParity(t *testing.T) {
	fixtures := loadFixtures(t)
	initORT(t)
	for i := range fixtures {
		fm := &fixtures[i]
		t.Run(fm.Model, func(t *testing.T) {
			b := readModel(t, fm.Model)
			m, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			// The fixture's op inventory must be the model's: a reference
			// that skipped an op would prove nothing.
			var ops []string
			for _, op := range m.Operators {
				if !slices.Contains(ops, op.Name()) {
					ops = append(ops, op.Name())
				}
			}
			slices.Sort(ops)
			if !slices.Equal(ops, fm.Ops) {
				t.Fatalf("model ops %v, fixture covers %v", ops, fm.Ops)
			}
			onnx, err := ConvertModel(m, fm.Model)
			if err != nil {
				t.Fatal(err)
			}
			var outNames []string
			for _, o := range fm.Outputs {
				outNames = append(outNames, o.Name)
			}
			s := session(t, onnx, []string{fm.Input.Name}, outNames, 2)
			got, shapes := run(t, s, fm.Input.Shape, fixtureInput(t, fm), len(outNames))
			for j, o := range fm.Outputs {
				if !slices.Equal(shapes[j], o.Shape) {
					t.Fatalf("%s: shape %v, want %v", o.Name, shapes[j], o.Shape)
				}
				want := readFloats(t, o.File)
				if o.Stride < 1 || len(want) != (len(got[j])+o.Stride-1)/o.Stride || o.Layout == "" {
					t.Fatalf("%s: %d reference values at stride %d for %d outputs (layout %q)", o.Name, len(want), o.Stride, len(got[j]), o.Layout)
				}
				// Detector boxes are judged by their anchor's score, the
				// next output ([1, anchors, 1]).
				var scores []float32
				perAnchor := 1
				if strings.Contains(o.Layout, "b") {
					if j+1 >= len(got) || len(got[j])%len(got[j+1]) != 0 {
						t.Fatalf("%s: box output without a score output after it", o.Name)
					}
					scores, perAnchor = got[j+1], len(got[j])/len(got[j+1])
				}
				excess, raw, at := compare(o.Layout, got[j], want, o.Stride, scores, perAnchor)
				t.Logf("%s %s %v layout %q: max abs diff %.3g raw, worst margin %+.3g", fm.Model, o.Name, o.Shape, o.Layout, raw, excess)
				if !(excess <= 0) {
					t.Errorf("%s %s: element %d (got %g, want %g) exceeds its bound by %g", fm.Model, o.Name, at, got[j][at], want[at/o.Stride], excess)
				}
			}
		})
	}
}
