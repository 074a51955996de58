package pose

import (
	"errors"
	"fmt"
	"math"
)

// Component names of MediaPipe Holistic keypoints as pose-format writes
// them.
const (
	PoseLandmarks      = "POSE_LANDMARKS"
	LeftHandLandmarks  = "LEFT_HAND_LANDMARKS"
	RightHandLandmarks = "RIGHT_HAND_LANDMARKS"
)

// HolisticPoints is the number of points Holistic selects: 33 body, 21
// left-hand and 21 right-hand points, in that order.
const HolisticPoints = 33 + 21 + 21

// PoseLandmarkNames returns MediaPipe's 33 body landmark names in index
// order (pose-format uses the same names).
func PoseLandmarkNames() []string {
	return []string{"NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
		"RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER",
		"LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX",
		"RIGHT_INDEX", "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE",
		"RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"}
}

// HandLandmarkNames returns MediaPipe's 21 hand landmark names in index
// order.
func HandLandmarkNames() []string {
	return []string{"WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP",
		"INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP",
		"MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP",
		"RING_FINGER_TIP", "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"}
}

// NewHolistic returns an empty file (all points missing) with the three
// Holistic components (format XYZC, MediaPipe's point names, no limbs) for
// frames frames of one person, to be filled with a pipeline's keypoints.
//
// Conventions, those of pose-format's 2023 MediaPipe writer: x and y in
// pixels (MediaPipe's normalised x·width and y·height), z as MediaPipe gives
// it (not scaled), confidence > 0 for a detected point (MediaPipe's
// visibility for body points, 1 for hand points), and 0 with coordinates 0
// for a missing one. Use Set to fill a point.
func NewHolistic(width, height int, fps float32, frames int) *File {
	comp := func(name string, points []string) Component {
		return Component{Name: name, Format: "XYZC", Points: points}
	}
	n := HolisticPoints
	return &File{
		Header: Header{Version: Version, Dimensions: Dimensions{Width: width, Height: height},
			Components: []Component{comp(PoseLandmarks, PoseLandmarkNames()),
				comp(LeftHandLandmarks, HandLandmarkNames()), comp(RightHandLandmarks, HandLandmarkNames())}},
		Body: Body{FPS: fps, Frames: frames, People: 1, Points: n, Dims: 3,
			Data: make([]float32, frames*n*3), Confidence: make([]float32, frames*n)},
	}
}

// Set stores one point of person 0 given in MediaPipe's normalised
// coordinates (x, y in [0,1] of the frame, z as is): x·width and y·height
// as NewHolistic documents. conf must be > 0 (a missing point is left
// unset).
func (f *File) Set(frame, point int, x, y, z, conf float32) error {
	b := &f.Body
	if frame < 0 || frame >= b.Frames || point < 0 || point >= b.Points || b.People < 1 || b.Dims < 3 {
		return fmt.Errorf("pose: point %d of frame %d outside %d frames × %d points", point, frame, b.Frames, b.Points)
	}
	if !(conf > 0) {
		return fmt.Errorf("pose: confidence %g of frame %d point %d must be > 0", conf, frame, point)
	}
	i := b.Index(frame, 0, point)
	b.Data[i] = x * float32(f.Header.Dimensions.Width)
	b.Data[i+1] = y * float32(f.Header.Dimensions.Height)
	b.Data[i+2] = z
	b.Confidence[(frame*b.People)*b.Points+point] = conf
	return nil
}

// Keypoints are selected points of every person: Data
// [Frames][People][Points][Dims] and Confidence [Frames][People][Points],
// row-major (confidence 0: missing).
type Keypoints struct {
	Frames, People, Points, Dims int
	FPS                          float32
	Data                         []float32
	Confidence                   []float32
	// Names are the points' names within their components, in order.
	Names []string
}

// Person returns the keypoints of one person (People = 1).
func (k *Keypoints) Person(p int) (*Keypoints, error) {
	if p < 0 || p >= k.People {
		return nil, fmt.Errorf("the keypoints have %d people, no person %d", k.People, p)
	}
	out := &Keypoints{Frames: k.Frames, People: 1, Points: k.Points, Dims: k.Dims, FPS: k.FPS, Names: k.Names,
		Data: make([]float32, k.Frames*k.Points*k.Dims), Confidence: make([]float32, k.Frames*k.Points)}
	n := k.Points * k.Dims
	for t := 0; t < k.Frames; t++ {
		copy(out.Data[t*n:(t+1)*n], k.Data[(t*k.People+p)*n:])
		copy(out.Confidence[t*k.Points:(t+1)*k.Points], k.Confidence[(t*k.People+p)*k.Points:])
	}
	return out, nil
}

// Select returns the points of the named components, in the order the
// names are given (not the file's), for every person.
func (f *File) Select(components ...string) (*Keypoints, error) {
	b := &f.Body
	var idx []int
	k := &Keypoints{Frames: b.Frames, People: b.People, Dims: b.Dims, FPS: b.FPS}
	for _, name := range components {
		off, c, ok := f.Header.Offset(name)
		if !ok {
			var have []string
			for _, c := range f.Header.Components {
				have = append(have, c.Name)
			}
			return nil, fmt.Errorf("the pose file has no component %s (it has %v); it must come from MediaPipe Holistic", name, have)
		}
		for i := range c.Points {
			idx = append(idx, off+i)
		}
		k.Names = append(k.Names, c.Points...)
	}
	k.Points = len(idx)
	k.Data = make([]float32, k.Frames*k.People*k.Points*k.Dims)
	k.Confidence = make([]float32, k.Frames*k.People*k.Points)
	for t := 0; t < k.Frames; t++ {
		for q := 0; q < k.People; q++ {
			row := t*k.People + q
			for j, p := range idx {
				src := b.Index(t, q, p)
				copy(k.Data[(row*k.Points+j)*k.Dims:(row*k.Points+j+1)*k.Dims], b.Data[src:src+b.Dims])
				k.Confidence[row*k.Points+j] = b.Confidence[row*b.Points+p]
			}
		}
	}
	return k, nil
}

// Holistic selects the 75 points the 2023 pose segmenter reads (33 body,
// 21 left-hand, 21 right-hand points) by component name, for every person,
// and checks their counts and that there are 3 dimensions.
func (f *File) Holistic() (*Keypoints, error) {
	k, err := f.Select(PoseLandmarks, LeftHandLandmarks, RightHandLandmarks)
	if err != nil {
		return nil, err
	}
	if k.Points != HolisticPoints || k.Dims != 3 {
		return nil, fmt.Errorf("the pose file's Holistic components have %d points × %d dimensions, want %d × 3 (33 body, 21 per hand, XYZ)", k.Points, k.Dims, HolisticPoints)
	}
	return k, nil
}

// ShoulderNorm says how NormalizeShoulders normalises: the two shoulder
// points and the points it sets to 0 afterwards (indices into the
// keypoints).
type ShoulderNorm struct {
	Left, Right int
	Zero        []int
}

// HolisticShoulderNorm is the normalisation of the 2023 segmenter for
// Holistic keypoints: shoulders 11 and 12, and the 8 knee, ankle, heel and
// foot points (25-32) zeroed; the hips are kept.
func HolisticShoulderNorm() ShoulderNorm {
	return ShoulderNorm{Left: 11, Right: 12, Zero: []int{25, 26, 27, 28, 29, 30, 31, 32}}
}

// ErrNoShoulders is returned by NormalizeShoulders when no frame shows both
// shoulders.
var ErrNoShoulders = errors.New("no frame shows both shoulders: cannot normalise the keypoints (is there a person in the video?)")

// NormalizeShoulders returns a copy of k normalised as pose-format's
// Pose.normalize with the shoulders, then pose_hide_legs, did for the 2023
// segmenter:
//
//   - center is the mean shoulder midpoint and scale the mean (Euclidean,
//     all dimensions) shoulder distance, over every frame and person where
//     both shoulders are present (confidence ≠ 0);
//   - a present point becomes (p − center) / scale;
//   - a missing point (confidence 0) becomes 0 (pose-format keeps its stored
//     value, which its MediaPipe writer stores as 0);
//   - the points in n.Zero become 0 (their confidence is kept).
//
// Means are taken in float64. The segmenter then reads person 0 (Person).
func NormalizeShoulders(k *Keypoints, n ShoulderNorm) (*Keypoints, error) {
	if k.Frames <= 0 || k.People <= 0 {
		return nil, fmt.Errorf("no keypoints to normalise (%d frames, %d people)", k.Frames, k.People)
	}
	if n.Left < 0 || n.Left >= k.Points || n.Right < 0 || n.Right >= k.Points || k.Dims < 1 {
		return nil, fmt.Errorf("shoulder points %d, %d outside the %d keypoints", n.Left, n.Right, k.Points)
	}
	rows := k.Frames * k.People
	if len(k.Data) != rows*k.Points*k.Dims || len(k.Confidence) != rows*k.Points {
		return nil, fmt.Errorf("keypoints: %d values and %d confidences for %d frames × %d people × %d points × %d dims", len(k.Data), len(k.Confidence), k.Frames, k.People, k.Points, k.Dims)
	}
	for _, p := range n.Zero {
		if p < 0 || p >= k.Points {
			return nil, fmt.Errorf("point %d to zero is outside the %d keypoints", p, k.Points)
		}
	}
	D := k.Dims
	center := make([]float64, D)
	var dist float64
	count := 0
	for r := 0; r < rows; r++ {
		if k.Confidence[r*k.Points+n.Left] == 0 || k.Confidence[r*k.Points+n.Right] == 0 {
			continue
		}
		l := k.Data[(r*k.Points+n.Left)*D:]
		rt := k.Data[(r*k.Points+n.Right)*D:]
		var sq float64
		for d := 0; d < D; d++ {
			center[d] += (float64(l[d]) + float64(rt[d])) / 2
			diff := float64(l[d]) - float64(rt[d])
			sq += diff * diff
		}
		dist += math.Sqrt(sq)
		count++
	}
	if count == 0 {
		return nil, ErrNoShoulders
	}
	dist /= float64(count)
	if !(dist > 0) || math.IsInf(dist, 0) {
		return nil, fmt.Errorf("the mean shoulder distance is %g: cannot normalise the keypoints", dist)
	}
	for d := range center {
		center[d] /= float64(count)
	}
	out := *k
	out.Data = make([]float32, len(k.Data))
	out.Confidence = append([]float32(nil), k.Confidence...)
	for r := 0; r < rows; r++ {
		for p := 0; p < k.Points; p++ {
			if k.Confidence[r*k.Points+p] == 0 {
				continue
			}
			i := (r*k.Points + p) * D
			for d := 0; d < D; d++ {
				out.Data[i+d] = float32((float64(k.Data[i+d]) - center[d]) / dist)
			}
		}
		for _, p := range n.Zero {
			clear(out.Data[(r*k.Points+p)*D : (r*k.Points+p+1)*D])
		}
	}
	return &out, nil
}
