// Package eaf reads, extends and writes ELAN annotation documents (.eaf,
// EAF 2.0 to 3.0) without disturbing the bytes it did not mean to change.
//
// Read a file with ReadFile (or Parse), query it (Version, Media, Tiers,
// Annotations, …), find its video with ResolveVideo or ResolveMedia, add a
// tier with AddTier, record facts with SetProperty, and write it with Save.
// New makes a fresh EAF 3.0 document that links one video.
//
// A Document keeps the file's original bytes. Edits are spliced into those
// bytes: every byte outside the inserted or replaced fragments stays as it
// was (formatting, attribute order and quoting, comments, entities, CRLF
// line ends, a byte-order mark, unknown elements), except the value of the
// lastUsedAnnotationId property, and a self-closing <TIME_ORDER/> or
// <HEADER/> that must be opened to receive children. New elements follow
// the schema's element order for the file's version, and nothing newer
// than that version is written. After every edit the result is parsed
// again and checked before the edit is accepted.
//
// Save writes atomically (temporary file in the same folder, fsync, rename,
// fsync of the folder), keeps a backup of the previous file and refuses to
// overwrite a file that changed on disk since it was read.
//
// Tiers written by signseg are recognised by their ANNOTATOR attribute: it
// is SignsegAnnotator or starts with SignsegAnnotator followed by a space or
// '/' (for example "signseg 0.3.0"). Only such tiers may be replaced. EAF
// files older than 2.4 have no ANNOTATOR, so their tiers are never replaced.
package eaf

import (
	"fmt"
	"strconv"
	"strings"
)

// SignsegAnnotator is the ANNOTATOR value (or its prefix) that marks a tier
// as written by signseg, and so replaceable by AddTier with Replace set.
const SignsegAnnotator = "signseg"

// Document is a parsed EAF file. Its methods are not safe for concurrent
// use.
type Document struct {
	name string // file name used in error messages
	src  *source
	data []byte // current bytes: original plus accepted edits
	root *node
	m    model
}

// model holds the interpreted document, rebuilt after every edit.
type model struct {
	version    Version
	eol        string
	unit       string // one level of indentation
	header     *node
	timeOrder  *node
	slots      map[string]*TimeSlot
	slotOrder  []*TimeSlot
	tiers      []*tierNode
	tierByID   map[string]*tierNode
	types      []LinguisticType
	typeByID   map[string]*LinguisticType
	ids        map[string]bool // the xsd:ID space
	annByID    map[string]*annNode
	lastUsed   int64 // lastUsedAnnotationId, -1 when absent
	lastUsedEl *node
}

type tierNode struct {
	n    *node
	tier Tier
	anns []*annNode
}

type annNode struct {
	n    *node // ALIGNABLE_ANNOTATION or REF_ANNOTATION
	a    Annotation
	ts1  string
	ts2  string
	done bool // times resolved
	busy bool // resolving (cycle guard)
}

// Version is an EAF format version such as 2.7 or 3.0.
type Version struct{ Major, Minor int }

// String returns the version as written in the file, e.g. "2.7".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// atLeast reports whether v >= major.minor.
func (v Version) atLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

func parseVersion(s string) (Version, bool) {
	s = strings.TrimSpace(s)
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 || a > 99 || b > 99 {
		return Version{}, false
	}
	return Version{a, b}, true
}

// MediaDescriptor is a HEADER/MEDIA_DESCRIPTOR. Empty strings mean the
// attribute is absent.
type MediaDescriptor struct {
	MediaURL         string
	RelativeMediaURL string
	MimeType         string
	TimeOrigin       int64 // ms; media time = annotation time + TimeOrigin
	ExtractedFrom    string
}

// IsVideo reports whether the descriptor names a video: a video/ MIME type
// or, failing that, a video file extension.
func (m MediaDescriptor) IsVideo() bool {
	if strings.HasPrefix(strings.ToLower(m.MimeType), "video/") {
		return true
	}
	if strings.HasPrefix(strings.ToLower(m.MimeType), "audio/") {
		return false
	}
	return videoExt[strings.ToLower(extOf(m.MediaURL))] || videoExt[strings.ToLower(extOf(m.RelativeMediaURL))]
}

// LinkedFile is a HEADER/LINKED_FILE_DESCRIPTOR (EAF 2.3+).
type LinkedFile struct {
	LinkURL, RelativeLinkURL, MimeType, AssociatedWith string
	TimeOrigin                                         int64
}

// Property is a HEADER/PROPERTY (EAF 2.4+).
type Property struct{ Name, Value string }

// TimeSlot is a TIME_ORDER/TIME_SLOT. Unaligned slots have no TIME_VALUE.
type TimeSlot struct {
	ID      string
	Value   int64 // ms; meaningful only when Aligned
	Aligned bool
	index   int
}

// Tier is a TIER's attributes. Empty strings mean the attribute is absent.
type Tier struct {
	ID             string
	LinguisticType string
	Parent         string
	Participant    string
	Annotator      string
	DefaultLocale  string
	LangRef        string
	ExtRef         string
}

// IsSignseg reports whether the tier was written by signseg (see
// SignsegAnnotator).
func (t Tier) IsSignseg() bool {
	a := t.Annotator
	return a == SignsegAnnotator || strings.HasPrefix(a, SignsegAnnotator+" ") || strings.HasPrefix(a, SignsegAnnotator+"/")
}

// Annotation is one annotation of a tier with its times resolved to ms.
type Annotation struct {
	ID    string
	Value string
	Start int64 // ms, EAF time (not media time)
	End   int64
	// Ref is the parent annotation of a REF_ANNOTATION ("" for alignable ones).
	Ref string
	// Previous is a REF_ANNOTATION's PREVIOUS_ANNOTATION.
	Previous string
	// Interpolated is true when a time was not stored in the file: an
	// unaligned slot (interpolated between its aligned neighbours in
	// TIME_ORDER, as ELAN displays it) or a reference annotation (which
	// takes its parent's interval).
	Interpolated bool
	CVERef       string
	ExtRef       string
	LangRef      string
}

// LinguisticType is a LINGUISTIC_TYPE.
type LinguisticType struct {
	ID                string
	TimeAlignable     bool
	Constraints       string
	ControlledVocab   string
	GraphicReferences string
	ExtRef            string
	LexiconRef        string
}

// Constraint is a CONSTRAINT (STEREOTYPE and DESCRIPTION).
type Constraint struct{ Stereotype, Description string }

// ControlledVocabulary is a CONTROLLED_VOCABULARY, old (CV_ENTRY, up to
// 2.7) or multilingual (CV_ENTRY_ML, 2.8+).
type ControlledVocabulary struct {
	ID          string
	Description string // the 2.x DESCRIPTION attribute
	ExtRef      string
	Entries     []CVEntry
}

// CVEntry is one entry of a controlled vocabulary. For CV_ENTRY_ML, ID is
// CVE_ID and Values maps LANG_REF to value; for CV_ENTRY, Values[""] holds
// the text.
type CVEntry struct {
	ID     string
	Values map[string]string
}

// Locale is a LOCALE.
type Locale struct{ LanguageCode, CountryCode, Variant string }

// Language is a LANGUAGE (2.8+).
type Language struct{ ID, Def, Label string }

// ExternalRef is an EXTERNAL_REF (2.6+).
type ExternalRef struct{ ID, Type, Value string }

// LexiconRef is a LEXICON_REF (2.7+).
type LexiconRef struct{ ID, Name, Type, URL, LexiconID, LexiconName string }

// RefLinkSet is a REF_LINK_SET (3.0) with the ids of its links.
type RefLinkSet struct {
	ID, Name string
	LinkIDs  []string
}

// License is a LICENSE (2.8+).
type License struct{ Text, URL string }

var videoExt = map[string]bool{
	".mp4": true, ".m4v": true, ".mpg": true, ".mpeg": true, ".mov": true, ".avi": true,
	".mkv": true, ".webm": true, ".wmv": true, ".mts": true, ".m2ts": true, ".ogv": true,
	".dv": true, ".flv": true, ".3gp": true, ".mxf": true,
}

func extOf(u string) string {
	i := strings.LastIndexAny(u, "./\\")
	if i < 0 || u[i] != '.' {
		return ""
	}
	return u[i:]
}
