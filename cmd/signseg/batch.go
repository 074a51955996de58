package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
)

func batchCommand() *cli.Command {
	return &cli.Command{
		Name:      "batch",
		Usage:     "segment every EAF file under folders, resumably, in parallel or as one shard of a cluster job",
		ArgsUsage: "PATH...",
		Description: "PATH is an .eaf file or a folder searched recursively for .eaf files. A file whose tier\n" +
			"was already written with the same model is skipped (unless --replace), so an interrupted\n" +
			"batch resumes where it stopped. A failed file never stops the others; the exit code is 1\n" +
			"if any failed. --shard K/N takes a fixed 1/N of the files (by a hash of the path), so N\n" +
			"processes, e.g. a SLURM job array, cover an archive without coordination:\n" +
			"  signseg batch --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --report r-$SLURM_ARRAY_TASK_ID.jsonl DIR\n\n" +
			defaultModelNote,
		Flags: concatFlags(modelFlags(), tierFlags(), outputFlags(), eafFlags(), []cli.Flag{
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: 1, Usage: "files processed in parallel (the CPU threads are split between them)"},
			&cli.StringFlag{Name: "shard", Usage: "K/N: process only shard K (0 ≤ K < N) of N"},
			&cli.StringFlag{Name: "report", Usage: "append one JSON line per file to this file (path, status, error, signs, media and processing seconds)"},
		}),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("batch: give .eaf files or folders")
			}
			jobs := c.Int("jobs")
			if jobs < 1 {
				return usagef("--jobs %d: give at least 1", jobs)
			}
			k, n, err := parseShard(c.String("shard"))
			if err != nil {
				return err
			}
			opt, err := segmentOptionsFrom(c)
			if err != nil {
				return err
			}
			opt.skipDone = true
			paths, err := findEAFs(c.Args().Slice())
			if err != nil {
				return err
			}
			paths = shard(paths, k, n)
			var also func(fileReport)
			if p := c.String("report"); p != "" {
				report, err := openReport(p)
				if err != nil {
					return err
				}
				defer report.close()
				also = func(r fileReport) {
					if err := report.write(r); err != nil {
						fmt.Fprintf(c.App.ErrWriter, "%s: report: %v\n", programName, err)
					}
				}
			}
			return processFiles(c, paths, opt, jobs, also)
		},
	}
}

// runFiles processes paths with jobs workers, calling process for each
// file and done (serialised) for each report, in order of completion. A
// cancelled context stops new files from starting.
func runFiles(ctx context.Context, paths []string, jobs int, process func(string) fileReport, done func(fileReport)) []fileReport {
	var (
		mu      sync.Mutex
		reports []fileReport
		wg      sync.WaitGroup
	)
	next := make(chan string)
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if ctx.Err() != nil {
					continue // received as Ctrl-C came: not started
				}
				r := process(p)
				mu.Lock()
				reports = append(reports, r)
				done(r)
				mu.Unlock()
			}
		}()
	}
send:
	for _, p := range paths {
		if ctx.Err() != nil {
			break
		}
		// a file must not be handed out once Ctrl-C came while all
		// workers were busy
		select {
		case next <- p:
		case <-ctx.Done():
			break send
		}
	}
	close(next)
	wg.Wait()
	return reports
}

// findEAFs expands folders recursively into sorted, de-duplicated .eaf paths.
func findEAFs(args []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if !st.IsDir() {
			add(filepath.Clean(a))
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".eaf") {
				add(filepath.Clean(p))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", a, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// parseShard parses "K/N"; "" means the whole list (0/1).
func parseShard(s string) (k, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return 0, 0, usagef("--shard %q: give K/N with 0 ≤ K < N, e.g. 3/10", s)
	}
	return k, n, nil
}

// shard keeps the paths whose hash falls into shard k of n. Hashing the
// path (rather than taking every n-th file) keeps a file in the same shard
// when other files are added to or removed from the archive.
func shard(paths []string, k, n int) []string {
	if n == 1 {
		return paths
	}
	var out []string
	for _, p := range paths {
		h := fnv.New32a()
		h.Write([]byte(p))
		if int(h.Sum32()%uint32(n)) == k {
			out = append(out, p)
		}
	}
	return out
}

// reportWriter appends JSON Lines, flushing after every line so a killed
// job leaves a usable report.
type reportWriter struct {
	f *os.File
	w *bufio.Writer
}

func openReport(path string) (*reportWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--report %s: %w", path, err)
	}
	return &reportWriter{f: f, w: bufio.NewWriter(f)}, nil
}

func (r *reportWriter) write(rep fileReport) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	r.w.Write(append(b, '\n'))
	return r.w.Flush()
}

func (r *reportWriter) close() error { return r.f.Close() }
