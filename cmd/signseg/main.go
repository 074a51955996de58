// Command signseg finds sign boundaries in sign-language video and writes
// them into ELAN (.eaf) files as new tiers.
//
// Exit codes: 0 success, 1 a file or job failed, 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/segment"
)

// version is set at build time with -ldflags "-X main.version=..."; use
// appVersion, which falls back to the build information.
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	programName = "signseg"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	// Signals are caught from the start, so that Ctrl-C during start-up
	// also ends through the normal error path.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := app.RunContext(ctx, reorderArgs(app, args))
	_ = ortenv.Close()
	return exitCode(err, stderr)
}

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitCode prints err (one line) and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(stderr, "%s: %s\n", programName, msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintf(stderr, "%s: %v\n", programName, err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailed
}

// isUsage reports whether err is a mistake in how signseg was called:
// a usage error of the command line, settings that cannot work, or a model
// name that does not exist. Everything else (a file, a model that does not
// load, ONNX Runtime failing to start) is a failure.
func isUsage(err error) bool {
	var ue usageError
	var ce *segment.ConfigError
	var nf *segment.ModelNotFoundError
	return errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &nf)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    programName,
		Usage:   "find sign boundaries in sign-language video and write them into ELAN files",
		Version: appVersion(),
		Description: "signseg segments sign-language video into signs (Renz et al., ICASSP 2021) and adds\n" +
			"the result to ELAN .eaf files as a new tier, for linguists to correct and gloss.\n\n" +
			defaultModelNote,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		// Errors are printed once, by exitCode.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("unknown command %q; see `%s --help`", c.Args().First(), programName)
			}
			return cli.ShowAppHelp(c)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "ort-lib", Usage: "path of the ONNX Runtime shared library (default: $" + ortenv.EnvVar + ", lib/ next to the binary or in the working directory, then the system loader)"},
			&cli.StringFlag{Name: "models-dir", Usage: "folder of installed models (default: $SIGNSEG_MODELS, else the per-user models folder)", EnvVars: []string{"SIGNSEG_MODELS"}},
		},
		Commands: []*cli.Command{
			segmentCommand(),
			videoCommand(),
			batchCommand(),
			showCommand(),
			doctorCommand(),
			modelCommand(),
			evalCommand(),
			elanCommand(),
			benchCommand(),
			poseCommand(),
			trainCommand(),
		},
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = app.OnUsageError
	}
	return app
}
