package segment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signseg/signseg/internal/atomicfile"
)

// WriteModel writes the model folder dir/<man.Name>: the manifest as
// ManifestFile and files (name → contents) beside it, such as ONNX graphs
// and records of where they came from. The folder is filled under a
// temporary name and moved into place (internal/atomicfile), so it appears
// whole or not at all; an existing folder is replaced only when replace is
// set, and stays as it was if anything fails. The manifest is checked
// first. It returns the folder's path.
func WriteModel(dir string, man *Manifest, files map[string][]byte, replace bool) (string, error) {
	return writeModel(dir, man, files, replace, nil)
}

// writeModel is WriteModel; rename, when not nil, does the folder moves
// (tests inject failures).
func writeModel(dir string, man *Manifest, files map[string][]byte, replace bool, rename func(from, to string) error) (string, error) {
	if err := man.check(); err != nil {
		return "", fmt.Errorf("model %s: %w", man.Name, err)
	}
	if _, ok := files[ManifestFile]; ok {
		return "", fmt.Errorf("model %s: the manifest is written from man, not from files", man.Name)
	}
	js, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	dest := filepath.Join(dir, man.Name)
	if _, err := os.Lstat(dest); err == nil && !replace {
		return "", fmt.Errorf("%s already exists; choose another name or replace it (--force)", dest)
	}
	fill := func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, ManifestFile), append(js, '\n'), 0o644); err != nil {
			return err
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	if rename == nil {
		err = atomicfile.ReplaceDir(dest, fill)
	} else {
		err = atomicfile.ReplaceDirUsing(dest, fill, rename)
	}
	if err != nil {
		return "", fmt.Errorf("write model %s: %w", dest, err)
	}
	return dest, nil
}
