// Package ortenv finds the ONNX Runtime shared library and owns the one
// process-wide ONNX Runtime environment.
//
// onnxruntime_go can initialise its environment only once per process, so
// every package that runs a model goes through Init, which is idempotent.
package ortenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// EnvVar names the environment variable that points at the library.
const EnvVar = "SIGNSEG_ORT_LIB"

// MinVersion is the oldest ONNX Runtime that onnxruntime_go v1.27 accepts
// (C API version 24).
const MinVersion = "1.24.0"

// FixHint tells the user how to get the library; it ends every error here.
const FixHint = "run `make setup` in the signseg source tree (or `scripts/setup.sh`), or pass --ort-lib /path/to/libonnxruntime.so.1"

// Library is a located ONNX Runtime shared library.
type Library struct {
	Path   string // absolute path, or a bare name for the system loader
	Source string // which rule found it: "--ort-lib", EnvVar, "next to executable", "working tree", "system loader"
}

// Name returns the platform's file name of the library.
func Name() string {
	switch runtime.GOOS {
	case "windows":
		return "onnxruntime.dll"
	case "darwin":
		return "libonnxruntime.dylib"
	default:
		return "libonnxruntime.so.1"
	}
}

// Find locates the library: flagPath (from --ort-lib), then $SIGNSEG_ORT_LIB,
// then lib/ next to the executable (and in its parent, for bin/signseg), then
// lib/ in the working directory, then the system loader's search path.
// An explicitly given path that does not exist is an error.
func Find(flagPath string) (Library, error) {
	for _, c := range []struct{ path, source string }{{flagPath, "--ort-lib"}, {os.Getenv(EnvVar), EnvVar}} {
		if c.path == "" {
			continue
		}
		abs, err := filepath.Abs(c.path)
		if err != nil {
			return Library{}, fmt.Errorf("ONNX Runtime library %s (from %s): %w", c.path, c.source, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return Library{}, fmt.Errorf("ONNX Runtime library %s (from %s) does not exist; %s", abs, c.source, FixHint)
		}
		return Library{Path: abs, Source: c.source}, nil
	}
	for _, c := range candidates() {
		if _, err := os.Stat(c.Path); err == nil {
			return c, nil
		}
	}
	return Library{Path: Name(), Source: "system loader"}, nil
}

// candidates lists the lib/ folders searched after the flag and variable.
func candidates() []Library {
	var out []Library
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		dir := filepath.Dir(exe)
		out = append(out,
			Library{filepath.Join(dir, "lib", Name()), "next to executable"},
			Library{filepath.Join(dir, "..", "lib", Name()), "next to executable"})
	}
	if wd, err := os.Getwd(); err == nil {
		out = append(out, Library{filepath.Join(wd, "lib", Name()), "working tree"})
	}
	for i := range out {
		out[i].Path = filepath.Clean(out[i].Path)
	}
	return out
}

var (
	mu      sync.Mutex
	initLib *Library
)

// Init initialises the process-wide environment with lib, once. Later calls
// return nil when lib is the library already loaded, and an error otherwise.
func Init(lib Library) error {
	mu.Lock()
	defer mu.Unlock()
	if initLib != nil {
		if initLib.Path != lib.Path {
			return fmt.Errorf("ONNX Runtime already initialised from %s, cannot switch to %s", initLib.Path, lib.Path)
		}
		return nil
	}
	ort.SetSharedLibraryPath(lib.Path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		var tried []string
		if lib.Source == "system loader" {
			for _, c := range candidates() {
				tried = append(tried, c.Path)
			}
			tried = append(tried, lib.Path+" (system loader)")
			return fmt.Errorf("ONNX Runtime library not found (tried %s); %s", strings.Join(tried, ", "), FixHint)
		}
		return fmt.Errorf("load ONNX Runtime %s (from %s): %s; %s", lib.Path, lib.Source, firstLine(err), FixHint)
	}
	if v := ort.GetVersion(); versionLess(v, MinVersion) {
		_ = ort.DestroyEnvironment()
		return fmt.Errorf("ONNX Runtime %s at %s is too old: need %s or newer; %s", v, lib.Path, MinVersion, FixHint)
	}
	l := lib
	initLib = &l
	return nil
}

// Initialised returns the loaded library, if any.
func Initialised() (Library, bool) {
	mu.Lock()
	defer mu.Unlock()
	if initLib == nil {
		return Library{}, false
	}
	return *initLib, true
}

// Version returns the loaded ONNX Runtime's version, or "" before Init.
func Version() string {
	if _, ok := Initialised(); !ok {
		return ""
	}
	return ort.GetVersion()
}

// Close destroys the environment; call it once at process exit.
func Close() error {
	mu.Lock()
	defer mu.Unlock()
	if initLib == nil {
		return nil
	}
	initLib = nil
	return ort.DestroyEnvironment()
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// versionLess compares dotted numeric versions such as "1.24.1".
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			fmt.Sscanf(pa[i], "%d", &x)
		}
		if i < len(pb) {
			fmt.Sscanf(pb[i], "%d", &y)
		}
		if x != y {
			return x < y
		}
	}
	return false
}
