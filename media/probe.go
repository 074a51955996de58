package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrNoVideo is returned (wrapped) by Probe and Open for a file that has no
// video stream, such as an audio-only recording.
var ErrNoVideo = errors.New("no video stream")

// Info describes a media file and its first video stream, as ffprobe reports
// them.
type Info struct {
	Path   string // the probed path
	Format string // container, ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "mpeg"

	HasVideo bool // a decodable video stream exists (cover art does not count)
	HasAudio bool // an audio stream exists

	// The fields below describe the first video stream and are zero when
	// HasVideo is false.
	Stream   int    // ffprobe's index of that stream, passed to ffmpeg's -map
	Codec    string // e.g. "h264", "mpeg2video"
	Width    int    // coded width in pixels, before rotation
	Height   int    // coded height in pixels, before rotation
	Rotation int    // clockwise display rotation in degrees: 0, 90, 180 or 270

	FrameRate    Rational // nominal rate (r_frame_rate), e.g. 30000/1001
	AvgFrameRate Rational // average rate (avg_frame_rate); differs from FrameRate for variable-rate video
	Frames       int64    // frame count from the container header; 0 when unknown (e.g. MPEG-PS)

	Duration   time.Duration // video stream duration, else the container's
	StartTime  time.Duration // container start time (earliest stream)
	VideoStart time.Duration // start time of the video stream
	// Origin is the container timestamp that this package maps to media
	// time 0: StartTime for MPEG program and transport streams (.mpg, .vob,
	// .mts, .ts), whose timestamps start at an arbitrary value, and 0 for
	// every other container, whose timeline starts at 0 by definition. See
	// the package documentation.
	Origin time.Duration
}

// DisplaySize returns the size of the picture as shown, after rotation.
func (in *Info) DisplaySize() (w, h int) {
	if in.Rotation == 90 || in.Rotation == 270 {
		return in.Height, in.Width
	}
	return in.Width, in.Height
}

// End returns the media time at which the video ends: its start relative to
// Origin plus its duration. It is the basis of frame-count estimates.
func (in *Info) End() time.Duration {
	return in.VideoStart - in.Origin + in.Duration
}

// Probe describes the media file at path using ffprobe found by FindTools'
// rules (without running -version).
func Probe(ctx context.Context, path string) (*Info, error) {
	t, err := lookTools()
	if err != nil {
		return nil, err
	}
	return t.Probe(ctx, path)
}

// Probe describes the media file at path. Errors name the file and say what
// is wrong: missing, empty, a directory, unreadable or damaged (with the tail
// of ffprobe's messages), or without a video stream. In the last case the
// error wraps ErrNoVideo and the returned Info is non-nil, so callers can
// still see that the file is audio-only.
func (t Tools) Probe(ctx context.Context, path string) (*Info, error) {
	if err := checkInput(path); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, t.FFprobe.Path, "-v", "error", "-print_format", "json",
		"-show_streams", "-show_format", ffInput(path))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &stderr, nil
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("probe %s: %w", path, ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("probe %s: ffprobe cannot read it; it is not a media file, or it is damaged or truncated (ffprobe: %s)", path, ffMessage(stderr.Bytes(), path))
		}
		return nil, fmt.Errorf("probe %s: run %s: %w", path, t.FFprobe.Path, err)
	}
	return parseProbe(path, out.Bytes())
}

// checkInput gives clear errors for the cases ffprobe words badly.
func checkInput(path string) error {
	if path == "" {
		return errors.New("no media file given")
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("media file %s: %w: check the path", path, os.ErrNotExist)
		}
		return fmt.Errorf("media file %s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("media file %s is a directory, not a video file", path)
	}
	if st.Size() == 0 {
		return fmt.Errorf("media file %s is empty (0 bytes): the recording or copy is incomplete", path)
	}
	return nil
}

// ffInput protects a path from ffmpeg's protocol and option parsing
// ("-x.mp4", "concat:a|b", "http:…").
func ffInput(path string) string { return "file:" + path }

type probeJSON struct {
	Streams []struct {
		Index        int    `json:"index"`
		CodecName    string `json:"codec_name"`
		CodecType    string `json:"codec_type"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		RFrameRate   string `json:"r_frame_rate"`
		AvgFrameRate string `json:"avg_frame_rate"`
		StartTime    string `json:"start_time"`
		Duration     string `json:"duration"`
		NbFrames     string `json:"nb_frames"`
		Disposition  struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
		SideData []sideData        `json:"side_data_list"`
		Tags     map[string]string `json:"tags"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		StartTime  string `json:"start_time"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

type sideData struct {
	Type     string   `json:"side_data_type"`
	Rotation *float64 `json:"rotation"`
}

func parseProbe(path string, data []byte) (*Info, error) {
	var p probeJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("probe %s: cannot parse ffprobe output: %w", path, err)
	}
	in := &Info{Path: path, Format: p.Format.FormatName}
	in.StartTime = seconds(p.Format.StartTime)
	found := false
	for _, s := range p.Streams {
		switch {
		case s.CodecType == "audio":
			in.HasAudio = true
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && !found:
			found = true
			in.HasVideo = true
			in.Stream = s.Index
			in.Codec = s.CodecName
			in.Width, in.Height = s.Width, s.Height
			in.FrameRate, _ = ParseRational(s.RFrameRate)
			in.AvgFrameRate, _ = ParseRational(s.AvgFrameRate)
			in.Frames, _ = strconv.ParseInt(s.NbFrames, 10, 64)
			in.VideoStart = seconds(s.StartTime)
			in.Duration = seconds(s.Duration)
			in.Rotation = rotation(s.SideData, s.Tags)
		}
	}
	if in.Duration == 0 {
		in.Duration = seconds(p.Format.Duration)
	}
	if isMPEGStream(in.Format) {
		in.Origin = in.StartTime
	}
	if !in.HasVideo {
		if len(p.Streams) == 0 {
			return in, fmt.Errorf("probe %s: %w: the file contains no streams at all (a zero-length recording?)", path, ErrNoVideo)
		}
		what := "only non-video streams"
		if in.HasAudio {
			what = "only audio"
		}
		return in, fmt.Errorf("probe %s: %w: the file contains %s; signseg needs the video of the signing", path, ErrNoVideo, what)
	}
	if in.Width <= 0 || in.Height <= 0 {
		return in, fmt.Errorf("probe %s: the video stream (%s) has no picture size; the file is damaged or the codec is unsupported by this ffmpeg", path, in.Codec)
	}
	return in, nil
}

// isMPEGStream reports whether a format_name is MPEG-PS or MPEG-TS, whose
// clocks start at arbitrary values (0.5 s, 1.4 s, hours) that players
// subtract.
func isMPEGStream(format string) bool {
	for _, f := range strings.Split(format, ",") {
		switch f {
		case "mpeg", "mpegts", "mpegtsraw":
			return true
		}
	}
	return false
}

// rotation returns the clockwise display rotation. ffprobe reports the
// display matrix angle counter-clockwise (side data "rotation", ffmpeg ≥ 3),
// older builds only the clockwise "rotate" tag.
func rotation(side []sideData, tags map[string]string) int {
	deg := math.NaN()
	for _, s := range side {
		if s.Rotation != nil {
			deg = -*s.Rotation
			break
		}
	}
	if math.IsNaN(deg) {
		if v, err := strconv.ParseFloat(tags["rotate"], 64); err == nil {
			deg = v
		} else {
			return 0
		}
	}
	r := int(math.Round(deg/90)) * 90 % 360
	if r < 0 {
		r += 360
	}
	return r
}

// seconds converts ffprobe's decimal seconds ("0.540000", "N/A") to a
// Duration, 0 when absent.
func seconds(s string) time.Duration {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return time.Duration(math.Round(v * 1e9))
}
