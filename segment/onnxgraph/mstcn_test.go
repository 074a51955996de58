package onnxgraph

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
)

func randomInput(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func TestMSTCNParity(t *testing.T) {
	initORT(t)
	for _, tc := range []struct {
		d     MSTCNDims
		T     int
		class int
	}{
		{MSTCNDims{S: 2, L: 3, F: 8, D: 16, C: 2}, 50, 1},
		{MSTCNDims{S: 3, L: 4, F: 16, D: 32, C: 5}, 7, 3}, // T shorter than the dilations
		{MSTCNDims{S: 4, L: 10, F: 64, D: 1024, C: 2}, 300, 1},
		{MSTCNDims{S: 1, L: 2, F: 4, D: 3, C: 3}, 1, 0},
	} {
		t.Run(fmt.Sprintf("%+v/T=%d", tc.d, tc.T), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.d.F), uint64(tc.T)))
			w, err := RandomMSTCN(rng, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			model, err := BuildMSTCN(w, MSTCNOptions{BoundaryClass: tc.class, Logits: true})
			if err != nil {
				t.Fatal(err)
			}
			x := randomInput(rng, tc.d.D*tc.T)
			wantB, wantL, err := ReferenceMSTCN(w, x, tc.T, tc.class)
			if err != nil {
				t.Fatal(err)
			}
			s := session(t, model, []string{MSTCNInput}, []string{MSTCNBoundary, MSTCNLogits}, 1)
			got, shapes := runFloat(t, s, ort.NewShape(1, int64(tc.d.D), int64(tc.T)), x, 2)
			if want := ort.NewShape(1, int64(tc.T)); !reflect.DeepEqual(shapes[0], want) {
				t.Errorf("boundary shape %v, want %v", shapes[0], want)
			}
			if want := ort.NewShape(1, int64(tc.d.C), int64(tc.T)); !reflect.DeepEqual(shapes[1], want) {
				t.Errorf("logits shape %v, want %v", shapes[1], want)
			}
			t.Logf("max abs diff: boundary %.3g, logits %.3g", testenv.MaxAbsDiff(got[0], wantB), testenv.MaxAbsDiff(got[1], wantL))
			if d := testenv.MaxAbsDiff(got[0], wantB); d > 1e-5 {
				t.Errorf("boundary: max abs diff %g > 1e-5", d)
			}
			if d := testenv.MaxAbsDiff(got[1], wantL); d > 1e-5 {
				t.Errorf("logits: max abs diff %g > 1e-5", d)
			}
			// The test is only meaningful if the probabilities vary.
			lo, hi := wantB[0], wantB[0]
			for _, v := range wantB {
				lo, hi = min(lo, v), max(hi, v)
			}
			if tc.T > 1 && hi-lo < 1e-3 {
				t.Errorf("reference boundary probabilities are flat (%g..%g): weights too small", lo, hi)
			}
		})
	}
}

func TestMSTCNInfoAndMetadata(t *testing.T) {
	initORT(t)
	d := MSTCNDims{S: 2, L: 3, F: 8, D: 16, C: 2}
	w, err := RandomMSTCN(rand.New(rand.NewPCG(1, 2)), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, logits := range []bool{false, true} {
		model, err := BuildMSTCN(w, MSTCNOptions{BoundaryClass: 1, Logits: logits, Metadata: map[string]string{"checkpoint_sha256": "abc"}})
		if err != nil {
			t.Fatal(err)
		}
		ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
		if err != nil {
			t.Fatal(err)
		}
		type io struct {
			name string
			dims ort.Shape
			typ  ort.TensorElementDataType
		}
		conv := func(infos []ort.InputOutputInfo) []io {
			var r []io
			for _, i := range infos {
				r = append(r, io{i.Name, i.Dimensions, i.DataType})
			}
			return r
		}
		f := ort.TensorElementDataType(ort.TensorElementDataTypeFloat)
		wantOut := []io{{"boundary", ort.NewShape(1, -1), f}}
		if logits {
			wantOut = append(wantOut, io{"logits", ort.NewShape(1, 2, -1), f})
		}
		if got, want := conv(ins), []io{{"features", ort.NewShape(1, 16, -1), f}}; !reflect.DeepEqual(got, want) {
			t.Errorf("inputs %+v, want %+v", got, want)
		}
		if got := conv(outs); !reflect.DeepEqual(got, wantOut) {
			t.Errorf("outputs %+v, want %+v", got, wantOut)
		}
		md, err := ort.GetModelMetadataWithONNXData(model)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"stages": "2", "layers": "3", "feature_maps": "8", "input_dim": "16", "classes": "2",
			"boundary_class": "1", "checkpoint_sha256": "abc",
			// 2·S·(2^L−1)+1 and 2·(2^L−1)+1, computed by hand for L=3.
			"receptive_field": strconv.Itoa(2*2*7 + 1), "receptive_field_per_stage": "15",
		}
		for k, v := range want {
			got, ok, err := md.LookupCustomMetadataMap(k)
			if err != nil || !ok || got != v {
				t.Errorf("metadata %s = %q (present %v, err %v), want %q", k, got, ok, err, v)
			}
		}
		if p, _ := md.GetProducerName(); p != "signseg" {
			t.Errorf("producer %q", p)
		}
		md.Destroy()
	}
}

// TestMSTCNReceptiveField checks ReceptiveField against the reference: a
// change to one input frame reaches exactly ReceptiveField()/2 frames to
// each side.
func TestMSTCNReceptiveField(t *testing.T) {
	d := MSTCNDims{S: 2, L: 3, F: 6, D: 4, C: 3}
	w, err := RandomMSTCN(rand.New(rand.NewPCG(3, 4)), d)
	if err != nil {
		t.Fatal(err)
	}
	const T, at = 80, 40
	x := randomInput(rand.New(rand.NewPCG(5, 6)), d.D*T)
	_, a, err := ReferenceMSTCN(w, x, T, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < d.D; i++ {
		x[i*T+at] += 1
	}
	_, b, err := ReferenceMSTCN(w, x, T, 0)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := T, -1
	for c := 0; c < d.C; c++ {
		for tt := 0; tt < T; tt++ {
			if a[c*T+tt] != b[c*T+tt] {
				lo, hi = min(lo, tt), max(hi, tt)
			}
		}
	}
	if r := d.ReceptiveField() / 2; lo != at-r || hi != at+r {
		t.Errorf("changed frames %d..%d, want %d..%d", lo, hi, at-r, at+r)
	}
}

func TestMSTCNBadWeights(t *testing.T) {
	good := func() *MSTCNWeights {
		w, err := RandomMSTCN(rand.New(rand.NewPCG(1, 1)), MSTCNDims{S: 2, L: 2, F: 4, D: 5, C: 2})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	for _, tc := range []struct {
		name  string
		edit  func(w *MSTCNWeights)
		class int
	}{
		{"no stages", func(w *MSTCNWeights) { w.Stages = nil }, 1},
		{"short bias", func(w *MSTCNWeights) { w.Stages[0].Out.Bias = w.Stages[0].Out.Bias[:1] }, 1},
		{"layer count", func(w *MSTCNWeights) { w.Stages[1].Layers = w.Stages[1].Layers[:1] }, 1},
		{"kernel 5", func(w *MSTCNWeights) { w.Stages[0].Layers[0].Dilated.K = 5 }, 1},
		{"stage 1 reads D", func(w *MSTCNWeights) { w.Stages[1].In = w.Stages[0].In }, 1},
		{"class out of range", func(w *MSTCNWeights) {}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := good()
			tc.edit(w)
			if _, err := BuildMSTCN(w, MSTCNOptions{BoundaryClass: tc.class}); err == nil {
				t.Error("BuildMSTCN accepted bad weights")
			}
			if _, _, err := ReferenceMSTCN(w, make([]float32, 5*3), 3, tc.class); err == nil {
				t.Error("ReferenceMSTCN accepted bad weights")
			}
		})
	}
	if _, err := BuildMSTCN(nil, MSTCNOptions{}); err == nil {
		t.Error("BuildMSTCN accepted nil weights")
	}
	if _, err := BuildMSTCN(good(), MSTCNOptions{BoundaryClass: 1, Metadata: map[string]string{"stages": "9"}}); err == nil {
		t.Error("reserved metadata key accepted")
	}
	if _, err := RandomMSTCN(rand.New(rand.NewPCG(1, 1)), MSTCNDims{S: 1, L: 1, F: 0, D: 1, C: 1}); err == nil {
		t.Error("RandomMSTCN accepted F=0")
	}
}
