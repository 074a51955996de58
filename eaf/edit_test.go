package eaf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// TestGolden compares edits with outputs written by hand.
func TestGolden(t *testing.T) {
	t.Run("empty TIME_ORDER, self-closing HEADER, no declaration", func(t *testing.T) {
		d := mustRead(t, "testdata/empty_no_decl.eaf")
		n, err := d.AddTier(TierSpec{ID: "signs", ChildID: "conf", Participant: "S1", Segments: []Segment{
			{Start: 300, End: 450, Value: `a&b "c" 'd' <e>`, ChildValue: ""},
			{Start: 100, End: 300, Value: "HELLO", ChildValue: "0.9"}, // unsorted input; touching is allowed
		}})
		if err != nil || n != 2 {
			t.Fatal(n, err)
		}
		if err := d.SetProperty("signseg-version", "0.2.0"); err != nil {
			t.Fatal(err)
		}
		compareGolden(t, d.Bytes(), "testdata/golden/empty_no_decl.want.eaf")
	})
	t.Run("replace a signseg tier", func(t *testing.T) {
		d := mustRead(t, "testdata/signseg_tier.eaf")
		if err := d.SetProperty("signseg-version", "0.2.0"); err != nil {
			t.Fatal(err)
		}
		_, err := d.AddTier(TierSpec{ID: "signs", ChildID: "signs-confidence", Annotator: "signseg 0.2.0", Replace: true, TimeOrigin: 100,
			Segments: []Segment{{Start: 200, End: 700, Value: "NEW", ChildValue: "0.77"}}})
		if err != nil {
			t.Fatal(err)
		}
		compareGolden(t, d.Bytes(), "testdata/golden/signseg_tier_replace.want.eaf")
		// replacing again gives the same tiers, not a second copy
		if _, err := d.AddTier(TierSpec{ID: "signs", ChildID: "signs-confidence", Replace: true,
			Segments: []Segment{{Start: 0, End: 10, Value: "X"}}}); err != nil {
			t.Fatal(err)
		}
		r := readRef(t, d.Bytes())
		if strings.Join(r.tiers, ",") != "gloss,signs,signs-confidence,signs2,bob-notes,lookalike,last" || len(r.anns["signs"]) != 1 {
			t.Errorf("after second replace: %v", r.tiers)
		}
		// ts6 and ts7 were freed by the removal and are taken again
		if r.slotN != 6 || r.slots["ts6"] != "0" || r.slots["ts7"] != "10" || r.anns["signs"][0].id != "a9" || r.lastUsed != "10" {
			t.Errorf("after second replace: slots %v, annotations %v, last %s", r.slots, r.anns["signs"], r.lastUsed)
		}
	})
}

func compareGolden(t testing.TB, got []byte, wantFile string) {
	t.Helper()
	want, err := os.ReadFile(wantFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s: first difference at line %d:\n got %q\nwant %q", wantFile, i+1, g, w)
			}
		}
		// the lines agree, so the ends differ: a final newline missing or extra
		t.Fatalf("%s: the lines agree but the ends differ (%d bytes, want %d): got ...%q, want ...%q",
			wantFile, len(got), len(want), tail(got), tail(want))
	}
}

// tail is the last few bytes of b, for messages.
func tail(b []byte) []byte { return b[max(0, len(b)-12):] }

// TestCompareGoldenExact: the golden comparison is byte for byte, a
// missing or extra final newline included.
func TestCompareGoldenExact(t *testing.T) {
	want := "<A>\n  <B/>\n</A>\n"
	golden := filepath.Join(t.TempDir(), "want.eaf")
	if err := os.WriteFile(golden, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, got string
		fail      bool
	}{
		{"identical", want, false},
		{"missing final newline", strings.TrimSuffix(want, "\n"), true},
		{"extra final newline", want + "\n", true},
		{"CRLF line ends", strings.ReplaceAll(want, "\n", "\r\n"), true},
		{"different line", "<A>\n  <C/>\n</A>\n", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failed, skipped, msg := testenv.Outcome(t, func(tb testing.TB) { compareGolden(tb, []byte(tt.got), golden) })
			if failed != tt.fail || skipped {
				t.Fatalf("failed %v skipped %v (%s), want failed %v", failed, skipped, msg, tt.fail)
			}
		})
	}
}

func TestAddTierIDsAndTypes(t *testing.T) {
	tests := []struct {
		file                 string
		origin               int64
		wantType, wantFirstA string
		wantFirstTS          string
		wantLast             string
		wantTypeLine         string // the new LINGUISTIC_TYPE, if one is made
	}{
		// ids a900 (EXTERNAL_REF) and ts77 (LEXICON_REF) are taken; default-lt
		// and segmentation are constrained; no lastUsedAnnotationId yet
		{"v27_oldcv.eaf", 500, "segmentation-2", "a901", "ts78", "904",
			`<LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="segmentation-2" TIME_ALIGNABLE="true"/>`},
		// REF_LINK_ID a950 and LINK_SET_ID ts500 are taken; TIME_ORIGIN is on the 2nd descriptor
		{"v30_full.eaf", 1200, "default-lt", "a951", "ts501", "954", ""},
		// lastUsedAnnotationId 2 is stale (a5 is in use)
		{"crlf_bom.eaf", 0, "default-lt", "a6", "ts3", "9", ""},
		// 2.0: no PROPERTY, no GRAPHIC_REFERENCES, no ANNOTATOR
		{"v20.eaf", 0, "segmentation", "a2", "ts3", "",
			`<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="segmentation" TIME_ALIGNABLE="true"/>`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := mustRead(t, filepath.Join("testdata", tc.file))
			orig := append([]byte(nil), d.Bytes()...)
			segs := []Segment{
				{Start: tc.origin - 300, End: tc.origin - 100, Value: "before origin"}, // dropped
				{Start: tc.origin - 50, End: tc.origin + 250, Value: "straddles"},      // clamped to 0
				{Start: tc.origin + 1000, End: tc.origin + 1400, Value: "x"},
			}
			if tc.origin < 300 {
				segs = segs[1:]
				segs[0].Start = max(0, segs[0].Start)
			}
			n, err := d.AddTier(TierSpec{ID: "SIGNS", ChildID: "SIGNSconf", Segments: segs, TimeOrigin: tc.origin})
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("wrote %d annotations, want 2", n)
			}
			r := readRef(t, d.Bytes())
			got := r.anns["SIGNS"]
			if len(got) != 2 || got[0].id != tc.wantFirstA || got[0].ts1 != tc.wantFirstTS {
				t.Fatalf("new annotations %+v", got)
			}
			if r.slots[got[0].ts1] != "0" || r.slots[got[0].ts2] != "250" || r.slots[got[1].ts1] != "1000" || r.slots[got[1].ts2] != "1400" {
				t.Errorf("times %v %v", r.slots[got[0].ts1], r.slots[got[1].ts2])
			}
			if r.tierAttr["SIGNS"]["LINGUISTIC_TYPE_REF"] != tc.wantType {
				t.Errorf("type %q, want %q", r.tierAttr["SIGNS"]["LINGUISTIC_TYPE_REF"], tc.wantType)
			}
			if r.lastUsed != tc.wantLast {
				t.Errorf("lastUsedAnnotationId %q, want %q", r.lastUsed, tc.wantLast)
			}
			if tc.wantTypeLine != "" && !bytes.Contains(d.Bytes(), []byte(tc.wantTypeLine)) {
				t.Errorf("no %s", tc.wantTypeLine)
			}
			if _, err := lineDiff(orig, d.Bytes()); err != nil {
				t.Error(err)
			}
			if bytes.HasPrefix(orig, bom) != bytes.HasPrefix(d.Bytes(), bom) {
				t.Error("BOM changed")
			}
			crlf := bytes.Count(orig, []byte("\r\n")) > 0
			if crlf && bytes.Count(d.Bytes(), []byte("\n")) != bytes.Count(d.Bytes(), []byte("\r\n")) {
				t.Error("LF line ends written into a CRLF file")
			}
			if !crlf && bytes.Contains(d.Bytes(), []byte("\r")) {
				t.Error("CR written into an LF file")
			}
			if tc.file == "v20.eaf" {
				if bytes.Contains(d.Bytes(), []byte("ANNOTATOR")) || bytes.Contains(d.Bytes(), []byte("PROPERTY")) {
					t.Error("2.4 construct in a 2.0 file")
				}
			}
		})
	}
}

func TestAddTierRefusals(t *testing.T) {
	tests := []struct {
		file string
		spec TierSpec
		want string
	}{
		{"signseg_tier.eaf", TierSpec{ID: "gloss"}, "already exists"},
		{"signseg_tier.eaf", TierSpec{ID: "gloss", Replace: true}, `not written by signseg (ANNOTATOR "Ann")`},
		{"signseg_tier.eaf", TierSpec{ID: "lookalike", Replace: true}, "not written by signseg"},
		{"signseg_tier.eaf", TierSpec{ID: "signs2", Replace: true}, `tier "bob-notes"`},
		{"signseg_tier.eaf", TierSpec{ID: "new", ChildID: "gloss", Replace: true}, "not written by signseg"},
		{"signseg_tier.eaf", TierSpec{ID: "new", ChildID: "new"}, "same name"},
		{"signseg_tier.eaf", TierSpec{ID: ""}, "needs a name"},
		{"signseg_tier.eaf", TierSpec{ID: "x\x01"}, "characters"},
		{"signseg_tier.eaf", TierSpec{ID: "new", Segments: []Segment{{Start: 0, End: 100}, {Start: 50, End: 150}}}, "overlap"},
		{"signseg_tier.eaf", TierSpec{ID: "new", Segments: []Segment{{Start: 100, End: 100}}}, "not after its start"},
		{"signseg_tier.eaf", TierSpec{ID: "new", Segments: []Segment{{Start: -5, End: 100}}}, "negative"},
		{"signseg_tier.eaf", TierSpec{ID: "new", Segments: []Segment{{Start: 0, End: 1 << 33}}}, "beyond"},
		{"v20.eaf", TierSpec{ID: "my tier"}, "XML name"},
		{"v20.eaf", TierSpec{ID: "ts1"}, "already used as an id"},
		{"v20.eaf", TierSpec{ID: "W", Replace: true}, "not written by signseg"},
	}
	for _, tc := range tests {
		d := mustRead(t, filepath.Join("testdata", tc.file))
		before := append([]byte(nil), d.Bytes()...)
		_, err := d.AddTier(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s %+v: error %v, want %q naming the file", tc.file, tc.spec, err, tc.want)
		}
		if !bytes.Equal(before, d.Bytes()) {
			t.Errorf("%s: a refused edit changed the document", tc.file)
		}
	}
}

func TestReplaceKeepsSharedSlots(t *testing.T) {
	d := mustRead(t, "testdata/signseg_tier.eaf")
	orig := readRef(t, d.Bytes())
	if _, err := d.AddTier(TierSpec{ID: "signs", Replace: true}); err != nil {
		t.Fatal(err)
	}
	r := readRef(t, d.Bytes())
	// ts1 (shared with gloss), ts4 and ts5 (shared with last) stay; ts3 goes
	for _, id := range []string{"ts1", "ts2", "ts4", "ts5"} {
		if r.slots[id] != orig.slots[id] {
			t.Errorf("slot %s lost", id)
		}
	}
	if _, ok := r.slots["ts3"]; ok {
		t.Error("unused slot ts3 kept")
	}
	if _, ok := r.tierAttr["signs-confidence"]; ok {
		t.Error("the old signseg child tier was kept")
	}
	if !bytes.Contains(d.Bytes(), []byte(`    <TIER ANNOTATOR="signseg" LINGUISTIC_TYPE_REF="default-lt" TIER_ID="signs"/>`+"\n")) {
		t.Error("an empty tier is not written as <TIER .../>")
	}
	if r.lastUsed != "6" {
		t.Errorf("lastUsedAnnotationId %s, want 6", r.lastUsed)
	}
}

func TestSetProperty(t *testing.T) {
	tests := []struct {
		file, name, value string
		want              string // the line that must appear
	}{
		{"signseg_tier.eaf", "signseg-version", "0.3.0", `        <PROPERTY NAME="signseg-version">0.3.0</PROPERTY>`},
		{"signseg_tier.eaf", "signseg-model", "i3d & ms-tcn", `        <PROPERTY NAME="signseg-model">i3d &amp; ms-tcn</PROPERTY>` + "\n" + `        <PROPERTY NAME="lastUsedAnnotationId">6</PROPERTY>`},
		{"unknown_elements.eaf", "empty", "now set", `        <PROPERTY NAME="empty">now set</PROPERTY>`},
		{"unknown_elements.eaf", "tool:custom", "keep   this", `<PROPERTY NAME="tool:custom" >keep   this</PROPERTY>`},
		{"v27_oldcv.eaf", "x", "y", `clip one.mpg" TIME_ORIGIN="500"/>` + "\n" + `        <PROPERTY NAME="x">y</PROPERTY>` + "\n    </HEADER>"},
	}
	for _, tc := range tests {
		d := mustRead(t, filepath.Join("testdata", tc.file))
		orig := append([]byte(nil), d.Bytes()...)
		if err := d.SetProperty(tc.name, tc.value); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(d.Bytes(), []byte(tc.want)) {
			t.Errorf("%s: %q not in\n%s", tc.file, tc.want, d.Bytes())
		}
		if v, _ := d.Property(tc.name); v != tc.value {
			t.Errorf("%s: property reads %q", tc.file, v)
		}
		if n := bytes.Count(d.Bytes(), []byte("\n")) - bytes.Count(orig, []byte("\n")); n > 1 {
			t.Errorf("%s: %d lines added", tc.file, n)
		}
	}
	for _, tc := range []struct{ file, name, want string }{
		{"v20.eaf", "x", "2.4"},
		{"signseg_tier.eaf", "lastUsedAnnotationId", "cannot be set"},
		{"signseg_tier.eaf", "", "cannot be set"},
	} {
		d := mustRead(t, filepath.Join("testdata", tc.file))
		if err := d.SetProperty(tc.name, "1"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v", tc.file, tc.name, err)
		}
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct{ in, text, attr string }{
		{`a<b>&"c"'d'`, `a&lt;b&gt;&amp;"c"'d'`, `a&lt;b>&amp;&quot;c&quot;'d'`},
		{"tab\tnl\ncr\r", "tab\tnl\ncr&#13;", "tab&#9;nl&#10;cr&#13;"},
		{"bell\x07nul\x00\uFFFE", "bellnul", "bellnul"},
		{"bad\xffutf8", "badutf8", "badutf8"},
		{"ünï €", "ünï €", "ünï €"},
	}
	for _, tc := range tests {
		if got := escText(tc.in); got != tc.text {
			t.Errorf("escText(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := escAttr(tc.in); got != tc.attr {
			t.Errorf("escAttr(%q) = %q, want %q", tc.in, got, tc.attr)
		}
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	video := filepath.Join(dir, "media", "Dad's clip 1.mp4")
	eafPath := filepath.Join(dir, "out", "clip.eaf")
	for _, p := range []string{filepath.Dir(video), filepath.Dir(eafPath)} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(video, []byte("not really a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := New(NewOptions{VideoPath: video, EAFPath: eafPath, Author: "signseg"})
	if err != nil {
		t.Fatal(err)
	}
	md := d.Media()
	if len(md) != 1 || md[0].MediaURL != "file://"+video || md[0].RelativeMediaURL != "../media/Dad's clip 1.mp4" || md[0].MimeType != "video/mp4" {
		t.Errorf("media %+v", md)
	}
	if _, err := d.AddTier(TierSpec{ID: "signs", ChildID: "conf", Segments: testSegments(3, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(eafPath, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	d2 := mustRead(t, eafPath)
	if r, err := d2.ResolveVideo(ResolveOptions{}); err != nil || r.Path != video || r.Rule != RuleMediaURL {
		t.Errorf("resolve %+v %v", r, err)
	}
	if a, _ := d2.Annotations("signs"); len(a) != 3 {
		t.Errorf("annotations %+v", a)
	}
	if tr := d2.Tiers(); len(tr) != 2 || tr[0].LinguisticType != "default-lt" {
		t.Errorf("tiers %+v", tr)
	}
	if err := d.Save(eafPath+".other", SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(filepath.Join(dir, "media", "Dad's clip 1.mp4"), SaveOptions{}); err == nil {
		t.Error("New document overwrote an existing file")
	}
	if xs := xsdDir(); xs != "" {
		fresh, _ := New(NewOptions{VideoPath: video, EAFPath: eafPath})
		p := filepath.Join(dir, "fresh.eaf")
		os.WriteFile(p, fresh.Bytes(), 0o644)
		for _, f := range []string{p, eafPath} {
			if code, msgs := xmllint(t, filepath.Join(xs, "EAFv3.0.xsd"), f); code != 0 {
				t.Errorf("%s is not valid EAF 3.0: %v", f, msgs)
			}
		}
	}
	if _, err := New(NewOptions{}); err == nil {
		t.Error("New without a video")
	}
}

func TestFreeTierID(t *testing.T) {
	d := mustRead(t, "testdata/signseg_tier.eaf")
	for _, tc := range [][2]string{{"new", "new"}, {"gloss", "gloss-1"}, {"signs", "signs-1"}} {
		if got := d.FreeTierID(tc[0]); got != tc[1] {
			t.Errorf("FreeTierID(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
	if _, err := d.AddTier(TierSpec{ID: "gloss-1"}); err != nil {
		t.Fatal(err)
	}
	if got := d.FreeTierID("gloss"); got != "gloss-2" {
		t.Errorf("after adding gloss-1: %q", got)
	}
	// in EAF 2.0 a tier name may not repeat any other id either
	d20 := mustRead(t, "testdata/v20.eaf")
	if got := d20.FreeTierID("ts1"); got != "ts1-1" {
		t.Errorf("2.0: %q", got)
	}
	// and new annotation ids avoid the new tier's own name
	if _, err := d20.AddTier(TierSpec{ID: "a2", Segments: []Segment{{Start: 0, End: 10}}}); err != nil {
		t.Fatal(err)
	}
	if a, _ := d20.Annotations("a2"); len(a) != 1 || a[0].ID != "a3" {
		t.Errorf("annotation ids %+v", a)
	}
}

func TestReplaceRepeatedTierID(t *testing.T) {
	src := `<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00Z" FORMAT="3.0" VERSION="3.0">
    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>
    <TIME_ORDER>
        <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/>
        <TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="10"/>
    </TIME_ORDER>
    <TIER ANNOTATOR="signseg" LINGUISTIC_TYPE_REF="default-lt" TIER_ID="s"/>
    <TIER ANNOTATOR="signseg" LINGUISTIC_TYPE_REF="default-lt" TIER_ID="s">
        <ANNOTATION>
            <ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">
                <ANNOTATION_VALUE>x</ANNOTATION_VALUE>
            </ALIGNABLE_ANNOTATION>
        </ANNOTATION>
    </TIER>
    <LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="default-lt"/>
</ANNOTATION_DOCUMENT>
`
	d, err := Parse("rep.eaf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := d.Annotations("s"); len(a) != 1 {
		t.Fatalf("repeated tier not merged: %+v", a)
	}
	if _, err := d.AddTier(TierSpec{ID: "s", Replace: true, Segments: []Segment{{Start: 5, End: 7}}}); err != nil {
		t.Fatal(err)
	}
	r := readRef(t, d.Bytes())
	if bytes.Count(d.Bytes(), []byte(`TIER_ID="s"`)) != 1 || len(r.anns["s"]) != 1 || r.slotN != 2 || r.slots["ts1"] != "5" {
		t.Errorf("after replace:\n%s", d.Bytes())
	}
	// the file had no lastUsedAnnotationId and a self-closing HEADER
	if r.lastUsed != "2" {
		t.Errorf("lastUsedAnnotationId %q", r.lastUsed)
	}
}
