package eaf

import (
	"fmt"
	"strconv"
	"strings"
)

// Version returns the document's EAF version, taken from FORMAT when it is
// present and valid, else from VERSION (never from the schema URL).
func (d *Document) Version() Version { return d.m.version }

// Media returns the MEDIA_DESCRIPTORs in document order.
func (d *Document) Media() []MediaDescriptor {
	var out []MediaDescriptor
	for _, k := range d.m.header.kids {
		if k.name != "MEDIA_DESCRIPTOR" {
			continue
		}
		md := MediaDescriptor{MediaURL: k.get("MEDIA_URL"), RelativeMediaURL: k.get("RELATIVE_MEDIA_URL"),
			MimeType: k.get("MIME_TYPE"), ExtractedFrom: k.get("EXTRACTED_FROM")}
		md.TimeOrigin, _ = strconv.ParseInt(strings.TrimSpace(k.get("TIME_ORIGIN")), 10, 64)
		out = append(out, md)
	}
	return out
}

// LinkedFiles returns the LINKED_FILE_DESCRIPTORs.
func (d *Document) LinkedFiles() []LinkedFile {
	var out []LinkedFile
	for _, k := range d.m.header.kids {
		if k.name != "LINKED_FILE_DESCRIPTOR" {
			continue
		}
		lf := LinkedFile{LinkURL: k.get("LINK_URL"), RelativeLinkURL: k.get("RELATIVE_LINK_URL"),
			MimeType: k.get("MIME_TYPE"), AssociatedWith: k.get("ASSOCIATED_WITH")}
		lf.TimeOrigin, _ = strconv.ParseInt(strings.TrimSpace(k.get("TIME_ORIGIN")), 10, 64)
		out = append(out, lf)
	}
	return out
}

// Properties returns the HEADER PROPERTYs in document order.
func (d *Document) Properties() []Property {
	var out []Property
	for _, k := range d.m.header.kids {
		if k.name == "PROPERTY" {
			out = append(out, Property{Name: k.get("NAME"), Value: string(k.text)})
		}
	}
	return out
}

// Property returns the value of the first PROPERTY with the given NAME.
func (d *Document) Property(name string) (string, bool) {
	for _, p := range d.Properties() {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// TimeSlots returns the time slots in document order.
func (d *Document) TimeSlots() []TimeSlot {
	out := make([]TimeSlot, len(d.m.slotOrder))
	for i, s := range d.m.slotOrder {
		out[i] = *s
	}
	return out
}

// Tiers returns the tiers in document order. A repeated TIER_ID is merged
// into the first tier of that name, as ELAN does.
func (d *Document) Tiers() []Tier {
	out := make([]Tier, len(d.m.tiers))
	for i, t := range d.m.tiers {
		out[i] = t.tier
	}
	return out
}

// Tier returns the tier with the given TIER_ID.
func (d *Document) Tier(id string) (Tier, bool) {
	t := d.m.tierByID[id]
	if t == nil {
		return Tier{}, false
	}
	return t.tier, true
}

// Annotations returns the annotations of a tier in document order with
// their times resolved (EAF time in ms; add the media's TIME_ORIGIN for
// media time).
func (d *Document) Annotations(tierID string) ([]Annotation, error) {
	t := d.m.tierByID[tierID]
	if t == nil {
		return nil, fmt.Errorf("%s: no tier %q", d.name, tierID)
	}
	out := make([]Annotation, len(t.anns))
	for i, a := range t.anns {
		out[i] = a.a
	}
	return out, nil
}

// LinguisticTypes returns the LINGUISTIC_TYPEs in document order.
func (d *Document) LinguisticTypes() []LinguisticType {
	return append([]LinguisticType(nil), d.m.types...)
}

func (d *Document) topLevel(name string) []*node {
	var out []*node
	for _, k := range d.root.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// Constraints returns the CONSTRAINTs.
func (d *Document) Constraints() []Constraint {
	var out []Constraint
	for _, k := range d.topLevel("CONSTRAINT") {
		out = append(out, Constraint{Stereotype: k.get("STEREOTYPE"), Description: k.get("DESCRIPTION")})
	}
	return out
}

// ControlledVocabularies returns the CONTROLLED_VOCABULARYs with their
// entries, old-style (CV_ENTRY) or multilingual (CV_ENTRY_ML).
func (d *Document) ControlledVocabularies() []ControlledVocabulary {
	var out []ControlledVocabulary
	for _, k := range d.topLevel("CONTROLLED_VOCABULARY") {
		cv := ControlledVocabulary{ID: k.get("CV_ID"), Description: k.get("DESCRIPTION"), ExtRef: k.get("EXT_REF")}
		for _, e := range k.kids {
			switch e.name {
			case "CV_ENTRY":
				cv.Entries = append(cv.Entries, CVEntry{ID: e.get("CVE_ID"), Values: map[string]string{"": string(e.text)}})
			case "CV_ENTRY_ML":
				ce := CVEntry{ID: e.get("CVE_ID"), Values: map[string]string{}}
				for _, v := range e.kids {
					if v.name == "CVE_VALUE" {
						ce.Values[v.get("LANG_REF")] = string(v.text)
					}
				}
				cv.Entries = append(cv.Entries, ce)
			}
		}
		out = append(out, cv)
	}
	return out
}

// Locales returns the LOCALEs.
func (d *Document) Locales() []Locale {
	var out []Locale
	for _, k := range d.topLevel("LOCALE") {
		out = append(out, Locale{LanguageCode: k.get("LANGUAGE_CODE"), CountryCode: k.get("COUNTRY_CODE"), Variant: k.get("VARIANT")})
	}
	return out
}

// Languages returns the LANGUAGEs (2.8+).
func (d *Document) Languages() []Language {
	var out []Language
	for _, k := range d.topLevel("LANGUAGE") {
		out = append(out, Language{ID: k.get("LANG_ID"), Def: k.get("LANG_DEF"), Label: k.get("LANG_LABEL")})
	}
	return out
}

// ExternalRefs returns the EXTERNAL_REFs (2.6+).
func (d *Document) ExternalRefs() []ExternalRef {
	var out []ExternalRef
	for _, k := range d.topLevel("EXTERNAL_REF") {
		out = append(out, ExternalRef{ID: k.get("EXT_REF_ID"), Type: k.get("TYPE"), Value: k.get("VALUE")})
	}
	return out
}

// LexiconRefs returns the LEXICON_REFs (2.7+).
func (d *Document) LexiconRefs() []LexiconRef {
	var out []LexiconRef
	for _, k := range d.topLevel("LEXICON_REF") {
		out = append(out, LexiconRef{ID: k.get("LEX_REF_ID"), Name: k.get("NAME"), Type: k.get("TYPE"), URL: k.get("URL"),
			LexiconID: k.get("LEXICON_ID"), LexiconName: k.get("LEXICON_NAME")})
	}
	return out
}

// RefLinkSets returns the REF_LINK_SETs (3.0). The set id is read from
// LINK_SET_ID or, as an older ELAN wrote, LINKS_ID.
func (d *Document) RefLinkSets() []RefLinkSet {
	var out []RefLinkSet
	for _, k := range d.topLevel("REF_LINK_SET") {
		id, ok := k.attr("LINK_SET_ID")
		if !ok {
			id = k.get("LINKS_ID")
		}
		rs := RefLinkSet{ID: id, Name: k.get("LINK_SET_NAME")}
		for _, l := range k.kids {
			if l.name == "CROSS_REF_LINK" || l.name == "GROUP_REF_LINK" {
				rs.LinkIDs = append(rs.LinkIDs, l.get("REF_LINK_ID"))
			}
		}
		out = append(out, rs)
	}
	return out
}

// Licenses returns the LICENSE elements (2.8+).
func (d *Document) Licenses() []License {
	var out []License
	for _, k := range d.topLevel("LICENSE") {
		out = append(out, License{Text: string(k.text), URL: k.get("LICENSE_URL")})
	}
	return out
}
