package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/plugin"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/decode"
)

// elanCommand groups the commands that make signseg an ELAN recognizer.
func elanCommand() *cli.Command {
	onUsage := func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
	dirFlag := &cli.StringFlag{Name: "extensions-dir", Usage: "ELAN's extensions folder (default: found in the usual ELAN install places)"}
	cmd := &cli.Command{
		Name:  "elan",
		Usage: "use signseg from ELAN's Recognizer tab (install, uninstall)",
		Description: "`signseg elan install` adds signseg to ELAN's recognizers: restart ELAN, open a document\n" +
			"with a video, and pick \"" + plugin.RecognizerInfo + "\" in the Recognizer tab. ELAN then runs\n" +
			"`signseg elan recognize`, which reads ELAN's parameters on stdin.",
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "add the signseg recognizer to ELAN's extensions folder (again to update it)",
				Flags: []cli.Flag{dirFlag},
				Action: func(c *cli.Context) error {
					return elanInstall(c)
				},
			},
			{
				Name:  "uninstall",
				Usage: "remove exactly what `signseg elan install` created",
				Flags: []cli.Flag{dirFlag},
				Action: func(c *cli.Context) error {
					return elanUninstall(c)
				},
			},
			{
				Name:  "recognize",
				Usage: "run as ELAN's recognizer: parameters on stdin, PROGRESS/RESULT lines on stdout",
				Description: "ELAN runs this through the launcher that install wrote. By hand, give the parameters\n" +
					"with --param (e.g. --param video=clip.mp4 --param segments=out.xml) when stdin is a terminal.",
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "param", Usage: "NAME=VALUE, overriding stdin (repeatable)"},
					noFeatureCacheFlag(),
				},
				Action: elanRecognize,
			},
		},
	}
	cmd.OnUsageError = onUsage
	for _, sub := range cmd.Subcommands {
		sub.OnUsageError = onUsage
	}
	return cmd
}

// elanModels lists the models ELAN offers: the default first, then the
// other built-in and installed models that load.
func elanModels(dir string) []string {
	names := []string{segment.DefaultModel}
	for _, m := range segment.ListModels(dir) {
		if m.Err == nil && m.Name != segment.DefaultModel {
			names = append(names, m.Name)
		}
	}
	return names
}

func elanSpec(modelsDir string) plugin.Spec {
	return plugin.NewSpec(elanModels(modelsDir), runtime.GOOS, plugin.RunCommand(runtime.GOOS))
}

// extensionsDir returns --extensions-dir, else the newest ELAN found, and
// the other installations found.
func extensionsDir(c *cli.Context) (string, []string, error) {
	if d := c.String("extensions-dir"); d != "" {
		abs, err := filepath.Abs(d)
		return abs, nil, err
	}
	home, _ := os.UserHomeDir()
	found := plugin.ExtensionsDirs(runtime.GOOS, home, os.Getenv)
	if len(found) == 0 {
		// not a usage error: the command line is fine, ELAN is not there
		return "", nil, fmt.Errorf("no ELAN installation found in the usual places; give its extensions folder with --extensions-dir (e.g. ~/ELAN_6-9/app/extensions)")
	}
	return found[0], found[1:], nil
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func elanInstall(c *cli.Context) error {
	ext, others, err := extensionsDir(c)
	if err != nil {
		return err
	}
	lib, err := initRuntime(c)
	if err != nil {
		return err
	}
	if lib.Source == "system loader" {
		return fmt.Errorf("the ONNX Runtime library was found only through the system loader, which ELAN's minimal environment may not have; %s", ortenv.FixHint)
	}
	tools, err := media.FindTools()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the signseg executable: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	models := absPath(modelsDir(c))
	in := plugin.Installation{
		ExtensionsDir: ext,
		GOOS:          runtime.GOOS,
		Spec:          elanSpec(models),
		Launch: plugin.Launch{
			Binary: absPath(exe), ORTLib: absPath(lib.Path),
			FFmpeg: absPath(tools.FFmpeg.Path), FFprobe: absPath(tools.FFprobe.Path), ModelsDir: models,
		},
	}
	if _, err := in.Install(); err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "installed the ELAN recognizer %q in %s\n", plugin.RecognizerInfo, in.Dir())
	fmt.Fprintf(w, "it runs %s with ONNX Runtime %s and %s\n", in.Launch.Binary, in.Launch.ORTLib, in.Launch.FFmpeg)
	fmt.Fprintf(w, "models offered: %s\n", strings.Join(elanModels(models), ", "))
	fmt.Fprintf(w, "restart ELAN, open a document with a video and choose it in the Recognizer tab;\nrun this command again after installing models or moving signseg, ffmpeg or ONNX Runtime\n")
	if len(others) > 0 {
		fmt.Fprintf(w, "other ELAN installations (use --extensions-dir for them): %s\n", strings.Join(others, ", "))
	}
	return nil
}

func elanUninstall(c *cli.Context) error {
	ext := c.String("extensions-dir")
	if ext == "" {
		home, _ := os.UserHomeDir()
		for _, d := range plugin.ExtensionsDirs(runtime.GOOS, home, os.Getenv) {
			if _, err := os.Stat(filepath.Join(d, plugin.FolderName, plugin.ManifestFile)); err == nil {
				ext = d
				break
			}
		}
		if ext == "" {
			return fmt.Errorf("no signseg recognizer found in the usual ELAN places; give the extensions folder with --extensions-dir")
		}
	}
	removed, err := plugin.Uninstall(ext, "")
	for _, p := range removed {
		fmt.Fprintf(c.App.Writer, "removed %s\n", p)
	}
	return err
}

// elanRecognize is what ELAN runs. Everything it prints goes to ELAN's
// report, so it prints only protocol lines, and it ends with a RESULT line
// whatever happens.
func elanRecognize(c *cli.Context) error {
	// SIGTERM is ELAN's Stop button. With SIGPIPE caught, a write to the
	// pipe ELAN closed returns an error instead of killing the process,
	// and the protocol cancels the run.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := plugin.NewProtocol(c.App.Writer, cancel)

	params, err := readParams(c)
	if err != nil {
		out.End(err)
		return cli.Exit("", exitFailed)
	}
	dir := absPath(modelsDir(c))
	run := func(ctx context.Context, req plugin.Request, progress plugin.ProgressFunc) (plugin.Result, error) {
		model := req.Model
		if model == "" {
			model = segment.DefaultModel
		}
		progress(0, "loading model "+model)
		e, err := buildEngine(engineConfig{
			ORTLib: c.String("ort-lib"), ModelsDir: dir, Model: model, Warn: c.App.ErrWriter,
			NoFeatureCache: c.Bool("no-feature-cache"),
			Segment:        segment.Options{Runtime: ortsession.Options{Threads: req.Threads}, Decoding: req.Decoding, Holistic: holisticModels(c)},
		})
		if err != nil {
			return plugin.Result{}, err
		}
		defer e.close()
		progress(0.05, "segmenting "+filepath.Base(req.Video))
		res, err := e.run(ctx, req.Video, func(done, total int) {
			if total > 0 {
				progress(0.05+0.95*float64(done)/float64(total), "segmenting "+filepath.Base(req.Video))
			}
		})
		if err != nil {
			return plugin.Result{}, err
		}
		conv := func(spans []decode.TimeSpan) []plugin.Span {
			out := make([]plugin.Span, len(spans))
			for i, s := range spans {
				out[i] = plugin.Span{BeginMS: s.BeginMS, EndMS: s.EndMS, Confidence: s.Confidence}
			}
			return out
		}
		r := plugin.Result{Signs: conv(res.Signs), Boundaries: conv(res.Boundaries)}
		if w := signerWarning(req.Video, res.Result); w != "" {
			r.Warnings = append(r.Warnings, w)
		}
		if res.Sentences != nil {
			r.Sentences = conv(res.Sentences)
		}
		return r, nil
	}
	if err := plugin.Recognize(ctx, elanSpec(dir), params, out, run); err != nil {
		return cli.Exit("", exitFailed)
	}
	return nil
}

// readParams reads ELAN's parameter document from stdin (not from a
// terminal: a manual run gives --param instead) and applies --param.
func readParams(c *cli.Context) (plugin.Params, error) {
	params := plugin.Params{}
	in := c.App.Reader
	if in == nil {
		in = os.Stdin
	}
	if f, ok := in.(*os.File); !ok || !isatty.IsTerminal(f.Fd()) {
		data, err := io.ReadAll(io.LimitReader(in, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("read ELAN's parameters from stdin: %w", err)
		}
		if params, err = plugin.ParseParams(data); err != nil {
			return nil, err
		}
	}
	for _, kv := range c.StringSlice("param") {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--param %q: give NAME=VALUE", kv)
		}
		params[name] = strings.TrimSpace(value)
	}
	return params, nil
}
