package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// torchFixture is written by scripts/fixtures/train_fixtures.py.
type torchFixture struct {
	Config struct {
		Stages, Layers, Channels, Inputs, Classes, T int
	}
	Features     []float32
	Labels       []int32
	ClassWeights []float32 `json:"class_weights"`
	Loss         float64
	AdamLR       float64   `json:"adam_lr"`
	AdamLosses   []float64 `json:"adam_losses"`
	Params       map[string]torchParam
	Batch        struct {
		Features2    []float32
		Labels2      []int32
		ClassWeights []float32 `json:"class_weights"`
		Loss         float64
		Grads        map[string][]float64
	}
}

// torchParam is one state-dict tensor of the fixture: its initial value,
// gradient and value after the Adam steps.
type torchParam struct {
	Shape     []int
	Init      []float32
	Grad      []float64
	AfterAdam []float64 `json:"after_adam"`
}

// relErr returns max |got − want| / max |want|.
func relErr(got []float32, want []float64) float64 {
	var d, m float64
	for i, w := range want {
		d = math.Max(d, math.Abs(float64(got[i])-w))
		m = math.Max(m, math.Abs(w))
	}
	return d / m
}

func delta(after, before []float32) []float32 {
	d := make([]float32, len(after))
	for i := range d {
		d[i] = after[i] - before[i]
	}
	return d
}

func deltaRef(p torchParam) []float64 {
	d := make([]float64, len(p.AfterAdam))
	for i := range d {
		d[i] = p.AfterAdam[i] - float64(p.Init[i])
	}
	return d
}

// TestTorchParity compares the loss, every parameter's gradient and three
// Adam steps with PyTorch (float64) on the committed fixture.
func TestTorchParity(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mstcn_grad.json"))
	if err != nil {
		t.Fatalf("committed fixture missing (regenerate with scripts/fixtures/train_fixtures.py): %v", err)
	}
	var fx torchFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	c := fx.Config
	cfg := Config{Stages: c.Stages, Layers: c.Layers, Channels: c.Channels, Inputs: c.Inputs, Classes: c.Classes}
	m, err := NewModel(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.Params) != 2*len(m.convs) {
		t.Fatalf("fixture has %d tensors, model %d", len(fx.Params), 2*len(m.convs))
	}
	param := func(name string) (p torchParam) {
		p, ok := fx.Params[name]
		if !ok {
			t.Fatalf("fixture lacks %s", name)
		}
		return p
	}
	for ci, cv := range m.convs {
		n := m.torchName(ci)
		w, b := param(n+".weight"), param(n+".bias")
		if len(w.Init) != cv.nw() || len(b.Init) != cv.out {
			t.Fatalf("%s: shapes %v %v do not fit [%d,%d,%d]", n, w.Shape, b.Shape, cv.out, cv.in, cv.k)
		}
		m.setTorchWeight(cv, w.Init)
		copy(m.params[cv.b:], b.Init)
	}
	loss := DefaultLoss(fx.ClassWeights)
	if got := ClassWeights([][]int32{fx.Labels}, c.Classes); relErr(got, []float64{float64(fx.ClassWeights[0]), float64(fx.ClassWeights[1])}) > 1e-7 {
		t.Errorf("class weights %v, PyTorch script %v", got, fx.ClassWeights)
	}
	got, grad := m.lossAndGrad(fx.Features, fx.Labels, c.T, 0, c.T, loss, loss.batchNorm([][]int32{fx.Labels}, c.Classes), nil, nil)
	t.Logf("loss %.9g, PyTorch %.9g, relative error %.3g", got, fx.Loss, math.Abs(got-fx.Loss)/fx.Loss)
	if math.Abs(got-fx.Loss)/fx.Loss > 1e-5 {
		t.Errorf("loss %v, PyTorch %v", got, fx.Loss)
	}
	gm := &Model{cfg: m.cfg, convs: m.convs, params: grad}
	var worst float64
	for ci, cv := range m.convs {
		n := m.torchName(ci)
		ew := relErr(gm.torchWeight(cv), param(n+".weight").Grad)
		eb := relErr(grad[cv.b:cv.b+cv.out], param(n+".bias").Grad)
		worst = math.Max(worst, math.Max(ew, eb))
		if ew > 1e-5 || eb > 1e-5 {
			t.Errorf("%s: gradient relative error weight %.3g, bias %.3g", n, ew, eb)
		}
	}
	t.Logf("gradients: worst tensor relative error (max |diff| / max |grad|) %.3g over %d tensors", worst, 2*len(m.convs))

	tr, err := NewTrainer(m, loss, fx.AdamLR, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seq := Sequence{Name: "fixture", Features: fx.Features, Labels: fx.Labels}
	for i, want := range fx.AdamLosses {
		l, err := tr.Step(seq)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(l-want)/want > 1e-5 {
			t.Errorf("Adam step %d: loss %v, PyTorch %v", i, l, want)
		}
	}
	worst = 0
	var worstUpd float64
	for ci, cv := range m.convs {
		n := m.torchName(ci)
		pw := relErr(m.torchWeight(cv), param(n+".weight").AfterAdam)
		pb := relErr(m.params[cv.b:cv.b+cv.out], param(n+".bias").AfterAdam)
		worst = math.Max(worst, math.Max(pw, pb))
		if pw > 1e-5 || pb > 1e-5 {
			t.Errorf("%s after %d Adam steps: parameter relative error weight %.3g, bias %.3g", n, len(fx.AdamLosses), pw, pb)
		}
		// Compare the updates (after − before), not the parameters, so
		// that an error in a small update is not hidden by the weight.
		ew := relErr(delta(m.torchWeight(cv), param(n+".weight").Init), deltaRef(param(n+".weight")))
		eb := relErr(delta(m.params[cv.b:cv.b+cv.out], param(n+".bias").Init), deltaRef(param(n+".bias")))
		// float32 parameters near 0.3 hold an update of ~1e-3 to within
		// one ulp (3e-8), a relative 3e-5: that is the tolerance's scale.
		worstUpd = math.Max(worstUpd, math.Max(ew, eb))
		if ew > 1e-4 || eb > 1e-4 {
			t.Errorf("%s after %d Adam steps: update relative error weight %.3g, bias %.3g", n, len(fx.AdamLosses), ew, eb)
		}
	}
	t.Logf("after %d Adam steps: worst tensor relative error of parameters %.3g, of updates %.3g", len(fx.AdamLosses), worst, worstUpd)

	// A batch of two sequences, whole and in windows of 13 frames.
	for _, window := range []int{0, 13} {
		mb := &Model{cfg: m.cfg, convs: m.convs, params: make([]float32, len(m.params))}
		for ci, cv := range mb.convs {
			n := mb.torchName(ci)
			mb.setTorchWeight(cv, param(n+".weight").Init)
			copy(mb.params[cv.b:], param(n+".bias").Init)
		}
		tb, err := NewTrainer(mb, DefaultLoss(fx.Batch.ClassWeights), 1e-3, 0, window)
		if err != nil {
			t.Fatal(err)
		}
		l, err := tb.Step(seq, Sequence{Name: "second", Features: fx.Batch.Features2, Labels: fx.Batch.Labels2})
		if err != nil {
			t.Fatal(err)
		}
		gb := &Model{cfg: m.cfg, convs: m.convs, params: tb.grad}
		worst = 0
		for ci, cv := range m.convs {
			n := m.torchName(ci)
			ew := relErr(gb.torchWeight(cv), fx.Batch.Grads[n+".weight"])
			eb := relErr(tb.grad[cv.b:cv.b+cv.out], fx.Batch.Grads[n+".bias"])
			worst = math.Max(worst, math.Max(ew, eb))
			if ew > 1e-5 || eb > 1e-5 {
				t.Errorf("batch, window %d: %s: gradient relative error weight %.3g, bias %.3g", window, n, ew, eb)
			}
		}
		le := math.Abs(l-fx.Batch.Loss) / fx.Batch.Loss
		t.Logf("batch of 2, window %d: loss %.9g, PyTorch %.9g (relative %.3g); worst gradient tensor relative error %.3g", window, l, fx.Batch.Loss, le, worst)
		if le > 1e-5 {
			t.Errorf("batch, window %d: loss %v, PyTorch %v", window, l, fx.Batch.Loss)
		}
	}
}
