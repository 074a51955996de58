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
// of frames, the pose's wrists visible wherever they are inside the frame,
// and hand landmarks at most of the visible wrists.
func TestRealClips(t *testing.T) {
	dir := testenv.SharedDir(t, "media")
	for _, clip := range realClips {
		t.Run(clip, func(t *testing.T) {
			frames, info := runVideo(t, filepath.Join(dir, clip), Options{Threads: 2})
			w, h := info.DisplaySize()
			signer, wristsIn, handsFound := 0, 0, 0
			var left, right, inFrame, visible int
			for _, f := range frames {
				if !f.Signer {
					continue
				}
				signer++
				for _, i := range []int{15, 16} {
					l := f.Pose[i]
					if l.X >= 0 && l.Y >= 0 && l.X < float32(w) && l.Y < float32(h) {
						inFrame++
						if l.Visibility > 0.5 {
							visible++
						}
					}
				}
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
			wristRate := float64(visible) / float64(max(inFrame, 1))
			t.Logf("%s: %d frames, signer %.1f %%, pose wrists inside the frame %d, visible there %.1f %%; hands found at visible wrists %.1f %% of %d (left %d, right %d frames)",
				clip, len(frames), 100*rate, inFrame, 100*wristRate, 100*handRate, wristsIn, left, right)
			if rate < 0.95 {
				t.Errorf("signer found on %.1f %% of frames, want ≥ 95 %%", 100*rate)
			}
			if wristRate < 0.95 {
				t.Errorf("pose wrists inside the frame visible on %.1f %%, want ≥ 95 %%", 100*wristRate)
			}
			// The hand model misses small or blurred hands (the 192×144 NGT
			// clips: a 20-pixel hand at the chin): 75 % is its floor here.
			if handRate < 0.75 {
				t.Errorf("hands found at %.1f %% of the visible wrists, want ≥ 75 %%", 100*handRate)
			}
		})
	}
}
