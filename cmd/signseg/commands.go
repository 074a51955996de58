package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/eaf"
)

// outputFlags are shared by the commands that process files.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "out", Usage: "write the results into this folder instead of next to the inputs (originals stay untouched)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "run the model and report what would be written, but write nothing"},
		&cli.BoolFlag{Name: "json", Usage: "print a machine-readable summary on stdout"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
	}
}

func segmentCommand() *cli.Command {
	return &cli.Command{
		Name:      "segment",
		Usage:     "add a tier of signs to ELAN files, using the video each file links",
		ArgsUsage: "FILE.eaf...",
		Description: "For each EAF file: find its linked video the way ELAN does (or use --media), run the\n" +
			"model and add the tier(s). The file is replaced atomically and the original kept as\n" +
			"FILE.eaf.bak; nothing else in it changes. With --out the results are written as copies.\n\n" +
			defaultModelNote,
		Flags: concatFlags(modelFlags(), tierFlags(), outputFlags(), eafFlags(), []cli.Flag{
			&cli.StringFlag{Name: "media", Usage: "use this video instead of the one the file links (one EAF file only)"},
		}),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("segment: give one or more .eaf files")
			}
			if c.String("media") != "" && c.NArg() > 1 {
				return usagef("segment: --media applies to one EAF file; got %d", c.NArg())
			}
			opt, err := segmentOptionsFrom(c)
			if err != nil {
				return err
			}
			return processFiles(c, c.Args().Slice(), opt, 1, nil)
		},
	}
}

// eafFlags are the flags of the commands that edit existing EAF files.
func eafFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "videos", Value: "first", Usage: "which linked videos to segment: first, all, or a file-name pattern such as '*front*'; with several, each gets a tier <tier>@<video name> (@<folder>/<video name> when two share a name)"},
		&cli.BoolFlag{Name: "no-backup", Usage: "do not keep FILE.eaf.bak"},
		mediaDirFlag(),
	}
}

func segmentOptionsFrom(c *cli.Context) (segmentOptions, error) {
	opt := segmentOptions{
		tiers:    tierOptionsFrom(c),
		media:    c.String("media"),
		videos:   c.String("videos"),
		outDir:   c.String("out"),
		dryRun:   c.Bool("dry-run"),
		noBackup: c.Bool("no-backup"),
	}
	if opt.tiers.tier == "" {
		return opt, usagef("--tier must not be empty")
	}
	var err error
	if opt.mediaDirs, err = mediaDirsFrom(c); err != nil {
		return opt, err
	}
	if opt.outDir != "" && !opt.dryRun {
		if err := os.MkdirAll(opt.outDir, 0o755); err != nil {
			return opt, fmt.Errorf("--out %s: %w", opt.outDir, err)
		}
	}
	return opt, nil
}

// processFiles runs segmentFile over paths with jobs workers, prints one
// line per file (or the JSON summary), passes each report to also (if not
// nil) and returns exit code 1 if any failed.
func processFiles(c *cli.Context, paths []string, opt segmentOptions, jobs int, also func(fileReport)) error {
	e, err := newEngine(c, defaultThreads(jobs))
	if err != nil {
		return err
	}
	defer e.close()
	opt.tiers.sentences = e.model.GivesSentences()
	// Several bars at once would garble the terminal.
	prog := newProgress(c.App.ErrWriter, c.Bool("quiet") || c.Bool("json") || jobs > 1)
	process := func(p string) fileReport {
		r := e.segmentFile(c.Context, p, opt, prog)
		if r.Status == "failed" || r.Status == "interrupted" {
			prog.done()
		}
		return r
	}
	reports := runFiles(c.Context, paths, jobs, process, func(r fileReport) {
		if also != nil {
			also(r)
		}
		if !c.Bool("json") {
			printReport(c.App.Writer, c.App.ErrWriter, r)
		}
	})
	return finish(c, reports)
}

// finish prints the JSON summary and sets the exit code: 1 when a file
// failed or the run was interrupted before every file was done.
func finish(c *cli.Context, reports []fileReport) error {
	failed := 0
	for _, r := range reports {
		if r.Status == "failed" {
			failed++
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Files  []fileReport `json:"files"`
			Failed int          `json:"failed"`
		}{reports, failed}); err != nil {
			return err
		}
	}
	// Ctrl-C first: the files it cut short report its error, and are not
	// failures of their own.
	if err := c.Context.Err(); err != nil {
		msg := fmt.Sprintf("interrupted (%v); files not yet started were left untouched", err)
		if failed > 0 {
			msg += fmt.Sprintf("; %d of %d files failed", failed, len(reports))
		}
		return cli.Exit(msg, exitFailed)
	}
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("%d of %d files failed", failed, len(reports)), exitFailed)
	}
	return nil
}

// printReport writes a human-readable line: results to stdout, failures to
// stderr.
func printReport(stdout, stderr io.Writer, r fileReport) {
	switch r.Status {
	case "failed":
		fmt.Fprintf(stderr, "%s: error: %s\n", programName, r.Error)
	case "interrupted":
		fmt.Fprintf(stderr, "%s: interrupted, left untouched: %s\n", programName, r.Path)
	case "skipped":
		fmt.Fprintf(stdout, "%s: skipped (tier already written with this model; --replace redoes it)\n", r.Path)
	default:
		what := "wrote"
		if r.Status == "dry-run" {
			what = "would write"
		}
		where := r.Output
		if where == "" {
			where = r.Path
		}
		signs := "signs"
		if r.Signs == 1 {
			signs = "sign"
		}
		fmt.Fprintf(stdout, "%s: %s tier %s (%d %s, %.1f s of video in %.1f s)\n",
			where, what, strings.Join(r.Tiers, ", "), r.Signs, signs, r.MediaSec, r.ProcSec)
		for i, share := range r.SignerShare {
			if share < signerShareWarn {
				fmt.Fprintf(stderr, "%s: warning: %s\n", programName, signerShareNote(r.Videos[i], share))
			}
		}
	}
}

func videoCommand() *cli.Command {
	return &cli.Command{
		Name:      "video",
		Usage:     "segment videos that have no ELAN file yet: writes VIDEO.eaf next to each (or into --out)",
		ArgsUsage: "VIDEO...",
		Description: "Creates a new EAF 3.0 file linking the video (MEDIA_URL and RELATIVE_MEDIA_URL), with the\n" +
			"tier(s) of signs. Open it in ELAN to see the video with the tier. An existing EAF file is\n" +
			"never overwritten: use `signseg segment` on it instead.\n\n" + defaultModelNote,
		Flags: concatFlags(modelFlags(), tierFlags(), outputFlags()),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("video: give one or more video files")
			}
			opt, err := segmentOptionsFrom(c)
			if err != nil {
				return err
			}
			e, err := newEngine(c, 0)
			if err != nil {
				return err
			}
			defer e.close()
			opt.tiers.sentences = e.model.GivesSentences()
			prog := newProgress(c.App.ErrWriter, c.Bool("quiet") || c.Bool("json"))
			var reports []fileReport
			for _, v := range c.Args().Slice() {
				if c.Context.Err() != nil {
					break
				}
				r := e.videoFile(c.Context, v, opt, prog)
				if !c.Bool("json") {
					printReport(c.App.Writer, c.App.ErrWriter, r)
				}
				reports = append(reports, r)
			}
			return finish(c, reports)
		},
	}
}

// videoFile creates VIDEO.eaf with the tiers.
func (e *engine) videoFile(ctx context.Context, video string, opt segmentOptions, prog *progress) (rep fileReport) {
	out := strings.TrimSuffix(video, filepath.Ext(video)) + ".eaf"
	if opt.outDir != "" {
		out = filepath.Join(opt.outDir, filepath.Base(out))
	}
	rep = fileReport{Path: video, Status: "failed", Videos: []string{video}}
	fail := func(err error) fileReport {
		prog.done()
		rep.Error = oneLine(err)
		return rep
	}
	if _, err := os.Stat(out); err == nil {
		return fail(fmt.Errorf("%s exists; to add the tier to it run: signseg segment %s", out, out))
	}
	res, err := e.run(ctx, video, prog.file(out, video))
	if err != nil {
		return fail(err)
	}
	doc, err := eaf.New(eaf.NewOptions{VideoPath: video, EAFPath: out})
	if err != nil {
		return fail(err)
	}
	if err := writeTiers(doc, e.model, res, opt.tiers, "", 0); err != nil {
		return fail(err)
	}
	rep.Tiers = opt.tiers.names(opt.tiers.tier, "")
	rep.Signs, rep.MediaSec, rep.ProcSec = len(res.Signs), res.MediaSec, res.ProcSec
	if res.FeatureCache != "" {
		rep.FeatureCache = []string{res.FeatureCache}
	}
	rep.addSigner(res.Result)
	if opt.dryRun {
		rep.Status = "dry-run"
		return rep
	}
	if err := doc.Save(out, eaf.SaveOptions{}); err != nil {
		return fail(err)
	}
	rep.Output, rep.Status = out, "ok"
	return rep
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print the annotations of a tier of an ELAN file",
		ArgsUsage: "FILE.eaf",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "tier", Value: "signseg-signs", Usage: "tier to print"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("show: give one .eaf file")
			}
			doc, err := eaf.ReadFile(c.Args().First())
			if err != nil {
				return err
			}
			name := c.String("tier")
			if _, ok := doc.Tier(name); !ok {
				var names []string
				for _, t := range doc.Tiers() {
					names = append(names, t.ID)
				}
				return fmt.Errorf("%s: no tier %q (tiers: %s)", doc.Name(), name, strings.Join(names, ", "))
			}
			anns, err := doc.Annotations(name)
			if err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "tier %s: %d annotations\n", name, len(anns))
			for _, a := range anns {
				fmt.Fprintf(w, "  %s – %s  %q\n", clock(a.Start), clock(a.End), a.Value)
			}
			return nil
		},
	}
}

// clock formats ms as m:ss.mmm.
func clock(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	return fmt.Sprintf("%d:%02d.%03d", int(d.Minutes()), int(d.Seconds())%60, ms%1000)
}

func concatFlags(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
