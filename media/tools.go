package media

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// Environment variables that name the ffmpeg and ffprobe executables,
// overriding the PATH search.
const (
	EnvFFmpeg  = "SIGNSEG_FFMPEG"
	EnvFFprobe = "SIGNSEG_FFPROBE"
)

// Tool is one external executable.
type Tool struct {
	Path    string // absolute or PATH-resolved path of the executable
	Version string // e.g. "5.1.9-0+deb12u1"; empty when not asked for
}

// Tools are the ffmpeg and ffprobe executables this package runs. The zero
// value is not usable; get one from FindTools.
type Tools struct {
	FFmpeg  Tool
	FFprobe Tool
}

// FindTools locates ffmpeg and ffprobe ($SIGNSEG_FFMPEG and $SIGNSEG_FFPROBE
// override the PATH search) and runs each with -version to check that it
// works and to report its version. The error says how to install ffmpeg on
// this platform.
func FindTools() (Tools, error) {
	t, err := lookTools()
	if err != nil {
		return Tools{}, err
	}
	for _, tool := range []*Tool{&t.FFmpeg, &t.FFprobe} {
		v, err := toolVersion(tool.Path)
		if err != nil {
			return Tools{}, err
		}
		tool.Version = v
	}
	return t, nil
}

// lookTools resolves both paths without running them; Probe and Open use it
// so that every call does not start two extra processes.
func lookTools() (Tools, error) {
	ff, err := lookTool("ffmpeg", EnvFFmpeg)
	if err != nil {
		return Tools{}, err
	}
	fp, err := lookTool("ffprobe", EnvFFprobe)
	if err != nil {
		return Tools{}, err
	}
	return Tools{FFmpeg: Tool{Path: ff}, FFprobe: Tool{Path: fp}}, nil
}

func lookTool(name, env string) (string, error) {
	if p := os.Getenv(env); p != "" {
		abs, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s is not an executable %s (%v): fix the variable or unset it to search PATH", env, p, name, err)
		}
		return abs, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH: %s, or set %s to its full path", name, installHint(), env)
	}
	return p, nil
}

// installHint says how to install ffmpeg (which includes ffprobe).
func installHint() string {
	switch runtime.GOOS {
	case "darwin":
		return "install it with `brew install ffmpeg`"
	case "windows":
		return "install it with `winget install Gyan.FFmpeg` (or download it from ffmpeg.org) and add its bin folder to PATH"
	case "linux":
		return "install it with `apt-get install -y --no-install-recommends ffmpeg` (Debian/Ubuntu; `dnf install ffmpeg` on Fedora)"
	default:
		return "install ffmpeg (which includes ffprobe) with your system's package manager"
	}
}

// toolVersion runs "path -version" and returns the word after "version" on
// its first line.
func toolVersion(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-version")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &stderr, nil
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("run %s -version: %w: %s", path, err, tail(stderr.Bytes(), 400))
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	f := strings.Fields(first)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "version" {
			return f[i+1], nil
		}
	}
	return "", fmt.Errorf("run %s -version: unexpected output %q: is it really ffmpeg/ffprobe?", path, first)
}

// tail returns the last n bytes of b as trimmed text, starting at a line
// boundary when one is near, for error messages.
func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	return strings.ReplaceAll(string(b), "\n", " | ")
}

// ffContext matches the "[mov,mp4,… @ 0x55d0c0a0] " prefix of ffmpeg log
// lines, which only adds noise (and differs between runs).
var ffContext = regexp.MustCompile(`\[[^\]\n]* @ 0x[0-9a-f]+\] `)

// ffMessage returns the tail of ffmpeg's or ffprobe's stderr for an error
// message, without log prefixes and with our "file:" input prefix removed.
func ffMessage(stderr []byte, path string) string {
	s := ffContext.ReplaceAllString(tail(stderr, 600), "")
	return strings.ReplaceAll(s, ffInput(path), path)
}
