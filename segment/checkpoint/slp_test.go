package checkpoint

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// The slp fixtures (testdata/slp, inputs in pose/testdata) are made by
// scripts/fixtures/slp_fixtures.py with PyTorch 1.13: a tiny traced model of
// the 2023 architecture (always tested) and the released model's outputs on
// example.pose and a synthetic Holistic file (tested when ../shared has the
// model).

type slpCase struct {
	Frames     int    `json:"frames"`
	Model      string `json:"model"`
	Input      string `json:"input"`
	Sign       string `json:"sign"`
	Sentence   string `json:"sentence"`
	TinySHA256 string `json:"sha256"`
}

type slpMeta struct {
	ModelSHA256 string  `json:"model_sha256"`
	Tiny        slpCase `json:"tiny"`
	Example     slpCase `json:"example"`
	Synth       slpCase `json:"synth"`
}

const slpDir = "testdata/slp"

func readSLPMeta(t testing.TB) slpMeta {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(slpDir, "slp.json"))
	if err != nil {
		t.Fatalf("committed fixture missing (make it with /usr/bin/python3 scripts/fixtures/slp_fixtures.py): %v", err)
	}
	var m slpMeta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sha256File(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestLoadTorchScriptTiny(t *testing.T) {
	sd, err := LoadTorchScript(filepath.Join(slpDir, "tiny.pt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pose_projection.weight", "pose_projection.bias",
		"encoder.weight_ih_l0", "encoder.weight_hh_l0", "encoder.bias_ih_l0", "encoder.bias_hh_l0",
		"encoder.weight_ih_l0_reverse", "encoder.weight_hh_l0_reverse", "encoder.bias_ih_l0_reverse", "encoder.bias_hh_l0_reverse",
		"sign_bio_head.weight", "sign_bio_head.bias", "sentence_bio_head.weight", "sentence_bio_head.bias"}
	if strings.Join(sd.Names, ",") != strings.Join(want, ",") || sd.Format != "torchscript" {
		t.Fatalf("tensors %v (format %s), want %v", sd.Names, sd.Format, want)
	}
	w, err := PoseTagger(sd)
	if err != nil {
		t.Fatal(err)
	}
	d, err := w.Dims()
	if err != nil {
		t.Fatal(err)
	}
	if d != (onnxgraph.PoseTaggerDims{In: 225, Proj: 6, Hidden: 5, Classes: 3}) {
		t.Errorf("dims %+v, want 225/6/5/3 (the fixture script's tiny model)", d)
	}
	// A tensor read by position: W_hh of the backward LSTM is [20, 5].
	if got := sd.Tensors["encoder.weight_hh_l0_reverse"].Shape; len(got) != 2 || got[0] != 20 || got[1] != 5 {
		t.Errorf("encoder.weight_hh_l0_reverse shape %v, want [20 5]", got)
	}
	if _, err := LoadSLP2023(filepath.Join(slpDir, "tiny.pt")); err != nil {
		t.Errorf("LoadSLP2023 on a 225-input tagger: %v", err)
	}
}

// The imported graph (ONNX Runtime) against PyTorch's torch.jit.load outputs.
func TestPoseTaggerParity(t *testing.T) {
	meta := readSLPMeta(t)
	initORT(t)
	cases := []struct {
		name string
		c    slpCase
		real bool
	}{
		{"tiny", meta.Tiny, false},
		{"example.pose", meta.Example, true},
		{"synthetic Holistic", meta.Synth, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			model := filepath.Join(slpDir, tc.c.Model)
			if tc.real {
				model = filepath.Join(testenv.SharedDir(t, "models/slp-2023"), "model.pth")
				if got := sha256File(t, model); got != meta.ModelSHA256 {
					t.Fatalf("%s is not the model the fixtures were made from", model)
				}
			} else if got := sha256File(t, model); got != tc.c.TinySHA256 {
				t.Fatalf("%s differs from the file the fixture script wrote", model)
			}
			w, err := LoadSLP2023(model)
			if err != nil {
				t.Fatal(err)
			}
			onnx, err := onnxgraph.BuildPoseTagger(w, onnxgraph.PoseTaggerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x := readF32(t, filepath.Join(slpDir, tc.c.Input))
			T := tc.c.Frames
			if len(x) != T*SLPInputDim {
				t.Fatalf("input has %d values, want %d×225", len(x), T)
			}
			out := runONNX(t, onnx, onnxgraph.PoseTaggerInput, []int64{1, int64(T), SLPInputDim}, x,
				onnxgraph.PoseTaggerSign, onnxgraph.PoseTaggerSentence)
			ds, ss := diff(t, "sign", out[0], readF32(t, filepath.Join(slpDir, tc.c.Sign)))
			dn, sn := diff(t, "sentence", out[1], readF32(t, filepath.Join(slpDir, tc.c.Sentence)))
			t.Logf("%s: %d frames; ONNX Runtime vs PyTorch log-probabilities max abs diff: sign %.2g (max |v| %.3g), sentence %.2g (max |v| %.3g)", tc.name, T, ds, ss, dn, sn)
			if ds > 1e-5 || dn > 1e-5 {
				t.Errorf("max abs diff sign %.3g, sentence %.3g > 1e-5", ds, dn)
			}
		})
	}
}

func TestTorchScriptErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tiny, err := os.ReadFile(filepath.Join(slpDir, "tiny.pt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"text", filepath.Join("testdata", "not_a_checkpoint.pth"), "not a TorchScript archive"},
		{"empty", write("empty.pth", nil), "not a TorchScript archive"},
		{"torch.save zip", filepath.Join("testdata", "i3d_small.pth.tar"), "torch.save"},
		{"zip without data.pkl", write("x.zip", zipWith(t, "a/readme.txt")), "without <name>/data.pkl"},
		{"truncated", write("cut.pth", tiny[:len(tiny)/2]), "not a TorchScript archive"},
		{"missing", filepath.Join(dir, "nope.pth"), "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadTorchScript(tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, filepath.Base(tc.path)) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming the file and containing %q", msg, tc.want)
			}
		})
	}
	// Load (state dicts) keeps refusing TorchScript, pointing at the right reader.
	if _, err := Load(filepath.Join(slpDir, "tiny.pt")); err == nil || !strings.Contains(err.Error(), "TorchScript") {
		t.Errorf("Load of a TorchScript file: %v", err)
	}
}

// A TorchScript file of another architecture, and broken tagger state
// dicts, give a ShapeError naming the tensor.
func TestPoseTaggerMismatch(t *testing.T) {
	if _, err := LoadTorchScript(filepath.Join("testdata", "torchscript.pt")); err == nil || !strings.Contains(err.Error(), "holds no tensors") {
		t.Errorf("a TorchScript module without tensors: %v", err)
	}
	other, err := Load(filepath.Join("testdata", "i3d_small.pth.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PoseTagger(other); err == nil || !strings.Contains(err.Error(), "pose_projection.weight is missing (the file looks like an I3D checkpoint)") {
		t.Errorf("an I3D checkpoint: %v", err)
	}
	load := func() *StateDict {
		sd, err := LoadTorchScript(filepath.Join(slpDir, "tiny.pt"))
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	cases := []struct {
		name string
		edit func(sd *StateDict)
		want string
	}{
		{"no reverse", func(sd *StateDict) { delete(sd.Tensors, "encoder.weight_ih_l0_reverse") }, "encoder.weight_ih_l0_reverse is missing"},
		{"bad head", func(sd *StateDict) { sd.Tensors["sign_bio_head.weight"].Shape = []int{4, 10} }, "sign_bio_head.weight has shape [4 10]"},
		{"bad hh", func(sd *StateDict) { sd.Tensors["encoder.weight_hh_l0"].Shape = []int{21, 5} }, "encoder.weight_hh_l0"},
		{"two layers", func(sd *StateDict) { sd.Tensors["encoder.weight_ih_l1"] = sd.Tensors["encoder.weight_ih_l0"] }, "more than one layer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sd := load()
			tc.edit(sd)
			_, err := PoseTagger(sd)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			var se *ShapeError
			if tc.name != "two layers" && !errors.As(err, &se) {
				t.Errorf("error %T is not a *ShapeError", err)
			}
		})
	}
}

// FuzzTorchScriptPickle feeds arbitrary bytes as the data.pkl of the tiny
// TorchScript archive (its tensors kept): LoadTorchScript must return a
// module or an error naming the file, never crash or hang.
func FuzzTorchScriptPickle(f *testing.F) {
	zr, err := zip.OpenReader(filepath.Join(slpDir, "tiny.pt"))
	if err != nil {
		f.Fatalf("committed fixture missing: %v", err)
	}
	defer zr.Close()
	type rec struct {
		name string
		data []byte
	}
	var recs []rec
	var pkl []byte
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			f.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			f.Fatal(err)
		}
		if strings.HasSuffix(zf.Name, "/data.pkl") {
			pkl = b
		}
		recs = append(recs, rec{zf.Name, b})
	}
	f.Add(pkl)
	f.Add(pkl[:len(pkl)/2])
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, r := range recs {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(r.name, "/data.pkl") {
				_, err = w.Write(data)
			} else {
				_, err = w.Write(r.data)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "fuzz.pt")
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		sd, err := LoadTorchScript(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		_, _ = PoseTagger(sd)
	})
}
