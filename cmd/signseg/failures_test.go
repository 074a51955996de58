package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
)

// smallFS mounts a tmpfs of the given size for the test, or skips when
// mounting is not permitted (it needs root, which make test and CI have).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot mount a small file system here (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// leftovers lists temporary files left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestDiskFullLeavesFileUntouched(t *testing.T) {
	src, _ := fixture(t, t.TempDir(), "full", 5)
	before, _ := os.ReadFile(src)
	dir := smallFS(t, "64k")
	path := filepath.Join(dir, "full.eaf")
	if err := os.WriteFile(path, before, 0o644); err != nil {
		t.Fatal(err)
	}
	// Fill the file system, leaving less room than the new file needs.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1024)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	filler.Sync()
	filler.Close()
	_, stderr, code := runCLI(t, "segment", "--quiet", "--no-backup", path)
	if code != 1 || !strings.Contains(stderr, "no space left") || !strings.Contains(stderr, "full.eaf") {
		t.Fatalf("disk full: exit %d, stderr %q", code, stderr)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("the EAF changed although the save failed")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Fatalf("temporary files left: %v", l)
	}
}

func TestReadOnlyFolder(t *testing.T) {
	src, _ := fixture(t, t.TempDir(), "ro", 6)
	before, _ := os.ReadFile(src)
	dir := smallFS(t, "1m")
	path := filepath.Join(dir, "ro.eaf")
	if err := os.WriteFile(path, before, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot make the folder read-only: %v: %s", err, out)
	}
	_, stderr, code := runCLI(t, "segment", "--quiet", path)
	if code != 1 || !strings.Contains(stderr, "read-only") || !strings.Contains(stderr, "ro.eaf") {
		t.Fatalf("read-only folder: exit %d, stderr %q", code, stderr)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("the EAF changed")
	}
	// --out to a writable folder is the way out, and works.
	out := t.TempDir()
	if _, stderr, code := runCLI(t, "segment", "--quiet", "--out", out, path); code != 0 {
		t.Fatalf("--out from a read-only folder: exit %d: %s", code, stderr)
	}
}

// TestInterrupt sends Ctrl-C (SIGINT) to a running segment and requires a
// prompt, clean stop: exit status 1, the EAF untouched or completely
// written, no temporary files and no ffmpeg left running.
func TestInterrupt(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	ffmpeg := testenv.Tool(t, "ffmpeg")
	dir := t.TempDir()
	video := filepath.Join(dir, "long.mp4")
	if _, err := synth.Render(context.Background(), ffmpeg, video, synth.Options{Seed: 7, Signs: 120}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "long.eaf")
	doc, err := eaf.New(eaf.NewOptions{VideoPath: video, EAFPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Save(path, eaf.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	cmd := exec.Command(binary, "--ort-lib", lib, "segment", "--quiet", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once decoding runs (ffmpeg has started), as a user would.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ffmpegRunning(video) {
			break
		}
	}
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	err = cmd.Wait()
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v to stop after Ctrl-C", time.Since(start))
	}
	now, _ := os.ReadFile(path)
	if err == nil {
		// It finished before the signal: the file must be complete.
		d, perr := eaf.Parse(path, now)
		if perr != nil {
			t.Fatal(perr)
		}
		if _, ok := d.Tier("signseg-signs"); !ok {
			t.Fatal("exit 0 but no tier")
		}
		t.Log("the run finished before the interrupt")
	} else {
		if !bytes.Equal(now, before) {
			t.Fatal("interrupted run changed the file")
		}
		if !strings.Contains(stderr.String(), "canceled") {
			t.Errorf("stderr %q does not say the run was cancelled", stderr.String())
		}
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Fatalf("temporary files left: %v", l)
	}
	if ffmpegRunning(video) {
		t.Fatal("ffmpeg is still running after the interrupted run ended")
	}
}

// ffmpegRunning reports whether an ffmpeg process is reading video.
func ffmpegRunning(video string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if strings.HasSuffix(args[0], "ffmpeg") && strings.Contains(string(b), video) {
			return true
		}
	}
	return false
}
