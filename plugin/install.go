package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// File names inside the recognizer folder.
const (
	FolderName   = "signseg"          // default folder in extensions/
	CMDIFile     = "signseg.cmdi"     // the descriptor ELAN scans for
	HelpFile     = "signseg.html"     // the help ELAN shows
	LauncherSh   = "signseg-elan.sh"  // Linux and macOS launcher
	LauncherBat  = "signseg-elan.bat" // Windows launcher
	ManifestFile = ".signseg-install.json"
)

// RunCommand returns the run attribute for goos. ELAN splits it on
// whitespace and starts it in the recognizer folder; on Windows a relative
// program is not looked up there, so cmd runs the batch file.
func RunCommand(goos string) string {
	if goos == "windows" {
		return "cmd /c " + LauncherBat
	}
	return "./" + LauncherSh
}

// ExtensionsDirs lists existing ELAN installations' extensions folders
// for goos, newest ELAN version first. home is the user's home folder and
// getenv reads LOCALAPPDATA, ProgramFiles and ProgramFiles(x86) on
// Windows. An installation counts when its app folder exists; its
// extensions folder may still be missing.
func ExtensionsDirs(goos, home string, getenv func(string) string) []string {
	var patterns []string
	switch goos {
	case "windows":
		for _, v := range []string{"LOCALAPPDATA", "ProgramFiles", "ProgramFiles(x86)"} {
			if d := getenv(v); d != "" {
				patterns = append(patterns, filepath.Join(d, "ELAN*", "app"))
			}
		}
	case "darwin":
		patterns = append(patterns, filepath.Join("/Applications", "ELAN*.app", "Contents", "app"))
		if home != "" {
			patterns = append(patterns, filepath.Join(home, "Applications", "ELAN*.app", "Contents", "app"))
		}
	default:
		for _, root := range []string{home, "/opt", "/usr/local", "/usr/lib"} {
			if root == "" {
				continue
			}
			patterns = append(patterns, filepath.Join(root, "ELAN*", "app"), filepath.Join(root, "ELAN*", "lib", "app"))
		}
	}
	type found struct {
		dir     string
		version []int
	}
	var all []found
	seen := map[string]bool{}
	for _, pat := range patterns {
		matches, _ := filepath.Glob(pat)
		for _, m := range matches {
			if fi, err := os.Stat(m); err != nil || !fi.IsDir() || seen[m] {
				continue
			}
			seen[m] = true
			all = append(all, found{filepath.Join(m, "extensions"), versionOf(elanFolder(m))})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return compareVersions(all[i].version, all[j].version) > 0 })
	out := make([]string, len(all))
	for i, f := range all {
		out[i] = f.dir
	}
	return out
}

// elanFolder returns the last path element that starts with ELAN: the
// installation's folder, whose name carries the version.
func elanFolder(path string) string {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if strings.HasPrefix(parts[i], "ELAN") {
			return parts[i]
		}
	}
	return ""
}

var digits = regexp.MustCompile(`[0-9]+`)

// versionOf reads "ELAN_6-9" or "ELAN-5.8.app" as [6 9] or [5 8].
func versionOf(name string) []int {
	var v []int
	for _, d := range digits.FindAllString(name, -1) {
		n, _ := strconv.Atoi(d)
		v = append(v, n)
	}
	return v
}

func compareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// Launch is what the launcher starts, with absolute paths: ELAN gives the
// recognizer a minimal environment (no PATH on a desktop start) and no
// quoting of paths with spaces, so the launcher carries them.
type Launch struct {
	Binary    string // the signseg executable
	ORTLib    string // ONNX Runtime shared library
	FFmpeg    string
	FFprobe   string
	ModelsDir string
}

// Env returns the environment variables the launcher sets, by name.
func (l Launch) Env() [][2]string {
	var env [][2]string
	for _, kv := range [][2]string{
		{"SIGNSEG_ORT_LIB", l.ORTLib}, {"SIGNSEG_FFMPEG", l.FFmpeg},
		{"SIGNSEG_FFPROBE", l.FFprobe}, {"SIGNSEG_MODELS", l.ModelsDir},
	} {
		if kv[1] != "" {
			env = append(env, kv)
		}
	}
	return env
}

// Launcher returns the launcher file's name and content for goos: a POSIX
// shell script that execs signseg (so that ELAN's Stop signal reaches it),
// or a batch file for cmd.exe.
func (l Launch) Launcher(goos string) (name string, data []byte, err error) {
	if l.Binary == "" {
		return "", nil, errors.New("launcher: no signseg executable given")
	}
	var b strings.Builder
	if goos == "windows" {
		for _, p := range append([]string{l.Binary}, envValues(l)...) {
			if strings.ContainsAny(p, "\"\r\n") {
				return "", nil, fmt.Errorf("launcher: path %q contains a quote or line break", p)
			}
		}
		bat := func(s string) string { return strings.ReplaceAll(s, "%", "%%") }
		b.WriteString("@echo off\r\nrem Written by `signseg elan install`; run it again to update this file.\r\n")
		b.WriteString("rem UTF-8, so that paths with accented letters survive.\r\nchcp 65001 >nul 2>nul\r\n")
		for _, kv := range l.Env() {
			b.WriteString(`set "` + kv[0] + "=" + bat(kv[1]) + "\"\r\n")
		}
		b.WriteString(`"` + bat(l.Binary) + "\" elan recognize\r\n")
		return LauncherBat, []byte(b.String()), nil
	}
	for _, p := range append([]string{l.Binary}, envValues(l)...) {
		if strings.ContainsAny(p, "\x00\n") {
			return "", nil, fmt.Errorf("launcher: path %q contains a line break", p)
		}
	}
	b.WriteString("#!/bin/sh\n# Written by `signseg elan install`; run it again to update this file.\n")
	for _, kv := range l.Env() {
		b.WriteString(kv[0] + "=" + shQuote(kv[1]) + "; export " + kv[0] + "\n")
	}
	b.WriteString("exec " + shQuote(l.Binary) + " elan recognize\n")
	return LauncherSh, []byte(b.String()), nil
}

func envValues(l Launch) []string {
	var v []string
	for _, kv := range l.Env() {
		v = append(v, kv[1])
	}
	return v
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Help returns the HTML help page ELAN shows for the recognizer.
func Help(spec Spec) []byte {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>signseg</title></head><body>\n")
	b.WriteString("<h1>signseg: sign segmentation</h1>\n<p>Finds the signs in the chosen video and creates new tiers: SIGN (one empty annotation per sign), BOUNDARY (the transitions) and SIGN_CONFIDENCE (how sure the model is, 0 to 1). Times are media times; a non-zero time origin of the media is not applied.</p>\n<dl>\n")
	for _, p := range spec.Params {
		b.WriteString("<dt>" + html.EscapeString(p.Name) + "</dt><dd>" + html.EscapeString(p.Info))
		if len(p.Choices) > 0 {
			b.WriteString(" (" + html.EscapeString(strings.Join(p.Choices, ", ")) + ")")
		}
		b.WriteString("</dd>\n")
	}
	b.WriteString("</dl>\n<p>The run's report lists what went wrong when it fails. Re-run <code>signseg elan install</code> after installing models or moving signseg.</p>\n</body></html>\n")
	return []byte(b.String())
}

// installRecord is the manifest install leaves in the recognizer folder:
// what it created, so that uninstall removes exactly that.
type installRecord struct {
	Files []string `json:"files"` // names inside the folder
	// CreatedFolder and CreatedExtensions tell whether install created the
	// recognizer folder and the extensions folder.
	CreatedFolder     bool `json:"created_folder"`
	CreatedExtensions bool `json:"created_extensions"`
}

// Installation is a recognizer folder to write.
type Installation struct {
	ExtensionsDir string // ELAN's extensions folder
	Folder        string // sub-folder name; "" means FolderName
	GOOS          string // which launcher and run attribute
	Spec          Spec
	Launch        Launch
}

// Dir returns the recognizer folder.
func (in Installation) Dir() string {
	name := in.Folder
	if name == "" {
		name = FolderName
	}
	return filepath.Join(in.ExtensionsDir, name)
}

// Install writes the recognizer folder: the CMDI, the launcher and the help
// page, plus a manifest of what it created. Running it again rewrites the
// same files (and removes those an earlier install wrote that are no
// longer needed). It refuses a folder that it did not create and that is
// not empty. It returns the files written.
func (in Installation) Install() ([]string, error) {
	dir := in.Dir()
	cmdi, err := in.Spec.CMDI()
	if err != nil {
		return nil, err
	}
	lname, launcher, err := in.Launch.Launcher(in.GOOS)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{CMDIFile: cmdi, HelpFile: Help(in.Spec), lname: launcher}

	rec, err := readRecord(dir)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		rec = installRecord{}
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return nil, fmt.Errorf("%s exists and was not made by signseg elan install; move it away or choose another folder name", dir)
		}
		if _, err := os.Stat(in.ExtensionsDir); errors.Is(err, fs.ErrNotExist) {
			rec.CreatedExtensions = true
		}
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			rec.CreatedFolder = true
		}
	default:
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	// The record is written first, so that a failure half-way still
	// leaves uninstall knowing every file that may exist.
	newRec := rec
	newRec.Files = union(rec.Files, names)
	if err := writeRecord(dir, newRec); err != nil {
		return nil, err
	}
	var written []string
	for _, name := range names {
		mode := os.FileMode(0o644)
		if name == LauncherSh {
			mode = 0o755
		}
		p := filepath.Join(dir, name)
		if err := WriteFileAtomic(p, files[name]); err != nil {
			return written, err
		}
		if err := os.Chmod(p, mode); err != nil {
			return written, fmt.Errorf("chmod %s: %w", p, err)
		}
		written = append(written, p)
	}
	for _, old := range rec.Files {
		if _, keep := files[old]; !keep {
			if err := os.Remove(filepath.Join(dir, old)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return written, err
			}
		}
	}
	newRec.Files = names
	return written, writeRecord(dir, newRec)
}

// Uninstall removes what Install created in extensionsDir/folder ("" means
// FolderName): its files, then the folder and the extensions folder if
// Install created them and they are now empty. Files someone else put
// there are kept. It returns the paths removed.
func Uninstall(extensionsDir, folder string) ([]string, error) {
	dir := Installation{ExtensionsDir: extensionsDir, Folder: folder}.Dir()
	rec, err := readRecord(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s holds no signseg recognizer installed by signseg elan install (no %s)", dir, ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, name := range append(rec.Files, ManifestFile) {
		if strings.ContainsAny(name, `/\`) || name == ".." {
			continue // a manifest never names anything outside the folder
		}
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err == nil {
			removed = append(removed, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("remove %s: %w", p, err)
		}
	}
	for _, d := range []struct {
		path    string
		created bool
	}{{dir, rec.CreatedFolder}, {extensionsDir, rec.CreatedExtensions}} {
		if !d.created {
			break
		}
		if entries, err := os.ReadDir(d.path); err != nil || len(entries) > 0 {
			break
		}
		if err := os.Remove(d.path); err != nil {
			return removed, fmt.Errorf("remove %s: %w", d.path, err)
		}
		removed = append(removed, d.path)
	}
	return removed, nil
}

func readRecord(dir string) (installRecord, error) {
	var rec installRecord
	p := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("%s: %w; delete the folder by hand", p, err)
	}
	return rec, nil
}

func writeRecord(dir string, rec installRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, ManifestFile), append(data, '\n'))
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
