package tflite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/signseg/signseg/internal/testenv"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPackageRead(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		packedLoader: `Module["preRun"]; loadPackage({"files": [{"filename": "/third_party/a/x.tflite", "start": 0, "end": 3}, ` +
			`{"filename": "/third_party/b/labels.txt", "start": 3, "end": 7}, {"filename": "/c/big.tflite", "start": 7, "end": 99}], "remote_package_size": 10});`,
		packedData:     "XYZlblsPAD",
		"plain.tflite": "plain",
	})
	p, err := OpenPackage(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want, err string }{
		{"x.tflite", "XYZ", ""},
		{"labels.txt", "lbls", ""},
		{"plain.tflite", "plain", ""},
		{"missing.tflite", "", "neither a file in"},
		{"big.tflite", "", "needs bytes [7, 99)"},
		{"../plain.tflite", "", "must be a base name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := p.Read(tc.name)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Fatalf("Read = %q, %v; want %q", b, err, tc.want)
			}
		})
	}
	models, err := p.Models()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"big.tflite", "plain.tflite", "x.tflite"}; !slices.Equal(models, want) {
		t.Errorf("Models = %v, want %v", models, want)
	}
}

func TestOpenPackageErrors(t *testing.T) {
	empty := t.TempDir()
	writeFiles(t, empty, map[string]string{packedLoader: "no file list here"})
	reversed := t.TempDir()
	writeFiles(t, reversed, map[string]string{packedLoader: `{"filename": "/a.tflite", "start": 9, "end": 3}`})
	for _, tc := range []struct{ name, dir, want string }{
		{"missing folder", filepath.Join(empty, "nope"), "make setup"},
		{"no entries", empty, "lists no packed files"},
		{"reversed range", reversed, "bad byte range 9..3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenPackage(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestHolisticPackage reads every model of the fetched npm package, plain
// and packed, with the sizes of keypoints.md, and parses it.
func TestHolisticPackage(t *testing.T) {
	p, err := OpenPackage(testenv.MediaPipePackage(t))
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{
		"pose_landmark_lite.tflite": 2819824, "pose_landmark_full.tflite": 6440512, "pose_landmark_heavy.tflite": 27709200,
		"pose_detection.tflite": 2962288, "hand_landmark_full.tflite": 5478688, "hand_recrop.tflite": 123792,
		"palm_detection_full.tflite": 2341280, "palm_detection_lite.tflite": 1985440, "face_landmark.tflite": 1241896,
		"face_landmark_with_attention.tflite": 2495952, "face_detection_short_range.tflite": 229032,
	}
	models, err := p.Models()
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != len(sizes) {
		t.Errorf("package lists %d models %v, want %d", len(models), models, len(sizes))
	}
	for _, name := range models {
		b, err := p.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != sizes[name] {
			t.Errorf("%s: %d bytes, want %d", name, len(b), sizes[name])
		}
		m, err := Parse(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(m.Inputs) != 1 || len(m.Outputs) == 0 || len(m.Operators) == 0 {
			t.Errorf("%s: %d inputs, %d outputs, %d operators", name, len(m.Inputs), len(m.Outputs), len(m.Operators))
		}
	}
}

// TestHolisticDirAgrees keeps the test helper's path (internal/testenv
// cannot import this package) equal to the one scripts/setup.sh fills.
func TestHolisticDirAgrees(t *testing.T) {
	if testenv.MediaPipeHolisticDir != HolisticDir {
		t.Fatalf("testenv.MediaPipeHolisticDir = %q, tflite.HolisticDir = %q", testenv.MediaPipeHolisticDir, HolisticDir)
	}
	setup, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "scripts", "setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MP_VERSION=" + HolisticVersion, "MP_DIR=lib/mediapipe/holistic-$MP_VERSION"} {
		if !strings.Contains(string(setup), want) {
			t.Errorf("scripts/setup.sh lacks %q", want)
		}
	}
}

// TestConvertTo converts a packed model of the fetched package into a
// models folder and checks the file and its provenance metadata.
func TestConvertTo(t *testing.T) {
	initORT(t)
	p, err := OpenPackage(testenv.MediaPipePackage(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "models")
	paths, err := p.ConvertTo(context.Background(), dir, "hand_recrop.tflite")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "hand_recrop.onnx"); !slices.Equal(paths, []string{want}) {
		t.Fatalf("paths %v, want [%s]", paths, want)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("folder holds %v (%v), want only the model", ents, err)
	}
	md, err := ort.GetModelMetadata(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer md.Destroy()
	raw, err := p.Read("hand_recrop.tflite")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	for key, want := range map[string]string{"source_model": "hand_recrop.tflite", "source_sha256": hex.EncodeToString(sum[:]), "source_format": "tflite"} {
		got, ok, err := md.LookupCustomMetadataMap(key)
		if err != nil || !ok || got != want {
			t.Errorf("metadata %s = %q (%v, %v), want %q", key, got, ok, err, want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.ConvertTo(ctx, dir, "pose_detection.tflite"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ConvertTo: %v, want context.Canceled", err)
	}
	if _, err := p.ConvertTo(context.Background(), dir, "nope.tflite"); err == nil || !strings.Contains(err.Error(), "nope.tflite") {
		t.Errorf("missing model: %v", err)
	}
}
