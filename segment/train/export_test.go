package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// trainedModel returns a model of cfg after a few Adam steps on a random
// sequence, so that exported weights are not just the initialisation.
func trainedModel(t *testing.T, cfg Config, T int) (*Model, []float32) {
	t.Helper()
	m, err := NewModel(cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := randomSequence(rng, cfg.Inputs, cfg.Classes, T)
	tr, err := NewTrainer(m, DefaultLoss(nil), 5e-3, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := tr.Step(Sequence{Name: "random", Features: x, Labels: y}); err != nil {
			t.Fatal(err)
		}
	}
	x2, _ := randomSequence(rng, cfg.Inputs, cfg.Classes, T)
	return m, x2
}

var exportCases = []struct {
	cfg   Config
	T     int
	class int
}{
	{Config{Stages: 2, Layers: 3, Channels: 8, Inputs: 6, Classes: 2, Dropout: 0.5}, 40, 1},
	{Config{Stages: 3, Layers: 4, Channels: 12, Inputs: 5, Classes: 3, Dropout: 0.5}, 9, 2}, // T below the dilations
	{DefaultConfig(225), 600, 1},
}

// TestExportReference checks Export and Predict against onnxgraph's
// float64 plain-loop forward pass, and FromWeights as Export's inverse.
func TestExportReference(t *testing.T) {
	for _, tc := range exportCases {
		t.Run(fmt.Sprintf("%dx%dx%d/D=%d/C=%d/T=%d", tc.cfg.Stages, tc.cfg.Layers, tc.cfg.Channels, tc.cfg.Inputs, tc.cfg.Classes, tc.T), func(t *testing.T) {
			m, x := trainedModel(t, tc.cfg, tc.T)
			w := m.Export()
			p, err := m.Predict(x, tc.T)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := onnxgraph.ReferenceMSTCN(w, x, tc.T, tc.class)
			if err != nil {
				t.Fatal(err)
			}
			d := testenv.MaxAbsDiff(p[tc.class*tc.T:(tc.class+1)*tc.T], want)
			t.Logf("Predict vs onnxgraph.ReferenceMSTCN: max abs diff %.3g", d)
			if d > 1e-5 {
				t.Errorf("max abs diff %g > 1e-5", d)
			}
			back, err := FromWeights(w, tc.cfg.Dropout)
			if err != nil {
				t.Fatal(err)
			}
			if back.cfg != m.cfg || testenv.MaxAbsDiff(back.params, m.params) != 0 {
				t.Error("FromWeights(Export()) differs from the model")
			}
		})
	}
}

// TestPaperModelSize checks the default model against the authors'
// checkpoint: 176 tensors, 727 176 parameters for 1024-d input
// (../shared/specs/paper-pipeline.md §4), and its context.
func TestPaperModelSize(t *testing.T) {
	m, err := NewModel(DefaultConfig(1024), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.NumParams(); got != 727176 {
		t.Errorf("%d parameters, want 727176", got)
	}
	if got := 2 * len(m.convs); got != 176 {
		t.Errorf("%d tensors, want 176", got)
	}
	if got := m.cfg.Context(); got != 4092 {
		t.Errorf("context %d frames, want 4·1023", got)
	}
	d, err := m.Export().Dims()
	if err != nil || 2*m.cfg.Context()+1 != d.ReceptiveField() {
		t.Errorf("context %d vs onnxgraph receptive field %d (%v)", m.cfg.Context(), d.ReceptiveField(), err)
	}
}
