package onnxgraph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	ort "github.com/yalue/onnxruntime_go"
)

// squareClips renders clips of a bright square on a dark textured
// background moving by (vx, vy) pixels per frame, in the graph's input
// layout and scaling.
func squareClips(rng *rand.Rand, batch, H, W int, vx, vy float64) []float32 {
	frame := H * W
	out := make([]float32, batch*3*MotionFrames*frame)
	for b := 0; b < batch; b++ {
		x0, y0 := float64(W/4+rng.IntN(W/4)), float64(H/4+rng.IntN(H/4))
		for t := 0; t < MotionFrames; t++ {
			cx, cy := x0+vx*float64(t), y0+vy*float64(t)
			for y := 0; y < H; y++ {
				for x := 0; x < W; x++ {
					v := 40.0 + 20*float64((x/4+y/4)%2) // static texture
					if float64(x) >= cx && float64(x) < cx+float64(W)/5 && float64(y) >= cy && float64(y) < cy+float64(H)/5 {
						v = 230
					}
					for c := 0; c < 3; c++ {
						out[((b*3+c)*MotionFrames+t)*frame+y*W+x] = float32(v/255 - 0.5)
					}
				}
			}
		}
	}
	return out
}

func TestMotionParity(t *testing.T) {
	initORT(t)
	for _, tc := range []struct {
		cfg   MotionConfig
		batch int
		noise bool
	}{
		{MotionConfig{}, 5, true},
		{MotionConfig{}, 3, false},
		{MotionConfig{Height: 48, Width: 80}, 2, true},
		{MotionConfig{Height: 16, Width: 16}, 1, true},
	} {
		t.Run(fmt.Sprintf("%+v/batch=%d/noise=%v", tc.cfg, tc.batch, tc.noise), func(t *testing.T) {
			H, W, err := tc.cfg.size()
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(H), uint64(tc.batch)))
			var clips []float32
			if tc.noise {
				clips = make([]float32, tc.batch*3*MotionFrames*H*W)
				for i := range clips {
					clips[i] = float32(rng.IntN(256))/255 - 0.5
				}
			} else {
				clips = squareClips(rng, tc.batch, H, W, 2, -1)
			}
			model, err := BuildMotion(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ReferenceMotion(tc.cfg, clips, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			s := session(t, model, []string{MotionInput}, []string{MotionOutput}, 1)
			got, shapes := runFloat(t, s, ort.NewShape(int64(tc.batch), 3, MotionFrames, int64(H), int64(W)), clips, 1)
			if w := ort.NewShape(int64(tc.batch), MotionFeatures); !reflect.DeepEqual(shapes[0], w) {
				t.Fatalf("output shape %v, want %v", shapes[0], w)
			}
			d := testenv.MaxAbsDiff(got[0], want)
			t.Logf("max abs diff %.3g", d)
			if d > 1e-5 {
				t.Errorf("max abs diff %g > 1e-5", d)
			}
			// Most features are far below 1, so also bound the relative error.
			for i := range want {
				if e := math.Abs(float64(got[0][i] - want[i])); e > 1e-7+1e-4*math.Abs(float64(want[i])) {
					t.Fatalf("feature %d of clip %d: got %g, want %g", i%MotionFeatures, i/MotionFeatures, got[0][i], want[i])
				}
			}
			var nonzero int
			for _, v := range want {
				if v != 0 {
					nonzero++
				}
			}
			if nonzero < len(want)/10 {
				t.Errorf("only %d of %d reference features are non-zero", nonzero, len(want))
			}
		})
	}
}

// TestMotionDirection checks the documented meaning of the direction
// features on the reference: a square moving right gives Σ(−∂x·It) > 0,
// moving down gives Σ(−∂y·It) > 0, and a static clip gives all zeros.
func TestMotionDirection(t *testing.T) {
	const H, W = 64, 64
	sum := func(f []float32, from, to int) float64 {
		var s float64
		for _, v := range f[from:to] {
			s += float64(v)
		}
		return s
	}
	const dx, dy = 80, 96 // first index of −∂x·It and −∂y·It
	for _, tc := range []struct {
		vx, vy       float64
		signX, signY int
	}{
		{2, 0, 1, 0}, {-2, 0, -1, 0}, {0, 2, 0, 1}, {0, -2, 0, -1}, {0, 0, 0, 0},
	} {
		clips := squareClips(rand.New(rand.NewPCG(7, 7)), 1, H, W, tc.vx, tc.vy)
		f, err := ReferenceMotion(MotionConfig{}, clips, 1)
		if err != nil {
			t.Fatal(err)
		}
		sx, sy := sum(f, dx, dx+16), sum(f, dy, dy+16)
		sign := func(v float64) int {
			switch {
			case v > 1e-9:
				return 1
			case v < -1e-9:
				return -1
			}
			return 0
		}
		// The along-axis response has the motion's sign; the cross-axis one
		// (texture interactions) is at least ten times smaller.
		along, cross, want := sx, sy, tc.signX
		if tc.vy != 0 {
			along, cross, want = sy, sx, tc.signY
		}
		if sign(along) != want || (want != 0 && math.Abs(cross) > 0.1*math.Abs(along)) {
			t.Errorf("v=(%g,%g): Σ−∂x·It=%g Σ−∂y·It=%g, want signs %d %d", tc.vx, tc.vy, sx, sy, tc.signX, tc.signY)
		}
		if moving := tc.vx != 0 || tc.vy != 0; moving != (sum(f, 0, 64) > 0) {
			t.Errorf("v=(%g,%g): motion energy %g", tc.vx, tc.vy, sum(f, 0, 64))
		}
	}
}

func TestMotionInfo(t *testing.T) {
	initORT(t)
	model, err := BuildMotion(MotionConfig{Height: 48, Width: 80})
	if err != nil {
		t.Fatal(err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Name != MotionInput || !reflect.DeepEqual(ins[0].Dimensions, ort.NewShape(-1, 3, 3, 48, 80)) {
		t.Errorf("inputs %+v", ins)
	}
	if len(outs) != 1 || outs[0].Name != MotionOutput || !reflect.DeepEqual(outs[0].Dimensions, ort.NewShape(-1, 128)) {
		t.Errorf("outputs %+v", outs)
	}
	md, err := ort.GetModelMetadataWithONNXData(model)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Destroy()
	for k, v := range map[string]string{"frames": "3", "centre": "1", "height": "48", "width": "80", "features": "128", "layout": "NCTHW"} {
		if got, ok, _ := md.LookupCustomMetadataMap(k); !ok || got != v {
			t.Errorf("metadata %s = %q, want %q", k, got, v)
		}
	}
}

func TestMotionBadInput(t *testing.T) {
	for _, cfg := range []MotionConfig{{Height: 60}, {Width: 8}, {Height: -8}, {Height: 8192}} {
		if _, err := BuildMotion(cfg); err == nil {
			t.Errorf("BuildMotion(%+v) accepted", cfg)
		}
	}
	if _, err := ReferenceMotion(MotionConfig{}, make([]float32, 10), 1); err == nil {
		t.Error("ReferenceMotion accepted a short clip")
	}
	if _, err := ReferenceMotion(MotionConfig{}, nil, 0); err == nil {
		t.Error("ReferenceMotion accepted batch 0")
	}
}
