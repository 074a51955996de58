package segment

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/signseg/signseg/internal/ortsession"
	"github.com/signseg/signseg/internal/synth"
	"github.com/signseg/signseg/internal/testenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/pose"
)

// rgbFrames serves decoded RGB frames from memory, each reader its own
// copy of the list.
type rgbFrames struct {
	frames []media.RGBFrame
	pp     media.Preprocess
	next   int
}

func (r *rgbFrames) Preprocess() media.Preprocess { return r.pp }

func (r *rgbFrames) ReadRGB() (media.RGBFrame, error) {
	if r.next == len(r.frames) {
		return media.RGBFrame{}, io.EOF
	}
	r.next++
	return r.frames[r.next-1], nil
}

func (r *rgbFrames) ReadFrame([]float32) (media.Frame, error) {
	return media.Frame{}, errors.New("keypoint features read RGB frames")
}

// keypointSegmenter makes a Segmenter of the keypoint model name with 2
// threads, the MediaPipe models converted into a temporary folder; it is
// closed when the test ends.
func keypointSegmenter(tb testing.TB, name string) (*Model, *Segmenter) {
	tb.Helper()
	initORT(tb)
	pkg, cache := testenv.MediaPipePackage(tb), tb.TempDir()
	m, err := LoadModel(name, "")
	if err != nil {
		tb.Fatal(err)
	}
	holistic := func(k int) (*pose.Models, error) { return pose.LoadModels(cache, pkg, k) }
	seg, err := NewSegmenter(m, Options{Runtime: ortsession.Options{Threads: 2}, Holistic: holistic})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(seg.Close)
	return m, seg
}

// TestKeypointFeaturesConcurrent: the built-in hands model (keypoint
// features through MediaPipe Holistic) segments the same video from
// several goroutines at once with the same result as alone; under -race
// this checks the tracker pool. Its rows have the keypoint layout.
func TestKeypointFeaturesConcurrent(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "signer.mp4")
	if _, err := synth.Render(context.Background(), ffmpeg, path, synth.Options{Seed: 2, Width: 160, Height: 96, Signs: 2}); err != nil {
		t.Fatal(err)
	}
	m, seg := keypointSegmenter(t, "hands")
	s, err := media.Open(context.Background(), path, seg.Preprocess())
	if err != nil {
		t.Fatal(err)
	}
	var frames []media.RGBFrame
	for {
		f, err := s.ReadRGB()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Pix = append([]byte(nil), f.Pix...)
		frames = append(frames, f)
	}
	pp := s.Preprocess()
	s.Close()
	if w, h := frames[0].Width, frames[0].Height; w != 160 || h != 96 {
		t.Fatalf("frames of %d×%d, want the video's own 160×96", w, h)
	}
	feats, err := seg.Features(context.Background(), &rgbFrames{frames: frames, pp: pp}, len(frames), nil)
	if err != nil {
		t.Fatal(err)
	}
	if feats.Dim != KeypointDim || feats.Frames != len(frames) || feats.Rows() != len(frames) || feats.Offset != 0 {
		t.Fatalf("features %d×%d (offset %d) for %d frames", feats.Rows(), feats.Dim, feats.Offset, len(frames))
	}
	want, err := seg.SegmentFeatures(context.Background(), feats)
	if err != nil {
		t.Fatal(err)
	}
	// The generated cartoon has no body for MediaPipe to find.
	if want.SignerFrames*10 > want.Frames || len(want.Signs) != 0 {
		t.Errorf("generated cartoon: a signer on %d of %d frames, %d signs; want almost none, no signs", want.SignerFrames, want.Frames, len(want.Signs))
	}
	const runs = 3
	got := make([]*Result, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			got[i], errs[i] = seg.Segment(context.Background(), &rgbFrames{frames: frames, pp: pp}, len(frames), nil)
		})
	}
	wg.Wait()
	for i := range runs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("concurrent run %d differs from a run alone", i)
		}
	}
	// Without the Holistic models a keypoint model cannot run, and says so.
	if _, err := NewSegmenter(m, Options{}); err == nil {
		t.Error("a keypoint model was created without Holistic models")
	}
}

// TestKeypointExtractionCache checks which keypoint specs share a name:
// those that find the same keypoints, whatever their model does next.
func TestKeypointExtractionCache(t *testing.T) {
	hands, ok := builtinManifest("hands")
	if !ok {
		t.Fatal("no built-in hands manifest")
	}
	base := hands.Features
	withRate := func(f FeatureSpec, r media.Rational) FeatureSpec { f.Preprocess.FrameRate = r; return f }
	withPose := func(f FeatureSpec, p string) FeatureSpec { f.PoseModel = p; return f }
	baseName, ok := base.KeypointExtraction()
	if !ok || !strings.HasPrefix(baseName, "keypoints-") {
		t.Fatalf("hands: KeypointExtraction = %q, %v; want keypoints-…, true", baseName, ok)
	}
	for _, tc := range []struct {
		name string
		spec FeatureSpec
		same bool
	}{
		{"the same spec", base, true},
		{"pose model full named (the default)", withPose(base, "full"), true},
		{"fields of the clip kind set", func() FeatureSpec { f := base; f.File = "x.onnx"; f.BatchSize = 7; return f }(), true},
		{"25 fps instead of the video's own", withRate(base, media.Rational{Num: 25, Den: 1}), false},
		{"pose model lite", withPose(base, "lite"), false},
		{"pose model heavy", withPose(base, "heavy"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.spec.KeypointExtraction()
			if !ok {
				t.Fatal("not a keypoint extraction")
			}
			if (got == baseName) != tc.same {
				t.Errorf("name %q, hands' %q: same = %v, want %v", got, baseName, got == baseName, tc.same)
			}
		})
	}
	// Other kinds are not keypoints; the motion baseline is a clip model.
	motion, _ := builtinManifest("motion")
	if name, ok := motion.Features.KeypointExtraction(); ok || name != "" {
		t.Errorf("motion: KeypointExtraction = %q, %v; want \"\", false", name, ok)
	}
}
