package segment

import (
	"errors"
	"fmt"
)

// Gap modes for DecodeConfig.Gaps.
const (
	GapsSplit = "split" // split each boundary run between its neighbours, as the authors' demo does
	GapsKeep  = "keep"  // leave boundary runs as gaps between signs
)

// DecodeConfig is the decoding section of a manifest; the command line
// overrides it field by field (see Merge).
type DecodeConfig struct {
	Decoder       string  `json:"decoder"`         // DecoderThreshold or DecoderChangepoint
	Threshold     float64 `json:"threshold"`       // boundary if P > Threshold (default 0.5)
	Gaps          string  `json:"gaps"`            // GapsSplit or GapsKeep
	MinSignFrames int     `json:"min_sign_frames"` // shorter signs are dropped into the boundary
	// KeepEdgeBoundaries keeps boundary runs touching the first or last two
	// frames, which are usually the video starting or stopping mid-sign.
	KeepEdgeBoundaries bool              `json:"keep_edge_boundaries,omitempty"`
	Changepoint        ChangepointConfig `json:"changepoint"`
}

// ChangepointConfig tunes the changepoint decoder (PELT, L2 cost).
type ChangepointConfig struct {
	// Signal is what PELT runs on: SignalFeatures (default) or
	// SignalMotionEnergy (motion models only).
	Signal string `json:"signal,omitempty"`
	// Penalty per changepoint; 0 derives it from the signal by the rule of
	// the signal (see PenaltyFactor). The authors used 80 on I3D features.
	Penalty float64 `json:"penalty,omitempty"`
	// PenaltyFactor scales the derived penalty (default 1).
	PenaltyFactor float64 `json:"penalty_factor,omitempty"`
	Jump          int     `json:"jump,omitempty"`     // candidate changepoints every Jump frames (default 2)
	MinSize       int     `json:"min_size,omitempty"` // shortest segment in frames (default 2)
	Dilate        int     `json:"dilate,omitempty"`   // boundary frames on each side of a changepoint (default 1)
}

// withDefaults fills zero fields with the documented defaults.
func (c DecodeConfig) withDefaults() DecodeConfig {
	if c.Threshold == 0 {
		c.Threshold = 0.5
	}
	if c.Gaps == "" {
		c.Gaps = GapsSplit
	}
	cp := &c.Changepoint
	if cp.Signal == "" {
		cp.Signal = SignalFeatures
	}
	if cp.PenaltyFactor == 0 {
		cp.PenaltyFactor = 1
	}
	if cp.Jump == 0 {
		cp.Jump = 2
	}
	if cp.MinSize == 0 {
		cp.MinSize = 2
	}
	if cp.Dilate == 0 {
		cp.Dilate = 1
	}
	return c
}

// Merge returns c with every non-zero field of o taken from o.
func (c DecodeConfig) Merge(o DecodeConfig) DecodeConfig {
	if o.Decoder != "" {
		c.Decoder = o.Decoder
	}
	if o.Threshold != 0 {
		c.Threshold = o.Threshold
	}
	if o.Gaps != "" {
		c.Gaps = o.Gaps
	}
	if o.MinSignFrames != 0 {
		c.MinSignFrames = o.MinSignFrames
	}
	if o.KeepEdgeBoundaries {
		c.KeepEdgeBoundaries = true
	}
	cp, ocp := &c.Changepoint, o.Changepoint
	if ocp.Signal != "" {
		cp.Signal = ocp.Signal
	}
	if ocp.Penalty != 0 {
		cp.Penalty = ocp.Penalty
	}
	if ocp.PenaltyFactor != 0 {
		cp.PenaltyFactor = ocp.PenaltyFactor
	}
	if ocp.Jump != 0 {
		cp.Jump = ocp.Jump
	}
	if ocp.MinSize != 0 {
		cp.MinSize = ocp.MinSize
	}
	if ocp.Dilate != 0 {
		cp.Dilate = ocp.Dilate
	}
	return c
}

// check validates the configuration; hasTemporal tells whether the model
// produces probabilities that the threshold decoder needs.
func (c DecodeConfig) check(hasTemporal bool) error {
	c = c.withDefaults()
	switch c.Decoder {
	case DecoderThreshold:
		if !hasTemporal {
			return errors.New(`decoder "threshold" needs a temporal model; this model has none, use "changepoint"`)
		}
	case DecoderChangepoint:
	default:
		return fmt.Errorf("decoder %q must be %q or %q", c.Decoder, DecoderThreshold, DecoderChangepoint)
	}
	if !(c.Threshold > 0 && c.Threshold < 1) {
		return fmt.Errorf("threshold %v must be between 0 and 1", c.Threshold)
	}
	if c.Gaps != GapsSplit && c.Gaps != GapsKeep {
		return fmt.Errorf("gaps %q must be %q or %q", c.Gaps, GapsSplit, GapsKeep)
	}
	if c.MinSignFrames < 0 {
		return fmt.Errorf("min-sign-frames %d must be ≥ 0", c.MinSignFrames)
	}
	cp := c.Changepoint
	if cp.Signal != SignalFeatures && cp.Signal != SignalMotionEnergy {
		return fmt.Errorf("changepoint signal %q must be %q or %q", cp.Signal, SignalFeatures, SignalMotionEnergy)
	}
	if cp.Penalty < 0 || cp.PenaltyFactor < 0 || cp.Jump < 1 || cp.MinSize < 1 || cp.Dilate < 0 {
		return fmt.Errorf("changepoint settings %+v: penalty ≥ 0, jump ≥ 1, min_size ≥ 1, dilate ≥ 0", cp)
	}
	return nil
}
