package segment

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteModelReplace: replacing a model folder either succeeds whole or
// leaves the old model exactly as it was, even when the final move fails
// (it used to delete both).
func TestWriteModelReplace(t *testing.T) {
	injected := errors.New("injected rename failure")
	man, _ := builtinManifest(DefaultModel)
	man.Name = "bslcp"
	for _, tt := range []struct {
		name    string
		failNew bool // make the move of the new folder into place fail
	}{
		{"final rename fails", true},
		{"replaced", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "bslcp")
			if err := os.MkdirAll(dest, 0o755); err != nil {
				t.Fatal(err)
			}
			old := map[string]string{ManifestFile: `{"name":"old"}` + "\n", "features.onnx": "old features", "old-only": "x"}
			for f, data := range old {
				if err := os.WriteFile(filepath.Join(dest, f), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var aside string // where the old model was moved, if it was
			rename := func(from, to string) error {
				if from == dest {
					aside = to
				}
				if tt.failNew && to == dest && from != aside {
					return injected
				}
				return os.Rename(from, to)
			}
			_, err := writeModel(dir, &man, map[string][]byte{"features.onnx": []byte("new features")}, true, rename)
			want := old
			if tt.failNew {
				if !errors.Is(err, injected) {
					t.Fatalf("error %v, want the injected failure", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				want = map[string]string{"features.onnx": "new features"}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "bslcp" {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("models folder holds %v, want only bslcp", names)
			}
			if _, err := os.Stat(filepath.Join(dest, "old-only")); tt.failNew == errors.Is(err, fs.ErrNotExist) {
				t.Errorf("old-only file: %v", err)
			}
			for f, data := range want {
				got, err := os.ReadFile(filepath.Join(dest, f))
				if err != nil || string(got) != data {
					t.Errorf("%s: %q, %v; want %q", f, got, err, data)
				}
			}
		})
	}
}

func TestWriteModelRefuses(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	man, _ := builtinManifest(DefaultModel)
	man.Name = "m"
	if _, err := WriteModel(dir, &man, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteModel(dir, &man, nil, false); err == nil {
		t.Error("an existing model was replaced without replace")
	}
	bad := man
	bad.Features.Dim = 0
	if _, err := WriteModel(dir, &bad, nil, true); err == nil {
		t.Error("an invalid manifest was written")
	}
	if _, err := LoadModel(filepath.Join(dir, "m"), ""); err != nil {
		t.Errorf("the written model does not load: %v", err)
	}
}
