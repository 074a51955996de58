package ortenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

func TestFindOrder(t *testing.T) {
	dir := t.TempDir()
	flagLib := filepath.Join(dir, "flag.so")
	envLib := filepath.Join(dir, "env.so")
	for _, p := range []string{flagLib, envLib} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wd := t.TempDir()
	if err := os.MkdirAll(filepath.Join(wd, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	wdLib := filepath.Join(wd, "lib", Name())
	if err := os.WriteFile(wdLib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)

	tests := []struct {
		name, flag, env string
		wantPath        string
		wantSource      string
	}{
		{"flag wins", flagLib, envLib, flagLib, "--ort-lib"},
		{"env next", "", envLib, envLib, EnvVar},
		{"working tree", "", "", wdLib, "working tree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvVar, tc.env)
			lib, err := Find(tc.flag)
			if err != nil {
				t.Fatal(err)
			}
			if lib.Path != tc.wantPath || lib.Source != tc.wantSource {
				t.Fatalf("Find = %+v, want %s from %s", lib, tc.wantPath, tc.wantSource)
			}
		})
	}

	t.Run("system loader last", func(t *testing.T) {
		t.Setenv(EnvVar, "")
		t.Chdir(t.TempDir())
		lib, err := Find("")
		if err != nil {
			t.Fatal(err)
		}
		// The test binary's folder has no lib/, so only the loader is left.
		if lib.Source != "system loader" || lib.Path != Name() {
			t.Fatalf("Find = %+v, want the bare name for the system loader", lib)
		}
	})
	t.Run("missing explicit path", func(t *testing.T) {
		t.Setenv(EnvVar, "")
		_, err := Find(filepath.Join(dir, "nope.so"))
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "make setup") {
			t.Fatalf("err = %v, want a 'does not exist' error naming the fix", err)
		}
	})
}

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1.23.2", "1.24.0", true},
		{"1.24.0", "1.24.0", false},
		{"1.24.1", "1.24.0", false},
		{"1.9", "1.24", true},
		{"2.0", "1.24.0", false},
	}
	for _, tc := range tests {
		if got := versionLess(tc.a, tc.b); got != tc.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestInitOnce(t *testing.T) {
	path := testenv.ORTLibrary(t)
	if err := Init(Library{Path: filepath.Join(t.TempDir(), "missing.so"), Source: "test"}); err == nil {
		t.Fatal("Init with a missing library succeeded")
	} else if !strings.Contains(err.Error(), "make setup") {
		t.Fatalf("error %q does not say how to fix it", err)
	}
	lib := Library{Path: path, Source: "test"}
	if err := Init(lib); err != nil {
		t.Fatal(err)
	}
	if err := Init(lib); err != nil {
		t.Fatalf("second Init with the same library: %v", err)
	}
	if v := Version(); v != "1.24.1" && versionLess(v, MinVersion) {
		t.Fatalf("Version() = %q", v)
	}
	if err := Init(Library{Path: path + ".other", Source: "test"}); err == nil {
		t.Fatal("Init with another library after initialisation succeeded")
	}
}
