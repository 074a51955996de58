package segment

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/signseg/signseg/segment/decode"
)

// Decoding says how a model's boundary scores become signs. It is the
// "decoding" section of a manifest; the command line and the ELAN
// recognizer override it field by field (Merge). A nil field is not set:
// the model's value applies, else the default. So 0 and false are real
// values: MinSignFrames = new(0) turns a model's minimum off, and
// KeepEdgeBoundaries = new(false) a model's edge boundaries.
type Decoding struct {
	// Decoder is DecoderThreshold, DecoderChangepoint or DecoderHands.
	Decoder *string `json:"decoder,omitempty"`
	// Threshold: a frame is a boundary if its score is above it (default 0.5).
	Threshold *float64 `json:"threshold,omitempty"`
	// Gaps is decode.GapsSplit (default) or decode.GapsKeep.
	Gaps *string `json:"gaps,omitempty"`
	// MinSignFrames: shorter signs are dropped into the boundary (default 0).
	MinSignFrames *int `json:"min_sign_frames,omitempty"`
	// KeepEdgeBoundaries keeps boundary runs touching the first or last two
	// frames, which are usually the video starting or stopping mid-sign
	// (default false: they are dropped).
	KeepEdgeBoundaries *bool       `json:"keep_edge_boundaries,omitempty"`
	Changepoint        Changepoint `json:"changepoint,omitzero"`
}

// Changepoint tunes the changepoint decoder (PELT with the L2 cost); nil
// fields are not set, as in Decoding.
type Changepoint struct {
	// Signal is what PELT runs on: SignalFeatures (default) or
	// SignalMotionEnergy (the built-in motion features only).
	Signal *string `json:"signal,omitempty"`
	// Penalty per changepoint; 0 (the default) derives it from the signal
	// by the rule of the signal, scaled by PenaltyFactor. The authors used
	// 80 on I3D features.
	Penalty       *float64 `json:"penalty,omitempty"`
	PenaltyFactor *float64 `json:"penalty_factor,omitempty"` // default 1
	Jump          *int     `json:"jump,omitempty"`           // candidate changepoints every Jump frames (default 2)
	MinSize       *int     `json:"min_size,omitempty"`       // shortest segment in frames (default 2)
	Dilate        *int     `json:"dilate,omitempty"`         // boundary frames on each side of a changepoint (default 1)
}

// Merge returns d with every field that o sets taken from o.
func (d Decoding) Merge(o Decoding) Decoding {
	take(&d.Decoder, o.Decoder)
	take(&d.Threshold, o.Threshold)
	take(&d.Gaps, o.Gaps)
	take(&d.MinSignFrames, o.MinSignFrames)
	take(&d.KeepEdgeBoundaries, o.KeepEdgeBoundaries)
	c, oc := &d.Changepoint, o.Changepoint
	take(&c.Signal, oc.Signal)
	take(&c.Penalty, oc.Penalty)
	take(&c.PenaltyFactor, oc.PenaltyFactor)
	take(&c.Jump, oc.Jump)
	take(&c.MinSize, oc.MinSize)
	take(&c.Dilate, oc.Dilate)
	return d
}

func take[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

func orDefault[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}

// withDefaults sets every field that is not set to its default, so the
// result can be dereferenced freely. The decoder has no default: a manifest
// names it.
func (d Decoding) withDefaults() Decoding {
	orDefault(&d.Decoder, "")
	orDefault(&d.Threshold, 0.5)
	orDefault(&d.Gaps, decode.GapsSplit)
	orDefault(&d.MinSignFrames, 0)
	orDefault(&d.KeepEdgeBoundaries, false)
	c := &d.Changepoint
	orDefault(&c.Signal, SignalFeatures)
	orDefault(&c.Penalty, 0)
	orDefault(&c.PenaltyFactor, 1)
	orDefault(&c.Jump, 2)
	orDefault(&c.MinSize, 2)
	orDefault(&c.Dilate, 1)
	return d
}

// String describes the settings in effect, for reports.
func (d Decoding) String() string {
	d = d.withDefaults()
	edges := "dropped"
	if *d.KeepEdgeBoundaries {
		edges = "kept"
	}
	s := fmt.Sprintf("%s, threshold %g, gaps %s, min sign frames %d, edge boundaries %s",
		*d.Decoder, *d.Threshold, *d.Gaps, *d.MinSignFrames, edges)
	if *d.Decoder == DecoderChangepoint {
		c := d.Changepoint
		s += fmt.Sprintf("; changepoints on %s, penalty %g × %g, jump %d, min size %d, dilate %d",
			*c.Signal, *c.Penalty, *c.PenaltyFactor, *c.Jump, *c.MinSize, *c.Dilate)
	}
	return s
}

// decodeOptions are the settings of decode.Probabilities.
func (d Decoding) decodeOptions() decode.Options {
	d = d.withDefaults()
	return decode.Options{
		Threshold:          *d.Threshold,
		Gaps:               *d.Gaps,
		MinSignFrames:      *d.MinSignFrames,
		DropEdgeBoundaries: !*d.KeepEdgeBoundaries,
	}
}

// check validates the settings; hasTemporal tells whether the model
// produces probabilities that the threshold decoder needs. Every problem is
// reported, joined.
func (d Decoding) check(hasTemporal bool) error {
	d = d.withDefaults()
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, ok := scorers[*d.Decoder]; !ok {
		var known []string
		for name := range scorers {
			known = append(known, strconv.Quote(name))
		}
		sort.Strings(known)
		add("decoder %q must be one of %s", *d.Decoder, strings.Join(known, ", "))
	} else if *d.Decoder == DecoderThreshold && !hasTemporal {
		add(`decoder "threshold" needs a temporal model; this model has none, use "changepoint"`)
	}
	if t := *d.Threshold; !(t > 0 && t < 1) {
		add("threshold %v must be between 0 and 1", t)
	}
	if g := *d.Gaps; g != decode.GapsSplit && g != decode.GapsKeep {
		add("gaps %q must be %q or %q", g, decode.GapsSplit, decode.GapsKeep)
	}
	if n := *d.MinSignFrames; n < 0 {
		add("min sign frames %d must be ≥ 0", n)
	}
	c := d.Changepoint
	if s := *c.Signal; s != SignalFeatures && s != SignalMotionEnergy {
		add("changepoint signal %q must be %q or %q", s, SignalFeatures, SignalMotionEnergy)
	}
	if !(*c.Penalty >= 0) || !(*c.PenaltyFactor >= 0) || *c.Jump < 1 || *c.MinSize < 1 || *c.Dilate < 0 {
		add("changepoint settings penalty %g, penalty factor %g, jump %d, min size %d, dilate %d: need penalty ≥ 0, factor ≥ 0, jump ≥ 1, min size ≥ 1, dilate ≥ 0",
			*c.Penalty, *c.PenaltyFactor, *c.Jump, *c.MinSize, *c.Dilate)
	}
	return errors.Join(errs...)
}
