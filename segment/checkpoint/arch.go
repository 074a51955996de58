package checkpoint

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/signseg/signseg/segment/onnxgraph"
)

// Architecture names, as used in errors and by Kind.
const (
	ArchI3D   = "I3D"
	ArchMSTCN = "MS-TCN"
)

// Kind guesses which architecture a state dict belongs to from its tensor
// names: ArchI3D, ArchMSTCN or "" for neither. It is only a hint for error
// messages; I3D and MSTCN check every tensor.
func (sd *StateDict) Kind() string {
	if _, ok := sd.Tensors["Conv3d_1a_7x7.conv3d.weight"]; ok {
		return ArchI3D
	}
	if _, ok := sd.Tensors["stage1.conv_1x1.weight"]; ok {
		return ArchMSTCN
	}
	return ""
}

// matcher looks tensors up for one architecture and builds the first
// error.
type matcher struct {
	sd   *StateDict
	arch string
}

func (m *matcher) missing(name string) error {
	e := &ShapeError{Path: m.sd.Path, Arch: m.arch, Name: name, Missing: true}
	if k := m.sd.Kind(); k != "" && k != m.arch {
		e.Hint = fmt.Sprintf("the file looks like an %s checkpoint", k)
	} else if k == "" {
		show := m.sd.Names
		if len(show) > 3 {
			show = show[:3]
		}
		e.Hint = fmt.Sprintf("its %d tensors start with %s", len(m.sd.Names), strings.Join(show, ", "))
	}
	return e
}

// get returns the tensor name, which must have the given shape; -1 in want
// accepts any positive size.
func (m *matcher) get(name string, want ...int) (*Tensor, error) {
	t, ok := m.sd.Tensors[name]
	if !ok {
		return nil, m.missing(name)
	}
	okShape := len(t.Shape) == len(want)
	for i := 0; okShape && i < len(want); i++ {
		okShape = t.Shape[i] > 0 && (want[i] < 0 || t.Shape[i] == want[i])
	}
	if !okShape {
		var parts []string
		for _, w := range want {
			if w < 0 {
				parts = append(parts, "any")
			} else {
				parts = append(parts, strconv.Itoa(w))
			}
		}
		return nil, &ShapeError{Path: m.sd.Path, Arch: m.arch, Name: name, Got: t.Shape, Want: "[" + strings.Join(parts, ",") + "]"}
	}
	return t, nil
}

// I3D matches sd against the BSL-1K InceptionI3d (paper-pipeline §3) and
// returns its weights. Channel counts are read from the shapes; kernel
// sizes and every input channel count must agree with the topology. The
// logits layer is optional. An error names the first missing or mis-shaped
// tensor.
func I3D(sd *StateDict) (*onnxgraph.I3DWeights, error) {
	m := &matcher{sd: sd, arch: ArchI3D}
	w := &onnxgraph.I3DWeights{}
	var err error
	if w.Conv1a, err = m.unit("Conv3d_1a_7x7", 3, 7); err != nil {
		return nil, err
	}
	w.Conv1a.Stride = [3]int{2, 2, 2}
	if w.Conv2b, err = m.unit("Conv3d_2b_1x1", w.Conv1a.Conv.Out, 1); err != nil {
		return nil, err
	}
	if w.Conv2c, err = m.unit("Conv3d_2c_3x3", w.Conv2b.Conv.Out, 3); err != nil {
		return nil, err
	}
	c := w.Conv2c.Conv.Out
	for _, name := range onnxgraph.I3DMixed() {
		var mix onnxgraph.Inception
		if mix.B0, err = m.unit(name+".b0", c, 1); err != nil {
			return nil, err
		}
		if mix.B1a, err = m.unit(name+".b1a", c, 1); err != nil {
			return nil, err
		}
		if mix.B1b, err = m.unit(name+".b1b", mix.B1a.Conv.Out, 3); err != nil {
			return nil, err
		}
		if mix.B2a, err = m.unit(name+".b2a", c, 1); err != nil {
			return nil, err
		}
		if mix.B2b, err = m.unit(name+".b2b", mix.B2a.Conv.Out, 3); err != nil {
			return nil, err
		}
		if mix.B3b, err = m.unit(name+".b3b", c, 1); err != nil {
			return nil, err
		}
		w.Mixed = append(w.Mixed, mix)
		c = mix.Out()
	}
	if _, ok := sd.Tensors["logits.conv3d.weight"]; ok {
		lw, err := m.get("logits.conv3d.weight", -1, c, 1, 1, 1)
		if err != nil {
			return nil, err
		}
		lb, err := m.get("logits.conv3d.bias", lw.Shape[0])
		if err != nil {
			return nil, err
		}
		w.Logits = &onnxgraph.Conv3D{Out: lw.Shape[0], In: c, Kernel: [3]int{1, 1, 1}, Weight: lw.Data, Bias: lb.Data}
	}
	if _, _, err := w.Dims(); err != nil {
		return nil, fmt.Errorf("%s: %w", sd.Path, err)
	}
	return w, nil
}

// unit reads prefix.conv3d.weight [Out, in, k, k, k] and prefix.bn.*.
func (m *matcher) unit(prefix string, in, k int) (onnxgraph.Unit3D, error) {
	var u onnxgraph.Unit3D
	wt, err := m.get(prefix+".conv3d.weight", -1, in, k, k, k)
	if err != nil {
		return u, err
	}
	out := wt.Shape[0]
	u.Conv = onnxgraph.Conv3D{Out: out, In: in, Kernel: [3]int{k, k, k}, Weight: wt.Data}
	for _, p := range []struct {
		name string
		dst  *[]float32
	}{{"weight", &u.BN.Weight}, {"bias", &u.BN.Bias}, {"running_mean", &u.BN.Mean}, {"running_var", &u.BN.Var}} {
		t, err := m.get(prefix+".bn."+p.name, out)
		if err != nil {
			return u, err
		}
		*p.dst = t.Data
	}
	return u, nil
}

// MSTCN matches sd against the MS-TCN (paper-pipeline §4) and returns its
// weights. The number of stages and layers come from the tensor names
// (stage1, stages.0 …, layers.0 …), the feature maps, input size and
// classes from the shapes. An error names the first missing or mis-shaped
// tensor.
func MSTCN(sd *StateDict) (*onnxgraph.MSTCNWeights, error) {
	m := &matcher{sd: sd, arch: ArchMSTCN}
	in, err := m.get("stage1.conv_1x1.weight", -1, -1, 1)
	if err != nil {
		return nil, err
	}
	out, err := m.get("stage1.conv_out.weight", -1, in.Shape[0], 1)
	if err != nil {
		return nil, err
	}
	F, D, C := in.Shape[0], in.Shape[1], out.Shape[0]
	S := 1 + countIndexed(sd, "stages.")
	L := countIndexed(sd, "stage1.layers.")
	if L == 0 {
		return nil, m.missing("stage1.layers.0.conv_dilated.weight")
	}
	w := &onnxgraph.MSTCNWeights{}
	for s := 0; s < S; s++ {
		pre, inDim := "stage1", D
		if s > 0 {
			pre, inDim = "stages."+strconv.Itoa(s-1), C
		}
		var st onnxgraph.MSTCNStage
		if st.In, err = m.conv1d(pre+".conv_1x1", F, inDim, 1); err != nil {
			return nil, err
		}
		for l := 0; l < L; l++ {
			lp := pre + ".layers." + strconv.Itoa(l)
			var layer onnxgraph.MSTCNLayer
			if layer.Dilated, err = m.conv1d(lp+".conv_dilated", F, F, 3); err != nil {
				return nil, err
			}
			if layer.Pointwise, err = m.conv1d(lp+".conv_1x1", F, F, 1); err != nil {
				return nil, err
			}
			st.Layers = append(st.Layers, layer)
		}
		if st.Out, err = m.conv1d(pre+".conv_out", C, F, 1); err != nil {
			return nil, err
		}
		w.Stages = append(w.Stages, st)
	}
	if _, err := w.Dims(); err != nil {
		return nil, fmt.Errorf("%s: %w", sd.Path, err)
	}
	return w, nil
}

func (m *matcher) conv1d(prefix string, out, in, k int) (onnxgraph.Conv1D, error) {
	wt, err := m.get(prefix+".weight", out, in, k)
	if err != nil {
		return onnxgraph.Conv1D{}, err
	}
	b, err := m.get(prefix+".bias", out)
	if err != nil {
		return onnxgraph.Conv1D{}, err
	}
	return onnxgraph.Conv1D{Out: out, In: in, K: k, Weight: wt.Data, Bias: b.Data}, nil
}

// countIndexed returns 1 + the largest i among names "prefix<i>.…" (0 if
// none), so that a gap in the numbering shows up as a missing tensor.
func countIndexed(sd *StateDict, prefix string) int {
	n := 0
	for _, name := range sd.Names {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); err == nil && i >= 0 && i < 1<<16 {
			n = max(n, i+1)
		}
	}
	return n
}
