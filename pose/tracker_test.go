package pose

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
)

var (
	modelsOnce sync.Once
	modelsErr  error
	modelsVal  *Models
)

// testModels converts the Holistic models once per test binary, cached in
// the temporary folder between runs (conversion takes seconds), and
// initialises ONNX Runtime. Both fail under make test when missing.
func testModels(t testing.TB) *Models {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	pkg := testenv.MediaPipePackage(t)
	if err := ortenv.Init(ortenv.Library{Path: lib, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	modelsOnce.Do(func() {
		cache := filepath.Join(os.TempDir(), "signseg-test-"+ModelsSubdir)
		modelsVal, modelsErr = LoadModels(cache, pkg, ComplexityFull)
	})
	if modelsErr != nil {
		t.Fatal(modelsErr)
	}
	return modelsVal
}

// runVideo tracks every frame of a video.
func runVideo(t testing.TB, path string, opt Options) ([]Frame, *media.Info) {
	t.Helper()
	m := testModels(t)
	tr, err := NewTracker(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	s, err := media.OpenRGB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var frames []Frame
	for {
		f, err := s.ReadRGB()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kf, err := tr.Process(f)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, kf)
	}
	return frames, s.Info()
}
