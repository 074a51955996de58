package mediatest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

func TestReadIndexRoundTrip(t *testing.T) {
	const w, h = 97, 61 // odd sizes: cells of unequal width
	for _, i := range []int{0, 1, 2, 5, 255, 256, 1000, 65535} {
		got := ReadIndex(func(u, v float64) float64 {
			c := Pixel(i, int(u*w), int(v*h), w, h)
			return (float64(c[0]) + float64(c[1]) + float64(c[2])) / 3 / 255
		})
		if got != i {
			t.Errorf("frame %d reads back as %d", i, got)
		}
	}
	if c := Pixel(7, 0, 0, w, h); c != Palette[0] {
		t.Errorf("top-left pixel %v, want %v", c, Palette[0])
	}
	if c := Pixel(7, w-1, h-1, w, h); c != Palette[15] {
		t.Errorf("bottom-right pixel %v, want %v", c, Palette[15])
	}
}

func TestGenerate(t *testing.T) {
	ffprobe := testenv.Tool(t, "ffprobe")
	dir := t.TempDir()
	cases := []struct {
		spec Spec
		want string // ffprobe stream summary: codec,width,height,frame count
	}{
		{Spec{Name: "a.mp4", Frames: 7}, "h264,320,240,7"},
		{Spec{Name: "b.mpg", Frames: 5, Width: 176, Height: 144}, "mpeg2video,176,144,5"},
		{Spec{Name: "c.mkv", Frames: 3, Width: 33, Height: 17}, "ffv1,33,17,3"},
		{Spec{Name: "d.mp4", Frames: 4, Lavfi: "testsrc2", Width: 128, Height: 96}, "h264,128,96,4"},
		{Spec{Name: "e.mp4", Frames: 20, Select: "lt(n,10)"}, "h264,320,240,10"},
	}
	for _, tc := range cases {
		p := Generate(t, dir, tc.spec)
		out, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
			"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		// MPEG-2 side data adds an empty trailing field.
		if got := strings.TrimRight(strings.TrimSpace(string(out)), ","); got != tc.want {
			t.Errorf("%s: ffprobe says %q, want %q", tc.spec.Name, got, tc.want)
		}
	}
}
