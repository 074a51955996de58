package pose

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/media/mediatest"
)

// trackAll runs TrackVideo and keeps every frame's keypoints.
func trackAll(t *testing.T, path string) ([]Frame, Summary) {
	t.Helper()
	tools, err := media.FindTools()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTracker(testModels(t), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var frames []Frame
	sum, err := TrackVideo(context.Background(), tools, path, tr, func(_ media.RGBFrame, f Frame) error {
		frames = append(frames, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	none := 0
	for _, f := range frames {
		if !f.Signer {
			none++
			if f.Left.Present || f.Right.Present || f.Pose[0] != (Landmark{}) {
				t.Fatalf("frame %d: no signer but keypoints set", f.Index)
			}
		}
	}
	if sum.Frames != len(frames) || sum.NoSigner != none {
		t.Fatalf("summary %+v disagrees with the %d frames (%d without signer)", sum, len(frames), none)
	}
	t.Log(sum)
	return frames, sum
}

// TestNoPerson: generated videos without a person (a test pattern, black,
// noise; 30 and 50 fps; a rotated phone video) give no signer on any frame,
// at the video's displayed size and rate, without failing.
func TestNoPerson(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		spec   mediatest.Spec
		w, h   int
		frames int
		// maxSigner is the most frames with a (false) signer allowed:
		// ffmpeg's testsrc2, busy coloured shapes, makes MediaPipe's own
		// detector and landmark model agree on a person now and then (1
		// of 25 frames when written), which is the models' behaviour, not
		// the pipeline's.
		maxSigner int
	}{
		{mediatest.Spec{Name: "pattern30.mp4", Rate: "30", Frames: 30}, 320, 240, 30, 0},
		{mediatest.Spec{Name: "black50.mp4", Rate: "50", Frames: 50, Lavfi: "color"}, 320, 240, 50, 0},
		{mediatest.Spec{Name: "testsrc.mp4", Frames: 25, Lavfi: "testsrc2", Width: 640, Height: 360}, 640, 360, 25, 3},
		{mediatest.Spec{Name: "phone.mp4", Frames: 20, Width: 320, Height: 180, Rotate: 90}, 180, 320, 20, 0},
	}
	for _, c := range cases {
		t.Run(c.spec.Name, func(t *testing.T) {
			path := mediatest.Generate(t, dir, c.spec)
			_, sum := trackAll(t, path)
			if sum.Frames != c.frames || sum.NoSigner < c.frames-c.maxSigner || sum.Width != c.w || sum.Height != c.h {
				t.Errorf("got %d frames (%d without signer) of %dx%d, want %d frames, at least %d without signer, %dx%d",
					sum.Frames, sum.NoSigner, sum.Width, sum.Height, c.frames, c.frames-c.maxSigner, c.w, c.h)
			}
		})
	}
}

// derive makes a variant of a real clip with ffmpeg.
func derive(t *testing.T, out string, args ...string) string {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	cmd := exec.Command(ffmpeg, append(append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...), out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, stderr.String())
	}
	return out
}

// signerRate is the share of frames [from, to) with a signer.
func signerRate(frames []Frame, from, to int) float64 {
	n := 0
	for _, f := range frames[from:to] {
		if f.Signer {
			n++
		}
	}
	return float64(n) / float64(max(to-from, 1))
}

// TestHardVideo runs variants of the 640×360 real clip (2 s each): the
// signer leaving and coming back, two people, hands out of frame, dark,
// blurred, portrait, a rotated phone video, 30 and 50 fps.
func TestHardVideo(t *testing.T) {
	src := filepath.Join(testenv.SharedDir(t, "media"), "demo-bsl-5s.mp4")
	dir := t.TempDir()
	in := []string{"-i", src, "-t", "2", "-an"}
	vf := func(name, filter string) func(t *testing.T) string {
		return func(t *testing.T) string {
			return derive(t, filepath.Join(dir, name), append(append([]string(nil), in...), "-vf", filter)...)
		}
	}
	// Two people: the signer and a mirrored copy side by side.
	two := func(t *testing.T) string {
		return derive(t, filepath.Join(dir, "two.mp4"), append(append([]string(nil), in...),
			"-filter_complex", "[0:v]split[a][b];[b]hflip[c];[a][c]hstack")...)
	}
	// Leaving and coming back: 1 s of the signer, 1 s of black, 1 s of the
	// signer again.
	leave := func(t *testing.T) string {
		return derive(t, filepath.Join(dir, "leave.mp4"), "-i", src, "-an", "-filter_complex",
			"[0:v]split[a][b];[a]trim=0:1,setpts=PTS-STARTPTS[x];[b]trim=1:2,setpts=PTS-STARTPTS[y];"+
				"color=black:size=640x360:rate=25:duration=1[k];[x][k][y]concat=n=3:v=1")
	}
	// A phone video: portrait picture stored landscape with rotate metadata.
	phone := func(t *testing.T) string {
		land := derive(t, filepath.Join(dir, "land.mp4"), append(append([]string(nil), in...), "-vf", "crop=202:360:219:0,transpose=2")...)
		return derive(t, filepath.Join(dir, "phone.mp4"), "-i", land, "-c", "copy", "-metadata:s:v:0", "rotate=90")
	}
	cases := []struct {
		name    string
		make    func(t *testing.T) string
		w, h    int
		frames  int
		minRate float64 // signer found on at least this share of the frames with a person
		person  func(i int) bool
	}{
		{"leave and come back", leave, 640, 360, 75, 0.95, func(i int) bool { return i < 25 || i >= 50 }},
		{"two people", two, 1280, 360, 50, 0.95, nil},
		{"hands out of frame", vf("crop.mp4", "crop=640:190:0:0"), 640, 190, 50, 0.9, nil},
		{"dark", vf("dark.mp4", "eq=brightness=-0.3:contrast=0.6"), 640, 360, 50, 0.95, nil},
		{"blurred", vf("blur.mp4", "gblur=sigma=4"), 640, 360, 50, 0.95, nil},
		{"portrait", vf("portrait.mp4", "crop=202:360:219:0"), 202, 360, 50, 0.95, nil},
		{"rotated phone", phone, 202, 360, 50, 0.95, nil},
		{"30 fps", vf("fps30.mp4", "fps=30"), 640, 360, 60, 0.95, nil},
		{"50 fps", vf("fps50.mp4", "fps=50"), 640, 360, 100, 0.95, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frames, sum := trackAll(t, c.make(t))
			if sum.Width != c.w || sum.Height != c.h || sum.Frames < c.frames-1 || sum.Frames > c.frames+1 {
				t.Fatalf("%d frames of %dx%d, want %d of %dx%d", sum.Frames, sum.Width, sum.Height, c.frames, c.w, c.h)
			}
			with, without := 0, 0
			found, falsePos := 0, 0
			for i, f := range frames {
				if c.person == nil || c.person(i) {
					with++
					if f.Signer {
						found++
					}
				} else {
					without++
					if f.Signer {
						falsePos++
					}
				}
			}
			rate := float64(found) / float64(with)
			t.Logf("signer on %d of %d frames with a person (%.1f %%), on %d of %d without", found, with, 100*rate, falsePos, without)
			if rate < c.minRate {
				t.Errorf("signer found on %.1f %% of the frames with a person, want ≥ %.0f %%", 100*rate, 100*c.minRate)
			}
			if falsePos > 0 {
				t.Errorf("a signer on %d frames without a person", falsePos)
			}
			// A hand reported present lies mostly inside the frame: out of
			// view, hands are missing, not invented.
			for _, f := range frames {
				for _, h := range []Hand{f.Left, f.Right} {
					if !h.Present {
						continue
					}
					in := 0
					for _, p := range h.Points {
						if p.X >= -0.05*float32(c.w) && p.X < 1.05*float32(c.w) && p.Y >= -0.05*float32(c.h) && p.Y < 1.05*float32(c.h) {
							in++
						}
					}
					if in < 11 {
						t.Errorf("frame %d: a hand with %d of 21 points in view reported present", f.Index, in)
					}
				}
			}
		})
	}
}

// TestPipelineSameKeypoints: TrackVideo with Options.Pipeline gives the
// keypoints of the plain loop, frame by frame, in order.
func TestPipelineSameKeypoints(t *testing.T) {
	src := filepath.Join(testenv.SharedDir(t, "media"), "demo-bsl-5s.mp4")
	clip := derive(t, filepath.Join(t.TempDir(), "clip.mp4"), "-i", src, "-t", "1.6", "-an")
	tools, err := media.FindTools()
	if err != nil {
		t.Fatal(err)
	}
	run := func(pipeline bool) []Frame {
		tr, err := NewTracker(testModels(t), Options{Threads: 1, Pipeline: pipeline})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		var out []Frame
		if _, err := TrackVideo(context.Background(), tools, clip, tr, func(_ media.RGBFrame, f Frame) error {
			out = append(out, f)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := run(false), run(true)
	if len(a) != len(b) || len(a) < 35 {
		t.Fatalf("%d frames plain, %d pipelined", len(a), len(b))
	}
	for i := range a {
		if b[i].Index != i || a[i] != b[i] {
			t.Fatalf("frame %d differs: plain %+v\npipelined %+v", i, a[i].Pose[0], b[i].Pose[0])
		}
	}
}
