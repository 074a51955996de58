package main

import (
	"runtime/debug"
	"strings"
)

// appVersion is signseg's version: the one linked in by `make` (git
// describe), else what the Go toolchain recorded in the binary, so that a
// `go build` or `go install` binary still says which source it came from.
func appVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionFrom(version, bi)
}

// versionFrom formats the version from the linked one (version's default
// "dev" means none) and the build information (nil when absent). `go
// install module@v1.2.3` records v1.2.3; a build in a git checkout records
// the revision, its time and whether the tree was modified (and, since Go
// 1.24, a pseudo-version containing the revision).
func versionFrom(linked string, bi *debug.BuildInfo) string {
	if linked != "" && linked != "dev" {
		return linked
	}
	if bi == nil {
		return "dev"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(rev) > 12 {
		rev = rev[:12] // as in Go's pseudo-versions
	}
	v := bi.Main.Version
	dirty := modified == "true" && !strings.HasSuffix(v, "+dirty")
	switch {
	case v == "" || v == "(devel)":
		// Before Go 1.24, or built without VCS information.
		v = "dev"
		if rev != "" {
			v += "-" + rev
		}
		if dirty {
			v += "+dirty"
		}
	case rev != "" && !strings.Contains(v, rev):
		// A tagged checkout: v1.2.0 (revision).
		if dirty {
			rev += "+dirty"
		}
		v += " (" + rev + ")"
	case dirty:
		v += "+dirty"
	}
	return v
}
