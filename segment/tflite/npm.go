package tflite

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// HolisticVersion is the npm version of @mediapipe/holistic that
// scripts/setup.sh fetches (sha256-checked) and the tests use.
const HolisticVersion = "0.5.1675471629"

// HolisticDir is where scripts/setup.sh unpacks the package, relative to the
// repository root; the npm files are in its package/ folder.
const HolisticDir = "lib/mediapipe/holistic-" + HolisticVersion + "/package"

// Packed asset files of the holistic solution.
const (
	packedData   = "holistic_solution_packed_assets.data"
	packedLoader = "holistic_solution_packed_assets_loader.js"
)

// Package is an unpacked MediaPipe solution npm package (the package/ folder
// of @mediapipe/holistic, /pose or /hands). Some models are plain files in
// it; the others are byte ranges of the packed .data file, listed in the
// loader script.
type Package struct {
	Dir    string
	packed map[string][2]int64 // base name → [start, end) in packedData
}

// loaderEntry matches one file of the loader's "files" list.
var loaderEntry = regexp.MustCompile(`\{"filename":\s*"([^"]+)",\s*"start":\s*(\d+),\s*"end":\s*(\d+)\}`)

// OpenPackage reads the loader's file list from dir (the package/ folder).
// A package without packed assets (no loader script) has only plain files.
func OpenPackage(dir string) (*Package, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("MediaPipe package %s: %w (run `make setup`)", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("MediaPipe package %s is not a folder", dir)
	}
	p := &Package{Dir: dir, packed: map[string][2]int64{}}
	js, err := os.ReadFile(filepath.Join(dir, packedLoader))
	if os.IsNotExist(err) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("MediaPipe package %s: %w", dir, err)
	}
	for _, m := range loaderEntry.FindAllStringSubmatch(string(js), -1) {
		start, err1 := strconv.ParseInt(m[2], 10, 64)
		end, err2 := strconv.ParseInt(m[3], 10, 64)
		if err1 != nil || err2 != nil || end < start {
			return nil, fmt.Errorf("%s: bad byte range %s..%s for %s", filepath.Join(dir, packedLoader), m[2], m[3], m[1])
		}
		p.packed[path.Base(m[1])] = [2]int64{start, end}
	}
	if len(p.packed) == 0 {
		return nil, fmt.Errorf("%s lists no packed files; is it a MediaPipe solution loader?", filepath.Join(dir, packedLoader))
	}
	return p, nil
}

// Models lists the .tflite models in the package, plain and packed, sorted.
func (p *Package) Models() ([]string, error) {
	set := map[string]bool{}
	for n := range p.packed {
		if filepath.Ext(n) == ".tflite" {
			set[n] = true
		}
	}
	ents, err := os.ReadDir(p.Dir)
	if err != nil {
		return nil, fmt.Errorf("MediaPipe package %s: %w", p.Dir, err)
	}
	for _, e := range ents {
		if !e.IsDir() && filepath.Ext(e.Name()) == ".tflite" {
			set[e.Name()] = true
		}
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Read returns the bytes of a file of the package by base name, e.g.
// "pose_landmark_full.tflite" (plain) or "hand_recrop.tflite" (packed).
func (p *Package) Read(name string) ([]byte, error) {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("MediaPipe package file name %q must be a base name", name)
	}
	plain := filepath.Join(p.Dir, name)
	if b, err := os.ReadFile(plain); err == nil {
		return b, nil
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("read %s: %w", plain, err)
	}
	r, ok := p.packed[name]
	if !ok {
		return nil, fmt.Errorf("%s is neither a file in %s nor listed in its %s", name, p.Dir, packedLoader)
	}
	dataPath := filepath.Join(p.Dir, packedData)
	f, err := os.Open(dataPath)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dataPath, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", dataPath, err)
	}
	if r[1] > st.Size() {
		return nil, fmt.Errorf("%s: %s needs bytes [%d, %d) but the file has %d; fetch the package again (make setup)", dataPath, name, r[0], r[1], st.Size())
	}
	b := make([]byte, r[1]-r[0])
	if _, err := f.ReadAt(b, r[0]); err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", name, dataPath, err)
	}
	return b, nil
}
