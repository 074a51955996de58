package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
)

// constant is a folded tensor value in TFLite (NHWC) order.
type constant struct {
	shape []int
	f32   []float32 // float tensors (float16 already widened)
	i32   []int64   // integer tensors (shapes, paddings, axes)
}

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// decodeDense reads a dense constant tensor's data.
func decodeDense(t *Tensor) (*constant, error) {
	n := numElements(t.Shape)
	c := &constant{shape: append([]int(nil), t.Shape...)}
	switch t.Type {
	case Float32:
		c.f32 = make([]float32, n)
		for i := range c.f32 {
			c.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case Float16:
		c.f32 = make([]float32, n)
		for i := range c.f32 {
			c.f32[i] = f16(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	case Int32:
		c.i32 = make([]int64, n)
		for i := range c.i32 {
			c.i32[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
	case Int64:
		c.i32 = make([]int64, n)
		for i := range c.i32 {
			c.i32[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
	default:
		return nil, fmt.Errorf("constant tensor %q of type %s is not supported", t.Name, t.Type)
	}
	return c, nil
}

// densify expands a sparse float constant (TFLite SparsityParameters, a
// variant of the TACO format) into a dense float32 tensor: the stored values
// are visited in traversal order; DENSE levels enumerate 0..dense_size-1,
// SPARSE_CSR levels enumerate indices[segments[p]:segments[p+1]] where p is
// the position reached in the level above. Block dimensions (n..n+k-1, mapped
// to original dimensions by block_map) refine the coordinate of their
// original dimension: coord = outer·block_size + inner.
func densify(t *Tensor) (*constant, error) {
	sp := t.Sparsity
	n := len(t.Shape)
	k := len(sp.BlockMap)
	levels := n + k
	bad := func(format string, args ...any) error {
		return fmt.Errorf("sparse tensor %q: "+format, append([]any{t.Name}, args...)...)
	}
	if len(sp.TraversalOrder) != levels || len(sp.Dims) != levels {
		return nil, bad("traversal order has %d entries and dim metadata %d, want %d", len(sp.TraversalOrder), len(sp.Dims), levels)
	}
	seen := make([]bool, levels)
	for _, d := range sp.TraversalOrder {
		if d < 0 || d >= levels || seen[d] {
			return nil, bad("traversal order %v is not a permutation", sp.TraversalOrder)
		}
		seen[d] = true
	}
	// blockSize[b] is the size of block dimension n+b (a dense level).
	blockSize := make([]int, k)
	for lvl, d := range sp.TraversalOrder {
		if d >= n {
			if sp.Dims[lvl].Sparse || sp.Dims[lvl].DenseSize <= 0 {
				return nil, bad("block dimension %d must be dense with a positive size", d)
			}
			blockSize[d-n] = sp.Dims[lvl].DenseSize
		}
	}
	for b, od := range sp.BlockMap {
		if od < 0 || od >= n {
			return nil, bad("block map %v refers to dimension %d of %d", sp.BlockMap, od, n)
		}
		if t.Shape[od]%blockSize[b] != 0 {
			return nil, bad("dimension %d (%d) is not a multiple of its block size %d", od, t.Shape[od], blockSize[b])
		}
	}
	es := t.Type.size()
	if t.Type != Float32 && t.Type != Float16 {
		return nil, bad("type %s, only FLOAT32 and FLOAT16 sparse tensors are supported", t.Type)
	}
	nvals := len(t.Data) / es
	total := numElements(t.Shape)
	// A tiny file must not make the converter allocate a huge tensor.
	if total > 1<<20 && total/64 > nvals {
		return nil, bad("%d stored values for %d elements is implausibly sparse", nvals, total)
	}
	// Dense levels are walked exhaustively: bound their product so a corrupt
	// file cannot make the walk run for ever.
	prod := 1
	for _, md := range sp.Dims {
		if !md.Sparse {
			if md.DenseSize <= 0 || prod > total/md.DenseSize {
				return nil, bad("dense level sizes exceed the tensor's %d elements", total)
			}
			prod *= md.DenseSize
		}
	}
	out := make([]float32, total)
	strides := make([]int, n)
	s := 1
	for d := n - 1; d >= 0; d-- {
		strides[d] = s
		s *= t.Shape[d]
	}
	read := func(i int) float32 {
		if es == 2 {
			return f16(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	coord := make([]int, levels) // by dimension (0..n+k-1), not by level
	next := 0
	var walk func(lvl, pos int) error
	walk = func(lvl, pos int) error {
		if lvl == levels {
			if next >= nvals {
				return bad("more non-zero positions than the %d stored values", nvals)
			}
			flat := 0
			for d := 0; d < n; d++ {
				c := coord[d]
				for b, od := range sp.BlockMap {
					if od == d {
						c = c*blockSize[b] + coord[n+b]
					}
				}
				if c < 0 || c >= t.Shape[d] {
					return bad("coordinate %d outside dimension %d of size %d", c, d, t.Shape[d])
				}
				flat += c * strides[d]
			}
			out[flat] = read(next)
			next++
			return nil
		}
		dim := sp.TraversalOrder[lvl]
		md := sp.Dims[lvl]
		if !md.Sparse {
			if md.DenseSize <= 0 || md.DenseSize > total {
				return bad("dense level %d has size %d", lvl, md.DenseSize)
			}
			for i := 0; i < md.DenseSize; i++ {
				coord[dim] = i
				if err := walk(lvl+1, pos*md.DenseSize+i); err != nil {
					return err
				}
			}
			return nil
		}
		if pos+1 >= len(md.Segments) {
			return bad("level %d: segment %d of %d", lvl, pos, len(md.Segments)-1)
		}
		lo, hi := md.Segments[pos], md.Segments[pos+1]
		if lo < 0 || hi < lo || hi > len(md.Indices) {
			return bad("level %d: segment [%d, %d) outside %d indices", lvl, lo, hi, len(md.Indices))
		}
		for j := lo; j < hi; j++ {
			coord[dim] = md.Indices[j]
			if err := walk(lvl+1, j); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(0, 0); err != nil {
		return nil, err
	}
	if next != nvals {
		return nil, bad("%d stored values but %d non-zero positions", nvals, next)
	}
	return &constant{shape: append([]int(nil), t.Shape...), f32: out}, nil
}
