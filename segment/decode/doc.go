// Package decode turns per-frame boundary scores into sign and boundary
// spans, and frame spans into media time. It is pure Go (no cgo), so the
// evaluation code and tools that only read results can use it without
// ONNX Runtime.
package decode
