package pose

import "math"

// PoseConnections are the body skeleton's limbs (MediaPipe's
// POSE_CONNECTIONS), as pairs of pose landmark indices.
var PoseConnections = [][2]int{
	{0, 1}, {1, 2}, {2, 3}, {3, 7}, {0, 4}, {4, 5}, {5, 6}, {6, 8}, {9, 10},
	{11, 12}, {11, 13}, {13, 15}, {15, 17}, {15, 19}, {15, 21}, {17, 19},
	{12, 14}, {14, 16}, {16, 18}, {16, 20}, {16, 22}, {18, 20},
	{11, 23}, {12, 24}, {23, 24}, {23, 25}, {24, 26}, {25, 27}, {26, 28},
	{27, 29}, {28, 30}, {29, 31}, {30, 32}, {27, 31}, {28, 32},
}

// HandConnections are the hand skeleton's bones (MediaPipe's
// HAND_CONNECTIONS).
var HandConnections = [][2]int{
	{0, 1}, {1, 2}, {2, 3}, {3, 4}, {0, 5}, {5, 6}, {6, 7}, {7, 8},
	{5, 9}, {9, 10}, {10, 11}, {11, 12}, {9, 13}, {13, 14}, {14, 15}, {15, 16},
	{13, 17}, {0, 17}, {17, 18}, {18, 19}, {19, 20},
}

// Overlay colours.
var (
	colorPose  = [3]byte{240, 240, 240}
	colorLeft  = [3]byte{255, 60, 60}  // the person's left hand: red
	colorRight = [3]byte{60, 140, 255} // the person's right hand: blue
	colorNone  = [3]byte{255, 200, 0}  // "no signer" marker
)

// canvas is an RGB8 image to draw on.
type canvas struct {
	pix  []byte
	w, h int
}

func (c canvas) dot(x, y float64, r int, col [3]byte) {
	cx, cy := int(math.Round(x)), int(math.Round(y))
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if dx*dx+dy*dy > r*r {
				continue
			}
			px, py := cx+dx, cy+dy
			if px < 0 || py < 0 || px >= c.w || py >= c.h {
				continue
			}
			k := (py*c.w + px) * 3
			c.pix[k], c.pix[k+1], c.pix[k+2] = col[0], col[1], col[2]
		}
	}
}

func (c canvas) line(a, b Landmark, r int, col [3]byte) {
	dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
	n := int(math.Ceil(math.Max(math.Abs(dx), math.Abs(dy))))
	if n > 4*(c.w+c.h) {
		return // far outside: not worth drawing
	}
	for i := 0; i <= n; i++ {
		t := 0.0
		if n > 0 {
			t = float64(i) / float64(n)
		}
		c.dot(float64(a.X)+t*dx, float64(a.Y)+t*dy, r, col)
	}
}

// Draw paints a frame's skeletons onto pix (w×h RGB8, the frame the
// keypoints came from): body limbs whose two ends have visibility > 0.5 in
// white, the left hand in red and the right hand in blue, and a yellow
// square in the top-left corner when no signer was found.
func Draw(pix []byte, w, h int, f Frame) {
	c := canvas{pix: pix, w: w, h: h}
	thick := max(1, min(w, h)/240)
	if !f.Signer {
		for y := range min(h, 12*thick) {
			for x := range min(w, 12*thick) {
				k := (y*w + x) * 3
				pix[k], pix[k+1], pix[k+2] = colorNone[0], colorNone[1], colorNone[2]
			}
		}
		return
	}
	for _, e := range PoseConnections {
		a, b := f.Pose[e[0]], f.Pose[e[1]]
		if a.Visibility > 0.5 && b.Visibility > 0.5 {
			c.line(a, b, thick/2, colorPose)
		}
	}
	for _, p := range f.Pose {
		if p.Visibility > 0.5 {
			c.dot(float64(p.X), float64(p.Y), thick+1, colorPose)
		}
	}
	for side, hand := range []Hand{f.Left, f.Right} {
		if !hand.Present {
			continue
		}
		col := colorLeft
		if side == 1 {
			col = colorRight
		}
		for _, e := range HandConnections {
			c.line(hand.Points[e[0]], hand.Points[e[1]], thick/2, col)
		}
		for _, p := range hand.Points {
			c.dot(float64(p.X), float64(p.Y), thick, col)
		}
	}
}
