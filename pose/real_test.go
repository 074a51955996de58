package pose

import (
	"path/filepath"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// realClips are the real signing videos of ../shared/media (SOURCES.md).
var realClips = []string{
	"demo-bsl-5s.mp4", "bsl-interpreter-7s.mp4", "lsa-news-7s.mp4", "asl-18s.mp4",
	"ngt-numbers-011-019.mp4", "ngt-numbers-200-900.mp4", "ssl-isolated-taxi.mp4",
}

// wristInView reports whether a pose wrist is visible and inside the frame.
func wristInView(l Landmark, w, h int) bool {
	return l.Visibility > 0.5 && l.X >= 0 && l.Y >= 0 && l.X < float32(w) && l.Y < float32(h)
}

// TestRealClips runs the pipeline on every real clip: a signer on ≥ 95 %
// of frames, and a hand wherever the pose puts its wrist in view.
func TestRealClips(t *testing.T) {
	dir := testenv.SharedDir(t, "media")
	for _, clip := range realClips {
		t.Run(clip, func(t *testing.T) {
			frames, info := runVideo(t, filepath.Join(dir, clip), Options{Threads: 2})
			w, h := info.DisplaySize()
			signer, wristsIn, handsFound := 0, 0, 0
			var left, right int
			for _, f := range frames {
				if !f.Signer {
					continue
				}
				signer++
				for side, hand := range []Hand{f.Left, f.Right} {
					if wristInView(f.Pose[15+side], w, h) {
						wristsIn++
						if hand.Present {
							handsFound++
						}
					}
				}
				if f.Left.Present {
					left++
				}
				if f.Right.Present {
					right++
				}
			}
			rate := float64(signer) / float64(len(frames))
			handRate := float64(handsFound) / float64(max(wristsIn, 1))
			t.Logf("%s: %d frames, signer %.1f %%, wrists in view %d, hands found there %.1f %% (left %d, right %d)",
				clip, len(frames), 100*rate, wristsIn, 100*handRate, left, right)
			if rate < 0.95 {
				t.Errorf("signer found on %.1f %% of frames, want ≥ 95 %%", 100*rate)
			}
		})
	}
}
