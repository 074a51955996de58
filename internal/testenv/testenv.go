// Package testenv tells tests where the native tools and shared reference
// files are, and decides whether a test may skip when one is missing.
//
// Under `make test` the variable SIGNSEG_REQUIRE_NATIVE=1 is set: a missing
// ONNX Runtime library, ffmpeg or xmllint then fails the test instead of
// skipping it, so the suite can never turn green by silently skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireNative reports whether missing native tools must fail tests.
func RequireNative() bool { return os.Getenv("SIGNSEG_REQUIRE_NATIVE") == "1" }

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// missing skips the test, or fails it under make test.
func missing(t testing.TB, what, fix string) {
	t.Helper()
	if RequireNative() {
		t.Fatalf("%s is missing (SIGNSEG_REQUIRE_NATIVE=1): %s", what, fix)
	}
	t.Skipf("skipping: %s is missing (%s)", what, fix)
}

// ORTLibrary returns the path of the ONNX Runtime shared library for tests:
// $SIGNSEG_ORT_LIB, else lib/libonnxruntime.so.1 in the repository.
func ORTLibrary(t testing.TB) string {
	t.Helper()
	p := os.Getenv("SIGNSEG_ORT_LIB")
	if p == "" {
		p = filepath.Join(RepoRoot(), "lib", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(p); err != nil {
		missing(t, "ONNX Runtime library "+p, "run scripts/setup.sh or make test")
	}
	return p
}

// Tool returns the path of an executable such as ffmpeg, ffprobe or xmllint.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name, "run scripts/setup.sh with-xmllint or make test")
	}
	return p
}

// SharedDir returns ../shared/<rel> next to the repository, skipping the test
// when it is absent: users do not have it.
func SharedDir(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s is absent (reference files exist only in the development checkout)", p)
	}
	return p
}
