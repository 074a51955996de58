package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/plugin"
	"github.com/signseg/signseg/plugin/elantest"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/tflite"
)

// elanSetup is signseg installed as an ELAN recognizer from folders whose
// names have spaces, apostrophes, & and accented letters.
type elanSetup struct {
	root, ext, media, models string
	rec                      *elantest.Recognizer
	install                  func(args ...string) (string, error)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func newELANSetup(t *testing.T) *elanSetup {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	ffmpeg, ffprobe := testenv.Tool(t, "ffmpeg"), testenv.Tool(t, "ffprobe")
	s := &elanSetup{root: filepath.Join(t.TempDir(), "Ana's corpus & Zoë")}
	s.ext = filepath.Join(s.root, "ELAN_6-9", "app", "extensions")
	s.media = filepath.Join(s.root, "S01 & S02 <Señas>")
	s.models = filepath.Join(s.root, "mödels & co")
	bin := filepath.Join(s.root, "sign seg", "signseg")
	tools := filepath.Join(s.root, "ff tools é")
	for _, d := range []string{s.media, filepath.Dir(bin), tools, filepath.Join(s.models, "motion-copy"), filepath.Join(s.models, "broken")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, binary, bin, 0o755)
	for _, l := range [][2]string{{lib, filepath.Join(tools, "libonnxruntime.so.1")}, {ffmpeg, filepath.Join(tools, "ffmpeg")}, {ffprobe, filepath.Join(tools, "ffprobe")}} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	// A second model that loads, and one whose network file is garbage.
	man, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "segment", "builtin", "motion.json"))
	if err != nil {
		t.Fatal(err)
	}
	copyMan := strings.Replace(string(man), `"name": "motion"`, `"name": "motion-copy"`, 1)
	// The broken model's manifest is valid (motion energy needs the
	// built-in features, so it asks for plain features); its ONNX is not.
	brokenMan := strings.NewReplacer(`"motion-copy"`, `"broken"`, `"builtin": "motion"`, `"file": "features.onnx"`,
		`"signal": "motion-energy"`, `"signal": "features"`).Replace(copyMan)
	for _, f := range [][2]string{
		{filepath.Join(s.models, "motion-copy", "model.json"), copyMan},
		{filepath.Join(s.models, "broken", "model.json"), brokenMan},
		{filepath.Join(s.models, "broken", "features.onnx"), "not an ONNX file"},
	} {
		if err := os.WriteFile(f[0], []byte(f[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.install = func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"--ort-lib", filepath.Join(tools, "libonnxruntime.so.1"), "--models-dir", s.models, "elan"}, args...)...)
		cmd.Env = append(os.Environ(), "SIGNSEG_FFMPEG="+filepath.Join(tools, "ffmpeg"), "SIGNSEG_FFPROBE="+filepath.Join(tools, "ffprobe"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := s.install("install", "--extensions-dir", s.ext); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	recs, err := elantest.Scan(s.ext, "linux")
	if err != nil || len(recs) != 1 {
		t.Fatalf("ELAN finds %d recognizers, %v", len(recs), err)
	}
	s.rec = recs[0]
	return s
}

// runELAN runs the recognizer as the emulated ELAN version does.
func (s *elanSetup) runELAN(t *testing.T, opt elantest.Options) *elantest.Result {
	t.Helper()
	if opt.MediaDir == "" {
		opt.MediaDir = s.media
	}
	res, err := s.rec.Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if bad := elantest.NonASCIILines(res.Lines); len(bad) > 0 {
		t.Errorf("lines ELAN may not decode: %q", bad)
	}
	if len(res.After) > 0 {
		t.Errorf("lines after the end: %q", res.After)
	}
	last := -1.0
	for _, v := range res.Progress {
		if v < last || v > plugin.MaxProgress {
			t.Errorf("progress %v after %v", v, last)
		}
		last = v
	}
	return res
}

// referenceTiers segments the fixture's EAF with the batch command and
// returns the tiers ELAN should load: signs, confidence and boundaries.
func referenceTiers(t *testing.T, eafPath string) []elantest.Tier {
	t.Helper()
	if _, stderr, code := runCLI(t, "segment", "--quiet", "--model", "motion", "--no-backup", "--confidence", "--boundary-tier", "signseg-boundaries", eafPath); code != 0 {
		t.Fatalf("reference run: %s", stderr)
	}
	doc, err := eaf.ReadFile(eafPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []elantest.Tier
	for _, names := range [][2]string{{"signseg-signs", "SIGN"}, {"signseg-signs-confidence", "SIGN_CONFIDENCE"}, {"signseg-boundaries", "BOUNDARY"}} {
		anns, err := doc.Annotations(names[0])
		if err != nil {
			t.Fatal(err)
		}
		tier := elantest.Tier{Name: names[1]}
		for _, a := range anns {
			tier.Segments = append(tier.Segments, elantest.Segment{Begin: a.Start, End: a.End, Label: a.Value})
		}
		out = append(out, tier)
	}
	return out
}

func TestELANRecognizer(t *testing.T) {
	s := newELANSetup(t)
	eafPath, video := fixture(t, s.media, "clip Zoë's", 5)
	want := referenceTiers(t, eafPath)
	if len(want[0].Segments) < 3 || len(want[2].Segments) < 2 {
		t.Fatalf("reference has too few signs or boundaries: %+v", want)
	}
	var names []string
	for _, p := range s.rec.Params {
		names = append(names, p.Name)
		if p.Name == plugin.ParamModel && !reflect.DeepEqual(p.Convoc, []string{"hands", "motion", "broken", "motion-copy"}) {
			t.Errorf("models offered: %q", p.Convoc)
		}
	}
	if want := []string{"video", "model", "output_kind", "decoder", "threshold", "gaps", "min_sign_frames", "threads", "segments", "sentences"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ELAN sees parameters %q, want %q", names, want)
	}

	dialects := []struct {
		name string
		opt  elantest.Options
	}{
		{"ELAN 4.5", elantest.Options{Version: elantest.ELAN45}},
		{"ELAN 5.8 windows-1252", elantest.Options{Version: elantest.ELAN58, Charset: "windows-1252", LineSep: "\r\n"}},
		{"ELAN 6.9 CRLF", elantest.Options{Version: elantest.ELAN69, LineSep: "\r\n"}},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			opt := d.opt
			opt.Values = map[string]string{plugin.ParamVideo: video, plugin.ParamOutputKind: plugin.OutputAll, plugin.ParamModel: "motion-copy"}
			res := s.runELAN(t, opt)
			if res.Outcome != elantest.Done || res.ExitCode != 0 || res.Lines[len(res.Lines)-1] != plugin.ResultDone {
				t.Fatalf("outcome %s, exit %d:\n%s", res.Outcome, res.ExitCode, strings.Join(res.Lines, "\n"))
			}
			if len(res.Progress) < 5 {
				t.Errorf("only %d progress lines", len(res.Progress))
			}
			out := res.Outputs[0]
			if !out.Qualifies || out.Err != nil || filepath.Dir(out.Path) != s.media {
				t.Fatalf("output %+v", out)
			}
			if err := elantest.CheckTiers(out.Tiers); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out.Tiers, want) {
				t.Fatalf("ELAN loads\n%+v\nwant (batch command)\n%+v", out.Tiers, want)
			}
		})
	}
	t.Run("signs only, other parameters default", func(t *testing.T) {
		res := s.runELAN(t, elantest.Options{Version: elantest.ELAN69, Values: map[string]string{plugin.ParamVideo: video, plugin.ParamModel: "motion"}})
		if res.Outcome != elantest.Done || len(res.Outputs[0].Tiers) != 1 || !reflect.DeepEqual(res.Outputs[0].Tiers[0], want[0]) {
			t.Fatalf("outcome %s, tiers %+v", res.Outcome, res.Outputs[0].Tiers)
		}
	})

	failures := []struct {
		name, want string
		values     map[string]string
	}{
		{"missing video", "gone", map[string]string{plugin.ParamVideo: filepath.Join(s.media, "gone é.mp4"), plugin.ParamModel: "motion"}},
		{"unreadable model", "broken", map[string]string{plugin.ParamVideo: video, plugin.ParamModel: "broken"}},
		{"not a video", "model.json", map[string]string{plugin.ParamVideo: filepath.Join(s.models, "broken", "model.json"), plugin.ParamModel: "motion"}},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			res := s.runELAN(t, elantest.Options{Version: elantest.ELAN69, Values: f.values})
			report := strings.Join(res.Lines, "\n")
			if res.Outcome != elantest.Failed || res.ExitCode == 0 || !strings.Contains(report, f.want) {
				t.Fatalf("outcome %s, exit %d:\n%s", res.Outcome, res.ExitCode, report)
			}
			t.Logf("report:\n%s", report)
			checkUntouched(t, s.media, res)
		})
	}
}

// checkUntouched checks that a failed or stopped run left the output as
// ELAN created it (empty) and no temporary files.
func checkUntouched(t *testing.T, dir string, res *elantest.Result) {
	t.Helper()
	out := res.Outputs[0]
	if data, err := os.ReadFile(out.Path); err != nil || len(data) != 0 {
		t.Fatalf("output %s changed: %q, %v", out.Path, data, err)
	}
	os.Remove(out.Path)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "signseg") || strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
}

// TestELANStop presses ELAN's Stop button (SIGTERM) while the model runs,
// and closes the pipe as ELAN does when it stops reading.
func TestELANStop(t *testing.T) {
	s := newELANSetup(t)
	video := filepath.Join(s.media, "long & slow.mp4")
	if _, err := synth.Render(context.Background(), testenv.Tool(t, "ffmpeg"), video, synth.Options{Seed: 9, Width: 160, Height: 96, Signs: 120}); err != nil {
		t.Fatal(err)
	}
	segmenting := func(line string) bool {
		var v float64
		_, err := fmt.Sscanf(line, "PROGRESS: %f", &v)
		return err == nil && v >= 0.2
	}
	t.Run("SIGTERM", func(t *testing.T) {
		start := time.Now()
		res := s.runELAN(t, elantest.Options{Version: elantest.ELAN69, Values: map[string]string{plugin.ParamVideo: video, plugin.ParamModel: "motion"}, CancelAt: segmenting})
		t.Logf("stopped after %v:\n%s", time.Since(start), strings.Join(res.Lines[max(0, len(res.Lines)-3):], "\n"))
		report := strings.Join(res.Lines, "\n")
		if res.Outcome != elantest.Cancelled || res.ExitCode == 0 || res.Lines[len(res.Lines)-1] != plugin.ResultFailed || !strings.Contains(report, "stopped") {
			t.Fatalf("outcome %s, exit %d:\n%s", res.Outcome, res.ExitCode, report)
		}
		checkUntouched(t, s.media, res)
		noProcessesWith(t, video)
	})
	t.Run("pipe closed", func(t *testing.T) {
		out := filepath.Join(s.media, "pipe_segments.xml")
		if err := os.WriteFile(out, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		doc := s.rec.ParamDocument(elantest.ELAN69, map[string]string{plugin.ParamVideo: video, plugin.ParamModel: "motion", plugin.ParamSegments: out}, time.Now(), "\n")
		cmd := exec.Command("./" + plugin.LauncherSh)
		cmd.Dir, cmd.Env, cmd.Stdin = s.rec.Dir, []string{"LC_ALL=C"}, strings.NewReader(doc)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1)
		var line []byte
		for {
			if _, err := stdout.Read(buf); err != nil {
				t.Fatalf("output ended before the model ran: %v", err)
			}
			if buf[0] != '\n' {
				line = append(line, buf[0])
				continue
			}
			if segmenting(string(line)) {
				break
			}
			line = line[:0]
		}
		stdout.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("exit 0 after the pipe closed")
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("still running a minute after ELAN closed the pipe")
		}
		if data, err := os.ReadFile(out); err != nil || len(data) != 0 {
			t.Fatalf("output changed: %q, %v", data, err)
		}
		noProcessesWith(t, video)
	})
}

// noProcessesWith waits up to 5 s for every process that mentions s on its
// command line (ffmpeg reading the video) to end.
func noProcessesWith(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		procs := processesWith(s)
		if len(procs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running after the stop: %q", procs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processesWith lists command lines (Linux /proc) that mention s.
func processesWith(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err == nil && bytes.Contains(data, []byte(s)) {
			out = append(out, string(bytes.ReplaceAll(data, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// TestELANInstallCommand: install twice changes nothing; uninstall leaves
// the extensions folder (here: its absence) as it was.
func TestELANInstallCommand(t *testing.T) {
	s := newELANSetup(t)
	first := treeOf(t, s.root)
	if out, err := s.install("install", "--extensions-dir", s.ext); err != nil || !strings.Contains(out, "installed the ELAN recognizer") {
		t.Fatalf("%v\n%s", err, out)
	}
	if second := treeOf(t, s.root); !reflect.DeepEqual(first, second) {
		t.Fatalf("a second install changed the tree")
	}
	if out, err := s.install("uninstall", "--extensions-dir", s.ext); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := os.Stat(s.ext); !os.IsNotExist(err) {
		t.Fatalf("the extensions folder that install created is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(s.ext)); err != nil {
		t.Fatalf("uninstall removed ELAN's app folder: %v", err)
	}
	if out, err := s.install("uninstall", "--extensions-dir", s.ext); err == nil {
		t.Fatalf("a second uninstall succeeded:\n%s", out)
	}
}

func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			v += fmt.Sprintf(" %x", data)
		}
		out[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestELANRecognizeByHand: without ELAN, stdin empty or --param.
func TestELANRecognizeByHand(t *testing.T) {
	stdout, _, code := runBinary(t, t.TempDir(), nil, "elan", "recognize")
	if code != 1 || !strings.HasSuffix(stdout, "ERROR: no video given: choose the video in the recognizer's \"video\" field (link it to the document first)\nRESULT: FAILED.\n") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	stdout, _, code = runBinary(t, t.TempDir(), nil, "elan", "recognize", "--param", "video")
	if code != 1 || !strings.Contains(stdout, "NAME=VALUE") || !strings.HasSuffix(stdout, "RESULT: FAILED.\n") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
}

// TestELANNotFoundExitCode: with no ELAN in the usual places, install and
// uninstall fail with exit 1 (nothing to act on), not 2 (a usage error:
// the command line was fine).
func TestELANNotFoundExitCode(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if found := plugin.ExtensionsDirs(runtime.GOOS, home, os.Getenv); len(found) > 0 {
		t.Skipf("skipping: this machine has ELAN installed (%v), so it cannot be not found", found)
	}
	for _, sub := range []string{"install", "uninstall"} {
		t.Run(sub, func(t *testing.T) {
			_, stderr, code := runCLI(t, "elan", sub)
			if code != exitFailed || !strings.Contains(stderr, "--extensions-dir") {
				t.Fatalf("elan %s without ELAN: exit %d, %q; want exit %d and a hint to --extensions-dir", sub, code, stderr, exitFailed)
			}
		})
	}
}

// TestELANSentences: a pose model that finds sentences fills the
// recognizer's optional sentences output with a SENTENCE tier, and its
// signs the segments output, as ELAN reads them.
// linkMediaPipe puts the MediaPipe package next to the binary, where the
// recognizer finds it as an installed signseg would (ELAN passes no
// environment).
func (s *elanSetup) linkMediaPipe(t *testing.T) {
	t.Helper()
	pkg := filepath.Join(s.root, tflite.HolisticDir)
	if err := os.MkdirAll(filepath.Dir(pkg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testenv.MediaPipePackage(t), pkg); err != nil {
		t.Fatal(err)
	}
}

// TestELANKeepsModelThreshold: left at its default, the recognizer's
// threshold is the model's own, so the default model finds in ELAN the
// signs `signseg video` finds (on this clip hands gives 8 signs at its
// threshold 0.2, 5 at 0.5).
func TestELANKeepsModelThreshold(t *testing.T) {
	media := testenv.SharedDir(t, "media")
	s := newELANSetup(t)
	s.linkMediaPipe(t)
	video := filepath.Join(s.media, "lsa-news-7s.mp4")
	copyFile(t, filepath.Join(media, "lsa-news-7s.mp4"), video, 0o644)
	res := s.runELAN(t, elantest.Options{Version: elantest.ELAN69, Values: map[string]string{
		plugin.ParamVideo: video, plugin.ParamModel: segment.DefaultModel}})
	if res.Outcome != elantest.Done || len(res.Outputs) == 0 || res.Outputs[0].Param != plugin.ParamSegments || len(res.Outputs[0].Tiers) != 1 {
		t.Fatalf("outcome %s, outputs %+v:\n%s", res.Outcome, res.Outputs, strings.Join(res.Lines, "\n"))
	}
	inELAN := len(res.Outputs[0].Tiers[0].Segments)
	out := t.TempDir()
	if o, stderr, code := runCLI(t, "video", "--quiet", "--out", out, video); code != 0 {
		t.Fatalf("video: exit %d\n%s%s", code, o, stderr)
	}
	if n := tierCount(t, filepath.Join(out, "lsa-news-7s.eaf"), "signseg-signs"); inELAN != n {
		t.Fatalf("%d signs in ELAN, %d from signseg video", inELAN, n)
	}
}

func TestELANSentences(t *testing.T) {
	s := newELANSetup(t)
	s.linkMediaPipe(t)
	tiny := testenv.Fixture(t, filepath.Join(testenv.RepoRoot(), "segment", "checkpoint", "testdata", "slp", "tiny.pt"), "scripts/fixtures/slp_fixtures.py")
	if out, stderr, code := runCLI(t, "model", "import", "--slp", tiny, "--name", "tiny-slp", "--models-dir", s.models); code != 0 {
		t.Fatalf("model import --slp: exit %d\n%s%s", code, out, stderr)
	}
	_, video := fixture(t, s.media, "clip", 6)
	sentences := filepath.Join(s.media, "clip_sentences.xml")
	res := s.runELAN(t, elantest.Options{Version: elantest.ELAN69, Values: map[string]string{
		plugin.ParamVideo: video, plugin.ParamModel: "tiny-slp", plugin.ParamSentences: sentences}})
	if res.Outcome != elantest.Done {
		t.Fatalf("outcome %s:\n%s", res.Outcome, strings.Join(res.Lines, "\n"))
	}
	// The generated cartoon has no body for MediaPipe: ELAN's report says so.
	if report := strings.Join(res.Lines, "\n"); !strings.Contains(report, "signseg: warning: ") || !strings.Contains(report, ": a signer was found on only 0 % of the frames") {
		t.Errorf("no warning about the missing signer in ELAN's report:\n%s", report)
	}
	var got []string
	for _, o := range res.Outputs {
		if o.Err != nil {
			t.Fatalf("output %s: %v", o.Param, o.Err)
		}
		for _, tier := range o.Tiers {
			got = append(got, o.Param+":"+tier.Name)
		}
	}
	if want := []string{"segments:SIGN", "sentences:SENTENCE"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ELAN loads tiers %q, want %q", got, want)
	}
}
