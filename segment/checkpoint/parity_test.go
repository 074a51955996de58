package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// Parity of the Go-built ONNX graphs (run by ONNX Runtime) with the outputs
// PyTorch 1.13 recorded for the same checkpoints and inputs
// (scripts/fixtures/make_fixtures.py).

// requireFixture fails the test when a committed fixture file is missing
// (it is part of the repository).
func requireFixture(t testing.TB, path string) {
	t.Helper()
	testenv.Fixture(t, path, regenerateFixtures)
}

func initORT(t testing.TB) {
	t.Helper()
	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(t), Source: "test"}); err != nil {
		t.Fatal(err)
	}
}

// runONNX runs model on one float32 input and returns the named outputs.
func runONNX(t testing.TB, model []byte, input string, shape []int64, data []float32, outputs ...string) [][]float32 {
	t.Helper()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(2); err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{input}, outputs, opts)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	defer s.Destroy()
	in, err := ort.NewTensor(ort.NewShape(shape...), data)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(outputs))
	if err := s.Run([]ort.Value{in}, outs); err != nil {
		t.Fatalf("run: %v", err)
	}
	var res [][]float32
	for _, o := range outs {
		res = append(res, append([]float32(nil), o.(*ort.Tensor[float32]).GetData()...))
		o.Destroy()
	}
	return res
}

// diff returns max |a−b| and max |b| (the reference's scale).
func diff(t testing.TB, what string, got, want []float32) (maxAbs, scale float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch recorded %d", what, len(got), len(want))
	}
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			t.Fatalf("%s: NaN at %d", what, i)
		}
		maxAbs = math.Max(maxAbs, d)
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	return maxAbs, scale
}

func TestMSTCNParity(t *testing.T) {
	for _, name := range []string{"mstcn", "mstcn_small"} {
		t.Run(name, func(t *testing.T) {
			metaPath := filepath.Join("testdata", name+".json")
			requireFixture(t, metaPath)
			meta := readMeta(t, metaPath)
			initORT(t)
			sd, err := Load(filepath.Join("testdata", meta["checkpoint"].(string)))
			if err != nil {
				t.Fatal(err)
			}
			w, err := MSTCN(sd)
			if err != nil {
				t.Fatal(err)
			}
			model, err := onnxgraph.BuildMSTCN(w, onnxgraph.MSTCNOptions{BoundaryClass: 1, Logits: true})
			if err != nil {
				t.Fatal(err)
			}
			D, T := int(meta["D"].(float64)), int(meta["T"].(float64))
			x := readF32(t, filepath.Join("testdata", meta["input"].(string)))
			if len(x) != D*T {
				t.Fatalf("input has %d values, want %d×%d", len(x), D, T)
			}
			out := runONNX(t, model, onnxgraph.MSTCNInput, []int64{1, int64(D), int64(T)}, x, onnxgraph.MSTCNBoundary, onnxgraph.MSTCNLogits)
			wantP := readF32(t, filepath.Join("testdata", meta["boundary"].(string)))
			wantL := readF32(t, filepath.Join("testdata", meta["logits"].(string)))
			dp, _ := diff(t, "boundary", out[0], wantP)
			dl, sl := diff(t, "logits", out[1], wantL)
			t.Logf("%s (%s): boundary probability max abs diff %.2g; last-stage logits max abs diff %.2g (max |logit| %.3g)", name, sd.Format, dp, dl, sl)
			if dp > 1e-5 {
				t.Errorf("boundary probability max abs diff %.3g > 1e-5", dp)
			}
			if dl > 1e-4*math.Max(sl, 1) {
				t.Errorf("logits max abs diff %.3g > 1e-4·max(|logit|,1)", dl)
			}
			// The pure-Go float64 reference agrees too (checks the recorded
			// outputs independently of ONNX Runtime).
			ref, _, err := onnxgraph.ReferenceMSTCN(w, x, T, 1)
			if err != nil {
				t.Fatal(err)
			}
			if dr, _ := diff(t, "reference", ref, wantP); dr > 1e-5 {
				t.Errorf("Go reference vs PyTorch: max abs diff %.3g > 1e-5", dr)
			}
		})
	}
}

// i3dInput recomputes the fixture clips: element i is (hash(i)>>24)/255 −
// 0.5, with the same 32-bit multiply-xorshift hash as make_fixtures.py.
func i3dInput(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		h := (uint64(i) * 2654435761) & 0xFFFFFFFF
		h ^= h >> 15
		h = (h * 2246822519) & 0xFFFFFFFF
		h ^= h >> 13
		out[i] = float32(float64(h>>24)/255 - 0.5)
	}
	return out
}

// TestI3DParity compares the Go-built I3D (folded and unfolded BatchNorm)
// with PyTorch on the committed reduced-width fixture and, when it has been
// generated, the full-size one (make_fixtures.py full; not committed).
// Features are compared as max |Δ| / max |feature| over the whole batch.
func TestI3DParity(t *testing.T) {
	tests := []struct {
		name, dir string
		committed bool
	}{
		{"i3d_small", "testdata", true},
		{"i3d_full", filepath.Join("testdata", "full"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			metaPath := filepath.Join(tc.dir, tc.name+".json")
			if tc.committed {
				requireFixture(t, metaPath)
			} else if _, err := os.Stat(metaPath); err != nil {
				t.Skipf("skipping the full-size check: %s not generated (see README, Verifying an import)", metaPath)
			}
			meta := readMeta(t, metaPath)
			initORT(t)
			batch := int(meta["batch"].(float64))
			x := i3dInput(batch * 3 * onnxgraph.I3DFrames * onnxgraph.I3DSize * onnxgraph.I3DSize)
			raw := make([]byte, 4*len(x))
			for i, v := range x {
				binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
			}
			if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != meta["input_sha256"] {
				t.Fatalf("recomputed input does not match the one PyTorch saw (sha256 %x)", sum)
			}
			wantF := readF32(t, filepath.Join(tc.dir, meta["features"].(string)))
			wantL := readF32(t, filepath.Join(tc.dir, meta["logits"].(string)))
			for _, file := range meta["checkpoints"].([]any) {
				sd, err := Load(filepath.Join(tc.dir, file.(string)))
				if err != nil {
					t.Fatal(err)
				}
				w, err := I3D(sd)
				if err != nil {
					t.Fatal(err)
				}
				var folded []float32
				for _, keep := range []bool{false, true} {
					model, err := onnxgraph.BuildI3D(w, onnxgraph.I3DOptions{Logits: true, KeepBatchNorm: keep})
					if err != nil {
						t.Fatal(err)
					}
					out := runONNX(t, model, onnxgraph.I3DInput, []int64{int64(batch), 3, onnxgraph.I3DFrames, onnxgraph.I3DSize, onnxgraph.I3DSize}, x, onnxgraph.I3DFeatures, onnxgraph.I3DLogits)
					df, sf := diff(t, "features", out[0], wantF)
					dl, sl := diff(t, "logits", out[1], wantL)
					mode := "folded BN"
					if keep {
						mode = "BatchNormalization nodes"
						dff, _ := diff(t, "folded vs unfolded", folded, out[0])
						t.Logf("folded vs unfolded features: max abs diff %.2g", dff)
					} else {
						folded = out[0]
					}
					t.Logf("%s (%s, %s): features max abs diff %.2g, max |feature| %.3g, relative %.2g; logits max abs diff %.2g (max |logit| %.3g)",
						file, sd.Format, mode, df, sf, df/sf, dl, sl)
					if df/sf > 1e-4 {
						t.Errorf("%s %s: features max abs diff / max |feature| = %.3g > 1e-4", file, mode, df/sf)
					}
					if dl/sl > 1e-4 {
						t.Errorf("%s %s: logits max abs diff / max |logit| = %.3g > 1e-4", file, mode, dl/sl)
					}
				}
			}
		})
	}
}

// BenchmarkI3DFullSize times the in-memory part of an import of a full-size
// I3D checkpoint (make_fixtures.py full): Load, I3D matching and BuildI3D.
func BenchmarkI3DFullSize(b *testing.B) {
	path := filepath.Join("testdata", "full", "i3d_full.pth.tar")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("skipping: %s not generated (scripts/fixtures/make_fixtures.py full)", path)
	}
	for range b.N {
		sd, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		w, err := I3D(sd)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := onnxgraph.BuildI3D(w, onnxgraph.I3DOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
