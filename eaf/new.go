package eaf

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// NewOptions describes a fresh document made by New.
type NewOptions struct {
	// VideoPath is the video to link. It is made absolute for MEDIA_URL.
	VideoPath string
	// EAFPath is where the document will be saved; RELATIVE_MEDIA_URL is
	// written relative to its folder. Empty omits RELATIVE_MEDIA_URL.
	EAFPath string
	// MimeType defaults to one guessed from the video's extension.
	MimeType string
	// Author is the AUTHOR attribute (may be empty).
	Author string
	// Date is the DATE attribute; the zero value means now.
	Date time.Time
}

// constraints are the four CONSTRAINTs ELAN writes into every document.
var constraints = [][2]string{
	{"Time subdivision of parent annotation's time interval, no time gaps allowed within this interval", "Time_Subdivision"},
	{"Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered", "Symbolic_Subdivision"},
	{assocDescription, "Symbolic_Association"},
	{"Time alignable annotations within the parent annotation's time interval, gaps are allowed", "Included_In"},
}

// New makes a minimal EAF 3.0 document linking one video, in the form ELAN
// writes: MEDIA_URL is file:/// plus the absolute path (not
// percent-encoded, as ELAN writes and reads it), RELATIVE_MEDIA_URL is
// ./name or ../…, lastUsedAnnotationId is 0, and it has the default-lt
// type and ELAN's four constraints but no tier. Add tiers with AddTier and
// write it with Save.
func New(opts NewOptions) (*Document, error) {
	name := opts.EAFPath
	if name == "" {
		name = "new.eaf"
	}
	if opts.VideoPath == "" {
		return nil, fmt.Errorf("%s: no video to link", name)
	}
	abs, err := filepath.Abs(opts.VideoPath)
	if err != nil {
		return nil, fmt.Errorf("%s: video path %s: %w", name, opts.VideoPath, err)
	}
	mediaURL := "file://" + filepath.ToSlash(abs)
	if !strings.HasPrefix(filepath.ToSlash(abs), "/") { // Windows: file:///C:/…
		mediaURL = "file:///" + filepath.ToSlash(abs)
	}
	mime := opts.MimeType
	if mime == "" {
		mime = MimeTypeOf(abs)
	}
	md := [][2]string{{"MEDIA_URL", mediaURL}, {"MIME_TYPE", mime}}
	if opts.EAFPath != "" {
		if eafAbs, err := filepath.Abs(opts.EAFPath); err == nil {
			if rel, err := filepath.Rel(filepath.Dir(eafAbs), abs); err == nil {
				rel = filepath.ToSlash(rel)
				if !strings.HasPrefix(rel, "../") {
					rel = "./" + rel
				}
				md = append(md, [2]string{"RELATIVE_MEDIA_URL", rel})
			}
		}
	}
	date := opts.Date
	if date.IsZero() {
		date = time.Now()
	}
	const eol, in = "\n", "    "
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + eol)
	b.WriteString(elem("ANNOTATION_DOCUMENT", [][2]string{{"AUTHOR", opts.Author}, {"DATE", date.Format(time.RFC3339)},
		{"FORMAT", "3.0"}, {"VERSION", "3.0"}, {"xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"},
		{"xsi:noNamespaceSchemaLocation", "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"}}, ">") + eol)
	b.WriteString(in + `<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">` + eol)
	b.WriteString(in + in + elem("MEDIA_DESCRIPTOR", md, "/>") + eol)
	b.WriteString(in + in + `<PROPERTY NAME="lastUsedAnnotationId">0</PROPERTY>` + eol)
	b.WriteString(in + "</HEADER>" + eol)
	b.WriteString(in + "<TIME_ORDER/>" + eol)
	b.WriteString(in + `<LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>` + eol)
	for _, c := range constraints {
		b.WriteString(in + elem("CONSTRAINT", [][2]string{{"DESCRIPTION", c[0]}, {"STEREOTYPE", c[1]}}, "/>") + eol)
	}
	b.WriteString("</ANNOTATION_DOCUMENT>" + eol)
	d, err := Parse(name, []byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("%s: internal error: new document does not parse: %w", name, err)
	}
	return d, nil
}

// MimeTypeOf returns the MIME type ELAN uses for a media file name.
func MimeTypeOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".mp4", ".m4v":
		return "video/mp4"
	case ".mpg", ".mpeg":
		return "video/mpeg"
	case ".mov":
		return "video/quicktime"
	case ".wav":
		return "audio/x-wav"
	case ".mp3", ".m4a", ".aac", ".ogg", ".flac":
		return "audio/*"
	}
	return "video/*"
}
