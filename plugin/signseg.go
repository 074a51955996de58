package plugin

import (
	"fmt"
	"strings"

	"github.com/signseg/signseg/segment"
)

// Names of signseg's recognizer parameters, in declaration order; ELAN
// sends them in this order.
const (
	ParamVideo         = "video"
	ParamModel         = "model"
	ParamOutputKind    = "output_kind"
	ParamDecoder       = "decoder"
	ParamThreshold     = "threshold"
	ParamGaps          = "gaps"
	ParamMinSignFrames = "min_sign_frames"
	ParamThreads       = "threads"
	ParamSegments      = "segments"
	ParamSentences     = "sentences"
)

// Choices of the output_kind parameter.
const (
	OutputSigns          = "signs"
	OutputBoundaries     = "boundaries"
	OutputBoth           = "both"
	OutputSignsConfident = "signs+confidence"
	OutputAll            = "all"
)

// Auto is the choice of decoder and gaps that keeps the model's setting.
const Auto = "auto"

// Tier (column) names in the output. ELAN names the new tiers after them;
// they contain no spaces because ELAN splits the columns on whitespace.
const (
	ColumnSigns      = "SIGN"
	ColumnConfidence = "SIGN_CONFIDENCE"
	ColumnBoundaries = "BOUNDARY"
	ColumnSentences  = "SENTENCE"
)

// RecognizerID and RecognizerInfo identify signseg in ELAN. The info text is
// what ELAN lists, and it must differ from every other recognizer's.
const (
	RecognizerID   = "signseg_sign_segmentation"
	RecognizerInfo = "signseg - sign segmentation"
)

// NewSpec returns signseg's recognizer description. models are the model
// names offered (the first is the default); names with spaces are left
// out, since ELAN cannot list them. run is the command for the current OS
// and goos selects which run attribute it goes into.
func NewSpec(models []string, goos, run string) Spec {
	var choices []string
	for _, m := range models {
		if m != "" && !strings.ContainsAny(m, " \t\r\n") && !contains(choices, m) {
			choices = append(choices, m)
		}
	}
	def := ""
	if len(choices) > 0 {
		def = choices[0]
	}
	s := Spec{
		ID:   RecognizerID,
		Info: RecognizerInfo,
		Doc:  HelpFile,
		Params: []Param{
			{Kind: Input, Name: ParamVideo, Type: "video", MimeTypes: []string{"video/mp4", "video/mpeg", "video/quicktime", "video/*"}, Info: "Video to segment"},
			{Kind: TextParam, Name: ParamModel, Choices: choices, Default: def, OpenChoice: true, Info: "Model (see signseg doctor)"},
			{Kind: TextParam, Name: ParamOutputKind, Choices: []string{OutputSigns, OutputBoundaries, OutputBoth, OutputSignsConfident, OutputAll}, Default: OutputSigns, Info: "Tiers to create: SIGN, BOUNDARY, SIGN_CONFIDENCE"},
			{Kind: TextParam, Name: ParamDecoder, Advanced: true, Choices: []string{Auto, "threshold", "changepoint"}, Default: Auto, Info: "Decoder (auto = the model's; threshold needs a trained temporal model)"},
			{Kind: NumParam, Name: ParamThreshold, Min: "0", Max: "0.95", Default: "0", Info: "Boundary threshold (0 = the model's: 0.5 for trained models, 0.2 for hands)"},
			{Kind: TextParam, Name: ParamGaps, Advanced: true, Choices: []string{Auto, "split", "keep"}, Default: Auto, Info: "Boundaries between signs: split them between the signs, or keep them as gaps (auto = the model's)"},
			{Kind: NumParam, Name: ParamMinSignFrames, Advanced: true, Int: true, Min: "0", Max: "50", Default: "0", Info: "Shortest sign in frames (0 = the model's setting, 1 = no minimum)"},
			{Kind: NumParam, Name: ParamThreads, Advanced: true, Int: true, Min: "0", Max: "64", Default: "0", Info: "CPU threads (0 = all cores)"},
			{Kind: Output, Name: ParamSegments, Type: "tier", MimeTypes: []string{"text/xml"}, Info: "Segmentation result"},
			{Kind: Output, Name: ParamSentences, Type: "tier", MimeTypes: []string{"text/xml"}, Optional: true, Advanced: true, Info: "Sentences (only models that find them, e.g. slp-2023)"},
		},
	}
	switch goos {
	case "windows":
		s.RunWin = run
	case "darwin":
		s.RunMac = run
	default:
		s.RunLinux = run
	}
	return s
}

// Request is what one recognizer run is asked to do, read from the
// parameters.
type Request struct {
	Video  string // media file to segment
	Output string // TIERS file to write
	// SentencesOutput is the TIERS file for sentences ("" for none); it is
	// written only by models that find sentences.
	SentencesOutput string
	Model           string // model name; "" means signseg's default
	// Decoding overrides the model's decoding where the user chose a value:
	// decoder and gaps unless "auto", the threshold and the minimum sign
	// length unless 0 (the model's).
	Decoding segment.Decoding
	Threads  int // 0 means all cores
	// Which tiers to write.
	Signs, Boundaries, Confidence bool
	Context                       string // ELAN's InvocationContext, if sent
}

// NewRequest checks the parameters against spec and reads them. Unknown
// names are ignored; empty values take the declared defaults.
func NewRequest(spec Spec, p Params) (Request, error) {
	text := func(name string) (string, error) {
		par, _ := spec.Param(name)
		v := strings.TrimSpace(p[name])
		if v == "" {
			v = par.Default
		}
		if v != "" && len(par.Choices) > 0 && !par.OpenChoice && !contains(par.Choices, v) {
			return "", fmt.Errorf("parameter %s: %q is not one of %s", name, v, strings.Join(par.Choices, ", "))
		}
		return v, nil
	}
	num := func(name string) (float64, error) {
		par, _ := spec.Param(name)
		v, ok, err := ParseNumber(par, p[name])
		if err != nil || ok {
			return v, err
		}
		v, _, err = ParseNumber(par, par.Default)
		return v, err
	}
	r := Request{Video: ParsePath(p[ParamVideo]), Output: ParsePath(p[ParamSegments]), SentencesOutput: ParsePath(p[ParamSentences]), Context: p[ContextParam]}
	if r.Video == "" {
		return r, fmt.Errorf("no video given: choose the video in the recognizer's %q field (link it to the document first)", ParamVideo)
	}
	if r.Output == "" {
		return r, fmt.Errorf("no output file given: set the recognizer's %q field", ParamSegments)
	}
	var err error
	var kind string
	if r.Model, err = text(ParamModel); err != nil {
		return r, err
	}
	if kind, err = text(ParamOutputKind); err != nil {
		return r, err
	}
	switch kind {
	case OutputSigns:
		r.Signs = true
	case OutputBoundaries:
		r.Boundaries = true
	case OutputBoth:
		r.Signs, r.Boundaries = true, true
	case OutputSignsConfident:
		r.Signs, r.Confidence = true, true
	case OutputAll:
		r.Signs, r.Boundaries, r.Confidence = true, true, true
	}
	d := &r.Decoding
	for _, c := range []struct {
		param string
		dst   **string
	}{{ParamDecoder, &d.Decoder}, {ParamGaps, &d.Gaps}} {
		v, err := text(c.param)
		if err != nil {
			return r, err
		}
		if v != Auto {
			*c.dst = &v
		}
	}
	threshold, err := num(ParamThreshold)
	if err != nil {
		return r, err
	}
	if threshold > 0 {
		d.Threshold = &threshold
	}
	f, err := num(ParamMinSignFrames)
	if err != nil {
		return r, err
	}
	if f >= 1 {
		d.MinSignFrames = new(int(f))
	}
	if f, err = num(ParamThreads); err != nil {
		return r, err
	}
	r.Threads = int(f)
	return r, nil
}
