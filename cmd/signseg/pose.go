package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/pose"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/tflite"
)

// envMediaPipe names the unpacked @mediapipe/holistic package folder.
const envMediaPipe = "SIGNSEG_MEDIAPIPE"

func poseCommand() *cli.Command {
	return &cli.Command{
		Name:      "pose",
		Usage:     "compute body and hand keypoints (MediaPipe Holistic) and write VIDEO.pose next to each video (or into --out)",
		ArgsUsage: "VIDEO...",
		Description: "Runs MediaPipe Holistic's pose and hand models (converted to ONNX on first use from the npm\n" +
			"package @mediapipe/holistic@" + tflite.HolisticVersion + ", which `make setup` unpacks into " + tflite.HolisticDir + ")\n" +
			"and writes the keypoints in the open .pose format (pose-format 0.2: POSE_LANDMARKS,\n" +
			"LEFT_HAND_LANDMARKS, RIGHT_HAND_LANDMARKS; pixels; confidence 0 = missing). Frames without a\n" +
			"signer and hands not found are written as missing. --overlay draws the skeletons on the video\n" +
			"(one video only) so that you can check them.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output folder (default: next to each video)"},
			&cli.StringFlag{Name: "overlay", Usage: "write the video with the skeletons drawn to this .mp4 (one video only)"},
			mediaPipeFlag(),
			&cli.IntFlag{Name: "complexity", Value: pose.ComplexityFull, Usage: "pose landmark model: 0 lite, 1 full (Holistic's default), 2 heavy"},
			&cli.IntFlag{Name: "threads", Usage: "CPU threads in all (default: all cores); the pose and hand stages run side by side, each with half"},
			&cli.BoolFlag{Name: "no-smoothing", Usage: "turn off MediaPipe's landmark smoothing"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("pose: give one or more video files")
			}
			overlay := c.String("overlay")
			if overlay != "" && c.NArg() > 1 {
				return usagef("pose: --overlay takes one video, %d given", c.NArg())
			}
			if c.Int("threads") < 0 {
				return usagef("pose: --threads must be ≥ 0")
			}
			if k := c.Int("complexity"); k < pose.ComplexityLite || k > pose.ComplexityHeavy {
				return usagef("pose: --complexity %d: use 0 (lite), 1 (full) or 2 (heavy)", k)
			}
			if _, err := initRuntime(c); err != nil {
				return err
			}
			tools, err := media.FindTools()
			if err != nil {
				return err
			}
			models, err := pose.LoadModels(poseModelsDir(c), mediaPipeDir(c), c.Int("complexity"))
			if err != nil {
				return err
			}
			// Two stages in parallel (pose of frame i+1, hands of frame i)
			// share the threads: --threads 2 runs each model on one.
			opt := pose.Options{Threads: c.Int("threads"), NoSmoothing: c.Bool("no-smoothing"), Pipeline: c.Int("threads") != 1}
			if opt.Threads > 1 {
				opt.Threads /= 2
			}
			tr, err := pose.NewTracker(models, opt)
			if err != nil {
				return err
			}
			defer tr.Close()
			failed := 0
			for _, v := range c.Args().Slice() {
				if c.Context.Err() != nil {
					return c.Context.Err()
				}
				out := strings.TrimSuffix(v, filepath.Ext(v)) + ".pose"
				if d := c.String("out"); d != "" {
					out = filepath.Join(d, filepath.Base(out))
				}
				start := time.Now()
				sum, err := poseVideo(c, tools, tr, v, out, overlay)
				if err != nil {
					fmt.Fprintf(c.App.ErrWriter, "%s: %v\n", programName, err)
					failed++
					continue
				}
				fmt.Fprintf(c.App.Writer, "%s → %s (%.1f s)\n", sum, out, time.Since(start).Seconds())
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("pose: %d of %d videos failed", failed, c.NArg()), exitFailed)
			}
			return nil
		},
	}
}

// poseVideo tracks one video into out (and the overlay video).
func poseVideo(c *cli.Context, tools media.Tools, tr *pose.Tracker, video, out, overlay string) (pose.Summary, error) {
	info, err := tools.Probe(c.Context, video)
	if err != nil {
		return pose.Summary{Path: video}, err
	}
	if !info.HasVideo {
		return pose.Summary{Path: video}, fmt.Errorf("%s has no video stream", video)
	}
	p := media.NativeRGB(info)
	w, err := pose.CreateHolistic(out, p.Width, p.Height, float32(p.FrameRate.Float64()))
	if err != nil {
		return pose.Summary{Path: video}, err
	}
	var enc *media.RGBWriter
	if overlay != "" {
		if enc, err = tools.CreateRGB(c.Context, overlay, p.Width, p.Height, p.FrameRate); err != nil {
			w.Abort()
			return pose.Summary{Path: video}, err
		}
	}
	sum, err := pose.TrackVideo(c.Context, tools, video, tr, func(f media.RGBFrame, kf pose.Frame) error {
		if err := w.Add(kf); err != nil {
			return err
		}
		if enc != nil {
			pose.Draw(f.Pix, f.Width, f.Height, kf)
			return enc.Write(f.Pix)
		}
		return nil
	})
	if err == nil && sum.Frames == 0 {
		err = fmt.Errorf("%s: no frames decoded", video)
	}
	if err != nil {
		w.Abort()
		if enc != nil {
			_ = enc.Close()
		}
		return sum, err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			w.Abort()
			return sum, err
		}
	}
	return sum, w.Close()
}

// mediaPipeFlag is --mediapipe, where the MediaPipe Holistic package is
// (see mediaPipeDir).
func mediaPipeFlag() cli.Flag {
	return &cli.StringFlag{Name: "mediapipe", Usage: "the package/ folder of the unpacked npm package @mediapipe/holistic (default: $" + envMediaPipe + ", else " + tflite.HolisticDir + " in the working directory or next to the binary)", EnvVars: []string{envMediaPipe}}
}

// poseModelsDir is where converted Holistic models are cached.
func poseModelsDir(c *cli.Context) string {
	return filepath.Join(modelsDir(c), pose.ModelsSubdir)
}

// mediaPipeDir finds the unpacked npm package: --mediapipe /
// $SIGNSEG_MEDIAPIPE, else lib/mediapipe/… in the working directory or
// next to the binary (bin/signseg → ../lib). "" when none is there.
func mediaPipeDir(c *cli.Context) string {
	if d := c.String("mediapipe"); d != "" {
		return d
	}
	if d := os.Getenv(envMediaPipe); d != "" {
		return d // doctor has no --mediapipe flag
	}
	cands := []string{tflite.HolisticDir}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		cands = append(cands, filepath.Join(d, tflite.HolisticDir), filepath.Join(d, "..", tflite.HolisticDir))
	}
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "holistic_solution_packed_assets.data")); err == nil {
			return d
		}
	}
	return ""
}

// poseDoctorLine reports whether the keypoint models are ready.
func poseDoctorLine(c *cli.Context) (bool, string) {
	cache, pkg := poseModelsDir(c), mediaPipeDir(c)
	cached, havePkg := pose.ModelStatus(cache, pkg, pose.ComplexityFull)
	switch {
	case cached:
		return true, "MediaPipe Holistic (converted) in " + cache
	case havePkg:
		return true, "MediaPipe Holistic package in " + pkg + " (converted into " + cache + " on first use)"
	}
	return false, "MediaPipe Holistic models not found (needed by the default model, " + segment.DefaultModel + ", and by `signseg pose`): run `make setup`, which unpacks @mediapipe/holistic@" +
		tflite.HolisticVersion + " into " + tflite.HolisticDir + ", or pass --mediapipe DIR"
}
