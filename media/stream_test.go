package media

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media/mediatest"
)

// TestDemoBSL decodes the paper's demo clip when the shared reference files
// are present.
func TestDemoBSL(t *testing.T) {
	path := filepath.Join(testenv.SharedDir(t, "media"), "demo-bsl-5s.mp4")
	s, err := Open(context.Background(), path, PaperI3D())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if in := s.Info(); in.Width != 640 || in.Height != 360 || in.FrameRate != (Rational{25, 1}) {
		t.Errorf("info %+v, want 640x360 at 25 fps", in)
	}
	if s.ExpectedFrames() != 125 || s.FrameLen() != 3*224*224 {
		t.Errorf("ExpectedFrames %d, FrameLen %d; want 125 and %d", s.ExpectedFrames(), s.FrameLen(), 3*224*224)
	}
	n := 0
	for {
		f, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Index != n || f.TimeMs != float64(40*n) || len(f.Data) != 3*224*224 {
			t.Fatalf("frame %d: Index %d, TimeMs %v, %d values", n, f.Index, f.TimeMs, len(f.Data))
		}
		lo, hi := slices.Min(f.Data), slices.Max(f.Data)
		if lo < -0.5 || hi > 0.5 || hi-lo < 0.5 {
			t.Fatalf("frame %d values span [%v, %v], want a real picture within [-0.5, 0.5]", n, lo, hi)
		}
		n++
	}
	if n != 125 {
		t.Errorf("decoded %d frames, want 125", n)
	}
}

// TestReadFrameIntoBatch fills slots of a caller's batch tensor and compares
// them with Next's frames from a second, independent decode.
func TestReadFrameIntoBatch(t *testing.T) {
	path := mediatest.Generate(t, t.TempDir(), mediatest.Spec{Name: "b.mp4", Frames: 6})
	p := PaperI3D()
	a, err := Open(context.Background(), path, p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n := p.FrameLen()
	if _, err := a.ReadFrame(make([]float32, n-1)); err == nil || !strings.Contains(err.Error(), "destination holds") {
		t.Fatalf("short destination: err = %v", err)
	}
	batch := make([]float32, 4*n)
	for i := range 4 {
		f, err := a.ReadFrame(batch[i*n : (i+1)*n])
		if err != nil || f.Index != i || &f.Data[0] != &batch[i*n] {
			t.Fatalf("slot %d: index %d, err %v, or data not in the batch", i, f.Index, err)
		}
	}
	b, err := Open(context.Background(), path, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 4 {
		f, err := b.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.Data, batch[i*n:(i+1)*n]) {
			t.Fatalf("slot %d differs from Next's frame %d", i, f.Index)
		}
	}
}

// TestTruncatedDecode: a file cut short with its index intact decodes the
// frames that survive, then fails with ffmpeg's own complaint.
func TestTruncatedDecode(t *testing.T) {
	dir := t.TempDir()
	full := mediatest.Generate(t, dir, mediatest.Spec{Name: "fs.mp4", Frames: 100, Args: []string{"-movflags", "+faststart"}})
	st, err := os.Stat(full)
	if err != nil {
		t.Fatal(err)
	}
	cut := mediatest.Truncate(t, full, filepath.Join(dir, "cut.mp4"), st.Size()*2/5)
	s, err := Open(context.Background(), cut, PaperI3D())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, last := 0, 0
	for {
		f, err := s.Next()
		if err != nil {
			if err == io.EOF {
				t.Fatalf("io.EOF after %d of 100 frames; want a truncation error", n)
			}
			for _, w := range []string{"cut.mp4", "truncated", "partial file"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err2 := s.Next(); err2 != err {
				t.Errorf("error not sticky: %v then %v", err, err2)
			}
			break
		}
		// Pictures damaged by the cut are dropped (and the previous one
		// repeated), so the source index may lag but never runs ahead.
		src := mediatest.ReadIndex(brightnessAt(PaperI3D(), f.Data))
		if src > n || src < last {
			t.Fatalf("frame %d shows source frame %d after %d", n, src, last)
		}
		last = src
		n++
	}
	if n == 0 || n >= 100 {
		t.Errorf("decoded %d frames of the truncated file", n)
	}
}

// fakeFFmpeg installs a shell script as ffmpeg for this test.
func fakeFFmpeg(t *testing.T, script string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	p := filepath.Join(t.TempDir(), "ffmpeg")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvFFmpeg, p)
}

func TestFFmpegFailures(t *testing.T) {
	path := mediatest.Generate(t, t.TempDir(), mediatest.Spec{Name: "ok.mp4", Frames: 5})
	cases := []struct {
		name, script string
		want         []string
	}{
		{"exit status", "echo 'Error opening filters: boom' >&2; exit 3", []string{"ok.mp4", "ffmpeg failed after 0 frames", "exit status 3", "boom"}},
		{"killed", "kill -9 $$", []string{"ffmpeg failed", "killed"}},
		{"partial frame", "head -c 1000 /dev/zero; echo 'short write' >&2", []string{"ended inside frame 0", "short write"}},
		{"no frames", "exit 0", []string{"decoded no frames", "no message"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fakeFFmpeg(t, tc.script)
			s, err := Open(context.Background(), path, PaperI3D())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Next()
			if err == nil || err == io.EOF {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// alive reports whether pid exists and is not a zombie.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "gone"
	}
	// pid (comm) S …
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for procState(pid) != "gone" {
		if time.Now().After(deadline) {
			t.Fatalf("ffmpeg (pid %d) still exists in state %s", pid, procState(pid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func linuxOnly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
}

// TestCancel: cancelling the context kills ffmpeg, and it is reaped (no
// zombie) even before Close is called.
func TestCancel(t *testing.T) {
	linuxOnly(t)
	path := mediatest.Generate(t, t.TempDir(), mediatest.Spec{Name: "long.mp4", Frames: 500, Lavfi: "testsrc2"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Open(ctx, path, PaperI3D())
	if err != nil {
		t.Fatal(err)
	}
	pid := s.proc.cmd.Process.Pid
	for range 3 {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if _, err := s.Next(); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: err = %v, want context.Canceled", err)
	}
	waitGone(t, pid)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBackPressure: a consumer that stops reading stops ffmpeg, which has
// then written no more than the frames read plus what the pipe buffers;
// Close ends it at once.
func TestBackPressure(t *testing.T) {
	linuxOnly(t)
	path := mediatest.Generate(t, t.TempDir(), mediatest.Spec{Name: "long.mp4", Frames: 500, Lavfi: "testsrc2"})
	s, err := Open(context.Background(), path, PaperI3D())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pid := s.proc.cmd.Process.Pid
	for range 2 {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until ffmpeg stops writing.
	var written, prev int64 = 0, -1
	for stable := 0; stable < 5; {
		time.Sleep(100 * time.Millisecond)
		written = wchar(t, pid)
		if written == prev {
			stable++
		} else {
			stable = 0
		}
		prev = written
	}
	frame := int64(224 * 224 * 3)
	// 2 frames read + 1 MiB (the largest pipe buffer Linux gives without
	// privileges) + the frame ffmpeg is blocked in.
	if limit := 2*frame + 1<<20 + frame; written > limit {
		t.Fatalf("ffmpeg wrote %d bytes while 2 frames were read; want ≤ %d", written, limit)
	}
	if st := procState(pid); st == "gone" || st == "Z" {
		t.Fatalf("ffmpeg exited (state %s); it should be blocked on the pipe", st)
	}
	t.Logf("ffmpeg blocked after writing %d bytes (%.1f frames)", written, float64(written)/float64(frame))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := procState(pid); st != "gone" {
		t.Fatalf("after Close ffmpeg is in state %s", st)
	}
	if _, err := s.Next(); err == nil {
		t.Fatal("Next after Close succeeded")
	}
}

// wchar returns the bytes a process has written (stdout and stderr).
func wchar(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		t.Fatalf("read /proc/%d/io: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no wchar in /proc/%d/io", pid)
	return 0
}

// TestInputUntouched decodes a read-only file in a read-only folder and
// checks that neither the folder nor the temp dir changed.
func TestInputUntouched(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permissions")
	}
	src := mediatest.Generate(t, t.TempDir(), mediatest.Spec{Name: "in.mp4", Frames: 40, Rate: "30000/1001"})
	dir := filepath.Join(t.TempDir(), "archive")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "-session 1: 50% [final].mp4") // a name ffmpeg must not parse
	if err := os.Rename(src, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := snapshot(t, dir)
	s, err := Open(context.Background(), path, PaperI3D())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		if _, err := s.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if n != 33 { // 40 frames of 30000/1001 = 1.3347 s → 33 frames at 25 fps
		t.Errorf("decoded %d frames, want 33", n)
	}
	if after := snapshot(t, dir); !slices.Equal(before, after) {
		t.Errorf("input folder changed:\n%v\n%v", before, after)
	}
	if left := snapshot(t, tmp); len(left) != 0 {
		t.Errorf("temp dir has %v", left)
	}
}

func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Name()+" "+fi.Mode().String()+" "+strconv.FormatInt(fi.Size(), 10)+" "+fi.ModTime().String())
	}
	return out
}

// TestAbandonedStream: a Stream dropped without Close or cancellation does
// not leave ffmpeg blocked on the pipe forever: once the Stream is garbage,
// its pipe closes and the child is reaped.
func TestAbandonedStream(t *testing.T) {
	linuxOnly(t)
	path := mediatest.Generate(t, t.TempDir(), mediatest.Spec{Name: "long.mp4", Frames: 500, Lavfi: "testsrc2"})
	pid := func() int {
		s, err := Open(context.Background(), path, PaperI3D())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
		return s.proc.cmd.Process.Pid
	}()
	deadline := time.Now().Add(20 * time.Second)
	for procState(pid) != "gone" {
		if time.Now().After(deadline) {
			t.Fatalf("abandoned ffmpeg (pid %d) still in state %s", pid, procState(pid))
		}
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
}
