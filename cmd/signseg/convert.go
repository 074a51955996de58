package main

import (
	"fmt"
	"os"
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
	if err := tflite.WriteFileAtomic(out, onnx); err != nil {
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
