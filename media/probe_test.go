package media

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signseg/signseg/media/mediatest"
)

func TestProbe(t *testing.T) {
	dir := t.TempDir()
	ms := time.Millisecond
	cases := []struct {
		spec     mediatest.Spec
		codec    string
		w, h     int
		rate     Rational
		avgEqual bool // AvgFrameRate == FrameRate
		frames   int64
		duration time.Duration
		audio    bool
		mpeg     bool
	}{
		{mediatest.Spec{Name: "a.mp4", Frames: 50}, "h264", 320, 240, Rational{25, 1}, true, 50, 2000 * ms, false, false},
		{mediatest.Spec{Name: "b.mp4", Frames: 60, Rate: "30000/1001", Width: 640, Height: 360}, "h264", 640, 360, Rational{30000, 1001}, true, 60, 2002 * ms, false, false},
		{mediatest.Spec{Name: "c.mp4", Frames: 100, Rate: "50", Select: "lt(mod(n,7),3)+lt(n,20)"}, "h264", 320, 240, Rational{50, 1}, false, 55, 1920 * ms, false, false},
		{mediatest.Spec{Name: "d.mkv", Frames: 10, Width: 251, Height: 143}, "ffv1", 251, 143, Rational{25, 1}, true, 0, 400 * ms, false, false},
		{mediatest.Spec{Name: "e.mpg", Frames: 50, Audio: true}, "mpeg2video", 320, 240, Rational{25, 1}, true, 0, 2000 * ms, true, true},
		{mediatest.Spec{Name: "f.mp4", Frames: 25, Audio: true}, "h264", 320, 240, Rational{25, 1}, true, 25, 1000 * ms, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.spec.Name, func(t *testing.T) {
			path := mediatest.Generate(t, dir, tc.spec)
			in, err := Probe(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if !in.HasVideo || in.HasAudio != tc.audio || in.Codec != tc.codec || in.Width != tc.w || in.Height != tc.h {
				t.Errorf("got video=%v audio=%v codec=%s %dx%d, want video, audio=%v %s %dx%d", in.HasVideo, in.HasAudio, in.Codec, in.Width, in.Height, tc.audio, tc.codec, tc.w, tc.h)
			}
			if in.FrameRate != tc.rate || (in.AvgFrameRate == tc.rate) != tc.avgEqual {
				t.Errorf("rates %v avg %v, want %v (avg equal: %v)", in.FrameRate, in.AvgFrameRate, tc.rate, tc.avgEqual)
			}
			if in.Frames != tc.frames {
				t.Errorf("Frames = %d, want %d", in.Frames, tc.frames)
			}
			if d := in.Duration - tc.duration; d < -ms || d > ms {
				t.Errorf("Duration = %v, want %v", in.Duration, tc.duration)
			}
			if tc.mpeg {
				// MPEG-PS clocks start at 0.5 s; Origin is the container start.
				if in.StartTime < 400*ms || in.Origin != in.StartTime || in.VideoStart < in.StartTime {
					t.Errorf("StartTime %v, Origin %v, VideoStart %v: want Origin = StartTime ≈ 0.5 s ≤ VideoStart", in.StartTime, in.Origin, in.VideoStart)
				}
				if e := in.End(); e < tc.duration || e > tc.duration+100*ms {
					t.Errorf("End() = %v, want just over %v", e, tc.duration)
				}
			} else if in.Origin != 0 {
				t.Errorf("Origin = %v, want 0 for %s", in.Origin, in.Format)
			}
			if in.Rotation != 0 {
				t.Errorf("Rotation = %d", in.Rotation)
			}
		})
	}
}

// TestRotation checks that Rotation describes how ffmpeg shows the picture:
// the decoded corners are the coded ones turned by Rotation degrees
// clockwise.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	for _, rot := range []int{90, 180, 270} {
		path := mediatest.Generate(t, dir, mediatest.Spec{Name: "r" + strings.Repeat("x", rot/90) + ".mp4", Frames: 2,
			Width: 320, Height: 160, Rotate: rot, Codec: "libx264rgb", PixFmt: "rgb24", Args: []string{"-qp", "0"}})
		in, err := Probe(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		dw, dh := in.DisplaySize()
		if in.Rotation%180 == 90 && (dw != 160 || dh != 320) || in.Rotation%180 == 0 && (dw != 320 || dh != 160) || in.Rotation == 0 {
			t.Fatalf("rotate=%d: Rotation %d, display size %dx%d", rot, in.Rotation, dw, dh)
		}
		// Coded corners: cells 0 (top-left), 3 (top-right), 15
		// (bottom-right), 12 (bottom-left), clockwise. Turning the picture
		// clockwise by 90° moves each corner one place on.
		corners := [4][3]byte{mediatest.Palette[0], mediatest.Palette[3], mediatest.Palette[15], mediatest.Palette[12]}
		shift := in.Rotation / 90
		p := Preprocess{FrameRate: Rational{25, 1}, Width: dw / 4, Height: dh / 4, Scaler: "area"}
		data := firstFrame(t, path, p)
		w, h := p.Width, p.Height
		at := [4][2]int{{w / 16, h / 16}, {w - 1 - w/16, h / 16}, {w - 1 - w/16, h - 1 - h/16}, {w / 16, h - 1 - h/16}}
		for pos, xy := range at {
			want := corners[(pos-shift+4)%4]
			for c := range 3 {
				got := data[c*w*h+xy[1]*w+xy[0]] * 255
				if math.Abs(float64(got)-float64(want[c])) > 2 {
					t.Fatalf("Rotation %d: displayed corner %d channel %d = %.0f, want %d (coded corner %d)", in.Rotation, pos, c, got, want[c], (pos-shift+4)%4)
				}
			}
		}
	}
}

func TestProbeErrors(t *testing.T) {
	dir := t.TempDir()
	good := mediatest.Generate(t, dir, mediatest.Spec{Name: "good.mp4", Frames: 100})
	st, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "notes.mp4")
	if err := os.WriteFile(text, []byte("this is not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mp4")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		path    string
		want    []string // substrings of the error
		noVideo bool     // errors.Is(err, ErrNoVideo), Info still returned
		audio   bool
	}{
		{"missing", filepath.Join(dir, "nope.mp4"), []string{"nope.mp4", "does not exist"}, false, false},
		{"directory", dir, []string{"is a directory"}, false, false},
		{"empty file", empty, []string{"empty.mp4", "empty (0 bytes)"}, false, false},
		{"not media", text, []string{"notes.mp4", "ffprobe cannot read it", "Invalid data"}, false, false},
		{"truncated (index lost)", mediatest.Truncate(t, good, filepath.Join(dir, "cut.mp4"), st.Size()/2), []string{"cut.mp4", "truncated", "moov atom not found"}, false, false},
		{"zero-length recording", mediatest.Generate(t, dir, mediatest.Spec{Name: "zero.mp4", Frames: 0}), []string{"zero.mp4", "no video stream", "no streams at all"}, true, false},
		{"audio-only", mediatest.Generate(t, dir, mediatest.Spec{Name: "voice.m4a", Frames: 0, Audio: true}), []string{"voice.m4a", "no video stream", "only audio"}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Probe(context.Background(), tc.path)
			if err == nil {
				t.Fatalf("no error, info %+v", in)
			}
			if tc.name == "missing" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("error %v does not wrap os.ErrNotExist", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if errors.Is(err, ErrNoVideo) != tc.noVideo {
				t.Errorf("errors.Is(err, ErrNoVideo) = %v, want %v", !tc.noVideo, tc.noVideo)
			}
			if tc.noVideo && (in == nil || in.HasVideo || in.HasAudio != tc.audio) {
				t.Errorf("info %+v, want HasVideo false, HasAudio %v", in, tc.audio)
			}
			// Open reports the same problem before starting ffmpeg.
			if _, err2 := Open(context.Background(), tc.path, PaperI3D()); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Open error %v, want %v", err2, err)
			}
		})
	}
}
