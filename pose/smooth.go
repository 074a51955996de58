package pose

import "math"

// MediaPipe's PoseLandmarkFiltering (pose_landmark_filtering.pbtxt): the 33
// pose landmarks pass a one-euro filter (min cutoff 0.1, beta 40,
// derivative cutoff 1) and their visibilities a low-pass filter (alpha
// 0.1); the two auxiliary landmarks that place the next ROI pass a heavier
// one-euro filter (min cutoff 0.01, beta 1). Coordinates are filtered in
// pixels (z scaled by the width) with the velocity divided by the object's
// size (the mean side of the landmarks' bounding box), as
// LandmarksSmoothingCalculator does.

// Time steps: MediaPipe's Python solution API (which pose-format and most
// sign-language data used) stamps frame i at i·33333 µs whatever the
// video's rate, so the filters always run at 30 Hz. We do the same, so that
// the smoothing matches the data models were trained on.
const filterFrequency = 30.0

// lowPass is MediaPipe's LowPassFilter.
type lowPass struct {
	raw, stored float64
	init        bool
}

func (f *lowPass) apply(v, alpha float64) float64 {
	if !f.init {
		f.stored, f.init = v, true
	} else {
		f.stored = alpha*v + (1-alpha)*f.stored
	}
	f.raw = v
	return f.stored
}

// oneEuro is MediaPipe's OneEuroFilter at a fixed frequency.
type oneEuro struct {
	minCutoff, beta, dCutoff float64
	x, dx                    lowPass
}

func alpha(cutoff float64) float64 {
	te := 1 / filterFrequency
	tau := 1 / (2 * math.Pi * cutoff)
	return 1 / (1 + tau/te)
}

func (f *oneEuro) apply(v, valueScale float64) float64 {
	d := 0.0
	if f.x.init {
		d = (v - f.x.raw) * valueScale * filterFrequency
	}
	ed := f.dx.apply(d, alpha(f.dCutoff))
	return f.x.apply(v, alpha(f.minCutoff+f.beta*math.Abs(ed)))
}

// landmarkFilter filters a set of points (x, y, z each).
type landmarkFilter struct {
	f                        [][3]oneEuro
	minCutoff, beta, dCutoff float64
}

func newLandmarkFilter(n int, minCutoff, beta, dCutoff float64) *landmarkFilter {
	lf := &landmarkFilter{f: make([][3]oneEuro, n), minCutoff: minCutoff, beta: beta, dCutoff: dCutoff}
	lf.reset()
	return lf
}

func (lf *landmarkFilter) reset() {
	for i := range lf.f {
		for k := range 3 {
			lf.f[i][k] = oneEuro{minCutoff: lf.minCutoff, beta: lf.beta, dCutoff: lf.dCutoff}
		}
	}
}

// apply filters pts (pixels) and z (normalised by width, filtered scaled
// by width) in place.
func (lf *landmarkFilter) apply(pts []Point, z []float64, width int) {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	scale := ((maxX - minX) + (maxY - minY)) / 2
	if !(scale >= 1e-6) {
		return // MediaPipe: min_allowed_object_scale, landmarks pass as is
	}
	vs := 1 / scale
	w := float64(width)
	for i := range pts {
		pts[i].X = lf.f[i][0].apply(pts[i].X, vs)
		pts[i].Y = lf.f[i][1].apply(pts[i].Y, vs)
		z[i] = lf.f[i][2].apply(z[i]*w, vs) / w
	}
}

// poseFilters are the filters of one tracked pose.
type poseFilters struct {
	main, aux *landmarkFilter
	vis       [33]lowPass
}

func newPoseFilters() *poseFilters {
	return &poseFilters{main: newLandmarkFilter(33, 0.1, 40, 1), aux: newLandmarkFilter(2, 0.01, 1, 1)}
}

// reset forgets the past (the pose was lost: MediaPipe resets its filters
// when the landmark stream is empty).
func (p *poseFilters) reset() {
	p.main.reset()
	p.aux.reset()
	p.vis = [33]lowPass{}
}

// apply filters the 33 pose landmarks and the 2 auxiliary ones (pts[33:35])
// in place; visibilities of the 33 are low-passed.
func (p *poseFilters) apply(pts []Point, z, vis []float64, _ float64, width, _ int) {
	p.main.apply(pts[:33], z[:33], width)
	p.aux.apply(pts[33:35], z[33:35], width)
	for i := range 33 {
		vis[i] = p.vis[i].apply(vis[i], 0.1)
	}
}
