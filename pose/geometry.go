package pose

import (
	"math"
	"sort"
)

// The geometry of MediaPipe's graphs (calculators in mediapipe/calculators
// and the .pbtxt options of mediapipe/modules/{pose_detection,
// pose_landmark, holistic_landmark, hand_landmark}), written here in video
// pixels instead of coordinates normalised by the frame size. For the square
// (in pixels) regions every Holistic stage uses, both are the same
// computation.

// Rect is a rotated rectangle in video pixels: centre, size and a clockwise
// rotation in radians (y points down), MediaPipe's NormalizedRect scaled
// to pixels.
type Rect struct {
	CX, CY, W, H float64
	Rotation     float64
}

// Point is a 2-D point in video pixels.
type Point struct{ X, Y float64 }

// normalizeRadians maps an angle to [−π, π), as MediaPipe's
// NormalizeRadians does.
func normalizeRadians(a float64) float64 {
	return a - 2*math.Pi*math.Floor((a+math.Pi)/(2*math.Pi))
}

// alignmentRect is AlignmentPointsRectsCalculator: a square centred on
// start whose side is twice the distance from start to end, rotated so
// that start→end points at targetDeg (90: up).
func alignmentRect(start, end Point, targetDeg float64) Rect {
	d := math.Hypot(end.X-start.X, end.Y-start.Y) * 2
	return Rect{CX: start.X, CY: start.Y, W: d, H: d, Rotation: rotationTo(start, end, targetDeg)}
}

// rotationTo is DetectionsToRectsCalculator's ComputeRotation: the rotation
// that turns the vector a→b to the target angle (degrees, counter-clockwise
// from +x with y up).
func rotationTo(a, b Point, targetDeg float64) float64 {
	return normalizeRadians(targetDeg*math.Pi/180 - math.Atan2(-(b.Y-a.Y), b.X-a.X))
}

// rectTransform is RectTransformationCalculator with square_long: shift
// (fractions of the size, along the rectangle's own axes), make it square
// on its long side, then scale.
func rectTransform(r Rect, scaleX, scaleY, shiftX, shiftY float64) Rect {
	if r.Rotation == 0 {
		r.CX += r.W * shiftX
		r.CY += r.H * shiftY
	} else {
		c, s := math.Cos(r.Rotation), math.Sin(r.Rotation)
		r.CX += r.W*shiftX*c - r.H*shiftY*s
		r.CY += r.W*shiftX*s + r.H*shiftY*c
	}
	long := math.Max(r.W, r.H)
	r.W, r.H = long*scaleX, long*scaleY
	return r
}

// toImage maps a point given in [0,1]² of the rectangle's own frame (as a
// model's output normalised by its input size) to video pixels:
// LandmarkProjectionCalculator.
func (r Rect) toImage(u, v float64) Point {
	x, y := (u-0.5)*r.W, (v-0.5)*r.H
	c, s := math.Cos(r.Rotation), math.Sin(r.Rotation)
	return Point{X: r.CX + x*c - y*s, Y: r.CY + x*s + y*c}
}

// fromImage is the inverse of toImage.
func (r Rect) fromImage(p Point) (u, v float64) {
	dx, dy := p.X-r.CX, p.Y-r.CY
	c, s := math.Cos(r.Rotation), math.Sin(r.Rotation)
	x, y := dx*c+dy*s, -dx*s+dy*c
	return x/r.W + 0.5, y/r.H + 0.5
}

// fitAspect enlarges r on one side so that W/H equals the tensor's aspect
// (ImageToTensorCalculator's keep_aspect_ratio: the model sees a letterbox).
// Projecting model outputs through the enlarged rectangle is the same as
// LetterboxRemoval followed by projection through r.
func (r Rect) fitAspect(tw, th int) Rect {
	want := float64(tw) / float64(th)
	if r.W/r.H > want {
		r.H = r.W / want
	} else {
		r.W = r.H * want
	}
	return r
}

// Border modes of warp.
const (
	borderZero      = iota // outside pixels are 0 (black)
	borderReplicate        // outside pixels repeat the nearest edge pixel
)

// warp samples the rectangle r of an RGB8 image (w×h) into a tw×th×3 HWC
// float32 tensor with values lo + x/255·(hi−lo), bilinearly, as
// ImageToTensorCalculator's OpenCV path does: the rectangle's corners map
// to the corner pixels' centres (cv::getPerspectiveTransform of the box
// points onto (0,0)…(tw,th), cv::warpPerspective with INTER_LINEAR).
func warp(dst []float32, pix []byte, w, h int, r Rect, tw, th int, lo, hi float32, border int) {
	c, s := math.Cos(r.Rotation), math.Sin(r.Rotation)
	// Source position of output pixel (i, j): origin + i·ax + j·ay.
	ax := Point{X: r.W / float64(tw) * c, Y: r.W / float64(tw) * s}
	ay := Point{X: -r.H / float64(th) * s, Y: r.H / float64(th) * c}
	o := Point{X: r.CX - r.W/2*c + r.H/2*s, Y: r.CY - r.W/2*s - r.H/2*c}
	scale := (hi - lo) / 255
	var lut [256]float32
	for i := range lut {
		lut[i] = lo + float32(i)*scale
	}
	at := func(x, y int) (byte, byte, byte, bool) {
		if x < 0 || y < 0 || x >= w || y >= h {
			if border == borderZero {
				return 0, 0, 0, false
			}
			x = min(max(x, 0), w-1)
			y = min(max(y, 0), h-1)
		}
		k := (y*w + x) * 3
		return pix[k], pix[k+1], pix[k+2], true
	}
	zero := lo // a zero border is black: 0 before normalisation
	for j := range th {
		for i := range tw {
			sx := o.X + float64(i)*ax.X + float64(j)*ay.X
			sy := o.Y + float64(i)*ax.Y + float64(j)*ay.Y
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := float32(sx-float64(x0)), float32(sy-float64(y0))
			k := (j*tw + i) * 3
			if x0 >= 0 && y0 >= 0 && x0+1 < w && y0+1 < h {
				p := (y0*w + x0) * 3
				q := p + w*3
				for ch := range 3 {
					a := lut[pix[p+ch]] + (lut[pix[p+3+ch]]-lut[pix[p+ch]])*fx
					b := lut[pix[q+ch]] + (lut[pix[q+3+ch]]-lut[pix[q+ch]])*fx
					dst[k+ch] = a + (b-a)*fy
				}
				continue
			}
			if border == borderZero && (x0+1 < 0 || y0+1 < 0 || x0 >= w || y0 >= h) {
				dst[k], dst[k+1], dst[k+2] = zero, zero, zero
				continue
			}
			var v [4][3]float32
			for n, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				r0, g0, b0, ok := at(x0+d[0], y0+d[1])
				if ok {
					v[n] = [3]float32{lut[r0], lut[g0], lut[b0]}
				} else {
					v[n] = [3]float32{zero, zero, zero}
				}
			}
			for ch := range 3 {
				a := v[0][ch] + (v[1][ch]-v[0][ch])*fx
				b := v[2][ch] + (v[3][ch]-v[2][ch])*fx
				dst[k+ch] = a + (b-a)*fy
			}
		}
	}
}

// anchor is an SSD anchor centre in [0,1]² of the detector input (fixed
// anchor size: width and height 1).
type anchor struct{ X, Y float64 }

// ssdAnchors is SsdAnchorsCalculator for fixed-size anchors: layers with the
// same stride share a feature map, and each layer contributes one anchor
// per aspect ratio plus the interpolated one (aspect ratios {1.0}: two).
func ssdAnchors(inputW, inputH int, strides []int, offset float64) []anchor {
	var out []anchor
	for l := 0; l < len(strides); {
		n := 0
		last := l
		for last < len(strides) && strides[last] == strides[l] {
			n += 2
			last++
		}
		fh := int(math.Ceil(float64(inputH) / float64(strides[l])))
		fw := int(math.Ceil(float64(inputW) / float64(strides[l])))
		for y := range fh {
			for x := range fw {
				for range n {
					out = append(out, anchor{X: (float64(x) + offset) / float64(fw), Y: (float64(y) + offset) / float64(fh)})
				}
			}
		}
		l = last
	}
	return out
}

// poseDetectionAnchors are pose_detection.tflite's 2254 anchors
// (pose_detection_cpu.pbtxt: 224×224, strides 8, 16, 32, 32, 32, offset
// 0.5, fixed anchor size).
func poseDetectionAnchors() []anchor {
	return ssdAnchors(224, 224, []int{8, 16, 32, 32, 32}, 0.5)
}

// detection is one decoded detection in [0,1]² of the detector input: a
// box (centre and size) and keypoints.
type detection struct {
	Score      float64
	CX, CY     float64
	W, H       float64
	Keypoints  []Point
	anchorIdx  int
	suppressed bool
}

// decodeDetections is TensorsToDetectionsCalculator with reverse output
// order (x before y), sigmoid scores clipped at ±clip, and coordinates
// divided by the input size scale: raw is [n][coords] boxes, scores [n].
func decodeDetections(raw, scores []float32, anchors []anchor, coords, nKeypoints int, scale, clip, minScore float64) []detection {
	var out []detection
	for i, a := range anchors {
		s := math.Max(-clip, math.Min(clip, float64(scores[i])))
		s = 1 / (1 + math.Exp(-s))
		if s < minScore {
			continue
		}
		b := raw[i*coords : (i+1)*coords]
		d := detection{Score: s, anchorIdx: i,
			CX: float64(b[0])/scale + a.X, CY: float64(b[1])/scale + a.Y,
			W: float64(b[2]) / scale, H: float64(b[3]) / scale}
		for k := range nKeypoints {
			d.Keypoints = append(d.Keypoints, Point{X: float64(b[4+2*k])/scale + a.X, Y: float64(b[5+2*k])/scale + a.Y})
		}
		out = append(out, d)
	}
	return out
}

// iou is the intersection over union of two axis-aligned boxes.
func iou(a, b detection) float64 {
	ax0, ay0, ax1, ay1 := a.CX-a.W/2, a.CY-a.H/2, a.CX+a.W/2, a.CY+a.H/2
	bx0, by0, bx1, by1 := b.CX-b.W/2, b.CY-b.H/2, b.CX+b.W/2, b.CY+b.H/2
	iw := math.Min(ax1, bx1) - math.Max(ax0, bx0)
	ih := math.Min(ay1, by1) - math.Max(ay0, by0)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	union := a.W*a.H + b.W*b.H - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// weightedNMS is NonMaxSuppressionCalculator's WEIGHTED algorithm with IoU
// overlap: the best remaining detection absorbs every detection that
// overlaps it by more than threshold (itself included), and its box and
// keypoints become their score-weighted mean; its score stays.
func weightedNMS(dets []detection, threshold float64) []detection {
	rest := append([]detection(nil), dets...)
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Score > rest[j].Score })
	var out []detection
	for len(rest) > 0 {
		top := rest[0]
		var keep []detection
		var total, cx, cy, w, h float64
		kps := make([]Point, len(top.Keypoints))
		for _, d := range rest {
			if iou(top, d) > threshold {
				// MediaPipe averages the box corners (xmin, ymin, w, h);
				// with w and h averaged too the centre is the same mean.
				total += d.Score
				cx += (d.CX - d.W/2) * d.Score
				cy += (d.CY - d.H/2) * d.Score
				w += d.W * d.Score
				h += d.H * d.Score
				for k := range kps {
					kps[k].X += d.Keypoints[k].X * d.Score
					kps[k].Y += d.Keypoints[k].Y * d.Score
				}
			} else {
				keep = append(keep, d)
			}
		}
		m := top
		if total > 0 {
			m.W, m.H = w/total, h/total
			m.CX, m.CY = cx/total+m.W/2, cy/total+m.H/2
			for k := range kps {
				kps[k].X /= total
				kps[k].Y /= total
			}
			m.Keypoints = kps
		}
		out = append(out, m)
		rest = keep
	}
	return out
}

// handRectFromPose is HandDetectionsFromPoseToRectsCalculator (as of
// MediaPipe 0.8.x–0.10.x, the version in the npm package): centre at the
// estimated middle finger (2·index + pinky)/3, side twice its distance to
// the wrist, rotated so that wrist→middle points up.
func handRectFromPose(wrist, pinky, index Point) Rect {
	mid := Point{X: (2*index.X + pinky.X) / 3, Y: (2*index.Y + pinky.Y) / 3}
	d := 2 * math.Hypot(mid.X-wrist.X, mid.Y-wrist.Y)
	return Rect{CX: mid.X, CY: mid.Y, W: d, H: d, Rotation: rotationTo(wrist, mid, 90)}
}

// handPalmIndices are the hand landmarks HandLandmarksToRoi keeps (wrist,
// thumb CMC…IP, and the MCP and PIP of each finger).
var handPalmIndices = []int{0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18}

// handRectFromLandmarks is HandLandmarksToRectCalculator on the palm
// landmarks: rotation from the wrist towards the mean of the index and
// ring finger MCPs averaged with the middle finger MCP (MediaPipe's
// constants say PIP, but they index the palm subset, where 4, 6 and 8 are
// the MCPs), then the box that encloses the palm points in the rotated
// frame, centred in that frame.
func handRectFromLandmarks(lm []Point) Rect {
	wrist := lm[0]
	idx, mid, ring := lm[5], lm[9], lm[13]
	p := Point{X: ((idx.X+ring.X)/2 + mid.X) / 2, Y: ((idx.Y+ring.Y)/2 + mid.Y) / 2}
	rot := rotationTo(wrist, p, 90)
	c, s := math.Cos(-rot), math.Sin(-rot)
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	// Axis-aligned box first, its centre as the rotation pivot.
	bx0, by0, bx1, by1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, i := range handPalmIndices {
		bx0, bx1 = math.Min(bx0, lm[i].X), math.Max(bx1, lm[i].X)
		by0, by1 = math.Min(by0, lm[i].Y), math.Max(by1, lm[i].Y)
	}
	ax, ay := (bx0+bx1)/2, (by0+by1)/2
	for _, i := range handPalmIndices {
		dx, dy := lm[i].X-ax, lm[i].Y-ay
		x, y := dx*c-dy*s, dx*s+dy*c
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	pcx, pcy := (minX+maxX)/2, (minY+maxY)/2
	c2, s2 := math.Cos(rot), math.Sin(rot)
	return Rect{CX: ax + pcx*c2 - pcy*s2, CY: ay + pcx*s2 + pcy*c2, W: maxX - minX, H: maxY - minY, Rotation: rot}
}

// keepHandTrack is RoiTrackingCalculator with hand_tracking.pbtxt's options
// (rect: rotation 40°, translation 0.2, scale 0.4; landmarks: re-crop
// margin −0.1): whether the previous frame's hand rectangle still fits the
// current re-crop rectangle, so that tracking may keep it.
func keepHandTrack(prev, recrop Rect, prevLandmarks []Point) bool {
	rot := -recrop.Rotation
	c, s := math.Cos(rot), math.Sin(rot)
	turn := func(p Point) Point { return Point{X: p.X*c - p.Y*s, Y: p.X*s + p.Y*c} }
	pp, rp := turn(Point{X: prev.CX, Y: prev.CY}), turn(Point{X: recrop.CX, Y: recrop.CY})
	d := (prev.Rotation - recrop.Rotation) * 180 / math.Pi
	if d > 180 {
		d -= 360
	}
	if d < -180 {
		d += 360
	}
	if math.Abs(d) > 40 {
		return false
	}
	if math.Abs(pp.X-rp.X) > recrop.W*0.2 || math.Abs(pp.Y-rp.Y) > recrop.H*0.2 {
		return false
	}
	if math.Abs(prev.W-recrop.W) > recrop.W*0.4 || math.Abs(prev.H-recrop.H) > recrop.H*0.4 {
		return false
	}
	w, h := recrop.W*0.9, recrop.H*0.9
	for _, p := range prevLandmarks {
		q := turn(p)
		if !(rp.X-w/2 < q.X && q.X < rp.X+w/2 && rp.Y-h/2 < q.Y && q.Y < rp.Y+h/2) {
			return false
		}
	}
	return true
}
