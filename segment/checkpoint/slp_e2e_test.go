package checkpoint_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment/checkpoint"
	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// The whole Go path of `signseg model import --slp` and of segmenting a
// .pose file with the result: read the .pose file, select and normalise
// the Holistic points, import the TorchScript model, build the ONNX graph,
// run it with ONNX Runtime, decode BIO. Compared with PyTorch's outputs on
// the numpy pre-processing and with the fixture script's decoder.
func TestSLPEndToEnd(t *testing.T) {
	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(t), Source: "test"}); err != nil {
		t.Fatal(err)
	}
	td := filepath.Join("testdata", "slp")
	raw, err := os.ReadFile(filepath.Join(td, "slp.json"))
	if err != nil {
		t.Fatalf("committed fixture missing (make it with /usr/bin/python3 scripts/fixtures/slp_fixtures.py): %v", err)
	}
	type rec struct {
		Sign      string  `json:"sign"`
		Sentence  string  `json:"sentence"`
		Signs     [][]int `json:"signs_60_50"`
		Sentences [][]int `json:"sentences_90_90"`
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	meta := map[string]rec{}
	for _, k := range []string{"tiny", "example"} {
		var r rec
		if err := json.Unmarshal(all[k], &r); err != nil {
			t.Fatalf("slp.json %s: %v", k, err)
		}
		meta[k] = r
	}
	cases := []struct {
		name, pose, model, rec string
		shared                 bool
	}{
		{"synthetic Holistic, tiny model", filepath.Join("..", "..", "pose", "testdata", "holistic_synth.pose"), filepath.Join(td, "tiny.pt"), "tiny", false},
		{"example.pose, released model", "example.pose", "model.pth", "example", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			posePath, modelPath := c.pose, c.model
			if c.shared {
				dir := testenv.SharedDir(t, "models/slp-2023")
				posePath, modelPath = filepath.Join(dir, c.pose), filepath.Join(dir, c.model)
			}
			f, err := pose.ReadFile(posePath)
			if err != nil {
				t.Fatal(err)
			}
			k, err := f.Holistic()
			if err != nil {
				t.Fatal(err)
			}
			norm, err := pose.NormalizeShoulders(k, pose.HolisticShoulderNorm())
			if err != nil {
				t.Fatal(err)
			}
			p0, err := norm.Person(0)
			if err != nil {
				t.Fatal(err)
			}
			w, err := checkpoint.LoadSLP2023(modelPath)
			if err != nil {
				t.Fatal(err)
			}
			model, err := onnxgraph.BuildPoseTagger(w, onnxgraph.PoseTaggerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sign, sent := runTagger(t, model, p0.Data, p0.Frames)
			r := meta[c.rec]
			ds := testenv.MaxAbsDiff(sign, readRaw(t, filepath.Join(td, r.Sign)))
			dn := testenv.MaxAbsDiff(sent, readRaw(t, filepath.Join(td, r.Sentence)))
			signs, err := decode.BIO(decode.BIOProbabilities(sign), decode.SLPSignThresholds())
			if err != nil {
				t.Fatal(err)
			}
			sents, err := decode.BIO(decode.BIOProbabilities(sent), decode.SLPSentenceThresholds())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d frames; Go pipeline vs PyTorch (numpy pre-processing) log-prob max abs diff sign %.2g, sentence %.2g; signs %v, sentences %v",
				c.name, p0.Frames, ds, dn, pairs(signs), pairs(sents))
			if ds > 1e-5 || dn > 1e-5 {
				t.Errorf("max abs diff sign %.3g, sentence %.3g > 1e-5", ds, dn)
			}
			conv := func(py [][]int) [][2]int {
				out := [][2]int{}
				for _, s := range py {
					out = append(out, [2]int{s[0], min(s[1]+1, p0.Frames)})
				}
				return out
			}
			if g, w := pairs(signs), conv(r.Signs); !reflect.DeepEqual(g, w) {
				t.Errorf("signs %v, fixture decoder %v", g, w)
			}
			if g, w := pairs(sents), conv(r.Sentences); !reflect.DeepEqual(g, w) {
				t.Errorf("sentences %v, fixture decoder %v", g, w)
			}
			if c.rec == "example" && !reflect.DeepEqual(pairs(signs), [][2]int{{35, 59}, {59, 93}}) {
				t.Errorf("example.pose signs %v, SOURCES.md: frames 35–58 and 59–92", pairs(signs))
			}
		})
	}
}

func pairs(s []decode.FrameSpan) [][2]int {
	out := [][2]int{}
	for _, x := range s {
		out = append(out, [2]int{x.Start, x.End})
	}
	return out
}

func runTagger(t *testing.T, model []byte, x []float32, T int) (sign, sentence []float32) {
	t.Helper()
	s, err := ortsession.New("pose tagger", model, []string{onnxgraph.PoseTaggerInput},
		[]string{onnxgraph.PoseTaggerSign, onnxgraph.PoseTaggerSentence}, ortsession.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	outs, err := s.Run(ortsession.Tensor{Data: x, Shape: []int64{1, int64(T), int64(len(x) / T)}})
	if err != nil {
		t.Fatal(err)
	}
	return outs[0].Data, outs[1].Data
}

func readRaw(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("committed fixture missing: %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}
