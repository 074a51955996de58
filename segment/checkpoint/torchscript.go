package checkpoint

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/signseg/signseg/segment/onnxgraph"
)

// LoadTorchScript reads the parameters and buffers of a TorchScript
// archive (torch.jit.save of a traced or scripted module): a zip holding
// <name>/data.pkl (pickle protocol 2; modules pickled as objects of
// __torch__.* classes, read here as generic objects with their attribute
// dicts), <name>/constants.pkl and the tensors in <name>/data/<key>. The
// tensors are named by their attribute path, as state_dict() names them
// ("encoder.weight_ih_l0"). Errors name the file and say what it is when it
// is not a TorchScript archive.
func LoadTorchScript(file string) (sd *StateDict, err error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		if errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: not a TorchScript archive (the zip file torch.jit.save writes): %v; download the model again", file, err)
		}
		return nil, fmt.Errorf("open TorchScript archive: %w", err)
	}
	defer zr.Close()
	records := map[string]*zip.File{}
	prefix := ""
	hasConstants := false
	for _, f := range zr.File {
		records[f.Name] = f
		dir, base := path.Split(f.Name)
		if strings.Count(f.Name, "/") != 1 {
			continue
		}
		switch base {
		case "data.pkl":
			prefix = dir
		case "constants.pkl":
			hasConstants = true
		}
	}
	switch {
	case prefix == "":
		return nil, fmt.Errorf("%s: a zip file without <name>/data.pkl, not a TorchScript archive", file)
	case !hasConstants:
		return nil, fmt.Errorf("%s: a PyTorch checkpoint (torch.save), not a TorchScript archive (torch.jit.save): give the TorchScript model file", file)
	}
	defer func() {
		// gopickle may panic on malformed input; a bad file must give an
		// error, not crash the program.
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("%s: not a readable TorchScript archive (reader failed: %v); it may be damaged: download it again", file, r)
		}
	}()
	rc, err := records[prefix+"data.pkl"].Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	defer rc.Close()
	u := pickle.NewUnpickler(rc)
	u.FindClass = scriptFindClass
	loaded := map[string]pytorch.StorageInterface{}
	u.PersistentLoad = func(id interface{}) (interface{}, error) {
		return loadScriptStorage(id, prefix, records, loaded)
	}
	obj, err := u.Load()
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable TorchScript archive (%w); it may be damaged: download it again", file, err)
	}
	root, ok := obj.(*scriptObject)
	if !ok {
		return nil, fmt.Errorf("%s: the TorchScript archive holds a %T, not a module", file, obj)
	}
	sd = &StateDict{Path: file, Format: "torchscript", Tensors: map[string]*Tensor{}}
	if err := sd.addModule(root, "", 0); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(sd.Names) == 0 {
		return nil, fmt.Errorf("%s: the TorchScript module %s holds no tensors", file, root.class)
	}
	return sd, nil
}

// scriptFindClass resolves the classes a TorchScript data.pkl names: torch
// storages and tensor rebuilders to gopickle's, __torch__.* modules to
// generic objects, anything else to a placeholder.
func scriptFindClass(module, name string) (interface{}, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return &pytorch.RebuildTensorV2{}, nil
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	case "torch.FloatStorage":
		return &pytorch.FloatStorageClass{}, nil
	case "torch.HalfStorage":
		return &pytorch.HalfStorageClass{}, nil
	case "torch.BFloat16Storage":
		return &pytorch.BFloat16StorageClass{}, nil
	case "torch.DoubleStorage":
		return &pytorch.DoubleStorageClass{}, nil
	case "torch.LongStorage":
		return &pytorch.LongStorageClass{}, nil
	case "torch.IntStorage":
		return &pytorch.IntStorageClass{}, nil
	case "torch.ShortStorage":
		return &pytorch.ShortStorageClass{}, nil
	case "torch.CharStorage":
		return &pytorch.CharStorageClass{}, nil
	case "torch.ByteStorage":
		return &pytorch.ByteStorageClass{}, nil
	case "torch.BoolStorage":
		return &pytorch.BoolStorageClass{}, nil
	}
	if module == "__torch__" || strings.HasPrefix(module, "__torch__.") {
		return &scriptClass{name: module + "." + name}, nil
	}
	return &placeholder{Module: module, Name: name}, nil
}

// storageElemSize is the byte size of one element of each storage class.
func storageElemSize(c interface{}) int {
	switch c.(type) {
	case *pytorch.DoubleStorageClass, *pytorch.LongStorageClass:
		return 8
	case *pytorch.FloatStorageClass, *pytorch.IntStorageClass:
		return 4
	case *pytorch.HalfStorageClass, *pytorch.BFloat16StorageClass, *pytorch.ShortStorageClass:
		return 2
	}
	return 1
}

// loadScriptStorage reads the storage a persistent id ("storage", class,
// key, location, size) names from <prefix>data/<key>, checking the record's
// size before allocating.
func loadScriptStorage(id interface{}, prefix string, records map[string]*zip.File, loaded map[string]pytorch.StorageInterface) (interface{}, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		return nil, fmt.Errorf("persistent id of kind %v, want storage", t.Get(0))
	}
	class, okc := t.Get(1).(pytorch.StorageClassInterface)
	key, okk := t.Get(2).(string)
	loc, okl := t.Get(3).(string)
	size, oks := t.Get(4).(int)
	if !okc || !okk || !okl || !oks || size < 0 {
		return nil, fmt.Errorf("storage tuple %v has unexpected types", id)
	}
	if s, ok := loaded[key]; ok {
		return s, nil
	}
	rec, ok := records[prefix+"data/"+key]
	if !ok {
		return nil, fmt.Errorf("storage %s: no record %sdata/%s in the archive", key, prefix, key)
	}
	need := uint64(size) * uint64(storageElemSize(class))
	if uint64(size) > rec.UncompressedSize64 || rec.UncompressedSize64 < need { // the first test also keeps need from overflowing
		return nil, fmt.Errorf("storage %s: record of %d bytes, the model needs %d", key, rec.UncompressedSize64, need)
	}
	rc, err := rec.Open()
	if err != nil {
		return nil, fmt.Errorf("storage %s: %w", key, err)
	}
	defer rc.Close()
	s := class.New(size, loc)
	if err := s.SetFromFileWithSize(rc, size); err != nil {
		return nil, fmt.Errorf("storage %s: %w", key, err)
	}
	loaded[key] = s
	return s, nil
}

// scriptClass is a __torch__.* class: NEWOBJ makes a scriptObject of it.
type scriptClass struct{ name string }

func (c *scriptClass) PyNew(...interface{}) (interface{}, error) {
	return &scriptObject{class: c.name}, nil
}

func (c *scriptClass) Call(...interface{}) (interface{}, error) {
	return &scriptObject{class: c.name}, nil
}

// scriptObject is a TorchScript module or object: its class name and the
// attribute dict BUILD gives it, in order.
type scriptObject struct {
	class string
	keys  []string
	vals  []interface{}
}

func (o *scriptObject) PySetState(state interface{}) error {
	keys, vals, ok := entries(state)
	if !ok {
		return nil // objects with a custom __setstate__ hold no module tensors
	}
	for i, k := range keys {
		if s, ok := k.(string); ok {
			o.keys = append(o.keys, s)
			o.vals = append(o.vals, vals[i])
		}
	}
	return nil
}

// addModule adds the tensors of o (and, recursively, of its submodules)
// under prefix.
func (sd *StateDict) addModule(o *scriptObject, prefix string, depth int) error {
	if depth > 64 {
		return errors.New("modules nested more than 64 deep")
	}
	for i, k := range o.keys {
		name := prefix + k
		switch v := o.vals[i].(type) {
		case *pytorch.Tensor:
			t, err := copyTensor(v)
			if err != nil {
				return fmt.Errorf("tensor %s: %w", name, err)
			}
			if _, dup := sd.Tensors[name]; dup {
				return fmt.Errorf("tensor %s appears twice", name)
			}
			sd.Names = append(sd.Names, name)
			sd.Tensors[name] = t
		case *scriptObject:
			if err := sd.addModule(v, name+".", depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// ArchPoseTagger names the 2023 pose segmenter in errors.
const ArchPoseTagger = "slp-2023 pose tagger"

// SLPInputDim is the input size of the released 2023 model: 75 Holistic
// points × (x, y, z).
const SLPInputDim = 75 * 3

// PoseTagger matches sd against the pose segmenter of sign-language-
// processing/segmentation (PoseTaggingModel: pose_projection Linear,
// encoder one-layer bidirectional LSTM, sign_bio_head and sentence_bio_head
// Linear with 3 BIO classes) and returns its weights. Sizes are read from
// the shapes and must agree; an error names the first missing or
// mis-shaped tensor. Loss-function weights in the file are ignored.
func PoseTagger(sd *StateDict) (*onnxgraph.PoseTaggerWeights, error) {
	m := &matcher{sd: sd, arch: ArchPoseTagger}
	pw, err := m.get("pose_projection.weight", -1, -1)
	if err != nil {
		return nil, err
	}
	P, In := pw.Shape[0], pw.Shape[1]
	pb, err := m.get("pose_projection.bias", P)
	if err != nil {
		return nil, err
	}
	hh, err := m.get("encoder.weight_hh_l0", -1, -1)
	if err != nil {
		return nil, err
	}
	H := hh.Shape[1]
	if hh.Shape[0] != 4*H {
		return nil, &ShapeError{Path: sd.Path, Arch: ArchPoseTagger, Name: "encoder.weight_hh_l0", Got: hh.Shape, Want: fmt.Sprintf("[4H,H] = [%d,%d]", 4*H, H)}
	}
	if _, ok := sd.Tensors["encoder.weight_ih_l1"]; ok {
		return nil, fmt.Errorf("%s: does not match the %s architecture: the LSTM has more than one layer (encoder.weight_ih_l1)", sd.Path, ArchPoseTagger)
	}
	w := &onnxgraph.PoseTaggerWeights{Projection: onnxgraph.Linear{Out: P, In: In, Weight: pw.Data, Bias: pb.Data}, Hidden: H}
	for _, d := range []struct {
		suffix string
		dst    *onnxgraph.LSTMDirection
	}{{"", &w.Forward}, {"_reverse", &w.Backward}} {
		for _, p := range []struct {
			name  string
			shape []int
			dst   *[]float32
		}{
			{"weight_ih_l0", []int{4 * H, P}, &d.dst.WeightIH},
			{"weight_hh_l0", []int{4 * H, H}, &d.dst.WeightHH},
			{"bias_ih_l0", []int{4 * H}, &d.dst.BiasIH},
			{"bias_hh_l0", []int{4 * H}, &d.dst.BiasHH},
		} {
			t, err := m.get("encoder."+p.name+d.suffix, p.shape...)
			if err != nil {
				return nil, err
			}
			*p.dst = t.Data
		}
	}
	for _, h := range []struct {
		name string
		dst  *onnxgraph.Linear
	}{{"sign_bio_head", &w.Sign}, {"sentence_bio_head", &w.Sentence}} {
		hw, err := m.get(h.name+".weight", 3, 2*H)
		if err != nil {
			return nil, err
		}
		hb, err := m.get(h.name+".bias", 3)
		if err != nil {
			return nil, err
		}
		*h.dst = onnxgraph.Linear{Out: 3, In: 2 * H, Weight: hw.Data, Bias: hb.Data}
	}
	if _, err := w.Dims(); err != nil {
		return nil, fmt.Errorf("%s: %w", sd.Path, err)
	}
	return w, nil
}

// LoadSLP2023 reads the released slp-2023 model file (TorchScript) and
// returns its weights, checking that it takes the 225 features of 75
// Holistic points.
func LoadSLP2023(file string) (*onnxgraph.PoseTaggerWeights, error) {
	sd, err := LoadTorchScript(file)
	if err != nil {
		return nil, err
	}
	w, err := PoseTagger(sd)
	if err != nil {
		return nil, err
	}
	if w.Projection.In != SLPInputDim {
		return nil, fmt.Errorf("%s: a pose tagger for %d input features, the slp-2023 model reads %d (75 Holistic points × 3)", file, w.Projection.In, SLPInputDim)
	}
	return w, nil
}
