package plugin

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestProgressRate: small steps are held back until they add up to 0.01,
// or until two seconds passed with something new to say.
func TestProgressRate(t *testing.T) {
	var b bytes.Buffer
	p := NewProtocol(&b, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	steps := []struct {
		after time.Duration
		f     float64
		msg   string
	}{
		{0, 0.100, "a"},
		{time.Second, 0.105, "a"},     // too small, too soon
		{time.Second, 0.105, "b"},     // two seconds, new message
		{3 * time.Second, 0.105, "b"}, // nothing new
		{0, 0.11, "b"},                // +0.01
		{0, 0.111, "c"},               // new message, too soon
	}
	for _, s := range steps {
		now = now.Add(s.after)
		p.Progress(s.f, s.msg)
	}
	want := []string{"PROGRESS: 0.10 a", "PROGRESS: 0.10 b", "PROGRESS: 0.11 b"}
	if got := strings.Split(strings.TrimSpace(b.String()), "\n"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
