package media

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseRational(t *testing.T) {
	cases := []struct {
		in   string
		want Rational
		err  bool
	}{
		{"25", Rational{25, 1}, false},
		{"25/1", Rational{25, 1}, false},
		{"50/2", Rational{25, 1}, false},
		{"30000/1001", Rational{30000, 1001}, false},
		{"29.97", Rational{2997, 100}, false},
		{"0/0", Rational{}, false},
		{"1/0", Rational{}, true},
		{"-25", Rational{}, true},
		{"x/1", Rational{}, true},
		{"", Rational{}, true},
	}
	for _, tc := range cases {
		got, err := ParseRational(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseRational(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if f := (Rational{30000, 1001}).Float64(); f < 29.97 || f > 29.9701 {
		t.Errorf("Float64 = %v", f)
	}
}

func TestPreprocessJSON(t *testing.T) {
	manifest := `{"frame_rate": 25, "width": 256, "height": 256, "scaler": "bicubic",
		"crop_width": 224, "crop_height": 224, "color": "rgb",
		"mean": [0.5, 0.5, 0.5], "std": [1, 1, 1], "layout": "chw"}`
	var p Preprocess
	if err := json.Unmarshal([]byte(manifest), &p); err != nil {
		t.Fatal(err)
	}
	want := PaperI3D()
	if p.FrameRate != want.FrameRate || p.Filter() != want.Filter() || p.FrameLen() != 3*224*224 {
		t.Errorf("parsed %+v, want %+v", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := want.Filter(); got != "fps=fps=25/1:start_time=0,scale=256:256:flags=bicubic,format=rgb24,crop=224:224:16:16" {
		t.Errorf("Filter() = %s", got)
	}
	var q Preprocess
	if err := json.Unmarshal([]byte(`{"frame_rate": "30000/1001", "width": 112, "height": 112, "color": "gray"}`), &q); err != nil {
		t.Fatal(err)
	}
	if q.FrameRate != (Rational{30000, 1001}) || q.Validate() != nil || q.FrameLen() != 112*112 || q.Filter() != "fps=fps=30000/1001:start_time=0,scale=112:112:flags=bicubic,format=rgb24" {
		t.Errorf("parsed %+v (%v), filter %s", q, q.Validate(), q.Filter())
	}
	b, err := json.Marshal(q)
	if err != nil || !strings.Contains(string(b), `"frame_rate":"30000/1001"`) {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"frame_rate": "fast"}`), &q); err == nil {
		t.Error("bad frame_rate accepted")
	}
}

func TestPreprocessValidate(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*Preprocess)
		want   string
	}{
		{"no rate", func(p *Preprocess) { p.FrameRate = Rational{} }, "frame_rate must be positive"},
		{"huge rate", func(p *Preprocess) { p.FrameRate = Rational{5000, 1} }, "above 1000"},
		{"no size", func(p *Preprocess) { p.Width = 0 }, "width and height"},
		{"huge size", func(p *Preprocess) { p.Height = 100000 }, "width and height"},
		{"bad scaler", func(p *Preprocess) { p.Scaler = "cubic" }, `unknown scaler flag "cubic"`},
		{"bad scaler flag", func(p *Preprocess) { p.Scaler = "bicubic+fast" }, `unknown scaler flag "fast"`},
		{"half crop", func(p *Preprocess) { p.CropHeight = 0 }, "both be positive or both 0"},
		{"crop too big", func(p *Preprocess) { p.CropWidth = 300 }, "larger than the resized frame"},
		{"bad colour", func(p *Preprocess) { p.Color = "bgr" }, `color must be "rgb" or "gray"`},
		{"bad layout", func(p *Preprocess) { p.Layout = "nchw" }, `layout must be "chw"`},
		{"mean length", func(p *Preprocess) { p.Mean = []float64{0.5} }, "mean has 1 values, want 3"},
		{"std length gray", func(p *Preprocess) { p.Color = "gray"; p.Mean = nil }, "std has 3 values, want 1"},
		{"zero std", func(p *Preprocess) { p.Std = []float64{1, 0, 1} }, "std[1] is 0"},
	}
	for _, tc := range cases {
		p := PaperI3D()
		tc.modify(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	ok := []Preprocess{
		PaperI3D(),
		{FrameRate: Rational{25, 1}, Width: 1, Height: 1},
		{FrameRate: Rational{50, 1}, Width: 100, Height: 60, Scaler: "lanczos+accurate_rnd", Color: "gray", Mean: []float64{0.4}, Std: []float64{0.2}, Layout: "hwc"},
	}
	for _, p := range ok {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}
