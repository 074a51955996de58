package eaf

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchFile writes a ~1 MB ELAN-style EAF (four tiers of hand-made
// annotations) and returns its path.
func benchFile(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "big.eaf")
	d, err := New(NewOptions{VideoPath: filepath.Join(dir, "v.mp4"), EAFPath: path, Date: time.Unix(0, 0).UTC()})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := d.AddTier(TierSpec{ID: fmt.Sprintf("gloss %d", i), Annotator: "Ann", Participant: "S1",
			Segments: testSegments(700, int64(i)*100)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Save(path, SaveOptions{}); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkLoadAddSave measures the batch path on a ~1 MB EAF: read the
// file, add a tier of 1,000 annotations, save atomically (with fsync) to
// another file.
func BenchmarkLoadAddSave(b *testing.B) {
	path := benchFile(b)
	out := filepath.Join(filepath.Dir(path), "out.eaf")
	segs := testSegments(1000, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.AddTier(TierSpec{ID: "signs", Segments: segs}); err != nil {
			b.Fatal(err)
		}
		if err := d.Save(out, SaveOptions{Overwrite: true, NoBackup: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st, _ := os.Stat(path)
	b.ReportMetric(float64(st.Size())/1e6, "MB_input")
}
