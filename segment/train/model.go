package train

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Config holds the MS-TCN hyperparameters (Farha & Gall 2019, as used by
// Renz et al. 2021).
type Config struct {
	Stages   int     // S, the paper: 4
	Layers   int     // L dilated residual layers per stage (dilations 1…2^(L−1)), the paper: 10
	Channels int     // F feature maps, the paper: 64
	Inputs   int     // D input features per frame
	Classes  int     // C, the paper: 2 (0 = sign, 1 = boundary)
	Dropout  float64 // drop probability after each layer's 1×1 conv during training, the paper: 0.5
}

// DefaultConfig returns the paper's model for inputs features per frame:
// 4 stages × 10 layers × 64 channels, 2 classes, dropout 0.5.
func DefaultConfig(inputs int) Config {
	return Config{Stages: 4, Layers: 10, Channels: 64, Inputs: inputs, Classes: 2, Dropout: 0.5}
}

// Validate reports unusable hyperparameters.
func (c Config) Validate() error {
	if c.Stages < 1 || c.Stages > 16 || c.Layers < 1 || c.Layers > 20 || c.Channels < 1 || c.Channels > 4096 ||
		c.Inputs < 1 || c.Inputs > 1<<16 || c.Classes < 2 || c.Classes > 1024 {
		return fmt.Errorf("model config %+v: need 1–16 stages, 1–20 layers, 1–4096 channels, 1–65536 inputs, 2–1024 classes", c)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("model config: dropout %v must be in [0, 1)", c.Dropout)
	}
	return nil
}

// Context returns how many frames to each side of a frame reach its
// last-stage output: S·(2^L − 1), half of onnxgraph's receptive field
// minus the frame itself (4092 for the paper's model).
func (c Config) Context() int { return c.Stages * (1<<c.Layers - 1) }

// conv is one Conv1d inside the flat parameter vector. Weights are stored
// tap-major, w[(k·out + o)·in + i], so that each tap is a contiguous
// [out, in] matrix; PyTorch's layout [out, in, k] is produced on export.
type conv struct {
	out, in, k, dil int
	w, b            int // offsets of weights and biases in the parameter vector
}

func (c conv) nw() int { return c.out * c.in * c.k }

// Model is an MS-TCN with all its parameters in one vector.
type Model struct {
	cfg    Config
	convs  []conv // per stage: input conv, L × (dilated, pointwise), output conv
	params []float32
}

// convIndex returns the index in Model.convs of stage s's input conv; layer
// l's dilated and pointwise convs follow at +1+2l and +2+2l, the output conv
// at +1+2L.
func (m *Model) convIndex(s int) int { return s * (2*m.cfg.Layers + 2) }

func layout(cfg Config) ([]conv, int) {
	var convs []conv
	n := 0
	add := func(out, in, k, dil int) {
		c := conv{out: out, in: in, k: k, dil: dil, w: n}
		n += c.nw()
		c.b = n
		n += out
		convs = append(convs, c)
	}
	for s := 0; s < cfg.Stages; s++ {
		in := cfg.Inputs
		if s > 0 {
			in = cfg.Classes
		}
		add(cfg.Channels, in, 1, 1)
		for l := 0; l < cfg.Layers; l++ {
			add(cfg.Channels, cfg.Channels, 3, 1<<l)
			add(cfg.Channels, cfg.Channels, 1, 1)
		}
		add(cfg.Classes, cfg.Channels, 1, 1)
	}
	return convs, n
}

// NewModel returns a model with PyTorch's default Conv1d initialisation
// (weights and biases uniform in ±1/√(in·k)), drawn from a PCG generator
// seeded with seed, so the same seed gives the same model.
func NewModel(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	convs, n := layout(cfg)
	m := &Model{cfg: cfg, convs: convs, params: make([]float32, n)}
	rng := rand.New(rand.NewPCG(seed, 0x6d737463_6e696e69)) // "mstcnini"
	for _, c := range convs {
		a := 1 / math.Sqrt(float64(c.in*c.k))
		for i := c.w; i < c.b+c.out; i++ {
			m.params[i] = float32(a * (2*rng.Float64() - 1))
		}
	}
	return m, nil
}

// Config returns the model's hyperparameters.
func (m *Model) Config() Config { return m.cfg }

// NumParams returns the number of trainable parameters.
func (m *Model) NumParams() int { return len(m.params) }

// Clone returns a deep copy.
func (m *Model) Clone() *Model {
	c := *m
	c.params = append([]float32(nil), m.params...)
	return &c
}

// torchWeight returns conv c's weights in PyTorch's [out, in, k] layout.
func (m *Model) torchWeight(c conv) []float32 {
	w := make([]float32, c.nw())
	for k := 0; k < c.k; k++ {
		for o := 0; o < c.out; o++ {
			for i := 0; i < c.in; i++ {
				w[(o*c.in+i)*c.k+k] = m.params[c.w+(k*c.out+o)*c.in+i]
			}
		}
	}
	return w
}

// setTorchWeight stores w ([out, in, k]) as conv c's weights.
func (m *Model) setTorchWeight(c conv, w []float32) {
	for k := 0; k < c.k; k++ {
		for o := 0; o < c.out; o++ {
			for i := 0; i < c.in; i++ {
				m.params[c.w+(k*c.out+o)*c.in+i] = w[(o*c.in+i)*c.k+k]
			}
		}
	}
}

// torchName returns the PyTorch state-dict prefix of conv index ci in the
// authors' MS-TCN (stage1.…, stages.{k}.…), e.g. "stage1.layers.2.conv_1x1".
func (m *Model) torchName(ci int) string {
	per := 2*m.cfg.Layers + 2
	s, j := ci/per, ci%per
	pre := "stage1"
	if s > 0 {
		pre = fmt.Sprintf("stages.%d", s-1)
	}
	switch {
	case j == 0:
		return pre + ".conv_1x1"
	case j == per-1:
		return pre + ".conv_out"
	case j%2 == 1:
		return fmt.Sprintf("%s.layers.%d.conv_dilated", pre, (j-1)/2)
	default:
		return fmt.Sprintf("%s.layers.%d.conv_1x1", pre, (j-2)/2)
	}
}
