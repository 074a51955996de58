package pose

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/media"
)

// Landmark is one keypoint in video pixels: X, Y from the top-left corner;
// Z as MediaPipe gives it (depth at the scale of the frame's width,
// normalised like x); Visibility in [0,1] (pose points: MediaPipe's
// visibility; hand points: the hand's presence score).
type Landmark struct {
	X, Y, Z    float32
	Visibility float32
}

// Hand is one hand: Present false means not found (points zero).
type Hand struct {
	Present    bool
	Presence   float32 // hand_landmark's presence score (≥ 0.5 when Present)
	Handedness float32 // hand_landmark's handedness score (> 0.5: the model sees a right hand in the unmirrored picture)
	Points     [21]Landmark
}

// Frame is the keypoints of one video frame. Signer false means no person
// was found: Pose and both hands are then zero and not present.
type Frame struct {
	Index     int
	TimeMs    float64
	Signer    bool
	PoseScore float32 // pose landmark model's presence flag
	Pose      [33]Landmark
	Left      Hand // the person's left hand (MediaPipe's LEFT_HAND_LANDMARKS, from pose points 15, 17, 19)
	Right     Hand // the person's right hand (from pose points 16, 18, 20)
	// Detected is true when this frame ran the pose detector (no track
	// from the previous frame).
	Detected bool
}

// Options configure a Tracker.
type Options struct {
	// Threads is the number of ONNX Runtime intra-op threads per model; 0
	// means all cores.
	Threads int
	// Session are further ONNX Runtime options (Threads above wins).
	Session ortsession.Options
	// NoSmoothing turns off the landmark filters of MediaPipe's
	// PoseLandmarkFiltering (Holistic smooths by default).
	NoSmoothing bool
	// Pipeline makes TrackVideo find the hands of frame i while the pose
	// of frame i+1 is found, in two goroutines (each model still uses
	// Threads threads): with Threads 1 it keeps two cores busy. The
	// keypoints are the same.
	Pipeline bool
}

// Thresholds and scales of MediaPipe Holistic's graph (see geometry.go for
// the sources).
const (
	detMinScore      = 0.5  // pose_detection_cpu.pbtxt min_score_thresh
	detNMSThreshold  = 0.3  // min_suppression_threshold, IoU, WEIGHTED
	detScoreClip     = 100  // score_clipping_thresh
	poseRectScale    = 1.25 // pose_detection_to_roi / pose_landmarks_to_roi
	posePresence     = 0.5  // tensors_to_pose_landmarks: ThresholdingCalculator
	heatmapKernel    = 7    // RefineLandmarksFromHeatmapCalculator kernel_size
	heatmapMinConf   = 0.5  // its min_confidence_to_refine default
	wristVisibility  = 0.1  // hand_visibility_from_hand_landmarks_from_pose
	handRecropScale  = 2.7  // hand_landmarks_from_pose_to_recrop_roi
	handRecropShiftY = -0.1
	handRectScale    = 2.0 // hand_landmarks_to_roi
	handRectShiftY   = -0.1
	handPresence     = 0.5 // hand_landmark_cpu: ThresholdingCalculator
)

// Stage names of Stats.
const (
	StageDetect   = "pose_detection"
	StagePose     = "pose_landmark"
	StageRecrop   = "hand_recrop"
	StageHand     = "hand_landmark"
	StageGeometry = "warp+geometry"
)

// Stats add up the time spent per stage and the model runs, for benchmarks.
type Stats struct {
	Time map[string]time.Duration
	Runs map[string]int
	mu   sync.Mutex // the two stages of TrackVideo's pipeline both add
}

func (s *Stats) add(stage string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Time == nil {
		s.Time, s.Runs = map[string]time.Duration{}, map[string]int{}
	}
	s.Time[stage] += d
	s.Runs[stage]++
}

// handTrack is one hand's state between frames.
type handTrack struct {
	rect      Rect    // ROI for the next frame, from this frame's landmarks
	landmarks []Point // this frame's landmarks
	ok        bool
}

// Tracker runs MediaPipe Holistic's pose and hand stages on the frames of
// one video, in order, keeping the tracking state between frames. It is
// not safe for concurrent use; use one Tracker per video (Reset between
// videos).
//
// Per frame, as holistic_landmark_cpu.pbtxt (npm @mediapipe/holistic
// 0.5.1675471629, model complexity 1, smooth_landmarks on): without a
// track, pose_detection on the letterboxed frame (224², range [−1,1], zero
// border; 2254 anchors, sigmoid score ≥ 0.5, weighted NMS at IoU 0.3), the
// first detection's keypoints 0→1 giving a square ROI (side 2·|kp1−kp0|,
// rotated so that hips→head points up, ×1.25); the pose landmark model on
// the ROI warped to 256² ([0,1], replicated border); pose flag > 0.5 or the
// track is lost; landmarks refined by the heatmap (7×7) and projected back;
// PoseLandmarkFiltering (one-euro, visibility low-pass); the next ROI from
// the two auxiliary landmarks the same way. Per hand, gated by the pose
// wrist's visibility > 0.1: a ROI from the pose wrist, index and pinky
// (centre at (2·index+pinky)/3, side 2·|middle−wrist|, ×2.7, shifted up
// 0.1), hand_recrop on it (256²) giving a new ROI (two points, target
// −90°, shifted up 0.1), replaced by the previous frame's hand ROI while
// RoiTrackingCalculator's checks hold, hand_landmark_full on it (224²),
// presence > 0.5, and the next hand ROI from the palm landmarks (×2,
// shifted up 0.1).
//
// The numbers are checked against the graph configurations compiled into
// the package's holistic_solution_simd_wasm_bin.wasm (TestGraphParameters).
//
// Deviations from MediaPipe, all small:
//   - When the track is lost, pose detection runs on the same frame
//     (MediaPipe outputs nothing for it and detects on the next one).
//   - Warps interpolate in float32 (OpenCV's warpPerspective interpolates
//     8-bit pixels with 1/32-pixel fixed-point weights and rounds them).
//   - Frames are RGB from ffmpeg's YUV conversion, resampled by ffmpeg's
//     fps filter to the nominal rate, and the filters run at MediaPipe's
//     Python API's fixed 30 Hz (it stamps frame i at i/30 s).
//   - Face landmarks, world landmarks and the segmentation mask are not
//     computed (the segmenters do not use them).
type Tracker struct {
	det, lm, recrop, hand *ortsession.Session
	anchors               []anchor
	opt                   Options

	poseRect   Rect // next frame's pose ROI, valid when tracking
	tracking   bool
	hands      [2]handTrack
	filters    *poseFilters
	Stats      Stats
	bufDet     []float32
	buf256     []float32 // pose landmark input
	bufRecrop  []float32 // hand_recrop input (its own: the stages may run at once)
	buf224     []float32
	lastTimeMs float64
}

// NewTracker opens ONNX Runtime sessions for the models (ONNX Runtime must
// be initialised: internal/ortenv).
func NewTracker(m *Models, opt Options) (*Tracker, error) {
	so := opt.Session
	so.Threads = opt.Threads
	t := &Tracker{anchors: poseDetectionAnchors(), opt: opt,
		bufDet: make([]float32, 224*224*3), buf256: make([]float32, 256*256*3), bufRecrop: make([]float32, 256*256*3), buf224: make([]float32, 224*224*3)}
	var err error
	open := func(name string, b []byte, outs []string) *ortsession.Session {
		if err != nil {
			return nil
		}
		var s *ortsession.Session
		s, err = ortsession.New(name, b, []string{"input_1"}, outs, so)
		return s
	}
	t.det = open("pose_detection", m.PoseDetection, []string{"Identity", "Identity_1"})
	t.lm = open("pose_landmark", m.PoseLandmark, []string{"Identity", "Identity_1", "Identity_3"})
	t.recrop = open("hand_recrop", m.HandRecrop, []string{"output_crop"})
	t.hand = open("hand_landmark_full", m.HandLandmark, []string{"Identity", "Identity_1", "Identity_2"})
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Reset()
	return t, nil
}

// Close releases the sessions.
func (t *Tracker) Close() {
	for _, s := range []*ortsession.Session{t.det, t.lm, t.recrop, t.hand} {
		s.Close()
	}
}

// Reset forgets the tracking state (start of a new video).
func (t *Tracker) Reset() {
	t.tracking = false
	t.hands = [2]handTrack{}
	t.filters = nil
	if !t.opt.NoSmoothing {
		t.filters = newPoseFilters()
	}
}

// Process finds the keypoints of the next frame of the video. Frames must
// come in order; their size may change (the state is then reset).
func (t *Tracker) Process(f media.RGBFrame) (Frame, error) {
	out, err := t.processPose(f)
	if err != nil {
		return out, err
	}
	return out, t.processHands(f, &out)
}

// processPose is the pose stage of Process: it touches only the pose
// state, so that it may run for frame i+1 while processHands runs for
// frame i.
func (t *Tracker) processPose(f media.RGBFrame) (Frame, error) {
	out := Frame{Index: f.Index, TimeMs: f.TimeMs}
	if f.Width <= 0 || f.Height <= 0 || len(f.Pix) < f.Width*f.Height*3 {
		return out, fmt.Errorf("frame %d: %dx%d with %d bytes", f.Index, f.Width, f.Height, len(f.Pix))
	}
	if t.tracking && (f.TimeMs <= t.lastTimeMs) {
		t.tracking = false
	}
	t.lastTimeMs = f.TimeMs
	found := false
	var err error
	if t.tracking {
		found, err = t.poseLandmarks(f, t.poseRect, &out)
		if err != nil {
			return out, err
		}
	}
	if !found {
		// Deviation: MediaPipe leaves a frame whose track was lost empty
		// and detects on the next one; detecting at once loses no frame.
		t.tracking = false
		if t.filters != nil {
			t.filters.reset()
		}
		rect, ok, err := t.detect(f)
		if err != nil {
			return out, err
		}
		out.Detected = true
		if ok {
			found, err = t.poseLandmarks(f, rect, &out)
			if err != nil {
				return out, err
			}
		}
	}
	if !found {
		t.tracking = false
		return Frame{Index: f.Index, TimeMs: f.TimeMs, Detected: out.Detected}, nil
	}
	out.Signer = true
	return out, nil
}

// processHands is the hand stage of Process, on the pose stage's output.
func (t *Tracker) processHands(f media.RGBFrame, out *Frame) error {
	if !out.Signer {
		t.hands = [2]handTrack{}
		return nil
	}
	for side, idx := range [2][3]int{{15, 17, 19}, {16, 18, 20}} {
		h := &out.Left
		if side == 1 {
			h = &out.Right
		}
		if err := t.handLandmarks(f, out, idx, &t.hands[side], h); err != nil {
			return err
		}
	}
	return nil
}

// detect runs pose detection on the letterboxed frame and returns the pose
// ROI of the best detection.
func (t *Tracker) detect(f media.RGBFrame) (Rect, bool, error) {
	start := time.Now()
	full := Rect{CX: float64(f.Width) / 2, CY: float64(f.Height) / 2, W: float64(f.Width), H: float64(f.Height)}.fitAspect(224, 224)
	warp(t.bufDet, f.Pix, f.Width, f.Height, full, 224, 224, -1, 1, borderZero)
	t.Stats.add(StageGeometry, time.Since(start))
	start = time.Now()
	outs, err := t.det.Run(ortsession.Tensor{Data: t.bufDet, Shape: []int64{1, 224, 224, 3}})
	if err != nil {
		return Rect{}, false, err
	}
	t.Stats.add(StageDetect, time.Since(start))
	if len(outs[0].Data) != len(t.anchors)*12 || len(outs[1].Data) != len(t.anchors) {
		return Rect{}, false, fmt.Errorf("pose_detection: outputs of %d and %d values, want %d×12 and %d", len(outs[0].Data), len(outs[1].Data), len(t.anchors), len(t.anchors))
	}
	dets := decodeDetections(outs[0].Data, outs[1].Data, t.anchors, 12, 4, 224, detScoreClip, detMinScore)
	dets = weightedNMS(dets, detNMSThreshold)
	if len(dets) == 0 {
		return Rect{}, false, nil
	}
	d := dets[0]
	kp0 := full.toImage(d.Keypoints[0].X, d.Keypoints[0].Y)
	kp1 := full.toImage(d.Keypoints[1].X, d.Keypoints[1].Y)
	r := rectTransform(alignmentRect(kp0, kp1, 90), poseRectScale, poseRectScale, 0, 0)
	return r, r.W > 1, nil
}

// poseLandmarks runs the pose landmark model on roi. It fills out.Pose and
// sets the next frame's ROI, or returns false when the model sees no pose.
func (t *Tracker) poseLandmarks(f media.RGBFrame, roi Rect, out *Frame) (bool, error) {
	start := time.Now()
	roi = roi.fitAspect(256, 256)
	warp(t.buf256, f.Pix, f.Width, f.Height, roi, 256, 256, 0, 1, borderReplicate)
	t.Stats.add(StageGeometry, time.Since(start))
	start = time.Now()
	outs, err := t.lm.Run(ortsession.Tensor{Data: t.buf256, Shape: []int64{1, 256, 256, 3}})
	if err != nil {
		return false, err
	}
	t.Stats.add(StagePose, time.Since(start))
	lm, flag, heat := outs[0].Data, outs[1].Data, outs[2].Data
	if len(lm) != 39*5 || len(flag) != 1 || len(heat) != 64*64*39 {
		return false, fmt.Errorf("pose_landmark: outputs of %d, %d, %d values, want 195, 1, %d", len(lm), len(flag), len(heat), 64*64*39)
	}
	out.PoseScore = flag[0]
	if !(flag[0] > posePresence) {
		return false, nil
	}
	var pts [39]Point
	var z, vis [39]float64
	for i := range 39 {
		u, v := float64(lm[5*i])/256, float64(lm[5*i+1])/256
		u, v = refineFromHeatmap(heat, i, u, v)
		pts[i] = roi.toImage(u, v)
		z[i] = float64(lm[5*i+2]) / 256 * roi.W / float64(f.Width)
		vis[i] = sigmoid(float64(lm[5*i+3]))
	}
	if t.filters != nil {
		t.filters.apply(pts[:], z[:], vis[:], f.TimeMs, f.Width, f.Height)
	}
	for i := range 33 {
		out.Pose[i] = Landmark{X: float32(pts[i].X), Y: float32(pts[i].Y), Z: float32(z[i]), Visibility: float32(vis[i])}
	}
	t.poseRect = rectTransform(alignmentRect(pts[33], pts[34], 90), poseRectScale, poseRectScale, 0, 0)
	t.tracking = t.poseRect.W > 1
	return true, nil
}

// refineFromHeatmap is RefineLandmarksFromHeatmapCalculator: the landmark
// moves to the confidence-weighted mean of the 7×7 heatmap cells around
// it when the best of them is confident enough. heat is [64][64][39].
func refineFromHeatmap(heat []float32, k int, u, v float64) (float64, float64) {
	const n, ch = 64, 39
	col, row := int(u*n), int(v*n)
	if col < 0 || col >= n || row < 0 || row >= n {
		return u, v
	}
	off := (heatmapKernel - 1) / 2
	var sum, wc, wr, best float64
	for r := max(0, row-off); r < min(n, row+off+1); r++ {
		for c := max(0, col-off); c < min(n, col+off+1); c++ {
			conf := sigmoid(float64(heat[(r*n+c)*ch+k]))
			sum += conf
			best = math.Max(best, conf)
			wc += float64(c) * conf
			wr += float64(r) * conf
		}
	}
	if best >= heatmapMinConf && sum > 0 {
		return wc / n / sum, wr / n / sum
	}
	return u, v
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// handLandmarks finds one hand from the pose's wrist, pinky and index
// points (idx): visibility gate, hand_recrop, tracking, hand_landmark.
func (t *Tracker) handLandmarks(f media.RGBFrame, fr *Frame, idx [3]int, tr *handTrack, h *Hand) error {
	wrist := fr.Pose[idx[0]]
	if !(wrist.Visibility > wristVisibility) {
		*tr = handTrack{}
		return nil
	}
	p := func(l Landmark) Point { return Point{X: float64(l.X), Y: float64(l.Y)} }
	start := time.Now()
	roi := rectTransform(handRectFromPose(p(wrist), p(fr.Pose[idx[1]]), p(fr.Pose[idx[2]])), handRecropScale, handRecropScale, 0, handRecropShiftY)
	if !(roi.W > 1) {
		*tr = handTrack{}
		return nil
	}
	roi = roi.fitAspect(256, 256)
	warp(t.bufRecrop, f.Pix, f.Width, f.Height, roi, 256, 256, 0, 1, borderReplicate)
	t.Stats.add(StageGeometry, time.Since(start))
	start = time.Now()
	outs, err := t.recrop.Run(ortsession.Tensor{Data: t.bufRecrop, Shape: []int64{1, 256, 256, 3}})
	if err != nil {
		return err
	}
	t.Stats.add(StageRecrop, time.Since(start))
	rc := outs[0].Data
	if len(rc) != 4 {
		return fmt.Errorf("hand_recrop: %d outputs, want 4", len(rc))
	}
	start = time.Now()
	p0 := roi.toImage(float64(rc[0])/256, float64(rc[1])/256)
	p1 := roi.toImage(float64(rc[2])/256, float64(rc[3])/256)
	recrop := rectTransform(alignmentRect(p0, p1, -90), 1, 1, 0, handRecropShiftY)
	use := recrop
	if tr.ok && keepHandTrack(tr.rect, recrop, tr.landmarks) {
		use = tr.rect
	}
	if !(use.W > 1) {
		*tr = handTrack{}
		return nil
	}
	use = use.fitAspect(224, 224)
	warp(t.buf224, f.Pix, f.Width, f.Height, use, 224, 224, 0, 1, borderReplicate)
	t.Stats.add(StageGeometry, time.Since(start))
	start = time.Now()
	outs, err = t.hand.Run(ortsession.Tensor{Data: t.buf224, Shape: []int64{1, 224, 224, 3}})
	if err != nil {
		return err
	}
	t.Stats.add(StageHand, time.Since(start))
	lm, pres, hd := outs[0].Data, outs[1].Data, outs[2].Data
	if len(lm) != 63 || len(pres) != 1 || len(hd) != 1 {
		return fmt.Errorf("hand_landmark: outputs of %d, %d, %d values, want 63, 1, 1", len(lm), len(pres), len(hd))
	}
	if !(pres[0] > handPresence) {
		*tr = handTrack{}
		return nil
	}
	pts := make([]Point, 21)
	h.Present, h.Presence, h.Handedness = true, pres[0], hd[0]
	for i := range 21 {
		pts[i] = use.toImage(float64(lm[3*i])/224, float64(lm[3*i+1])/224)
		z := float64(lm[3*i+2]) / 224 * use.W / float64(f.Width)
		h.Points[i] = Landmark{X: float32(pts[i].X), Y: float32(pts[i].Y), Z: float32(z), Visibility: pres[0]}
	}
	*tr = handTrack{rect: rectTransform(handRectFromLandmarks(pts), handRectScale, handRectScale, 0, handRectShiftY), landmarks: pts, ok: true}
	return nil
}
