package main

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/segment"
)

// TestDecodingFlags: only the decoding flags given override the model, and
// 0 and false are values, not "unset".
func TestDecodingFlags(t *testing.T) {
	tests := []struct {
		args []string
		want segment.Decoding
	}{
		{nil, segment.Decoding{}},
		{[]string{"--min-sign-frames", "0"}, segment.Decoding{MinSignFrames: new(0)}},
		{[]string{"--keep-edge-boundaries=false"}, segment.Decoding{KeepEdgeBoundaries: new(false)}},
		{[]string{"--keep-edge-boundaries"}, segment.Decoding{KeepEdgeBoundaries: new(true)}},
		{[]string{"--threshold", "0.3", "--gaps", "keep", "--decoder", "threshold"},
			segment.Decoding{Threshold: new(0.3), Gaps: new("keep"), Decoder: new("threshold")}},
	}
	for _, tc := range tests {
		var got segment.Decoding
		app := &cli.App{
			Flags: modelFlags(),
			Action: func(c *cli.Context) error {
				cfg, err := engineConfigFrom(c, 0)
				got = cfg.Segment.Decoding
				return err
			},
		}
		if err := app.Run(append([]string{"signseg"}, tc.args...)); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: decoding %s, want %s", tc.args, got, tc.want)
		}
	}
}
