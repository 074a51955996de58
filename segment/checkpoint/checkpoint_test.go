package checkpoint

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/pytorch"

	"github.com/signseg/signseg/internal/testenv"
)

// The fixtures under testdata are made by scripts/fixtures/make_fixtures.py
// (PyTorch 1.13); the tests never need PyTorch.

// fixturePath returns testdata/name; a missing committed fixture fails the
// test (it is part of the repository).
func fixturePath(t testing.TB, name string) string {
	t.Helper()
	return testenv.Fixture(t, filepath.Join("testdata", name), regenerateFixtures)
}

// regenerateFixtures says how the committed fixtures are made (needs PyTorch).
const regenerateFixtures = "regenerate it with /usr/bin/python3 scripts/fixtures/make_fixtures.py small"

// readMeta reads a fixture's JSON description.
func readMeta(t testing.TB, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestLoadSerialisations(t *testing.T) {
	tests := []struct {
		file    string
		format  string
		wrapped bool
		tensors int
		kind    string
	}{
		{"i3d_small.pth.tar", "zip", true, 344, ArchI3D},
		{"i3d_small_legacy.pth.tar", "legacy", true, 344, ArchI3D},
		{"mstcn.model", "legacy", false, 176, ArchMSTCN},
		{"mstcn_small.model", "zip", false, 40, ArchMSTCN},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			sd, err := Load(fixturePath(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if sd.Format != tc.format || sd.Wrapped != tc.wrapped || len(sd.Names) != tc.tensors || sd.Kind() != tc.kind {
				t.Fatalf("format %s wrapped %v tensors %d kind %q; want %s %v %d %q", sd.Format, sd.Wrapped, len(sd.Names), sd.Kind(), tc.format, tc.wrapped, tc.tensors, tc.kind)
			}
			for _, n := range sd.Names {
				if strings.HasPrefix(n, "module.") {
					t.Fatalf("prefix not stripped: %s", n)
				}
			}
		})
	}
}

// TestZipAndLegacyAgree checks that both serialisations of the same
// checkpoint give identical tensors, including the int64 counters.
func TestZipAndLegacyAgree(t *testing.T) {
	a, err := Load(fixturePath(t, "i3d_small.pth.tar"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(fixturePath(t, "i3d_small_legacy.pth.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Names, b.Names) {
		t.Fatal("tensor names differ")
	}
	for _, n := range a.Names {
		ta, tb := a.Tensors[n], b.Tensors[n]
		if !slices.Equal(ta.Shape, tb.Shape) || !slices.Equal(ta.Data, tb.Data) || ta.DType != tb.DType {
			t.Fatalf("%s differs between zip and legacy", n)
		}
	}
	nbt := a.Tensors["Mixed_4b.b1b.bn.num_batches_tracked"]
	if nbt == nil || nbt.DType != "int64" || len(nbt.Shape) != 0 || len(nbt.Data) != 1 || nbt.Data[0] != 12345 {
		t.Fatalf("num_batches_tracked = %+v, want int64 scalar 12345", nbt)
	}
}

func TestMatchMSTCNDims(t *testing.T) {
	for _, name := range []string{"mstcn", "mstcn_small"} {
		meta := readMeta(t, fixturePath(t, name+".json"))
		sd, err := Load(fixturePath(t, name+".model"))
		if err != nil {
			t.Fatal(err)
		}
		w, err := MSTCN(sd)
		if err != nil {
			t.Fatal(err)
		}
		d, err := w.Dims()
		if err != nil {
			t.Fatal(err)
		}
		got := []int{d.S, d.L, d.F, d.D, d.C}
		want := []int{int(meta["S"].(float64)), int(meta["L"].(float64)), int(meta["F"].(float64)), int(meta["D"].(float64)), int(meta["C"].(float64))}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: dims S,L,F,D,C = %v, want %v", name, got, want)
		}
		// Spot-check that the right tensor went to the right place.
		s, l := d.S-1, d.L-1
		key := fmt.Sprintf("stages.%d.layers.%d.conv_dilated.weight", s-1, l)
		if !slices.Equal(w.Stages[s].Layers[l].Dilated.Weight, sd.Tensors[key].Data) {
			t.Fatalf("stage %d layer %d weights are not %s", s, l, key)
		}
	}
}

func TestMatchI3D(t *testing.T) {
	meta := readMeta(t, fixturePath(t, "i3d_small.json"))
	sd, err := Load(fixturePath(t, "i3d_small.pth.tar"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := I3D(sd)
	if err != nil {
		t.Fatal(err)
	}
	dim, classes, err := w.Dims()
	if err != nil {
		t.Fatal(err)
	}
	if dim != int(meta["dim"].(float64)) || classes != int(meta["classes"].(float64)) {
		t.Fatalf("dim %d classes %d, want %v %v", dim, classes, meta["dim"], meta["classes"])
	}
	if !slices.Equal(w.Mixed[5].B2b.BN.Var, sd.Tensors["Mixed_4e.b2b.bn.running_var"].Data) {
		t.Fatal("Mixed_4e.b2b running_var not in Mixed[5].B2b")
	}
	// Without the classifier the model still gives features.
	delete(sd.Tensors, "logits.conv3d.weight")
	delete(sd.Tensors, "logits.conv3d.bias")
	w, err = I3D(sd)
	if err != nil || w.Logits != nil {
		t.Fatalf("without logits: %v, logits %v", err, w != nil && w.Logits != nil)
	}
}

// TestMismatch checks that the first missing or mis-shaped tensor is named.
func TestMismatch(t *testing.T) {
	load := func(name string) *StateDict {
		sd, err := Load(fixturePath(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	tests := []struct {
		name   string
		edit   func(sd *StateDict)
		i3d    bool
		file   string
		substr []string
	}{
		{"MS-TCN given as I3D", nil, true, "mstcn.model", []string{"tensor Conv3d_1a_7x7.conv3d.weight is missing", "looks like an MS-TCN"}},
		{"I3D given as MS-TCN", nil, false, "i3d_small.pth.tar", []string{"tensor stage1.conv_1x1.weight is missing", "looks like an I3D"}},
		{"I3D missing BN", func(sd *StateDict) { delete(sd.Tensors, "Mixed_4c.b2b.bn.running_var") }, true, "i3d_small.pth.tar",
			[]string{"tensor Mixed_4c.b2b.bn.running_var is missing"}},
		{"I3D wrong kernel", func(sd *StateDict) { sd.Tensors["Mixed_3b.b1b.conv3d.weight"].Shape[2] = 5 }, true, "i3d_small.pth.tar",
			[]string{"tensor Mixed_3b.b1b.conv3d.weight has shape", "want [any,"}},
		{"I3D wrong input channels", func(sd *StateDict) { sd.Tensors["Conv3d_1a_7x7.conv3d.weight"].Shape[1] = 1 }, true, "i3d_small.pth.tar",
			[]string{"tensor Conv3d_1a_7x7.conv3d.weight has shape [8 1 7 7 7], want [any,3,7,7,7]"}},
		{"MS-TCN missing layer", func(sd *StateDict) { delete(sd.Tensors, "stages.2.layers.3.conv_1x1.bias") }, false, "mstcn.model",
			[]string{"tensor stages.2.layers.3.conv_1x1.bias is missing"}},
		{"MS-TCN wrong width", func(sd *StateDict) { sd.Tensors["stages.0.conv_out.weight"].Shape[1] = 32 }, false, "mstcn.model",
			[]string{"tensor stages.0.conv_out.weight has shape [2 32 1], want [2,64,1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd := load(tc.file)
			if tc.edit != nil {
				tc.edit(sd)
			}
			var err error
			if tc.i3d {
				_, err = I3D(sd)
			} else {
				_, err = MSTCN(sd)
			}
			var se *ShapeError
			if err == nil || !errors.As(err, &se) {
				t.Fatalf("error %v, want a ShapeError", err)
			}
			for _, s := range tc.substr {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("error %q does not contain %q", err, s)
				}
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

// TestNotACheckpoint checks the one-line errors for files that are not
// checkpoints, including inputs that make gopickle panic.
func TestNotACheckpoint(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var tarBuf strings.Builder
	tw := tar.NewWriter(&tarBuf)
	_ = tw.WriteHeader(&tar.Header{Name: "x", Mode: 0o644, Size: 1})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	legacyGarbage := append(append([]byte(nil), legacyMagic...), 0x2e, 0xff, 0xff)
	full, err := os.ReadFile(fixturePath(t, "mstcn.model"))
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := os.ReadFile(fixturePath(t, "i3d_small.pth.tar"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"text", fixturePath(t, "not_a_checkpoint.pth"), "not a PyTorch checkpoint"},
		{"torchscript", fixturePath(t, "torchscript.pt"), "TorchScript"},
		{"empty", write("empty.pth", nil), "not a PyTorch checkpoint"},
		{"tar", write("old.tar", []byte(tarBuf.String())), "not a PyTorch checkpoint"},
		{"zip without data.pkl", write("models.zip", zipWith(t, "models/readme.txt")), "without data.pkl"},
		{"legacy garbage", write("bad.model", legacyGarbage), "not a readable PyTorch checkpoint"},
		{"truncated legacy", write("cut.model", full[:len(full)/2]), "damaged or truncated"},
		{"truncated zip", write("cut.pth.tar", zipped[:len(zipped)/2]), "damaged zip"},
		{"missing", filepath.Join(dir, "nope.pth"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not contain %q", msg, tc.want)
			}
			if !strings.Contains(msg, filepath.Base(tc.path)) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q must be one line naming the file", msg)
			}
		})
	}
}

// TestOffsets checks the strided view copy against hand-computed indices.
func TestOffsets(t *testing.T) {
	tests := []struct {
		name         string
		size, stride []int
		offset, n    int
		want         []int
		wantErr      bool
	}{
		{"contiguous", []int{2, 3}, []int{3, 1}, 0, 6, []int{0, 1, 2, 3, 4, 5}, false},
		{"transposed view with offset", []int{2, 3}, []int{1, 2}, 1, 7, []int{1, 3, 5, 2, 4, 6}, false},
		{"scalar", nil, nil, 4, 5, []int{4}, false},
		{"broadcast (stride 0)", []int{3}, []int{0}, 2, 3, []int{2, 2, 2}, false},
		{"outside storage", []int{2, 3}, []int{3, 1}, 1, 6, nil, true},
		{"rank mismatch", []int{2, 3}, []int{1}, 0, 6, nil, true},
		{"too large", []int{1 << 30, 1 << 30, 1 << 30}, []int{0, 0, 0}, 0, 6, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := offsets(tc.size, tc.stride, tc.offset, tc.n)
			if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestContiguous(t *testing.T) {
	tests := []struct {
		size, stride []int
		want         bool
	}{
		{[]int{2, 3}, []int{3, 1}, true},
		{[]int{2, 3}, []int{1, 2}, false},
		{[]int{4, 1, 3}, []int{3, 99, 1}, true}, // a size-1 dimension may have any stride
		{[]int{3}, []int{0}, false},             // broadcast view
		{nil, nil, true},                        // scalar
		{[]int{2}, []int{1, 1}, false},
	}
	for _, tc := range tests {
		if got := contiguous(tc.size, tc.stride); got != tc.want {
			t.Errorf("contiguous(%v, %v) = %v, want %v", tc.size, tc.stride, got, tc.want)
		}
		// Where it says contiguous, the general path agrees.
		if tc.want {
			offs, err := offsets(tc.size, tc.stride, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range offs {
				if o != i {
					t.Errorf("%v %v: element %d at storage %d", tc.size, tc.stride, i, o)
				}
			}
		}
	}
}

// zipWith returns a zip archive holding empty files of the given names.
func zipWith(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		if _, err := zw.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readF32 reads a raw little-endian float32 file.
func readF32(t testing.TB, path string) []float32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data)%4 != 0 {
		t.Fatalf("%s: %d bytes is not a float32 array", path, len(data))
	}
	out := make([]float32, len(data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out
}

// TestLenientClasses checks that the fixture's wrapper dict really carries
// objects that plain gopickle cannot build (a NumPy scalar, an
// argparse.Namespace), so that TestLoadSerialisations exercises the
// placeholder hook.
func TestLenientClasses(t *testing.T) {
	_, err := pytorch.Load(fixturePath(t, "i3d_small.pth.tar"))
	if err == nil || !strings.Contains(err.Error(), "class not found") {
		t.Fatalf("plain gopickle: error %v, want class not found", err)
	}
}

// TestMissingFixtureFails: a committed fixture that is missing must fail
// the tests that need it, never skip them.
func TestMissingFixtureFails(t *testing.T) {
	helpers := []struct {
		name string
		call func(testing.TB)
	}{
		{"fixturePath", func(tb testing.TB) { fixturePath(tb, "no_such_fixture.pth.tar") }},
		{"requireFixture", func(tb testing.TB) { requireFixture(tb, filepath.Join("testdata", "no_such_fixture.json")) }},
	}
	for _, h := range helpers {
		t.Run(h.name, func(t *testing.T) {
			failed, skipped, msg := testenv.Outcome(t, h.call)
			if !failed || skipped {
				t.Fatalf("missing committed fixture: failed %v, skipped %v (%s); want a failure", failed, skipped, msg)
			}
		})
	}
}
