package segment

import (
	"testing"

	"github.com/signseg/signseg/internal/ortenv"
	"github.com/signseg/signseg/internal/testenv"
)

// initORT initialises the process-wide ONNX Runtime for a test.
func initORT(t testing.TB) {
	t.Helper()
	if err := ortenv.Init(ortenv.Library{Path: testenv.ORTLibrary(t), Source: "test"}); err != nil {
		t.Fatal(err)
	}
}
