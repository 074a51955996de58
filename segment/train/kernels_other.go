//go:build !amd64

package train

var useAVX2 = false

func kern4x16(k int, a *float32, b *float32, ldb int, c *float32, ldc int) {
	panic("kern4x16 needs amd64")
}

func kernDot4x2(n int, d *float32, ldd int, x *float32, ldx int, out *float32) {
	panic("kernDot4x2 needs amd64")
}
