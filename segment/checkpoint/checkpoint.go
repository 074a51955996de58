// Package checkpoint reads PyTorch checkpoints (the zip serialisation of
// torch ≥ 1.6 and the legacy one of older versions) without Python, and
// matches their state dicts against the two architectures signseg imports:
// the BSL-1K InceptionI3d and the MS-TCN (see I3D and MSTCN).
//
// A checkpoint may be a bare state_dict or a wrapper dict holding one under
// "state_dict", "model_state_dict" or "model" (the bsl1k .pth.tar layout:
// epoch, arch, state_dict, optimizer); DataParallel's "module." prefix is
// stripped. Objects of classes that are not needed (NumPy scalars,
// argparse.Namespace, ...) are read as placeholders and ignored.
//
// LoadTorchScript reads TorchScript archives (torch.jit.save) the same
// way, modules as generic objects; PoseTagger and LoadSLP2023 match them
// against the 2023 pose segmenter of sign-language-processing/segmentation.
package checkpoint

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// Tensor is a tensor copied out of a checkpoint into a contiguous row-major
// float32 slice (integer and half-precision tensors are converted).
type Tensor struct {
	Shape []int
	Data  []float32
	DType string // storage type as pickled: "float32", "float16", "int64", ...
}

// Numel returns the number of elements the shape holds.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// StateDict is the tensors of a checkpoint by name, in file order, with the
// "module." prefix removed.
type StateDict struct {
	Path    string
	Format  string // "zip" or "legacy"
	Wrapped bool   // the tensors came from a wrapper dict's "state_dict" (or similar) entry
	Names   []string
	Tensors map[string]*Tensor
}

// Load reads the state dict of the PyTorch checkpoint at path. Errors name
// the file and say what is wrong: not a checkpoint, a TorchScript archive,
// or a checkpoint without tensors.
func Load(path string) (sd *StateDict, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	format, err := sniff(f, st.Size(), path)
	f.Close()
	if err != nil {
		return nil, err
	}
	// gopickle panics on some malformed or unsupported inputs (for example
	// a tar archive or a legacy storage view); a bad file must give an
	// error, not crash the program.
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("%s: not a readable PyTorch checkpoint (%s format, reader failed: %v); it may be damaged or truncated: download it again", path, format, r)
		}
	}()
	obj, err := pytorch.LoadWithUnpickler(path, lenientUnpickler)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PyTorch checkpoint (%s format: %w); it may be damaged or truncated: download it again", path, format, err)
	}
	sd, err = stateDict(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sd.Path, sd.Format = path, format
	return sd, nil
}

// legacyMagic is how a legacy torch.save file starts: pickle protocol 2
// (0x80 0x02) then the magic number as a LONG1 of 10 bytes.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// sniff tells the zip and legacy serialisations apart and rejects other
// files with a message that says what the file is.
func sniff(f *os.File, size int64, path string) (string, error) {
	head := make([]byte, len(legacyMagic))
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case n >= 4 && string(head[:4]) == "PK\x03\x04":
		zr, err := zip.NewReader(f, size)
		if err != nil {
			return "", fmt.Errorf("%s: a damaged zip file, not a readable PyTorch checkpoint (%w); download it again", path, err)
		}
		hasData := false
		for _, zf := range zr.File {
			base := zf.Name[strings.LastIndex(zf.Name, "/")+1:]
			switch base {
			case "constants.pkl":
				return "", fmt.Errorf("%s: a TorchScript archive (torch.jit.save), not a checkpoint with a state dict; use the original .pth/.pth.tar/.model file", path)
			case "data.pkl":
				hasData = true
			}
		}
		if !hasData {
			return "", fmt.Errorf("%s: a zip file without data.pkl, not a PyTorch checkpoint (if it is the downloaded models.zip, unpack it first)", path)
		}
		return "zip", nil
	case n == len(legacyMagic) && string(head) == string(legacyMagic):
		return "legacy", nil
	}
	return "", fmt.Errorf("%s: not a PyTorch checkpoint (neither the zip nor the legacy torch.save format); give the .pth.tar or .model file from the authors' models.zip", path)
}

// lenientUnpickler resolves classes that are not part of a state dict to
// placeholders, so that wrapper dicts carrying NumPy scalars, argparse
// namespaces or whole optimiser objects still load. Torch's own classes
// (storages, _rebuild_tensor_v2) are resolved by gopickle before this hook.
func lenientUnpickler(r io.Reader) pickle.Unpickler {
	u := pickle.NewUnpickler(r)
	u.FindClass = func(module, name string) (interface{}, error) {
		if module == "torch._utils" && name == "_rebuild_parameter" {
			return rebuildParameter{}, nil
		}
		return &placeholder{Module: module, Name: name}, nil
	}
	return u
}

// rebuildParameter turns torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks) (a pickled nn.Parameter) into its tensor.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...interface{}) (interface{}, error) {
	if len(args) == 0 {
		return nil, errors.New("_rebuild_parameter without arguments")
	}
	return args[0], nil
}

// placeholder stands for an object of an unknown class: it accepts every
// way pickle builds objects and keeps nothing that matters.
type placeholder struct {
	Module, Name string
	Args         []interface{}
}

func (p *placeholder) Call(args ...interface{}) (interface{}, error) {
	return &placeholder{Module: p.Module, Name: p.Name, Args: args}, nil
}

func (p *placeholder) PyNew(args ...interface{}) (interface{}, error) {
	return &placeholder{Module: p.Module, Name: p.Name, Args: args}, nil
}

func (p *placeholder) PySetState(interface{}) error        { return nil }
func (p *placeholder) PyDictSet(_, _ interface{}) error    { return nil }
func (p *placeholder) PySetAttr(string, interface{}) error { return nil }

// Set and Append accept the items of pickled dict and list subclasses.
func (p *placeholder) Set(_, _ interface{}) {}
func (p *placeholder) Append(interface{})   {}

// String names the class, for error messages.
func (p *placeholder) String() string { return p.Module + "." + p.Name }

// wrapperKeys are the entries of a wrapper dict that may hold the state dict.
var wrapperKeys = []string{"state_dict", "model_state_dict", "model", "net"}

// entries lists a pickled dict's keys and values in order.
func entries(obj interface{}) (keys []interface{}, vals []interface{}, ok bool) {
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			en := e.Value.(*types.OrderedDictEntry)
			keys = append(keys, en.Key)
			vals = append(vals, en.Value)
		}
		return keys, vals, true
	case *types.Dict:
		for _, en := range *d {
			keys = append(keys, en.Key)
			vals = append(vals, en.Value)
		}
		return keys, vals, true
	}
	return nil, nil, false
}

// stateDict finds the tensors in a loaded checkpoint object.
func stateDict(obj interface{}) (*StateDict, error) {
	keys, vals, ok := entries(obj)
	if !ok {
		if p, isP := obj.(*placeholder); isP {
			return nil, fmt.Errorf("holds a whole pickled %s object, not a state dict; re-save it with torch.save(model.state_dict(), path)", p.String())
		}
		return nil, fmt.Errorf("holds a %T, not a state dict (a dict of tensors)", obj)
	}
	wrapped := false
	if !hasTensors(vals) {
		found := false
		for _, wk := range wrapperKeys {
			for i, k := range keys {
				if s, _ := k.(string); s == wk {
					if _, _, isDict := entries(vals[i]); isDict {
						keys, vals, _ = entries(vals[i])
						found, wrapped = true, true
					}
				}
				if found {
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			var names []string
			for _, k := range keys {
				names = append(names, fmt.Sprint(k))
			}
			sort.Strings(names)
			return nil, fmt.Errorf("is a dict without tensors and without a state_dict entry (keys: %s); not a model checkpoint", strings.Join(names, ", "))
		}
	}
	sd := &StateDict{Wrapped: wrapped, Tensors: map[string]*Tensor{}}
	for i, k := range keys {
		name, ok := k.(string)
		if !ok {
			continue
		}
		pt, ok := vals[i].(*pytorch.Tensor)
		if !ok {
			continue // _metadata and other non-tensor entries
		}
		name = strings.TrimPrefix(name, "module.")
		t, err := copyTensor(pt)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		if _, dup := sd.Tensors[name]; dup {
			return nil, fmt.Errorf("tensor %s appears twice (with and without the module. prefix)", name)
		}
		sd.Names = append(sd.Names, name)
		sd.Tensors[name] = t
	}
	if len(sd.Names) == 0 {
		return nil, errors.New("the state dict holds no tensors")
	}
	return sd, nil
}

func hasTensors(vals []interface{}) bool {
	for _, v := range vals {
		if _, ok := v.(*pytorch.Tensor); ok {
			return true
		}
	}
	return false
}

// copyTensor copies a (possibly strided, offset) tensor into a contiguous
// float32 slice, checking every index against the storage.
func copyTensor(pt *pytorch.Tensor) (*Tensor, error) {
	var get func(i int) float32
	var n int
	var dtype string
	var f32 []float32 // the storage when it is float32 already (fast path)
	switch s := pt.Source.(type) {
	case *pytorch.FloatStorage:
		n, dtype, get, f32 = len(s.Data), "float32", func(i int) float32 { return s.Data[i] }, s.Data
	case *pytorch.HalfStorage:
		n, dtype, get = len(s.Data), "float16", func(i int) float32 { return s.Data[i] }
	case *pytorch.BFloat16Storage:
		n, dtype, get = len(s.Data), "bfloat16", func(i int) float32 { return s.Data[i] }
	case *pytorch.DoubleStorage:
		n, dtype, get = len(s.Data), "float64", func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.LongStorage:
		n, dtype, get = len(s.Data), "int64", func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.IntStorage:
		n, dtype, get = len(s.Data), "int32", func(i int) float32 { return float32(s.Data[i]) }
	default:
		return nil, fmt.Errorf("unsupported storage type %T", pt.Source)
	}
	if f32 != nil && contiguous(pt.Size, pt.Stride) {
		total := 1
		for _, d := range pt.Size {
			total *= d
		}
		if pt.StorageOffset < 0 || total < 0 || pt.StorageOffset+total > n {
			return nil, fmt.Errorf("shape %v at offset %d reaches outside the storage of %d values", pt.Size, pt.StorageOffset, n)
		}
		return &Tensor{Shape: append([]int(nil), pt.Size...), DType: dtype,
			Data: append([]float32(nil), f32[pt.StorageOffset:pt.StorageOffset+total]...)}, nil
	}
	offs, err := offsets(pt.Size, pt.Stride, pt.StorageOffset, n)
	if err != nil {
		return nil, err
	}
	t := &Tensor{Shape: append([]int(nil), pt.Size...), DType: dtype, Data: make([]float32, len(offs))}
	for i, off := range offs {
		t.Data[i] = get(off)
	}
	return t, nil
}

// contiguous reports whether strides are the row-major ones of size (sizes
// of 0 or 1 allow any stride), with every size small enough to multiply.
func contiguous(size, stride []int) bool {
	if len(size) != len(stride) {
		return false
	}
	want := 1
	for d := len(size) - 1; d >= 0; d-- {
		if size[d] < 0 || size[d] > 1<<31 {
			return false
		}
		if size[d] > 1 && stride[d] != want {
			return false
		}
		want *= size[d]
		if want > 1<<40 {
			return false
		}
	}
	return true
}

// offsets returns the storage index of every element of a tensor view in
// row-major order, checking each against the storage length n (a
// checkpoint may hold non-contiguous views with an offset).
func offsets(size, stride []int, offset, n int) ([]int, error) {
	if len(size) != len(stride) {
		return nil, fmt.Errorf("shape %v and strides %v differ in rank", size, stride)
	}
	total := 1
	for _, d := range size {
		if d < 0 || (d > 0 && total > n/d+1) {
			return nil, fmt.Errorf("shape %v does not fit a storage of %d values", size, n)
		}
		total *= d
	}
	if total > n {
		return nil, fmt.Errorf("shape %v needs %d values, storage has %d", size, total, n)
	}
	out := make([]int, total)
	idx := make([]int, len(size))
	for k := range out {
		off := offset
		for d, i := range idx {
			off += i * stride[d]
		}
		if off < 0 || off >= n {
			return nil, fmt.Errorf("shape %v, strides %v and offset %d reach outside the storage of %d values", size, stride, offset, n)
		}
		out[k] = off
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// ShapeError reports a tensor that is missing or has the wrong shape for the
// architecture being matched.
type ShapeError struct {
	Path    string
	Arch    string // "I3D" or "MS-TCN"
	Name    string
	Missing bool
	Got     []int
	Want    string // the expected shape, in words
	Hint    string // what the file looks like instead, if known
}

// Error names the file, the architecture and the tensor.
func (e *ShapeError) Error() string {
	msg := fmt.Sprintf("%s: does not match the %s architecture: tensor %s has shape %v, want %s", e.Path, e.Arch, e.Name, e.Got, e.Want)
	if e.Missing {
		msg = fmt.Sprintf("%s: does not match the %s architecture: tensor %s is missing", e.Path, e.Arch, e.Name)
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}
