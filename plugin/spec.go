// Package plugin makes signseg an ELAN "local recognizer": it writes the
// CMDI descriptor and launcher that ELAN discovers in its extensions
// folder, reads the parameter document ELAN sends on stdin (in the
// dialects of ELAN 4.5, 5.x and 6.x), speaks the PROGRESS/RESULT protocol
// on stdout and writes the result as a TIERS file that ELAN turns into
// tiers.
//
// The package knows nothing about models or ONNX: Recognize takes a Runner
// that does the segmentation. The protocol follows the reference notes in
// the development checkout (specs/elan-recognizer.md), which cite ELAN's
// own sources.
package plugin

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Kind is the element a parameter is declared with in the CMDI.
type Kind string

// Parameter kinds, named after their CMDI elements.
const (
	Input     Kind = "input"     // a file ELAN passes in (the video)
	Output    Kind = "output"    // a file the recognizer writes
	NumParam  Kind = "numparam"  // a number, shown as a slider
	TextParam Kind = "textparam" // text, or a drop-down when Choices is set
)

// Param is one recognizer parameter. Its Name is the key in the parameter
// document, so it must match [A-Za-z0-9_]: ELAN writes it unescaped.
type Param struct {
	Kind     Kind
	Name     string
	Info     string // label in ELAN; ELAN drops a parameter without one
	Advanced bool   // shown in the "advanced" dialog
	// Input and Output: the file type (video, tier, ...), mime types and
	// whether the user may leave it empty.
	Type      string
	MimeTypes []string
	Optional  bool
	// NumParam: bounds and default as written in the CMDI; their decimals
	// set the slider's precision. Int makes it an integer slider.
	Min, Max, Default string
	Int               bool
	// TextParam: the default (also for NumParam above) and the drop-down
	// items, which cannot contain spaces.
	Choices []string
	// OpenChoice accepts values outside Choices (checked later, e.g. a
	// model name that the model loader resolves).
	OpenChoice bool
}

// Spec describes a recognizer: what ELAN lists and how it starts it.
type Spec struct {
	ID   string // recognizer id: key for ELAN's saved presets
	Info string // name shown in ELAN; must be unique among recognizers
	// Run commands per OS. ELAN splits them on whitespace without quoting,
	// so no token may contain a space. An empty command is left out (an
	// empty attribute would list a recognizer that cannot start).
	RunLinux, RunMac, RunWin string
	Doc                      string // help file name, relative to the folder
	Params                   []Param
}

// Param returns the parameter called name.
func (s *Spec) Param(name string) (Param, bool) {
	for _, p := range s.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// check enforces the rules under which ELAN silently drops a recognizer or
// a parameter, so that a broken descriptor fails at install time.
func (s *Spec) check() error {
	if s.ID == "" || s.Info == "" {
		return fmt.Errorf("recognizer needs an id and an info text")
	}
	if s.RunLinux == "" && s.RunMac == "" && s.RunWin == "" {
		return fmt.Errorf("recognizer %s has no run command", s.ID)
	}
	seen := map[string]bool{}
	for _, p := range s.Params {
		if !validName(p.Name) || p.Name == ContextParam {
			return fmt.Errorf("parameter name %q: use letters, digits and _ only", p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("parameter %s declared twice", p.Name)
		}
		seen[p.Name] = true
		if p.Info == "" {
			return fmt.Errorf("parameter %s has no info text; ELAN would drop it", p.Name)
		}
		switch p.Kind {
		case NumParam:
			lo, err1 := strconv.ParseFloat(p.Min, 32)
			hi, err2 := strconv.ParseFloat(p.Max, 32)
			def, err3 := strconv.ParseFloat(p.Default, 32)
			if err1 != nil || err2 != nil || err3 != nil || !(lo < hi) || def < lo || def > hi {
				return fmt.Errorf("numparam %s: need numbers min < max and default within them", p.Name)
			}
		case TextParam:
			for _, c := range p.Choices {
				if c == "" || strings.ContainsAny(c, " \t\r\n") {
					return fmt.Errorf("textparam %s: choice %q is empty or contains a space", p.Name, c)
				}
			}
			if len(p.Choices) > 0 && !contains(p.Choices, p.Default) {
				return fmt.Errorf("textparam %s: default %q is not one of its choices", p.Name, p.Default)
			}
		case Input, Output:
			if p.Type == "" {
				return fmt.Errorf("%s %s has no type", p.Kind, p.Name)
			}
		default:
			return fmt.Errorf("parameter %s: unknown kind %q", p.Name, p.Kind)
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// CMDI returns the descriptor ELAN reads: a CLARIN CMD envelope holding one
// RECOGNIZER component.
func (s *Spec) CMDI() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<CMD CMDVersion="1.1" xmlns="http://www.clarin.eu/cmd/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + "\n")
	b.WriteString("  <Header/>\n  <Resources><ResourceProxyList/><JournalFileProxyList/><ResourceRelationList/></Resources>\n  <Components>\n    <RECOGNIZER>\n")
	b.WriteString(`      <recognizer recognizerType="local"`)
	attr(&b, "runLinux", s.RunLinux)
	attr(&b, "runMac", s.RunMac)
	attr(&b, "runWin", s.RunWin)
	attr(&b, "info", s.Info)
	b.WriteString(">" + esc(s.ID) + "</recognizer>\n")
	if s.Doc != "" {
		b.WriteString("      <documentation>" + esc(s.Doc) + "</documentation>\n")
	}
	for _, p := range s.Params {
		b.WriteString("      <" + string(p.Kind))
		level := "basic"
		if p.Advanced {
			level = "advanced"
		}
		attr(&b, "level", level)
		switch p.Kind {
		case Input, Output:
			attr(&b, "type", p.Type)
			attr(&b, "optional", strconv.FormatBool(p.Optional))
			attr(&b, "mimetypes", strings.Join(p.MimeTypes, " "))
		case NumParam:
			typ := "float"
			if p.Int {
				typ = "int"
			}
			attr(&b, "type", typ)
			attr(&b, "min", p.Min)
			attr(&b, "max", p.Max)
			attr(&b, "default", p.Default)
		case TextParam:
			if len(p.Choices) > 0 {
				attr(&b, "convoc", strings.Join(p.Choices, " "))
			}
			attr(&b, "default", p.Default)
		}
		attr(&b, "info", p.Info)
		b.WriteString(">" + p.Name + "</" + string(p.Kind) + ">\n")
	}
	b.WriteString("    </RECOGNIZER>\n  </Components>\n</CMD>\n")
	return b.Bytes(), nil
}

func attr(b *bytes.Buffer, name, value string) {
	if value == "" && name != "default" {
		return
	}
	b.WriteString(" " + name + `="` + esc(value) + `"`)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder, cannot fail
	return b.String()
}
