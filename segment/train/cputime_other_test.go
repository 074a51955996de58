//go:build !unix

package train

// cpuSeconds is unavailable here; the CPU metric then reads 0.
func cpuSeconds() float64 { return 0 }
