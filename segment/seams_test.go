package segment

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment/decode"
)

// kindBrightness is a feature kind that exists only in the tests: one value
// per frame, its mean brightness. Adding it takes one constructor and one
// entry in featureKinds, and no other change: the seam the keypoint
// features use.
const kindBrightness = "test-brightness"

func init() {
	featureKinds[kindBrightness] = featureKind{
		check: func(spec FeatureSpec) error {
			if spec.Dim != 1 {
				return errors.New("test-brightness: dim must be 1")
			}
			return nil
		},
		open: func(spec FeatureSpec, dir string) (newExtractorFunc, error) {
			return func(string, Options) (FeatureExtractor, error) { return brightness{spec}, nil }, nil
		},
	}
}

type brightness struct{ spec FeatureSpec }

func (b brightness) Preprocess() media.Preprocess { return b.spec.Preprocess }
func (b brightness) Dim() int                     { return 1 }
func (b brightness) Offset() int                  { return 0 }
func (b brightness) Close()                       {}

func (b brightness) Extract(ctx context.Context, src Frames, expected int, progress Progress) (*Features, error) {
	f := &Features{Dim: 1, FPS: b.spec.Preprocess.FrameRate.Float64()}
	buf := make([]float32, b.spec.Preprocess.FrameLen())
	for {
		fr, err := src.ReadFrame(buf)
		if err != nil {
			if f.Frames == 0 {
				return nil, errNoFrames
			}
			return f, nil
		}
		if f.Frames == 0 {
			f.StartMS = fr.TimeMs
		}
		var sum float32
		for _, v := range buf {
			sum += v
		}
		f.Data = append(f.Data, sum/float32(len(buf)))
		f.Frames++
	}
}

// writeBrightnessModel writes a model folder of the test-only kind with the
// given decoding section.
func writeBrightnessModel(t *testing.T, decoding string) string {
	t.Helper()
	dir := t.TempDir()
	man := `{"name": "bright", "description": "test", "provenance": "test", "license": "none",
	  "features": {"kind": "test-brightness", "dim": 1, "offset": 0,
	    "preprocess": {"frame_rate": "25/1", "width": 4, "height": 4, "mean": [0.5, 0.5, 0.5], "std": [1, 1, 1]}},
	  "decoding": ` + decoding + `}`
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// stepFrames returns frames that are dark, bright, then dark again, n each.
func stepFrames(n, frameLen int) [][]float32 {
	var out [][]float32
	for _, v := range []float32{-0.4, 0.4, -0.4} {
		for range n {
			f := make([]float32, frameLen)
			for i := range f {
				f[i] = v
			}
			out = append(out, f)
		}
	}
	return out
}

func TestTestOnlyFeatureKind(t *testing.T) {
	dir := writeBrightnessModel(t, `{"decoder": "changepoint", "min_sign_frames": 0, "changepoint": {"jump": 1}}`)
	m, err := LoadModel(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	seg, err := NewSegmenter(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	res, err := seg.Segment(context.Background(), &memFrames{frames: stepFrames(20, m.Features.Preprocess.FrameLen())}, 60, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Changepoints at 20 and 40, one boundary frame on each side, split:
	// three signs meeting at the changepoints.
	want := []decode.FrameSpan{{Start: 0, End: 20, Confidence: 1}, {Start: 20, End: 40, Confidence: 1}, {Start: 40, End: 60, Confidence: 1}}
	if !reflect.DeepEqual(res.Signs, want) || res.Frames != 60 {
		t.Fatalf("signs %+v in %d frames, want %+v in 60", res.Signs, res.Frames, want)
	}
}

// TestMotionEnergyNeedsMotionFeatures: the motion profile reads the first
// 64 feature values as a grid of motion; on other features it must be
// refused, in the manifest and as an override.
func TestMotionEnergyNeedsMotionFeatures(t *testing.T) {
	dir := writeBrightnessModel(t, `{"decoder": "changepoint", "changepoint": {"signal": "motion-energy"}}`)
	if _, err := LoadModel(dir, ""); err == nil || !strings.Contains(err.Error(), "needs the built-in motion features") {
		t.Fatalf("manifest asking for motion-energy on other features: got %v", err)
	}
	m, err := LoadModel(writeBrightnessModel(t, `{"decoder": "changepoint"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewSegmenter(m, Options{Decoding: Decoding{Changepoint: Changepoint{Signal: new(SignalMotionEnergy)}}})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "needs the built-in motion features") {
		t.Fatalf("override to motion-energy on other features: got %v, want a ConfigError", err)
	}
}

// TestDecodingOverrides: a set field overrides the model's value even when
// it is 0 or false; an unset field keeps the model's.
func TestDecodingOverrides(t *testing.T) {
	m, err := LoadModel(writeBrightnessModel(t, `{"decoder": "changepoint", "min_sign_frames": 5, "keep_edge_boundaries": true, "gaps": "keep"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		over          Decoding
		minSign       int
		keepEdges     bool
		gaps          string
		wantThreshold float64
	}{
		{"nothing set: the model's", Decoding{}, 5, true, decode.GapsKeep, 0.5},
		{"zero and false are values", Decoding{MinSignFrames: new(0), KeepEdgeBoundaries: new(false)}, 0, false, decode.GapsKeep, 0.5},
		{"other fields", Decoding{Gaps: new(decode.GapsSplit), Threshold: new(0.7)}, 5, true, decode.GapsSplit, 0.7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg, err := NewSegmenter(m, Options{Decoding: tc.over})
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			d := seg.Decoding()
			if *d.MinSignFrames != tc.minSign || *d.KeepEdgeBoundaries != tc.keepEdges || *d.Gaps != tc.gaps || *d.Threshold != tc.wantThreshold {
				t.Fatalf("in effect: %s", d)
			}
			opts := d.decodeOptions()
			if opts.MinSignFrames != tc.minSign || opts.DropEdgeBoundaries == tc.keepEdges {
				t.Fatalf("decode options %+v", opts)
			}
		})
	}
	// A manifest written back keeps "not set" apart from 0.
	js, err := json.Marshal(Decoding{MinSignFrames: new(0)})
	if err != nil || string(js) != `{"min_sign_frames":0}` {
		t.Fatalf("marshal: %s, %v", js, err)
	}
}

// TestSegmentConcurrent runs one Segmenter from several goroutines at once,
// as batch --jobs does; under -race (CI) it checks the claim that Segment is
// safe for concurrent use, and every run must give the same result.
func TestSegmentConcurrent(t *testing.T) {
	for _, name := range []string{"motion", "MS-TCN"} {
		t.Run(name, func(t *testing.T) {
			var m *Model
			var seg *Segmenter
			if name == "MS-TCN" {
				m = speedModel(t)
				var err error
				if seg, err = NewSegmenter(m, Options{BatchSize: 3}); err != nil {
					t.Fatal(err)
				}
				defer seg.Close()
			} else {
				m, seg = motionSegmenter(t)
			}
			frames := randomFrames(m, 40, 9)
			const runs = 4
			results := make([]*Result, runs)
			errs := make([]error, runs)
			var wg sync.WaitGroup
			for i := range runs {
				wg.Go(func() {
					results[i], errs[i] = seg.Segment(context.Background(), &memFrames{frames: frames}, len(frames), nil)
				})
			}
			wg.Wait()
			for i := range runs {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if !reflect.DeepEqual(results[i], results[0]) {
					t.Errorf("run %d differs from run 0", i)
				}
			}
		})
	}
}
