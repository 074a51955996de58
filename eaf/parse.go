package eaf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// node is one element of the parsed document together with the byte
// offsets the splice writer needs. Offsets index Document.data.
type node struct {
	name        string
	attrs       []attr
	parent      *node
	kids        []*node
	text        []byte // character data of a leaf element (CDATA and entities decoded); nil once it has children
	start       int    // offset of '<' of the start tag
	openEnd     int    // offset just after the start tag's '>'
	closeStart  int    // offset of the end tag's '<' (== openEnd for <X/>)
	end         int    // offset just after the element
	selfClosing bool
	depth       int // root is 0
}

type attr struct{ name, value string }

// attr returns the value of the named attribute and whether it is present.
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

func (n *node) get(name string) string { v, _ := n.attr(name); return v }

// parseTree reads data into a tree of nodes. It rejects what is not
// well-formed XML with an error naming the file, line and column; it checks
// the things encoding/xml's RawToken leaves out (tag nesting, duplicate
// attributes, a single root, no text outside it).
func parseTree(name string, data []byte) (*node, error) {
	off := 0
	if bytes.HasPrefix(data, bom) {
		off = len(bom)
	}
	dec := xml.NewDecoder(bytes.NewReader(data[off:]))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not supported (EAF files are UTF-8)", label)
	}
	fail := func(at int, format string, args ...any) error {
		line, col := position(data, at)
		return &SyntaxError{File: name, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	if !utf8.Valid(data[off:]) {
		bad := off
		for bad < len(data) {
			r, size := utf8.DecodeRune(data[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		return nil, fail(bad, "invalid UTF-8")
	}
	var root, cur *node
	tokens := 0
	for {
		start := off + int(dec.InputOffset())
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			at := off + int(dec.InputOffset())
			if strings.Contains(msg, "entity") { // point at the '&', not past the name
				if i := bytes.LastIndexByte(data[max(0, at-64):at], '&'); i >= 0 {
					at = max(0, at-64) + i
				}
			}
			return nil, fail(at, "%s", msg)
		}
		end := off + int(dec.InputOffset())
		tokens++
		switch t := tok.(type) {
		case xml.StartElement:
			if cur == nil && root != nil {
				return nil, fail(start, "second root element <%s>", qname(t.Name))
			}
			n := &node{name: qname(t.Name), start: start, openEnd: end, parent: cur}
			for _, a := range t.Attr {
				an := qname(a.Name)
				for _, b := range n.attrs {
					if b.name == an {
						return nil, fail(start, "attribute %s repeated in <%s>", an, n.name)
					}
				}
				n.attrs = append(n.attrs, attr{an, a.Value})
			}
			if cur == nil {
				root = n
			} else {
				n.depth = cur.depth + 1
				cur.kids = append(cur.kids, n)
				cur.text = nil // only leaf elements carry text in EAF
			}
			cur = n
		case xml.EndElement:
			if cur == nil {
				return nil, fail(start, "unexpected end tag </%s>", qname(t.Name))
			}
			if qname(t.Name) != cur.name {
				return nil, fail(start, "end tag </%s> does not match <%s>", qname(t.Name), cur.name)
			}
			cur.closeStart, cur.end = start, end
			cur.selfClosing = start == end
			if cur.selfClosing {
				cur.closeStart = cur.openEnd
				cur.end = cur.openEnd
			}
			cur = cur.parent
		case xml.CharData:
			if cur == nil {
				if trimmed := bytes.TrimLeft(t, " \t\r\n"); len(trimmed) != 0 {
					return nil, fail(start+len(t)-len(trimmed), "text outside the root element")
				}
				continue
			}
			if len(cur.kids) == 0 {
				cur.text = append(cur.text, t...)
			}
		case xml.ProcInst:
			if t.Target == "xml" && (start != off || tokens != 1) {
				return nil, fail(start, "XML declaration not at the start of the file")
			}
		case xml.Directive, xml.Comment:
		}
	}
	if cur != nil {
		return nil, fail(len(data), "unexpected end of file: <%s> is not closed", cur.name)
	}
	if root == nil {
		return nil, fail(len(data), "no root element")
	}
	return root, nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// position converts a byte offset into a 1-based line and column (in characters).
func position(data []byte, at int) (line, col int) {
	if at > len(data) {
		at = len(data)
	}
	line = 1 + bytes.Count(data[:at], []byte{'\n'})
	ls := bytes.LastIndexByte(data[:at], '\n') + 1
	if ls == 0 && bytes.HasPrefix(data, bom) {
		ls = len(bom)
	}
	if ls > at {
		ls = at
	}
	return line, 1 + utf8.RuneCount(data[ls:at])
}

// SyntaxError reports input that is not well-formed XML.
type SyntaxError struct {
	File         string
	Line, Column int // 1-based
	Msg          string
}

// Error returns "file:line:column: malformed XML: …".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: malformed XML: %s (the file is damaged; restore it from a backup or fix it in a text editor)", e.File, e.Line, e.Column, e.Msg)
}
