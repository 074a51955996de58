package eaf

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// splice replaces data[pos:end] with text (an insertion when pos == end).
type splice struct {
	pos, end int
	text     string
}

// fline is one line of a fragment to insert, depth levels below the anchor.
type fline struct {
	depth int
	text  string
}

// editor collects splices against one version of a document's bytes.
type editor struct {
	data []byte
	m    *model
	sp   []splice
}

func (e *editor) add(pos, end int, text string) {
	e.sp = append(e.sp, splice{pos, end, text})
}

// indentOf is the indentation of n's line, or depth units when n does not
// start its line.
func (e *editor) indentOf(n *node) string {
	if s, ok := lineIndent(e.data, n.start); ok {
		return s
	}
	return strings.Repeat(e.m.unit, n.depth)
}

func (e *editor) render(indent string, l fline) string {
	return indent + strings.Repeat(e.m.unit, l.depth) + l.text
}

// insertAfter puts lines after sibling n, each on a line of its own, at n's
// indentation.
func (e *editor) insertAfter(n *node, lines []fline) {
	ind := e.indentOf(n)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(e.m.eol)
		b.WriteString(e.render(ind, l))
	}
	e.add(n.end, n.end, b.String())
}

// insertBefore puts lines before sibling n at n's indentation.
func (e *editor) insertBefore(n *node, lines []fline) {
	ind, alone := lineIndent(e.data, n.start)
	var b strings.Builder
	if alone {
		for _, l := range lines {
			b.WriteString(e.render(ind, l))
			b.WriteString(e.m.eol)
		}
		ls := lineStart(e.data, n.start)
		e.add(ls, ls, b.String())
		return
	}
	ind = e.indentOf(n)
	for _, l := range lines {
		b.WriteString(e.render(ind, l))
		b.WriteString(e.m.eol)
	}
	b.WriteString(ind)
	e.add(n.start, n.start, b.String())
}

// appendChild puts lines at the end of p's content, one level deeper than
// p. A self-closing <P/> becomes <P>…</P>.
func (e *editor) appendChild(p *node, lines []fline) {
	if len(p.kids) > 0 {
		e.insertAfter(p.kids[len(p.kids)-1], lines)
		return
	}
	pind := e.indentOf(p)
	cind := pind + e.m.unit
	var b strings.Builder
	if p.selfClosing {
		open := strings.TrimRight(strings.TrimSuffix(string(e.data[p.start:p.openEnd]), "/>"), " \t\r\n")
		b.WriteString(open + ">")
		for _, l := range lines {
			b.WriteString(e.m.eol + e.render(cind, l))
		}
		b.WriteString(e.m.eol + pind + "</" + p.name + ">")
		e.add(p.start, p.end, b.String())
		return
	}
	if ind, alone := lineIndent(e.data, p.closeStart); alone && lineStart(e.data, p.closeStart) > p.openEnd {
		_ = ind
		for _, l := range lines {
			b.WriteString(e.render(cind, l) + e.m.eol)
		}
		ls := lineStart(e.data, p.closeStart)
		e.add(ls, ls, b.String())
		return
	}
	for _, l := range lines {
		b.WriteString(e.m.eol + e.render(cind, l))
	}
	b.WriteString(e.m.eol + pind)
	e.add(p.closeStart, p.closeStart, b.String())
}

// remove deletes n, with its whole line when nothing else is on it.
func (e *editor) remove(n *node) {
	ls := lineStart(e.data, n.start)
	if _, alone := lineIndent(e.data, n.start); alone {
		i := n.end
		for i < len(e.data) && (e.data[i] == ' ' || e.data[i] == '\t' || e.data[i] == '\r') {
			i++
		}
		if i < len(e.data) && e.data[i] == '\n' {
			e.add(ls, i+1, "")
			return
		}
	}
	e.add(n.start, n.end, "")
}

// setText replaces the content of element n with already-escaped text.
func (e *editor) setText(n *node, text string) {
	if n.selfClosing {
		open := strings.TrimRight(strings.TrimSuffix(string(e.data[n.start:n.openEnd]), "/>"), " \t\r\n")
		e.add(n.start, n.end, open+">"+text+"</"+n.name+">")
		return
	}
	e.add(n.openEnd, n.closeStart, text)
}

// apply returns data with the splices made. Splices at the same position
// keep the order in which they were added.
func (e *editor) apply() ([]byte, error) {
	sp := e.sp
	sort.SliceStable(sp, func(i, j int) bool { return sp[i].pos < sp[j].pos })
	grow := 0
	for _, s := range sp {
		grow += len(s.text)
	}
	var b bytes.Buffer
	b.Grow(len(e.data) + grow)
	at := 0
	for _, s := range sp {
		if s.pos < at || s.end < s.pos || s.end > len(e.data) {
			return nil, fmt.Errorf("internal error: overlapping edits at byte %d", s.pos)
		}
		b.Write(e.data[at:s.pos])
		b.WriteString(s.text)
		at = s.end
	}
	b.Write(e.data[at:])
	return b.Bytes(), nil
}

// topRank orders the children of ANNOTATION_DOCUMENT: every EAF version's
// sequence is a subsequence of this one.
var topRank = map[string]int{
	"LICENSE": 0, "HEADER": 1, "TIME_ORDER": 2, "TIER": 3, "LINGUISTIC_TYPE": 4, "LOCALE": 5, "LANGUAGE": 6,
	"CONSTRAINT": 7, "CONTROLLED_VOCABULARY": 8, "LEXICON_REF": 9, "REF_LINK_SET": 10, "EXTERNAL_REF": 11,
}

// insertTop puts lines (a top-level element named name) where the schema's
// sequence wants it: after the last element that may precede it.
func (e *editor) insertTop(root *node, name string, lines []fline) {
	r := topRank[name]
	var after *node
	for _, k := range root.kids {
		if rk, ok := topRank[k.name]; ok && rk <= r {
			after = k
		}
	}
	if after != nil {
		e.insertAfter(after, lines)
		return
	}
	for _, k := range root.kids {
		if rk, ok := topRank[k.name]; ok && rk > r {
			e.insertBefore(k, lines)
			return
		}
	}
	e.appendChild(root, lines)
}

// elem writes a start tag with attributes in the given order (ELAN writes
// them alphabetically), ending with close ("/>" or ">").
func elem(name string, attrs [][2]string, close string) string {
	var b strings.Builder
	b.WriteString("<" + name)
	for _, a := range attrs {
		b.WriteString(" " + a[0] + `="` + escAttr(a[1]) + `"`)
	}
	b.WriteString(close)
	return b.String()
}

// validXMLRune reports whether r may appear in an XML 1.0 document.
func validXMLRune(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// clean drops what XML cannot carry: invalid UTF-8 and control characters
// other than tab, LF and CR.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || !validXMLRune(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				continue
			}
		}
		if validXMLRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escText escapes character data in modern ELAN style: & < > escaped,
// quotes raw; CR as a character reference so that it survives parsing.
func escText(s string) string {
	s = clean(s)
	if !strings.ContainsAny(s, "&<>\r") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;").Replace(s)
}

// escAttr escapes an attribute value in modern ELAN style: & < " escaped,
// > and ' raw; tab, LF and CR as character references.
func escAttr(s string) string {
	s = clean(s)
	if !strings.ContainsAny(s, "&<\"\t\n\r") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#9;", "\n", "&#10;", "\r", "&#13;").Replace(s)
}
