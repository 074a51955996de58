// Package media reads videos for signseg: it describes them with ffprobe
// (Probe) and streams their frames through an ffmpeg subprocess (Open),
// preprocessed exactly as a model asks (Preprocess), in constant memory.
//
// # Decoding
//
// One ffmpeg process per video decodes the first video stream, applies its
// rotation metadata, resamples it with ffmpeg's fps filter onto an even grid
// of the model's frame rate (so 29.97 fps and variable-rate input give
// evenly spaced frames), resizes it ignoring the aspect ratio, crops the
// centre and writes rgb24 to a pipe. Go converts each frame to float32
// (x/255 − mean)/std in the requested layout. The consumer pulls frames; a
// full pipe blocks ffmpeg, so memory does not grow with the video's length.
// The input is only ever read: nothing is written next to it, and no
// temporary files are made.
//
// # Time mapping
//
// Frame i of a stream has media time i × 1000 / FrameRate ms, exactly. Media
// time 0 is the start of the container's timeline as players show it:
//
//   - MP4, MOV, MKV, AVI and most other containers have a timeline that
//     starts at 0 by definition; a video stream that starts later (an edit
//     list, B-frame delay) is shown later by players, so Origin is 0.
//   - MPEG program and transport streams (.mpg, .vob, .mts, .ts) carry a
//     clock that starts at an arbitrary value: 0.5 s is usual for .mpg,
//     camcorder .mts files start anywhere. Players (VLC, ffplay, the system
//     frameworks ELAN uses) show the container start time, the earliest
//     timestamp of any stream, as 0:00, so Origin is that start time. The
//     video often starts a few tens of ms after the audio; its frames keep
//     their offset from the audio rather than being pulled to 0.
//
// ffmpeg reads the file with -copyts, the filter chain subtracts Origin, and
// the fps filter's grid is anchored at 0 (start_time=0): when the first
// picture comes later than 0, the first frames repeat it, and pictures
// before 0 are dropped. This makes frame i's time independent of how late
// the first picture is, and makes the paper's mapping (feature i ↔ frame
// i+8 ↔ (i+8)·40 ms at 25 fps) land directly on media time. ELAN's time
// is then media time − TIME_ORIGIN of the media descriptor.
//
// Because of -copyts, ffmpeg does not smooth over timestamp jumps inside a
// file (spliced transport streams): the fps filter then repeats or drops
// frames across the jump, as a player would show it.
//
// The alternative, times relative to the first decoded picture, would put
// every boundary of an .mpg whose video starts 40 ms after its audio 40 ms
// early in ELAN. Info reports StartTime, VideoStart and Origin for callers
// that need the raw values.
package media
