package eaf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustRead(t testing.TB, path string) *Document {
	t.Helper()
	d, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestReadFull30(t *testing.T) {
	d := mustRead(t, "testdata/v30_full.eaf")
	if d.Version() != (Version{3, 0}) {
		t.Errorf("version %v", d.Version())
	}
	wantMedia := []MediaDescriptor{
		{MediaURL: "file:///data/Dad's Interview 2003/session one.wav", MimeType: "audio/x-wav", RelativeMediaURL: "./session one.wav",
			ExtractedFrom: "file:///data/Dad's Interview 2003/session one.mp4"},
		{MediaURL: "file:///data/Dad's Interview 2003/session one.mp4", MimeType: "video/mp4", RelativeMediaURL: "./session one.mp4", TimeOrigin: 1200},
	}
	if got := d.Media(); !reflect.DeepEqual(got, wantMedia) {
		t.Errorf("media\n got %+v\nwant %+v", got, wantMedia)
	}
	if got := d.LinkedFiles(); !reflect.DeepEqual(got, []LinkedFile{{LinkURL: "file:///data/session.csv", RelativeLinkURL: "./session.csv",
		MimeType: "unknown", AssociatedWith: "file:///data/Dad's Interview 2003/session one.mp4", TimeOrigin: 40}}) {
		t.Errorf("linked files %+v", got)
	}
	wantProps := []Property{{"URN", "urn:nl-mpi-tools-elan-eaf:00000000-0000-4000-8000-000000000000"},
		{"metadata:Speaker", "S1 & S2"}, {"", "no name"}, {"lastUsedAnnotationId", "7"}}
	if got := d.Properties(); !reflect.DeepEqual(got, wantProps) {
		t.Errorf("properties %q", got)
	}
	wantTiers := []Tier{
		{ID: "Utterance (S1)", LinguisticType: "utterance", Participant: "S1", Annotator: "Ann", LangRef: "eng"},
		{ID: "Translation", LinguisticType: "translation", Parent: "Utterance (S1)"},
		{ID: "Gesture", LinguisticType: "included", Parent: "Utterance (S1)"},
		{ID: "Opmerkingen", LinguisticType: "default-lt", DefaultLocale: "nl"},
	}
	if got := d.Tiers(); !reflect.DeepEqual(got, wantTiers) {
		t.Errorf("tiers\n got %+v\nwant %+v", got, wantTiers)
	}
	anns := map[string][]Annotation{
		"Utterance (S1)": {
			{ID: "a1", Value: "<<f>SÍ;> & more", Start: 0, End: 1500, CVERef: "cveid_1", LangRef: "eng"},
			{ID: "a2", Value: `café & 'quote' "dq" > A`, Start: 1500, End: 3000, ExtRef: "er1"},
		},
		"Translation": {{ID: "a3", Value: "yes", Start: 0, End: 1500, Ref: "a1", Interpolated: true}},
		"Gesture":     {{ID: "a7", Start: 200, End: 900}},
		"Opmerkingen": {},
	}
	for tier, want := range anns {
		got, err := d.Annotations(tier)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 || len(want) != 0 {
			if !reflect.DeepEqual(got, want) {
				t.Errorf("tier %s\n got %+v\nwant %+v", tier, got, want)
			}
		}
	}
	if _, err := d.Annotations("nope"); err == nil || !strings.Contains(err.Error(), "v30_full.eaf") {
		t.Errorf("unknown tier: %v", err)
	}
	if got := d.LinguisticTypes(); len(got) != 4 || got[1] != (LinguisticType{ID: "utterance", TimeAlignable: true,
		ControlledVocab: "cv1", GraphicReferences: "false", LexiconRef: "lr1"}) || got[2].TimeAlignable || got[2].Constraints != "Symbolic_Association" {
		t.Errorf("types %+v", got)
	}
	if got := d.Constraints(); len(got) != 3 || got[1].Stereotype != "Symbolic_Association" {
		t.Errorf("constraints %+v", got)
	}
	if got := d.ControlledVocabularies(); len(got) != 1 || got[0].ID != "cv1" || len(got[0].Entries) != 1 ||
		got[0].Entries[0].ID != "cveid_1" || got[0].Entries[0].Values["eng"] != "yes" {
		t.Errorf("CVs %+v", got)
	}
	if got := d.Locales(); !reflect.DeepEqual(got, []Locale{{LanguageCode: "nl", CountryCode: "NL"}}) {
		t.Errorf("locales %+v", got)
	}
	if got := d.Languages(); !reflect.DeepEqual(got, []Language{{ID: "eng", Def: "http://cdb.iso.org/lg/CDB-00138502-001", Label: "English (eng)"}}) {
		t.Errorf("languages %+v", got)
	}
	if got := d.LexiconRefs(); len(got) != 1 || got[0].ID != "lr1" || got[0].LexiconName != "Signbank" {
		t.Errorf("lexicon refs %+v", got)
	}
	if got := d.RefLinkSets(); !reflect.DeepEqual(got, []RefLinkSet{{ID: "ts500", Name: "coreference", LinkIDs: []string{"a950", "rl2"}}}) {
		t.Errorf("ref link sets %+v", got)
	}
	if got := d.ExternalRefs(); !reflect.DeepEqual(got, []ExternalRef{{"er1", "iso12620", "http://www.isocat.org/datcat/DC-1345"}}) {
		t.Errorf("external refs %+v", got)
	}
	if got := d.Licenses(); !reflect.DeepEqual(got, []License{{"CC BY 4.0 © test", "https://creativecommons.org/licenses/by/4.0/"}}) {
		t.Errorf("licenses %+v", got)
	}
	if id, ok := d.Source(); !ok || id.Path != "testdata/v30_full.eaf" || id.Size != int64(len(d.Bytes())) {
		t.Errorf("source %+v", id)
	}
}

func TestReadOldVersions(t *testing.T) {
	d := mustRead(t, "testdata/v27_oldcv.eaf")
	if d.Version() != (Version{2, 7}) {
		t.Errorf("version %v", d.Version())
	}
	cv := d.ControlledVocabularies()
	if len(cv) != 1 || cv[0].Description != "dominant hand" || len(cv[0].Entries) != 2 ||
		cv[0].Entries[0].Values[""] != "R" || cv[0].Entries[1].Values[""] != "L" {
		t.Errorf("old CV %+v", cv)
	}
	if md := d.Media(); len(md) != 1 || md[0].TimeOrigin != 500 || !md[0].IsVideo() {
		t.Errorf("media %+v", md)
	}
	if lt := d.LinguisticTypes()[1]; lt.ID != "default-lt" || lt.Constraints != "Symbolic_Association" || lt.TimeAlignable {
		t.Errorf("default-lt %+v", lt)
	}
	if _, ok := d.Property("lastUsedAnnotationId"); ok {
		t.Error("property found in a file without one")
	}
	d20 := mustRead(t, "testdata/v20.eaf")
	if d20.Version() != (Version{2, 0}) || len(d20.Media()) != 0 || len(d20.Properties()) != 0 {
		t.Errorf("2.0: %v %v", d20.Version(), d20.Media())
	}
	if a, _ := d20.Annotations("W"); len(a) != 1 || a[0].End != 1000 || a[0].Value != "hello" {
		t.Errorf("2.0 annotations %+v", a)
	}
}

func TestReadSlots(t *testing.T) {
	d := mustRead(t, "testdata/slots.eaf")
	// unsorted, shared (ts2), orphan (ts9) and unaligned (ts6) slots
	ts := d.TimeSlots()
	if len(ts) != 7 || ts[0].ID != "ts4" || ts[5].ID != "ts6" || ts[5].Aligned || !ts[3].Aligned || ts[3].Value != 9999 {
		t.Errorf("slots %+v", ts)
	}
	want := map[string][][2]int64{
		"words": {{1000, 2000}, {2000, 3000}, {4000, 5000}},
		// ts6 is unaligned between ts5 (4000) and ts7 (5000): interpolated to 4500
		"parts": {{4000, 4500}, {4500, 5000}},
		"notes": {{4500, 5000}},
	}
	for tier, w := range want {
		got, err := d.Annotations(tier)
		if err != nil {
			t.Fatal(err)
		}
		var g [][2]int64
		for _, a := range got {
			g = append(g, [2]int64{a.Start, a.End})
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %v, want %v", tier, g, w)
		}
	}
	if got, _ := d.Annotations("parts"); !got[0].Interpolated || !got[1].Interpolated {
		t.Error("interpolated times not marked")
	}
	if got, _ := d.Annotations("words"); got[0].Interpolated {
		t.Error("aligned times marked interpolated")
	}
}

func TestReadOddSyntax(t *testing.T) {
	tests := []struct {
		file, tier, value string
	}{
		{"crlf_bom.eaf", "Tëst", "line one\r\nline two <x>"},
		{"v30_full.eaf", "Utterance (S1)", "<<f>SÍ;> & more"},
	}
	for _, tc := range tests {
		d := mustRead(t, filepath.Join("testdata", tc.file))
		a, err := d.Annotations(tc.tier)
		if err != nil || len(a) == 0 || a[0].Value != tc.value {
			t.Errorf("%s: %v %+v, want %q", tc.file, err, a, tc.value)
		}
	}
	d := mustRead(t, "testdata/empty_no_decl.eaf")
	if len(d.TimeSlots()) != 0 || len(d.Tiers()) != 0 {
		t.Error("empty document has content")
	}
	d = mustRead(t, "testdata/unknown_elements.eaf")
	if p := d.Properties(); len(p) != 2 || p[0] != (Property{"empty", ""}) || p[1].Value != "keep   this" {
		t.Errorf("properties %q", p)
	}
}

func TestMalformed(t *testing.T) {
	// line and column of the offending character, counted by hand; the
	// decoder may report the position just after it
	tests := []struct {
		file      string
		line, col int
		msg       string
	}{
		{"mismatched_tag.eaf", 6, 5, "does not match"},
		{"truncated.eaf", 5, 46, "unexpected EOF"},
		{"duplicate_attribute.eaf", 5, 9, "repeated"},
		{"undefined_entity.eaf", 5, 56, "entity"},
		{"text_after_root.eaf", 6, 1, "outside the root"},
		{"unquoted_attribute.eaf", 5, 33, "attribute"},
		{"lt_in_attribute.eaf", 5, 54, "<"},
		{"invalid_utf8.eaf", 5, 55, "UTF-8"},
		{"empty.eaf", 1, 1, "no root"},
	}
	for _, tc := range tests {
		path := filepath.Join("testdata", "malformed", tc.file)
		_, err := ReadFile(path)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v is not a SyntaxError", tc.file, err)
			continue
		}
		if se.File != path || se.Line != tc.line || se.Column < tc.col || se.Column > tc.col+1 || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s: got %d:%d %q, want %d:%d %q", tc.file, se.Line, se.Column, se.Msg, tc.line, tc.col, tc.msg)
		}
		if !strings.HasPrefix(err.Error(), fmt.Sprintf("%s:%d:%d: ", path, se.Line, se.Column)) {
			t.Errorf("message %q does not start with file:line:col", err)
		}
	}
}

func TestNotEAF(t *testing.T) {
	head := `<?xml version="1.0"?>` + "\n"
	tests := []struct{ name, doc, want string }{
		{"root", head + `<TEI/>`, "not an ELAN .eaf file"},
		{"no version", head + `<ANNOTATION_DOCUMENT><HEADER/><TIME_ORDER/></ANNOTATION_DOCUMENT>`, "VERSION"},
		{"old version", head + `<ANNOTATION_DOCUMENT VERSION="1.4"><HEADER/><TIME_ORDER/></ANNOTATION_DOCUMENT>`, "older than 2.0"},
		{"frames", head + `<ANNOTATION_DOCUMENT VERSION="2.7"><HEADER TIME_UNITS="PAL-frames"/><TIME_ORDER/></ANNOTATION_DOCUMENT>`, "PAL-frames"},
		{"no header", head + `<ANNOTATION_DOCUMENT VERSION="2.7"><TIME_ORDER/></ANNOTATION_DOCUMENT>`, "no HEADER"},
		{"bad slot", head + `<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER/><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="-3"/></TIME_ORDER></ANNOTATION_DOCUMENT>`, "TIME_VALUE"},
		{"bad last id", head + `<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER><PROPERTY NAME="lastUsedAnnotationId">x</PROPERTY></HEADER><TIME_ORDER/></ANNOTATION_DOCUMENT>`, "lastUsedAnnotationId"},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n<ANNOTATION_DOCUMENT/>", "ISO-8859-1"},
		{"bad media time origin", head + `<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER><MEDIA_DESCRIPTOR MEDIA_URL="file:///v.mp4" MIME_TYPE="video/mp4" TIME_ORIGIN="1.5s"/></HEADER><TIME_ORDER/></ANNOTATION_DOCUMENT>`, `TIME_ORIGIN "1.5s"`},
		{"empty media time origin", head + `<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER><MEDIA_DESCRIPTOR MEDIA_URL="file:///v.mp4" TIME_ORIGIN=""/></HEADER><TIME_ORDER/></ANNOTATION_DOCUMENT>`, `TIME_ORIGIN ""`},
		{"bad linked file time origin", head + `<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER><LINKED_FILE_DESCRIPTOR LINK_URL="file:///s.csv" TIME_ORIGIN="12ms"/></HEADER><TIME_ORDER/></ANNOTATION_DOCUMENT>`, `TIME_ORIGIN "12ms"`},
	}
	for _, tc := range tests {
		_, err := Parse("x.eaf", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "x.eaf:") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming x.eaf and %q", tc.name, err, tc.want)
		}
	}
	// valid origins, negative and padded, still read
	d, err := Parse("x.eaf", []byte(head+`<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER><MEDIA_DESCRIPTOR MEDIA_URL="file:///v.mp4" MIME_TYPE="video/mp4" TIME_ORIGIN=" -40 "/><MEDIA_DESCRIPTOR MEDIA_URL="file:///w.mp4" MIME_TYPE="video/mp4"/></HEADER><TIME_ORDER/></ANNOTATION_DOCUMENT>`))
	if err != nil {
		t.Fatal(err)
	}
	if md := d.Media(); len(md) != 2 || md[0].TimeOrigin != -40 || md[1].TimeOrigin != 0 {
		t.Errorf("media %+v, want origins -40 and 0", md)
	}
	if _, err := ReadFile("testdata/does-not-exist.eaf"); err == nil || !strings.Contains(err.Error(), "does-not-exist.eaf") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadFile(os.TempDir()); err == nil {
		t.Error("read a folder")
	}
}

// TestTestdataAcceptance runs the corpus check on the project's own files;
// it validates with xmllint only when the shared XSDs are present.
func TestTestdataAcceptance(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eaf")
	if len(files) < 8 {
		t.Fatalf("only %d testdata files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { checkAddRoundTrip(t, f, xsdDir()) })
	}
}
