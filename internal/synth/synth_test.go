package synth

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

func TestPlanStillDuringHoldsMovingInSigns(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		opt := Options{Seed: seed}
		truth, pos := Plan(opt)
		opt = opt.withDefaults()
		if truth.Frames != len(pos) || len(truth.Signs) != opt.Signs {
			t.Fatalf("seed %d: %d frames, %d positions, %d signs", seed, truth.Frames, len(pos), len(truth.Signs))
		}
		inSign := make([]bool, len(pos))
		prevEnd := 0
		for i, s := range truth.Signs {
			if s.Start < prevEnd || s.End <= s.Start {
				t.Fatalf("seed %d: sign %d %v overlaps or is empty", seed, i, s)
			}
			if i > 0 {
				if g := s.Start - prevEnd; g < opt.MinHold || g > opt.MaxHold {
					t.Fatalf("seed %d: hold before sign %d is %d frames", seed, i, g)
				}
			}
			for f := s.Start; f < s.End; f++ {
				inSign[f] = true
			}
			prevEnd = s.End
		}
		for f := 1; f < len(pos); f++ {
			moved := math.Hypot(pos[f][0]-pos[f-1][0], pos[f][1]-pos[f-1][1]) > 1e-9
			if moved != inSign[f] {
				t.Fatalf("seed %d frame %d: moved=%v but inSign=%v", seed, f, moved, inSign[f])
			}
		}
	}
}

func TestRenderFrameCount(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	ffprobe := testenv.Tool(t, "ffprobe")
	path := filepath.Join(t.TempDir(), "synth.mp4")
	truth, err := Render(context.Background(), ffmpeg, path, Options{Seed: 3, Width: 320, Height: 180, Signs: 4})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n != truth.Frames {
		t.Fatalf("video has %q frames, truth says %d", out, truth.Frames)
	}
}
