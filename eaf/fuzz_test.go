package eaf

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the reader: it must never panic,
// errors must name the file, and a document that loads must give back its
// bytes unchanged and answer every query.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER/><TIME_ORDER/></ANNOTATION_DOCUMENT>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("fuzz.eaf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.eaf:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if !bytes.Equal(d.Bytes(), data) {
			t.Fatal("Bytes() differs from the input")
		}
		_ = d.Version().String()
		d.Media()
		d.LinkedFiles()
		d.Properties()
		d.TimeSlots()
		d.LinguisticTypes()
		d.Constraints()
		d.ControlledVocabularies()
		d.Locales()
		d.Languages()
		d.ExternalRefs()
		d.LexiconRefs()
		d.RefLinkSets()
		d.Licenses()
		for _, tr := range d.Tiers() {
			if _, err := d.Annotations(tr.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzAddTier reads arbitrary bytes and, when they load, adds a tier (with
// a child tier, a property, possibly replacing) and checks the output with
// an independent XML reader: it parses, holds exactly the new annotations
// at the right times, creates no duplicate id, and keeps every other tier.
func FuzzAddTier(f *testing.F) {
	f.Add([]byte(`<ANNOTATION_DOCUMENT VERSION="3.0"><HEADER/><TIME_ORDER/></ANNOTATION_DOCUMENT>`), uint8(3), int16(0), false, "S")
	f.Fuzz(func(t *testing.T, data []byte, n uint8, origin int16, replace bool, label string) {
		d, err := Parse("fuzz.eaf", data)
		if err != nil {
			return
		}
		before := readRef(t, data)
		segs := testSegments(int(n%40), int64(origin))
		for i := range segs {
			if i%5 == 1 {
				segs[i].Value = label
			}
		}
		spec := TierSpec{ID: "signseg-fuzz", Replace: replace, TimeOrigin: int64(origin), Segments: segs}
		if n%2 == 0 {
			spec.ChildID = "signseg-fuzz-child"
		}
		if _, err := d.AddTier(spec); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.eaf") || strings.Contains(err.Error(), "internal error") {
				t.Fatalf("AddTier: %v", err)
			}
			if !bytes.Equal(d.Bytes(), data) {
				t.Fatal("a failed AddTier changed the document")
			}
			return
		}
		if err := d.SetProperty("signseg:fuzz", label); err != nil && d.Version().atLeast(2, 4) {
			t.Fatalf("SetProperty: %v", err)
		}
		out := d.Bytes()
		if _, err := Parse("fuzz.eaf", out); err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		after := readRef(t, out)
		got := after.anns[spec.ID]
		if len(got) != len(segs) {
			t.Fatalf("%d new annotations, want %d", len(got), len(segs))
		}
		dupBefore := before.dupIDs()
		for id := range after.dupIDs() {
			if !dupBefore[id] {
				t.Fatalf("id %q now used twice", id)
			}
		}
		for i, a := range got {
			if after.slots[a.ts1] != fmt.Sprint(segs[i].Start-int64(origin)) || after.slots[a.ts2] != fmt.Sprint(segs[i].End-int64(origin)) {
				t.Fatalf("annotation %d at %q–%q", i, after.slots[a.ts1], after.slots[a.ts2])
			}
		}
		for _, id := range before.tiers {
			if _, removed := after.tierAttr[id]; !removed && !replace {
				t.Fatalf("tier %q lost", id)
			}
			if id == spec.ID || id == spec.ChildID || !isSubseq([]string{id}, after.tiers) {
				continue
			}
			if fmt.Sprint(after.anns[id]) != fmt.Sprint(before.anns[id]) {
				t.Fatalf("tier %q changed", id)
			}
		}
	})
}
