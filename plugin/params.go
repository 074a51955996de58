package plugin

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ContextParam is the parameter ELAN 5.x and 6.x send first: the
// recognizer id and a time stamp. It is informational only.
const ContextParam = "InvocationContext"

// Params are the values of one parameter document, by name. Values are
// trimmed; an empty value means "not given".
type Params map[string]string

// ParseParams reads the PARAM document ELAN writes on the recognizer's
// stdin. Bytes that are not valid UTF-8 are read as Windows-1252 (ELAN 5.x
// writes the platform charset). The document is parsed as XML first; if
// that fails, as ELAN 4.5's unescaped values (a path with & or <) make it
// do, every line is matched against <param name="...">...</param>
// instead, the way ELAN's own sample recognizers read it.
func ParseParams(data []byte) (Params, error) {
	text := decodeText(data)
	if p, err := parseParamXML(text); err == nil {
		return p, nil
	}
	p := Params{}
	found := false
	for _, line := range strings.Split(text, "\n") {
		for _, m := range paramLine.FindAllStringSubmatch(line, -1) {
			p[m[1]] = strings.TrimSpace(unescape5(m[2]))
			found = true
		}
	}
	if !found {
		if strings.TrimSpace(text) == "" {
			return Params{}, nil
		}
		return nil, errors.New("the parameter document from ELAN has no <param> elements; it is not ELAN's PARAM format")
	}
	return p, nil
}

var paramLine = regexp.MustCompile(`<param name="(.*?)".*?>(.*?)</param>`)

var entities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

func unescape5(s string) string { return entities.Replace(s) }

func parseParamXML(text string) (Params, error) {
	dec := xml.NewDecoder(strings.NewReader(text))
	// The text is already UTF-8, whatever the declaration says.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var doc struct {
		XMLName xml.Name `xml:"PARAM"`
		Params  []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"param"`
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	p := Params{}
	for _, e := range doc.Params {
		p[e.Name] = strings.TrimSpace(e.Value)
	}
	return p, nil
}

// decodeText returns data as UTF-8 text, reading it as Windows-1252 when
// it is not valid UTF-8. A UTF-8 byte-order mark is dropped.
func decodeText(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data)
	}
	var b strings.Builder
	for _, c := range data {
		if c >= 0x80 && c < 0xa0 {
			b.WriteRune(cp1252[c-0x80])
		} else {
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// cp1252 maps bytes 0x80–0x9F of Windows-1252; the other bytes are the
// Latin-1 code points. The five undefined bytes map to U+FFFD.
var cp1252 = [32]rune{
	'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
	'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
}

// javaFloatMin is Java's Float.MIN_VALUE as Float.toString writes it: the
// value of a numeric parameter that was never set.
const javaFloatMin = "1.4E-45"

// ParseNumber reads a numeric parameter as ELAN writes it (Java
// Float.toString: "0.0", "-25.0", "1.0E-4"). It returns ok=false for an
// empty value or Float.MIN_VALUE, which both mean "use the default". The
// value is clamped to p's bounds and rounded to its precision: whole
// numbers for an int parameter, else the decimals of min and max, plus one
// when max − min < 1 (the slider's step), which also removes float32
// noise such as 0.35000002.
func ParseNumber(p Param, s string) (v float64, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == javaFloatMin {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("parameter %s: %q is not a number", p.Name, s)
	}
	lo, _ := strconv.ParseFloat(p.Min, 64)
	hi, _ := strconv.ParseFloat(p.Max, 64)
	v = min(max(v, lo), hi)
	if p.Int {
		return math.Round(v), true, nil
	}
	digits := max(decimals(p.Min), decimals(p.Max))
	if hi-lo < 1 {
		digits++
	}
	scale := math.Pow(10, float64(digits))
	return math.Round(v*scale) / scale, true, nil
}

func decimals(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// ParsePath turns a file parameter into a path: a "file:" prefix is
// removed, and "///C:/x" (a Windows drive after a URL's slashes) becomes
// "C:\x", as ELAN does for its own file parameters; a Unix path written as
// "///home/x" keeps one slash. Other values are returned unchanged.
func ParsePath(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "file:")
	if len(s) > 5 && strings.HasPrefix(s, "///") && isLetter(s[3]) && s[4] == ':' {
		return strings.ReplaceAll(s[3:], "/", `\`)
	}
	if strings.HasPrefix(s, "///") {
		s = "/" + strings.TrimLeft(s, "/")
	}
	return s
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
