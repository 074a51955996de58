// Package train trains the paper's multi-stage temporal convolutional network
// (MS-TCN: Farha & Gall 2019, as used by Renz et al. 2021 for sign
// segmentation) in pure Go, without cgo.
//
// The model (Model, Config) is exactly the architecture that
// onnxgraph.BuildMSTCN writes, so trained weights export through Export. A
// Trainer updates it with Adam on the paper's loss (Loss: class-weighted
// cross-entropy plus the truncated MSE smoothing term), one sequence or
// window per step; Fit runs epochs with validation, early stopping,
// best-weights tracking and a resumable state file.
//
// Tensors are [channels, T] row-major float32, the layout of the ONNX input
// [1, D, T]. Convolutions are matrix products over time done by hand-written
// kernels split across GOMAXPROCS goroutines; every result is computed in a
// fixed order, so training is deterministic for a seed whatever the number
// of cores.
package train
