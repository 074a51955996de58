package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/atomicfile"
	"github.com/signseg/signseg/segment/tflite"
)

// modelConvertCommand is `signseg model convert IN.tflite OUT.onnx`.
func modelConvertCommand(usage cli.OnUsageErrorFunc) *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "convert a TensorFlow Lite model (e.g. MediaPipe's pose and hand models) into ONNX",
		ArgsUsage: "IN.tflite OUT.onnx",
		Description: "Writes an ONNX model with the TFLite model's input and output names, shapes and NHWC\n" +
			"layout, so both can be compared one to one. Supported ops: " + strings.Join(tflite.Supported, ", ") + ";\n" +
			"any other op stops the conversion with an error naming it.\n\n" +
			"Models packed into a MediaPipe npm package's .data file are read by their name in the\n" +
			"package folder, e.g. lib/mediapipe/holistic-" + tflite.HolisticVersion + "/package/hand_recrop.tflite.",
		Action:       modelConvert,
		OnUsageError: usage,
	}
}

func modelConvert(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("model convert: want IN.tflite OUT.onnx, got %d arguments", c.NArg())
	}
	in, out := c.Args().Get(0), c.Args().Get(1)
	data, err := readModelFile(in)
	if err != nil {
		return fmt.Errorf("model convert: %w", err)
	}
	m, err := tflite.Parse(data)
	if err != nil {
		return fmt.Errorf("model convert %s: %w; is it a .tflite file?", in, err)
	}
	onnx, err := tflite.ConvertModel(m, in)
	if err != nil {
		return fmt.Errorf("model convert: %w", err)
	}
	if err := atomicfile.WriteFile(out, onnx, atomicfile.Options{Perm: 0o644}); err != nil {
		return fmt.Errorf("model convert: %w", err)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "converted %s (%d ops) to %s (%d bytes)\n", in, len(m.Operators), out, len(onnx))
	for _, list := range []struct {
		what string
		idx  []int
	}{{"input", m.Inputs}, {"output", m.Outputs}} {
		for _, i := range list.idx {
			t := m.Tensors[i]
			fmt.Fprintf(w, "  %s %s %v\n", list.what, t.Name, t.Shape)
		}
	}
	return nil
}

// readModelFile reads a .tflite file, or a model packed in the MediaPipe
// package folder the path names (which has no such plain file).
func readModelFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	if _, lerr := os.Stat(filepath.Join(filepath.Dir(path), "holistic_solution_packed_assets_loader.js")); lerr != nil {
		return nil, err
	}
	pkg, perr := tflite.OpenPackage(filepath.Dir(path))
	if perr != nil {
		return nil, perr
	}
	return pkg.Read(filepath.Base(path))
}
