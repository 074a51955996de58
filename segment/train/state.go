package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
)

// The state file: the magic line, a little-endian uint32 header length, a
// JSON header, then four float32 vectors of the model's parameter count
// (parameters, Adam's m and v, best parameters) and a CRC-32 (IEEE) of
// everything before it.
const stateMagic = "signseg-train-state 1\n"

// maxHeader bounds the JSON header (it holds the training file names).
const maxHeader = 64 << 20

type stateHeader struct {
	Config    Config    `json:"config"`
	LR        float64   `json:"learning_rate"`
	Seed      uint64    `json:"seed"`
	Window    int       `json:"window"`
	Batch     int       `json:"batch"`
	Weights   []float32 `json:"class_weights"`
	Smoothing float64   `json:"smoothing"`
	Tau       float64   `json:"tau"`
	Epoch     int       `json:"epoch"`
	AdamSteps int64     `json:"adam_steps"`
	BestEpoch int       `json:"best_epoch"`
	BestScore *float64  `json:"best_score"` // null before any epoch (−Inf)
	Stale     int       `json:"epochs_without_improvement"`
	Train     []string  `json:"train"`
	Params    int       `json:"params"`
}

// save writes the run's state to path atomically: a temporary file in the
// same folder, synced, then renamed over path.
func (r *run) save(path string) error {
	tr := r.tr
	h := stateHeader{Config: tr.model.cfg, LR: tr.opt.lr, Seed: tr.seed, Window: tr.window, Batch: r.batch,
		Weights: tr.loss.ClassWeights, Smoothing: tr.loss.Smoothing, Tau: tr.loss.Tau,
		Epoch: r.epoch, AdamSteps: tr.opt.t, BestEpoch: r.bestEpoch, Stale: r.stale,
		Train: r.names, Params: len(tr.model.params)}
	if !math.IsInf(r.bestScore, -1) {
		s := r.bestScore
		h.BestScore = &s
	}
	js, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("save training state: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(stateMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(len(js)))
	buf.Write(js)
	for _, v := range [][]float32{tr.model.params, tr.opt.m, tr.opt.v, r.best.params} {
		binary.Write(&buf, binary.LittleEndian, v)
	}
	binary.Write(&buf, binary.LittleEndian, crc32.ChecksumIEEE(buf.Bytes()))
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save training state: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save training state %s: %w", path, err)
	}
	return nil
}

// loadState reads a state file written by save.
func loadState(path string) (*run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	r, err := parseState(data)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w; start a new run or point at the state file of the run to continue", path, err)
	}
	return r, nil
}

func parseState(data []byte) (*run, error) {
	if !bytes.HasPrefix(data, []byte(stateMagic)) {
		return nil, errors.New("not a signseg training state file")
	}
	if len(data) < len(stateMagic)+8 {
		return nil, errors.New("file is truncated")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("checksum mismatch (the file is truncated or damaged)")
	}
	rest := body[len(stateMagic):]
	n := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if n > maxHeader || int(n) > len(rest) {
		return nil, errors.New("bad header length")
	}
	var h stateHeader
	if err := json.Unmarshal(rest[:n], &h); err != nil {
		return nil, fmt.Errorf("bad header: %w", err)
	}
	rest = rest[n:]
	if err := h.Config.Validate(); err != nil {
		return nil, err
	}
	convs, np := layout(h.Config)
	if h.Params != np || len(rest) != 4*4*np {
		return nil, fmt.Errorf("%d parameter bytes for a model of %d parameters", len(rest), np)
	}
	if h.Batch < 1 {
		return nil, fmt.Errorf("batch size %d", h.Batch)
	}
	if h.Epoch < 0 || h.AdamSteps < 0 || h.BestEpoch < 0 || h.BestEpoch > h.Epoch || h.Stale < 0 || h.Stale > h.Epoch {
		return nil, errors.New("inconsistent epoch counters")
	}
	loss := Loss{ClassWeights: h.Weights, Smoothing: h.Smoothing, Tau: h.Tau}
	vecs := make([][]float32, 4)
	for i := range vecs {
		vecs[i] = make([]float32, np)
		for j := range vecs[i] {
			vecs[i][j] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*(i*np+j):]))
		}
	}
	m := &Model{cfg: h.Config, convs: convs, params: vecs[0]}
	tr, err := NewTrainer(m, loss, h.LR, h.Seed, h.Window)
	if err != nil {
		return nil, err
	}
	tr.opt.t, tr.opt.m, tr.opt.v = h.AdamSteps, vecs[1], vecs[2]
	r := &run{tr: tr, epoch: h.Epoch, best: &Model{cfg: h.Config, convs: convs, params: vecs[3]},
		bestEpoch: h.BestEpoch, bestScore: math.Inf(-1), stale: h.Stale, names: h.Train, batch: h.Batch}
	if h.BestScore != nil {
		r.bestScore = *h.BestScore
	}
	return r, nil
}

// LoadBest returns the best model of the run saved in the state file at
// path, with its epoch and validation score (epoch 0 and −Inf when no epoch
// had finished), for example to export it after an interrupted run.
func LoadBest(path string) (m *Model, epoch int, score float64, err error) {
	r, err := loadState(path)
	if err != nil {
		return nil, 0, 0, err
	}
	return r.best, r.bestEpoch, r.bestScore, nil
}
