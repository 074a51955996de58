package eaf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/signseg/signseg/internal/testenv"
)

// refDoc is an independent reading of an EAF (with etree, not this
// package's parser) used to check what the package wrote.
type refDoc struct {
	version  string
	top      []string // names of the root's child elements in order
	tiers    []string
	anns     map[string][]refAnn // by tier
	tierAttr map[string]map[string]string
	slots    map[string]string // id -> TIME_VALUE ("" when unaligned)
	slotN    int
	ids      []string // every xsd:ID-typed value
	lastUsed string
	props    map[string]string
	types    map[string]map[string]string
}

type refAnn struct {
	id, ts1, ts2, ref, value string
}

func readRef(t testing.TB, data []byte) refDoc {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		t.Fatalf("etree cannot read the output: %v", err)
	}
	root := doc.Root()
	r := refDoc{anns: map[string][]refAnn{}, tierAttr: map[string]map[string]string{}, slots: map[string]string{},
		props: map[string]string{}, types: map[string]map[string]string{}}
	r.version = attrVal(root, "FORMAT", attrVal(root, "VERSION", ""))
	old := strings.HasPrefix(r.version, "2.") && r.version < "2.4"
	for _, k := range root.ChildElements() {
		r.top = append(r.top, k.FullTag())
		switch k.FullTag() {
		case "HEADER":
			for _, p := range kids(k, "PROPERTY") {
				if attrVal(p, "NAME", "") == "lastUsedAnnotationId" {
					r.lastUsed = p.Text()
				}
				r.props[attrVal(p, "NAME", "")] = p.Text()
			}
		case "TIME_ORDER":
			for _, s := range kids(k, "TIME_SLOT") {
				id := attrVal(s, "TIME_SLOT_ID", "")
				r.slots[id] = attrVal(s, "TIME_VALUE", "")
				r.ids = append(r.ids, id)
				r.slotN++
			}
		case "TIER":
			id := attrVal(k, "TIER_ID", "")
			if old {
				r.ids = append(r.ids, id)
			}
			if _, dup := r.tierAttr[id]; !dup {
				r.tiers = append(r.tiers, id)
				r.tierAttr[id] = map[string]string{}
				for _, a := range k.Attr {
					r.tierAttr[id][a.FullKey()] = a.Value
				}
			}
			for _, a := range annotationsOf(k) {
				x := refAnn{id: attrVal(a, "ANNOTATION_ID", ""), ts1: attrVal(a, "TIME_SLOT_REF1", ""),
					ts2: attrVal(a, "TIME_SLOT_REF2", ""), ref: attrVal(a, "ANNOTATION_REF", "")}
				if v := first(kids(a, "ANNOTATION_VALUE")); v != nil {
					x.value = v.Text()
				}
				r.ids = append(r.ids, x.id)
				r.anns[id] = append(r.anns[id], x)
			}
		case "LINGUISTIC_TYPE":
			id := attrVal(k, "LINGUISTIC_TYPE_ID", "")
			if old {
				r.ids = append(r.ids, id)
			}
			r.types[id] = map[string]string{}
			for _, a := range k.Attr {
				r.types[id][a.FullKey()] = a.Value
			}
		case "LOCALE":
			r.ids = append(r.ids, attrVal(k, "LANGUAGE_CODE", ""))
		case "CONSTRAINT":
			r.ids = append(r.ids, attrVal(k, "STEREOTYPE", ""))
		case "EXTERNAL_REF":
			r.ids = append(r.ids, attrVal(k, "EXT_REF_ID", ""))
		case "LEXICON_REF":
			r.ids = append(r.ids, attrVal(k, "LEX_REF_ID", ""))
		case "LANGUAGE":
			r.ids = append(r.ids, attrVal(k, "LANG_ID", ""))
		case "CONTROLLED_VOCABULARY":
			if old {
				r.ids = append(r.ids, attrVal(k, "CV_ID", ""))
			}
		case "REF_LINK_SET":
			r.ids = append(r.ids, attrVal(k, "LINK_SET_ID", ""))
			for _, l := range k.ChildElements() { // any link kind
				r.ids = append(r.ids, attrVal(l, "REF_LINK_ID", ""))
			}
		}
	}
	return r
}

// attrVal, kids and first match names exactly (etree's own selectors
// ignore namespace prefixes, which this package does not).
func attrVal(e *etree.Element, key, dflt string) string {
	for _, a := range e.Attr {
		if a.FullKey() == key {
			return a.Value
		}
	}
	return dflt
}

func kids(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for _, k := range e.ChildElements() {
		if k.FullTag() == tag {
			out = append(out, k)
		}
	}
	return out
}

func first(es []*etree.Element) *etree.Element {
	if len(es) == 0 {
		return nil
	}
	return es[0]
}

func annotationsOf(tier *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, a := range kids(tier, "ANNOTATION") {
		for _, x := range a.ChildElements() {
			if x.FullTag() == "ALIGNABLE_ANNOTATION" || x.FullTag() == "REF_ANNOTATION" {
				out = append(out, x)
			}
		}
	}
	return out
}

// dupIDs returns the ID values that occur more than once.
func (r refDoc) dupIDs() map[string]bool {
	seen, dup := map[string]bool{}, map[string]bool{}
	for _, id := range r.ids {
		if seen[id] {
			dup[id] = true
		}
		seen[id] = true
	}
	return dup
}

var lastUsedRe = regexp.MustCompile(`(NAME="lastUsedAnnotationId"\s*>)[0-9]+<`)
var selfClosingRe = regexp.MustCompile(`<(TIME_ORDER|HEADER)([^>]*?)\s*/>`)

// lineDiff checks that after differs from before only by inserted lines,
// the lastUsedAnnotationId value, and a self-closing <TIME_ORDER/> or
// <HEADER/> opened up. It returns the number of inserted lines.
func lineDiff(before, after []byte) (int, error) {
	norm := func(b []byte) []string {
		return strings.Split(string(lastUsedRe.ReplaceAll(b, []byte("${1}N<"))), "\n")
	}
	old, nw := norm(before), norm(after)
	i, ins := 0, 0
	for _, l := range nw {
		if i < len(old) && (l == old[i] || l == selfClosingRe.ReplaceAllString(old[i], "<$1$2>")) {
			i++
		} else {
			ins++
		}
	}
	if i != len(old) {
		return ins, fmt.Errorf("input line %d %q is missing or changed in the output", i+1, old[i])
	}
	return ins, nil
}

// xmllint validates file against xsd and returns the exit code and the
// set of messages with file names and line numbers removed.
func xmllint(t testing.TB, xsd, file string) (int, map[string]bool) {
	t.Helper()
	bin := testenv.Tool(t, "xmllint")
	cmd := exec.Command(bin, "--noout", "--nonet", "--schema", xsd, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("xmllint: %v", err)
		}
		code = ee.ExitCode()
	}
	msgs := map[string]bool{}
	lineNo := regexp.MustCompile(`^.*?:[0-9]+: `)
	keySeq := regexp.MustCompile(`\[.*?\]`)
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l == "" || strings.HasSuffix(l, " validates") || strings.HasSuffix(l, "fails to validate") {
			continue
		}
		// values in key-sequence messages name whatever the element
		// the schema stopped at refers to; compare the kind of error
		l = keySeq.ReplaceAllString(lineNo.ReplaceAllString(l, ""), "[…]")
		msgs[l] = true
	}
	return code, msgs
}

// xsdDir returns ../shared/corpus/xsd when present, else "".
func xsdDir() string {
	p := filepath.Join(testenv.RepoRoot(), "..", "shared", "corpus", "xsd")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// testSegments returns n segments in media time starting after origin,
// with values that need escaping.
func testSegments(n int, origin int64) []Segment {
	segs := make([]Segment, n)
	for i := range segs {
		st := origin + 100 + int64(i)*300
		segs[i] = Segment{Start: st, End: st + 200 + int64(i%3), Value: fmt.Sprintf("SIGN%d", i), ChildValue: strconv.Itoa(50 + i%50)}
		if i%7 == 3 {
			segs[i].Value = `a<b & "c" 'd' >`
		}
	}
	return segs
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkAddRoundTrip is the acceptance check run on every corpus and
// testdata file: round trip, add a 50-annotation tier with a child tier and
// a property, save, and compare.
func checkAddRoundTrip(t *testing.T, src, xsds string) {
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, filepath.Base(src))
	copyFile(t, src, in)
	d, err := ReadFile(in)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	// (d) unchanged round trip
	if !bytes.Equal(d.Bytes(), orig) {
		t.Fatal("Bytes() of an unedited document differs from the file")
	}
	same := filepath.Join(dir, "same.eaf")
	if err := d.Save(same, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(same); !bytes.Equal(b, orig) {
		t.Fatal("saving an unedited document changed bytes")
	}

	before := readRef(t, orig)
	var origin int64
	if md := d.Media(); len(md) > 0 {
		origin = md[0].TimeOrigin
	}
	segs := testSegments(50, origin)
	tierID, childID := "signseg-test", "signseg-test-confidence"
	n, err := d.AddTier(TierSpec{ID: tierID, ChildID: childID, Participant: "S1", TimeOrigin: origin, Segments: segs})
	if err != nil {
		t.Fatalf("AddTier: %v", err)
	}
	if n != 50 {
		t.Fatalf("AddTier wrote %d annotations, want 50", n)
	}
	if d.Version().atLeast(2, 4) {
		if err := d.SetProperty("signseg:version", "test & <1>"); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Save(in, SaveOptions{}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	out, _ := os.ReadFile(in)
	if bak, _ := os.ReadFile(in + ".bak"); !bytes.Equal(bak, orig) {
		t.Error("the backup is not the original file")
	}
	// (b) only inserted lines
	ins, err := lineDiff(orig, out)
	if err != nil {
		t.Errorf("line diff: %v", err)
	}
	if ins < 50*5 {
		t.Errorf("only %d lines inserted", ins)
	}
	// (c) reload: same tiers and annotations plus the new ones
	after := readRef(t, out)
	wantTiers := append(append([]string{}, before.tiers...), tierID, childID)
	if fmt.Sprint(after.tiers) != fmt.Sprint(wantTiers) {
		t.Errorf("tiers %v, want %v", after.tiers, wantTiers)
	}
	for _, id := range before.tiers {
		if fmt.Sprint(after.anns[id]) != fmt.Sprint(before.anns[id]) {
			t.Errorf("tier %q annotations changed", id)
		}
		if fmt.Sprint(after.tierAttr[id]) != fmt.Sprint(before.tierAttr[id]) {
			t.Errorf("tier %q attributes changed", id)
		}
	}
	for id, v := range before.slots {
		if after.slots[id] != v {
			t.Errorf("slot %s changed from %q to %q", id, v, after.slots[id])
		}
	}
	if after.slotN != before.slotN+100 {
		t.Errorf("%d slots, want %d", after.slotN, before.slotN+100)
	}
	if !isSubseq(dedupe(before.top), dedupe(after.top)) {
		t.Errorf("top-level order %v from %v", dedupe(after.top), dedupe(before.top))
	}
	if !orderOK(after.top) && orderOK(before.top) {
		t.Errorf("top-level order broken: %v", dedupe(after.top))
	}
	// new annotations: times, values, fresh slots, unique ids
	newAnns := after.anns[tierID]
	if len(newAnns) != 50 {
		t.Fatalf("new tier has %d annotations", len(newAnns))
	}
	dupBefore, dupAfter := before.dupIDs(), after.dupIDs()
	for id := range dupAfter {
		if !dupBefore[id] {
			t.Errorf("id %q is now used twice", id)
		}
	}
	oldIDs := map[string]bool{}
	for _, id := range before.ids {
		oldIDs[id] = true
	}
	maxA := int64(0)
	for i, a := range newAnns {
		st, en := after.slots[a.ts1], after.slots[a.ts2]
		if st != strconv.FormatInt(segs[i].Start-origin, 10) || en != strconv.FormatInt(segs[i].End-origin, 10) {
			t.Errorf("annotation %d at %s–%s, want %d–%d", i, st, en, segs[i].Start-origin, segs[i].End-origin)
		}
		if a.value != segs[i].Value {
			t.Errorf("annotation %d value %q, want %q", i, a.value, segs[i].Value)
		}
		for _, id := range []string{a.id, a.ts1, a.ts2} {
			if oldIDs[id] {
				t.Errorf("new id %q was already in use", id)
			}
		}
		if n, err := strconv.ParseInt(strings.TrimPrefix(a.id, "a"), 10, 64); err == nil {
			maxA = max(maxA, n)
		}
	}
	child := after.anns[childID]
	for i, a := range child {
		if a.ref != newAnns[i].id || a.value != segs[i].ChildValue {
			t.Errorf("child annotation %d: ref %q value %q", i, a.ref, a.value)
		}
		if n, err := strconv.ParseInt(strings.TrimPrefix(a.id, "a"), 10, 64); err == nil {
			maxA = max(maxA, n)
		}
	}
	if after.tierAttr[childID]["PARENT_REF"] != tierID {
		t.Errorf("child tier attributes %v", after.tierAttr[childID])
	}
	lt := after.types[after.tierAttr[tierID]["LINGUISTIC_TYPE_REF"]]
	if lt == nil || lt["CONSTRAINTS"] != "" || lt["TIME_ALIGNABLE"] == "false" {
		t.Errorf("new tier's type %v is not unconstrained and alignable", lt)
	}
	clt := after.types[after.tierAttr[childID]["LINGUISTIC_TYPE_REF"]]
	if clt == nil || clt["CONSTRAINTS"] != "Symbolic_Association" {
		t.Errorf("child tier's type %v", clt)
	}
	if d.Version().atLeast(2, 4) {
		oldLast, _ := strconv.ParseInt(before.lastUsed, 10, 64)
		if after.lastUsed != strconv.FormatInt(max(oldLast, maxA), 10) {
			t.Errorf("lastUsedAnnotationId %q, want %d", after.lastUsed, max(oldLast, maxA))
		}
		if after.props["signseg:version"] != "test & <1>" {
			t.Errorf("property reads %q", after.props["signseg:version"])
		}
		if after.tierAttr[tierID]["ANNOTATOR"] != SignsegAnnotator || after.tierAttr[tierID]["PARTICIPANT"] != "S1" {
			t.Errorf("new tier attributes %v", after.tierAttr[tierID])
		}
	} else {
		if after.lastUsed != before.lastUsed || len(after.props) != len(before.props) {
			t.Error("a PROPERTY was written to a file older than EAF 2.4")
		}
		if _, ok := after.tierAttr[tierID]["ANNOTATOR"]; ok {
			t.Error("ANNOTATOR written to a file older than EAF 2.4")
		}
	}
	// the package's own reader agrees
	d2, err := ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d2.Annotations(tierID)
	if err != nil || len(got) != 50 || got[49].End != segs[49].End-origin {
		t.Errorf("re-read: %v %v", err, got)
	}
	// replacing the tier (a second run) still leaves the original lines alone
	if d.Version().atLeast(2, 4) {
		segs2 := testSegments(20, origin+7)
		if _, err := d2.AddTier(TierSpec{ID: tierID, ChildID: childID, Replace: true, TimeOrigin: origin, Segments: segs2}); err != nil {
			t.Fatalf("replace: %v", err)
		}
		if _, err := lineDiff(orig, d2.Bytes()); err != nil {
			t.Errorf("line diff after replace: %v", err)
		}
		rep := readRef(t, d2.Bytes())
		if len(rep.anns[tierID]) != 20 || len(rep.anns[childID]) != 20 || rep.slotN != before.slotN+40 {
			t.Errorf("after replace: %d, %d annotations, %d slots", len(rep.anns[tierID]), len(rep.anns[childID]), rep.slotN)
		}
		if fmt.Sprint(rep.tiers) != fmt.Sprint(wantTiers) {
			t.Errorf("tiers after replace %v", rep.tiers)
		}
		if err := d2.Save(in, SaveOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// (a) schema
	if xsds != "" {
		xsd := filepath.Join(xsds, "EAFv"+d.Version().String()+".xsd")
		if _, err := os.Stat(xsd); err == nil {
			code0, msgs0 := xmllint(t, xsd, src)
			for _, f := range []string{in, in + ".bak"} {
				code1, msgs1 := xmllint(t, xsd, f)
				if code0 == 0 && code1 != 0 {
					t.Errorf("input valid, output invalid: %v", msgs1)
				}
				for m := range msgs1 {
					if !msgs0[m] {
						t.Errorf("new schema error: %s", m)
					}
				}
			}
		}
	}
}

func dedupe(s []string) []string {
	var out []string
	for _, x := range s {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// isSubseq reports whether a is a subsequence of b.
func isSubseq(a, b []string) bool {
	i := 0
	for _, x := range b {
		if i < len(a) && a[i] == x {
			i++
		}
	}
	return i == len(a)
}

// orderOK reports whether top-level names follow the EAF sequence.
func orderOK(names []string) bool {
	ranks := make([]int, 0, len(names))
	for _, n := range names {
		if r, ok := topRank[n]; ok {
			ranks = append(ranks, r)
		}
	}
	return sort.IntsAreSorted(ranks)
}
