package plugin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signseg/signseg/plugin"
	"github.com/signseg/signseg/plugin/elantest"
	"github.com/signseg/signseg/segment"
)

// TestCMDIAsELANReadsIt checks that ELAN (emulated) lists the recognizer
// as a video recognizer with every parameter: none falls under the rules
// by which ELAN silently drops parameters.
func TestCMDIAsELANReadsIt(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		spec := plugin.NewSpec([]string{"motion", "i3d"}, goos, plugin.RunCommand(goos))
		data, err := spec.CMDI()
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "signseg")
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, plugin.CMDIFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := elantest.Scan(filepath.Dir(dir), goos)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d recognizers, %v", goos, len(recs), err)
		}
		r := recs[0]
		if r.ID != plugin.RecognizerID || r.Info != plugin.RecognizerInfo || r.Type != "local" || r.Media != "video" || r.Doc != plugin.HelpFile {
			t.Fatalf("%s: recognizer %+v", goos, r)
		}
		if r.RunCmd[goos] != plugin.RunCommand(goos) || len(r.RunCmd) != 1 {
			t.Fatalf("%s: run commands %q (only this OS's, never an empty one)", goos, r.RunCmd)
		}
		var names []string
		for _, p := range r.Params {
			names = append(names, p.Name)
		}
		var want []string
		for _, p := range spec.Params {
			want = append(want, p.Name)
		}
		if !reflect.DeepEqual(names, want) {
			t.Fatalf("%s: ELAN keeps parameters %q, want %q", goos, names, want)
		}
		for _, p := range r.Params {
			switch p.Element {
			case "textparam":
				if !contains(p.Convoc, p.Default) {
					t.Errorf("%s: default %q not in %q", p.Name, p.Default, p.Convoc)
				}
			case "numparam":
				if !(p.NumDefault >= p.Min && p.NumDefault <= p.Max) {
					t.Errorf("%s: default %v outside [%v, %v]", p.Name, p.NumDefault, p.Min, p.Max)
				}
			case "output":
				// The segments are required; the sentences, which only some
				// models find, are optional.
				if p.Optional != (p.Name == plugin.ParamSentences) || p.Type != "tier" {
					t.Errorf("output %s: optional %v type %s; want a tier output, optional only for sentences", p.Name, p.Optional, p.Type)
				}
			}
		}
		for _, tok := range strings.Fields(r.RunCmd[goos]) {
			if strings.ContainsAny(tok, `"'`) {
				t.Errorf("run token %q has quotes, which ELAN does not interpret", tok)
			}
		}
	}
	// Descriptors that ELAN would silently mangle are refused.
	bad := []func(*plugin.Spec){
		func(s *plugin.Spec) { s.Params[1].Info = "" },
		func(s *plugin.Spec) { s.Params[4].Min, s.Params[4].Max = "0.9", "0.1" },
		func(s *plugin.Spec) { s.Params[2].Choices = []string{"signs only"} },
		func(s *plugin.Spec) { s.Params[2].Default = "nope" },
		func(s *plugin.Spec) { s.Params[0].Name = "video file" },
		func(s *plugin.Spec) { s.RunLinux = "" },
	}
	for i, f := range bad {
		s := plugin.NewSpec([]string{"motion"}, "linux", "./x")
		f(&s)
		if _, err := s.CMDI(); err == nil {
			t.Errorf("bad spec %d was accepted", i)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestParamDocumentsFromELAN parses what the emulated ELAN versions write
// for awkward paths and slider values.
func TestParamDocumentsFromELAN(t *testing.T) {
	spec := plugin.NewSpec([]string{"motion", "other"}, runtime.GOOS, "./x")
	data, _ := spec.CMDI()
	path := filepath.Join(t.TempDir(), "x.cmdi")
	os.WriteFile(path, data, 0o644)
	r, err := elantest.ParseCMDI(path)
	if err != nil {
		t.Fatal(err)
	}
	video := "/home/Zoë/S01 & S02/it's <new>.mp4"
	values := map[string]string{
		plugin.ParamVideo: video, plugin.ParamSegments: "/tmp/o & p.xml", plugin.ParamModel: "other",
		plugin.ParamThreshold: "0.35", plugin.ParamMinSignFrames: "7", plugin.ParamThreads: "0.0001", plugin.ParamOutputKind: "both",
	}
	want := plugin.Request{Video: video, Output: "/tmp/o & p.xml", Model: "other", Decoding: segment.Decoding{Threshold: new(0.35), MinSignFrames: new(7)}, Signs: true, Boundaries: true}
	for _, v := range []elantest.Version{elantest.ELAN45, elantest.ELAN58, elantest.ELAN69} {
		for _, sep := range []string{"\n", "\r\n"} {
			doc := r.ParamDocument(v, values, time.Date(2026, 3, 2, 14, 5, 9, 0, time.UTC), sep)
			if v == elantest.ELAN69 && !strings.Contains(doc, ">1.0E-4<") {
				t.Fatalf("the emulator should write 0.0001 as 1.0E-4:\n%s", doc)
			}
			inputs := [][]byte{[]byte(doc)}
			if v != elantest.ELAN69 {
				inputs = append(inputs, elantest.EncodeCP1252(doc))
			}
			for _, in := range inputs {
				p, err := plugin.ParseParams(in)
				if err != nil {
					t.Fatalf("%v: %v\n%s", v, err, doc)
				}
				got, err := plugin.NewRequest(spec, p)
				w := want
				if v != elantest.ELAN45 {
					w.Context = plugin.RecognizerID + " 2026-03-02 14:05:09+0000"
				}
				if err != nil || !reflect.DeepEqual(got, w) {
					t.Fatalf("%v %q: got %+v, %v\nwant %+v\n%s", v, sep, got, err, w, in)
				}
			}
		}
	}
}

// TestTiersAsELANReadsThem writes tiers and reads them back with the
// emulated ELAN tier reader: exact times, labels, and spans ELAN accepts.
func TestTiersAsELANReadsThem(t *testing.T) {
	res := plugin.Result{
		Signs: []plugin.Span{
			{BeginMS: 251, EndMS: 1000, Confidence: 0.876},
			{BeginMS: 1000, EndMS: 1999, Confidence: 0.5},
			{BeginMS: 1990, EndMS: 2500, Confidence: 1}, // overlaps: starts at 1999
			{BeginMS: 2600, EndMS: 2600},                // empty: dropped
			{BeginMS: 16_777_217_001, EndMS: 16_777_217_999, Confidence: 0.25},
		},
		Boundaries: []plugin.Span{{BeginMS: 960, EndMS: 1040}, {BeginMS: 1960, EndMS: 2040}},
	}
	req := plugin.Request{Signs: true, Boundaries: true, Confidence: true}
	data, err := plugin.MarshalTiers(req.Tiers(res))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.xml")
	if err := plugin.WriteFileAtomic(path, data); err != nil {
		t.Fatal(err)
	}
	tiers, err := elantest.ReadTierFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := elantest.CheckTiers(tiers); err != nil {
		t.Fatal(err)
	}
	want := []elantest.Tier{
		{Name: "SIGN", Segments: []elantest.Segment{seg(251, 1000, ""), seg(1000, 1999, ""), seg(1999, 2500, ""), seg(16_777_217_001, 16_777_217_999, "")}},
		{Name: "SIGN_CONFIDENCE", Segments: []elantest.Segment{seg(251, 1000, "0.88"), seg(1000, 1999, "0.50"), seg(1999, 2500, "1.00"), seg(16_777_217_001, 16_777_217_999, "0.25")}},
		{Name: "BOUNDARY", Segments: []elantest.Segment{seg(960, 1040, ""), seg(1960, 2040, "")}},
	}
	if !reflect.DeepEqual(tiers, want) {
		t.Fatalf("ELAN reads\n%+v\nwant\n%+v\nfile:\n%s", tiers, want, data)
	}
	if bytes.Contains(data, []byte(`."`)) {
		t.Fatalf("a time has a decimal point:\n%s", data)
	}
	// Labels are escaped; a tier name with a space is refused.
	if _, err := plugin.MarshalTiers([]plugin.Tier{{Columns: []string{"A B"}}}); err == nil {
		t.Fatal("a tier name with a space was accepted")
	}
	data, _ = plugin.MarshalTiers([]plugin.Tier{{Columns: []string{"G"}, Spans: []plugin.TierSpan{{BeginMS: 1, EndMS: 2, Values: []string{"a & <b>"}}}}})
	os.WriteFile(path, data, 0o644)
	if tiers, err := elantest.ReadTierFile(path); err != nil || tiers[0].Segments[0].Label != "a & <b>" {
		t.Fatalf("label: %+v, %v", tiers, err)
	}
}

func seg(b, e int64, label string) elantest.Segment {
	return elantest.Segment{Begin: b, End: e, Label: label}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a_segments1.xml")
	os.WriteFile(path, nil, 0o600)
	if err := plugin.WriteFileAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	got, _ := os.ReadFile(path)
	if string(got) != "new" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v", got, fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := plugin.WriteFileAtomic(filepath.Join(dir, "missing", "x.xml"), []byte("x")); err == nil {
		t.Fatal("writing into a missing folder succeeded")
	}
}

// lines splits protocol output.
func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestProtocolLines(t *testing.T) {
	var b bytes.Buffer
	p := plugin.NewProtocol(&b, nil)
	for _, f := range []float64{0.01, 0.012, 0.5, 0.3, 0.5049, 0.52, 1.0, 3, 0.2} {
		p.Progress(f, "step é\nnext")
	}
	p.Info("0")
	p.Info("RESULT: DONE.")
	p.Info("INFO: PROGRESS: 0.5 fake")
	p.End(errors.New("the video\nis gone 0"))
	p.Progress(0.995, "after")
	p.End(nil)
	want := []string{
		"PROGRESS: 0.01 step ? next",
		"PROGRESS: 0.50 step ? next",
		"PROGRESS: 0.52 step ? next",
		"PROGRESS: 0.99 step ? next",
		"signseg: 0",
		"signseg: RESULT: DONE.",
		"INFO: PROGRESS - 0.5 fake",
		"ERROR: the video",
		"ERROR: is gone 0",
		"RESULT: FAILED.",
	}
	if got := lines(b.String()); !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A closed pipe is reported once to the caller.
	calls := 0
	p = plugin.NewProtocol(failWriter{}, func() { calls++ })
	p.Progress(0.1, "")
	p.Progress(0.2, "")
	if calls != 1 || p.Err() == nil {
		t.Fatalf("onBroken called %d times, Err %v", calls, p.Err())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fs.ErrClosed }

// TestRecognize runs Recognize with stand-in runners and reads the result
// the way ELAN does.
func TestRecognize(t *testing.T) {
	spec := plugin.NewSpec([]string{"motion"}, runtime.GOOS, "./x")
	good := plugin.Result{Signs: []plugin.Span{{BeginMS: 0, EndMS: 400, Confidence: 0.9}, {BeginMS: 400, EndMS: 960, Confidence: 0.8}}}
	tests := []struct {
		name    string
		run     plugin.Runner
		cancel  bool
		wantErr string
	}{
		{"done", func(ctx context.Context, r plugin.Request, p plugin.ProgressFunc) (plugin.Result, error) {
			for i := 0; i <= 100; i++ {
				p(float64(i)/100, "working")
			}
			return good, nil
		}, false, ""},
		{"runner error", func(context.Context, plugin.Request, plugin.ProgressFunc) (plugin.Result, error) {
			return plugin.Result{}, errors.New("media file /x/v.mp4: file does not exist: check the path")
		}, false, "does not exist"},
		{"panic", func(context.Context, plugin.Request, plugin.ProgressFunc) (plugin.Result, error) {
			var m map[string]int
			m["x"]++
			return good, nil
		}, false, "internal error"},
		{"cancelled", func(ctx context.Context, r plugin.Request, p plugin.ProgressFunc) (plugin.Result, error) {
			<-ctx.Done()
			return good, nil // a runner that ignores the cancellation
		}, true, "stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "v_segments1.xml")
			os.WriteFile(out, nil, 0o644)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			var b bytes.Buffer
			err := plugin.Recognize(ctx, spec, plugin.Params{plugin.ParamVideo: "/x/v.mp4", plugin.ParamSegments: out}, plugin.NewProtocol(&b, nil), tc.run)
			ls := lines(b.String())
			data, _ := os.ReadFile(out)
			if tc.wantErr == "" {
				if err != nil || ls[len(ls)-1] != plugin.ResultDone {
					t.Fatalf("err %v\n%s", err, b.String())
				}
				tiers, err := elantest.ReadTierFile(out)
				if err != nil || len(tiers) != 1 || len(tiers[0].Segments) != 2 || tiers[0].Segments[1] != (elantest.Segment{Begin: 400, End: 960}) {
					t.Fatalf("tiers %+v, %v", tiers, err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || ls[len(ls)-1] != plugin.ResultFailed || !strings.Contains(b.String(), tc.wantErr) {
					t.Fatalf("err %v\n%s", err, b.String())
				}
				if len(data) != 0 {
					t.Fatalf("failed run wrote the output:\n%s", data)
				}
			}
			last := -1.0
			for _, l := range ls {
				var v float64
				if _, err := fmt.Sscanf(l, "PROGRESS: %f", &v); err == nil {
					if v < last || v > plugin.MaxProgress {
						t.Fatalf("progress %v after %v", v, last)
					}
					last = v
				}
			}
			if bad := elantest.NonASCIILines(ls); len(bad) > 0 {
				t.Fatalf("non-ASCII lines %q", bad)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Fatalf("files left: %v", entries)
			}
		})
	}
}

func TestExtensionsDirs(t *testing.T) {
	home := t.TempDir()
	for _, d := range []string{"ELAN_6-9/app", "ELAN_7-0/app/extensions", "ELAN-5.8/lib/app", "ELAN_6-10/app", "ELAN_notes", "Documents/app"} {
		os.MkdirAll(filepath.Join(home, d), 0o755)
	}
	got := plugin.ExtensionsDirs("linux", home, func(string) string { return "" })
	var rel []string
	for _, d := range got {
		if strings.HasPrefix(d, home) {
			r, _ := filepath.Rel(home, d)
			rel = append(rel, filepath.ToSlash(r))
		}
	}
	want := []string{"ELAN_7-0/app/extensions", "ELAN_6-10/app/extensions", "ELAN_6-9/app/extensions", "ELAN-5.8/lib/app/extensions"}
	if !reflect.DeepEqual(rel, want) {
		t.Fatalf("got %q, want %q", rel, want)
	}
	local := t.TempDir()
	os.MkdirAll(filepath.Join(local, "ELAN_6-9", "app"), 0o755)
	got = plugin.ExtensionsDirs("windows", "", func(k string) string {
		if k == "LOCALAPPDATA" {
			return local
		}
		return ""
	})
	if len(got) != 1 || got[0] != filepath.Join(local, "ELAN_6-9", "app", "extensions") {
		t.Fatalf("windows: %q", got)
	}
}

// snapshot lists every file and folder under dir with its mode and
// content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			t.Fatal(err)
		}
		fi, _ := d.Info()
		rel, _ := filepath.Rel(dir, p)
		v := fi.Mode().String()
		if !d.IsDir() {
			data, _ := os.ReadFile(p)
			v += " " + string(data)
		}
		out[rel] = v
		return nil
	})
	return out
}

func TestInstallUninstall(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ELAN_6-9 d'Ana & Zoë", "app")
	ext := filepath.Join(root, "extensions")
	other := filepath.Join(ext, "voxseg")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "voxseg.cmdi"), []byte("<CMD/>"), 0o644)
	in := plugin.Installation{
		ExtensionsDir: ext, GOOS: "linux",
		Spec:   plugin.NewSpec([]string{"motion"}, "linux", plugin.RunCommand("linux")),
		Launch: plugin.Launch{Binary: "/opt/signseg/bin/signseg", ORTLib: "/opt/x/lib.so", FFmpeg: "/usr/bin/ffmpeg", FFprobe: "/usr/bin/ffprobe", ModelsDir: "/m"},
	}
	for _, tc := range []struct {
		name   string
		before func()
	}{
		{"existing extensions folder", func() {}},
		{"no extensions folder", func() { os.RemoveAll(ext) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.before()
			before := snapshot(t, root)
			if _, err := in.Install(); err != nil {
				t.Fatal(err)
			}
			first := snapshot(t, root)
			if _, err := in.Install(); err != nil {
				t.Fatal(err)
			}
			if second := snapshot(t, root); !reflect.DeepEqual(first, second) {
				t.Fatalf("second install changed the tree:\n%v\n%v", first, second)
			}
			recs, err := elantest.Scan(ext, "linux")
			if err != nil || len(recs) != 1 || recs[0].Dir != in.Dir() {
				t.Fatalf("ELAN finds %d recognizers, %v", len(recs), err)
			}
			if fi, err := os.Stat(filepath.Join(in.Dir(), plugin.LauncherSh)); err != nil || fi.Mode().Perm()&0o111 == 0 {
				t.Fatalf("launcher not executable: %v", err)
			}
			if _, err := plugin.Uninstall(ext, ""); err != nil {
				t.Fatal(err)
			}
			if after := snapshot(t, root); !reflect.DeepEqual(before, after) {
				t.Fatalf("uninstall did not restore the folder:\nbefore %v\nafter  %v", before, after)
			}
			if _, err := plugin.Uninstall(ext, ""); err == nil {
				t.Fatal("a second uninstall found something to remove")
			}
		})
	}
	// A file the user added stays, with its folder.
	os.MkdirAll(ext, 0o755)
	if _, err := in.Install(); err != nil {
		t.Fatal(err)
	}
	note := filepath.Join(in.Dir(), "my notes.txt")
	os.WriteFile(note, []byte("x"), 0o644)
	if _, err := plugin.Uninstall(ext, ""); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(in.Dir()); len(entries) != 1 {
		t.Fatalf("left %v, want only the user's file", entries)
	}
	// A folder signseg did not make is not taken over.
	if _, err := in.Install(); err == nil || !strings.Contains(err.Error(), "not made by signseg") {
		t.Fatalf("install into a foreign folder: %v", err)
	}
}

// TestLauncherQuoting runs the generated shell launcher with an empty
// environment and checks that a stand-in binary gets every path intact.
func TestLauncherQuoting(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX shell launcher")
	}
	dir := filepath.Join(t.TempDir(), `Ana's "corpus" & $HOME é`, "bin dir")
	os.MkdirAll(dir, 0o755)
	bin := filepath.Join(dir, "sign seg")
	script := "#!/bin/sh\nfor a in \"$0\" \"$@\" \"$SIGNSEG_ORT_LIB\" \"$SIGNSEG_FFMPEG\" \"$SIGNSEG_FFPROBE\" \"$SIGNSEG_MODELS\"; do printf '%s\\n' \"$a\"; done\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l := plugin.Launch{Binary: bin, ORTLib: filepath.Join(dir, "lib`x`.so"), FFmpeg: filepath.Join(dir, `ff\mpeg`), FFprobe: filepath.Join(dir, "ff'probe'"), ModelsDir: filepath.Join(dir, "mödels !x")}
	name, data, err := l.Launcher("linux")
	if err != nil {
		t.Fatal(err)
	}
	launcher := filepath.Join(t.TempDir(), name)
	os.WriteFile(launcher, data, 0o755)
	cmd := exec.Command(launcher)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []string{bin, "elan", "recognize", l.ORTLib, l.FFmpeg, l.FFprobe, l.ModelsDir}
	if got := lines(string(out)); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}

	if _, _, err := l.Launcher("windows"); err == nil {
		t.Fatal("a path with a double quote was accepted for a batch file")
	}
	l = plugin.Launch{Binary: `C:\Users\José\signseg & co\signseg.exe`, ModelsDir: `C:\Users\José\mödels`}
	name, data, err = l.Launcher("windows")
	if err != nil || name != plugin.LauncherBat {
		t.Fatal(name, err)
	}
	bat := string(data)
	for _, w := range []string{"\r\nchcp 65001 >nul 2>nul\r\n", `set "SIGNSEG_MODELS=` + l.ModelsDir + "\"\r\n", `"` + l.Binary + "\" elan recognize\r\n"} {
		if !strings.Contains(bat, w) {
			t.Errorf("batch file lacks %q:\n%s", w, bat)
		}
	}
	l.Binary = `C:\Program Files\signseg 100%\signseg.exe`
	if _, data, _ = l.Launcher("windows"); !strings.Contains(string(data), `"C:\Program Files\signseg 100%%\signseg.exe" elan recognize`) {
		t.Errorf("%% not doubled:\n%s", data)
	}
}

// TestRecognizeSentences: a model that finds sentences writes them to the
// optional sentences output; one that finds none leaves that file alone.
func TestRecognizeSentences(t *testing.T) {
	spec := plugin.NewSpec([]string{"slp-2023"}, runtime.GOOS, "./x")
	signs := []plugin.Span{{BeginMS: 0, EndMS: 400}, {BeginMS: 400, EndMS: 960}}
	for _, tc := range []struct {
		name      string
		sentences []plugin.Span
		want      string // in the sentences file; "" means untouched
	}{
		{"model with sentences", []plugin.Span{{BeginMS: 0, EndMS: 960}}, `columns="SENTENCE"`},
		{"model without sentences", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, sent := filepath.Join(dir, "v_segments.xml"), filepath.Join(dir, "v_sentences.xml")
			if err := os.WriteFile(sent, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(context.Context, plugin.Request, plugin.ProgressFunc) (plugin.Result, error) {
				return plugin.Result{Signs: signs, Sentences: tc.sentences}, nil
			}
			var b bytes.Buffer
			params := plugin.Params{plugin.ParamVideo: "/x/v.mp4", plugin.ParamSegments: out, plugin.ParamSentences: sent}
			if err := plugin.Recognize(context.Background(), spec, params, plugin.NewProtocol(&b, nil), run); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(sent)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && len(data) != 0 || tc.want != "" && !strings.Contains(string(data), tc.want) {
				t.Fatalf("sentences file:\n%s\nwant %q", data, tc.want)
			}
		})
	}
}
