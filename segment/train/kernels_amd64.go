package train

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernels (AVX2 and FMA, x86-64 since 2013).
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kern4x16(k int, a *float32, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func kernDot4x2(n int, d *float32, ldd int, x *float32, ldx int, out *float32)
