package tflite

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
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
// The spec: coordinates in input pixels (x, y, z, detector regressions b),
// world landmarks in metres (w) and heatmaps (h) agree to 1e-3; scores to
// 1e-5. Logits (visibility, presence and detection scores l, segmentation m)
// are compared as the probabilities the MediaPipe graphs turn them into
// (sigmoid): a logit of −500 carries float32 rounding of ~1e-4 that no
// probability shows.
//
// Some outputs carry more float32 rounding than that: depth values and the
// regressions of anchors the detector rejects reach hundreds of pixels, and
// the segmentation head sums terms of hundreds into values near 0. The
// fixture records, per role, how far a float32 run of the reference strays
// from its float64 run (f32_noise); the bound is the spec's or twice that
// noise, whichever is larger, so only rounding any float32 runtime has is
// forgiven.
var specTolerance = map[byte]float64{'x': 1e-3, 'y': 1e-3, 'z': 1e-3, 'b': 1e-3, 'w': 1e-3, 'h': 1e-3, 'l': 1e-5, 'p': 1e-5, 'm': 1e-5}

// noiseFactor is how many times the float32 reference's own rounding the
// converted model may differ by.
const noiseFactor = 2

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// roleError returns the difference compared for one element.
func roleError(role byte, got, want float64) float64 {
	if role == 'l' || role == 'm' {
		return math.Abs(sigmoid(got) - sigmoid(want))
	}
	return math.Abs(got - want)
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
		// F32Noise is, per role, how far a float32 run of the reference
		// strays from its float64 run: the rounding any float32 runtime has.
		F32Noise map[string]float64 `json:"f32_noise"`
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
				bounds, worst := map[byte]float64{}, map[byte]float64{}
				for role := range []byte(o.Layout) {
					r := o.Layout[role]
					spec, ok := specTolerance[r]
					noise, ok2 := o.F32Noise[string(r)]
					if !ok || !ok2 {
						t.Fatalf("%s: role %q has no tolerance or no recorded noise", o.Name, r)
					}
					bounds[r], worst[r] = max(spec, noiseFactor*noise), 0
				}
				for k, w := range want {
					i := k * o.Stride
					r := o.Layout[i%len(o.Layout)]
					d := roleError(r, float64(got[j][i]), float64(w))
					if d > worst[r] || math.IsNaN(d) {
						worst[r] = d
					}
					if !(d <= bounds[r]) {
						t.Errorf("%s %s: element %d (role %c): got %g, want %g: difference %g exceeds %g",
							fm.Model, o.Name, i, r, got[j][i], w, d, bounds[r])
						break
					}
				}
				for _, r := range slices.Sorted(maps.Keys(worst)) {
					t.Logf("%s %s role %c: max diff %.3g (bound %.3g = max(spec %g, %d × float32 noise %.3g))",
						fm.Model, o.Name, r, worst[r], bounds[r], specTolerance[r], noiseFactor, o.F32Noise[string(r)])
				}
			}
		})
	}
}
