package media

import (
	"math"
	"testing"

	"github.com/signseg/signseg/media/mediatest"
)

// TestFrameTiming checks, against ffprobe's per-frame timestamps, that frame
// i is at i/fps media time and shows the source frame the fps filter's rule
// picks: the latest whose time, rounded to the output grid, is ≤ i.
func TestFrameTiming(t *testing.T) {
	dir := t.TempDir()
	i3d := PaperI3D()
	ntsc := PaperI3D()
	ntsc.FrameRate = Rational{30000, 1001}
	vfrKeep := func(n int) bool { return n%7 < 3 || n < 20 }
	cases := []struct {
		name string
		spec mediatest.Spec
		keep func(int) bool // source frames kept by Spec.Select
		p    Preprocess
		mpeg bool // Origin is the container start
	}{
		{"25fps mp4", mediatest.Spec{Name: "a.mp4", Frames: 50}, nil, i3d, false},
		{"29.97fps mp4", mediatest.Spec{Name: "b.mp4", Frames: 60, Rate: "30000/1001"}, nil, i3d, false},
		{"variable rate", mediatest.Spec{Name: "c.mp4", Frames: 100, Rate: "50", Select: "lt(mod(n,7),3)+lt(n,20)"}, vfrKeep, i3d, false},
		{"odd size 251x143", mediatest.Spec{Name: "d.mkv", Frames: 30, Width: 251, Height: 143}, nil, i3d, false},
		{"mpeg-ps with audio", mediatest.Spec{Name: "e.mpg", Frames: 40, Audio: true}, nil, i3d, true},
		{"mpeg-ps video 0.4 s after audio", mediatest.Spec{Name: "f.mpg", Frames: 40, Audio: true, VideoDelay: 0.4}, nil, i3d, true},
		{"mpeg-ts with audio", mediatest.Spec{Name: "h.ts", Frames: 40, Audio: true, VideoDelay: 0.2}, nil, i3d, true},
		{"25 to 29.97 fps", mediatest.Spec{Name: "g.mp4", Frames: 40}, nil, ntsc, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := mediatest.Generate(t, dir, tc.spec)
			ref := probeFrames(t, path)
			var kept []int // pattern index of each stored frame
			for n := 0; n < tc.spec.Frames; n++ {
				if tc.keep == nil || tc.keep(n) {
					kept = append(kept, n)
				}
			}
			if len(kept) != len(ref.pts) {
				t.Fatalf("ffprobe sees %d frames, generator kept %d", len(ref.pts), len(kept))
			}
			origin := 0.0
			if tc.mpeg {
				origin = ref.start
				if origin <= 0 {
					t.Fatalf("fixture has container start %v, want > 0", origin)
				}
			}
			fps := tc.p.FrameRate.Float64()
			got, s := decodeIndices(t, path, tc.p)
			if d := s.Info().Origin.Seconds() - origin; math.Abs(d) > 1e-6 {
				t.Errorf("Info.Origin = %v, want %v s", s.Info().Origin, origin)
			}

			// Count: the fps filter ends at the end of the last frame,
			// which lasts 1/r_frame_rate.
			last := ref.pts[len(ref.pts)-1] - origin + 1/s.Info().FrameRate.Float64()
			if want := gridSlot(last, fps); len(got) != want {
				t.Errorf("decoded %d frames, want %d (video ends at %.4f s)", len(got), want, last)
			}
			if e := s.ExpectedFrames(); math.Abs(float64(e-len(got))) > 2 {
				t.Errorf("ExpectedFrames() = %d, decoded %d", e, len(got))
			}
			for i, f := range got {
				if f.index != i {
					t.Fatalf("frame %d has Index %d", i, f.index)
				}
				wantMs := float64(i) * 1000 / fps
				if math.Abs(f.timeMs-wantMs) > 1e-6 {
					t.Fatalf("frame %d at %v ms, want %v", i, f.timeMs, wantMs)
				}
				j := 0 // the stored frame the rule picks; before the first, it repeats
				for k, p := range ref.pts {
					if gridSlot(p-origin, fps) <= i {
						j = k
					}
				}
				if f.source != kept[j] {
					t.Fatalf("frame %d (%.1f ms) shows source frame %d, want %d (at %.4f s)", i, f.timeMs, f.source, kept[j], ref.pts[j]-origin)
				}
				// The picture shown is never more than half an output frame
				// in the future.
				if shown := ref.pts[j] - origin; shown > f.timeMs/1000+0.5/fps+1e-6 && j > 0 {
					t.Fatalf("frame %d at %.1f ms shows a picture of %.4f s", i, f.timeMs, shown)
				}
			}
			if tc.spec.VideoDelay > 0 {
				// The first picture comes VideoDelay (+ up to a frame of
				// encoder delay) after the audio: it must appear at that
				// media time, not at 0. Frame 1 replaces it one source
				// frame later.
				first := 0
				for first < len(got) && got[first].source == 0 {
					first++
				}
				d := tc.spec.VideoDelay * 1000
				if t1 := got[first].timeMs; t1 < d+40-20 || t1 > d+40+60 {
					t.Errorf("source frame 1 first shown at %.0f ms, want about %.0f–%.0f ms", t1, d+40, d+80)
				}
			}
		})
	}
}
