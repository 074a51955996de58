package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// The crash helper: a child process that replaces a file or folder and
// kills itself (SIGKILL, no deferred clean-up) after a given step.
const (
	envCrashKind = "ATOMICFILE_CRASH_KIND" // file, dir or dir-renames
	envCrashPath = "ATOMICFILE_CRASH_PATH"
	envCrashStep = "ATOMICFILE_CRASH_STEP"
)

func TestMain(m *testing.M) {
	if kind := os.Getenv(envCrashKind); kind != "" {
		os.Exit(crashHelper(kind, os.Getenv(envCrashPath), os.Getenv(envCrashStep)))
	}
	os.Exit(m.Run())
}

func crashHelper(kind, path, step string) int {
	w := writer{hook: func(s string) error {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return nil
	}}
	var err error
	switch kind {
	case "file":
		err = w.write(path, Options{}, func(out io.Writer) error {
			_, err := io.WriteString(out, newContent)
			return err
		})
	case "dir", "dir-renames":
		if kind == "dir-renames" {
			w.exchange = func(a, b string) error { return errNoExchange }
		}
		err = w.replaceDir(path, fillNew)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

const (
	oldContent = "old content\n"
	newContent = "new content, longer than the old one\n"
)

// fillNew writes the new folder: two files and a subfolder.
func fillNew(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "a.onnx"), []byte(newContent), 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "sub", "b.json"), []byte(newContent+"b"), 0o644)
}

// oldTree makes the old folder and returns its listing.
func oldTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.onnx", "old-only.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(oldContent+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tree(t, dir)
}

var newTree = map[string]string{"a.onnx": newContent, "sub/": "", "sub/b.json": newContent + "b"}

// tree lists a folder: relative path → content ("" for folders, named with a
// trailing slash).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// names lists a folder's entries, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name     string
		existing bool
		oldPerm  os.FileMode
		opts     Options
		wantPerm os.FileMode
	}{
		{"new file", false, 0, Options{}, 0o644},
		{"new file with Perm", false, 0, Options{Perm: 0o600}, 0o600},
		{"keeps the old permission bits", true, 0o640, Options{}, 0o640},
		{"Perm overrides the old bits", true, 0o640, Options{Perm: 0o604}, 0o604},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "out.xml")
			if tt.existing {
				if err := os.WriteFile(p, []byte(oldContent), tt.oldPerm); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, tt.oldPerm)
			}
			if err := WriteFile(p, []byte(newContent), tt.opts); err != nil {
				t.Fatal(err)
			}
			if got := readString(t, p); got != newContent {
				t.Errorf("content %q, want %q", got, newContent)
			}
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tt.wantPerm {
				t.Errorf("permission bits %v, want %v", st.Mode().Perm(), tt.wantPerm)
			}
			if got := names(t, dir); len(got) != 1 || got[0] != "out.xml" {
				t.Errorf("folder holds %v, want only out.xml", got)
			}
		})
	}
}

func TestWriteFollowsLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.eaf")
	link := filepath.Join(dir, "link.eaf")
	if err := os.WriteFile(target, []byte(oldContent), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.eaf", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte(newContent), Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", fi, err)
	}
	if got := readString(t, target); got != newContent {
		t.Errorf("target holds %q, want %q", got, newContent)
	}
}

// TestWriteStream writes more than the buffer holds through Write.
func TestWriteStream(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plot.png")
	want := strings.Repeat("0123456789abcdef", 100_000)
	err := Write(p, Options{}, func(w io.Writer) error {
		for i := 0; i < len(want); i += 1000 {
			if _, err := io.WriteString(w, want[i:i+1000]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, p); got != want {
		t.Errorf("%d bytes written, want %d", len(got), len(want))
	}
}

// TestWriteFailureLeavesOld fails each step of a file write and checks that
// the old file is untouched and no temporary file is left.
func TestWriteFailureLeavesOld(t *testing.T) {
	boom := errors.New("injected failure")
	failAt := func(step string) func(string) error {
		return func(s string) error {
			if s == step {
				return boom
			}
			return nil
		}
	}
	tests := []struct {
		name string
		w    writer
		opts Options
		fill func(io.Writer) error
	}{
		{name: "fill fails", fill: func(w io.Writer) error {
			io.WriteString(w, "partial")
			return boom
		}},
		{name: "BeforeRename refuses", opts: Options{BeforeRename: func() error { return boom }}},
		{name: "after writing", w: writer{hook: failAt(stepTempWritten)}},
		{name: "after fsync", w: writer{hook: failAt(stepTempSynced)}},
		{name: "rename fails", w: writer{rename: func(string, string) error { return boom }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "doc.eaf")
			if err := os.WriteFile(p, []byte(oldContent), 0o644); err != nil {
				t.Fatal(err)
			}
			fill := tt.fill
			if fill == nil {
				fill = func(w io.Writer) error {
					_, err := io.WriteString(w, newContent)
					return err
				}
			}
			err := tt.w.write(p, tt.opts, fill)
			if !errors.Is(err, boom) {
				t.Fatalf("error %v, want the injected failure", err)
			}
			if got := readString(t, p); got != oldContent {
				t.Errorf("file holds %q, want the old content", got)
			}
			if got := names(t, dir); len(got) != 1 {
				t.Errorf("left behind: %v", got)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "missing", "x.xml"), []byte("x"), Options{}); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
	if err := WriteFile(dir, []byte("x"), Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("writing over a folder: %v", err)
	}
	if err := WriteFile("", []byte("x"), Options{}); err == nil {
		t.Error("writing to an empty name succeeded")
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
}

func TestReplaceDir(t *testing.T) {
	for _, mode := range []string{"exchange", "renames"} {
		for _, existing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/existing=%v", mode, existing), func(t *testing.T) {
				parent := t.TempDir()
				dest := filepath.Join(parent, "bslcp")
				if existing {
					oldTree(t, dest)
				}
				var steps []string
				w := writer{hook: func(s string) error {
					steps = append(steps, s)
					return nil
				}}
				if mode == "renames" {
					w.exchange = func(a, b string) error { return errNoExchange }
				}
				if err := w.replaceDir(dest, fillNew); err != nil {
					t.Fatal(err)
				}
				if got := tree(t, dest); !sameTree(got, newTree) {
					t.Errorf("folder holds %v, want %v", got, newTree)
				}
				if got := names(t, parent); len(got) != 1 || got[0] != "bslcp" {
					t.Errorf("parent holds %v, want only bslcp", got)
				}
				st, _ := os.Stat(dest)
				if want := map[bool]os.FileMode{false: 0o755, true: 0o750}[existing]; st.Mode().Perm() != want {
					t.Errorf("permission bits %v, want %v", st.Mode().Perm(), want)
				}
				// on Linux an existing folder is swapped in one step
				wantExchange := existing && mode == "exchange" && exchange("", "") != errNoExchange
				if got := strings.Contains(strings.Join(steps, " "), stepExchanged); got != wantExchange {
					t.Errorf("steps %v: exchanged %v, want %v", steps, got, wantExchange)
				}
			})
		}
	}
}

// TestReplaceDirRollback fails each step of a folder replacement, the
// final rename above all, and checks that the old folder is back whole and
// nothing else is left.
func TestReplaceDirRollback(t *testing.T) {
	boom := errors.New("injected failure")
	noExchange := func(a, b string) error { return errNoExchange }
	failAt := func(step string) func(string) error {
		return func(s string) error {
			if s == step {
				return boom
			}
			return nil
		}
	}
	// renameNewFails fails the rename that moves the new folder in.
	renameNewFails := func(from, to string) error {
		if strings.Contains(filepath.Base(from), ".new-") {
			return boom
		}
		return os.Rename(from, to)
	}
	tests := []struct {
		name string
		w    writer
		fill func(string) error
	}{
		{name: "fill fails", fill: func(dir string) error {
			os.WriteFile(filepath.Join(dir, "half"), []byte("x"), 0o644)
			return boom
		}},
		{name: "after filling", w: writer{hook: failAt(stepDirFilled)}},
		{name: "exchange fails", w: writer{exchange: func(a, b string) error { return boom }}},
		{name: "after the exchange", w: writer{hook: failAt(stepExchanged)}},
		{name: "renames: final rename fails", w: writer{exchange: noExchange, rename: renameNewFails}},
		{name: "renames: moving the old folder aside fails", w: writer{exchange: noExchange, rename: func(string, string) error { return boom }}},
		{name: "renames: after moving the old folder", w: writer{exchange: noExchange, hook: failAt(stepOldMoved)}},
		{name: "renames: after the final rename", w: writer{exchange: noExchange, hook: failAt(stepRenamed)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "bslcp")
			old := oldTree(t, dest)
			fill := tt.fill
			if fill == nil {
				fill = fillNew
			}
			err := tt.w.replaceDir(dest, fill)
			if !errors.Is(err, boom) {
				t.Fatalf("error %v, want the injected failure", err)
			}
			if got := tree(t, dest); !sameTree(got, old) {
				t.Errorf("after the failure the folder holds %v, want the old %v", got, old)
			}
			if got := names(t, parent); len(got) != 1 || got[0] != "bslcp" {
				t.Errorf("parent holds %v, want only bslcp", got)
			}
		})
	}
	t.Run("new folder, final rename fails", func(t *testing.T) {
		parent := t.TempDir()
		dest := filepath.Join(parent, "bslcp")
		err := writer{rename: renameNewFails}.replaceDir(dest, fillNew)
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want the injected failure", err)
		}
		if got := names(t, parent); len(got) != 0 {
			t.Errorf("parent holds %v, want nothing", got)
		}
	})
}

func TestReplaceDirErrors(t *testing.T) {
	parent := t.TempDir()
	file := filepath.Join(parent, "file")
	os.WriteFile(file, []byte(oldContent), 0o644)
	if err := ReplaceDir(file, fillNew); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("replacing a file: %v", err)
	}
	if err := ReplaceDir(filepath.Join(parent, "missing", "m"), fillNew); err == nil {
		t.Error("replacing into a missing folder succeeded")
	}
	if got := readString(t, file); got != oldContent {
		t.Errorf("file changed to %q", got)
	}
	if got := names(t, parent); len(got) != 1 {
		t.Errorf("parent holds %v", got)
	}
}

// TestCrash kills a process right after each step of a write and checks
// that the destination holds the old version or the new one, whole.
func TestCrash(t *testing.T) {
	type crash struct {
		kind, step string
		wantNew    bool // the new version must be in place
	}
	var tests []crash
	for _, s := range []string{stepTempWritten, stepTempSynced} {
		tests = append(tests, crash{"file", s, false})
	}
	tests = append(tests, crash{"file", stepRenamed, true})
	tests = append(tests, crash{"dir", stepDirFilled, false},
		crash{"dir-renames", stepDirFilled, false}, crash{"dir-renames", stepRenamed, true})
	if exchange("", "") != errNoExchange {
		tests = append(tests, crash{"dir", stepExchanged, true})
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.step, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			var old map[string]string
			if tt.kind == "file" {
				if err := os.WriteFile(dest, []byte(oldContent), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				old = oldTree(t, dest)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envCrashKind+"="+tt.kind, envCrashPath+"="+dest, envCrashStep+"="+tt.step)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the helper was not killed: %v\n%s", err, out)
			}
			if tt.kind == "file" {
				got := readString(t, dest)
				if want := map[bool]string{false: oldContent, true: newContent}[tt.wantNew]; got != want {
					t.Errorf("after the kill the file holds %q, want %q", got, want)
				}
				return
			}
			want := map[bool]map[string]string{false: old, true: newTree}[tt.wantNew]
			if got := tree(t, dest); !sameTree(got, want) {
				t.Errorf("after the kill the folder holds %v, want %v", got, want)
			}
		})
	}
}

// TestCrashBetweenRenames documents the one window of the two-rename
// fallback: killed after moving the old folder aside, the destination is
// missing but the old folder is whole under its hidden name.
func TestCrashBetweenRenames(t *testing.T) {
	parent := t.TempDir()
	dest := filepath.Join(parent, "dest")
	old := oldTree(t, dest)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashKind+"=dir-renames", envCrashPath+"="+dest, envCrashStep+"="+stepOldMoved)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("the helper was not killed:\n%s", out)
	}
	var found bool
	for _, n := range names(t, parent) {
		if strings.HasPrefix(n, ".dest.old-") {
			found = sameTree(tree(t, filepath.Join(parent, n)), old)
		}
	}
	if !found {
		t.Errorf("the old folder is not whole under .dest.old-*: %v", names(t, parent))
	}
}
