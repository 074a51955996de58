package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/signseg/signseg/segment"
)

func testFeatures(dim, rows int) *segment.Features {
	fe := &segment.Features{Data: make([]float32, dim*rows), Dim: dim, Offset: 1, Frames: rows + 2, FPS: 25, StartMS: 40}
	for i := range fe.Data {
		fe.Data[i] = float32(i%977)*0.001 - 0.3
	}
	fe.Data[0], fe.Data[1] = float32(math.Inf(-1)), -0
	return fe
}

// TestFeatureCache writes features and reads them back bit for bit, and
// refuses files that are damaged, cut short or someone else's.
func TestFeatureCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.features")
	fe := testFeatures(7, 3*chunk/7+5) // more than one chunk, not a whole number of them
	if err := writeFeatureCache(path, "sum", "id", fe); err != nil {
		t.Fatal(err)
	}
	got, err := readFeatureCache(path, "sum", "id", 7)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got.Data, fe.Data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) ||
		got.Dim != fe.Dim || got.Offset != fe.Offset || got.Frames != fe.Frames || got.FPS != fe.FPS || got.StartMS != fe.StartMS {
		t.Errorf("read back %+v (data equal: %v), wrote %+v", *got, slices.Equal(got.Data, fe.Data), *fe)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flip := slices.Clone(good)
	flip[len(flip)/2] ^= 4
	for _, tc := range []struct {
		name        string
		data        []byte
		sum, id     string
		dim         int
		wantErrPart string
	}{
		{"other video", good, "other", "id", 7, "not the features of this video"},
		{"other model", good, "sum", "other", 7, "not the features of this video"},
		{"other dim", good, "sum", "id", 8, "not the features of this video"},
		{"empty", nil, "sum", "id", 7, "not a signseg feature cache"},
		{"first format", []byte("\x1f\xff\x81\x03\x01\x01\x10featureCacheFile"), "sum", "id", 7, "not a signseg feature cache"},
		{"truncated", good[:len(good)-9], "sum", "id", 7, "truncated"},
		{"one byte more", append(slices.Clone(good), 0), "sum", "id", 7, "truncated"},
		{"flipped byte", flip, "sum", "id", 7, "checksum"},
		{"header length only", []byte(featureCacheMagic + "\xff\xff\xff\x7f"), "sum", "id", 7, "header length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readFeatureCache(p, tc.sum, tc.id, tc.dim)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.wantErrPart)) || !bytes.Contains([]byte(err.Error()), []byte(p)) {
				t.Errorf("error %v, want one naming %s and saying %q", err, p, tc.wantErrPart)
			}
		})
	}
}

func FuzzFeatureCache(f *testing.F) {
	path := filepath.Join(f.TempDir(), "a.features")
	if err := writeFeatureCache(path, "sum", "id", testFeatures(3, 10)); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(featureCacheMagic + "\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fe, err := parseFeatureCache(bytes.NewReader(data), int64(len(data)), "sum", "id", 3)
		if err == nil && (fe.Dim != 3 || len(fe.Data) == 0 || len(fe.Data)%3 != 0) {
			t.Errorf("accepted features %+v", fe)
		}
	})
}

// BenchmarkFeatureCacheRead reads back the cached features of 10 minutes
// of video with the hands model's 300 values per frame, as training does
// for every file in every epoch; MB/s is of float32 feature data.
func BenchmarkFeatureCacheRead(b *testing.B) {
	const dim, rows = 300, 10 * 60 * 25
	path := filepath.Join(b.TempDir(), "f.features")
	fe := testFeatures(dim, rows)
	if err := writeFeatureCache(path, "sum", "id", fe); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(fe.Data)))
	for b.Loop() {
		if _, err := readFeatureCache(path, "sum", "id", dim); err != nil {
			b.Fatal(err)
		}
	}
}
