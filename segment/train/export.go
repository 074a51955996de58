package train

import (
	"fmt"

	"github.com/signseg/signseg/segment/onnxgraph"
)

// Export returns the model's weights in PyTorch layout for
// onnxgraph.BuildMSTCN (which builds without cgo). The graph's boundary
// output is the last stage's softmax at the boundary class (1 in the
// paper) and equals Predict's row for that class.
func (m *Model) Export() *onnxgraph.MSTCNWeights {
	w := &onnxgraph.MSTCNWeights{Stages: make([]onnxgraph.MSTCNStage, m.cfg.Stages)}
	conv := func(ci int) onnxgraph.Conv1D {
		c := m.convs[ci]
		return onnxgraph.Conv1D{Out: c.out, In: c.in, K: c.k, Weight: m.torchWeight(c),
			Bias: append([]float32(nil), m.params[c.b:c.b+c.out]...)}
	}
	for s := range w.Stages {
		ci := m.convIndex(s)
		st := onnxgraph.MSTCNStage{In: conv(ci), Out: conv(ci + 1 + 2*m.cfg.Layers)}
		for l := 0; l < m.cfg.Layers; l++ {
			st.Layers = append(st.Layers, onnxgraph.MSTCNLayer{Dilated: conv(ci + 1 + 2*l), Pointwise: conv(ci + 2 + 2*l)})
		}
		w.Stages[s] = st
	}
	return w
}

// FromWeights returns a model holding w (for example weights read from the
// authors' checkpoint, to fine-tune), with the given dropout.
func FromWeights(w *onnxgraph.MSTCNWeights, dropout float64) (*Model, error) {
	d, err := w.Dims()
	if err != nil {
		return nil, fmt.Errorf("model from weights: %w", err)
	}
	cfg := Config{Stages: d.S, Layers: d.L, Channels: d.F, Inputs: d.D, Classes: d.C, Dropout: dropout}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model from weights: %w", err)
	}
	convs, n := layout(cfg)
	m := &Model{cfg: cfg, convs: convs, params: make([]float32, n)}
	set := func(ci int, c *onnxgraph.Conv1D) {
		m.setTorchWeight(convs[ci], c.Weight)
		copy(m.params[convs[ci].b:], c.Bias)
	}
	for s := range w.Stages {
		st := &w.Stages[s]
		ci := m.convIndex(s)
		set(ci, &st.In)
		for l := range st.Layers {
			set(ci+1+2*l, &st.Layers[l].Dilated)
			set(ci+2+2*l, &st.Layers[l].Pointwise)
		}
		set(ci+1+2*cfg.Layers, &st.Out)
	}
	return m, nil
}
