package main

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/media"
	"github.com/signseg/signseg/segment"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check that everything signseg needs is installed",
		Flags: []cli.Flag{mediaPipeFlag()},
		Description: "Reports, one line each, the ONNX Runtime library, ffmpeg and ffprobe, the available\n" +
			"models and the number of CPU threads used. Exits 1 when something required is missing,\n" +
			"naming the command that fixes it.",
		Action: func(c *cli.Context) error {
			w := c.App.Writer
			failed := 0
			line := func(ok bool, what, detail string) {
				status := "ok  "
				if !ok {
					status = "FAIL"
					failed++
				}
				fmt.Fprintf(w, "%s  %-12s %s\n", status, what, detail)
			}

			line(true, "signseg", appVersion())
			if lib, err := initRuntime(c); err != nil {
				line(false, "onnxruntime", err.Error())
			} else {
				line(true, "onnxruntime", fmt.Sprintf("%s  %s (%s)", ortenv.Version(), lib.Path, lib.Source))
			}

			tools, err := media.FindTools()
			for _, t := range []struct {
				name string
				tool media.Tool
			}{{"ffmpeg", tools.FFmpeg}, {"ffprobe", tools.FFprobe}} {
				if t.tool.Path == "" {
					line(false, t.name, fmt.Sprintf("not found: %v", err))
					continue
				}
				line(true, t.name, fmt.Sprintf("%s  %s", t.tool.Version, t.tool.Path))
			}

			dir := modelsDir(c)
			for _, m := range segment.ListModels(dir) {
				if m.Err != nil {
					line(false, "model", fmt.Sprintf("%s (%s): %v", m.Name, m.Source, m.Err))
					continue
				}
				line(true, "model", fmt.Sprintf("%s (%s): %s", m.Name, m.Source, m.Description))
			}
			ok, detail := poseDoctorLine(c)
			line(ok, "keypoints", detail)
			fmt.Fprintf(w, "ok    %-12s %s\n", "models-dir", dir)
			if files, bytes := dirUsage(filepath.Join(dir, featureCacheDir)); files > 0 {
				fmt.Fprintf(w, "ok    %-12s %s: %d files, %.1f MB of cached features (delete the folder to free the space)\n", "cache", filepath.Join(dir, featureCacheDir), files, float64(bytes)/1e6)
			}
			fmt.Fprintf(w, "ok    %-12s %d (all cores; change with --threads)\n", "threads", runtime.NumCPU())
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("doctor: %d problem(s) found", failed), exitFailed)
			}
			return nil
		},
	}
}

// dirUsage counts the files under dir and their bytes (0, 0 when it does
// not exist).
func dirUsage(dir string) (files int, bytes int64) {
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				files++
				bytes += info.Size()
			}
		}
		return nil
	})
	return files, bytes
}

// initRuntime initialises ONNX Runtime from --ort-lib and the usual places.
func initRuntime(c *cli.Context) (ortenv.Library, error) {
	lib, err := ortenv.Find(c.String("ort-lib"))
	if err != nil {
		return lib, err
	}
	return lib, ortenv.Init(lib)
}

// modelsDir returns --models-dir, else the per-user default.
func modelsDir(c *cli.Context) string {
	if d := c.String("models-dir"); d != "" {
		return d
	}
	return segment.DefaultModelsDir()
}
