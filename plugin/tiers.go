package plugin

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/signseg/signseg/internal/atomicfile"
)

// Span is one segment in media time, in milliseconds [BeginMS, EndMS).
type Span struct {
	BeginMS, EndMS int64
	Confidence     float64 // 0–1
}

// Result is what a Runner found in the video.
type Result struct {
	Signs, Boundaries []Span
	Sentences         []Span // nil when the model finds no sentences
	// Warnings are shown in ELAN's report, one line each.
	Warnings []string
}

// SentenceTiers is the sentence output's one tier.
func SentenceTiers(res Result) []Tier {
	t := Tier{Columns: []string{ColumnSentences}}
	for _, s := range clean(res.Sentences) {
		t.Spans = append(t.Spans, TierSpan{s.BeginMS, s.EndMS, []string{""}})
	}
	return []Tier{t}
}

// Tier is one TIER element: its columns become ELAN tiers with the same
// spans, each span carrying one value per column.
type Tier struct {
	Columns []string
	Spans   []TierSpan
}

// TierSpan is one span of a Tier, with one value per column.
type TierSpan struct {
	BeginMS, EndMS int64
	Values         []string
}

// Tiers builds the output tiers that r asks for from res. Spans are made
// safe for ELAN, which refuses an annotation with end ≤ begin and tiers
// with overlapping annotations: they are sorted, a span that starts
// inside the previous one starts at its end, and empty spans are dropped.
func (r Request) Tiers(res Result) []Tier {
	var out []Tier
	if r.Signs {
		t := Tier{Columns: []string{ColumnSigns}}
		if r.Confidence {
			t.Columns = append(t.Columns, ColumnConfidence)
		}
		for _, s := range clean(res.Signs) {
			v := []string{""}
			if r.Confidence {
				v = append(v, strconv.FormatFloat(s.Confidence, 'f', 2, 64))
			}
			t.Spans = append(t.Spans, TierSpan{s.BeginMS, s.EndMS, v})
		}
		out = append(out, t)
	}
	if r.Boundaries {
		t := Tier{Columns: []string{ColumnBoundaries}}
		for _, s := range clean(res.Boundaries) {
			t.Spans = append(t.Spans, TierSpan{s.BeginMS, s.EndMS, []string{""}})
		}
		out = append(out, t)
	}
	return out
}

func clean(spans []Span) []Span {
	s := append([]Span(nil), spans...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].BeginMS < s[j].BeginMS })
	out := s[:0]
	for _, sp := range s {
		if n := len(out); n > 0 && sp.BeginMS < out[n-1].EndMS {
			sp.BeginMS = out[n-1].EndMS
		}
		sp.BeginMS = max(sp.BeginMS, 0)
		if sp.EndMS > sp.BeginMS {
			out = append(out, sp)
		}
	}
	return out
}

// MarshalTiers writes tiers as a TIERS document. Times are integer
// milliseconds without a decimal point: ELAN reads a value with a '.' as
// seconds through a 32-bit float, which loses a millisecond for some
// values, and a value without one as exact milliseconds.
func MarshalTiers(tiers []Tier) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<TIERS xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="file:avatech-tiers.xsd">` + "\n")
	for _, t := range tiers {
		if len(t.Columns) == 0 {
			return nil, fmt.Errorf("a tier has no column names")
		}
		for _, c := range t.Columns {
			if c == "" || strings.ContainsAny(c, " \t\r\n") || strings.HasPrefix(c, "#") {
				return nil, fmt.Errorf("tier name %q: ELAN needs names without spaces or a leading #", c)
			}
		}
		b.WriteString(`    <TIER columns="` + esc(strings.Join(t.Columns, " ")) + "\">\n")
		for _, s := range t.Spans {
			if len(s.Values) != len(t.Columns) {
				return nil, fmt.Errorf("span %d–%d ms has %d values for %d columns", s.BeginMS, s.EndMS, len(s.Values), len(t.Columns))
			}
			fmt.Fprintf(&b, `        <span start="%d" end="%d">`, s.BeginMS, s.EndMS)
			for _, v := range s.Values {
				b.WriteString("<v>" + esc(v) + "</v>")
			}
			b.WriteString("</span>\n")
		}
		b.WriteString("    </TIER>\n")
	}
	b.WriteString("</TIERS>\n")
	return b.Bytes(), nil
}

// WriteFileAtomic replaces path with data: it writes a temporary file in
// the same folder, syncs it and renames it over path, so that path holds
// either its old content (usually the empty file ELAN created) or all of
// data, never part of it. The file keeps path's permissions if it exists.
func WriteFileAtomic(path string, data []byte) error {
	err := atomicfile.WriteFile(path, data, atomicfile.Options{})
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("ELAN output file: %w (is its folder writable?)", err)
	case err != nil:
		return fmt.Errorf("ELAN output file: %w", err)
	}
	return nil
}
