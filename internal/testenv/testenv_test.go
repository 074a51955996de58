package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFixture(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present.json")
	if err := os.WriteFile(present, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		require string // SIGNSEG_REQUIRE_NATIVE
		failed  bool
	}{
		{"present", present, "", false},
		{"missing", filepath.Join(dir, "missing.json"), "", true},
		{"missing under make test", filepath.Join(dir, "missing.json"), "1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SIGNSEG_REQUIRE_NATIVE", tt.require)
			var got string
			failed, skipped, msg := Outcome(t, func(tb testing.TB) { got = Fixture(tb, tt.path, "run make_fixtures.py") })
			if failed != tt.failed || skipped {
				t.Fatalf("failed %v skipped %v (%s), want failed %v and no skip", failed, skipped, msg, tt.failed)
			}
			if tt.failed && !strings.Contains(msg, tt.path) {
				t.Errorf("message %q does not name the file", msg)
			}
			if !tt.failed && got != tt.path {
				t.Errorf("returned %q, want %q", got, tt.path)
			}
		})
	}
}

func TestOutcomeRecordsSkip(t *testing.T) {
	failed, skipped, msg := Outcome(t, func(tb testing.TB) {
		tb.Skipf("absent %d", 1)
		tb.Error("not reached")
	})
	if failed || !skipped || msg != "absent 1" {
		t.Fatalf("failed %v skipped %v msg %q", failed, skipped, msg)
	}
}
