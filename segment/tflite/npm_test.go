package tflite

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
