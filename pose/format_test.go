package pose

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// smallFile builds a file with two components of different formats, limbs,
// colours, a non-ASCII point name and 2 people.
func smallFile() *File {
	f := &File{
		Header: Header{Version: Version, Dimensions: Dimensions{Width: 640, Height: 480, Depth: 3},
			Components: []Component{
				{Name: "BODY", Format: "XYZC", Points: []string{"A", "B", "Ç"},
					Limbs: []Limb{{0, 1}, {1, 2}}, Colors: []Color{{255, 0, 0}, {0, 65535, 7}}},
				{Name: "HAND", Format: "XYC", Points: []string{"W", "T"}, Limbs: []Limb{{0, 1}}},
			}},
		Body: Body{FPS: 29.97, Frames: 4, People: 2, Points: 5, Dims: 3},
	}
	n := f.Body.Frames * f.Body.People * f.Body.Points
	for i := 0; i < n*3; i++ {
		f.Body.Data = append(f.Body.Data, float32(i)*0.25-7)
	}
	for i := 0; i < n; i++ {
		f.Body.Confidence = append(f.Body.Confidence, float32(i%3)/2)
	}
	return f
}

func TestRoundTripSmall(t *testing.T) {
	f := smallFile()
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", g, f)
	}
	b2, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatal("second write differs from the first")
	}
	// One value checked by position: frame 2, person 1, point 4, dim 1.
	i := f.Body.Index(2, 1, 4) + 1
	if want := float32(i)*0.25 - 7; g.Body.Data[i] != want {
		t.Errorf("data[%d] = %g, want %g", i, g.Body.Data[i], want)
	}
	if g.Header.NumPoints() != 5 || g.Header.NumDims() != 3 {
		t.Errorf("points, dims = %d, %d; want 5, 3", g.Header.NumPoints(), g.Header.NumDims())
	}
}

// marshalV01 writes f in the version 0.1 layout (uint16 fps and frames).
func marshalV01(t *testing.T, f *File) []byte {
	t.Helper()
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	hdr := len(b) - 4*(len(f.Body.Data)+len(f.Body.Confidence)) - 10
	out := append([]byte(nil), b[:hdr]...)
	binary.LittleEndian.PutUint32(out, math.Float32bits(0.1))
	out = binary.LittleEndian.AppendUint16(out, uint16(f.Body.FPS))
	out = binary.LittleEndian.AppendUint16(out, 9999) // ignored, as by the reference reader
	out = binary.LittleEndian.AppendUint16(out, uint16(f.Body.People))
	return append(out, b[hdr+10:]...)
}

func TestReadV01(t *testing.T) {
	f := smallFile()
	f.Body.FPS = 25
	g, err := Parse(marshalV01(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(g.Header.Version)-0.1) > 1e-6 {
		t.Errorf("version %g, want 0.1", g.Header.Version)
	}
	g.Header.Version = Version
	if !reflect.DeepEqual(f, g) {
		t.Fatalf("v0.1 read differs:\n got %+v\nwant %+v", g.Body, f.Body)
	}
}

func TestExampleRoundTrip(t *testing.T) {
	path := filepath.Join(testenv.SharedDir(t, "models/slp-2023"), "example.pose")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range f.Header.Components {
		names = append(names, c.Name)
	}
	t.Logf("example.pose: version %g, %v, %d frames at %g fps, %d people, %d points × %d dims, components %v",
		f.Header.Version, f.Header.Dimensions, f.Body.Frames, f.Body.FPS, f.Body.People, f.Body.Points, f.Body.Dims, names)
	want := []string{"POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS", "POSE_WORLD_LANDMARKS"}
	if !reflect.DeepEqual(names, want) || f.Body.Frames != 130 || f.Body.Points != 576 || f.Body.Dims != 3 ||
		f.Header.Dimensions != (Dimensions{320, 240, 0}) || f.Body.FPS != 30 {
		t.Errorf("example.pose does not read as SOURCES.md describes it")
	}
	out, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, raw) {
		t.Fatalf("rewritten example.pose differs from the original (%d vs %d bytes)", len(out), len(raw))
	}
}

func TestReadFileErrors(t *testing.T) {
	full, err := smallFile().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	badVersion := append([]byte(nil), full...)
	binary.LittleEndian.PutUint32(badVersion, math.Float32bits(0.3))
	noDimsBytes := func() []byte {
		// Validate refuses it, so write the header by hand.
		b := binary.LittleEndian.AppendUint32(nil, math.Float32bits(0.2))
		b = append(b, 0, 0, 0, 0, 0, 0, 1, 0)
		b = append(b, 1, 0, 'X', 1, 0, 'C', 0, 0, 0, 0, 0, 0)
		return b
	}()
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"text", []byte("hello, this is not a pose file at all"), "version"},
		{"version 0.3", badVersion, "version 0.3"},
		{"cut in the header", full[:30], "truncated"},
		{"cut in the body", full[:len(full)-3], "truncated"},
		{"trailing bytes", append(append([]byte(nil), full...), 1, 2, 3, 4), "damaged"},
		{"no dimensions", noDimsBytes, "no component with a dimension"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".pose")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(p)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, p+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting with the path and containing %q", msg, c.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "absent.pose")); err == nil {
		t.Error("no error for a missing file")
	}
}

// Every prefix of a valid file is an error, never a panic or a success.
func TestEveryTruncation(t *testing.T) {
	full, err := smallFile().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(full); n++ {
		if _, err := Parse(full[:n]); err == nil {
			t.Fatalf("prefix of %d/%d bytes parsed without error", n, len(full))
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(f *File)
		want string
	}{
		{"width", func(f *File) { f.Header.Dimensions.Width = 70000 }, "dimensions"},
		{"points", func(f *File) { f.Body.Points = 4 }, "body has 4 points"},
		{"data", func(f *File) { f.Body.Data = f.Body.Data[1:] }, "data and"},
		{"limb", func(f *File) { f.Header.Components[0].Limbs[0].To = -1 }, "limb"},
		{"colour", func(f *File) { f.Header.Components[0].Colors[0].G = 1 << 16 }, "colour"},
		{"people", func(f *File) { f.Body.People = -1 }, "people"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := smallFile()
			c.edit(f)
			_, err := f.Marshal()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Marshal error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// FuzzParse: the reader never panics, and what it reads writes back to
// bytes that read to the same file.
func FuzzParse(f *testing.F) {
	small, err := smallFile().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add(small[:40])
	if synth, err := os.ReadFile(filepath.Join("testdata", "holistic_synth.pose")); err == nil {
		f.Add(synth[:2000])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatalf("a file that parsed does not write: %v", err)
		}
		q, err := Parse(b)
		if err != nil {
			t.Fatalf("written file does not parse: %v", err)
		}
		b2, err := q.Marshal()
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("write-read-write is not stable (%v)", err)
		}
	})
}
