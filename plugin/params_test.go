package plugin

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/signseg/signseg/segment"
)

// Parameter documents as each ELAN version writes them (specs/
// elan-recognizer.md §4), with the values a parser must recover.
func TestParseParamsDialects(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Params
	}{
		{
			name: "ELAN 6.9, UTF-8, CRLF, escaped",
			doc: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" +
				"<PARAM xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"file:avatech-call.xsd\">\r\n" +
				"<param name=\"InvocationContext\">signseg_sign_segmentation 2026-03-02 14:05:09+0100</param>\r\n" +
				"<param name=\"video\">/home/ana/corpus/S01 &amp; S02/Señas &apos;1&apos;.mp4</param>\r\n" +
				"<param name=\"regions\"></param>\r\n" +
				"<param name=\"threshold\">0.35000002</param>\r\n" +
				"<param name=\"threads\">0.0</param>\r\n" +
				"</PARAM>\r\n",
			want: Params{"InvocationContext": "signseg_sign_segmentation 2026-03-02 14:05:09+0100", "video": "/home/ana/corpus/S01 & S02/Señas '1'.mp4", "regions": "", "threshold": "0.35000002", "threads": "0.0"},
		},
		{
			name: "ELAN 4.5, values not escaped",
			doc: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PARAM xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"file:avatech-call.xsd\">\n" +
				"<param name=\"video\">/data/Tom & Jerry <1>/a.mp4</param>\n" +
				"<param name=\"threshold\">1.0E-4</param>\n" +
				"<param name=\"segments\">/data/Tom & Jerry <1>/a_segments123.xml</param>\n" +
				"</PARAM>\n",
			want: Params{"video": "/data/Tom & Jerry <1>/a.mp4", "threshold": "1.0E-4", "segments": "/data/Tom & Jerry <1>/a_segments123.xml"},
		},
		{
			name: "ELAN 5.8, Windows-1252 bytes",
			doc: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<PARAM>\r\n" +
				"<param name=\"InvocationContext\">signseg 2026-03-02 14:05:09+0100</param>\r\n" +
				"<param name=\"video\">C:\\Users\\Jos\xe9\\Gebärden \x80 &amp; Co\\b.mp4</param>\r\n" +
				"<param name=\"min_sign_frames\">-25.0</param>\r\n" +
				"</PARAM>\r\n",
			want: Params{"InvocationContext": "signseg 2026-03-02 14:05:09+0100", "video": "C:\\Users\\José\\Gebärden € & Co\\b.mp4", "min_sign_frames": "-25.0"},
		},
		{
			name: "empty stdin",
			doc:  "",
			want: Params{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			if strings.Contains(tc.name, "1252") {
				// "Gebärden" was typed as UTF-8 above; make the whole
				// document single-byte Windows-1252.
				doc = strings.ReplaceAll(doc, "ä", "\xe4")
			}
			got, err := ParseParams([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	if _, err := ParseParams([]byte("hello\n")); err == nil {
		t.Fatal("a document without <param> was accepted")
	}
}

func TestParseNumber(t *testing.T) {
	threshold := Param{Name: "threshold", Min: "0.05", Max: "0.95", Default: "0.50"}
	frames := Param{Name: "frames", Int: true, Min: "0", Max: "50", Default: "0"}
	wide := Param{Name: "wide", Min: "-100.0", Max: "100.0", Default: "0.0"}
	tests := []struct {
		p      Param
		in     string
		want   float64
		ok     bool
		hasErr bool
	}{
		{threshold, "0.5", 0.5, true, false},
		{threshold, "0.35000002", 0.35, true, false}, // float32 slider noise, precision 3 decimals
		{threshold, "0.4567", 0.457, true, false},
		{threshold, "1.0E-4", 0.05, true, false}, // clamped to min
		{threshold, "7.0", 0.95, true, false},
		{threshold, "", 0, false, false},
		{threshold, "1.4E-45", 0, false, false}, // Float.MIN_VALUE: never set
		{threshold, "NaN", 0, false, true},
		{threshold, "Infinity", 0, false, true},
		{threshold, "abc", 0, false, true},
		{frames, "-25.0", 0, true, false},
		{frames, "7.6", 8, true, false},
		{frames, "65.0", 50, true, false},
		{frames, "1.0E7", 50, true, false},
		{wide, "-25.0", -25, true, false},
		{wide, "12.34", 12.3, true, false}, // one decimal, as min and max
	}
	for _, tc := range tests {
		got, ok, err := ParseNumber(tc.p, tc.in)
		if (err != nil) != tc.hasErr || ok != tc.ok || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ParseNumber(%s, %q) = %v, %v, %v; want %v, %v, error %v", tc.p.Name, tc.in, got, ok, err, tc.want, tc.ok, tc.hasErr)
		}
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/home/ana/a b.mp4", "/home/ana/a b.mp4"},
		{"file:/home/ana/a.mp4", "/home/ana/a.mp4"},
		{"file:///home/ana/a.mp4", "/home/ana/a.mp4"},
		{"///home/ana/a.mp4", "/home/ana/a.mp4"},
		{"file:///C:/data/Señas/a.mp4", `C:\data\Señas\a.mp4`},
		{"///C:/x", `C:\x`},
		{`C:\x\y.mp4`, `C:\x\y.mp4`}, // already converted by ELAN
		{"//server/share/a.mp4", "//server/share/a.mp4"},
		{"  ", ""},
	}
	for _, tc := range tests {
		if got := ParsePath(tc.in); got != tc.want {
			t.Errorf("ParsePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewRequest(t *testing.T) {
	spec := NewSpec([]string{"motion", "i3d mstcn", "i3d-mstcn"}, "linux", "./x")
	base := Params{ParamVideo: "file:///C:/v/a.mp4", ParamSegments: "/out/s.xml"}
	with := func(kv ...string) Params {
		p := Params{}
		for k, v := range base {
			p[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name    string
		p       Params
		want    Request
		wantErr string
	}{
		{"defaults", base, Request{Video: `C:\v\a.mp4`, Output: "/out/s.xml", Model: "motion", Signs: true}, ""},
		{"ELAN 6.9 values", with(ContextParam, "id 2026", ParamModel, "i3d-mstcn", ParamOutputKind, "all", ParamDecoder, "threshold", ParamThreshold, "0.35000002", ParamGaps, "keep", ParamMinSignFrames, "5.0", ParamThreads, "4.0"),
			Request{Video: `C:\v\a.mp4`, Output: "/out/s.xml", Model: "i3d-mstcn", Decoding: segment.Decoding{Decoder: new("threshold"), Gaps: new("keep"), Threshold: new(0.35), MinSignFrames: new(5)}, Threads: 4, Signs: true, Boundaries: true, Confidence: true, Context: "id 2026"}, ""},
		{"boundaries only, auto", with(ParamOutputKind, "boundaries", ParamDecoder, "auto", ParamGaps, "auto", ParamThreshold, "1.4E-45"),
			Request{Video: `C:\v\a.mp4`, Output: "/out/s.xml", Model: "motion", Boundaries: true}, ""},
		{"threshold 0 is the model's", with(ParamThreshold, "0.0"), Request{Video: `C:\v\a.mp4`, Output: "/out/s.xml", Model: "motion", Signs: true}, ""},
		{"model outside the list is left to the loader", with(ParamModel, "/models/x"), Request{Video: `C:\v\a.mp4`, Output: "/out/s.xml", Model: "/models/x", Signs: true}, ""},
		{"no video", with(ParamVideo, ""), Request{}, "no video"},
		{"no output", with(ParamSegments, " "), Request{}, "no output"},
		{"bad choice", with(ParamOutputKind, "everything"), Request{}, `"everything" is not one of`},
		{"bad number", with(ParamThreads, "many"), Request{}, "not a number"},
	}
	if p, _ := spec.Param(ParamModel); !reflect.DeepEqual(p.Choices, []string{"motion", "i3d-mstcn"}) {
		t.Fatalf("model choices %q: a name with a space must be left out", p.Choices)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewRequest(spec, tc.p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}
