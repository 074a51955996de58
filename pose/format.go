// Package pose reads and writes keypoint files in the open .pose binary
// format of the pose-format project (sign-language-processing/pose), and
// selects and normalises MediaPipe Holistic keypoints from them.
//
// The format, little-endian throughout (pose-format's pose_header.py and
// pose_body.py):
//
//	header: version float32 (0.1 or 0.2); width, height, depth uint16;
//	        component count uint16; per component: name, format (strings),
//	        point, limb and colour counts (uint16 each), the point names
//	        (strings), limbs (2×uint16: point indices), colours (3×uint16 RGB).
//	        A string is a uint16 byte count then that many UTF-8 bytes.
//	body 0.2: fps float32, frames uint32, people uint16, then data float32
//	        [frames][people][points][dims] and confidence float32
//	        [frames][people][points].
//	body 0.1: fps uint16, frames uint16 (ignored: the frame count is what the
//	        remaining bytes hold), people uint16, then data and confidence.
//
// points is the sum of the components' point counts and dims the longest
// format minus one (the format names the dimensions and ends in C for the
// confidence: "XYZC" means 3 dimensions). A point with confidence 0 is
// missing. Write always writes version 0.2.
//
// The package knows nothing of segmenters or annotation documents.
package pose

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Version is the format version Write writes.
const Version float32 = 0.2

// Dimensions is the size of the frame the coordinates refer to.
type Dimensions struct {
	Width, Height, Depth int
}

// Limb joins two points of a component (indices into its Points).
type Limb struct {
	From, To int
}

// Color is an RGB colour (each channel is a uint16 in the file).
type Color struct {
	R, G, B int
}

// Component is a named group of points, such as POSE_LANDMARKS.
type Component struct {
	Name string
	// Format names the dimensions and ends in C for the confidence, for
	// example "XYZC".
	Format string
	Points []string
	Limbs  []Limb
	Colors []Color
}

// Header describes the points of a file.
type Header struct {
	// Version as stored (float32): 0.1 or 0.2 for a file that was read;
	// Write ignores it and writes Version.
	Version    float32
	Dimensions Dimensions
	Components []Component
}

// NumPoints returns the number of points over all components.
func (h *Header) NumPoints() int {
	n := 0
	for _, c := range h.Components {
		n += len(c.Points)
	}
	return n
}

// NumDims returns the number of dimensions per point: the longest format
// minus one (its C), 0 without components.
func (h *Header) NumDims() int {
	d := 0
	for _, c := range h.Components {
		d = max(d, len(c.Format)-1)
	}
	return d
}

// Offset returns the index of the first point of the named component in
// the body's point axis, and the component; ok is false when no component
// has that name.
func (h *Header) Offset(name string) (offset int, c *Component, ok bool) {
	for i := range h.Components {
		if h.Components[i].Name == name {
			return offset, &h.Components[i], true
		}
		offset += len(h.Components[i].Points)
	}
	return 0, nil, false
}

// Body holds the keypoints.
type Body struct {
	FPS float32
	// Frames, People, Points and Dims are the shape of Data; Points and
	// Dims must agree with the header.
	Frames, People, Points, Dims int
	// Data is [Frames][People][Points][Dims] row-major.
	Data []float32
	// Confidence is [Frames][People][Points] row-major; 0 marks a missing
	// point.
	Confidence []float32
}

// Index returns the index in Data of the first dimension of a point.
func (b *Body) Index(frame, person, point int) int {
	return ((frame*b.People+person)*b.Points + point) * b.Dims
}

// File is a whole .pose file.
type File struct {
	Header Header
	Body   Body
}

// ReadFile reads the .pose file at path. Errors name the file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pose file: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Read reads a whole .pose file from r.
func Read(r io.Reader) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read pose file: %w", err)
	}
	return Parse(b)
}

// Parse decodes a .pose file. Errors are one line that says what is wrong
// and where (a truncated file, an unknown version, sizes that do not fit).
func Parse(b []byte) (*File, error) {
	r := &reader{b: b}
	f := &File{}
	h := &f.Header
	h.Version = r.f32("version")
	if r.err != nil {
		return nil, notPose(r.err)
	}
	v := math.Round(float64(h.Version)*1000) / 1000
	if v != 0.1 && v != 0.2 {
		return nil, fmt.Errorf("not a readable .pose file: version %g (this reader knows 0.1 and 0.2)", h.Version)
	}
	h.Dimensions = Dimensions{Width: r.u16("width"), Height: r.u16("height"), Depth: r.u16("depth")}
	nc := r.u16("component count")
	for i := 0; i < nc && r.err == nil; i++ {
		var c Component
		c.Name = r.str("name")
		c.Format = r.str("format")
		np, nl, ncol := r.u16("point count"), r.u16("limb count"), r.u16("colour count")
		for j := 0; j < np && r.err == nil; j++ {
			c.Points = append(c.Points, r.str("point name"))
		}
		for j := 0; j < nl && r.err == nil; j++ {
			c.Limbs = append(c.Limbs, Limb{r.u16("limb"), r.u16("limb")})
		}
		for j := 0; j < ncol && r.err == nil; j++ {
			c.Colors = append(c.Colors, Color{r.u16("colour"), r.u16("colour"), r.u16("colour")})
		}
		if r.err != nil {
			return nil, notPose(fmt.Errorf("header component %d of %d (%q): %w", i+1, nc, c.Name, r.err))
		}
		h.Components = append(h.Components, c)
	}
	if r.err != nil {
		return nil, notPose(r.err)
	}
	body := &f.Body
	body.Points, body.Dims = h.NumPoints(), h.NumDims()
	if body.Dims < 1 {
		return nil, fmt.Errorf("not a readable .pose file: the header has no component with a dimension (formats such as \"XYZC\")")
	}
	perFrame := func(people int) uint64 { return uint64(people) * uint64(body.Points) * uint64(body.Dims+1) * 4 }
	if v == 0.2 {
		body.FPS = r.f32("fps")
		frames := r.u32("frame count")
		body.People = r.u16("people count")
		if r.err != nil {
			return nil, notPose(r.err)
		}
		need := uint64(frames) * perFrame(body.People)
		if have := uint64(len(r.b) - r.off); need != have {
			if need > have {
				return nil, fmt.Errorf("truncated .pose file: the body needs %d bytes for %d frames × %d people × %d points, %d are left", need, frames, body.People, body.Points, have)
			}
			return nil, fmt.Errorf("damaged .pose file: %d bytes after the body of %d frames × %d people × %d points", have-need, frames, body.People, body.Points)
		}
		body.Frames = int(frames)
	} else {
		body.FPS = float32(r.u16("fps"))
		r.u16("frame count") // a uint16 that overflows: the reference reader ignores it too
		body.People = r.u16("people count")
		if r.err != nil {
			return nil, notPose(r.err)
		}
		if pf := perFrame(body.People); pf > 0 {
			body.Frames = int(uint64(len(r.b)-r.off) / pf)
		}
	}
	body.Data = r.f32s(body.Frames * body.People * body.Points * body.Dims)
	body.Confidence = r.f32s(body.Frames * body.People * body.Points)
	if r.err != nil {
		return nil, notPose(r.err)
	}
	return f, nil
}

func notPose(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated or not a .pose file: %w", err)
	}
	return fmt.Errorf("not a readable .pose file: %w", err)
}

// reader decodes little-endian values and keeps the first error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("%s at byte %d: %w", what, r.off, io.ErrUnexpectedEOF)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u16(what string) int {
	p := r.take(2, what)
	if p == nil {
		return 0
	}
	return int(binary.LittleEndian.Uint16(p))
}

func (r *reader) u32(what string) uint32 {
	p := r.take(4, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (r *reader) f32(what string) float32 { return math.Float32frombits(r.u32(what)) }

func (r *reader) str(what string) string {
	n := r.u16(what + " length")
	return string(r.take(n, what))
}

func (r *reader) f32s(n int) []float32 {
	p := r.take(4*n, "float32 values")
	if p == nil {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return out
}

// Validate checks that f can be written: counts fit the format's integer
// sizes and the body's shape agrees with the header.
func (f *File) Validate() error {
	h, b := &f.Header, &f.Body
	const u16 = math.MaxUint16
	d := h.Dimensions
	if d.Width < 0 || d.Width > u16 || d.Height < 0 || d.Height > u16 || d.Depth < 0 || d.Depth > u16 {
		return fmt.Errorf("pose: dimensions %dx%dx%d outside 0..65535", d.Width, d.Height, d.Depth)
	}
	if len(h.Components) > u16 {
		return fmt.Errorf("pose: %d components, at most 65535", len(h.Components))
	}
	for _, c := range h.Components {
		if len(c.Points) > u16 || len(c.Limbs) > u16 || len(c.Colors) > u16 {
			return fmt.Errorf("pose: component %q has more than 65535 points, limbs or colours", c.Name)
		}
		for _, s := range append([]string{c.Name, c.Format}, c.Points...) {
			if len(s) > u16 {
				return fmt.Errorf("pose: component %q: a name longer than 65535 bytes", c.Name)
			}
		}
		for _, l := range c.Limbs {
			if l.From < 0 || l.From > u16 || l.To < 0 || l.To > u16 {
				return fmt.Errorf("pose: component %q: limb %v outside 0..65535", c.Name, l)
			}
		}
		for _, col := range c.Colors {
			if col.R < 0 || col.R > u16 || col.G < 0 || col.G > u16 || col.B < 0 || col.B > u16 {
				return fmt.Errorf("pose: component %q: colour %v outside 0..65535", c.Name, col)
			}
		}
	}
	if h.NumDims() < 1 {
		return errors.New("pose: no component has a dimension (formats such as \"XYZC\")")
	}
	if b.Points != h.NumPoints() || b.Dims != h.NumDims() {
		return fmt.Errorf("pose: body has %d points × %d dims, header %d × %d", b.Points, b.Dims, h.NumPoints(), h.NumDims())
	}
	if b.Frames < 0 || uint64(b.Frames) > math.MaxUint32 || b.People < 0 || b.People > u16 {
		return fmt.Errorf("pose: %d frames × %d people outside the format's range", b.Frames, b.People)
	}
	if len(b.Data) != b.Frames*b.People*b.Points*b.Dims || len(b.Confidence) != b.Frames*b.People*b.Points {
		return fmt.Errorf("pose: %d data and %d confidence values for %d frames × %d people × %d points × %d dims", len(b.Data), len(b.Confidence), b.Frames, b.People, b.Points, b.Dims)
	}
	return nil
}

// Marshal encodes f as a version 0.2 .pose file.
func (f *File) Marshal() ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	h, b := &f.Header, &f.Body
	var w bytes.Buffer
	w.Grow(64 + 4*(len(b.Data)+len(b.Confidence)))
	le := binary.LittleEndian
	u16 := func(v int) { w.Write(le.AppendUint16(nil, uint16(v))) }
	str := func(s string) { u16(len(s)); w.WriteString(s) }
	w.Write(le.AppendUint32(nil, math.Float32bits(Version)))
	u16(h.Dimensions.Width)
	u16(h.Dimensions.Height)
	u16(h.Dimensions.Depth)
	u16(len(h.Components))
	for _, c := range h.Components {
		str(c.Name)
		str(c.Format)
		u16(len(c.Points))
		u16(len(c.Limbs))
		u16(len(c.Colors))
		for _, p := range c.Points {
			str(p)
		}
		for _, l := range c.Limbs {
			u16(l.From)
			u16(l.To)
		}
		for _, col := range c.Colors {
			u16(col.R)
			u16(col.G)
			u16(col.B)
		}
	}
	w.Write(le.AppendUint32(nil, math.Float32bits(b.FPS)))
	w.Write(le.AppendUint32(nil, uint32(b.Frames)))
	u16(b.People)
	buf := make([]byte, 4*(len(b.Data)+len(b.Confidence)))
	for i, v := range b.Data {
		le.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	off := 4 * len(b.Data)
	for i, v := range b.Confidence {
		le.PutUint32(buf[off+4*i:], math.Float32bits(v))
	}
	w.Write(buf)
	return w.Bytes(), nil
}

// Write writes f to w as a version 0.2 .pose file.
func (f *File) Write(w io.Writer) error {
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteFile writes f to path as a version 0.2 .pose file.
func WriteFile(path string, f *File) error {
	b, err := f.Marshal()
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write pose file: %w", err)
	}
	return nil
}
