// Package elantest emulates ELAN's host side of the local recognizer
// protocol, for tests: it discovers recognizers in an extensions folder
// and reads their CMDI the way ELAN does, writes the parameter document in
// the dialect of ELAN 4.5, 5.8 or 6.9, starts the run command the way ELAN
// does (split on whitespace, recognizer folder as working directory,
// minimal environment, stderr merged into stdout), interprets the stdout
// lines with ELAN's rules and reads the output tier files with ELAN's tier
// reader, including its float32 arithmetic for times in seconds.
//
// It is written from the protocol notes (specs/elan-recognizer.md in the
// development checkout), independently of package plugin, so that tests
// of the plugin check it against ELAN's behaviour rather than against
// itself.
package elantest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Version is the ELAN release whose host behaviour is emulated.
type Version int

// The emulated ELAN releases.
const (
	ELAN45 Version = iota // no InvocationContext, values not escaped, platform charset
	ELAN58                // InvocationContext, escaped values, platform charset
	ELAN69                // InvocationContext, escaped values, UTF-8
)

func (v Version) String() string {
	return [...]string{"ELAN 4.5", "ELAN 5.8", "ELAN 6.9"}[v]
}

// Param is one recognizer parameter as ELAN reads it from the CMDI.
type Param struct {
	Element  string // input, output, numparam or textparam
	Name     string
	Type     string // file type (input/output) or int/float (numparam)
	Info     string
	Level    string
	Optional bool // input/output; default true
	Mime     []string
	// numparam: parsed as Java float; textparam: Default and Convoc.
	Min, Max, NumDefault float32
	Default              string
	Convoc               []string
}

// IsFile reports whether the parameter is an input or output file.
func (p Param) IsFile() bool { return p.Element == "input" || p.Element == "output" }

// Recognizer is one recognizer found in an extensions folder.
type Recognizer struct {
	Dir, CMDI string // its folder (the working directory) and descriptor
	ID, Info  string
	Type      string            // local, direct or shared
	RunCmd    map[string]string // "windows", "darwin", "linux" → run attribute
	Doc       string
	Params    []Param
	Media     string // "video", "audio" or "other": the list ELAN shows it in
}

// Scan finds recognizers as ELAN's availability detector does: each
// sub-folder of dir, one level deep, each file in it ending in .cmdi (any
// case) and not starting with '.'. Recognizers are keyed by their info
// text: a later one with the same text replaces an earlier one. Those
// without a run command for goos are dropped.
func Scan(dir, goos string) ([]*Recognizer, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	byInfo := map[string]*Recognizer{}
	var order []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		files, err := os.ReadDir(sub)
		if err != nil {
			continue
		}
		for _, f := range files {
			name := f.Name()
			if f.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(strings.ToLower(name), ".cmdi") {
				continue
			}
			r, err := ParseCMDI(filepath.Join(sub, name))
			if err != nil || r == nil {
				continue
			}
			if r.Type != "local" && r.Type != "direct" && r.Type != "shared" {
				continue
			}
			if _, ok := r.RunCmd[goos]; !ok {
				continue
			}
			if _, ok := byInfo[r.Info]; !ok {
				order = append(order, r.Info)
			}
			byInfo[r.Info] = r
		}
	}
	var out []*Recognizer
	for _, k := range order {
		out = append(out, byInfo[k])
	}
	return out, nil
}

// ParseCMDI reads a descriptor by local element names, as ELAN's
// non-validating SAX parser does. It returns nil when the file has no
// RECOGNIZER element. Parameters without an info attribute, numparams
// whose min is not below max and files of unknown types are dropped.
func ParseCMDI(path string) (*Recognizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var r *Recognizer
	var cur *Param
	var text strings.Builder
	var inRecognizer, inDoc bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			a := attrs(t)
			text.Reset()
			switch t.Name.Local {
			case "RECOGNIZER":
				r = &Recognizer{Dir: filepath.Dir(path), CMDI: path, RunCmd: map[string]string{}}
			case "recognizer":
				if r == nil {
					continue
				}
				inRecognizer = true
				r.Type = a["recognizerType"]
				r.Info = a["info"]
				for attr, goos := range map[string]string{"runWin": "windows", "runMac": "darwin", "runLinux": "linux"} {
					if v, ok := a[attr]; ok {
						r.RunCmd[goos] = v
					}
				}
			case "documentation":
				inDoc = true
			case "input", "output", "numparam", "textparam":
				if r == nil {
					continue
				}
				info, hasInfo := a["info"]
				if !hasInfo {
					continue
				}
				p := Param{Element: t.Name.Local, Info: info, Type: a["type"], Level: a["level"], Default: a["default"], Optional: true}
				if p.Level == "" {
					p.Level = "basic"
				}
				switch p.Element {
				case "input", "output":
					if v, ok := a["optional"]; ok {
						p.Optional = v != "false"
					}
					p.Mime = strings.Fields(a["mimetypes"])
					switch p.Type {
					case "audio", "video", "tier", "multitier", "csvtier", "timeseries", "csvtimeseries", "auxiliary":
					default:
						continue
					}
				case "numparam":
					p.Optional = false
					p.Min, _ = javaFloat(a["min"])
					p.Max, _ = javaFloat(a["max"])
					p.NumDefault, _ = javaFloat(a["default"])
					if !(p.Min < p.Max) {
						continue
					}
				case "textparam":
					p.Optional = false
					p.Convoc = strings.Fields(a["convoc"])
				}
				cur = &p
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			switch t.Name.Local {
			case "recognizer":
				if inRecognizer && r != nil {
					r.ID = strings.TrimSpace(text.String())
				}
				inRecognizer = false
			case "documentation":
				if inDoc && r != nil {
					r.Doc = strings.TrimSpace(text.String())
				}
				inDoc = false
			case "input", "output", "numparam", "textparam":
				if cur != nil && r != nil {
					cur.Name = strings.TrimSpace(text.String())
					r.Params = append(r.Params, *cur)
				}
				cur = nil
			}
		}
	}
	if r == nil {
		return nil, nil
	}
	r.Media = "other"
	for _, p := range r.Params {
		if p.Element == "input" && p.Type == "audio" && r.Media == "other" {
			r.Media = "audio"
		}
		if p.Element == "input" && p.Type == "video" {
			r.Media = "video"
		}
	}
	return r, nil
}

func attrs(t xml.StartElement) map[string]string {
	m := map[string]string{}
	for _, a := range t.Attr {
		m[a.Name.Local] = a.Value
	}
	return m
}

// javaFloat parses like Java's Float.parseFloat (surrounding whitespace
// allowed).
func javaFloat(s string) (float32, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "f"), "F")
	f, err := strconv.ParseFloat(s, 32)
	return float32(f), err
}

// JavaFloatString formats f as Java's Float.toString does (JDK 19 and
// later): the shortest decimal that reads back as f, but at least two
// significant digits when a two-digit decimal is closer (so
// Float.MIN_VALUE is "1.4E-45", not "1.0E-45"); at least one digit after
// the point; computerized scientific notation ("1.0E-4") when |f| < 10⁻³
// or |f| ≥ 10⁷.
func JavaFloatString(f float32) string {
	if f == 0 {
		if math.Signbit(float64(f)) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	digits, exp := sciDigits(strconv.FormatFloat(float64(f), 'e', -1, 32))
	if len(digits) == 1 {
		s2 := strconv.FormatFloat(float64(f), 'e', 1, 32)
		if back, err := strconv.ParseFloat(s2, 32); err == nil && float32(back) == f {
			digits, exp = sciDigits(s2)
		}
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		digits = "0"
	}
	if f >= 1e-3 && f < 1e7 {
		var intPart, frac string
		if exp >= 0 {
			for len(digits) < exp+1 {
				digits += "0"
			}
			intPart, frac = digits[:exp+1], digits[exp+1:]
		} else {
			intPart, frac = "0", strings.Repeat("0", -exp-1)+digits
		}
		if frac == "" {
			frac = "0"
		}
		return sign + intPart + "." + frac
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return sign + digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
}

// sciDigits splits Go's "d.ddde±x" into its digits and exponent.
func sciDigits(s string) (string, int) {
	mant, e, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(e)
	return strings.ReplaceAll(mant, ".", ""), exp
}

// Options describe one run.
type Options struct {
	Version Version
	// Values are the user's settings by parameter name: numbers as text
	// (read into float32 like ELAN's slider), text, and file paths.
	// Parameters not set take their defaults; a file parameter not set is
	// empty, except a non-optional output, which ELAN creates (see
	// MediaDir).
	Values map[string]string
	// MediaDir is the folder of the document's first media file, where
	// ELAN pre-creates output files.
	MediaDir string
	// Charset of the parameter document: "UTF-8" (default, and always for
	// ELAN 6.9) or "windows-1252" (ELAN 4.5/5.8 on many Windows machines).
	Charset string
	// LineSep ends each line of the document: "\n" (default) or "\r\n".
	LineSep string
	// Env is the recognizer's environment; nil means the minimal one of a
	// desktop start: no PATH, the C locale.
	Env []string
	// CancelAt, when set, is called with each stdout line; returning true
	// stops the process as ELAN's Stop button does (SIGTERM).
	CancelAt func(line string) bool
	// Now is the start time written into InvocationContext; zero means
	// time.Now.
	Now time.Time
}

// Outcome is how ELAN ended the run.
type Outcome string

// Outcomes.
const (
	Done       Outcome = "done"      // RESULT: DONE.
	Failed     Outcome = "failed"    // RESULT: FAILED.
	Finished   Outcome = "finished"  // progress reached 1.0, or a line "0"
	EOT        Outcome = "eot"       // a line with U+0004
	UnexpEOF   Outcome = "eof"       // end of stream without RESULT (an error dialog in ELAN ≥ 5.8)
	Cancelled  Outcome = "cancelled" // stopped by CancelAt
	LoggedOnly Outcome = "eof (4.5)" // end of stream without RESULT in ELAN 4.5: only logged
)

// Output is an output file parameter after the run.
type Output struct {
	Param string
	Path  string
	// Qualifies is ELAN's check: the file exists, is readable and was
	// modified at or after the start time rounded down to seconds.
	Qualifies bool
	// Tiers is what ELAN loads from it (nil with Err set when the reader
	// refuses the file).
	Tiers []Tier
	Err   error
}

// Result is the record of one run.
type Result struct {
	Stdin    []byte   // the parameter document sent
	Lines    []string // every stdout/stderr line, as ELAN's report shows them
	After    []string // lines after the one that ended ELAN's reading
	Progress []float64
	Outcome  Outcome
	// Outputs are checked at the moment ELAN checks them: when the run
	// finished (RESULT: DONE., progress ≥ 1, a line "0"). For other
	// outcomes they are checked after the process ended, for tests.
	Outputs  []Output
	ExitCode int
	Start    time.Time
}

// ParamDocument returns the document ELAN writes on stdin for values, in
// the dialect of v, before charset encoding.
func (r *Recognizer) ParamDocument(v Version, values map[string]string, now time.Time, sep string) string {
	if sep == "" {
		sep = "\n"
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + sep)
	b.WriteString(`<PARAM xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="file:avatech-call.xsd">` + sep)
	esc := xmlEscape
	if v == ELAN45 {
		esc = func(s string) string { return s }
	} else {
		id := r.ID
		if id == "" {
			id = "Unknown"
		}
		b.WriteString(`<param name="InvocationContext">` + esc(id+" "+now.Format("2006-01-02 15:04:05-0700")) + "</param>" + sep)
	}
	for _, p := range r.Params {
		val := values[p.Name]
		switch p.Element {
		case "numparam":
			f := p.NumDefault
			if s, ok := values[p.Name]; ok {
				x, err := javaFloat(s)
				if err == nil {
					f = x
				}
			}
			val = JavaFloatString(f)
		case "textparam":
			if val == "" {
				val = p.Default
			}
		}
		b.WriteString(`<param name="` + p.Name + `">` + esc(val) + "</param>" + sep)
	}
	b.WriteString("</PARAM>" + sep)
	return b.String()
}

// xmlEscape is ELAN's XMLEscape: the five entities, characters below
// U+0020 dropped.
func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&apos;")
		case '"':
			b.WriteString("&quot;")
		default:
			if r >= 0x20 {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// EncodeCP1252 encodes s in Windows-1252; characters it lacks become '?',
// as Java's encoder does.
func EncodeCP1252(s string) []byte {
	var out []byte
	for _, r := range s {
		switch {
		case r < 0x80 || r >= 0xa0 && r <= 0xff:
			out = append(out, byte(r))
		default:
			c := byte('?')
			for i, x := range cp1252High {
				if x == r {
					c = byte(0x80 + i)
				}
			}
			out = append(out, c)
		}
	}
	return out
}

var cp1252High = []rune("€\x00‚ƒ„…†‡ˆ‰Š‹Œ\x00Ž\x00\x00‘’“”•–—˜™š›œ\x00žŸ")

// Run starts the recognizer as ELAN does and follows its output.
func (r *Recognizer) Run(ctx context.Context, opt Options) (*Result, error) {
	cmdline, ok := r.RunCmd[runtime.GOOS]
	if !ok || strings.TrimSpace(cmdline) == "" {
		return nil, errors.New("No run command found")
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	values := map[string]string{}
	for k, v := range opt.Values {
		values[k] = v
	}
	// ARP.autoCreateOutputFile: an empty file for each empty non-optional
	// output, in the first media file's folder.
	for _, p := range r.Params {
		if p.Element == "output" && !p.Optional && values[p.Name] == "" {
			dir := opt.MediaDir
			if dir == "" {
				dir = os.TempDir()
			}
			f, err := os.CreateTemp(dir, "media_"+p.Name+"*.xml")
			if err != nil {
				return nil, err
			}
			f.Close()
			values[p.Name] = f.Name()
		}
	}
	doc := r.ParamDocument(opt.Version, values, now, opt.LineSep)
	stdin := []byte(doc)
	if opt.Charset == "windows-1252" && opt.Version != ELAN69 {
		stdin = EncodeCP1252(doc)
	}
	res := &Result{Stdin: stdin}

	tokens := strings.FieldsFunc(cmdline, func(c rune) bool { return strings.ContainsRune(" \t\n\r\f", c) })
	cmd := exec.Command(tokens[0], tokens[1:]...)
	if !strings.ContainsAny(tokens[0], `/\`) {
		// No PATH lookup in the minimal environment; the name is taken
		// as is, as the JVM's exec would.
		cmd.Path = tokens[0]
		cmd.Err = nil
	}
	cmd.Dir = r.Dir
	cmd.Env = opt.Env
	if cmd.Env == nil {
		cmd.Env = []string{"LANG=C", "LC_ALL=C"}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw // redirectErrorStream(true)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	res.Start = time.Now().Truncate(time.Second)
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return nil, err
	}
	pw.Close()
	go func() {
		// A recognizer with no parameters gets nothing; ELAN then closes
		// stdin.
		if len(r.Params) > 0 {
			in.Write(stdin)
		}
		in.Close()
	}()
	stop := context.AfterFunc(ctx, func() { cmd.Process.Signal(syscall.SIGTERM) })
	defer stop()

	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	last := -1.0
	ended := false
	for sc.Scan() {
		line := sc.Text()
		if ended {
			res.After = append(res.After, line)
			continue
		}
		res.Lines = append(res.Lines, line)
		if opt.CancelAt != nil && res.Outcome == "" && opt.CancelAt(line) {
			res.Outcome = Cancelled
			cmd.Process.Signal(syscall.SIGTERM)
			continue
		}
		if res.Outcome == Cancelled {
			continue
		}
		switch {
		case line == "RESULT: DONE.":
			res.Outcome, ended = Done, true
		case line == "RESULT: FAILED.":
			res.Outcome, ended = Failed, true
		case line == "0":
			res.Outcome, ended = Finished, true
		case line == "\x04":
			res.Outcome, ended = EOT, true
		case strings.HasPrefix(line, "PROGRESS:"):
			v, ok := progressValue(line)
			if !ok {
				break
			}
			if v <= last {
				v = last
			}
			last = v
			res.Progress = append(res.Progress, v)
			if v >= 1 {
				res.Outcome, ended = Finished, true
			}
		}
		if ended && res.Outcome != Failed && res.Outcome != EOT {
			// ELAN checks the outputs at once, while the process may
			// still be running.
			res.Outputs = r.checkOutputs(values, res.Start)
		}
	}
	waitErr := cmd.Wait()
	pr.Close()
	res.ExitCode = cmd.ProcessState.ExitCode()
	if ee := (*exec.ExitError)(nil); errors.As(waitErr, &ee) && res.ExitCode == -1 {
		res.ExitCode = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
	}
	if res.Outcome == "" {
		res.Outcome = UnexpEOF
		if opt.Version == ELAN45 {
			res.Outcome = LoggedOnly
		}
	}
	if res.Outputs == nil {
		res.Outputs = r.checkOutputs(values, res.Start)
	}
	return res, nil
}

// progressValue reads "PROGRESS: 0.42 msg" or "PROGRESS: 42%": the text
// after the first colon must be at least two characters, the value ends
// at the first space after it.
func progressValue(line string) (float64, bool) {
	col := strings.IndexByte(line, ':')
	if !(col < len(line)-2) {
		return 0, false
	}
	rest := strings.TrimSpace(line[col+1:])
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	if strings.HasSuffix(rest, "%") {
		f, err := javaFloat(strings.TrimSuffix(rest, "%"))
		return float64(f) / 100, err == nil
	}
	f, err := javaFloat(rest)
	return float64(f), err == nil
}

func (r *Recognizer) checkOutputs(values map[string]string, start time.Time) []Output {
	var out []Output
	for _, p := range r.Params {
		if p.Element != "output" || (p.Type != "tier" && p.Type != "multitier" && p.Type != "csvtier") {
			continue
		}
		path := values[p.Name]
		o := Output{Param: p.Name, Path: path}
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() && !fi.ModTime().Before(start) {
			if f, err := os.Open(path); err == nil {
				f.Close()
				o.Qualifies = true
			}
		}
		if o.Qualifies && p.Type == "tier" {
			o.Tiers, o.Err = ReadTierFile(path)
		}
		out = append(out, o)
	}
	return out
}

// Tier is one tier ELAN creates from a tier file.
type Tier struct {
	Name     string
	Segments []Segment
}

// Segment is one annotation, times in milliseconds.
type Segment struct {
	Begin, End int64
	Label      string
}

// ReadTierFile reads a TIER or TIERS file as ELAN's XmlTierIO does: the
// columns attribute is split on whitespace into tier names (a leading #
// removed); each span has one v per column; a time containing '.' is
// seconds read as a 32-bit float (1000 × value, truncated), otherwise
// whole milliseconds; spans whose times do not parse are dropped.
func ReadTierFile(path string) ([]Tier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type span struct {
		Start string   `xml:"start,attr"`
		End   string   `xml:"end,attr"`
		V     []string `xml:"v"`
	}
	type tierEl struct {
		Columns string `xml:"columns,attr"`
		Spans   []span `xml:"span"`
	}
	var root struct {
		XMLName xml.Name
		tierEl
		Tiers []tierEl `xml:"TIER"`
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("No tiers found in the TIER file")
	}
	if err := xml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	var els []tierEl
	switch root.XMLName.Local {
	case "TIER":
		els = []tierEl{root.tierEl}
	case "TIERS":
		els = root.Tiers
	}
	if len(els) == 0 {
		return nil, errors.New("No tiers found in the TIER file")
	}
	var out []Tier
	for _, el := range els {
		var names []string
		for _, c := range strings.Fields(el.Columns) {
			names = append(names, strings.TrimPrefix(c, "#"))
		}
		if len(names) == 0 {
			return nil, errors.New("No tiernames found, cannot create tiers.")
		}
		tiers := make([]Tier, len(names))
		for i := range names {
			tiers[i].Name = names[i]
		}
		for _, s := range el.Spans {
			b, ok1 := TierTime(s.Start)
			e, ok2 := TierTime(s.End)
			if !ok1 || !ok2 {
				continue
			}
			for i := range tiers {
				label := ""
				if i < len(s.V) {
					label = strings.TrimSpace(s.V[i])
				}
				tiers[i].Segments = append(tiers[i].Segments, Segment{b, e, label})
			}
		}
		out = append(out, tiers...)
	}
	return out, nil
}

// TierTime converts a time attribute as ELAN's tier reader does.
func TierTime(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ".") {
		f, err := javaFloat(s)
		if err != nil {
			return 0, false
		}
		return int64(float32(1000) * f), true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// CheckTiers applies the rules of ELAN's tier creation: annotations need
// end > begin and may not overlap within a tier (touching is fine), and
// tier names must be unique. It returns every violation.
func CheckTiers(tiers []Tier) error {
	var errs []string
	names := map[string]bool{}
	for _, t := range tiers {
		if names[t.Name] {
			errs = append(errs, fmt.Sprintf("tier %s appears twice", t.Name))
		}
		names[t.Name] = true
		segs := append([]Segment(nil), t.Segments...)
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].Begin < segs[j].Begin })
		for i, s := range segs {
			if s.End <= s.Begin {
				errs = append(errs, fmt.Sprintf("tier %s: %d–%d ms has end ≤ begin", t.Name, s.Begin, s.End))
			}
			if i > 0 && s.Begin < segs[i-1].End {
				errs = append(errs, fmt.Sprintf("tier %s: %d–%d ms overlaps %d–%d ms", t.Name, s.Begin, s.End, segs[i-1].Begin, segs[i-1].End))
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

var nonASCII = regexp.MustCompile(`[^\x20-\x7e]`)

// NonASCIILines returns the lines that are not printable ASCII.
func NonASCIILines(lines []string) []string {
	var bad []string
	for _, l := range lines {
		if nonASCII.MatchString(l) {
			bad = append(bad, l)
		}
	}
	return bad
}
