package decode

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// frames builds [T][3] probabilities from per-frame (O, B, I) percentages.
func frames(pct ...[3]float32) []float32 {
	var p []float32
	for _, f := range pct {
		p = append(p, f[0]/100, f[1]/100, f[2]/100)
	}
	return p
}

func spanPairs(s []FrameSpan) [][2]int {
	out := [][2]int{}
	for _, x := range s {
		out = append(out, [2]int{x.Start, x.End})
	}
	return out
}

func TestDecodeBIO(t *testing.T) {
	O := [3]float32{90, 5, 5}
	Bs := [3]float32{5, 80, 15} // strong B
	In := [3]float32{5, 10, 85}
	th := BIOThresholds{Begin: 60, Outside: 50}
	cases := []struct {
		name  string
		probs []float32
		th    BIOThresholds
		want  [][2]int
	}{
		{"empty", nil, th, [][2]int{}},
		{"one sign", frames(O, Bs, In, In, O, O), th, [][2]int{{1, 4}}},
		// B then B again at once: the second B frame does not end the
		// segment (B has not dropped yet), the first I does not either.
		{"B B I O", frames(O, Bs, Bs, In, O), th, [][2]int{{1, 4}}},
		// A new B after the drop ends the segment and starts the next at once.
		{"restart on B", frames(Bs, In, In, Bs, In, O), th, [][2]int{{0, 3}, {3, 5}}},
		{"open at the end", frames(O, Bs, In, In), th, [][2]int{{1, 4}}},
		// B exactly at the threshold neither starts a segment nor counts as
		// passed; B = 60 everywhere means "some frame has B ≥ 60", so no
		// fallback either: nothing.
		{"B at the threshold", frames(O, [3]float32{10, 60, 30}, In, O), th, [][2]int{}},
		// 0.625 × 100 = 62.5 exactly rounds half to even (numpy): 62, not
		// above 62 (rounding half up would start a segment).
		{"rounding", frames(O, [3]float32{10, 62.5, 27.5}, In, O), BIOThresholds{Begin: 62, Outside: 50}, [][2]int{}},
		{"rounding up", frames(O, [3]float32{10, 63.5, 26.5}, In, O), BIOThresholds{Begin: 63, Outside: 50}, [][2]int{{1, 3}}},
		// No B anywhere: runs of I > 50, ended by I < 50 (I = 50 continues).
		{"fallback", frames(In, In, O, In, [3]float32{25, 25, 50}, In, O, In), th, [][2]int{{0, 2}, {3, 6}, {7, 8}}},
		// O above 50 ends a segment only after B has dropped.
		{"O before drop", frames([3]float32{30, 65, 5}, [3]float32{45, 55, 0}, [3]float32{55, 5, 40}, In), th, [][2]int{{0, 2}}},
		{"sentence thresholds", frames(O, [3]float32{5, 92, 3}, In, [3]float32{91, 4, 5}, In), SLPSentenceThresholds(), [][2]int{{1, 3}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeBIO(c.probs, c.th)
			if err != nil {
				t.Fatal(err)
			}
			if g := spanPairs(got); !reflect.DeepEqual(g, c.want) {
				t.Errorf("spans %v, want %v", g, c.want)
			}
			for _, s := range got {
				if s.Start >= s.End || s.Confidence < 0 || s.Confidence > 1 {
					t.Errorf("bad span %+v", s)
				}
			}
		})
	}
	if _, err := DecodeBIO(make([]float32, 4), th); err == nil {
		t.Error("4 probabilities accepted")
	}
	got, _ := DecodeBIO(frames(O, Bs, In, O), th)
	if want := (0.95 + 0.95) / 2; math.Abs(got[0].Confidence-want) > 1e-6 {
		t.Errorf("confidence %g, want mean 1−P(O) = %g", got[0].Confidence, want)
	}
}

func readF32File(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("committed fixture missing (make it with /usr/bin/python3 scripts/fixtures/slp_fixtures.py): %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// The slp-2023 model's recorded outputs (PyTorch) decoded with the
// release's thresholds give what the fixture script's own decoder found, and
// on example.pose the 2 signs SOURCES.md reports (frames 35–58 and 59–92,
// inclusive: [35,59) and [59,93)).
func TestDecodeBIOSLPOutputs(t *testing.T) {
	dir := filepath.Join("..", "checkpoint", "testdata", "slp")
	b, err := os.ReadFile(filepath.Join(dir, "slp.json"))
	if err != nil {
		t.Fatalf("committed fixture missing (make it with /usr/bin/python3 scripts/fixtures/slp_fixtures.py): %v", err)
	}
	type rec struct {
		Frames    int     `json:"frames"`
		Sign      string  `json:"sign"`
		Sentence  string  `json:"sentence"`
		Signs     [][]int `json:"signs_60_50"`
		Sentences [][]int `json:"sentences_90_90"`
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	// python's [start, end] (inclusive; end = T for a span open at the end)
	// as FrameSpan pairs.
	convert := func(py [][]int, T int) [][2]int {
		out := [][2]int{}
		for _, s := range py {
			out = append(out, [2]int{s[0], min(s[1]+1, T)})
		}
		return out
	}
	for _, name := range []string{"example", "synth", "tiny"} {
		t.Run(name, func(t *testing.T) {
			var r rec
			if err := json.Unmarshal(meta[name], &r); err != nil {
				t.Fatal(err)
			}
			sign := BIOProbabilities(readF32File(t, filepath.Join(dir, r.Sign)))
			sent := BIOProbabilities(readF32File(t, filepath.Join(dir, r.Sentence)))
			if len(sign) != 3*r.Frames || len(sent) != 3*r.Frames {
				t.Fatalf("%d and %d values for %d frames", len(sign), len(sent), r.Frames)
			}
			signs, err := DecodeBIO(sign, SLPSignThresholds())
			if err != nil {
				t.Fatal(err)
			}
			sents, err := DecodeBIO(sent, SLPSentenceThresholds())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s (%d frames): signs %v, sentences %v", name, r.Frames, spanPairs(signs), spanPairs(sents))
			if g, w := spanPairs(signs), convert(r.Signs, r.Frames); !reflect.DeepEqual(g, w) {
				t.Errorf("signs %v, the fixture script's decoder %v", g, w)
			}
			if g, w := spanPairs(sents), convert(r.Sentences, r.Frames); !reflect.DeepEqual(g, w) {
				t.Errorf("sentences %v, the fixture script's decoder %v", g, w)
			}
			if name == "example" {
				if g := spanPairs(signs); !reflect.DeepEqual(g, [][2]int{{35, 59}, {59, 93}}) {
					t.Errorf("example.pose signs %v, SOURCES.md: frames 35–58 and 59–92", g)
				}
			}
		})
	}
}
