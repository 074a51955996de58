package eaf

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if p := os.Getenv("EAF_CRASH_FILE"); p != "" {
		os.Exit(crashHelper(p, os.Getenv("EAF_CRASH_LOG")))
	}
	os.Exit(m.Run())
}

func tempCopy(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(src))
	copyFile(t, src, p)
	return p
}

func addSome(t *testing.T, d *Document) {
	t.Helper()
	if _, err := d.AddTier(TierSpec{ID: "signseg-save", Segments: testSegments(3, 0)}); err != nil {
		t.Fatal(err)
	}
}

func TestSaveBackupAndIdentity(t *testing.T) {
	p := tempCopy(t, "testdata/signseg_tier.eaf")
	orig, _ := os.ReadFile(p)
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	d := mustRead(t, p)
	if d.Modified() {
		t.Error("unedited document reports a modification")
	}
	addSome(t, d)
	if !d.Modified() {
		t.Error("edited document reports no modification")
	}
	if err := d.Save(p, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	bak, _ := os.ReadFile(p + ".bak")
	if !bytes.Equal(got, d.Bytes()) || !bytes.Equal(bak, orig) {
		t.Fatal("saved file or backup wrong")
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", st.Mode().Perm())
	}
	id, _ := d.Source()
	if id.SHA256 != sha256.Sum256(got) || id.Size != int64(len(got)) {
		t.Error("identity not updated after save")
	}
	// a second edit and save over the same file works and backs up the first save
	if err := d.SetProperty("signseg-version", "9"); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(p, SaveOptions{NoBackup: true}); err != nil {
		t.Fatal(err)
	}
	if bak2, _ := os.ReadFile(p + ".bak"); !bytes.Equal(bak2, orig) {
		t.Error("NoBackup still replaced the backup")
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestSaveRefusesChangedFile(t *testing.T) {
	p := tempCopy(t, "testdata/signseg_tier.eaf")
	d := mustRead(t, p)
	addSome(t, d)
	// someone saves the file in ELAN meanwhile
	elan := bytes.Replace(mustRead(t, p).Bytes(), []byte("HELLO"), []byte("HALLO"), 1)
	if err := os.WriteFile(p, elan, 0o644); err != nil {
		t.Fatal(err)
	}
	err := d.Save(p, SaveOptions{})
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v, want ErrChanged naming the file", err)
	}
	if now, _ := os.ReadFile(p); !bytes.Equal(now, elan) {
		t.Error("the changed file was overwritten")
	}
	if _, err := os.Stat(p + ".bak"); err == nil {
		t.Error("a backup was written for a refused save")
	}
	// only the modification time changed (touch): the content is the same, so saving is fine
	p2 := tempCopy(t, "testdata/v30_full.eaf")
	d2 := mustRead(t, p2)
	addSome(t, d2)
	later := time.Now().Add(time.Hour)
	os.Chtimes(p2, later, later)
	if err := d2.Save(p2, SaveOptions{}); err != nil {
		t.Errorf("touched file: %v", err)
	}
	// the file was deleted meanwhile: not the source any more, so it is
	// written as a new file
	p3 := tempCopy(t, "testdata/v20.eaf")
	d3 := mustRead(t, p3)
	os.Remove(p3)
	if err := d3.Save(p3, SaveOptions{}); err != nil {
		t.Errorf("deleted source: %v", err)
	}
}

func TestSaveOtherPath(t *testing.T) {
	src := tempCopy(t, "testdata/v27_oldcv.eaf")
	orig, _ := os.ReadFile(src)
	d := mustRead(t, src)
	addSome(t, d)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "copy.eaf")
	if err := d.Save(out, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(src); !bytes.Equal(now, orig) {
		t.Error("saving elsewhere touched the original")
	}
	if _, err := os.Stat(out + ".bak"); err == nil {
		t.Error("backup made for a new file")
	}
	if err := d.Save(out, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("second save to an existing other file: %v", err)
	}
	if err := d.Save(out, SaveOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out + ".bak"); err != nil {
		t.Error("no backup of the overwritten file")
	}
	// the source is still the original file, unchanged: saving there works
	if err := d.Save(src, SaveOptions{NoBackup: true}); err != nil {
		t.Fatal(err)
	}
	// saving through a symbolic link replaces the target and keeps the link
	link := filepath.Join(outDir, "link.eaf")
	if err := os.Symlink(src, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	d = mustRead(t, link)
	if err := d.SetProperty("via", "link"); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(link, SaveOptions{NoBackup: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if v, _ := mustRead(t, src).Property("via"); v != "link" {
		t.Error("the link's target was not updated")
	}
	if err := d.Save("", SaveOptions{}); err == nil {
		t.Error("saved to an empty path")
	}
}

// crashHelper runs in a child process: it edits and saves the file over
// and over, logging the hash of each version before saving it, until it is
// killed.
func crashHelper(path, logPath string) int {
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for i := 0; ; i++ {
		d, err := ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		segs := testSegments(500+i%7, 0)
		if _, err := d.AddTier(TierSpec{ID: "crash", ChildID: "crash-conf", Replace: true, Segments: segs}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		sum := sha256.Sum256(d.Bytes())
		if _, err := fmt.Fprintln(log, hex.EncodeToString(sum[:])); err != nil {
			return 2
		}
		if err := d.Save(path, SaveOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
}

// TestCrashDuringSave kills a process that keeps saving a file at random
// moments and checks that the file (and its backup) is always a complete
// version: the original or one the process finished writing.
func TestCrashDuringSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.eaf")
	logPath := filepath.Join(dir, "hashes.log")
	// a ~300 kB document so that writing it takes a while
	d, err := New(NewOptions{VideoPath: filepath.Join(dir, "v.mp4"), EAFPath: path, Date: time.Unix(0, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddTier(TierSpec{ID: "human", Annotator: "Ann", Segments: testSegments(1000, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(path, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	initial := sha256.Sum256(d.Bytes())
	kills := 40
	if testing.Short() {
		kills = 10
	}
	rng := rand.New(rand.NewPCG(1, 2))
	midSave, changed := 0, 0
	for k := 0; k < kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "EAF_CRASH_FILE="+path, "EAF_CRASH_LOG="+logPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// wait until the helper is in its loop (it logged a new version),
		// then kill it at a random moment of the following iterations
		start := logSize(logPath)
		for deadline := time.Now().Add(20 * time.Second); logSize(logPath) == start && time.Now().Before(deadline); {
			time.Sleep(200 * time.Microsecond)
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		cmd.Process.Kill()
		cmd.Wait()
		if stderr.Len() > 0 {
			t.Fatalf("helper failed: %s", stderr.String())
		}
		known := map[string]bool{hex.EncodeToString(initial[:]): true}
		if f, err := os.Open(logPath); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				known[sc.Text()] = true
			}
			f.Close()
		}
		for _, p := range []string{path, path + ".bak"} {
			b, err := os.ReadFile(p)
			if err != nil {
				if p == path || !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("kill %d: %v", k, err)
				}
				continue
			}
			sum := sha256.Sum256(b)
			if !known[hex.EncodeToString(sum[:])] {
				t.Fatalf("kill %d: %s is neither the old nor a complete new version (%d bytes)", k, p, len(b))
			}
			if _, err := Parse(p, b); err != nil {
				t.Fatalf("kill %d: %v", k, err)
			}
		}
		if sum := sha256.Sum256(mustReadBytes(t, path)); sum != initial {
			changed++
		}
		// a killed save leaves its temporary file behind; count and remove them
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				midSave++
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	lines := 0
	if b, err := os.ReadFile(logPath); err == nil {
		lines = bytes.Count(b, []byte("\n"))
	}
	t.Logf("%d kills: %d during a write (temporary file present), %d saves started in all, file changed after %d kills",
		kills, midSave, lines, changed)
	if lines == 0 {
		t.Error("the helper never reached a save: the kills tested nothing")
	}
}

func logSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func mustReadBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
