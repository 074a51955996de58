package tflite

import (
	"syscall"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// BenchmarkConvert times TFLite → ONNX conversion (parse, densify, weight
// re-layout, protobuf encoding) per model; cpu-ms/op is the process's CPU
// time per conversion (garbage collection included).
func BenchmarkConvert(b *testing.B) {
	for _, fm := range loadFixtures(b) {
		b.Run(fm.Model, func(b *testing.B) {
			data := readModel(b, fm.Model)
			b.SetBytes(int64(len(data)))
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Convert(data, fm.Model); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkInference times one ONNX Runtime run of each converted model on
// its fixture crop with 2 intra-op threads (batch 1), for keypoint frames/s
// estimates. Thread spinning is off, so the reported cpu-ms/op (user+system
// CPU time of the process per run) measures the work itself, which a busy
// shared machine inflates far less than the wall time.
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
			s := session(b, onnx, []string{fm.Input.Name}, outs, 2, noSpinning)
			in, err := ort.NewTensor(ort.NewShape(fm.Input.Shape...), fixtureInput(b, fm))
			if err != nil {
				b.Fatal(err)
			}
			defer in.Destroy()
			cpu0 := cpuTime(b)
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
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime returns the process's user+system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
