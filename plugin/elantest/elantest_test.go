package elantest

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Java's Float.toString output for these values (as ELAN writes numeric
// parameters; specs/elan-recognizer.md §4).
func TestJavaFloatString(t *testing.T) {
	tests := []struct {
		f    float32
		want string
	}{
		{0, "0.0"},
		{-25, "-25.0"},
		{65, "65.0"},
		{0.5, "0.5"},
		{0.35000002, "0.35000002"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{0.00012345, "1.2345E-4"},
		{1e7, "1.0E7"},
		{9999999, "9999999.0"},
		{1.5e10, "1.5E10"},
		{100, "100.0"},
		{0.0123, "0.0123"},
		{-1234.5, "-1234.5"},
		{math.SmallestNonzeroFloat32, "1.4E-45"},
	}
	for _, tc := range tests {
		if got := JavaFloatString(tc.f); got != tc.want {
			t.Errorf("JavaFloatString(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

// TierTime follows ELAN's reader, including the float32 loss the notes
// measured for seconds written with three decimals.
func TestTierTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"17.492", 17492, true},
		{"17492", 17492, true},
		{"17", 17, true}, // milliseconds, not seconds
		{"0.251", 250, true},
		{"1.0E3", 1000000, true},
		{"x", 0, false},
		{"1e3", 0, false}, // no '.', not a whole number
	}
	for _, tc := range tests {
		got, ok := TierTime(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("TierTime(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestProgressValue(t *testing.T) {
	tests := []struct {
		line string
		want float64
		ok   bool
	}{
		{"PROGRESS: 0.42 loading model", 0.42, true},
		{"PROGRESS: 25%", 0.25, true},
		{"PROGRESS:0.5", 0.5, true},
		{"PROGRESS:1", 0, false}, // fewer than two characters after the colon
		{"PROGRESS: x", 0, false},
	}
	for _, tc := range tests {
		got, ok := progressValue(tc.line)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("progressValue(%q) = %v, %v; want %v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

const cmdiTemplate = `<?xml version="1.0" encoding="UTF-8"?>
<CMD xmlns="http://www.clarin.eu/cmd/"><Components><RECOGNIZER>
  <recognizer recognizerType="local" runLinux="RUN" runWin="" info="INFO"> my_id </recognizer>
  <documentation>help.html</documentation>
  <input type="video" optional="false" info="Video">video</input>
  <input type="text" info="bad type">odd</input>
  <numparam min="1" max="1" default="1" info="min = max">flat</numparam>
  <numparam min="0.05" max="0.95" default="0.5">noinfo</numparam>
  <numparam min="0.05" max="0.95" default="0.5" info="">emptyinfo</numparam>
  <textparam convoc="a b" default="b" info="t">choice</textparam>
  <input type="tier" info="regions">regions</input>
  <output type="tier" optional="false" info="out">out</output>
</RECOGNIZER></Components></CMD>
`

func writeRecognizer(t *testing.T, ext, folder, file, run, info string) string {
	t.Helper()
	dir := filepath.Join(ext, folder)
	os.MkdirAll(dir, 0o755)
	s := strings.ReplaceAll(strings.ReplaceAll(cmdiTemplate, "RUN", run), "INFO", info)
	if err := os.WriteFile(filepath.Join(dir, file), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestScanDropRules(t *testing.T) {
	ext := t.TempDir()
	writeRecognizer(t, ext, "a", "a.CMDI", "./a.sh", "first")
	writeRecognizer(t, ext, "b", ".hidden.cmdi", "./b.sh", "hidden")
	writeRecognizer(t, ext, "c/deeper", "c.cmdi", "./c.sh", "too deep")
	writeRecognizer(t, ext, "d", "d.cmdi", "./d.sh", "first") // same info: replaces a
	writeRecognizer(t, ext, "e", "e.xml", "./e.sh", "not cmdi")
	recs, err := Scan(ext, "linux")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Dir != filepath.Join(ext, "d") {
		t.Fatalf("found %d recognizers, first %+v", len(recs), recs)
	}
	r := recs[0]
	var names []string
	for _, p := range r.Params {
		names = append(names, p.Name)
	}
	if want := []string{"video", "emptyinfo", "choice", "regions", "out"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("params %q, want %q", names, want)
	}
	if r.ID != "my_id" || r.Media != "video" || r.Doc != "help.html" || !r.Params[3].Optional || r.Params[0].Optional || r.Params[4].Optional {
		t.Fatalf("recognizer %+v", r)
	}
	if recs, _ := Scan(ext, "darwin"); len(recs) != 0 {
		t.Fatal("a recognizer without runMac was listed on macOS")
	}
	if recs, _ := Scan(ext, "windows"); len(recs) != 1 {
		t.Fatal("an empty runWin is listed by ELAN (and fails at Start)")
	}
}

func TestParamDocument(t *testing.T) {
	dir := writeRecognizer(t, t.TempDir(), "a", "a.cmdi", "./a.sh", "x")
	r, err := ParseCMDI(filepath.Join(dir, "a.cmdi"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 14, 5, 9, 0, time.FixedZone("", 3600))
	vals := map[string]string{"video": "/a & b/c.mp4", "emptyinfo": "0.35"}
	got := r.ParamDocument(ELAN58, vals, now, "\r\n")
	want := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" +
		"<PARAM xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"file:avatech-call.xsd\">\r\n" +
		"<param name=\"InvocationContext\">my_id 2026-03-02 14:05:09+0100</param>\r\n" +
		"<param name=\"video\">/a &amp; b/c.mp4</param>\r\n" +
		"<param name=\"emptyinfo\">0.35</param>\r\n" +
		"<param name=\"choice\">b</param>\r\n" +
		"<param name=\"regions\"></param>\r\n" +
		"<param name=\"out\"></param>\r\n" +
		"</PARAM>\r\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	got = r.ParamDocument(ELAN45, vals, now, "\n")
	if strings.Contains(got, "InvocationContext") || !strings.Contains(got, ">/a & b/c.mp4<") {
		t.Fatalf("4.5 dialect:\n%s", got)
	}
	if b := EncodeCP1252("é€ж"); string(b) != "\xe9\x80?" {
		t.Fatalf("cp1252 %q", b)
	}
}

// TestRunOutcomes runs small shell recognizers through the emulated host.
func TestRunOutcomes(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	tests := []struct {
		name, body string
		want       Outcome
		qualifies  bool
	}{
		{"done", `cat >/dev/null; echo "PROGRESS: 0.5 half"; printf '<TIERS><TIER columns="S"><span start="1" end="2"><v>x</v></span></TIER></TIERS>' > "$OUT"; echo "RESULT: DONE."`, Done, true},
		{"failed", `echo "PROGRESS: 0.5 half"; echo "RESULT: FAILED."; echo trailing`, Failed, true},
		{"early 1.0", `echo "PROGRESS: 1.0"; sleep 1; printf '<TIERS/>' > "$OUT"; echo "RESULT: DONE."`, Finished, true},
		{"stray zero", `echo 0; echo "RESULT: DONE."`, Finished, true},
		{"eof", `echo "PROGRESS: 0.5"`, UnexpEOF, true},
		{"stderr merged", `echo "RESULT: FAILED." >&2`, Failed, true},
		{"env", `[ "$LC_ALL" = C ] && [ -z "$HOME" ] && echo "RESULT: DONE."`, Done, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ext := t.TempDir()
			dir := writeRecognizer(t, ext, "r", "r.cmdi", "./run.sh", "r")
			media := t.TempDir()
			// The script finds the output from the document's last param line.
			script := "#!/bin/sh\nOUT=$(ls \"" + media + "\"/*.xml)\n" + tc.body + "\n"
			os.WriteFile(filepath.Join(dir, "run.sh"), []byte(script), 0o755)
			recs, _ := Scan(ext, "linux")
			res, err := recs[0].Run(context.Background(), Options{Version: ELAN69, MediaDir: media, Values: map[string]string{"video": "/v.mp4"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want || len(res.Outputs) != 1 || res.Outputs[0].Qualifies != tc.qualifies {
				t.Fatalf("outcome %s, outputs %+v, lines %q", res.Outcome, res.Outputs, res.Lines)
			}
			switch tc.name {
			case "done":
				if o := res.Outputs[0]; o.Err != nil || len(o.Tiers) != 1 || o.Tiers[0].Segments[0] != (Segment{1, 2, "x"}) {
					t.Fatalf("output %+v", o)
				}
			case "failed":
				if !reflect.DeepEqual(res.After, []string{"trailing"}) {
					t.Fatalf("after %q", res.After)
				}
			case "early 1.0":
				// ELAN read the output at 1.0, before it was written.
				if res.Outputs[0].Err == nil {
					t.Fatal("the output was read after it was written")
				}
			}
		})
	}
}
