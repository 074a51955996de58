package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/checkpoint"
	"github.com/signseg/signseg/segment/decode"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// Files of an imported model package, next to segment.ManifestFile.
const (
	importFeaturesFile = "i3d.onnx"
	importTemporalFile = "mstcn.onnx"
	importRecordFile   = "import.json" // sources, hashes and licence note
)

// weightsLicence is recorded in every imported package: the authors' code is
// MIT, their weights are not (paper-pipeline §5).
const weightsLicence = "The weights come from the authors' models.zip (Renz et al. 2021), which is NOT covered by " +
	"their code's MIT licence: they are under the terms and conditions of the original datasets " +
	"(BSL Corpus, RWTH-PHOENIX-Weather 2014). Do not redistribute these weights or the ONNX files " +
	"derived from them; each user downloads models.zip and runs `signseg model import` locally."

// importRecord is import.json: what the package was made from.
type importRecord struct {
	Tool    string         `json:"tool"`
	Sources []importSource `json:"sources"`
	I3D     struct {
		Dim     int  `json:"feature_dim"`
		Classes int  `json:"classes"` // of the checkpoint's classifier, not used
		Folded  bool `json:"batchnorm_folded"`
	} `json:"i3d"`
	MSTCN   onnxgraph.MSTCNDims `json:"mstcn"`
	License string              `json:"license"`
}

// importSource is one checkpoint file.
type importSource struct {
	Role    string `json:"role"` // "i3d" or "mstcn"
	File    string `json:"file"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Format  string `json:"format"` // zip or legacy serialisation
	Tensors int    `json:"tensors"`
}

// validModelName keeps names usable as folder names everywhere.
var validModelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func modelCommand() *cli.Command {
	usage := func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
	dirFlag := &cli.StringFlag{Name: "models-dir", Usage: "folder of installed models (default: the global --models-dir, $SIGNSEG_MODELS, else the per-user models folder)"}
	return &cli.Command{
		Name:  "model",
		Usage: "import the authors' trained checkpoints, list and describe installed models",
		Subcommands: []*cli.Command{
			{
				Name:  "import",
				Usage: "turn the authors' I3D and MS-TCN PyTorch checkpoints into a signseg model (no Python needed)",
				Description: "Reads the I3D (.pth.tar) and MS-TCN (.model) checkpoints from the authors' models.zip,\n" +
					"writes them as ONNX graphs with a manifest into <models-dir>/NAME, and records the files'\n" +
					"SHA-256. Example:\n\n" +
					"  signseg model import --i3d models/i3d/i3d_kinetics_bslcp.pth.tar \\\n" +
					"      --mstcn models/ms-tcn/mstcn_bslcp_i3d_bslcp.model --name bslcp\n\n" +
					"The weights are under the datasets' terms: do not share the imported model.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "slp", Usage: "instead of --i3d and --mstcn: the 2023 pose segmenter's TorchScript model.pth (sign-language-processing/segmentation; see also `model get`)"},
					&cli.StringFlag{Name: "i3d", Usage: "I3D checkpoint (e.g. i3d_kinetics_bslcp.pth.tar)"},
					&cli.StringFlag{Name: "mstcn", Usage: "MS-TCN checkpoint (e.g. mstcn_bslcp_i3d_bslcp.model)"},
					&cli.StringFlag{Name: "name", Usage: "name of the new model (letters, digits, . _ -)"},
					&cli.Float64Flag{Name: "threshold", Value: 0.5, Usage: "boundary probability threshold recorded as the model's default"},
					&cli.BoolFlag{Name: "force", Usage: "replace an installed model of the same name"},
					dirFlag,
				},
				Action:       modelImport,
				OnUsageError: usage,
			},
			{
				Name:         "list",
				Usage:        "list the built-in and installed models",
				Flags:        []cli.Flag{dirFlag},
				Action:       modelList,
				OnUsageError: usage,
			},
			{
				Name:         "info",
				Usage:        "describe a model: files, inputs, decoding, and where its weights came from",
				ArgsUsage:    "NAME",
				Flags:        []cli.Flag{dirFlag},
				Action:       modelInfo,
				OnUsageError: usage,
			},
			modelConvertCommand(usage),
			modelGetCommand(usage, dirFlag),
		},
	}
}

// modelCmdDir is the subcommand's --models-dir, else the global one (or its
// environment variable), else the per-user default.
func modelCmdDir(c *cli.Context) string {
	for _, cc := range c.Lineage() {
		if d := cc.String("models-dir"); d != "" {
			return d
		}
	}
	return segment.DefaultModelsDir()
}

// fileSHA256 hashes a file and returns its size.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func modelImport(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("model import: unexpected argument %q; give the files with --i3d and --mstcn", c.Args().First())
	}
	if slp := c.String("slp"); slp != "" {
		if c.String("i3d") != "" || c.String("mstcn") != "" {
			return usagef("model import: give either --slp or --i3d and --mstcn")
		}
		name := c.String("name")
		if name == "" {
			name = slpName
		}
		if !validModelName.MatchString(name) {
			return usagef("model import: --name %q: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
		}
		return importSLP(c, slp, name, modelCmdDir(c), c.Bool("force"))
	}
	for _, f := range []string{"i3d", "mstcn", "name"} {
		if c.String(f) == "" {
			return usagef("model import: give --i3d FILE, --mstcn FILE and --name NAME (--%s is missing)", f)
		}
	}
	name := c.String("name")
	if !validModelName.MatchString(name) {
		return usagef("model import: --name %q: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	dir := modelCmdDir(c)
	for _, m := range segment.ListModels("") {
		if m.Name == name {
			return usagef("model import: --name %q is a built-in model; choose another name", name)
		}
	}
	if t := c.Float64("threshold"); !(t > 0 && t < 1) {
		return usagef("model import: --threshold %v: give a probability between 0 and 1", t)
	}
	if dir == "" {
		return usagef("model import: no models folder known; give --models-dir")
	}
	dest := filepath.Join(dir, name)
	if _, err := os.Stat(dest); err == nil && !c.Bool("force") {
		return fmt.Errorf("model import: %s already exists; choose another --name or add --force to replace it", dest)
	}
	if _, err := initRuntime(c); err != nil {
		return err
	}
	w := c.App.Writer

	i3dPath, mstcnPath := c.String("i3d"), c.String("mstcn")
	rec := importRecord{Tool: programName + " " + appVersion(), License: weightsLicence}
	i3dSD, err := checkpoint.Load(i3dPath)
	if err != nil {
		return fmt.Errorf("--i3d: %w", err)
	}
	i3dW, err := checkpoint.I3D(i3dSD)
	if err != nil {
		return fmt.Errorf("--i3d: %w", err)
	}
	mstcnSD, err := checkpoint.Load(mstcnPath)
	if err != nil {
		return fmt.Errorf("--mstcn: %w", err)
	}
	mstcnW, err := checkpoint.MSTCN(mstcnSD)
	if err != nil {
		return fmt.Errorf("--mstcn: %w", err)
	}
	dim, classes, err := i3dW.Dims()
	if err != nil {
		return fmt.Errorf("--i3d %s: %w", i3dPath, err)
	}
	d, err := mstcnW.Dims()
	if err != nil {
		return fmt.Errorf("--mstcn %s: %w", mstcnPath, err)
	}
	if d.D != dim {
		return fmt.Errorf("model import: the MS-TCN %s reads %d-d features but the I3D %s produces %d-d features; give an MS-TCN trained on this I3D's features", mstcnPath, d.D, i3dPath, dim)
	}
	if d.C < 2 {
		return fmt.Errorf("model import: the MS-TCN %s has %d output class; a boundary model needs 2 (0 = sign, 1 = boundary)", mstcnPath, d.C)
	}
	for _, s := range []struct {
		role, path string
		sd         *checkpoint.StateDict
	}{{"i3d", i3dPath, i3dSD}, {"mstcn", mstcnPath, mstcnSD}} {
		sum, size, err := fileSHA256(s.path)
		if err != nil {
			return fmt.Errorf("--%s: %w", s.role, err)
		}
		rec.Sources = append(rec.Sources, importSource{Role: s.role, File: filepath.Base(s.path), Size: size, SHA256: sum, Format: s.sd.Format, Tensors: len(s.sd.Names)})
	}
	rec.I3D.Dim, rec.I3D.Classes, rec.I3D.Folded = dim, classes, true
	rec.MSTCN = d

	features, err := onnxgraph.BuildI3D(i3dW, onnxgraph.I3DOptions{Metadata: map[string]string{
		"source_file": rec.Sources[0].File, "source_sha256": rec.Sources[0].SHA256, "license": weightsLicence}})
	if err != nil {
		return fmt.Errorf("--i3d %s: %w", i3dPath, err)
	}
	temporal, err := onnxgraph.BuildMSTCN(mstcnW, onnxgraph.MSTCNOptions{BoundaryClass: 1, Metadata: map[string]string{
		"source_file": rec.Sources[1].File, "source_sha256": rec.Sources[1].SHA256, "license": weightsLicence}})
	if err != nil {
		return fmt.Errorf("--mstcn %s: %w", mstcnPath, err)
	}
	man := segment.Manifest{
		Name: name,
		Description: fmt.Sprintf("I3D (%d-d features) + MS-TCN (%d stages × %d layers) imported from %s and %s",
			dim, d.S, d.L, rec.Sources[0].File, rec.Sources[1].File),
		Provenance: fmt.Sprintf("PyTorch checkpoints converted by %s model import: %s (sha256 %s), %s (sha256 %s)",
			programName, rec.Sources[0].File, rec.Sources[0].SHA256, rec.Sources[1].File, rec.Sources[1].SHA256),
		License: weightsLicence,
		Features: segment.FeatureSpec{
			File: importFeaturesFile, Input: onnxgraph.I3DInput, Output: onnxgraph.I3DFeatures, Layout: "NCTHW",
			ClipLength: onnxgraph.I3DFrames, Stride: 1, Offset: onnxgraph.I3DFrames / 2, Dim: dim, BatchSize: 4,
			Preprocess: media.PaperI3D(),
		},
		Temporal: &segment.TemporalSpec{
			File: importTemporalFile, Input: onnxgraph.MSTCNInput, Output: onnxgraph.MSTCNBoundary,
			OutputKind: segment.OutputProbability, ReceptiveField: d.ReceptiveField(),
		},
		Decoding: segment.Decoding{Decoder: new(segment.DecoderThreshold), Threshold: new(c.Float64("threshold")), Gaps: new(decode.GapsSplit)},
	}
	if err := writePackage(dir, c.Bool("force"), map[string][]byte{
		importFeaturesFile: features, importTemporalFile: temporal,
	}, &man, &rec); err != nil {
		return err
	}
	// Load it back the way the segment commands will: the manifest and the
	// graphs' inputs and outputs are checked against each other.
	if _, err := segment.LoadModel(dest, dir); err != nil {
		return fmt.Errorf("model import: the written model does not load (please report this): %w", err)
	}
	fmt.Fprintf(w, "imported model %q into %s\n", name, dest)
	fmt.Fprintf(w, "  features: %s, I3D, %d-d per frame (clips of 16 frames at 224×224, 25 fps)\n", importFeaturesFile, dim)
	fmt.Fprintf(w, "  temporal: %s, MS-TCN %d stages × %d layers, receptive field %d frames\n", importTemporalFile, d.S, d.L, d.ReceptiveField())
	for _, s := range rec.Sources {
		fmt.Fprintf(w, "  source:   %s (%s format, sha256 %s)\n", s.File, s.Format, s.SHA256)
	}
	prog := programName
	if dir != segment.DefaultModelsDir() && os.Getenv("SIGNSEG_MODELS") != dir {
		prog += " --models-dir " + dir
	}
	fmt.Fprintf(w, "use it with:\n  %s video --model %s VIDEO.mp4\n  %s segment --model %s FILE.eaf\n", prog, name, prog, name)
	fmt.Fprintf(w, "licence: the weights are under the datasets' terms; do not share this model folder.\n")
	return nil
}

// writePackage writes the imported model folder with its import record
// (segment.WriteModel: whole or not at all, an old model kept if anything
// fails).
func writePackage(dir string, replace bool, files map[string][]byte, man *segment.Manifest, rec *importRecord) error {
	recJSON, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	files[importRecordFile] = append(recJSON, '\n')
	if _, err := segment.WriteModel(dir, man, files, replace); err != nil {
		return fmt.Errorf("model import: %w", err)
	}
	return nil
}

func modelList(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("model list: takes no arguments")
	}
	dir := modelCmdDir(c)
	w := c.App.Writer
	for _, m := range segment.ListModels(dir) {
		if m.Err != nil {
			fmt.Fprintf(w, "%-16s %s  BROKEN: %v\n", m.Name, m.Source, m.Err)
			continue
		}
		fmt.Fprintf(w, "%-16s %s  %s\n", m.Name, m.Source, m.Description)
	}
	fmt.Fprintf(w, "(models folder: %s)\n", dir)
	return nil
}

func modelInfo(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("model info: give one model name or folder")
	}
	if _, err := initRuntime(c); err != nil {
		return err
	}
	m, err := segment.LoadModel(c.Args().First(), modelCmdDir(c))
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "name:        %s\n", m.Name)
	fmt.Fprintf(w, "source:      %s\n", m.Source())
	fmt.Fprintf(w, "description: %s\n", m.Description)
	fmt.Fprintf(w, "provenance:  %s\n", m.Provenance)
	fmt.Fprintf(w, "license:     %s\n", m.License)
	fmt.Fprintf(w, "features:    %s\n", m.Features)
	if t := m.Temporal; t != nil {
		fmt.Fprintf(w, "temporal:    %s: %s → %s (%s), receptive field %d frames\n", t.File, t.Input, t.Output, t.OutputKind, t.ReceptiveField)
	} else {
		fmt.Fprintf(w, "temporal:    none\n")
	}
	fmt.Fprintf(w, "decoding:    %s\n", m.Decoding)
	if m.Dir != "" {
		data, err := os.ReadFile(filepath.Join(m.Dir, importRecordFile))
		if err == nil {
			var rec importRecord
			if err := json.Unmarshal(data, &rec); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(m.Dir, importRecordFile), err)
			}
			fmt.Fprintf(w, "imported by: %s\n", rec.Tool)
			for _, s := range rec.Sources {
				fmt.Fprintf(w, "  %-6s %s, %d bytes, %s format, %d tensors, sha256 %s\n", s.Role, s.File, s.Size, s.Format, s.Tensors, s.SHA256)
			}
		}
	}
	return printTrainRecord(w, m.Dir)
}
