package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/testenv"
)

// tierCount returns the number of annotations of a tier, -1 when absent.
func tierCount(t *testing.T, path, tier string) int {
	t.Helper()
	doc, err := eaf.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Tier(tier); !ok {
		return -1
	}
	anns, err := doc.Annotations(tier)
	if err != nil {
		t.Fatal(err)
	}
	return len(anns)
}

// TestKeypointModels runs the keypoint models end to end: the 2023 pose
// segmenter imported from TorchScript (the committed tiny fixture here,
// the released model on real signing when ../shared is there) writes a
// sign tier and a sentence tier, and the hands rule a sign tier.
func TestKeypointModels(t *testing.T) {
	t.Setenv(envMediaPipe, testenv.MediaPipePackage(t))
	models := t.TempDir()
	tiny := testenv.Fixture(t, filepath.Join(testenv.RepoRoot(), "segment", "checkpoint", "testdata", "slp", "tiny.pt"), "scripts/fixtures/slp_fixtures.py")
	if out, stderr, code := runCLI(t, "model", "import", "--slp", tiny, "--name", "tiny-slp", "--models-dir", models); code != 0 || !strings.Contains(out, `installed model "tiny-slp"`) {
		t.Fatalf("model import --slp: exit %d\n%s%s", code, out, stderr)
	}
	dir := t.TempDir()
	_, video := fixture(t, dir, "clip", 5)
	os.Remove(filepath.Join(dir, "clip.eaf"))
	clip := filepath.Join(dir, "clip.eaf")
	if out, stderr, code := runCLI(t, "--models-dir", models, "video", "--quiet", "--model", "tiny-slp", video); code != 0 {
		t.Fatalf("video --model tiny-slp: exit %d\n%s%s", code, out, stderr)
	}
	// This model finds sentences: both tiers are written (the tiny model's
	// weights are random, so what it finds says nothing).
	if n, s := tierCount(t, clip, "signseg-signs"), tierCount(t, clip, "signseg-sentences"); n < 0 || s < 0 {
		t.Fatalf("tiny-slp: sign tier %d, sentence tier %d; want both", n, s)
	}
	// --sentence-tier "" writes none.
	os.Remove(clip)
	if out, stderr, code := runCLI(t, "--models-dir", models, "video", "--quiet", "--model", "tiny-slp", "--sentence-tier", "", video); code != 0 {
		t.Fatalf("video --sentence-tier '': exit %d\n%s%s", code, out, stderr)
	}
	if s := tierCount(t, clip, "signseg-sentences"); s != -1 {
		t.Fatalf("--sentence-tier \"\" wrote a sentence tier")
	}
	// A model without sentences writes no sentence tier.
	os.Remove(clip)
	if out, stderr, code := runCLI(t, "video", "--quiet", "--model", "hands", video); code != 0 {
		t.Fatalf("video --model hands: exit %d\n%s%s", code, out, stderr)
	}
	if n, s := tierCount(t, clip, "signseg-signs"), tierCount(t, clip, "signseg-sentences"); n < 0 || s != -1 {
		t.Fatalf("hands: sign tier %d, sentence tier %d; want a sign tier and no sentence tier", n, s)
	}
	// The generated cartoon has no body for MediaPipe (a false detection on
	// a frame or two at most): the user is told, on stderr and in the JSON
	// report.
	os.Remove(clip)
	js, stderr, code := runCLI(t, "video", "--quiet", "--json", video)
	var rep struct{ Files []fileReport }
	if err := json.Unmarshal([]byte(js), &rep); code != 0 || err != nil || len(rep.Files) != 1 {
		t.Fatalf("video --json: exit %d, %v\n%s%s", code, err, js, stderr)
	}
	if got := rep.Files[0].SignerShare; len(got) != 1 || got[0] > 0.1 {
		t.Fatalf("signer_share %v, want one share under 0.1", got)
	}
	os.Remove(clip)
	if _, stderr, code = runCLI(t, "video", "--quiet", video); code != 0 || !strings.Contains(stderr, "a signer was found on only") || strings.Count(stderr, video) != 2 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want one warning line naming the video", code, stderr)
	}

	shared := testenv.SharedDir(t, "models/slp-2023")
	media := testenv.SharedDir(t, "media")
	if out, stderr, code := runCLI(t, "model", "get", "slp-2023", "--from", filepath.Join(shared, "model.pth"), "--models-dir", models); code != 0 {
		t.Fatalf("model get --from: exit %d\n%s%s", code, out, stderr)
	}
	out := t.TempDir()
	demo := filepath.Join(out, "demo-bsl-5s.eaf")
	if o, stderr, code := runCLI(t, "--models-dir", models, "video", "--quiet", "--model", "slp-2023", "--out", out, filepath.Join(media, "demo-bsl-5s.mp4")); code != 0 {
		t.Fatalf("slp-2023 on demo-bsl-5s: exit %d\n%s%s", code, o, stderr)
	}
	if n, s := tierCount(t, demo, "signseg-signs"), tierCount(t, demo, "signseg-sentences"); n < 1 || s < 1 {
		t.Fatalf("slp-2023 on demo-bsl-5s: %d signs, %d sentences", n, s)
	}
	// The isolated Swedish sign: one sign (two at most), by the hands rule.
	taxi := filepath.Join(out, "ssl-isolated-taxi.eaf")
	if o, stderr, code := runCLI(t, "video", "--quiet", "--model", "hands", "--out", out, filepath.Join(media, "ssl-isolated-taxi.mp4")); code != 0 {
		t.Fatalf("hands on ssl-isolated-taxi: exit %d\n%s%s", code, o, stderr)
	}
	if n := tierCount(t, taxi, "signseg-signs"); n < 1 || n > 2 {
		t.Fatalf("hands on the isolated sign: %d signs, want 1 (2 at most)", n)
	}
}

func TestModelGetErrors(t *testing.T) {
	models := t.TempDir()
	tiny := testenv.Fixture(t, filepath.Join(testenv.RepoRoot(), "segment", "checkpoint", "testdata", "slp", "tiny.pt"), "scripts/fixtures/slp_fixtures.py")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"offline", []string{"model", "get", "slp-2023", "--url", "http://127.0.0.1:1/model.pth", "--models-dir", models}, 1, "--from model.pth"},
		{"not the published file", []string{"model", "get", "slp-2023", "--from", tiny, "--models-dir", models}, 1, "not the published"},
		{"unknown model", []string{"model", "get", "other", "--models-dir", models}, 2, "slp-2023"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d (want %d), stderr %q (want one line with %q)", code, tc.code, stderr, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(models); len(entries) != 0 {
		t.Fatalf("failed gets left %d entries in the models folder", len(entries))
	}
}
