// Package onnxgraph writes ONNX models from Go: a small write-only protobuf
// encoder with a graph builder (Graph), and the models signseg builds
// itself.
//
//   - BuildMSTCN: the paper's multi-stage temporal convolutional network
//     (features [1,D,T] → boundary probability [1,T]) from weights in
//     MSTCNWeights, with ReferenceMSTCN, a plain-loop forward pass used to
//     prove the graph right.
//   - BuildPoseTagger: the 2023 pose segmenter of sign-language-processing/
//     segmentation (keypoints [N,T,In] → sign and sentence BIO
//     log-probabilities [N,T,3]: Linear, bidirectional LSTM, two heads) from
//     PoseTaggerWeights, with ReferencePoseTagger.
//   - BuildMotion: the training-free motion feature extractor of the default
//     model (clips [B,3,3,H,W] → features [B,128]); its features are
//     documented on BuildMotion. ReferenceMotion computes them in plain Go.
//
// Models use IR version 8 and opset 13 (see IRVersion, Opset), which both
// ONNX Runtime 1.24 and the onnx 1.12 checker accept. Only the fields that
// these models need are written; nothing is ever parsed.
//
// The motion features cover the whole frame; weighting cells by the signing
// space (the region that moves during a video) is left to the caller, which
// sees every clip of the video: the 8×8 grid of motion energy is there for
// that.
package onnxgraph
