package eaf_test

import (
	"fmt"
	"log"

	"github.com/signseg/signseg/eaf"
)

// Add a tier of sign annotations (times in media ms) with a confidence
// child tier to an existing document, then read it back.
func ExampleDocument_AddTier() {
	d, err := eaf.Parse("session.eaf", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00Z" FORMAT="3.0" VERSION="3.0">
    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">
        <MEDIA_DESCRIPTOR MEDIA_URL="file:///data/clip.mp4" MIME_TYPE="video/mp4" TIME_ORIGIN="1000"/>
    </HEADER>
    <TIME_ORDER/>
    <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>
</ANNOTATION_DOCUMENT>
`))
	if err != nil {
		log.Fatal(err)
	}
	video := d.Media()[0]
	_, err = d.AddTier(eaf.TierSpec{
		ID:         "signs",
		Annotator:  "signseg 0.1.0",
		TimeOrigin: video.TimeOrigin,
		ChildID:    "signs-confidence",
		Segments: []eaf.Segment{
			{Start: 1200, End: 1640, Value: "SIGN", ChildValue: "0.93"},
			{Start: 1640, End: 2000, Value: "SIGN", ChildValue: "0.71"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range d.Tiers() {
		anns, _ := d.Annotations(t.ID)
		for _, a := range anns {
			fmt.Printf("%s %s %d-%d %s\n", t.ID, a.ID, a.Start, a.End, a.Value)
		}
	}
	last, _ := d.Property("lastUsedAnnotationId")
	fmt.Println("lastUsedAnnotationId", last)
	// Output:
	// signs a1 200-640 SIGN
	// signs a2 640-1000 SIGN
	// signs-confidence a3 200-640 0.93
	// signs-confidence a4 640-1000 0.71
	// lastUsedAnnotationId 4
}
