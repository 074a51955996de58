// Package segment turns a stream of preprocessed video frames into signs.
//
// It runs the pipeline of Renz et al., "Sign Language Segmentation with
// Temporal Convolutional Networks" (ICASSP 2021): a clip model (I3D in the
// paper) gives one feature vector per stride-1 window of frames, a temporal
// model (MS-TCN) gives a boundary probability per frame, and decoding turns
// the probabilities into sign and boundary spans. A model without a temporal
// network can instead be decoded by changepoint detection (PELT) on its
// features, as in the authors' follow-up work (Renz et al., CVPRW 2021).
//
// Models are folders holding a manifest (model.json, see Manifest) and ONNX
// files; they run through ONNX Runtime (internal/ortsession), whose one
// process-wide environment is owned by internal/ortenv. The built-in models
// need no files of their own: "hands" (the default) reads MediaPipe
// Holistic keypoints, "motion" the video's motion.
//
// A Segmenter has two seams. Its FeatureExtractor, chosen by the manifest's
// feature kind (FeatureSpec.Kind), turns frames into features: the paper's
// clip model is one kind, and a new kind is one entry in featureKinds. Its
// scorer, chosen by the decoder, turns features into a boundary score per
// frame: the temporal model's probability (DecoderThreshold) or
// changepoints (DecoderChangepoint).
// Package decode then makes spans of the scores; package eval scores spans
// against a reference, and package pelt finds changepoints.
//
// Data flows one way: package media decodes video into frames, this package
// produces spans and times, and packages eaf and plugin write them out. This
// package knows nothing of XML.
package segment
