package segment

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment/checkpoint"
	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// holisticPerson0 reads the Holistic points of person 0 of a .pose file.
func holisticPerson0(t *testing.T, path string) *pose.Keypoints {
	t.Helper()
	f, err := pose.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.Holistic()
	if err != nil {
		t.Fatal(err)
	}
	if k, err = k.Person(0); err != nil {
		t.Fatal(err)
	}
	return k
}

// keypointFeatures reads a .pose file's Holistic points as keypoint
// feature rows (x, y, z, confidence per point).
func keypointFeatures(t *testing.T, path string) *Features {
	t.Helper()
	k := holisticPerson0(t, path)
	feats := &Features{Dim: kpDim, Frames: k.Frames, Data: make([]float32, k.Frames*kpDim)}
	for i := range k.Frames * kpPoints {
		copy(feats.Data[kpValues*i:], k.Data[3*i:3*i+3])
		feats.Data[kpValues*i+3] = k.Confidence[i]
	}
	return feats
}

// slpModel is a model of the 2023 pose segmenter's layout with the weights
// of the TorchScript file at path.
func slpModel(t *testing.T, path string) *Model {
	t.Helper()
	initORT(t)
	w, err := checkpoint.LoadSLP2023(path)
	if err != nil {
		t.Fatal(err)
	}
	graph, err := onnxgraph.BuildPoseTagger(w, onnxgraph.PoseTaggerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &Model{Manifest: Manifest{
		Name:     "slp-test",
		Features: FeatureSpec{Kind: FeaturesKeypoints, Dim: kpDim, Preprocess: media.Preprocess{FrameRate: media.Rational{Num: 25, Den: 1}}},
		Temporal: &TemporalSpec{Input: onnxgraph.PoseTaggerInput, Output: onnxgraph.PoseTaggerSign, SentenceOutput: onnxgraph.PoseTaggerSentence,
			OutputKind: OutputBIO, Normalize: NormalizeShoulders2023},
		Decoding: Decoding{Decoder: new(DecoderBIO)},
	}, temporal: graph}
}

// TestBIOScorer runs the pose segmenter's scorer on keypoint rows. On
// example.pose (one person) its signs and sentences must be those the
// fixture script decoded from PyTorch's outputs (inclusive ends there,
// exclusive here); on the committed two-person file with the tiny model,
// those of the plain-Go reference on person 0's normalised points (the
// recorded outputs normalise over both people, as pose-format does; the
// segmenter sees one signer).
func TestBIOScorer(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("checkpoint", "testdata", "slp", "slp.json"))
	if err != nil {
		t.Fatalf("committed fixture missing (scripts/fixtures/slp_fixtures.py makes it): %v", err)
	}
	var rec struct {
		Tiny, Example struct {
			Signs     [][]int `json:"signs_60_50"`
			Sentences [][]int `json:"sentences_90_90"`
		}
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	spans := func(in [][]int) [][2]int {
		out := [][2]int{}
		for _, s := range in {
			out = append(out, [2]int{s[0], s[1] + 1})
		}
		return out
	}
	for _, tc := range []struct {
		name, pose, model string
		shared            bool
	}{
		{"tiny model", filepath.Join("..", "pose", "testdata", "holistic_synth.pose"), filepath.Join("checkpoint", "testdata", "slp", "tiny.pt"), false},
		{"released model on example.pose", "example.pose", "model.pth", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			posePath, modelPath := tc.pose, tc.model
			if tc.shared {
				dir := testenv.SharedDir(t, "models/slp-2023")
				posePath, modelPath = filepath.Join(dir, tc.pose), filepath.Join(dir, tc.model)
			}
			m := slpModel(t, modelPath)
			dec := m.Decoding.withDefaults()
			if err := dec.check(&m.Manifest); err != nil {
				t.Fatal(err)
			}
			sc, err := newBIOScorer(m, dec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer sc.close()
			res, err := sc.segment(context.Background(), keypointFeatures(t, posePath))
			if err != nil {
				t.Fatal(err)
			}
			got := func(s []decode.FrameSpan) [][2]int {
				out := [][2]int{}
				for _, x := range s {
					out = append(out, [2]int{x.Start, x.End})
				}
				return out
			}
			wantSigns, wantSentences := spans(rec.Example.Signs), spans(rec.Example.Sentences)
			if !tc.shared {
				wantSigns, wantSentences = referenceBIO(t, posePath, modelPath)
			}
			if !reflect.DeepEqual(got(res.Signs), wantSigns) || !reflect.DeepEqual(got(res.Sentences), wantSentences) {
				t.Errorf("signs %v, sentences %v; want %v, %v", got(res.Signs), got(res.Sentences), wantSigns, wantSentences)
			}
			if res.Sentences == nil {
				t.Error("a model with a sentence output gave nil sentences")
			}
		})
	}
	// Nobody in view: no signs, an empty sentence tier.
	m := slpModel(t, filepath.Join("checkpoint", "testdata", "slp", "tiny.pt"))
	sc, err := newBIOScorer(m, m.Decoding.withDefaults(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.close()
	res, err := sc.segment(context.Background(), &Features{Dim: kpDim, Frames: 30, Data: make([]float32, 30*kpDim)})
	if err != nil || len(res.Signs) != 0 || res.Sentences == nil || len(res.Sentences) != 0 {
		t.Fatalf("nobody in view: %+v, %v", res, err)
	}
}

// referenceBIO decodes the plain-Go reference forward pass on person 0's
// normalised Holistic points.
func referenceBIO(t *testing.T, posePath, modelPath string) (signs, sentences [][2]int) {
	t.Helper()
	n, err := pose.NormalizeShoulders(holisticPerson0(t, posePath), pose.HolisticShoulderNorm())
	if err != nil {
		t.Fatal(err)
	}
	w, err := checkpoint.LoadSLP2023(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	sign, sent, err := onnxgraph.ReferencePoseTagger(w, n.Data, n.Frames)
	if err != nil {
		t.Fatal(err)
	}
	dec := func(logp []float32, th decode.BIOThresholds) [][2]int {
		s, err := decode.BIO(decode.BIOProbabilities(logp), th)
		if err != nil {
			t.Fatal(err)
		}
		out := [][2]int{}
		for _, x := range s {
			out = append(out, [2]int{x.Start, x.End})
		}
		return out
	}
	return dec(sign, decode.SLPSignThresholds()), dec(sent, decode.SLPSentenceThresholds())
}
