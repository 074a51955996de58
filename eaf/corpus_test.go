package eaf

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// TestCorpus runs the acceptance check on every EAF of the shared corpus:
// load, byte-identical round trip, add a 50-annotation tier, save, line
// diff, re-load with an independent reader, xmllint verdict.
func TestCorpus(t *testing.T) {
	dir := testenv.SharedDir(t, "corpus/eaf")
	xsds := testenv.SharedDir(t, "corpus/xsd")
	var files []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".eaf") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 20 {
		t.Fatalf("only %d corpus files under %s", len(files), dir)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		t.Run(rel, func(t *testing.T) { checkAddRoundTrip(t, f, xsds) })
	}
}
