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

	"github.com/signseg/signseg/internal/ortsession"
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
	// OutputBIO is log-probabilities of the tags O, B, I per frame, shape
	// [1,T,3], for signs (and sentences: Temporal.SentenceOutput), from
	// keypoints prepared as Temporal.Normalize says; decoded by DecoderBIO.
	OutputBIO = "bio_log_probabilities"
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
	Decoding Decoding      `json:"decoding"`
}

// FeatureSpec describes how features are computed from frames. Kind names
// the way (FeaturesClip when empty); the fields after Kind are common to
// every kind, the rest belong to the kinds that name them.
type FeatureSpec struct {
	Kind       string           `json:"kind,omitempty"`
	Dim        int              `json:"dim"`        // feature size (1024 for I3D)
	Offset     int              `json:"offset"`     // feature i belongs to frame i+Offset (8 for I3D)
	Preprocess media.Preprocess `json:"preprocess"` // frame rate, size and normalisation of the frames

	// The clip model (FeaturesClip): an ONNX graph that maps a batch of
	// clips [N, C, ClipLength, H, W] to features [N, Dim].
	File       string `json:"file,omitempty"`    // ONNX file in the model folder
	Builtin    string `json:"builtin,omitempty"` // or a graph built by signseg, e.g. "motion"
	Input      string `json:"input"`
	Output     string `json:"output"`
	Layout     string `json:"layout"`      // only "NCTHW"
	ClipLength int    `json:"clip_length"` // frames per clip (16 for I3D)
	Stride     int    `json:"stride"`      // only 1: the paper's features are per frame
	BatchSize  int    `json:"batch_size"`  // default clips per ONNX call

	// Keypoints (FeaturesKeypoints): MediaPipe Holistic on every frame of
	// the video at its own size, at Preprocess.FrameRate (absent: the
	// video's own rate).
	PoseModel string `json:"pose_model,omitempty"` // "lite", "full" (default) or "heavy"
}

// GivesSentences reports whether the model finds sentences (phrases) as
// well as signs (Result.Sentences).
func (m *Manifest) GivesSentences() bool {
	return m.Temporal != nil && m.Temporal.OutputKind == OutputBIO && m.Temporal.SentenceOutput != ""
}

// FPS returns the frame rate the model works at.
func (m *Manifest) FPS() float64 { return m.Features.Preprocess.FrameRate.Float64() }

// TemporalSpec describes the temporal model: features [1, Dim, T] in, a
// boundary probability per feature frame out; or, for OutputBIO, prepared
// keypoints [1, T, 225] in and BIO tags out.
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
	ReceptiveField int `json:"receptive_field,omitempty"`
	// SentenceOutput names the sentence tags' output (OutputBIO; "" for a
	// model without sentences).
	SentenceOutput string `json:"sentence_output,omitempty"`
	// Normalize is how keypoints are prepared for an OutputBIO model
	// (NormalizeShoulders2023).
	Normalize string `json:"normalize,omitempty"`
}

// Model is a loaded model: its manifest and ONNX bytes, validated.
type Model struct {
	Manifest
	Dir         string // folder it came from; "" for a built-in model
	Builtin     bool
	newFeatures newExtractorFunc
	temporal    []byte // the temporal model's ONNX graph, if any
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
	nf := &ModelNotFoundError{Name: ref, Dir: modelsDir}
	for _, mi := range ListModels(modelsDir) {
		nf.Available = append(nf.Available, mi.Name)
	}
	return nil, nf
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
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if m.Name == "" {
		add("name is empty")
	}
	f := &m.Features
	if kind, err := lookupFeatureKind(f.Kind); err != nil {
		errs = append(errs, err)
	} else if err := kind.check(*f); err != nil {
		errs = append(errs, err)
	}
	if f.Dim < 1 {
		add("features.dim must be ≥ 1")
	}
	if t := m.Temporal; t != nil {
		if t.File == "" || t.Input == "" || t.Output == "" {
			add("temporal: file, input and output must be given")
		}
		switch t.OutputKind {
		case OutputProbability, OutputLogits:
			if t.BoundaryClass < 0 {
				add("temporal.boundary_class must be ≥ 0")
			}
			if t.ReceptiveField < 1 {
				add("temporal.receptive_field must be ≥ 1 (frames one output depends on)")
			}
		case OutputBIO:
			if t.Normalize != NormalizeShoulders2023 {
				add("temporal.normalize %q must be %q", t.Normalize, NormalizeShoulders2023)
			}
		default:
			add("temporal.output_kind %q must be %q, %q or %q", t.OutputKind, OutputProbability, OutputLogits, OutputBIO)
		}
	}
	if err := m.Decoding.check(m); err != nil {
		add("decoding: %v", err)
	}
	if len(errs) > 0 {
		return errors.New(strings.ReplaceAll(errors.Join(errs...).Error(), "\n", "; "))
	}
	return nil
}

// open reads and verifies the model's files in dir ("" for a built-in
// model).
func (m *Model) open(dir string) error {
	kind, err := lookupFeatureKind(m.Features.Kind)
	if err != nil {
		return err
	}
	if m.newFeatures, err = kind.open(m.Features, dir); err != nil {
		return err
	}
	t := m.Temporal
	if t == nil {
		return nil
	}
	if m.temporal, err = os.ReadFile(filepath.Join(dir, t.File)); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	in, out := []int64{1, int64(m.Features.Dim), ortsession.DimDynamic}, []int64{1, ortsession.DimDynamic}
	switch t.OutputKind {
	case OutputLogits:
		out = []int64{1, ortsession.DimAny, ortsession.DimDynamic}
	case OutputBIO:
		in, out = []int64{1, ortsession.DimDynamic, kpPoints * 3}, []int64{1, ortsession.DimDynamic, 3}
		if t.SentenceOutput != "" {
			if err := ortsession.CheckIO("temporal", m.temporal, t.Input, t.SentenceOutput, in, out); err != nil {
				return err
			}
		}
	}
	return ortsession.CheckIO("temporal", m.temporal, t.Input, t.Output, in, out)
}

func loadDir(dir string) (*Model, error) {
	man, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Manifest: man, Dir: dir}
	if err := m.open(dir); err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	return m, nil
}
