// Package testenv tells tests where the native tools and shared reference
// files are, and decides whether a test may skip when one is missing.
//
// Under `make test` the variable SIGNSEG_REQUIRE_NATIVE=1 is set: a missing
// ONNX Runtime library, ffmpeg or xmllint then fails the test instead of
// skipping it, so the suite can never turn green by silently skipping.
package testenv

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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

// Fixture returns path, a test fixture committed to the repository, and
// fails the test when it is missing: a committed fixture is part of the
// checkout, so its absence is a broken checkout, never a reason to skip
// (with or without SIGNSEG_REQUIRE_NATIVE). regenerate says how to make it
// again, e.g. the script that wrote it.
func Fixture(t testing.TB, path, regenerate string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("committed fixture %s is missing (%v): restore it with git checkout, or %s", path, err, regenerate)
	}
	return path
}

// Outcome runs f with a stand-in for t and reports whether f failed or
// skipped (Fatal and Skip end f as they end a test) and what it said, so
// that tests can check that a helper fails rather than skips.
func Outcome(t testing.TB, f func(testing.TB)) (failed, skipped bool, msg string) {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failed, r.skipped, strings.Join(r.msgs, "\n")
}

// recorder is a testing.TB that records failures and skips instead of
// reporting them; other calls go to the real test.
type recorder struct {
	testing.TB
	failed, skipped bool
	msgs            []string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Log(args ...any)              { r.msgs = append(r.msgs, fmt.Sprint(args...)) }
func (r *recorder) Logf(format string, a ...any) { r.msgs = append(r.msgs, fmt.Sprintf(format, a...)) }
func (r *recorder) Fail()                        { r.failed = true }
func (r *recorder) FailNow()                     { r.failed = true; runtime.Goexit() }
func (r *recorder) Failed() bool                 { return r.failed }
func (r *recorder) Error(args ...any)            { r.Log(args...); r.Fail() }
func (r *recorder) Errorf(format string, a ...any) {
	r.Logf(format, a...)
	r.Fail()
}
func (r *recorder) Fatal(args ...any)              { r.Log(args...); r.FailNow() }
func (r *recorder) Fatalf(format string, a ...any) { r.Logf(format, a...); r.FailNow() }
func (r *recorder) SkipNow()                       { r.skipped = true; runtime.Goexit() }
func (r *recorder) Skipped() bool                  { return r.skipped }
func (r *recorder) Skip(args ...any)               { r.Log(args...); r.SkipNow() }
func (r *recorder) Skipf(format string, a ...any)  { r.Logf(format, a...); r.SkipNow() }

// MaxAbsDiff returns max |a[i] − b[i]|, the measure of the parity tests;
// +Inf when the lengths differ or a difference is NaN, so that a tolerance
// check fails.
func MaxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}
