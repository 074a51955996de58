package pose

import (
	"math"
	"math/rand"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestPoseDetectionAnchors(t *testing.T) {
	a := poseDetectionAnchors()
	if len(a) != 2254 {
		t.Fatalf("%d anchors, want 2254 (pose_detection's output rows)", len(a))
	}
	cases := []struct {
		i    int
		x, y float64
	}{
		{0, 0.5 / 28, 0.5 / 28}, {1, 0.5 / 28, 0.5 / 28}, // two anchors per cell on the stride-8 map
		{2, 1.5 / 28, 0.5 / 28},
		{1567, 27.5 / 28, 27.5 / 28},                                       // last of 28·28·2
		{1568, 0.5 / 14, 0.5 / 14},                                         // first of the stride-16 map
		{1568 + 392, 0.5 / 7, 0.5 / 7}, {1568 + 392 + 5, 0.5 / 7, 0.5 / 7}, // six per cell on the shared stride-32 map
		{1568 + 392 + 6, 1.5 / 7, 0.5 / 7},
		{2253, 6.5 / 7, 6.5 / 7},
	}
	for _, c := range cases {
		if !near(a[c.i].X, c.x, 1e-12) || !near(a[c.i].Y, c.y, 1e-12) {
			t.Errorf("anchor %d = %+v, want (%g, %g)", c.i, a[c.i], c.x, c.y)
		}
	}
}

func TestDecodeDetections(t *testing.T) {
	anchors := []anchor{{0.25, 0.5}, {0.75, 0.5}}
	raw := make([]float32, 2*12)
	// Anchor 0: box shifted by (22.4, −11.2) input pixels, 44.8×22.4;
	// keypoint 0 at the anchor, keypoint 3 at +(2.24, 4.48).
	copy(raw, []float32{22.4, -11.2, 44.8, 22.4, 0, 0, 0, 0, 0, 0, 2.24, 4.48})
	scores := []float32{2, -1} // sigmoid 0.881 kept, 0.269 dropped at 0.5
	d := decodeDetections(raw, scores, anchors, 12, 4, 224, 100, 0.5)
	if len(d) != 1 {
		t.Fatalf("%d detections, want 1", len(d))
	}
	want := detection{Score: 1 / (1 + math.Exp(-2)), CX: 0.35, CY: 0.45, W: 0.2, H: 0.1}
	g := d[0]
	if !near(g.Score, want.Score, 1e-9) || !near(g.CX, want.CX, 1e-6) || !near(g.CY, want.CY, 1e-6) || !near(g.W, want.W, 1e-6) || !near(g.H, want.H, 1e-6) {
		t.Errorf("decoded %+v, want %+v", g, want)
	}
	if !near(g.Keypoints[0].X, 0.25, 1e-9) || !near(g.Keypoints[3].X, 0.26, 1e-6) || !near(g.Keypoints[3].Y, 0.52, 1e-6) {
		t.Errorf("keypoints %+v", g.Keypoints)
	}
	// Clipping: a huge logit is clipped at 100, not NaN.
	d = decodeDetections(raw, []float32{float32(math.Inf(1)), 1e30}, anchors, 12, 4, 224, 100, 0.5)
	if len(d) != 2 || d[0].Score != 1 {
		t.Errorf("clipped scores: %+v", d)
	}
}

func TestWeightedNMS(t *testing.T) {
	kp := func(x, y float64) []Point { return []Point{{x, y}} }
	cases := []struct {
		name string
		in   []detection
		want []detection
	}{
		{"empty", nil, nil},
		{"merged by score",
			[]detection{
				{Score: 0.6, CX: 0.52, CY: 0.5, W: 0.2, H: 0.2, Keypoints: kp(0.6, 0.5)},
				{Score: 0.9, CX: 0.50, CY: 0.5, W: 0.2, H: 0.2, Keypoints: kp(0.5, 0.5)},
			},
			[]detection{{Score: 0.9, CX: (0.5*0.9 + 0.52*0.6) / 1.5, CY: 0.5, W: 0.2, H: 0.2, Keypoints: kp((0.5*0.9+0.6*0.6)/1.5, 0.5)}}},
		{"apart stay apart, best first",
			[]detection{
				{Score: 0.6, CX: 0.2, CY: 0.2, W: 0.1, H: 0.1, Keypoints: kp(0.2, 0.2)},
				{Score: 0.7, CX: 0.8, CY: 0.8, W: 0.1, H: 0.1, Keypoints: kp(0.8, 0.8)},
			},
			[]detection{
				{Score: 0.7, CX: 0.8, CY: 0.8, W: 0.1, H: 0.1, Keypoints: kp(0.8, 0.8)},
				{Score: 0.6, CX: 0.2, CY: 0.2, W: 0.1, H: 0.1, Keypoints: kp(0.2, 0.2)},
			}},
		{"IoU just under the threshold is not merged",
			// Two 0.2×0.2 boxes overlapping by a fraction r of their height
			// have IoU r/(2−r): r = 0.46 gives 0.2987.
			[]detection{
				{Score: 0.9, CX: 0.5, CY: 0.5, W: 0.2, H: 0.2, Keypoints: kp(0.5, 0.5)},
				{Score: 0.8, CX: 0.5, CY: 0.5 + 0.2*(1-0.46), W: 0.2, H: 0.2, Keypoints: kp(0.5, 0.6)},
			},
			[]detection{
				{Score: 0.9, CX: 0.5, CY: 0.5, W: 0.2, H: 0.2, Keypoints: kp(0.5, 0.5)},
				{Score: 0.8, CX: 0.5, CY: 0.5 + 0.2*(1-0.46), W: 0.2, H: 0.2, Keypoints: kp(0.5, 0.6)},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := weightedNMS(c.in, 0.3)
			if len(got) != len(c.want) {
				t.Fatalf("%d detections, want %d: %+v", len(got), len(c.want), got)
			}
			for i := range got {
				g, w := got[i], c.want[i]
				if !near(g.Score, w.Score, 1e-9) || !near(g.CX, w.CX, 1e-9) || !near(g.CY, w.CY, 1e-9) ||
					!near(g.W, w.W, 1e-9) || !near(g.H, w.H, 1e-9) ||
					!near(g.Keypoints[0].X, w.Keypoints[0].X, 1e-9) || !near(g.Keypoints[0].Y, w.Keypoints[0].Y, 1e-9) {
					t.Errorf("detection %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestAlignmentRect(t *testing.T) {
	cases := []struct {
		name       string
		start, end Point
		target     float64
		want       Rect
	}{
		{"upright body: hips to above the head", Point{100, 200}, Point{100, 100}, 90, Rect{100, 200, 200, 200, 0}},
		{"lying to the right turns a quarter", Point{100, 200}, Point{150, 200}, 90, Rect{100, 200, 100, 100, math.Pi / 2}},
		{"tilted left", Point{0, 0}, Point{-10, -10}, 90, Rect{0, 0, 40 * math.Sqrt2 / 2, 40 * math.Sqrt2 / 2, -math.Pi / 4}},
		{"hand recrop: target −90", Point{50, 50}, Point{50, 70}, -90, Rect{50, 50, 40, 40, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := alignmentRect(c.start, c.end, c.target)
			if !near(g.CX, c.want.CX, 1e-9) || !near(g.CY, c.want.CY, 1e-9) || !near(g.W, c.want.W, 1e-9) ||
				!near(g.H, c.want.H, 1e-9) || !near(normalizeRadians(g.Rotation-c.want.Rotation), 0, 1e-9) {
				t.Errorf("got %+v, want %+v", g, c.want)
			}
		})
	}
}

func TestRectTransform(t *testing.T) {
	cases := []struct {
		name                   string
		in                     Rect
		sx, sy, shiftX, shiftY float64
		want                   Rect
	}{
		{"pose: square on the long side, ×1.25", Rect{100, 100, 80, 40, 0}, 1.25, 1.25, 0, 0, Rect{100, 100, 100, 100, 0}},
		{"hand: shift up by 0.1 of the height", Rect{100, 100, 50, 50, 0}, 2, 2, 0, -0.1, Rect{100, 95, 100, 100, 0}},
		{"shift follows the rotation", Rect{100, 100, 50, 50, math.Pi / 2}, 1, 1, 0, -0.1, Rect{105, 100, 50, 50, math.Pi / 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := rectTransform(c.in, c.sx, c.sy, c.shiftX, c.shiftY)
			if !near(g.CX, c.want.CX, 1e-9) || !near(g.CY, c.want.CY, 1e-9) || !near(g.W, c.want.W, 1e-9) || !near(g.H, c.want.H, 1e-9) || g.Rotation != c.want.Rotation {
				t.Errorf("got %+v, want %+v", g, c.want)
			}
		})
	}
}

// TestProjectionRoundTrip checks that fromImage inverts toImage for
// rotated rectangles, and that the rectangle's top-left corner is (0,0)
// of its frame.
func TestProjectionRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for range 200 {
		r := Rect{CX: rng.Float64() * 640, CY: rng.Float64() * 360, W: 10 + rng.Float64()*300, H: 10 + rng.Float64()*300, Rotation: (rng.Float64()*2 - 1) * math.Pi}
		u, v := rng.Float64()*1.4-0.2, rng.Float64()*1.4-0.2
		p := r.toImage(u, v)
		u2, v2 := r.fromImage(p)
		if !near(u, u2, 1e-9) || !near(v, v2, 1e-9) {
			t.Fatalf("%+v: (%g,%g) → %+v → (%g,%g)", r, u, v, p, u2, v2)
		}
	}
	r := Rect{CX: 50, CY: 40, W: 20, H: 10, Rotation: math.Pi / 2}
	if p := r.toImage(0, 0); !near(p.X, 55, 1e-9) || !near(p.Y, 30, 1e-9) {
		t.Errorf("corner (0,0) of a quarter-turned rect at %+v, want (55, 30)", p)
	}
}

// TestWarpMatchesProjection warps a linear gradient image (R = x, G = y)
// through rotated rectangles and checks each tensor pixel against the
// gradient at the point toImage assigns it: the warp and the inverse
// mapping of landmarks agree, so landmarks land where the model saw them.
func TestWarpMatchesProjection(t *testing.T) {
	const w, h = 250, 200
	pix := make([]byte, w*h*3)
	for y := range h {
		for x := range w {
			k := (y*w + x) * 3
			pix[k], pix[k+1], pix[k+2] = byte(x), byte(y), 77
		}
	}
	cases := []struct {
		name string
		r    Rect
	}{
		{"axis-aligned", Rect{120, 100, 100, 100, 0}},
		{"rotated 30°", Rect{125, 100, 90, 90, math.Pi / 6}},
		{"rotated −120°", Rect{110, 95, 80, 80, -2 * math.Pi / 3}},
	}
	const tw = 64
	dst := make([]float32, tw*tw*3)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			warp(dst, pix, w, h, c.r, tw, tw, 0, 1, borderReplicate)
			worst := 0.0
			for j := range tw {
				for i := range tw {
					p := c.r.toImage(float64(i)/tw, float64(j)/tw)
					k := (j*tw + i) * 3
					worst = math.Max(worst, math.Abs(float64(dst[k])*255-p.X))
					worst = math.Max(worst, math.Abs(float64(dst[k+1])*255-p.Y))
					if !near(float64(dst[k+2]), 77.0/255, 1e-6) {
						t.Fatalf("blue at (%d,%d) = %g", i, j, dst[k+2])
					}
				}
			}
			if worst > 1e-3 {
				t.Errorf("warp differs from the projection by %.3g pixels", worst)
			}
		})
	}
	// Outside the image: zero border gives the range's low end (black),
	// replicate the edge pixel.
	out := Rect{-500, -500, 10, 10, 0}
	warp(dst, pix, w, h, out, tw, tw, -1, 1, borderZero)
	if dst[0] != -1 || dst[len(dst)-1] != -1 {
		t.Errorf("zero border: %g, %g, want −1", dst[0], dst[len(dst)-1])
	}
	warp(dst, pix, w, h, out, tw, tw, 0, 1, borderReplicate)
	if dst[0] != 0 || dst[1] != 0 || !near(float64(dst[2]), 77.0/255, 1e-6) {
		t.Errorf("replicate border: %v, want pixel (0,0)", dst[:3])
	}
}

func TestFitAspect(t *testing.T) {
	r := Rect{320, 180, 640, 360, 0}.fitAspect(224, 224)
	if r.W != 640 || r.H != 640 {
		t.Errorf("letterbox of 640×360 into a square: %+v", r)
	}
	r = Rect{90, 160, 180, 320, 0}.fitAspect(224, 224)
	if r.W != 320 || r.H != 320 {
		t.Errorf("portrait letterbox: %+v", r)
	}
}

// uprightHand is a synthetic right hand: wrist at (100, 200), fingers up.
func uprightHand() []Point {
	pts := make([]Point, 21)
	pts[0] = Point{100, 200}
	for f := range 5 { // thumb, index, middle, ring, pinky
		x := 70 + float64(f)*15
		for j := range 4 {
			pts[1+4*f+j] = Point{x, 180 - float64(j)*20}
		}
	}
	return pts
}

func TestHandRectFromLandmarks(t *testing.T) {
	pts := uprightHand()
	r := handRectFromLandmarks(pts)
	if !near(r.Rotation, 0, 1e-9) {
		t.Errorf("upright hand: rotation %g, want 0", r.Rotation)
	}
	// Palm points span x 70…130, y 140…200 (wrist to the PIP joints).
	if !near(r.CX, 100, 1e-9) || !near(r.CY, 170, 1e-9) || !near(r.W, 60, 1e-9) || !near(r.H, 60, 1e-9) {
		t.Errorf("rect %+v, want centre (100,170), 60×60", r)
	}
	// Turning the hand a quarter turns the rectangle with it.
	turned := make([]Point, len(pts))
	for i, p := range pts {
		turned[i] = Point{100 + (200 - p.Y), 200 + (p.X - 100)} // 90° clockwise about the wrist (y down)
	}
	r2 := handRectFromLandmarks(turned)
	if !near(normalizeRadians(r2.Rotation-math.Pi/2), 0, 1e-9) || !near(r2.W, 60, 1e-9) || !near(r2.H, 60, 1e-9) {
		t.Errorf("turned hand: %+v", r2)
	}
}

func TestHandRectFromPose(t *testing.T) {
	// Wrist below, index and pinky knuckles above: middle finger estimate
	// at (2·index + pinky)/3.
	r := handRectFromPose(Point{100, 200}, Point{80, 170}, Point{110, 170})
	if !near(r.CX, 100, 1e-9) || !near(r.CY, 170, 1e-9) || !near(r.W, 60, 1e-9) || !near(r.Rotation, 0, 1e-9) {
		t.Errorf("got %+v", r)
	}
}

func TestKeepHandTrack(t *testing.T) {
	base := Rect{100, 100, 100, 100, 0}
	lm := []Point{{90, 90}, {110, 110}}
	cases := []struct {
		name   string
		recrop Rect
		want   bool
	}{
		{"same", base, true},
		{"moved 15 %", Rect{115, 100, 100, 100, 0}, true},
		{"moved 25 %", Rect{125, 100, 100, 100, 0}, false},
		{"scaled 50 % (within 0.4 of the re-crop size)", Rect{100, 100, 150, 150, 0}, true},
		{"scaled 2×", Rect{100, 100, 200, 200, 0}, false},
		{"turned 50°", Rect{100, 100, 100, 100, 50 * math.Pi / 180}, false},
		{"turned 30°", Rect{100, 100, 100, 100, 30 * math.Pi / 180}, true},
	}
	for _, c := range cases {
		if got := keepHandTrack(base, c.recrop, lm); got != c.want {
			t.Errorf("%s: keep = %v, want %v", c.name, got, c.want)
		}
	}
	if keepHandTrack(base, base, []Point{{145, 100}}) {
		t.Error("a landmark outside the shrunk re-crop rectangle keeps the track")
	}
}

func TestRefineFromHeatmap(t *testing.T) {
	heat := make([]float32, 64*64*39)
	for i := range heat {
		heat[i] = -20 // sigmoid ≈ 0
	}
	// Landmark 5: two confident cells at columns 10 and 12 of row 20.
	heat[(20*64+10)*39+5] = 20
	heat[(20*64+12)*39+5] = 20
	u, v := refineFromHeatmap(heat, 5, 11.2/64, 20.4/64)
	if !near(u, 11.0/64, 1e-6) || !near(v, 20.0/64, 1e-6) {
		t.Errorf("refined to (%g, %g)·64, want (11, 20)", u*64, v*64)
	}
	// Nothing confident near landmark 6: unchanged.
	if u, v := refineFromHeatmap(heat, 6, 0.3, 0.4); u != 0.3 || v != 0.4 {
		t.Errorf("unconfident landmark moved to (%g, %g)", u, v)
	}
	if u, v := refineFromHeatmap(heat, 5, -0.1, 1.5); u != -0.1 || v != 1.5 {
		t.Errorf("landmark outside the heatmap moved to (%g, %g)", u, v)
	}
}

func TestOneEuro(t *testing.T) {
	f := newLandmarkFilter(2, 0.1, 40, 1)
	pts := []Point{{10, 10}, {50, 90}}
	z := []float64{0.1, 0.2}
	for range 5 {
		p := append([]Point(nil), pts...)
		zz := append([]float64(nil), z...)
		f.apply(p, zz, 100)
		if !near(p[0].X, pts[0].X, 1e-9) || !near(p[1].Y, pts[1].Y, 1e-9) || !near(zz[0], z[0], 1e-12) {
			t.Fatalf("still landmarks moved: %+v %v", p, zz)
		}
	}
	// A jump is followed partly at once and fully in time.
	moved := []Point{{20, 10}, {60, 90}}
	prev := 10.0
	for i := range 30 {
		p := append([]Point(nil), moved...)
		f.apply(p, []float64{0.1, 0.2}, 100)
		if p[0].X < prev-1e-9 || p[0].X > 20+1e-9 {
			t.Fatalf("step %d: x = %g, not between %g and 20", i, p[0].X, prev)
		}
		if i == 0 && (p[0].X <= 10 || p[0].X >= 20) {
			t.Errorf("first step after the jump: x = %g, want strictly between 10 and 20", p[0].X)
		}
		prev = p[0].X
	}
	if !near(prev, 20, 0.5) {
		t.Errorf("after 30 frames x = %g, want ≈ 20", prev)
	}
}
