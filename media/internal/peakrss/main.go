// Command peakrss measures the peak memory of decoding a long video with
// package media: it generates an H.264 video with ffmpeg (10 minutes of
// 1280×720 at 25 fps by default) in a temporary folder, decodes it into the
// paper's 224×224 float32 frames, keeping a ring of 16 frames like the I3D
// stage, and prints the Go process's peak resident set (VmHWM from
// /proc/self/status) and ffmpeg's, sampled from /proc while it runs. Linux
// only.
//
//	go run ./media/internal/peakrss [-minutes 10] [-size 1280x720] [-input file]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signseg/signseg/media"
)

func main() {
	minutes := flag.Float64("minutes", 10, "length of the generated video")
	size := flag.String("size", "1280x720", "frame size of the generated video")
	input := flag.String("input", "", "decode this file instead of generating one")
	flag.Parse()
	if err := run(*minutes, *size, *input); err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(1)
	}
}

func run(minutes float64, size, input string) error {
	tools, err := media.FindTools()
	if err != nil {
		return err
	}
	fmt.Printf("ffmpeg %s, Go %s, %d CPUs\n", tools.FFmpeg.Version, runtime.Version(), runtime.NumCPU())
	if input == "" {
		dir, err := os.MkdirTemp("", "peakrss-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		input = filepath.Join(dir, "long.mp4")
		t0 := time.Now()
		cmd := exec.Command(tools.FFmpeg.Path, "-hide_banner", "-loglevel", "error", "-nostdin",
			"-f", "lavfi", "-i", "testsrc2=size="+size+":rate=25", "-t", strconv.FormatFloat(minutes*60, 'f', -1, 64),
			"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", input)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("generate: %v: %s", err, stderr.String())
		}
		fmt.Printf("generated %s (%.1f min, %s) in %.0f s\n", input, minutes, size, time.Since(t0).Seconds())
	}
	before, err := vmHWM("self")
	if err != nil {
		return err
	}

	p := media.PaperI3D()
	s, err := media.Open(context.Background(), input, p)
	if err != nil {
		return err
	}
	defer s.Close()
	var mu sync.Mutex
	childPeak := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample ffmpeg's peak while it runs
		defer wg.Done()
		for {
			for _, pid := range children() {
				if kb, err := vmHWM(pid); err == nil {
					mu.Lock()
					childPeak = max(childPeak, kb)
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	ring := make([]float32, 16*p.FrameLen())
	t0 := time.Now()
	n := 0
	for ; ; n++ {
		slot := n % 16
		_, err := s.ReadFrame(ring[slot*p.FrameLen() : (slot+1)*p.FrameLen()])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	elapsed := time.Since(t0)
	close(stop)
	wg.Wait()
	after, err := vmHWM("self")
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("decoded %d frames (expected %d) in %.1f s: %.0f frames/s\n", n, s.ExpectedFrames(), elapsed.Seconds(), float64(n)/elapsed.Seconds())
	fmt.Printf("Go process VmHWM: %.1f MB (%.1f MB before decoding); Go heap in use %.1f MB, total allocated %.1f MB\n",
		mb(after), mb(before), float64(ms.HeapInuse)/1e6, float64(ms.TotalAlloc)/1e6)
	fmt.Printf("ffmpeg VmHWM: %.1f MB (sampled every 200 ms)\n", mb(childPeak))
	return nil
}

func mb(kb int) float64 { return float64(kb) * 1024 / 1e6 }

// vmHWM reads the peak resident set in kB of a process ("self" or a pid).
func vmHWM(pid string) (int, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%s/status", pid)
}

// children lists the pids of this process's children.
func children() []string {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var out []string
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err == nil {
			out = append(out, strings.Fields(string(b))...)
		}
	}
	return out
}
