package media

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

func TestFindTools(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	testenv.Tool(t, "ffprobe")
	tools, err := FindTools()
	if err != nil {
		t.Fatal(err)
	}
	if tools.FFmpeg.Path != ffmpeg || tools.FFmpeg.Version == "" || tools.FFprobe.Version == "" {
		t.Errorf("FindTools() = %+v, want ffmpeg at %s with versions", tools, ffmpeg)
	}
	// The override wins over PATH.
	t.Setenv(EnvFFprobe, ffmpeg)
	if tools, err := FindTools(); err != nil || tools.FFprobe.Path != ffmpeg {
		t.Errorf("with %s=%s: %+v, %v", EnvFFprobe, ffmpeg, tools, err)
	}
}

func TestFindToolsErrors(t *testing.T) {
	t.Run("bad override", func(t *testing.T) {
		t.Setenv(EnvFFmpeg, filepath.Join(t.TempDir(), "ffmpeg"))
		_, err := FindTools()
		if err == nil || !strings.Contains(err.Error(), EnvFFmpeg+"=") {
			t.Errorf("err = %v, want it to name %s", err, EnvFFmpeg)
		}
		if _, err2 := Open(context.Background(), "x.mp4", PaperI3D()); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("Open: %v", err2)
		}
	})
	t.Run("not on PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := FindTools()
		want := "install"
		if runtime.GOOS == "linux" {
			want = "apt-get install -y --no-install-recommends ffmpeg"
		}
		if err == nil || !strings.Contains(err.Error(), "ffmpeg not found on PATH") || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want an install hint %q", err, want)
		}
		if _, err := Probe(context.Background(), "x.mp4"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Probe: %v", err)
		}
	})
	t.Run("not ffmpeg", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("shell scripts")
		}
		fakeFFmpeg(t, "echo hello")
		if _, err := FindTools(); err == nil || !strings.Contains(err.Error(), "is it really ffmpeg") {
			t.Errorf("err = %v", err)
		}
	})
}
