// Package eval scores a segmentation against a reference the way Renz et
// al. (ICASSP 2021) did: frame labels from annotations (FrameLabels), the
// boundary and sign metrics mF1B and mF1S (Evaluate), and the uniform
// baseline. It is pure Go and builds with CGO_ENABLED=0.
package eval
