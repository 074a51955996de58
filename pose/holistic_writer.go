package pose

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// HolisticHeader returns the header of the .pose files HolisticWriter
// writes: MediaPipe Holistic's POSE_LANDMARKS (33), LEFT_HAND_LANDMARKS
// (21) and RIGHT_HAND_LANDMARKS (21) components as pose-format names them,
// format XYZC, with MediaPipe's skeleton as limbs.
func HolisticHeader(width, height int) Header {
	h := NewHolistic(width, height, 0, 0).Header
	limbs := func(conns [][2]int) []Limb {
		out := make([]Limb, len(conns))
		for i, c := range conns {
			out[i] = Limb{From: c[0], To: c[1]}
		}
		return out
	}
	for i := range h.Components {
		c := &h.Components[i]
		switch c.Name {
		case PoseLandmarks:
			c.Limbs = limbs(PoseConnections)
			c.Colors = []Color{{R: 255, G: 255, B: 255}}
		case LeftHandLandmarks:
			c.Limbs = limbs(HandConnections)
			c.Colors = []Color{{R: 255, G: 60, B: 60}}
		case RightHandLandmarks:
			c.Limbs = limbs(HandConnections)
			c.Colors = []Color{{R: 60, G: 140, B: 255}}
		}
	}
	return h
}

// HolisticWriter streams Frames into a .pose file (version 0.2, one
// person) in constant memory: the coordinates go straight to the file, the
// confidences to a temporary file appended at Close, and the frame count is
// patched in at the end. The file appears under its name only when Close
// succeeds.
//
// Conventions, pose-format's for MediaPipe Holistic: x, y in pixels, z as
// MediaPipe gives it, confidence = visibility for body points and 1 for
// the points of a found hand; a frame without a signer, or a hand not
// found, has coordinates and confidence 0 (missing).
type HolisticWriter struct {
	path, tmp string
	f, conf   *os.File
	w, cw     *bufio.Writer
	framesAt  int64
	frames    int
	err       error
	scratch   []byte
}

// CreateHolistic starts a .pose file at path for a video of the given size
// and frame rate.
func CreateHolistic(path string, width, height int, fps float32) (*HolisticWriter, error) {
	file := &File{Header: HolisticHeader(width, height)}
	file.Body = Body{FPS: fps, People: 1, Points: file.Header.NumPoints(), Dims: file.Header.NumDims()}
	head, err := file.Marshal()
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".signseg-*.pose.tmp")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	conf, err := os.CreateTemp(dir, ".signseg-*.conf.tmp")
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	hw := &HolisticWriter{path: path, tmp: f.Name(), f: f, conf: conf, w: bufio.NewWriter(f), cw: bufio.NewWriter(conf),
		framesAt: int64(len(head) - 6)} // the body ends: frames uint32, people uint16
	if _, err := hw.w.Write(head); err != nil {
		hw.abort()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return hw, nil
}

// Add appends one frame.
func (hw *HolisticWriter) Add(fr Frame) error {
	if hw.err != nil {
		return hw.err
	}
	data := hw.scratch[:0]
	var conf []byte
	le := binary.LittleEndian
	put := func(l Landmark, c float32) {
		data = le.AppendUint32(data, math.Float32bits(l.X))
		data = le.AppendUint32(data, math.Float32bits(l.Y))
		data = le.AppendUint32(data, math.Float32bits(l.Z))
		conf = le.AppendUint32(conf, math.Float32bits(c))
	}
	for _, p := range fr.Pose {
		if fr.Signer {
			put(p, p.Visibility)
		} else {
			put(Landmark{}, 0)
		}
	}
	for _, h := range []Hand{fr.Left, fr.Right} {
		for _, p := range h.Points {
			if fr.Signer && h.Present {
				put(p, 1)
			} else {
				put(Landmark{}, 0)
			}
		}
	}
	hw.scratch = data
	if _, err := hw.w.Write(data); err != nil {
		return hw.fail(err)
	}
	if _, err := hw.cw.Write(conf); err != nil {
		return hw.fail(err)
	}
	hw.frames++
	return nil
}

func (hw *HolisticWriter) fail(err error) error {
	hw.err = fmt.Errorf("write %s: %w", hw.path, err)
	hw.abort()
	return hw.err
}

// abort removes the temporary files.
func (hw *HolisticWriter) abort() {
	hw.f.Close()
	hw.conf.Close()
	os.Remove(hw.tmp)
	os.Remove(hw.conf.Name())
}

// Abort discards the file (for errors and interruptions).
func (hw *HolisticWriter) Abort() {
	if hw.err == nil {
		hw.err = errors.New("pose writer aborted")
		hw.abort()
	}
}

// Frames returns the number of frames added.
func (hw *HolisticWriter) Frames() int { return hw.frames }

// Close finishes the file and moves it to its name.
func (hw *HolisticWriter) Close() error {
	if hw.err != nil {
		return hw.err
	}
	if err := hw.cw.Flush(); err != nil {
		return hw.fail(err)
	}
	if _, err := hw.conf.Seek(0, io.SeekStart); err != nil {
		return hw.fail(err)
	}
	if _, err := io.Copy(hw.w, hw.conf); err != nil {
		return hw.fail(err)
	}
	if err := hw.w.Flush(); err != nil {
		return hw.fail(err)
	}
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(hw.frames))
	if _, err := hw.f.WriteAt(n[:], hw.framesAt); err != nil {
		return hw.fail(err)
	}
	if err := hw.f.Chmod(0o644); err != nil {
		return hw.fail(err)
	}
	if err := hw.f.Close(); err != nil {
		return hw.fail(err)
	}
	hw.conf.Close()
	os.Remove(hw.conf.Name())
	if err := os.Rename(hw.tmp, hw.path); err != nil {
		os.Remove(hw.tmp)
		hw.err = fmt.Errorf("write %s: %w", hw.path, err)
		return hw.err
	}
	hw.err = errors.New("pose writer closed")
	return nil
}
