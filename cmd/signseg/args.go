package main

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags follow a command's arguments, as people type them
// (`signseg segment session.eaf --dry-run`). urfave/cli v2 reads a
// command's flags only up to its first argument and takes the rest as
// arguments, so a trailing --dry-run would be a file name and the file
// would be rewritten. reorderArgs rewrites the command line into the form
// v2 reads: global flags, the command (and subcommand) names each followed
// by their flags, then "--" and the arguments in their order. Which flags
// take a value is read from the commands' flag definitions, so a value
// that looks like a flag or a number ("-", "-0.5") stays a value. After
// "--" everything is an argument. A global flag given after the command
// (`segment x.eaf --ort-lib L`) moves to the front, unless the command has
// a flag of that name. A command line without a known command is left
// alone for urfave/cli to report. (urfave/cli v3 reads flags anywhere,
// but moving to it means rewriting every command against its new API.)
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := newFlagTable(app.Flags, cli.HelpFlag, cli.VersionFlag)
	var globals []string
	rest := args[1:]
	for len(rest) > 0 && isFlagToken(rest[0]) {
		n := global.span(rest)
		globals = append(globals, rest[:n]...)
		rest = rest[n:]
	}
	if len(rest) == 0 {
		return args
	}
	cmd := findCommand(app.Commands, rest[0])
	if cmd == nil {
		return args
	}
	tail, moved := reorderCommand(cmd, rest[0], rest[1:], global)
	out := append([]string{args[0]}, globals...)
	out = append(out, moved...)
	return append(out, tail...)
}

// reorderCommand reorders the arguments of cmd (called as name) and
// returns them with the global flags found among them, separately.
func reorderCommand(cmd *cli.Command, name string, args []string, global flagTable) (out, globals []string) {
	out = []string{name}
	if cmd.SkipFlagParsing {
		return append(out, args...), nil
	}
	own := newFlagTable(cmd.Flags, cli.HelpFlag)
	var flags, positional []string
	for i := 0; i < len(args); {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case isFlagToken(a):
			n := own.span(args[i:])
			if !own.has(a) && global.has(a) {
				n = global.span(args[i:])
				globals = append(globals, args[i:i+n]...)
			} else {
				// Unknown flags stay with the command, which reports them.
				flags = append(flags, args[i:i+n]...)
			}
			i += n
		default:
			// A subcommand is named by the first argument.
			if len(positional) == 0 && len(cmd.Subcommands) > 0 {
				if sub := findCommand(cmd.Subcommands, a); sub != nil {
					subOut, subGlobals := reorderCommand(sub, a, args[i+1:], global)
					out = append(out, flags...)
					return append(out, subOut...), append(globals, subGlobals...)
				}
			}
			positional = append(positional, a)
			i++
		}
	}
	out = append(out, flags...)
	// `segment x.eaf --help` asks for segment's help; urfave/cli would take
	// the arguments for help topics.
	if len(positional) > 0 && !helpAsked(flags) {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out, globals
}

// findCommand returns the command called name (or one of its aliases).
func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// isFlagToken reports whether a reads as a flag: "-x", "--xy", "--x=v";
// not "-", "--" or a negative number.
func isFlagToken(a string) bool {
	if len(a) < 2 || a[0] != '-' || a == "--" {
		return false
	}
	_, err := strconv.ParseFloat(a, 64)
	return err != nil
}

// flagTable maps each flag name (and alias) to whether it takes a value.
type flagTable map[string]bool

func newFlagTable(groups []cli.Flag, extra ...cli.Flag) flagTable {
	t := flagTable{}
	for _, f := range append(append([]cli.Flag(nil), groups...), extra...) {
		if f == nil {
			continue
		}
		takes := true
		if d, ok := f.(cli.DocGenerationFlag); ok {
			takes = d.TakesValue()
		}
		for _, n := range f.Names() {
			t[n] = takes
		}
	}
	return t
}

// flagName is a flag token's name: "--jobs=2" → "jobs".
func flagName(a string) (name string, hasValue bool) {
	a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	name, _, hasValue = strings.Cut(a, "=")
	return name, hasValue
}

// has reports whether the flag token a names a flag of the table.
func (t flagTable) has(a string) bool {
	name, _ := flagName(a)
	_, ok := t[name]
	return ok
}

// span is how many tokens the flag at args[0] uses: 2 when it takes a
// value given as the next token, else 1 (an unknown flag is taken for a
// switch).
func (t flagTable) span(args []string) int {
	name, hasValue := flagName(args[0])
	if t[name] && !hasValue && len(args) > 1 {
		return 2
	}
	return 1
}

// helpAsked reports whether the flags include -h or --help.
func helpAsked(flags []string) bool {
	help := newFlagTable(nil, cli.HelpFlag)
	for _, f := range flags {
		if isFlagToken(f) && help.has(f) {
			return true
		}
	}
	return false
}
