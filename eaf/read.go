package eaf

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxFileSize bounds what ReadFile accepts; real EAF files are far smaller.
const maxFileSize = 1 << 30

// source identifies the file a Document was read from, so Save can tell
// whether someone else changed it meanwhile.
type source struct {
	path    string
	size    int64
	modTime time.Time
	sum     [sha256.Size]byte
	orig    []byte
}

// FileIdentity describes the file a Document was read from.
type FileIdentity struct {
	Path    string
	Size    int64
	ModTime time.Time
	SHA256  [sha256.Size]byte
}

// ReadFile reads and parses the EAF file at path, remembering its size,
// modification time and SHA-256 for Save's change detection.
func ReadFile(path string) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("read %s: %d bytes is too large for an EAF file", path, st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	d, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	d.src = &source{path: path, size: int64(len(data)), modTime: st.ModTime(), sum: sha256.Sum256(data), orig: data}
	return d, nil
}

// Parse parses data as an EAF document. name is used in error messages
// (normally the file's path). Parse keeps data; the caller must not modify
// it afterwards.
func Parse(name string, data []byte) (*Document, error) {
	d := &Document{name: name}
	if err := d.load(data); err != nil {
		return nil, err
	}
	return d, nil
}

// Name returns the name the document was read or parsed with.
func (d *Document) Name() string { return d.name }

// Source returns the identity of the file the document was read from (as
// of the read or the last Save to it), or false when it was not read from a
// file.
func (d *Document) Source() (FileIdentity, bool) {
	if d.src == nil {
		return FileIdentity{}, false
	}
	return FileIdentity{Path: d.src.path, Size: d.src.size, ModTime: d.src.modTime, SHA256: d.src.sum}, true
}

// Bytes returns the document as it would be written: the original bytes
// plus the accepted edits. The caller must not modify the result.
func (d *Document) Bytes() []byte { return d.data }

// WriteTo writes the document to w.
func (d *Document) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(d.data)
	if err != nil {
		return int64(n), fmt.Errorf("write %s: %w", d.name, err)
	}
	return int64(n), nil
}

// Modified reports whether the document differs from what was read.
func (d *Document) Modified() bool {
	return d.src == nil || !bytes.Equal(d.src.orig, d.data)
}

// load parses data and rebuilds the model; on error d is unchanged.
func (d *Document) load(data []byte) error {
	root, err := parseTree(d.name, data)
	if err != nil {
		return err
	}
	m, err := buildModel(d.name, data, root)
	if err != nil {
		return err
	}
	d.data, d.root, d.m = data, root, m
	return nil
}

var idNum = regexp.MustCompile(`^(a|ts)([0-9]+)$`)

func buildModel(name string, data []byte, root *node) (model, error) {
	var m model
	errf := func(n *node, format string, args ...any) error {
		line, col := position(data, n.start)
		return fmt.Errorf("%s:%d:%d: %s", name, line, col, fmt.Sprintf(format, args...))
	}
	if root.name != "ANNOTATION_DOCUMENT" {
		return m, errf(root, "root element is <%s>, not <ANNOTATION_DOCUMENT>: this is not an ELAN .eaf file", root.name)
	}
	vs, hasFormat := root.attr("FORMAT")
	v, ok := parseVersion(vs)
	if !hasFormat || !ok {
		vs = root.get("VERSION")
		v, ok = parseVersion(vs)
	}
	if !ok {
		return m, errf(root, "VERSION %q is not an EAF version such as 2.8 or 3.0", vs)
	}
	if !v.atLeast(2, 0) {
		return m, errf(root, "EAF version %s is older than 2.0 and not supported", v)
	}
	m.version = v
	m.eol = "\n"
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		m.eol = "\r\n"
	}
	m.slots = map[string]*TimeSlot{}
	m.tierByID = map[string]*tierNode{}
	m.typeByID = map[string]*LinguisticType{}
	m.ids = map[string]bool{}
	m.annByID = map[string]*annNode{}
	m.lastUsed = -1
	old := !v.atLeast(2, 4) // TIER_ID, LINGUISTIC_TYPE_ID, CV_ID are xsd:ID
	addID := func(n *node, attrName string) {
		if val, ok := n.attr(attrName); ok {
			m.ids[val] = true
		}
	}
	for _, k := range root.kids {
		switch k.name {
		case "HEADER":
			if m.header == nil {
				m.header = k
			}
			if u, ok := k.attr("TIME_UNITS"); ok && u != "milliseconds" {
				return m, errf(k, "TIME_UNITS is %q; only milliseconds are supported (re-save the file in ELAN)", u)
			}
			for _, p := range k.kids {
				// A TIME_ORIGIN read as 0 would shift every tier written
				// for the media: refuse it, as ELAN's schema (xsd:long) does.
				if (p.name == "MEDIA_DESCRIPTOR" || p.name == "LINKED_FILE_DESCRIPTOR") && m.header == k {
					if o, ok := p.attr("TIME_ORIGIN"); ok {
						if _, err := strconv.ParseInt(strings.TrimSpace(o), 10, 64); err != nil {
							url := p.get("MEDIA_URL") + p.get("LINK_URL")
							return m, errf(p, "TIME_ORIGIN %q of %s %q is not a whole number of milliseconds; correct the media offset in ELAN (Edit > Linked Files) or in the file", o, p.name, url)
						}
					}
				}
				if p.name == "PROPERTY" && p.get("NAME") == "lastUsedAnnotationId" && m.lastUsedEl == nil {
					m.lastUsedEl = p
					s := strings.TrimSpace(string(p.text))
					n, err := strconv.ParseInt(s, 10, 64)
					if err != nil || n < 0 {
						return m, errf(p, "lastUsedAnnotationId %q is not a non-negative integer", s)
					}
					m.lastUsed = n
				}
			}
		case "TIME_ORDER":
			if m.timeOrder != nil {
				return m, errf(k, "second TIME_ORDER element")
			}
			m.timeOrder = k
			for _, s := range k.kids {
				if s.name != "TIME_SLOT" {
					continue
				}
				id := s.get("TIME_SLOT_ID")
				addID(s, "TIME_SLOT_ID")
				ts := &TimeSlot{ID: id, index: len(m.slotOrder)}
				if tv, ok := s.attr("TIME_VALUE"); ok {
					n, err := strconv.ParseInt(strings.TrimSpace(tv), 10, 64)
					if err != nil || n < 0 {
						return m, errf(s, "TIME_VALUE %q of time slot %q is not a non-negative integer", tv, id)
					}
					ts.Value, ts.Aligned = n, true
				}
				if _, dup := m.slots[id]; !dup {
					m.slots[id] = ts
				}
				m.slotOrder = append(m.slotOrder, ts)
			}
		case "TIER":
			t := Tier{ID: k.get("TIER_ID"), LinguisticType: k.get("LINGUISTIC_TYPE_REF"), Parent: k.get("PARENT_REF"),
				Participant: k.get("PARTICIPANT"), Annotator: k.get("ANNOTATOR"), DefaultLocale: k.get("DEFAULT_LOCALE"),
				LangRef: k.get("LANG_REF"), ExtRef: k.get("EXT_REF")}
			if old {
				addID(k, "TIER_ID")
			}
			tn := m.tierByID[t.ID]
			if tn == nil { // ELAN merges a repeated TIER_ID into the first tier
				tn = &tierNode{n: k, tier: t}
				m.tiers = append(m.tiers, tn)
				m.tierByID[t.ID] = tn
			}
			for _, an := range k.kids {
				if an.name != "ANNOTATION" {
					continue
				}
				for _, a := range an.kids {
					if a.name != "ALIGNABLE_ANNOTATION" && a.name != "REF_ANNOTATION" {
						continue
					}
					addID(a, "ANNOTATION_ID")
					x := &annNode{n: a, ts1: a.get("TIME_SLOT_REF1"), ts2: a.get("TIME_SLOT_REF2")}
					x.a = Annotation{ID: a.get("ANNOTATION_ID"), Ref: a.get("ANNOTATION_REF"), Previous: a.get("PREVIOUS_ANNOTATION"),
						CVERef: a.get("CVE_REF"), ExtRef: a.get("EXT_REF"), LangRef: a.get("LANG_REF")}
					for _, v := range a.kids {
						if v.name == "ANNOTATION_VALUE" {
							x.a.Value = string(v.text)
							break
						}
					}
					tn.anns = append(tn.anns, x)
					if _, dup := m.annByID[x.a.ID]; !dup {
						m.annByID[x.a.ID] = x
					}
				}
			}
		case "LINGUISTIC_TYPE":
			if old {
				addID(k, "LINGUISTIC_TYPE_ID")
			}
			ta := strings.TrimSpace(k.get("TIME_ALIGNABLE"))
			lt := LinguisticType{ID: k.get("LINGUISTIC_TYPE_ID"), TimeAlignable: ta == "" || ta == "true" || ta == "1",
				Constraints: k.get("CONSTRAINTS"), ControlledVocab: k.get("CONTROLLED_VOCABULARY_REF"),
				GraphicReferences: k.get("GRAPHIC_REFERENCES"), ExtRef: k.get("EXT_REF"), LexiconRef: k.get("LEXICON_REF")}
			if lt.Constraints == "Symbolic_Subdivision" || lt.Constraints == "Symbolic_Association" {
				lt.TimeAlignable = false // as ELAN's parser does
			}
			m.types = append(m.types, lt)
		case "LOCALE":
			addID(k, "LANGUAGE_CODE")
		case "CONSTRAINT":
			addID(k, "STEREOTYPE")
		case "CONTROLLED_VOCABULARY":
			if old {
				addID(k, "CV_ID")
			}
		case "EXTERNAL_REF":
			addID(k, "EXT_REF_ID")
		case "LEXICON_REF":
			addID(k, "LEX_REF_ID")
		case "LANGUAGE":
			addID(k, "LANG_ID")
		case "REF_LINK_SET":
			addID(k, "LINK_SET_ID")
			addID(k, "LINKS_ID")
			for _, l := range k.kids {
				addID(l, "REF_LINK_ID")
			}
		}
	}
	for i := range m.types {
		if _, dup := m.typeByID[m.types[i].ID]; !dup {
			m.typeByID[m.types[i].ID] = &m.types[i]
		}
	}
	if m.header == nil {
		return m, errf(root, "no HEADER element")
	}
	if m.timeOrder == nil {
		return m, errf(root, "no TIME_ORDER element")
	}
	m.unit = indentUnit(data, root, m.header)
	m.resolveTimes()
	return m, nil
}

// resolveTimes fills in Start and End of every annotation.
func (m *model) resolveTimes() {
	for _, t := range m.tiers {
		for _, a := range t.anns {
			m.resolve(a, 0)
		}
	}
}

func (m *model) resolve(a *annNode, depth int) {
	if a.done || a.busy || depth > 64 {
		return
	}
	a.busy = true
	defer func() { a.busy = false; a.done = true }()
	if a.n.name == "REF_ANNOTATION" {
		a.a.Interpolated = true
		if p := m.annByID[a.a.Ref]; p != nil {
			m.resolve(p, depth+1)
			a.a.Start, a.a.End = p.a.Start, p.a.End
		}
		return
	}
	var i1, i2 bool
	a.a.Start, i1 = m.slotTime(a.ts1)
	a.a.End, i2 = m.slotTime(a.ts2)
	a.a.Interpolated = i1 || i2
}

// slotTime returns a slot's time; an unaligned slot is interpolated linearly
// by position between the nearest aligned slots before and after it in
// TIME_ORDER.
func (m *model) slotTime(id string) (int64, bool) {
	s := m.slots[id]
	if s == nil {
		return 0, true
	}
	if s.Aligned {
		return s.Value, false
	}
	lo, hi := -1, -1
	for i := s.index - 1; i >= 0; i-- {
		if m.slotOrder[i].Aligned {
			lo = i
			break
		}
	}
	for i := s.index + 1; i < len(m.slotOrder); i++ {
		if m.slotOrder[i].Aligned {
			hi = i
			break
		}
	}
	switch {
	case lo < 0 && hi < 0:
		return 0, true
	case lo < 0:
		return m.slotOrder[hi].Value, true
	case hi < 0:
		return m.slotOrder[lo].Value, true
	}
	a, b := m.slotOrder[lo].Value, m.slotOrder[hi].Value
	return a + (b-a)*int64(s.index-lo)/int64(hi-lo), true
}

// indentUnit guesses one level of indentation from the HEADER line and its
// first child, defaulting to four spaces as ELAN writes.
func indentUnit(data []byte, root, header *node) string {
	h, ok := lineIndent(data, header.start)
	if ok && len(header.kids) > 0 {
		if k, ok2 := lineIndent(data, header.kids[0].start); ok2 && len(k) > len(h) && strings.HasPrefix(k, h) {
			return k[len(h):]
		}
	}
	if ok && h != "" {
		return h
	}
	return "    "
}

// lineIndent returns the whitespace before offset on its line, and whether
// only whitespace precedes offset there.
func lineIndent(data []byte, off int) (string, bool) {
	ls := lineStart(data, off)
	for i := ls; i < off; i++ {
		if data[i] != ' ' && data[i] != '\t' {
			return "", false
		}
	}
	return string(data[ls:off]), true
}

func lineStart(data []byte, off int) int {
	ls := bytes.LastIndexByte(data[:off], '\n') + 1
	if ls == 0 && bytes.HasPrefix(data, bom) && off >= len(bom) {
		ls = len(bom)
	}
	return ls
}
