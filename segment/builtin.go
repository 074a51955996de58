package segment

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
)

// DefaultModel is the model used when none is named: the training-free
// hands rule on MediaPipe Holistic keypoints, which needs no trained
// segmenter (only the MediaPipe models that make setup fetches). On real
// signing it finds signs where the motion baseline does not (README).
const DefaultModel = "hands"

//go:embed builtin/*.json
var builtinFS embed.FS

// builtinNames lists the embedded manifests' names.
func builtinNames() []string {
	entries, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

func builtinManifest(name string) (Manifest, bool) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".json"))
	if err != nil {
		return Manifest{}, false
	}
	m, err := parseManifest("built-in "+name, data)
	if err != nil {
		// The embedded manifests are checked by tests; this cannot happen
		// in a released binary.
		panic(err)
	}
	return m, true
}

func loadBuiltin(name string) (*Model, error) {
	man, _ := builtinManifest(name)
	m := &Model{Manifest: man, Builtin: true}
	if err := m.open(""); err != nil {
		return nil, fmt.Errorf("built-in model %s: %w", name, err)
	}
	return m, nil
}
