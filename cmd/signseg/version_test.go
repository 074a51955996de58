package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

func TestVersionFrom(t *testing.T) {
	const rev = "9252b874f0ced83024f3342c6629fccd4b1725a9"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-12-01T23:15:31Z"}, {Key: "vcs.modified", Value: modified}}
	}
	info := func(v string, s []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/signseg/signseg", Version: v}, Settings: s}
	}
	tests := []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"make links git describe", "v0.3.0-4-g9252b87-dirty", info("(devel)", vcs("true")), "v0.3.0-4-g9252b87-dirty"},
		{"go build, Go 1.24+ pseudo-version", "dev", info("v0.0.0-20261201231531-9252b874f0ce", vcs("false")), "v0.0.0-20261201231531-9252b874f0ce"},
		{"go build of a modified tree", "dev", info("v0.0.0-20261201231531-9252b874f0ce+dirty", vcs("true")), "v0.0.0-20261201231531-9252b874f0ce+dirty"},
		{"go build of a tagged checkout", "dev", info("v1.2.0", vcs("false")), "v1.2.0 (9252b874f0ce)"},
		{"tagged checkout, modified", "dev", info("v1.2.0+dirty", vcs("true")), "v1.2.0+dirty (9252b874f0ce)"},
		{"older Go: (devel) and the revision", "dev", info("(devel)", vcs("false")), "dev-9252b874f0ce"},
		{"older Go, modified", "dev", info("(devel)", vcs("true")), "dev-9252b874f0ce+dirty"},
		{"go install module@version", "dev", info("v1.2.0", nil), "v1.2.0"},
		{"no VCS information", "dev", info("(devel)", nil), "dev"},
		{"no build information", "dev", nil, "dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionFrom(tc.linked, tc.bi); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVersionOfGoBuild builds signseg with plain `go build` in a git
// checkout of the current source (a fresh repository: this may run in a
// worktree, where Go records no VCS information) and checks that
// --version names the commit, then that a modified tree says so.
func TestVersionOfGoBuild(t *testing.T) {
	git := testenv.Tool(t, "git")
	root := testenv.RepoRoot()
	src := filepath.Join(t.TempDir(), "signseg")
	out, err := exec.Command(git, "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		copyRegular(t, filepath.Join(root, rel), filepath.Join(src, rel))
	}
	gitIn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-C", src, "-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitIn("init", "-q")
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "test")
	rev := gitIn("rev-parse", "HEAD")[:12]

	bin := filepath.Join(t.TempDir(), "signseg")
	versionOf := func() string {
		t.Helper()
		build := exec.Command("go", "build", "-o", bin, "./cmd/signseg")
		build.Dir = src
		// As for a user: the default -buildvcs=auto, whatever this
		// machine's go env says.
		build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("signseg --version: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	v := versionOf()
	if !strings.HasPrefix(v, "signseg version ") || !strings.Contains(v, rev) || strings.Contains(v, "dirty") {
		t.Fatalf("go build, clean tree: %q, want the revision %s", v, rev)
	}
	t.Log(v)
	if err := os.WriteFile(filepath.Join(src, "NOTES.txt"), []byte("local change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := versionOf(); !strings.Contains(v, rev) || !strings.Contains(v, "+dirty") {
		t.Fatalf("go build, modified tree: %q, want the revision %s and +dirty", v, rev)
	}
}

// copyRegular copies the regular file from to to (links and folders are
// skipped: lib/ is a link to the shared ONNX Runtime).
func copyRegular(t *testing.T, from, to string) {
	t.Helper()
	st, err := os.Lstat(from)
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, from, to, st.Mode().Perm())
}
