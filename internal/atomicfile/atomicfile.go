// Package atomicfile replaces files and folders so that a crash or a failed
// step at any moment leaves either the old version or the new one in place,
// never a mix or a half-written file, and so that a failure leaves no
// temporary file behind.
//
// A file is written to a temporary file in the same folder, fsynced,
// renamed over the destination, and the folder is fsynced. A folder is
// filled under a temporary name next to the destination, every file in it
// is fsynced, and it is swapped with the old folder in one step where the
// system can (Linux renameat2 RENAME_EXCHANGE), else moved in with two
// renames, putting the old folder back when the second one fails.
//
// A process killed in the middle of a write can leave a hidden temporary
// file (.NAME.tmp-*) or folder (.NAME.new-*, .NAME.old-*) next to the
// destination; the destination itself is whole. The one exception is the
// two-rename fallback for folders (systems without an atomic exchange): a
// kill between its renames leaves no destination, and the old folder whole
// as .NAME.old-*.
//
// An error from the last fsync of the folder, after the new version is in
// place, is returned with the new version left in place.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Options adjusts WriteFile and Write.
type Options struct {
	// Perm is the new file's permission bits. Zero keeps those of the file
	// being replaced, or 0o644 for a new file.
	Perm fs.FileMode
	// BeforeRename, when not nil, runs after the new content is safely on
	// disk, just before it replaces the file: a last check that the file
	// may still be replaced. An error from it cancels the write.
	BeforeRename func() error
}

// WriteFile replaces path with data atomically (see the package comment).
// A symbolic link is followed: its target is replaced.
func WriteFile(path string, data []byte, opts Options) error {
	return writer{}.write(path, opts, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile for output produced by a function, such as a large
// image: fill writes the content to w (buffered), and an error from it
// cancels the write and leaves path as it was.
func Write(path string, opts Options, fill func(w io.Writer) error) error {
	return writer{}.write(path, opts, fill)
}

// ReplaceDir makes dest a complete new folder: fill writes the new folder's
// content into dir, an empty folder next to dest; then dir replaces dest
// (which need not exist). If fill or any later step up to the swap fails,
// dest is as it was and the new folder is removed. The new folder gets the old one's
// permission bits, or 0o755.
func ReplaceDir(dest string, fill func(dir string) error) error {
	return writer{}.replaceDir(dest, fill)
}

// ReplaceDirUsing is ReplaceDir with every move of a folder done by rename
// (as two renames: the old folder aside, the new one in, never an atomic
// exchange), so that a caller's tests can make one of them fail.
func ReplaceDirUsing(dest string, fill func(dir string) error, rename func(from, to string) error) error {
	return writer{rename: rename, exchange: func(a, b string) error { return errNoExchange }}.replaceDir(dest, fill)
}

// writer holds the operations that tests replace to inject failures and
// crashes; the zero value is the real file system.
type writer struct {
	// hook runs after each named step; an error from it fails the call
	// at that step.
	hook func(step string) error
	// rename and exchange replace os.Rename and exchange when not nil.
	rename   func(from, to string) error
	exchange func(a, b string) error
}

// Steps passed to writer.hook.
const (
	stepTempWritten = "temp-written" // file content written, not yet synced
	stepTempSynced  = "temp-synced"  // file content fsynced, before the rename
	stepRenamed     = "renamed"      // the new file or folder is in place
	stepDirFilled   = "dir-filled"   // new folder written and fsynced
	stepExchanged   = "exchanged"    // new folder swapped in, old one not yet removed
	stepOldMoved    = "old-moved"    // fallback: old folder moved aside
)

func (w writer) step(name string) error {
	if w.hook == nil {
		return nil
	}
	if err := w.hook(name); err != nil {
		return fmt.Errorf("step %s: %w", name, err)
	}
	return nil
}

func (w writer) doRename(from, to string) error {
	if w.rename != nil {
		return w.rename(from, to)
	}
	return os.Rename(from, to)
}

func (w writer) doExchange(a, b string) error {
	if w.exchange != nil {
		return w.exchange(a, b)
	}
	return exchange(a, b)
}

// errNoExchange reports that the system cannot swap two paths atomically.
var errNoExchange = errors.New("atomic exchange not supported")

func (w writer) write(path string, opts Options, fill func(io.Writer) error) (err error) {
	if path == "" {
		return errors.New("write: no file name")
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	perm := opts.Perm
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.Mode().IsRegular():
		return fmt.Errorf("write %s: not a regular file", path)
	case err == nil && perm == 0:
		perm = st.Mode().Perm()
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("write %s: %w", path, err)
	}
	if perm == 0 {
		perm = 0o644
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err = fill(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = w.step(stepTempWritten); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = w.step(stepTempSynced); err != nil {
		return err
	}
	if opts.BeforeRename != nil {
		if err = opts.BeforeRename(); err != nil {
			return err
		}
	}
	if err = w.doRename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.step(stepRenamed); err != nil {
		return err
	}
	return syncDir(dir)
}

func (w writer) replaceDir(dest string, fill func(dir string) error) (err error) {
	if dest == "" {
		return errors.New("replace folder: no folder name")
	}
	dest = filepath.Clean(dest)
	parent, base := filepath.Split(dest)
	if parent == "" {
		parent = "."
	}
	perm := fs.FileMode(0o755)
	st, err := os.Lstat(dest)
	exists := err == nil
	switch {
	case exists && !st.IsDir():
		return fmt.Errorf("replace %s: not a folder", dest)
	case exists:
		perm = st.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("replace %s: %w", dest, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".new-*")
	if err != nil {
		return fmt.Errorf("replace %s: %w", dest, err)
	}
	// Until the new folder is in place, tmp is the new folder; after an
	// exchange it is the old one. Either way it goes on error.
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = os.Chmod(tmp, perm); err != nil {
		return fmt.Errorf("replace %s: %w", dest, err)
	}
	if err = fill(tmp); err != nil {
		return err
	}
	if err = syncTree(tmp); err != nil {
		return fmt.Errorf("replace %s: %w", dest, err)
	}
	if err = w.step(stepDirFilled); err != nil {
		return err
	}
	if !exists {
		if err = w.doRename(tmp, dest); err != nil {
			return fmt.Errorf("replace %s: %w", dest, err)
		}
		if err = w.step(stepRenamed); err != nil {
			// back to no folder, as before the call
			if rerr := w.doRename(dest, tmp); rerr != nil {
				return fmt.Errorf("replace %s: %w; removing the new folder failed: %v", dest, err, rerr)
			}
			return err
		}
		return syncDir(parent)
	}
	switch xerr := w.doExchange(tmp, dest); {
	case xerr == nil:
		// tmp now holds the old folder
		if err = w.step(stepExchanged); err != nil {
			// put the old folder back, as for any failed step
			if xerr := w.doExchange(tmp, dest); xerr != nil {
				return fmt.Errorf("replace %s: %w; restoring the old folder failed: %v (it is at %s)", dest, err, xerr, tmp)
			}
			return err
		}
		if err = syncDir(parent); err != nil {
			return err
		}
		os.RemoveAll(tmp) // the old folder; best effort, the new one is in place
		return nil
	case !errors.Is(xerr, errNoExchange):
		return fmt.Errorf("replace %s: %w", dest, xerr)
	}
	return w.replaceByRenames(dest, tmp)
}

// replaceByRenames moves dest aside and tmp into its place, moving the old
// folder back when the second rename fails.
func (w writer) replaceByRenames(dest, tmp string) (err error) {
	parent, base := filepath.Split(dest)
	if parent == "" {
		parent = "."
	}
	// reserve a unique name for the old folder, then free it for the rename
	old, err := os.MkdirTemp(parent, "."+base+".old-*")
	if err != nil {
		return fmt.Errorf("replace %s: %w", dest, err)
	}
	if err = os.Remove(old); err != nil {
		return fmt.Errorf("replace %s: %w", dest, err)
	}
	if err = w.doRename(dest, old); err != nil {
		return fmt.Errorf("replace %s: move the old folder aside: %w", dest, err)
	}
	restore := func(cause error) error {
		if rerr := w.doRename(old, dest); rerr != nil {
			return fmt.Errorf("replace %s: %w; restoring the old folder failed: %v (it is at %s)", dest, cause, rerr, old)
		}
		return cause
	}
	if err = w.step(stepOldMoved); err != nil {
		return restore(err)
	}
	if err = w.doRename(tmp, dest); err != nil {
		return restore(fmt.Errorf("replace %s: %w", dest, err))
	}
	if err = w.step(stepRenamed); err != nil {
		// the new folder is in place: take it out again, the old one back
		if rerr := w.doRename(dest, tmp); rerr != nil {
			return fmt.Errorf("replace %s: %w; removing the new folder failed: %v", dest, err, rerr)
		}
		return restore(err)
	}
	if err = syncDir(parent); err != nil {
		return err
	}
	os.RemoveAll(old) // best effort, the new folder is in place
	return nil
}

// syncTree fsyncs every file and folder under root (fill may have written
// them with plain os.WriteFile).
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", p, err)
		}
		return nil
	})
}

// syncDir fsyncs a folder so that a rename in it is on disk. Windows cannot
// sync a folder; it is skipped there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
