package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/signseg/signseg/media"
)

// ManifestFile is the name of a model's manifest inside its folder.
const ManifestFile = "model.json"

// Output kinds of a temporal model.
const (
	// OutputProbability is a boundary probability per frame, shape [1,T].
	OutputProbability = "boundary_probability"
	// OutputLogits is per-class logits, shape [1,C,T]; the boundary
	// probability is the softmax over C at Temporal.BoundaryClass.
	OutputLogits = "class_logits"
)

// Decoder names.
const (
	DecoderThreshold   = "threshold"   // threshold the temporal model's boundary probability
	DecoderChangepoint = "changepoint" // PELT changepoints on the clip features
)

// Manifest describes a model package; it is stored as model.json.
type Manifest struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Provenance   string `json:"provenance"`              // where the weights come from
	License      string `json:"license"`                 // terms of the weights
	TrainingFree bool   `json:"training_free,omitempty"` // a baseline with fixed, untrained weights

	Features FeatureSpec   `json:"features"`
	Temporal *TemporalSpec `json:"temporal,omitempty"` // nil: decode features by changepoints
	Decoding DecodeConfig  `json:"decoding"`
}

// FeatureSpec describes the clip model: an ONNX graph that maps a batch of
// clips [N, C, ClipLength, H, W] to features [N, Dim].
type FeatureSpec struct {
	File       string           `json:"file,omitempty"`    // ONNX file in the model folder
	Builtin    string           `json:"builtin,omitempty"` // or a graph built by signseg, e.g. "motion"
	Input      string           `json:"input"`
	Output     string           `json:"output"`
	Layout     string           `json:"layout"`      // only "NCTHW"
	ClipLength int              `json:"clip_length"` // frames per clip (16 for I3D)
	Stride     int              `json:"stride"`      // only 1: the paper's features are per frame
	Offset     int              `json:"offset"`      // feature i belongs to frame i+Offset (8 for I3D)
	Dim        int              `json:"dim"`         // feature size (1024 for I3D)
	BatchSize  int              `json:"batch_size"`  // default clips per ONNX call
	Preprocess media.Preprocess `json:"preprocess"`  // frame rate, size and normalisation of the frames
}

// FPS returns the frame rate the model works at.
func (m *Manifest) FPS() float64 { return m.Features.Preprocess.FrameRate.Float64() }

// TemporalSpec describes the temporal model: features [1, Dim, T] in, a
// boundary probability per feature frame out.
type TemporalSpec struct {
	File          string `json:"file"`
	Input         string `json:"input"`
	Output        string `json:"output"`
	OutputKind    string `json:"output_kind"`              // OutputProbability or OutputLogits
	BoundaryClass int    `json:"boundary_class,omitempty"` // class index for OutputLogits
	// ReceptiveField is the number of input frames that one output frame
	// depends on, all stages together (4·2046+1 = 8185 for the paper's
	// MS-TCN). Long sequences are run in windows that overlap by half of it
	// on each side, which gives exactly the single-pass result.
	ReceptiveField int `json:"receptive_field"`
}

// Model is a loaded model: its manifest and ONNX bytes, validated.
type Model struct {
	Manifest
	Dir      string // folder it came from; "" for a built-in model
	Builtin  bool
	features []byte
	temporal []byte
}

// Source describes where the model came from, for reports.
func (m *Model) Source() string {
	if m.Builtin {
		return "built-in"
	}
	return m.Dir
}

// DefaultModelsDir returns the per-user models folder:
// $XDG_DATA_HOME/signseg/models or ~/.local/share/signseg/models on Linux,
// the user configuration folder elsewhere.
func DefaultModelsDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "signseg", "models")
	}
	if runtime.GOOS == "linux" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "share", "signseg", "models")
		}
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "signseg", "models")
	}
	return ""
}

// ModelInfo is one entry of ListModels.
type ModelInfo struct {
	Name        string
	Source      string // "built-in" or the folder
	Description string
	Err         error // the manifest could not be read
}

// ListModels lists the built-in models and those installed in modelsDir.
func ListModels(modelsDir string) []ModelInfo {
	var out []ModelInfo
	for _, name := range builtinNames() {
		m, _ := builtinManifest(name)
		out = append(out, ModelInfo{Name: name, Source: "built-in", Description: m.Description})
	}
	entries, err := os.ReadDir(modelsDir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		dir := filepath.Join(modelsDir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
			continue
		}
		man, err := readManifest(dir)
		info := ModelInfo{Name: e.Name(), Source: dir, Err: err}
		if err == nil {
			info.Description = man.Description
		}
		out = append(out, info)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Source == "built-in" && out[j].Source != "built-in" })
	return out
}

// LoadModel finds a model by path (a folder with model.json, or the manifest
// itself) or by name in modelsDir, then among the built-in models, reads
// its files and checks them against the manifest. ONNX Runtime must be
// initialised (internal/ortenv).
func LoadModel(ref, modelsDir string) (*Model, error) {
	if ref == "" {
		ref = DefaultModel
	}
	looksLikePath := strings.ContainsAny(ref, `/\`) || strings.HasSuffix(ref, ".json")
	if looksLikePath {
		dir := ref
		if strings.HasSuffix(ref, ".json") {
			dir = filepath.Dir(ref)
		}
		return loadDir(dir)
	}
	if modelsDir != "" {
		dir := filepath.Join(modelsDir, ref)
		if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
			return loadDir(dir)
		}
	}
	if _, ok := builtinManifest(ref); ok {
		return loadBuiltin(ref)
	}
	var names []string
	for _, mi := range ListModels(modelsDir) {
		names = append(names, mi.Name)
	}
	return nil, fmt.Errorf("model %q not found in %s or among the built-in models (available: %s); give a model folder path or install the model there", ref, modelsDir, strings.Join(names, ", "))
}

func readManifest(dir string) (Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("model %s: %w", dir, err)
	}
	return parseManifest(path, data)
}

func parseManifest(path string, data []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%s: not a valid model manifest: %w", path, err)
	}
	if err := m.check(); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// check validates the manifest's own fields (not the ONNX files).
func (m *Manifest) check() error {
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if m.Name == "" {
		add("name is empty")
	}
	f := &m.Features
	if (f.File == "") == (f.Builtin == "") {
		add("features: give exactly one of file and builtin")
	}
	if f.Layout != "NCTHW" || (f.Preprocess.Layout != "" && f.Preprocess.Layout != "chw") {
		add("features.layout %q is not supported (only NCTHW)", f.Layout)
	}
	if f.ClipLength < 1 {
		add("features.clip_length must be ≥ 1")
	}
	if f.Stride != 1 {
		add("features.stride %d is not supported (only 1: one feature per frame)", f.Stride)
	}
	if f.Offset < 0 || f.Offset >= max(f.ClipLength, 1) {
		add("features.offset %d must be in [0, clip_length)", f.Offset)
	}
	if f.Dim < 1 {
		add("features.dim must be ≥ 1")
	}
	if f.Input == "" || f.Output == "" {
		add("features.input and features.output must be named")
	}
	if err := f.Preprocess.Validate(); err != nil {
		add("features.preprocess: %v", err)
	}
	if t := m.Temporal; t != nil {
		if t.File == "" || t.Input == "" || t.Output == "" {
			add("temporal: file, input and output must be given")
		}
		switch t.OutputKind {
		case OutputProbability:
		case OutputLogits:
			if t.BoundaryClass < 0 {
				add("temporal.boundary_class must be ≥ 0")
			}
		default:
			add("temporal.output_kind %q must be %q or %q", t.OutputKind, OutputProbability, OutputLogits)
		}
		if t.ReceptiveField < 1 {
			add("temporal.receptive_field must be ≥ 1 (frames one output depends on)")
		}
	}
	if err := m.Decoding.check(m.Temporal != nil); err != nil {
		add("decoding: %v", err)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func loadDir(dir string) (*Model, error) {
	man, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Manifest: man, Dir: dir}
	if man.Features.Builtin != "" {
		if m.features, err = builtinFeatureGraph(man.Features); err != nil {
			return nil, fmt.Errorf("model %s: %w", dir, err)
		}
	} else if m.features, err = os.ReadFile(filepath.Join(dir, man.Features.File)); err != nil {
		return nil, fmt.Errorf("model %s: features: %w", dir, err)
	}
	if man.Temporal != nil {
		if m.temporal, err = os.ReadFile(filepath.Join(dir, man.Temporal.File)); err != nil {
			return nil, fmt.Errorf("model %s: temporal: %w", dir, err)
		}
	}
	if err := m.checkONNX(); err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	return m, nil
}

// checkONNX compares the ONNX graphs' declared inputs and outputs with the
// manifest, so that a mismatch fails at load time with a clear message
// instead of deep inside a run.
func (m *Model) checkONNX() error {
	f := m.Features
	pp := f.Preprocess
	w, h := pp.OutputSize()
	want := []int64{-1, int64(pp.Channels()), int64(f.ClipLength), int64(h), int64(w)}
	if err := checkIO("features", m.features, f.Input, f.Output, want, []int64{-1, int64(f.Dim)}); err != nil {
		return err
	}
	if t := m.Temporal; t != nil {
		out := []int64{1, -1}
		if t.OutputKind == OutputLogits {
			out = []int64{1, -2, -1} // -2: any class count, checked below
		}
		if err := checkIO("temporal", m.temporal, t.Input, t.Output, []int64{1, int64(f.Dim), -1}, out); err != nil {
			return err
		}
	}
	return nil
}

// checkIO checks that graph has a float input and output of the given names
// and shapes; -1 in want means a dynamic dimension is required (any named
// or -1 dimension, or any fixed size), -2 means any size.
func checkIO(what string, onnx []byte, in, out string, wantIn, wantOut []int64) error {
	ins, outs, err := ioInfo(onnx)
	if err != nil {
		return fmt.Errorf("%s: not a loadable ONNX graph: %w", what, err)
	}
	find := func(list []ort.InputOutputInfo, name, kind string, want []int64) error {
		var names []string
		for _, io := range list {
			names = append(names, io.Name)
			if io.Name != name {
				continue
			}
			if io.DataType != ort.TensorElementDataTypeFloat {
				return fmt.Errorf("%s %s %q has element type %v, want float32", what, kind, name, io.DataType)
			}
			dims := io.Dimensions
			if len(dims) != len(want) {
				return fmt.Errorf("%s %s %q has rank %d %v, want rank %d %v", what, kind, name, len(dims), dims, len(want), want)
			}
			for i, w := range want {
				if w >= 0 && dims[i] >= 0 && dims[i] != w {
					return fmt.Errorf("%s %s %q has dimension %d = %d, want %d (shape %v)", what, kind, name, i, dims[i], w, dims)
				}
			}
			return nil
		}
		return fmt.Errorf("%s graph has no %s named %q (it has %s)", what, kind, name, strings.Join(names, ", "))
	}
	if err := find(ins, in, "input", wantIn); err != nil {
		return err
	}
	return find(outs, out, "output", wantOut)
}
