package pose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signseg/signseg/internal/atomicfile"
	"github.com/signseg/signseg/segment/tflite"
)

// Model complexities of the pose landmark model, as MediaPipe's
// MODEL_COMPLEXITY side packet: 0 lite, 1 full (Holistic's default), 2 heavy.
const (
	ComplexityLite  = 0
	ComplexityFull  = 1
	ComplexityHeavy = 2
)

// poseLandmarkModel names the pose landmark model of a complexity.
func poseLandmarkModel(complexity int) (string, error) {
	switch complexity {
	case ComplexityLite:
		return "pose_landmark_lite", nil
	case ComplexityFull:
		return "pose_landmark_full", nil
	case ComplexityHeavy:
		return "pose_landmark_heavy", nil
	}
	return "", fmt.Errorf("pose model complexity %d: use 0 (lite), 1 (full) or 2 (heavy)", complexity)
}

// Models are the converted (ONNX) Holistic models the Tracker runs.
type Models struct {
	PoseDetection []byte // pose_detection: [1,224,224,3] → boxes, scores
	PoseLandmark  []byte // pose_landmark_{lite,full,heavy}: [1,256,256,3] → 39 points, flag, mask, heatmap, world
	HandRecrop    []byte // hand_recrop: [1,256,256,3] → 2 points
	HandLandmark  []byte // hand_landmark_full: [1,224,224,3] → 21 points, presence, handedness, world
	Complexity    int
}

// ModelsSubdir is the folder of converted models inside a models folder
// (e.g. segment.DefaultModelsDir()).
const ModelsSubdir = "mediapipe-holistic-" + tflite.HolisticVersion

// ErrNoModels is returned (wrapped) by LoadModels when the converted models
// are not cached and the npm package to convert them from is absent.
var ErrNoModels = errors.New("MediaPipe Holistic models not found")

// ModelStatus reports whether the converted models of a complexity are in
// cacheDir, and whether the npm package is at pkgDir.
func ModelStatus(cacheDir, pkgDir string, complexity int) (cached, pkg bool) {
	names, err := modelNames(complexity)
	if err != nil {
		return false, false
	}
	cached = true
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(cacheDir, n+".onnx")); err != nil {
			cached = false
		}
	}
	if pkgDir != "" {
		_, err := os.Stat(filepath.Join(pkgDir, "holistic_solution_packed_assets.data"))
		pkg = err == nil
	}
	return cached, pkg
}

func modelNames(complexity int) ([]string, error) {
	pl, err := poseLandmarkModel(complexity)
	if err != nil {
		return nil, err
	}
	return []string{"pose_detection", pl, "hand_recrop", "hand_landmark_full"}, nil
}

// LoadModels returns the Holistic models as ONNX: from cacheDir when they
// were converted before, else converted from the npm package
// @mediapipe/holistic unpacked at pkgDir (its package/ folder) and written
// to cacheDir for the next time. Without either, the error says how to get
// the package.
func LoadModels(cacheDir, pkgDir string, complexity int) (*Models, error) {
	names, err := modelNames(complexity)
	if err != nil {
		return nil, err
	}
	var pkg *tflite.Package
	out := make([][]byte, len(names))
	for i, n := range names {
		path := filepath.Join(cacheDir, n+".onnx")
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			out[i] = b
			continue
		}
		if pkg == nil {
			if pkgDir == "" {
				return nil, fmt.Errorf("%w: %s is not in %s and no @mediapipe/holistic package was given; run `make setup` (it unpacks the npm package into %s) or pass its package/ folder", ErrNoModels, n+".onnx", cacheDir, tflite.HolisticDir)
			}
			if _, err := os.Stat(filepath.Join(pkgDir, "holistic_solution_packed_assets.data")); err != nil {
				return nil, fmt.Errorf("%w: %s is not in %s and %s holds no @mediapipe/holistic@%s package; run `make setup` (it unpacks it into %s) or `npm pack @mediapipe/holistic@%s` and unpack it", ErrNoModels, n+".onnx", cacheDir, pkgDir, tflite.HolisticVersion, tflite.HolisticDir, tflite.HolisticVersion)
			}
			if pkg, err = tflite.OpenPackage(pkgDir); err != nil {
				return nil, err
			}
		}
		b, err := pkg.Read(n + ".tflite")
		if err != nil {
			return nil, err
		}
		onnx, err := tflite.Convert(b, n)
		if err != nil {
			return nil, fmt.Errorf("convert %s from %s: %w", n, pkgDir, err)
		}
		out[i] = onnx
		if cacheDir != "" {
			if err := writeAtomic(path, onnx); err != nil {
				return nil, err
			}
		}
	}
	return &Models{PoseDetection: out[0], PoseLandmark: out[1], HandRecrop: out[2], HandLandmark: out[3], Complexity: complexity}, nil
}

// writeAtomic writes b to path whole or not at all (internal/atomicfile),
// so that a crash or a concurrent run never leaves half a model behind.
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create models folder %s: %w", filepath.Dir(path), err)
	}
	return atomicfile.WriteFile(path, b, atomicfile.Options{Perm: 0o644})
}
