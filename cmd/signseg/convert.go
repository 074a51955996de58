package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

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
			"any other op stops the conversion with an error naming it.",
		Action:       modelConvert,
		OnUsageError: usage,
	}
}

func modelConvert(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("model convert: want IN.tflite OUT.onnx, got %d arguments", c.NArg())
	}
	in, out := c.Args().Get(0), c.Args().Get(1)
	data, err := os.ReadFile(in)
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
	if err := writeFileAtomic(out, onnx); err != nil {
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

// writeFileAtomic writes data to a temporary file next to path, syncs it
// and renames it over path, so a reader never sees a partial model.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	// Make the rename durable; not every platform can sync a folder.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
