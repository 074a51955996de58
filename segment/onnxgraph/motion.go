package onnxgraph

import (
	"fmt"
	"math"
	"strconv"
)

// Shape and names of the motion feature extractor.
const (
	MotionInput    = "clips"    // [B, 3, MotionFrames, H, W], RGB, x/255−0.5
	MotionOutput   = "features" // [B, MotionFeatures]
	MotionFrames   = 3          // frames per clip
	MotionCentre   = 1          // clip frame that a feature belongs to
	MotionGrid     = 8          // fine grid: MotionGrid × MotionGrid cells
	MotionCoarse   = 4          // coarse grid: MotionCoarse × MotionCoarse cells
	MotionFeatures = MotionGrid*MotionGrid + 4*MotionCoarse*MotionCoarse
	// DefaultMotionSize is the default frame height and width.
	DefaultMotionSize = 64
)

// Luma weights (ITU-R BT.601) that turn RGB into grey.
var lumaRGB = [3]float64{0.299, 0.587, 0.114}

// MotionConfig is the frame size the extractor reads; zero means
// DefaultMotionSize. Both sides must be multiples of MotionGrid and at
// least 2·MotionGrid.
type MotionConfig struct {
	Height, Width int
}

func (c MotionConfig) size() (h, w int, err error) {
	h, w = c.Height, c.Width
	if h == 0 {
		h = DefaultMotionSize
	}
	if w == 0 {
		w = DefaultMotionSize
	}
	if h < 2*MotionGrid || w < 2*MotionGrid || h%MotionGrid != 0 || w%MotionGrid != 0 || h > 4096 || w > 4096 {
		return 0, 0, fmt.Errorf("motion features: frame size %dx%d must be multiples of %d between %d and 4096", w, h, MotionGrid, 2*MotionGrid)
	}
	return h, w, nil
}

// motionKernels returns the fixed Conv weights [4, 9, 3, 3]: input channel
// c*3+t is colour c of clip frame t. The four filters are
//
//	0: −∂x g1   1: −∂y g1   (Sobel/8 on the centre frame's grey)
//	2: It = (g2 − g0)/2   3: Itt = g0 − 2·g1 + g2   (binomial 3×3 blur)
//
// where gt is frame t's grey. The gradient signs are folded in here so that
// the graph's products are −∂x·It and −∂y·It directly.
func motionKernels() []float32 {
	sobelX := [3][3]float64{{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}
	blur := [3]float64{1, 2, 1}
	time := [4][3]float64{{0, -1, 0}, {0, -1, 0}, {-0.5, 0, 0.5}, {1, -2, 1}}
	w := make([]float32, 4*9*9)
	for o := 0; o < 4; o++ {
		for c := 0; c < 3; c++ {
			for t := 0; t < 3; t++ {
				for y := 0; y < 3; y++ {
					for x := 0; x < 3; x++ {
						var s float64
						switch o {
						case 0:
							s = sobelX[y][x] / 8
						case 1:
							s = sobelX[x][y] / 8
						default:
							s = blur[y] * blur[x] / 16
						}
						w[((o*9+c*3+t)*3+y)*3+x] = float32(lumaRGB[c] * time[o][t] * s)
					}
				}
			}
		}
	}
	return w
}

// BuildMotion writes the training-free motion feature extractor as an ONNX
// model. Input "clips" [B, 3, 3, H, W] (dynamic B; RGB frames t−1, t, t+1
// scaled as x/255−0.5, the I3D clip layout), output "features" [B, 128] for
// the centre frame t. With g the BT.601 grey of a frame, It = (g(t+1)−g(t−1))/2
// and Itt = g(t−1)−2g(t)+g(t+1), both blurred by a 3×3 binomial filter, and
// ∂x, ∂y the 3×3 Sobel gradients of g(t) divided by 8 (all zero-padded at the
// frame edges), the features are cell means:
//
//	  0– 63  |It| on an 8×8 grid: where motion happens; fine enough to weight
//	         cells by a signing-space mask after the graph.
//	 64– 79  |Itt| on a 4×4 grid: acceleration, high when a movement starts,
//	         stops or turns.
//	 80– 95  −∂x·It on a 4×4 grid: brightness-constancy (normal flow) estimate
//	         of horizontal motion weighted by edge contrast; > 0 when a
//	         textured region moves right (+x).
//	 96–111  −∂y·It on a 4×4 grid: the same for vertical motion; > 0 downwards.
//	112–127  It on a 4×4 grid: signed brightness change (a bright hand
//	         arriving or leaving a dark area).
//
// Cells are listed row-major (row 0 at the top). The graph is a single 3×3
// convolution, a product, an absolute value and two average pools.
func BuildMotion(cfg MotionConfig) ([]byte, error) {
	H, W, err := cfg.size()
	if err != nil {
		return nil, err
	}
	h, w := int64(H), int64(W)
	g := NewGraph("motion")
	x := g.Input(MotionInput, Float, Dynamic("batch"), Fixed(3), Fixed(MotionFrames), Fixed(h), Fixed(w))
	r := g.Node("Reshape", []string{x, g.Int64("shape_9hw", []int64{4}, []int64{0, 3 * MotionFrames, h, w})})
	c := g.Node("Conv", []string{r, g.Float32("filters", []int64{4, 9, 3, 3}, motionKernels())},
		AttrInts("kernel_shape", 3, 3), AttrInts("pads", 1, 1, 1, 1))
	axis1 := g.Int64("axis1", []int64{1}, []int64{1})
	slice := func(in string, from, to int64) string {
		s := g.Int64(fmt.Sprintf("slice_%s_%d_%d", in, from, to), []int64{1}, []int64{from})
		e := g.Int64(fmt.Sprintf("slice_%s_%d_%d_end", in, from, to), []int64{1}, []int64{to})
		return g.Node("Slice", []string{in, s, e, axis1})
	}
	grad, it := slice(c, 0, 2), slice(c, 2, 3)
	flow := g.Node("Mul", []string{grad, it})         // −∂x·It, −∂y·It
	energy := g.Node("Abs", []string{slice(c, 2, 4)}) // |It|, |Itt|
	cell := []int64{h / MotionGrid, w / MotionGrid}
	pool := func(in string, k []int64) string {
		return g.Node("AveragePool", []string{in}, AttrInts("kernel_shape", k...), AttrInts("strides", k...))
	}
	// One fine pool for all five maps; the coarse grid is the mean of 2×2
	// fine cells, which equals the mean over the coarse cell because the
	// fine cells have equal size.
	fine := g.Node("Concat", []string{pool(energy, cell), pool(flow, cell), pool(it, cell)}, AttrInt("axis", 1))
	k := int64(MotionGrid / MotionCoarse)
	coarse := pool(slice(fine, 1, 5), []int64{k, k})
	flat := g.Int64("shape_b_flat", []int64{2}, []int64{0, -1})
	g.NodeNamed("Concat", MotionOutput, []string{
		g.Node("Reshape", []string{slice(fine, 0, 1), flat}),
		g.Node("Reshape", []string{coarse, flat}),
	}, AttrInt("axis", 1))
	g.Output(MotionOutput, Float, Dynamic("batch"), Fixed(MotionFeatures))
	return g.Marshal(ModelInfo{
		Producer: "signseg",
		Doc:      "training-free motion features: clips [B,3,3,H,W] (x/255-0.5) -> features [B,128]",
		Metadata: map[string]string{
			"model":      "motion",
			"layout":     "NCTHW",
			"frames":     strconv.Itoa(MotionFrames),
			"centre":     strconv.Itoa(MotionCentre),
			"height":     strconv.Itoa(H),
			"width":      strconv.Itoa(W),
			"features":   strconv.Itoa(MotionFeatures),
			"grid":       strconv.Itoa(MotionGrid),
			"preprocess": "rgb/255-0.5",
		},
	})
}

// ReferenceMotion computes BuildMotion's features for batch clips
// ([batch, 3, 3, H, W] row-major) with direct loops in float64, independently
// of the graph: grey frames first, then the filters, then the cell means.
func ReferenceMotion(cfg MotionConfig, clips []float32, batch int) ([]float32, error) {
	H, W, err := cfg.size()
	if err != nil {
		return nil, err
	}
	frame := H * W
	if batch <= 0 || len(clips) != batch*3*MotionFrames*frame {
		return nil, fmt.Errorf("motion features: %d values for %d clips of 3x%dx%dx%d", len(clips), batch, MotionFrames, H, W)
	}
	out := make([]float32, 0, batch*MotionFeatures)
	grey := make([][]float64, MotionFrames)
	for t := range grey {
		grey[t] = make([]float64, frame)
	}
	at := func(img []float64, y, x int) float64 { // zero outside the frame
		if y < 0 || y >= H || x < 0 || x >= W {
			return 0
		}
		return img[y*W+x]
	}
	blur := func(img []float64, y, x int) float64 {
		var s float64
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				s += float64((2-abs(dy))*(2-abs(dx))) * at(img, y+dy, x+dx)
			}
		}
		return s / 16
	}
	maps := make([][]float64, 5) // |It|, |Itt|, −∂x·It, −∂y·It, It
	for i := range maps {
		maps[i] = make([]float64, frame)
	}
	for b := 0; b < batch; b++ {
		clip := clips[b*3*MotionFrames*frame:]
		for t := 0; t < MotionFrames; t++ {
			for p := 0; p < frame; p++ {
				var s float64
				for c := 0; c < 3; c++ {
					s += lumaRGB[c] * float64(clip[(c*MotionFrames+t)*frame+p])
				}
				grey[t][p] = s
			}
		}
		g0, g1, g2 := grey[0], grey[1], grey[2]
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				dx := (at(g1, y-1, x+1) + 2*at(g1, y, x+1) + at(g1, y+1, x+1) -
					at(g1, y-1, x-1) - 2*at(g1, y, x-1) - at(g1, y+1, x-1)) / 8
				dy := (at(g1, y+1, x-1) + 2*at(g1, y+1, x) + at(g1, y+1, x+1) -
					at(g1, y-1, x-1) - 2*at(g1, y-1, x) - at(g1, y-1, x+1)) / 8
				it := (blur(g2, y, x) - blur(g0, y, x)) / 2
				itt := blur(g0, y, x) - 2*blur(g1, y, x) + blur(g2, y, x)
				p := y*W + x
				maps[0][p], maps[1][p], maps[2][p], maps[3][p], maps[4][p] = math.Abs(it), math.Abs(itt), -dx*it, -dy*it, it
			}
		}
		out = append(out, cellMeans(maps[0], H, W, MotionGrid)...)
		for _, m := range maps[1:] {
			out = append(out, cellMeans(m, H, W, MotionCoarse)...)
		}
	}
	return out, nil
}

// cellMeans averages img [H, W] over an n×n grid, row-major.
func cellMeans(img []float64, H, W, n int) []float32 {
	ch, cw := H/n, W/n
	out := make([]float32, 0, n*n)
	for gy := 0; gy < n; gy++ {
		for gx := 0; gx < n; gx++ {
			var s float64
			for y := gy * ch; y < (gy+1)*ch; y++ {
				for x := gx * cw; x < (gx+1)*cw; x++ {
					s += img[y*W+x]
				}
			}
			out = append(out, float32(s/float64(ch*cw)))
		}
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
