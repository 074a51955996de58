// Command synth renders a synthetic "signer" video with known sign
// boundaries and writes the ground truth as an ELAN file next to it.
//
//	go run ./examples/synth -seed 1 -out demo/signer.mp4
//
// The video shows a static body and a hand that moves between places,
// holding still between moves; the moves are the "signs". It exercises
// signseg end to end; it is not real signing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/internal/synth"
)

func main() {
	out := flag.String("out", "signer.mp4", "video to write; the ground truth goes to the same name with -truth.eaf")
	seed := flag.Int64("seed", 1, "random seed")
	signs := flag.Int("signs", 12, "number of moves")
	flag.Parse()
	if err := run(*out, *seed, *signs); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(out string, seed int64, signs int) error {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return fmt.Errorf("ffmpeg not found; install it (Debian: apt-get install -y --no-install-recommends ffmpeg)")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	truth, err := synth.Render(context.Background(), ffmpeg, out, synth.Options{Seed: seed, Signs: signs})
	if err != nil {
		return err
	}
	truthPath := strings.TrimSuffix(out, filepath.Ext(out)) + "-truth.eaf"
	doc, err := eaf.New(eaf.NewOptions{VideoPath: out, EAFPath: truthPath})
	if err != nil {
		return err
	}
	spec := eaf.TierSpec{ID: "truth", Annotator: "synth"}
	for _, s := range truth.Signs {
		spec.Segments = append(spec.Segments, eaf.Segment{Start: truth.MS(s.Start), End: truth.MS(s.End), Value: "move"})
	}
	if _, err := doc.AddTier(spec); err != nil {
		return err
	}
	if err := doc.Save(truthPath, eaf.SaveOptions{Overwrite: true, NoBackup: true}); err != nil {
		return err
	}
	fmt.Printf("%s: %d frames, %d moves; ground truth in %s (tier \"truth\")\n", out, truth.Frames, len(truth.Signs), truthPath)
	return nil
}
