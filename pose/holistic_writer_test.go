package pose

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

func testFrames() []Frame {
	var a Frame
	a.Signer = true
	for i := range a.Pose {
		a.Pose[i] = Landmark{X: float32(10 + i), Y: float32(20 + i), Z: -0.1 * float32(i), Visibility: 0.9}
	}
	a.Left.Present = true
	for i := range a.Left.Points {
		a.Left.Points[i] = Landmark{X: float32(100 + i), Y: 50, Z: 0.01, Visibility: 0.8}
	}
	b := a
	b.Index = 1
	b.Left = Hand{}
	b.Right = Hand{Present: true, Points: a.Left.Points}
	c := Frame{Index: 2} // no signer
	return []Frame{a, b, c}
}

func TestHolisticWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "v.pose")
	w, err := CreateHolistic(path, 640, 360, 25)
	if err != nil {
		t.Fatal(err)
	}
	frames := testFrames()
	for _, f := range frames {
		if err := w.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the file exists before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(frames[0]); err == nil {
		t.Error("Add after Close succeeded")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".signseg-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := f.Body
	if f.Header.Dimensions != (Dimensions{640, 360, 0}) || b.FPS != 25 || b.Frames != 3 || b.People != 1 || b.Points != 75 || b.Dims != 3 {
		t.Fatalf("header %+v, body %d frames %d people %d points %d dims at %g fps", f.Header.Dimensions, b.Frames, b.People, b.Points, b.Dims, b.FPS)
	}
	type pt struct{ x, y, z, c float32 }
	at := func(frame, point int) pt {
		i := b.Index(frame, 0, point)
		return pt{b.Data[i], b.Data[i+1], b.Data[i+2], b.Confidence[frame*75+point]}
	}
	cases := []struct {
		frame, point int
		want         pt
	}{
		{0, 0, pt{10, 20, 0, 0.9}},
		{0, 32, pt{42, 52, -3.2, 0.9}},
		{0, 33, pt{100, 50, 0.01, 1}},      // left wrist: hand points have confidence 1
		{0, 54, pt{0, 0, 0, 0}},            // right hand missing
		{1, 33, pt{0, 0, 0, 0}},            // left hand missing
		{1, 54 + 20, pt{120, 50, 0.01, 1}}, // right pinky tip
		{2, 0, pt{0, 0, 0, 0}},             // no signer: all missing
		{2, 74, pt{0, 0, 0, 0}},
	}
	for _, c := range cases {
		if g := at(c.frame, c.point); !near(float64(g.x), float64(c.want.x), 1e-5) || !near(float64(g.y), float64(c.want.y), 1e-5) ||
			!near(float64(g.z), float64(c.want.z), 1e-5) || g.c != c.want.c {
			t.Errorf("frame %d point %d = %+v, want %+v", c.frame, c.point, g, c.want)
		}
	}
	// The 2023 segmenter's selection reads it.
	k, err := f.Holistic()
	if err != nil {
		t.Fatal(err)
	}
	if k.Points != HolisticPoints || k.Frames != 3 {
		t.Errorf("Holistic selection: %d points, %d frames", k.Points, k.Frames)
	}

	// Abort leaves nothing behind.
	w, err = CreateHolistic(filepath.Join(dir, "x.pose"), 10, 10, 25)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Add(frames[0])
	w.Abort()
	if left, _ := filepath.Glob(filepath.Join(dir, "*x*")); len(left) > 0 {
		t.Errorf("abort left %v", left)
	}
}

// TestHolisticHeaderMatchesExample: the components' names and point names
// and limbs are those of a real pose-format MediaPipe file.
func TestHolisticHeaderMatchesExample(t *testing.T) {
	ex, err := ReadFile(filepath.Join(testenv.SharedDir(t, "models/slp-2023"), "example.pose"))
	if err != nil {
		t.Fatal(err)
	}
	h := HolisticHeader(320, 240)
	for _, c := range h.Components {
		_, exc, ok := ex.Header.Offset(c.Name)
		if !ok {
			t.Errorf("example.pose has no component %s", c.Name)
			continue
		}
		if !reflect.DeepEqual(c.Points, exc.Points) || c.Format != exc.Format {
			t.Errorf("%s: points or format differ from example.pose", c.Name)
		}
		// pose-format lists MediaPipe's connections in Python set order:
		// compare them as sets.
		set := func(ls []Limb) map[Limb]bool {
			m := map[Limb]bool{}
			for _, l := range ls {
				m[l] = true
			}
			return m
		}
		if !reflect.DeepEqual(set(c.Limbs), set(exc.Limbs)) || len(c.Limbs) != len(exc.Limbs) {
			t.Errorf("%s: limbs %v differ from example.pose's %v", c.Name, c.Limbs, exc.Limbs)
		}
	}
}

func TestCreateHolisticErrors(t *testing.T) {
	if _, err := CreateHolistic(filepath.Join(t.TempDir(), "no", "such", "x.pose"), 10, 10, 25); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
	if _, err := CreateHolistic(filepath.Join(t.TempDir(), "big.pose"), 70000, 10, 25); err == nil {
		t.Error("a width beyond the format's 65535 was accepted")
	}
}
