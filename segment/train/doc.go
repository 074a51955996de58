// Package train trains the paper's multi-stage temporal convolutional network
// (MS-TCN: Farha & Gall 2019, as used by Renz et al. 2021 for sign
// segmentation) in pure Go, without cgo.
//
// The model (Model, Config; DefaultConfig is the paper's 4 stages × 10
// layers × 64 channels, dilations 1…512, dropout 0.5) is exactly the
// architecture that onnxgraph.BuildMSTCN writes, so trained weights export
// through Export. A Trainer updates it with Adam on the paper's loss (Loss:
// class-weighted cross-entropy plus 0.15 × the truncated MSE smoothing term
// with τ = 4, summed over stages), one batch of sequences per step, with
// the reference's pooled loss denominators; optional windows bound memory
// without changing the gradient. Fit runs epochs over a Source, which loads
// each sequence when its step needs it (Sequences holds them in memory),
// with a caller-supplied validation score, early stopping, best-weights
// tracking and a resumable state file written atomically after every epoch;
// Split divides files into training and validation by file.
//
// Tensors are [channels, T] row-major float32, the layout of the ONNX input
// [1, D, T]. Convolutions are matrix products over time done by AVX2/FMA
// assembly kernels (pure-Go kernels on other CPUs), split across
// GOMAXPROCS goroutines by column block; every result is computed in a
// fixed order, so a run is deterministic for a seed whatever the number of
// cores. The two kernel paths differ by rounding, so results are
// bit-identical only between machines on the same path.
//
// Training differs from the reference in one place: batches of sequences
// of different lengths behave as if each sequence were zero-padded on its
// own (as at inference), whereas the reference's masked forward lets the
// padding of the shorter sequences (a stage's first 1×1 conv output, its
// bias) reach their last frame.
package train
