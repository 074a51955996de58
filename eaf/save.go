package eaf

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/signseg/signseg/internal/atomicfile"
)

// SaveOptions adjusts Save.
type SaveOptions struct {
	// NoBackup skips keeping the previous file as <name>.bak.
	NoBackup bool
	// Overwrite allows replacing an existing file other than the one the
	// document was read from (the file it was read from may always be
	// replaced, if it has not changed on disk since).
	Overwrite bool
}

// ErrChanged is wrapped by Save's error when the file changed on disk since
// the document was read.
var ErrChanged = errors.New("file changed on disk since it was read")

// Save writes the document to path atomically: the bytes go to a temporary
// file in the same folder, which is fsynced and renamed over path, and the
// folder is fsynced; a crash at any moment leaves the old file or the new
// one whole. The file's permission bits are kept.
//
// When path is the file the document was read from, Save first checks
// that the file on disk is still what was read (by content hash) and fails
// with ErrChanged otherwise, for example when it was saved in ELAN
// meanwhile. Any other existing file is replaced only with
// opts.Overwrite. Unless opts.NoBackup, an existing file's previous
// content is kept as path + ".bak" (replacing an older backup).
//
// After saving over its source the document's identity is updated, so it
// can be edited and saved again.
func (d *Document) Save(path string, opts SaveOptions) error {
	if path == "" {
		return fmt.Errorf("save %s: no file name", d.name)
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	st, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if exists && !st.Mode().IsRegular() {
		return fmt.Errorf("save %s: not a regular file", path)
	}
	same := exists && d.src != nil && d.isSource(path, st)
	if exists && !same && !opts.Overwrite {
		return fmt.Errorf("save %s: the file already exists and is not the one that was read; refusing to overwrite it", path)
	}
	var current []byte
	if exists {
		current, err = os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("save %s: %w", path, err)
		}
		if same && sha256.Sum256(current) != d.src.sum {
			return fmt.Errorf("save %s: %w (was it saved in ELAN meanwhile?); nothing written: close it in ELAN and run again", path, ErrChanged)
		}
	}
	mode := fs.FileMode(0o644)
	if exists {
		mode = st.Mode().Perm()
	}
	if exists && !opts.NoBackup {
		if err := atomicfile.WriteFile(path+".bak", current, atomicfile.Options{Perm: mode}); err != nil {
			return fmt.Errorf("save %s: backup: %w", path, err)
		}
	}
	var check func() error
	if same {
		// last look just before the rename, to narrow the window in which
		// another program's save could be lost
		check = func() error {
			now, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if sha256.Sum256(now) != d.src.sum {
				return fmt.Errorf("%w (was it saved in ELAN meanwhile?); nothing written: close it in ELAN and run again", ErrChanged)
			}
			return nil
		}
	}
	if err := atomicfile.WriteFile(path, d.data, atomicfile.Options{Perm: mode, BeforeRename: check}); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if same || d.src == nil {
		nst, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("save %s: %w", path, err)
		}
		d.src = &source{path: path, size: nst.Size(), modTime: nst.ModTime(), sum: sha256.Sum256(d.data), orig: d.data}
	}
	return nil
}

func (d *Document) isSource(path string, st fs.FileInfo) bool {
	sst, err := os.Stat(d.src.path)
	if err == nil && os.SameFile(st, sst) {
		return true
	}
	a, err1 := filepath.Abs(path)
	b, err2 := filepath.Abs(d.src.path)
	return err1 == nil && err2 == nil && a == b
}
