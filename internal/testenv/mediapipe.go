package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// MediaPipeHolisticDir is where scripts/setup.sh unpacks the npm package
// @mediapipe/holistic (relative to the repository root).
const MediaPipeHolisticDir = "lib/mediapipe/holistic-0.5.1675471629/package"

// MediaPipePackage returns the unpacked @mediapipe/holistic package folder
// (the models the keypoint tests convert). A missing package skips the test,
// or fails it under make test, which fetches it.
func MediaPipePackage(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), MediaPipeHolisticDir)
	if _, err := os.Stat(filepath.Join(p, "holistic_solution_packed_assets.data")); err != nil {
		missing(t, "MediaPipe Holistic package "+p, "run scripts/setup.sh or make test")
	}
	return p
}
