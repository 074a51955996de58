package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
)

// archive makes n EAF files in nested folders under root, linking a few
// generated videos.
func archive(t *testing.T, root string, n int) []string {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	var videos []string
	for i := 0; i < 3; i++ {
		v := filepath.Join(root, "media", fmt.Sprintf("v%d.mp4", i))
		if err := os.MkdirAll(filepath.Dir(v), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := synth.Render(context.Background(), ffmpeg, v, synth.Options{Seed: int64(i), Width: 96, Height: 64, Signs: 3}); err != nil {
			t.Fatal(err)
		}
		videos = append(videos, v)
	}
	var paths []string
	for i := 0; i < n; i++ {
		p := filepath.Join(root, fmt.Sprintf("site%d", i%5), fmt.Sprintf("session%03d.eaf", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		doc, err := eaf.New(eaf.NewOptions{VideoPath: videos[i%len(videos)], EAFPath: p})
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Save(p, eaf.SaveOptions{NoBackup: true}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// readReports parses JSON Lines reports into path → statuses.
func readReports(t *testing.T, files ...string) map[string][]string {
	t.Helper()
	seen := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var r fileReport
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: bad report line %q: %v", f, sc.Text(), err)
			}
			seen[r.Path] = append(seen[r.Path], r.Status)
		}
		fh.Close()
	}
	return seen
}

// checkArchive requires every file to load with exactly one signseg tier
// and no temporary files to be left behind.
func checkArchive(t *testing.T, root string, paths []string) {
	t.Helper()
	for _, p := range paths {
		doc, err := eaf.ReadFile(p)
		if err != nil {
			t.Fatalf("damaged file: %v", err)
		}
		if tiers := doc.Tiers(); len(tiers) != 1 || tiers[0].ID != "signseg-signs" {
			t.Fatalf("%s: tiers %+v, want exactly signseg-signs", p, tiers)
		}
	}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if strings.Contains(filepath.Base(p), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// TestBatchShardsResumeAndKill runs an archive of 200 files as 4 shards in
// parallel processes (each file exactly once), runs it again (everything
// skipped), then kills a batch mid-run and checks that re-running finishes
// the rest with no damaged file.
func TestBatchShardsResumeAndKill(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	root := t.TempDir()
	paths := archive(t, root, 200)
	reports := t.TempDir()

	var wg sync.WaitGroup
	var shardReports []string
	for k := 0; k < 4; k++ {
		rep := filepath.Join(reports, fmt.Sprintf("shard%d.jsonl", k))
		shardReports = append(shardReports, rep)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, "--ort-lib", lib, "batch", "--quiet", "--threads", "1", "--shard", fmt.Sprintf("%d/4", k), "--report", rep, root)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("shard %d: %v\n%s", k, err, out)
			}
		}()
	}
	wg.Wait()
	seen := readReports(t, shardReports...)
	if len(seen) != len(paths) {
		t.Fatalf("the shards reported %d files, want %d", len(seen), len(paths))
	}
	for _, p := range paths {
		if st := seen[p]; len(st) != 1 || st[0] != "ok" {
			t.Fatalf("%s: statuses %v, want exactly one ok", p, st)
		}
	}
	checkArchive(t, root, paths)

	again := filepath.Join(reports, "again.jsonl")
	_, stderr, code := runBinary(t, root, nil, "--ort-lib", lib, "batch", "--quiet", "--jobs", "2", "--report", again, root)
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	for p, st := range readReports(t, again) {
		if len(st) != 1 || st[0] != "skipped" {
			t.Fatalf("second run: %s %v, want skipped", p, st)
		}
	}

	// Kill a fresh batch once it has written a few files, then resume.
	root2 := t.TempDir()
	paths2 := archive(t, root2, 24)
	killed := filepath.Join(reports, "killed.jsonl")
	cmd := exec.Command(binary, "--ort-lib", lib, "batch", "--quiet", "--report", killed, root2)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(killed); strings.Count(string(data), "\n") >= 5 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	done := len(readReports(t, killed))
	if done == 0 || done >= len(paths2) {
		t.Fatalf("the batch finished %d of %d files before the kill; the test needs a partial run", done, len(paths2))
	}
	resumed := filepath.Join(reports, "resumed.jsonl")
	if _, stderr, code := runBinary(t, root2, nil, "--ort-lib", lib, "batch", "--quiet", "--report", resumed, root2); code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	ok, skipped := 0, 0
	for _, st := range readReports(t, resumed) {
		switch st[0] {
		case "ok":
			ok++
		case "skipped":
			skipped++
		}
	}
	if skipped < done || ok+skipped != len(paths2) {
		t.Fatalf("resumed run: %d ok, %d skipped of %d files (%d done before the kill)", ok, skipped, len(paths2), done)
	}
	// A kill can land between a file's rename and its report line, so
	// more files may be skipped than were reported; none may be damaged.
	checkArchive(t, root2, paths2)
}

func TestShardAndFind(t *testing.T) {
	var paths []string
	for i := 0; i < 1000; i++ {
		paths = append(paths, fmt.Sprintf("/archive/s%04d.eaf", i))
	}
	seen := map[string]int{}
	for k := 0; k < 7; k++ {
		part := shard(paths, k, 7)
		if len(part) < 100 || len(part) > 190 {
			t.Errorf("shard %d/7 has %d of 1000 files; the split is very uneven", k, len(part))
		}
		for _, p := range part {
			seen[p]++
		}
	}
	for _, p := range paths {
		if seen[p] != 1 {
			t.Fatalf("%s is in %d shards", p, seen[p])
		}
	}
	for _, tc := range []struct {
		in   string
		k, n int
		ok   bool
	}{{"", 0, 1, true}, {"0/1", 0, 1, true}, {"3/10", 3, 10, true}, {"10/10", 0, 0, false}, {"-1/3", 0, 0, false}, {"a/b", 0, 0, false}, {"3", 0, 0, false}} {
		k, n, err := parseShard(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (k != tc.k || n != tc.n)) {
			t.Errorf("parseShard(%q) = %d, %d, %v", tc.in, k, n, err)
		}
	}
}

// TestRunFilesStopsOnCancel cancels the context while the first file is
// being processed (as Ctrl-C does): no further file may be started, and the
// run must end as interrupted, not as failed files.
func TestRunFilesStopsOnCancel(t *testing.T) {
	for _, jobs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("jobs=%d", jobs), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			paths := []string{"a.eaf", "b.eaf", "c.eaf", "d.eaf", "e.eaf", "f.eaf", "g.eaf", "h.eaf"}
			var mu sync.Mutex
			var started []string
			inFlight := make(chan struct{}, len(paths))
			process := func(p string) fileReport {
				mu.Lock()
				started = append(started, p)
				mu.Unlock()
				inFlight <- struct{}{}
				<-ctx.Done() // each file runs until Ctrl-C
				return fileReport{Path: p, Status: "failed", Error: ctx.Err().Error()}
			}
			go func() {
				for i := 0; i < jobs; i++ {
					<-inFlight
				}
				cancel()
			}()
			reports := runFiles(ctx, paths, jobs, process, func(fileReport) {})
			if len(started) != jobs || len(reports) != jobs {
				t.Fatalf("%d files started, %d reported after Ctrl-C with %d workers busy: %v; want %d", len(started), len(reports), jobs, started, jobs)
			}
		})
	}
}

// TestFinishInterrupted: after Ctrl-C the exit message says interrupted,
// even when the files cut short report an error.
func TestFinishInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		reports []fileReport
		want    string
	}{
		{"interrupted mid-file", ctx, []fileReport{{Path: "a.eaf", Status: "ok"}, {Path: "b.eaf", Status: "failed", Error: "b.eaf: context canceled"}}, "interrupted (context canceled)"},
		{"interrupted between files", ctx, []fileReport{{Path: "a.eaf", Status: "ok"}}, "interrupted (context canceled)"},
		{"a file failed", context.Background(), []fileReport{{Path: "a.eaf", Status: "failed", Error: "bad"}, {Path: "b.eaf", Status: "ok"}}, "1 of 2 files failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &cli.App{Writer: io.Discard, ErrWriter: io.Discard, ExitErrHandler: func(*cli.Context, error) {},
				Action: func(c *cli.Context) error { return finish(c, tt.reports) }}
			err := app.RunContext(tt.ctx, []string{"signseg"})
			var ec cli.ExitCoder
			if !errors.As(err, &ec) || ec.ExitCode() != exitFailed || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want exit %d starting %q", err, exitFailed, tt.want)
			}
		})
	}
}

// TestBatchParallelInProcess runs a batch with several workers sharing one
// engine in this process, so that `go test -race` checks that sharing.
func TestBatchParallelInProcess(t *testing.T) {
	root := t.TempDir()
	paths := archive(t, root, 8)
	rep := filepath.Join(t.TempDir(), "report.jsonl")
	stdout, stderr, code := runCLI(t, "batch", "--quiet", "--jobs", "3", "--threads", "1", "--report", rep, root)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	seen := readReports(t, rep)
	for _, p := range paths {
		if st := seen[p]; len(st) != 1 || st[0] != "ok" {
			t.Fatalf("%s: statuses %v, want exactly one ok", p, st)
		}
	}
	checkArchive(t, root, paths)
}
