package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/checkpoint"
	"github.com/signseg/signseg/segment/onnxgraph"
)

// The 2023 pose segmenter of sign-language-processing/segmentation (MIT):
// where `model get slp-2023` fetches it, and its checksum.
const (
	slpName    = "slp-2023"
	slpURL     = "https://github.com/sign-language-processing/segmentation/raw/v2023.0.3/sign_language_segmentation/dist/model.pth"
	slpSHA256  = "aaa11da35f7b1520c0d9a32509fc954edccf34283ac3ffab2118025abd11b6af"
	slpFile    = "tagger.onnx"
	slpLicence = "MIT (sign-language-processing/segmentation, © the authors); trained on the Public DGS Corpus, whose terms apply to the data"
)

func modelGetCommand(usage cli.OnUsageErrorFunc, dirFlag cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "download a published model and install it (" + slpName + ": the 2023 pose segmenter)",
		ArgsUsage: slpName,
		Description: "Downloads sign_language_segmentation/dist/model.pth at tag v2023.0.3 of\n" +
			"github.com/sign-language-processing/segmentation, checks its SHA-256 and installs it as the\n" +
			"model " + slpName + " (signs and sentences from MediaPipe Holistic keypoints). Offline, download\n" +
			"that file yourself and give it with --from.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "install this copy of model.pth instead of downloading it"},
			&cli.StringFlag{Name: "url", Value: slpURL, Usage: "download from this address (a mirror)"},
			&cli.BoolFlag{Name: "force", Usage: "replace an installed model of the same name"},
			dirFlag,
		},
		Action:       modelGet,
		OnUsageError: usage,
	}
}

func modelGet(c *cli.Context) error {
	if c.NArg() != 1 || c.Args().First() != slpName {
		return usagef("model get: give the model to get: %s", slpName)
	}
	dir := modelCmdDir(c)
	if dir == "" {
		return usagef("model get: no models folder known; give --models-dir")
	}
	if _, err := os.Stat(filepath.Join(dir, slpName)); err == nil && !c.Bool("force") {
		return fmt.Errorf("model get: %s is installed in %s; add --force to replace it", slpName, dir)
	}
	src := c.String("from")
	if src == "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("model get: %w", err)
		}
		tmp, err := download(c.Context, c.String("url"), dir)
		if err != nil {
			return fmt.Errorf("model get: %w; download %s yourself and run `signseg model get %s --from model.pth`", err, slpURL, slpName)
		}
		defer os.Remove(tmp)
		src = tmp
	}
	sum, _, err := fileSHA256(src)
	if err != nil {
		return fmt.Errorf("model get: %w", err)
	}
	if sum != slpSHA256 {
		return fmt.Errorf("model get: %s has sha256 %s, not the published %s's %s: a different or damaged file; download it again", src, sum, slpName, slpSHA256)
	}
	return importSLP(c, src, slpName, dir, c.Bool("force"))
}

// download fetches url into a temporary file in dir and returns its path.
func download(ctx context.Context, url, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot download (is this machine online?): %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: %s", url, resp.Status)
	}
	f, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, io.LimitReader(resp.Body, 1<<30))
	if err := errors.Join(err, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	return f.Name(), nil
}

// importSLP installs the 2023 pose segmenter's TorchScript file at path as
// the model name in dir: its ONNX graph (a BiLSTM over 75 normalised
// Holistic points with BIO heads for signs and sentences) and a manifest
// that reads keypoints at 25 fps.
func importSLP(c *cli.Context, path, name, dir string, replace bool) error {
	if _, err := initRuntime(c); err != nil {
		return err
	}
	w, err := checkpoint.LoadSLP2023(path)
	if err != nil {
		return fmt.Errorf("--slp: %w", err)
	}
	sum, size, err := fileSHA256(path)
	if err != nil {
		return err
	}
	graph, err := onnxgraph.BuildPoseTagger(w, onnxgraph.PoseTaggerOptions{Metadata: map[string]string{
		"source_file": filepath.Base(path), "source_sha256": sum, "license": slpLicence}})
	if err != nil {
		return fmt.Errorf("--slp %s: %w", path, err)
	}
	known := ""
	if sum == slpSHA256 {
		known = " (the v2023.0.3 release)"
	}
	man := segment.Manifest{
		Name:        name,
		Description: "pose segmenter of sign-language-processing/segmentation 2023: signs and sentences from MediaPipe Holistic keypoints" + known,
		Provenance:  fmt.Sprintf("TorchScript %s (sha256 %s) converted by %s model import", filepath.Base(path), sum, programName),
		License:     slpLicence,
		Features: segment.FeatureSpec{Kind: segment.FeaturesKeypoints, Dim: segment.KeypointDim,
			Preprocess: media.Preprocess{FrameRate: media.Rational{Num: 25, Den: 1}}},
		Temporal: &segment.TemporalSpec{File: slpFile, Input: onnxgraph.PoseTaggerInput, Output: onnxgraph.PoseTaggerSign,
			SentenceOutput: onnxgraph.PoseTaggerSentence, OutputKind: segment.OutputBIO, Normalize: segment.NormalizeShoulders2023},
		Decoding: segment.Decoding{Decoder: new(segment.DecoderBIO)},
	}
	rec, err := json.MarshalIndent(importRecord{Tool: programName + " " + appVersion(), License: slpLicence,
		Sources: []importSource{{Role: "slp", File: filepath.Base(path), Size: size, SHA256: sum, Format: "torchscript"}}}, "", "  ")
	if err != nil {
		return err
	}
	dest, err := segment.WriteModel(dir, &man, map[string][]byte{slpFile: graph, importRecordFile: append(rec, '\n')}, replace)
	if err != nil {
		return fmt.Errorf("model import: %w", err)
	}
	if _, err := segment.LoadModel(dest, dir); err != nil {
		return fmt.Errorf("model import: the written model does not load (please report this): %w", err)
	}
	fmt.Fprintf(c.App.Writer, "installed model %q into %s (source sha256 %s%s)\n", name, dest, sum, known)
	fmt.Fprintf(c.App.Writer, "use it with:\n  %s video --model %s VIDEO.mp4   (writes signs and a sentence tier)\n", programName, name)
	return nil
}
