package eaf

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// MediaDirs finds media files that moved into other folders: archived EAF
// files link paths on the annotator's old machine (file:///U:/corpus/2019/
// s12/session.mp4), while the videos now live in a separate media tree. A
// file under one of the folders matches when its path (relative to the
// folder) ends in the linked path's trailing components; the longest match
// wins (2019/s12/session.mp4 before s12/session.mp4 before session.mp4),
// and two files matching equally well are an *AmbiguousError, never a
// guess.
//
// Each folder is walked once, on first use, and the result is shared: one
// MediaDirs serves a whole batch. It is safe for concurrent use.
type MediaDirs struct {
	dirs  []string
	once  sync.Once
	files map[string][]mediaFile // by file name
	err   error
}

// mediaFile is a file under one of the folders.
type mediaFile struct {
	path string   // the path on disk
	rel  []string // its components relative to the folder
}

// NewMediaDirs returns a search of dirs, in that order. Nothing is read
// until the first lookup.
func NewMediaDirs(dirs ...string) *MediaDirs {
	return &MediaDirs{dirs: append([]string(nil), dirs...)}
}

// Dirs returns the folders searched.
func (m *MediaDirs) Dirs() []string {
	if m == nil {
		return nil
	}
	return append([]string(nil), m.dirs...)
}

// AmbiguousError reports that several files under the media folders match
// a linked path equally well.
type AmbiguousError struct {
	File   string   // the EAF file
	Linked string   // the linked path
	Suffix string   // the trailing components the files share with it
	Paths  []string // the files, sorted
}

// Error names the files.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s: linked media %q: %d files in the media folders end in %s equally well: %s; pass the video itself, or a media folder that holds only the right one",
		e.File, e.Linked, len(e.Paths), e.Suffix, strings.Join(e.Paths, " and "))
}

// index walks the folders once.
func (m *MediaDirs) index() error {
	m.once.Do(func() {
		m.files = map[string][]mediaFile{}
		for _, dir := range m.dirs {
			st, err := os.Stat(dir)
			if err != nil {
				m.err = fmt.Errorf("media folder %s: %w", dir, err)
				return
			}
			if !st.IsDir() {
				m.err = fmt.Errorf("media folder %s: not a folder", dir)
				return
			}
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					// An unreadable subfolder hides only its own files.
					if d != nil && d.IsDir() && p != dir {
						return fs.SkipDir
					}
					return nil
				}
				if d.IsDir() {
					return nil
				}
				if !d.Type().IsRegular() {
					// A link to a file counts; links to folders are not
					// followed (they may loop).
					if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
						return nil
					}
				}
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					return nil
				}
				f := mediaFile{path: p, rel: strings.Split(filepath.ToSlash(rel), "/")}
				m.files[d.Name()] = append(m.files[d.Name()], f)
				return nil
			})
		}
	})
	return m.err
}

// find returns the file that matches one of the linked paths (slash-
// separated) by the most trailing components, "" when none shares even the
// file name, or an *AmbiguousError (File unset) when the best match is not
// unique.
func (m *MediaDirs) find(linked []string) (string, error) {
	if m == nil || len(m.dirs) == 0 {
		return "", nil
	}
	if err := m.index(); err != nil {
		return "", err
	}
	best, bestLinked := 0, ""
	var found []string
	for _, l := range linked {
		lc := trailingComponents(l)
		if len(lc) == 0 {
			continue
		}
		for _, f := range m.files[lc[len(lc)-1]] {
			n := sharedSuffix(f.rel, lc)
			switch {
			case n > best:
				best, bestLinked, found = n, l, []string{f.path}
			case n == best && n > 0:
				found = appendNew(found, f.path)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	lc := trailingComponents(bestLinked)
	return "", &AmbiguousError{Linked: bestLinked, Suffix: strings.Join(lc[len(lc)-best:], "/"), Paths: found}
}

// trailingComponents splits a slash path into the components after the
// last "." or ".." (which say nothing about where the file lies now).
func trailingComponents(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "":
		case ".", "..":
			out = out[:0]
		default:
			out = append(out, c)
		}
	}
	return out
}

// sharedSuffix counts the trailing components a and b have in common.
func sharedSuffix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[len(a)-1-n] == b[len(b)-1-n] {
		n++
	}
	return n
}
