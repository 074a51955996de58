package segment

import (
	"math"
	"slices"
	"testing"

	"github.com/signseg/signseg/segment/decode"
)

// signer builds keypoint rows for a synthetic signer at fps: shoulders 100
// px apart at y 200, hips at y 350 (rest line at y 320), the left hand
// resting in the lap, and the right hand following path, a list of
// positions (x, y) with a duration each: the hand moves to each position
// with a smooth velocity profile and stays until the next one.
type waypoint struct {
	x, y float64
	move float64 // seconds to get there
	hold float64 // seconds held
}

func signer(fps float64, path []waypoint) ([]float32, int) {
	var xs, ys []float64
	x, y := path[0].x, path[0].y
	for _, w := range path {
		n := int(math.Round(w.move * fps))
		for i := 1; i <= n; i++ {
			s := (1 - math.Cos(math.Pi*float64(i)/float64(n))) / 2
			xs = append(xs, x+(w.x-x)*s)
			ys = append(ys, y+(w.y-y)*s)
		}
		x, y = w.x, w.y
		for range int(math.Round(w.hold * fps)) {
			xs = append(xs, x)
			ys = append(ys, y)
		}
	}
	T := len(xs)
	kp := make([]float32, T*kpDim)
	set := func(t, i int, x, y float64) {
		o := (t*kpPoints + i) * kpValues
		kp[o], kp[o+1], kp[o+3] = float32(x), float32(y), 1
	}
	for t := range T {
		set(t, kpLeftShoulder, 300, 200)
		set(t, kpRightShoulder, 200, 200)
		set(t, kpLeftHip, 290, 350)
		set(t, kpRightHip, 210, 350)
		set(t, kpLeftWrist, 320, 400)
		set(t, kpRightWrist, xs[t], ys[t]+10)
		for i := range kpHandLen {
			// A fixed hand shape: points fanned out around the wrist.
			a := float64(i) * 2 * math.Pi / kpHandLen
			set(t, kpLeftHand+i, 320+10*math.Cos(a), 400+10*math.Sin(a))
			set(t, kpRightHand+i, xs[t]+10*math.Cos(a), ys[t]+10*math.Sin(a))
		}
	}
	return kp, T
}

// handsSigns runs the rule with the built-in model's decoding, as the
// Segmenter does.
func handsSigns(kp []float32, T int, fps float64) []decode.FrameSpan {
	m, ok := builtinManifest("hands")
	if !ok {
		panic("no built-in hands model")
	}
	opts := m.Decoding.decodeOptions()
	r := handsScores(kp, T, fps, opts.Threshold)
	d, err := decode.Probabilities(r.boundary, opts)
	if err != nil {
		panic(err)
	}
	return r.keep(d.Signs, fps)
}

func TestHandsRule(t *testing.T) {
	rest := waypoint{x: 250, y: 400, move: 0, hold: 1}
	down := waypoint{x: 250, y: 400, move: 0.4, hold: 1}
	// A citation-form sign: a movement to its place, a movement repeated
	// there (a dip of speed at every turn, but no hold), then the hold
	// that ends it.
	citation := func(x, y float64) []waypoint {
		return []waypoint{{x, y, 0.4, 0}, {x + 30, y - 20, 0.15, 0}, {x, y, 0.15, 0}, {x + 30, y - 20, 0.15, 0}, {x, y, 0.15, 0.4}}
	}
	// Fluent signing: movements from place to place without holds; the
	// speed dips at each of the six places, and the way in to the first
	// and out from the last are not signs: five signs.
	fluent := []waypoint{rest, {230, 250, 0.4, 0}, {300, 230, 0.3, 0}, {250, 280, 0.3, 0}, {310, 270, 0.3, 0}, {240, 230, 0.3, 0}, {290, 290, 0.3, 0}, down}
	tests := []struct {
		name  string
		path  []waypoint
		signs int
	}{
		{"each hold ends a sign", []waypoint{rest, {230, 250, 0.4, 0.4}, {300, 230, 0.4, 0.4}, {260, 280, 0.4, 0.4}, down}, 3},
		{"the video ends during the last sign", []waypoint{rest, {230, 250, 0.4, 0.4}, {300, 230, 0.4, 0.4}, {260, 280, 0.4, 0.1}}, 3},
		{"repeated movement inside citation signs", slices.Concat([]waypoint{rest}, citation(230, 250), citation(290, 240), citation(250, 280), []waypoint{down}), 3},
		{"fluent signing: split at the clear dips", fluent, 5},
		{"the video starts and ends during fluent signing", fluent[1 : len(fluent)-1], 5},
		{"a single hold is one sign", []waypoint{rest, {230, 250, 0.4, 0.5}, down}, 1},
		{"hands resting throughout", []waypoint{rest, {260, 390, 0.5, 2}}, 0},
		{"a hand held still at the chest is resting", []waypoint{{250, 250, 0, 3}}, 0},
	}
	for _, fps := range []float64{12, 25, 50} {
		for _, tc := range tests {
			kp, T := signer(fps, tc.path)
			signs := handsSigns(kp, T, fps)
			if len(signs) != tc.signs {
				t.Errorf("%g fps, %s: %d signs %+v, want %d", fps, tc.name, len(signs), signs, tc.signs)
			}
			for _, s := range signs {
				if s.Confidence < 0 || s.Confidence > 1 || s.End <= s.Start {
					t.Errorf("%g fps, %s: bad span %+v", fps, tc.name, s)
				}
			}
		}
	}
}

func TestHandsRuleWithoutSigner(t *testing.T) {
	const T = 50
	if signs := handsSigns(make([]float32, T*kpDim), T, 25); len(signs) != 0 {
		t.Fatalf("nobody in view gave signs %+v", signs)
	}
	if signs := handsSigns(nil, 0, 25); len(signs) != 0 {
		t.Fatalf("an empty video gave signs %+v", signs)
	}
	if n := signerFrames(make([]float32, T*kpDim), T); n != 0 {
		t.Errorf("signerFrames: %d of %d zero rows show a signer", n, T)
	}
	if kp, T := signer(25, []waypoint{{250, 400, 0, 1}}); signerFrames(kp, T) != T {
		t.Errorf("signerFrames: %d of the synthetic signer's %d frames", signerFrames(kp, T), T)
	}
}

// TestHandsBoundaryAtHold: a hold is the last part of its sign, so the
// boundary lies where the hold ends and the next movement starts.
func TestHandsBoundaryAtHold(t *testing.T) {
	for _, fps := range []float64{12, 25, 50} {
		path := []waypoint{{250, 400, 0, 1}, {230, 250, 0.4, 0.4}, {300, 230, 0.4, 0.4}, {260, 280, 0.4, 0.4}, {250, 400, 0.4, 1}}
		kp, T := signer(fps, path)
		signs := handsSigns(kp, T, fps)
		if len(signs) != 3 {
			t.Fatalf("%g fps: signs %+v", fps, signs)
		}
		// The holds run from 1.4 to 1.8 s and from 2.2 to 2.6 s; the
		// smoothing (σ 0.08 s) blurs their ends by about a frame.
		for i, end := range []float64{1.8, 2.6} {
			cut := float64(signs[i+1].Start) / fps
			if cut < end-0.1 || cut > end+0.1 || signs[i].End != signs[i+1].Start {
				t.Errorf("%g fps: boundary %d at %.2f s (signs %+v), want where the hold ends, %.1f s ± 0.1", fps, i+1, cut, signs, end)
			}
		}
	}
}

// TestHandsFoldedHandsRest: hands folded together in front of the belly
// rest, even for less than handsStillSec, as interpreters' hands often do
// between stretches of signing.
func TestHandsFoldedHandsRest(t *testing.T) {
	const foldedSec = 0.6
	path := []waypoint{{255, 295, 0, foldedSec}, {230, 250, 0.4, 0.4}, {300, 230, 0.4, 0.4}, {255, 295, 0.4, foldedSec}}
	for _, fps := range []float64{12, 25, 50} {
		kp, T := signer(fps, path)
		for t := range T { // the left hand stays where it met the right
			for i := range kpHandLen {
				o := (t*kpPoints + kpLeftHand + i) * kpValues
				kp[o], kp[o+1] = kp[o]-320+235, kp[o+1]-400+295
			}
			o := (t*kpPoints + kpLeftWrist) * kpValues
			kp[o], kp[o+1] = 235, 305
		}
		signs := handsSigns(kp, T, fps)
		if len(signs) != 2 {
			t.Fatalf("%g fps: signs %+v, want the two held signs", fps, signs)
		}
		if start := float64(signs[0].Start) / fps; start < foldedSec-0.1 {
			t.Errorf("%g fps: the first sign starts at %.2f s, while the hands are still folded (until %.1f s)", fps, start, foldedSec)
		}
	}
}

// TestHandsFlickeringHand: a small hand is often found in one frame and
// lost in the next, while the pose still shows its wrist. Measured at the
// wrist either way, a held hand stays still, and each hold ends a sign.
func TestHandsFlickeringHand(t *testing.T) {
	path := []waypoint{{250, 400, 0, 1}, {230, 250, 0.4, 0.4}, {300, 230, 0.4, 0.4}, {260, 280, 0.4, 0.4}, {250, 400, 0.4, 1}}
	for _, fps := range []float64{12, 25, 50} {
		kp, T := signer(fps, path)
		for t := range T {
			hand := (t*kpPoints + kpRightHand) * kpValues
			wrist := (t*kpPoints + kpRightWrist) * kpValues
			kp[hand], kp[hand+1] = kp[wrist], kp[wrist+1] // one wrist, as on a real hand
			if t%5 < 2 {                                  // lost in two frames of every five
				for i := range kpHandLen {
					kp[hand+i*kpValues+3] = 0
				}
			}
		}
		if signs := handsSigns(kp, T, fps); len(signs) != 3 {
			t.Errorf("%g fps: %d signs %+v, want 3 (one per hold)", fps, len(signs), signs)
		}
	}
}

// TestHandsNoBoundaryInsideHold: a long fluent piece is split at its dips,
// but not inside the hold that ends it, where a hand held up trembles a
// little (speed minima far below the movement before it).
func TestHandsNoBoundaryInsideHold(t *testing.T) {
	path := []waypoint{{250, 400, 0, 1}, {230, 250, 0.4, 0}, {300, 230, 0.4, 0}, {250, 280, 0.4, 0}, {310, 270, 0.4, 0}, {240, 230, 0.4, 0}, {290, 290, 0.4, 0}}
	for i := range 6 { // 0.6 s of trembling, under 0.15 shoulder widths/s
		path = append(path, waypoint{290 + 0.8*float64(i%2), 290, 0.1, 0})
	}
	path = append(path, waypoint{240, 260, 0.4, 0.4}, waypoint{250, 400, 0.4, 1})
	const holdStart, holdEnd = 3.4, 4.0 // seconds
	for _, fps := range []float64{12, 25, 50} {
		kp, T := signer(fps, path)
		signs := handsSigns(kp, T, fps)
		if len(signs) < 2 {
			t.Fatalf("%g fps: signs %+v, want the fluent piece split", fps, signs)
		}
		for _, s := range signs[1:] {
			// A boundary may sit at the hold's start or end, blurred by a
			// frame or so of smoothing, but not inside.
			if at := float64(s.Start) / fps; at > holdStart+0.1 && at < holdEnd-0.1 {
				t.Errorf("%g fps: a sign starts at %.2f s, inside the hold (%.1f–%.1f s): %+v", fps, at, holdStart, holdEnd, signs)
			}
		}
	}
}

// FuzzHandsRule: whatever the keypoints (hands that flicker in and out,
// jump, hang low; shoulders lost; NaN or infinite values), the rule does
// not panic and its signs are ordered, non-empty spans inside the video
// with a confidence in [0, 1]. Each frame is 4 bytes: the right hand's x
// and y, a byte of flags, and the fps is a byte.
func FuzzHandsRule(f *testing.F) {
	f.Add([]byte{10, 200, 0, 0, 60, 100, 0, 0, 60, 100, 0, 0, 120, 90, 0, 0, 120, 90, 0, 0, 10, 200, 0, 0}, uint8(12))
	f.Add([]byte{0, 0, 255, 0, 1, 1, 7, 0, 2, 2, 8, 0}, uint8(25))
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), -math.MaxFloat32, 1e-30}
	f.Fuzz(func(t *testing.T, data []byte, fps uint8) {
		T := len(data) / 4
		kp := make([]float32, T*kpDim)
		set := func(frame, i int, x, y, c float32) {
			o := (frame*kpPoints + i) * kpValues
			kp[o], kp[o+1], kp[o+3] = x, y, c
		}
		for t := range T {
			x, y, flags := float32(data[4*t])*2, float32(data[4*t+1])*2, data[4*t+2]
			shoulders := float32(1)
			if flags&1 != 0 {
				shoulders = 0
			}
			set(t, kpLeftShoulder, 300, 200, shoulders)
			set(t, kpRightShoulder, 200, 200, shoulders)
			set(t, kpLeftHip, 290, 350, 1)
			set(t, kpRightHip, 210, 350, 1)
			set(t, kpRightWrist, x, y, 1)
			if flags&2 == 0 {
				for i := range kpHandLen {
					set(t, kpRightHand+i, x+float32(i), y+float32(data[4*t+3]%16), 1)
				}
			}
			if flags&4 != 0 {
				kp[(t*kpPoints+kpRightHand)*kpValues+int(data[4*t+3])%kpValues] = specials[int(flags>>4)%len(specials)]
			}
			if flags&8 != 0 {
				kp[(t*kpPoints+kpLeftShoulder)*kpValues] = specials[int(flags>>4)%len(specials)]
			}
		}
		prev := 0
		for _, s := range handsSigns(kp, T, float64(fps)) {
			if s.Start < prev || s.End <= s.Start || s.End > T || !(s.Confidence >= 0 && s.Confidence <= 1) {
				t.Fatalf("bad sign %+v after frame %d of %d", s, prev, T)
			}
			prev = s.End
		}
	})
}

// BenchmarkHandsRule: the rule alone, on an hour of keypoints at 25 fps
// (a synthetic signer making held signs), to keep its cost apart from the
// keypoints' in BenchmarkDefaultModel640x360.
func BenchmarkHandsRule(b *testing.B) {
	const fps = 25
	var path []waypoint
	for len(path) < 3600/0.8 { // 0.8 s a waypoint
		path = append(path, waypoint{230, 250, 0.4, 0.4}, waypoint{300, 230, 0.4, 0.4}, waypoint{260, 280, 0.4, 0.4})
	}
	kp, T := signer(fps, path)
	for b.Loop() {
		handsSigns(kp, T, fps)
	}
	hours := float64(T) / fps / 3600
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/hours, "s/hour-of-video")
}
