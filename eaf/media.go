package eaf

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Rule names the step of ELAN's media search that found a file.
type Rule string

// The steps of the media search, in the order they are tried (ELAN's
// ElanFrame2.checkMedia, with its preference-based steps replaced by
// ResolveOptions.MediaDirs).
const (
	RuleMediaURL      Rule = "MEDIA_URL"            // the MEDIA_URL path itself
	RuleSameFolder    Rule = "same folder"          // the MEDIA_URL's file name next to the EAF
	RuleRelativeURL   Rule = "RELATIVE_MEDIA_URL"   // RELATIVE_MEDIA_URL against the EAF's folder
	RuleParentMedia   Rule = "../Media"             // ../Media/<name> from the EAF's folder
	RuleParentMediaLC Rule = "../media"             // ../media/<name> from the EAF's folder
	RuleMediaDir      Rule = "media dir"            // found under ResolveOptions.MediaDirs by the linked path's trailing components
	RuleExtractedFrom Rule = "EXTRACTED_FROM video" // the video an audio descriptor was extracted from
)

// ResolveOptions adjusts the media search.
type ResolveOptions struct {
	// EAFPath is the path of the EAF file relative references are
	// resolved against; empty means the path the document was read from
	// (or its name).
	EAFPath string
	// MediaDirs are extra folders searched, after ELAN's own steps, for a
	// file whose path ends like the linked one (signseg's --media-dir);
	// nil searches none.
	MediaDirs *MediaDirs
}

// Resolved is a media file found on disk.
type Resolved struct {
	Path       string // the file that exists
	Rule       Rule   // how it was found
	Index      int    // index of the descriptor in Media()
	Descriptor MediaDescriptor
}

// NotFoundError lists every path tried when no media file was found.
type NotFoundError struct {
	File  string   // the EAF file
	What  string   // what was looked for
	Tried []string // each path tried, with the rule in brackets
	// Advice says what to do, in the caller's terms (e.g. naming its
	// flags); empty gives a generic one.
	Advice string
}

// Error lists the paths tried.
func (e *NotFoundError) Error() string {
	advice := e.Advice
	if advice == "" {
		advice = "copy the video next to the .eaf file or search a media folder (ResolveOptions.MediaDirs)"
	}
	return fmt.Sprintf("%s: %s not found; tried %s (%s)",
		e.File, e.What, strings.Join(e.Tried, ", "), advice)
}

func (d *Document) eafPath(opts ResolveOptions) string {
	if opts.EAFPath != "" {
		return opts.EAFPath
	}
	if d.src != nil {
		return d.src.path
	}
	return d.name
}

// ResolveMedia looks for the file of descriptor i (an index into Media())
// the way ELAN does: the MEDIA_URL path (raw, then percent-decoded), the
// same file name next to the EAF, RELATIVE_MEDIA_URL against the EAF's
// folder, then ../Media/ and ../media/, then opts.MediaDirs. Remote URLs
// are skipped. On failure the *NotFoundError lists every path tried.
func (d *Document) ResolveMedia(i int, opts ResolveOptions) (Resolved, error) {
	media := d.Media()
	if i < 0 || i >= len(media) {
		return Resolved{}, fmt.Errorf("%s: no media descriptor %d (the file has %d)", d.name, i+1, len(media))
	}
	md := media[i]
	var tried []string
	p, rule, ok, err := resolveURL(d.eafPath(opts), md.MediaURL, md.RelativeMediaURL, opts.MediaDirs, &tried)
	if err != nil {
		return Resolved{}, d.searchError(err)
	}
	if ok {
		return Resolved{Path: p, Rule: rule, Index: i, Descriptor: md}, nil
	}
	return Resolved{}, &NotFoundError{File: d.name, What: fmt.Sprintf("media %q", md.MediaURL), Tried: tried}
}

// ResolveVideo finds the video to analyse: the first video descriptor (by
// MIME type, else file extension) whose file resolves; failing that, the
// video an audio descriptor's EXTRACTED_FROM names (Rule
// RuleExtractedFrom; Descriptor is then the audio's, with TimeOrigin 0).
// Audio is never returned. The error lists every path tried.
func (d *Document) ResolveVideo(opts ResolveOptions) (Resolved, error) {
	media := d.Media()
	var tried []string
	base := d.eafPath(opts)
	for i, md := range media {
		if !md.IsVideo() {
			continue
		}
		p, rule, ok, err := resolveURL(base, md.MediaURL, md.RelativeMediaURL, opts.MediaDirs, &tried)
		if err != nil {
			return Resolved{}, d.searchError(err)
		}
		if ok {
			return Resolved{Path: p, Rule: rule, Index: i, Descriptor: md}, nil
		}
	}
	for i, md := range media {
		if md.IsVideo() || md.ExtractedFrom == "" {
			continue
		}
		p, _, ok, err := resolveURL(base, md.ExtractedFrom, "", opts.MediaDirs, &tried)
		if err != nil {
			return Resolved{}, d.searchError(err)
		}
		if ok {
			src := md
			src.TimeOrigin = 0
			return Resolved{Path: p, Rule: RuleExtractedFrom, Index: i, Descriptor: src}, nil
		}
	}
	if len(media) == 0 {
		return Resolved{}, fmt.Errorf("%s: the file links no media (no MEDIA_DESCRIPTOR); pass the video explicitly", d.name)
	}
	if len(tried) == 0 {
		return Resolved{}, fmt.Errorf("%s: the file links no video, only audio; pass the video explicitly", d.name)
	}
	return Resolved{}, &NotFoundError{File: d.name, What: "linked video", Tried: tried}
}

// searchError names the document in an error of the media folder search.
func (d *Document) searchError(err error) error {
	var ae *AmbiguousError
	if errors.As(err, &ae) {
		ae.File = d.name
		return ae
	}
	return fmt.Errorf("%s: %w", d.name, err)
}

// resolveURL runs the search steps for one descriptor. The error is that
// of the media folder search (unreadable folder, ambiguous match).
func resolveURL(eafPath, mediaURL, relURL string, dirs *MediaDirs, tried *[]string) (string, Rule, bool, error) {
	dir := filepath.Dir(eafPath)
	seen := map[string]bool{}
	try := func(p string, r Rule) bool {
		if p == "" {
			return false
		}
		p = filepath.Clean(p)
		if seen[p] {
			return false
		}
		seen[p] = true
		*tried = append(*tried, p+" ["+string(r)+"]")
		st, err := os.Stat(p)
		return err == nil && st.Mode().IsRegular()
	}
	var names []string  // candidate file names from MEDIA_URL
	var linked []string // the linked paths, for the media folder search
	if isRemote(mediaURL) {
		*tried = append(*tried, mediaURL+" [remote URL, skipped]")
	}
	if mediaURL != "" && !isRemote(mediaURL) {
		for _, p := range variants(urlPath(mediaURL)) {
			linked = append(linked, p)
			fp := filepath.FromSlash(p)
			if !filepath.IsAbs(fp) {
				fp = filepath.Join(dir, fp)
			}
			if try(fp, RuleMediaURL) {
				return filepath.Clean(fp), RuleMediaURL, true, nil
			}
			if b := path.Base(p); b != "." && b != "/" && b != "" {
				names = appendNew(names, b)
			}
		}
		for _, n := range names {
			if p := filepath.Join(dir, n); try(p, RuleSameFolder) {
				return filepath.Clean(p), RuleSameFolder, true, nil
			}
		}
	}
	if relURL != "" && !isRemote(relURL) {
		r := strings.ReplaceAll(relURL, `\`, "/")
		r = strings.TrimPrefix(r, "file:/")
		for _, p := range variants(r) {
			linked = append(linked, p)
			fp := filepath.FromSlash(p)
			if !filepath.IsAbs(fp) {
				fp = filepath.Join(dir, fp)
			}
			if try(fp, RuleRelativeURL) {
				return filepath.Clean(fp), RuleRelativeURL, true, nil
			}
			if b := path.Base(p); b != "." && b != "/" && b != "" {
				names = appendNew(names, b)
			}
		}
	}
	for _, step := range []struct {
		sub  string
		rule Rule
	}{{"Media", RuleParentMedia}, {"media", RuleParentMediaLC}} {
		for _, n := range names {
			if p := filepath.Join(dir, "..", step.sub, n); try(p, step.rule) {
				return filepath.Clean(p), step.rule, true, nil
			}
		}
	}
	if len(dirs.Dirs()) == 0 {
		return "", "", false, nil
	}
	for _, md := range dirs.Dirs() {
		for _, n := range names {
			*tried = append(*tried, filepath.Join(md, "**", n)+" ["+string(RuleMediaDir)+"]")
		}
	}
	p, err := dirs.find(linked)
	if err != nil || p == "" {
		return "", "", false, err
	}
	return filepath.Clean(p), RuleMediaDir, true, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// urlPath turns a MEDIA_URL into a path the way ELAN does: everything up to
// the first ':' is dropped (for a Windows drive path that is the drive
// letter) and '\' becomes '/'. ELAN's file:///x becomes ///x, which is /x.
func urlPath(u string) string {
	u = strings.ReplaceAll(u, `\`, "/")
	if i := strings.IndexByte(u, ':'); i >= 0 {
		u = u[i+1:]
	}
	if strings.HasPrefix(u, "//") {
		u = "/" + strings.TrimLeft(u, "/")
	}
	return u
}

// variants returns p and, when different, its percent-decoded form.
func variants(p string) []string {
	out := []string{p}
	if dec, err := url.PathUnescape(p); err == nil && dec != p {
		out = append(out, dec)
	}
	return out
}

func isRemote(u string) bool {
	l := strings.ToLower(u)
	for _, s := range []string{"http:", "https:", "rtsp:", "rtp:", "ftp:", "mms:"} {
		if strings.HasPrefix(l, s) {
			return true
		}
	}
	return false
}
