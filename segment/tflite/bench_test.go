package tflite

import (
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// BenchmarkConvert times TFLite → ONNX conversion (parse, densify, weight
// re-layout, protobuf encoding) per model.
func BenchmarkConvert(b *testing.B) {
	for _, fm := range loadFixtures(b) {
		b.Run(fm.Model, func(b *testing.B) {
			data := readModel(b, fm.Model)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := Convert(data, fm.Model); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInference times one ONNX Runtime run of each converted model on
// its fixture crop with 2 intra-op threads (batch 1), for keypoint frames/s
// estimates.
func BenchmarkInference(b *testing.B) {
	fixtures := loadFixtures(b)
	initORT(b)
	for i := range fixtures {
		fm := &fixtures[i]
		b.Run(fm.Model, func(b *testing.B) {
			onnx, err := Convert(readModel(b, fm.Model), fm.Model)
			if err != nil {
				b.Fatal(err)
			}
			var outs []string
			for _, o := range fm.Outputs {
				outs = append(outs, o.Name)
			}
			s := session(b, onnx, []string{fm.Input.Name}, outs, 2)
			in, err := ort.NewTensor(ort.NewShape(fm.Input.Shape...), fixtureInput(b, fm))
			if err != nil {
				b.Fatal(err)
			}
			defer in.Destroy()
			b.ResetTimer()
			for b.Loop() {
				res := make([]ort.Value, len(outs))
				if err := s.Run([]ort.Value{in}, res); err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					r.Destroy()
				}
			}
		})
	}
}
