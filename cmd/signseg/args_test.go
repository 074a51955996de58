package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/testenv"
)

func TestReorderArgs(t *testing.T) {
	tests := []struct {
		name string
		in   string // split at spaces, after "signseg"
		want string
	}{
		{"switch after the file", "segment session.eaf --dry-run", "segment --dry-run -- session.eaf"},
		{"value after the folder", "batch /data/corpus --jobs 2", "batch --jobs 2 -- /data/corpus"},
		{"short alias, = form, - as value", "batch /data -j 2 --report - --shard=1/3 x.eaf", "batch -j 2 --report - --shard=1/3 -- /data x.eaf"},
		{"negative number as value", "segment a.eaf --threshold -0.5 b.eaf", "segment --threshold -0.5 -- a.eaf b.eaf"},
		{"flags on both sides", "segment --tier t a.eaf --replace b.eaf -q", "segment --tier t --replace -q -- a.eaf b.eaf"},
		{"-- ends flags", "segment --dry-run -- --dry-run", "segment --dry-run -- --dry-run"},
		{"arguments after -- keep their order", "segment a.eaf --replace -- --x b.eaf", "segment --replace -- a.eaf --x b.eaf"},
		{"- and negative numbers are arguments", "show - -1 --tier t", "show --tier t -- - -1"},
		{"repeatable flag", "segment a.eaf --media-dir A --media-dir B", "segment --media-dir A --media-dir B -- a.eaf"},
		{"global flag after the command", "segment a.eaf --ort-lib L --tier t", "--ort-lib L segment --tier t -- a.eaf"},
		{"global flags stay first", "--models-dir M video v.mp4 --out o", "--models-dir M video --out o -- v.mp4"},
		{"a command's own flag of a global name", "--models-dir M model list --models-dir N", "--models-dir M model list --models-dir N"},
		{"subcommand argument before its flag", "model info bslcp --models-dir D", "model info --models-dir D -- bslcp"},
		{"subcommand flags only", "model import --i3d a --mstcn b --name n --force", "model import --i3d a --mstcn b --name n --force"},
		{"elan install", "elan install --extensions-dir D", "elan install --extensions-dir D"},
		{"elan recognize", "elan recognize --param video=a.mp4", "elan recognize --param video=a.mp4"},
		{"eval", "eval a.eaf --ref R --plot p.svg --media-dir M --fps 50", "eval --ref R --plot p.svg --media-dir M --fps 50 -- a.eaf"},
		{"unknown flag stays with the command", "segment a.eaf --nope", "segment --nope -- a.eaf"},
		{"help after the file", "segment a.eaf --help", "segment --help"},
		{"value flag at the end", "segment a.eaf --tier", "segment --tier -- a.eaf"},
		{"unknown command untouched", "segmnet a.eaf --dry-run", "segmnet a.eaf --dry-run"},
		{"version", "--version", "--version"},
		{"no command", "--ort-lib L", "--ort-lib L"},
	}
	app := newApp(io.Discard, io.Discard)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := reorderArgs(app, append([]string{"signseg"}, strings.Fields(tc.in)...))
			want := append([]string{"signseg"}, strings.Fields(tc.want)...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q\ngot  %q\nwant %q", tc.in, got, want)
			}
		})
	}
}

// call is what a command's action saw.
type call struct {
	ctx  *cli.Context
	args []string
}

// recordingApp is the real command tree with every action replaced by one
// that records its context, keyed by the command path ("model import").
func recordingApp(calls map[string]*call) *cli.App {
	app := newApp(io.Discard, io.Discard)
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(path, c.Subcommands)
				continue
			}
			c.Action = func(ctx *cli.Context) error {
				calls[path] = &call{ctx: ctx, args: ctx.Args().Slice()}
				return nil
			}
		}
	}
	walk("", app.Commands)
	return app
}

// leafCommands lists the command paths and flags of the command tree.
func leafCommands() map[string][]cli.Flag {
	out := map[string][]cli.Flag{}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(path, c.Subcommands)
				continue
			}
			out[path] = c.Flags
		}
	}
	walk("", newApp(io.Discard, io.Discard).Commands)
	return out
}

// testValue is a value for flag f that looks like a flag or a number: "-"
// for text, "-3" for numbers (which must stay values); "" for a switch.
func testValue(f cli.Flag) string {
	if d, ok := f.(cli.DocGenerationFlag); ok && !d.TakesValue() {
		return ""
	}
	switch f.(type) {
	case *cli.IntFlag, *cli.Int64Flag, *cli.Float64Flag:
		return "-3"
	}
	return "-"
}

// TestEveryCommandTakesFlagsAfterArguments gives every flag of every
// command (and the global flags) after an argument, and before it, and
// checks that the command sees the flag set to its value and exactly the
// argument; and that after "--" a flag-like name is an argument.
func TestEveryCommandTakesFlagsAfterArguments(t *testing.T) {
	cmds := leafCommands()
	if len(cmds) < 13 {
		t.Fatalf("found %d commands, want every command and subcommand", len(cmds))
	}
	global := newApp(io.Discard, io.Discard).Flags
	for path, flags := range cmds {
		all := append(append([]cli.Flag(nil), flags...), global...)
		for _, f := range all {
			name := f.Names()[0]
			for _, order := range []string{"after", "before"} {
				t.Run(fmt.Sprintf("%s/%s/%s", path, name, order), func(t *testing.T) {
					flagArgs := []string{"--" + name}
					if v := testValue(f); v != "" {
						flagArgs = append(flagArgs, v)
					}
					args := append([]string{"signseg"}, strings.Fields(path)...)
					if order == "after" {
						args = append(append(args, "ARG"), flagArgs...)
					} else {
						args = append(append(args, flagArgs...), "ARG")
					}
					calls := map[string]*call{}
					app := recordingApp(calls)
					if err := app.Run(reorderArgs(app, args)); err != nil {
						t.Fatalf("%q: %v", args, err)
					}
					c := calls[path]
					if c == nil {
						t.Fatalf("%q did not run %s", args, path)
					}
					if !c.ctx.IsSet(name) {
						t.Errorf("%q: --%s not set", args, name)
					}
					if v := testValue(f); v != "" && !strings.Contains(fmt.Sprint(c.ctx.Value(name)), v) {
						t.Errorf("%q: --%s is %v, want %s", args, name, c.ctx.Value(name), v)
					}
					if !reflect.DeepEqual(c.args, []string{"ARG"}) {
						t.Errorf("%q: arguments %q, want [ARG]", args, c.args)
					}
				})
			}
		}
		t.Run(path+"/-- ends flags", func(t *testing.T) {
			calls := map[string]*call{}
			app := recordingApp(calls)
			args := append(append([]string{"signseg"}, strings.Fields(path)...), "--", "--dry-run", "-q")
			if err := app.Run(reorderArgs(app, args)); err != nil {
				t.Fatalf("%q: %v", args, err)
			}
			if c := calls[path]; c == nil || !reflect.DeepEqual(c.args, []string{"--dry-run", "-q"}) {
				t.Fatalf("%q: %+v", args, c)
			}
		})
	}
}

// TestFlagsAfterFiles runs the commands as people type them: a flag after
// the file must act as the flag (--dry-run writes nothing), and a file
// named like a flag can be given after "--".
func TestFlagsAfterFiles(t *testing.T) {
	dir := t.TempDir()
	path, _ := fixture(t, dir, "session", 3)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "segment", path, "--dry-run", "--quiet")
	if code != 0 || !strings.Contains(stdout, "would write tier signseg-signs") {
		t.Fatalf("segment FILE --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatal("segment FILE --dry-run modified the file")
	}
	if _, err := os.Stat(path + ".bak"); err == nil {
		t.Fatal("segment FILE --dry-run left a backup")
	}
	if _, err := os.Stat(filepath.Join(dir, "--dry-run")); err == nil {
		t.Fatal("a file named --dry-run appeared")
	}

	// A file literally named --dry-run, after --, with flags after the
	// command and before --.
	odd := filepath.Join(dir, "--dry-run")
	if err := os.WriteFile(odd, before, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runBinary(t, dir, nil, "--ort-lib", testenv.ORTLibrary(t), "segment", "--quiet", "--tier", "auto", "--no-backup", "--", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "--dry-run: wrote tier auto") {
		t.Fatalf("segment -- --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runBinary(t, dir, nil, "show", "--tier", "auto", "--", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "tier auto: ") {
		t.Fatalf("show -- --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	// Flags after the file take effect: without --replace the tier is
	// kept, with it the tier is redone.
	stdout, stderr, code = runBinary(t, dir, []string{"SIGNSEG_ORT_LIB=" + testenv.ORTLibrary(t)}, "segment", "./--dry-run", "--tier", "auto", "--quiet")
	if code != 1 || !strings.Contains(stderr, "pass --replace") {
		t.Fatalf("segment again without --replace: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runBinary(t, dir, []string{"SIGNSEG_ORT_LIB=" + testenv.ORTLibrary(t)}, "segment", "./--dry-run", "--tier", "auto", "--replace", "--quiet")
	if code != 0 || !strings.Contains(stdout, "wrote tier auto") {
		t.Fatalf("segment FILE --replace: exit %d\n%s%s", code, stdout, stderr)
	}
}
