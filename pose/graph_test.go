package pose

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/signseg/signseg/internal/testenv"
)

// protoFloat is a protobuf float field: key (field<<3 | 5) then 4 bytes.
func protoFloat(field int, v float64) []byte {
	return binary.LittleEndian.AppendUint32([]byte{byte(field<<3 | 5)}, math.Float32bits(float32(v)))
}

// protoDouble is a protobuf double field: key (field<<3 | 1) then 8 bytes.
func protoDouble(field int, v float64) []byte {
	return binary.LittleEndian.AppendUint64([]byte{byte(field<<3 | 1)}, math.Float64bits(v))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestGraphParameters checks the thresholds and scales the Tracker uses
// against the MediaPipe graph configurations compiled (as binary
// protobuf) into the npm package's WebAssembly: each node's output stream
// name followed by its encoded options.
func TestGraphParameters(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join(testenv.MediaPipePackage(t), "holistic_solution_simd_wasm_bin.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	squareLong := []byte{0x38, 0x01} // RectTransformationCalculatorOptions.square_long = true
	cases := []struct {
		name    string
		context string // text just before the options
		options []byte
	}{
		{"pose ROI ×1.25 (from detection and from landmarks)", `"` + "\x03" + "roi:", cat(protoFloat(1, poseRectScale), protoFloat(2, poseRectScale), squareLong)},
		{"hand re-crop search ROI ×2.7, shift −0.1", `"` + "\x03" + "roi:", cat(protoFloat(1, handRecropScale), protoFloat(2, handRecropScale), protoFloat(6, handRecropShiftY), squareLong)},
		{"hand re-crop result shift −0.1", "hand_roi_from_recrop_refined:", cat(protoFloat(1, 1), protoFloat(2, 1), protoFloat(6, handRecropShiftY), squareLong)},
		{"hand ROI from landmarks ×2, shift −0.1", "NORM_RECT:palm_landmarks_rect", cat(protoFloat(1, handRectScale), protoFloat(2, handRectScale), protoFloat(6, handRectShiftY), squareLong)},
		{"hand tracking: 40°, 0.2, 0.4, margin −0.1", "TRACKING_RECT:hand_tracking_roi", cat(protoFloat(1, 40), protoFloat(2, 0.2), protoFloat(3, 0.4), []byte{0x1a, 0x05}, protoFloat(1, -0.1))},
		// Fields 16 and 19 of TensorsToDetectionsCalculatorOptions take
		// two-byte keys.
		{"pose detection: score ≥ 0.5, clip 100", "DETECTIONS:unfiltered_detections", cat([]byte{0x85, 0x01}, protoFloat(0, detScoreClip)[1:], []byte{0x9d, 0x01}, protoFloat(0, detMinScore)[1:])},
		{"weighted NMS at IoU 0.3", "filtered_detections:", cat(protoFloat(3, detNMSThreshold), []byte{0x20, 0x03, 0x38, 0x01})},
		{"wrist visibility > 0.1", "FLAG:wrist_visibility", protoDouble(1, wristVisibility)},
		{"pose presence > 0.5", "FLAG:pose_presence", protoDouble(1, posePresence)},
	}
	for _, c := range cases {
		found := false
		for i := 0; ; {
			j := bytes.Index(wasm[i:], []byte(c.context))
			if j < 0 {
				break
			}
			at := i + j
			end := min(len(wasm), at+len(c.context)+96)
			if bytes.Contains(wasm[at:end], c.options) {
				found = true
				break
			}
			i = at + 1
		}
		if !found {
			t.Errorf("%s: options % x not found after %q in the package's graphs", c.name, c.options, c.context)
		}
	}
}
