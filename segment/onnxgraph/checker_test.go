package onnxgraph

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestONNXChecker runs the reference onnx checker (full check and strict
// shape inference) on the generated models when the Python onnx package is
// installed; it is an optional extra on top of the ONNX Runtime tests.
func TestONNXChecker(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("skipping: %s cannot import onnx (optional; ONNX Runtime tests cover the models)", py)
	}
	w, err := RandomMSTCN(rand.New(rand.NewPCG(1, 1)), MSTCNDims{S: 2, L: 3, F: 8, D: 16, C: 2})
	if err != nil {
		t.Fatal(err)
	}
	mstcn, err := BuildMSTCN(w, MSTCNOptions{BoundaryClass: 1, Logits: true})
	if err != nil {
		t.Fatal(err)
	}
	motion, err := BuildMotion(MotionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string][]byte{"mstcn.onnx": mstcn, "motion.onnx": motion} {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, m, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); onnx.shape_inference.infer_shapes(m, strict_mode=True)", p).CombinedOutput()
		if err != nil {
			t.Errorf("onnx checker rejects %s: %v\n%s", name, err, out)
		}
	}
}
