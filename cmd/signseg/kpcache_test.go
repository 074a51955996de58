package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/testenv"
)

// useFeatureCache turns the keypoint cache back on, which TestMain turns
// off for the other tests.
func useFeatureCache(t *testing.T) {
	t.Setenv(envNoFeatureCache, "")
	os.Unsetenv(envNoFeatureCache)
}

// tierAnnotations returns a tier's annotations (times, values) of an EAF file.
func tierAnnotations(t *testing.T, path, tier string) []eaf.Annotation {
	t.Helper()
	doc, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	anns, err := doc.Annotations(tier)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return anns
}

// videoJSON runs `video --json` with args and returns its one file report.
func videoJSON(t *testing.T, args ...string) (fileReport, string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, append([]string{"video", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("video %v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	var out struct{ Files []fileReport }
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || len(out.Files) != 1 {
		t.Fatalf("video --json: %v, %d files\n%s", err, len(out.Files), stdout)
	}
	return out.Files[0], stderr
}

// TestKeypointCache runs `video --model hands` on a generated video again
// and again: the first run computes the keypoints and stores them, the
// next read them from the cache and write the same tier; --no-feature-cache
// computes them again and stores nothing; a damaged cache file is computed
// again and replaced; a cache that cannot be written costs one warning
// line, not the run. `segment` reads the same cache.
func TestKeypointCache(t *testing.T) {
	t.Setenv(envMediaPipe, testenv.MediaPipePackage(t))
	useFeatureCache(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	eafPath, video := fixture(t, dir, "clip", 5)
	cacheDir := filepath.Join(models, featureCacheDir)
	cacheFile := func(t *testing.T) string {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(cacheDir, "keypoints-*", "*.features"))
		if err != nil || len(files) != 1 {
			t.Fatalf("feature cache holds %v (%v), want one keypoint file", files, err)
		}
		return files[0]
	}
	// Two more keypoint models: a copy of hands under another name, whose
	// keypoints are the same, and one that decodes the video at 25 fps as
	// slp-2023 does, whose keypoints are not (even where the video is at
	// 25 fps: ffmpeg's rate conversion may move frames).
	for name, rate := range map[string]string{"hands-copy": "", "hands-25fps": `"frame_rate": "25"`} {
		man := `{"name": "` + name + `", "description": "test", "provenance": "test", "license": "MIT", "training_free": true,
  "features": {"kind": "keypoints", "dim": 300, "offset": 0, "preprocess": {` + rate + `}},
  "decoding": {"decoder": "hands", "gaps": "split"}}`
		if err := os.MkdirAll(filepath.Join(models, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(models, name, "model.json"), []byte(man), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sum, _, err := fileSHA256(video)
	if err != nil {
		t.Fatal(err)
	}
	var first []eaf.Annotation
	for i, tc := range []struct {
		name    string
		model   string
		before  func(t *testing.T) // changes the cache before the run
		flags   []string
		want    string // feature_cache of the report
		warning bool   // one warning line on stderr
		files   int    // valid cache files after the run; -1: the cache folder is blocked
		same    bool   // the tier is the first run's
	}{
		{name: "first run computes", want: "computed", files: 1, same: true},
		{name: "second run reads the cache", want: "cached", files: 1, same: true},
		{name: "another decoding threshold reads the cache", flags: []string{"--threshold", "0.3"}, want: "cached", files: 1},
		{name: "another model with the same keypoints reads the cache", model: "hands-copy", want: "cached", files: 1, same: true},
		{name: "--no-feature-cache computes and stores nothing", flags: []string{"--no-feature-cache"}, want: "computed",
			before: func(t *testing.T) { os.Remove(cacheFile(t)) }, same: true},
		{name: "no file: computes and stores", want: "computed", files: 1, same: true},
		{name: "damaged file is computed again and replaced", want: "computed", files: 1, same: true, before: func(t *testing.T) {
			p := cacheFile(t)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x10
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "replaced file is read", want: "cached", files: 1, same: true},
		{name: "a model at 25 fps has keypoints of its own", model: "hands-25fps", want: "computed", files: 2},
		// The test runs as any user, root too, whom permissions do not
		// stop: a plain file where the cache folder should be makes every
		// write fail as a read-only models folder would.
		{name: "unwritable cache still segments", want: "computed", warning: true, files: -1, same: true, before: func(t *testing.T) {
			if err := os.RemoveAll(cacheDir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cacheDir, []byte("not a folder"), 0o444); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t)
			}
			model := tc.model
			if model == "" {
				model = "hands"
			}
			out := filepath.Join(dir, "out", string(rune('a'+i)))
			args := append([]string{"--models-dir", models, "--model", model, "--quiet", "--out", out}, tc.flags...)
			rep, stderr := videoJSON(t, append(args, video)...)
			if !reflect.DeepEqual(rep.FeatureCache, []string{tc.want}) {
				t.Errorf("feature_cache %q, want [%s]", rep.FeatureCache, tc.want)
			}
			warnings := strings.Count(stderr, "warning: keypoints not stored")
			if tc.warning && (warnings != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0) || !tc.warning && stderr != "" {
				t.Errorf("stderr %q; want one warning line: %v", stderr, tc.warning)
			}
			if tc.files < 0 {
				if st, err := os.Stat(cacheDir); err != nil || st.IsDir() {
					t.Errorf("the file blocking the cache folder was replaced (%v)", err)
				}
			} else {
				files, _ := filepath.Glob(filepath.Join(cacheDir, "*", "*.features"))
				if len(files) != tc.files {
					t.Errorf("feature cache holds %v, want %d files", files, tc.files)
				}
				for _, p := range files {
					id := filepath.Base(filepath.Dir(p))
					if _, err := readFeatureCache(p, sum, id, 300); err != nil || filepath.Base(p) != sum+".features" || !strings.HasPrefix(id, "keypoints-") {
						t.Errorf("cache file %s: %v; want a valid file in a keypoints-… folder named by the video's SHA-256", p, err)
					}
				}
			}
			spans := tierAnnotations(t, filepath.Join(out, "clip.eaf"), "signseg-signs")
			if i == 0 {
				first = spans
			} else if tc.same && !reflect.DeepEqual(spans, first) {
				t.Errorf("tier differs from the first run's:\n%v\nwant\n%v", spans, first)
			}
		})
	}

	// segment reads what video stored.
	os.Remove(cacheDir)
	rep, _ := videoJSON(t, "--models-dir", models, "--model", "hands", "--quiet", "--out", filepath.Join(dir, "out", "seg"), video)
	if !reflect.DeepEqual(rep.FeatureCache, []string{"computed"}) {
		t.Fatalf("feature_cache %q after removing the blocking file, want [computed]", rep.FeatureCache)
	}
	stdout, stderr, code := runCLI(t, "--models-dir", models, "segment", "--json", "--quiet", "--model", "hands", "--no-backup", eafPath)
	var out struct{ Files []fileReport }
	if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil || len(out.Files) != 1 {
		t.Fatalf("segment: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if got := out.Files[0].FeatureCache; !reflect.DeepEqual(got, []string{"cached"}) {
		t.Errorf("segment: feature_cache %q, want [cached]", got)
	}
	if got := tierAnnotations(t, eafPath, "signseg-signs"); !reflect.DeepEqual(got, first) {
		t.Errorf("segment: tier %v, want video's %v", got, first)
	}
}

// TestKeypointCacheRealSigning checks on real signing, where MediaPipe
// finds a signer, that keypoints read back from the cache give the tier
// that computing them gave.
func TestKeypointCacheRealSigning(t *testing.T) {
	media := testenv.SharedDir(t, "media")
	t.Setenv(envMediaPipe, testenv.MediaPipePackage(t))
	useFeatureCache(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	var tiers [][]eaf.Annotation
	for _, want := range []string{"computed", "cached"} {
		out := filepath.Join(dir, want)
		rep, _ := videoJSON(t, "--models-dir", models, "--model", "hands", "--quiet", "--out", out, filepath.Join(media, "demo-bsl-5s.mp4"))
		if !reflect.DeepEqual(rep.FeatureCache, []string{want}) {
			t.Fatalf("feature_cache %q, want [%s]", rep.FeatureCache, want)
		}
		tiers = append(tiers, tierAnnotations(t, filepath.Join(out, "demo-bsl-5s.eaf"), "signseg-signs"))
	}
	if len(tiers[0]) == 0 || !reflect.DeepEqual(tiers[0], tiers[1]) {
		t.Errorf("signs from cached keypoints:\n%v\nfrom computed ones:\n%v", tiers[1], tiers[0])
	}
}

// TestTrainKeypointCache checks that train and the segmenting commands
// share keypoints both ways: train reads what video stored, and video
// what train stored.
func TestTrainKeypointCache(t *testing.T) {
	t.Setenv(envMediaPipe, testenv.MediaPipePackage(t))
	useFeatureCache(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	a, videoA := fixture(t, dir, "a", 41)
	b, videoB := fixture(t, dir, "b", 42)
	if rep, _ := videoJSON(t, "--models-dir", models, "--model", "hands", "--quiet", "--out", filepath.Join(dir, "out"), videoA); !reflect.DeepEqual(rep.FeatureCache, []string{"computed"}) {
		t.Fatalf("video a: feature_cache %q, want [computed]", rep.FeatureCache)
	}
	stdout, stderr, code := runCLI(t, "train", "--models-dir", models, "--ref", "gloss", "--features", "hands", "--out", "kp", "--val-files", "b.eaf",
		"--epochs", "1", "--patience", "0", "--stages", "1", "--layers", "2", "--channels", "4", "--quiet", a, b)
	if code != 0 || !strings.Contains(stdout, "features (hands): 1 computed, 1 from the cache") {
		t.Fatalf("train: exit %d; want a's keypoints from the cache, b's computed\n%s%s", code, stdout, stderr)
	}
	if rep, _ := videoJSON(t, "--models-dir", models, "--model", "hands", "--quiet", "--out", filepath.Join(dir, "out"), videoB); !reflect.DeepEqual(rep.FeatureCache, []string{"cached"}) {
		t.Errorf("video b after train: feature_cache %q, want [cached]", rep.FeatureCache)
	}
}

// BenchmarkFileSHA256 measures hashing a video for its cache key
// (MB/s: the time for a 1 GB video is 1000 / that in seconds).
func BenchmarkFileSHA256(b *testing.B) {
	path := filepath.Join(b.TempDir(), "video")
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 7919 >> 5)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := fileSHA256(path); err != nil {
			b.Fatal(err)
		}
	}
}
