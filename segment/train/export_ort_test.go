//go:build cgo

package train

import (
	"fmt"
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// TestExportORT builds the ONNX model of a trained model and checks that
// ONNX Runtime's boundary probabilities equal Predict's.
func TestExportORT(t *testing.T) {
	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(t), Source: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range exportCases {
		t.Run(fmt.Sprintf("%dx%dx%d/D=%d/C=%d/T=%d", tc.cfg.Stages, tc.cfg.Layers, tc.cfg.Channels, tc.cfg.Inputs, tc.cfg.Classes, tc.T), func(t *testing.T) {
			m, x := trainedModel(t, tc.cfg, tc.T)
			model, err := onnxgraph.BuildMSTCN(m.Export(), onnxgraph.MSTCNOptions{BoundaryClass: tc.class, Logits: true})
			if err != nil {
				t.Fatal(err)
			}
			s, err := ortsession.New("mstcn", model, []string{onnxgraph.MSTCNInput},
				[]string{onnxgraph.MSTCNBoundary, onnxgraph.MSTCNLogits}, ortsession.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			outs, err := s.Run(ortsession.Tensor{Data: x, Shape: []int64{1, int64(tc.cfg.Inputs), int64(tc.T)}})
			if err != nil {
				t.Fatal(err)
			}
			got := outs[0].Data
			p, err := m.Predict(x, tc.T)
			if err != nil {
				t.Fatal(err)
			}
			d := testenv.MaxAbsDiff(got, p[tc.class*tc.T:(tc.class+1)*tc.T])
			t.Logf("ONNX Runtime boundary vs Predict: max abs diff %.3g", d)
			if d > 1e-5 {
				t.Errorf("max abs diff %g > 1e-5", d)
			}
			var lo, hi float32 = 1, 0
			for _, v := range got {
				lo, hi = min(lo, v), max(hi, v)
			}
			if hi-lo < 1e-3 {
				t.Errorf("boundary probabilities are flat (%g..%g): the test would prove little", lo, hi)
			}
		})
	}
}
