package eval

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/signseg/signseg/segment/decode"
)

// videoProtocolFixture is testdata/video_protocol.json, written by
// scripts/fixtures/eval_video_protocol.py with the authors' evaluation code.
type videoProtocolFixture struct {
	FPS   float64             `json:"fps"`
	Cases []videoProtocolCase `json:"cases"`
	Total officialScores      `json:"total"`
}

// videoProtocolCase is one video: its tiers (ms), the frame labels they
// give over the whole video, and what the authors' code printed for it
// (or why it printed nothing).
type videoProtocolCase struct {
	Name          string          `json:"name"`
	Frames        int             `json:"frames"`
	Ref           [][][2]int64    `json:"ref"`
	Hyp           [][2]int64      `json:"hyp"`
	GT            []int           `json:"gt"`
	Pred          []int           `json:"pred"`
	Official      *officialScores `json:"official"`
	OfficialError string          `json:"official_error"`
}

// officialScores are the numbers of the authors' Metric; a nil pointer is
// NaN there.
type officialScores struct {
	MF1B          *float64   `json:"mf1b"`
	MF1S          *float64   `json:"mf1s"`
	F1S           [2]float64 `json:"f1s"`
	PrecisionB    *float64   `json:"boundary_precision"`
	RecallB       *float64   `json:"boundary_recall"`
	Acc           float64    `json:"frame_accuracy"`
	IoU           *float64   `json:"mean_iou"`
	Dist          *float64   `json:"mean_boundary_distance"`
	WidthHyp      float64    `json:"boundary_width_hyp"`
	WidthRef      float64    `json:"boundary_width_ref"`
	BoundariesHyp int        `json:"boundaries_hyp"`
	BoundariesRef int        `json:"boundaries_ref"`
	BoundaryTP    []int      `json:"boundary_tp"`
	BoundaryFP    []int      `json:"boundary_fp"`
	BoundaryFN    []int      `json:"boundary_fn"`
	SignTP        []int      `json:"sign_tp"`
	SignFP        []int      `json:"sign_fp"`
	SignFN        []int      `json:"sign_fn"`
	Frames        int        `json:"frames"`
}

func loadVideoProtocol(t *testing.T) videoProtocolFixture {
	t.Helper()
	data, err := os.ReadFile("testdata/video_protocol.json")
	if err != nil {
		t.Fatalf("committed fixture missing: %v", err)
	}
	var f videoProtocolFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 20 || f.FPS != 25 {
		t.Fatalf("fixture has %d cases at %v fps", len(f.Cases), f.FPS)
	}
	return f
}

// spans turns fixture annotations into decode spans.
func spans(anns [][2]int64) []decode.TimeSpan {
	s := make([]decode.TimeSpan, len(anns))
	for i, a := range anns {
		s[i] = decode.TimeSpan{BeginMS: a[0], EndMS: a[1]}
	}
	return s
}

// checkOfficial compares a report with the authors' numbers to 1e-6.
// NaN there (nil) is 0 here, by Evaluate's definitions, except for the
// mean IoU of several videos: Evaluate leaves a NaN video out, so it is
// not compared (nanIoUOut).
func checkOfficial(t *testing.T, name string, r Report, o officialScores, nanIoUOut bool) {
	t.Helper()
	num := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	floats := []struct {
		what      string
		got, want float64
	}{
		{"mF1B", r.MF1B, num(o.MF1B)}, {"mF1S", r.MF1S, num(o.MF1S)},
		{"F1S@0.5", r.F1S[0], o.F1S[0]}, {"F1S@0.75", r.F1S[1], o.F1S[1]},
		{"precision", r.MeanPrecisionB, num(o.PrecisionB)}, {"recall", r.MeanRecallB, num(o.RecallB)},
		{"acc", r.Acc, o.Acc}, {"dist", r.Dist, num(o.Dist)},
		{"width hyp", r.WidthBPred, o.WidthHyp}, {"width ref", r.WidthBGT, o.WidthRef},
	}
	if o.IoU != nil || !nanIoUOut {
		floats = append(floats, struct {
			what      string
			got, want float64
		}{"IoU", r.IoU, num(o.IoU)})
	}
	for _, f := range floats {
		if math.Abs(f.got-f.want) > 1e-6 {
			t.Errorf("%s: %s = %v, the authors' code gives %v", name, f.what, f.got, f.want)
		}
	}
	var btp, bfp, bfn, stp, sfp, sfn []int
	for _, s := range r.Boundary {
		btp, bfp, bfn = append(btp, s.TP), append(bfp, s.FP), append(bfn, s.FN)
	}
	for _, s := range r.Sign {
		stp, sfp, sfn = append(stp, s.TP), append(sfp, s.FP), append(sfn, s.FN)
	}
	got := [][]int{btp, bfp, bfn, stp, sfp, sfn, {r.BoundariesPred, r.BoundariesGT, r.Frames}}
	want := [][]int{o.BoundaryTP, o.BoundaryFP, o.BoundaryFN, o.SignTP, o.SignFP, o.SignFN, {o.BoundariesHyp, o.BoundariesRef, o.Frames}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: counts (boundary TP FP FN, sign TP FP FN, #B hyp ref frames)\n got %v\nwant %v", name, got, want)
	}
}

// TestWholeVideoMatchesOfficial checks the whole-video protocol against the
// authors' evaluation code run on the same frame labels: per video and
// micro-averaged over all videos, including the worked example, predictions
// outside the reference and at the video's edges, no reference boundaries,
// predictions everywhere and a single evaluated frame. The labels
// themselves come from tiers and must equal FrameLabels'.
func TestWholeVideoMatchesOfficial(t *testing.T) {
	f := loadVideoProtocol(t)
	var videos []Video
	crashed, short := 0, 0
	for _, c := range f.Cases {
		var ref [][]decode.TimeSpan
		for _, tier := range c.Ref {
			ref = append(ref, spans(tier))
		}
		gt, err := FrameLabels(ref, c.Frames, f.FPS)
		if err != nil {
			t.Fatal(err)
		}
		pred, err := FrameLabels([][]decode.TimeSpan{spans(c.Hyp)}, c.Frames, f.FPS)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gt, c.GT) || !reflect.DeepEqual(pred, c.Pred) {
			t.Fatalf("%s: FrameLabels gives other labels than the fixture", c.Name)
		}
		v, err := NewWholeVideo(c.Name, pred, gt)
		if c.Frames < MinVideoFrames {
			// The authors' loader drops the video.
			var ts *TooShortError
			if !errors.As(err, &ts) || ts.Frames != c.Frames || c.Official != nil {
				t.Errorf("%s: %d frames: error %v, want a TooShortError", c.Name, c.Frames, err)
			}
			short++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		r, err := Evaluate([]Video{v})
		if err != nil {
			t.Fatal(err)
		}
		if c.Official == nil {
			// The authors' code raises (predicted but no reference
			// boundaries); Evaluate counts every prediction as a false
			// positive.
			if r.BoundariesGT != 0 || r.BoundariesPred == 0 {
				t.Fatalf("%s: the authors' code failed (%s) but the video has %d/%d boundaries", c.Name, c.OfficialError, r.BoundariesPred, r.BoundariesGT)
			}
			for _, s := range r.Boundary {
				if s.TP != 0 || s.FP != r.BoundariesPred || s.FN != 0 {
					t.Errorf("%s: %+v, want every predicted boundary a false positive", c.Name, s)
				}
			}
			crashed++
			continue
		}
		checkOfficial(t, c.Name, r, *c.Official, false)
		if c.Name == "worked example" && (r.MF1B != 70 || math.Abs(r.MF1S-28.57) > 1e-12) {
			t.Errorf("worked example: mF1B %v mF1S %v, want 70 and 28.57 (paper-pipeline.md §8)", r.MF1B, r.MF1S)
		}
		videos = append(videos, v)
	}
	if crashed == 0 || short == 0 {
		t.Fatalf("the fixture lacks a failing (%d) or a too short (%d) case", crashed, short)
	}
	total, err := Evaluate(videos)
	if err != nil {
		t.Fatal(err)
	}
	checkOfficial(t, "total", total, f.Total, true)
	t.Logf("%d videos: mF1B %.2f mF1S %.5f", len(videos), total.MF1B, total.MF1S)
}

func TestVideoWindow(t *testing.T) {
	for _, c := range []struct{ total, first, n int }{{0, 8, 0}, {15, 8, 0}, {16, 8, 1}, {125, 8, 110}} {
		if first, n := VideoWindow(c.total); first != c.first || n != c.n {
			t.Errorf("VideoWindow(%d) = %d, %d; want %d, %d", c.total, first, n, c.first, c.n)
		}
	}
	if _, err := NewWholeVideo("x", make([]int, 20), make([]int, 21)); err == nil {
		t.Error("different lengths: no error")
	}
}
