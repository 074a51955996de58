package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/eaf"
	"github.com/signseg/signseg/segment"
	"github.com/signseg/signseg/segment/decode"
)

// tierOptions are the flags that say which tiers to write.
type tierOptions struct {
	tier, boundaryTier string
	sentenceTier       string // written when the model gives sentences
	confidence         bool
	replace            bool
	sentences          bool // the model gives sentences
}

func tierFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tier", Value: "signseg-signs", Usage: "name of the tier with one (empty) annotation per sign"},
		&cli.StringFlag{Name: "boundary-tier", Usage: "also write a tier with one annotation per boundary, under this name"},
		&cli.StringFlag{Name: "sentence-tier", Value: "signseg-sentences", Usage: "name of the tier with one annotation per sentence, for models that find sentences (\"\" writes none)"},
		&cli.BoolFlag{Name: "confidence", Usage: "add a child tier <tier>-confidence with each sign's confidence (0–1)"},
		&cli.BoolFlag{Name: "replace", Usage: "replace tiers of the same names that signseg wrote before (a tier written by a person is never replaced)"},
	}
}

func tierOptionsFrom(c *cli.Context) tierOptions {
	return tierOptions{tier: c.String("tier"), boundaryTier: c.String("boundary-tier"), sentenceTier: c.String("sentence-tier"),
		confidence: c.Bool("confidence"), replace: c.Bool("replace")}
}

// propertyName is the HEADER property recording which signseg and model
// wrote a tier, so that corpus managers can tell machine tiers from human
// ones and batch runs can skip finished files.
func propertyName(tier string) string { return "signseg:" + tier }

// provenance is that property's value.
func provenance(m *segment.Model) string {
	return fmt.Sprintf("signseg %s; model %s (%s)", appVersion(), m.Name, m.Source())
}

// annotator is the ANNOTATOR of signseg's tiers (eaf recognises the prefix).
func annotator() string { return eaf.SignsegAnnotator + " " + appVersion() }

// checkTierNames fails early, before any video is decoded, when a tier
// name is taken and may not be replaced.
func checkTierNames(doc *eaf.Document, names []string, replace bool) error {
	for _, name := range names {
		t, ok := doc.Tier(name)
		if !ok {
			continue
		}
		if !t.IsSignseg() {
			return fmt.Errorf("%s: tier %q exists and was not written by signseg; choose another name with --tier", doc.Name(), name)
		}
		if !replace {
			return fmt.Errorf("%s: tier %q exists (written by signseg); pass --replace to replace it or --tier to choose another name", doc.Name(), name)
		}
	}
	return nil
}

// names lists the tiers that writeTiers will write for tier.
func (o tierOptions) names(tier string, suffix string) []string {
	names := []string{tier + suffix}
	if o.confidence {
		names = append(names, tier+suffix+"-confidence")
	}
	if o.boundaryTier != "" {
		names = append(names, o.boundaryTier+suffix)
	}
	if o.sentences && o.sentenceTier != "" {
		names = append(names, o.sentenceTier+suffix)
	}
	return names
}

// writeTiers adds the result's tiers to doc. suffix distinguishes several
// videos ("@stem"); origin is the media descriptor's TIME_ORIGIN.
func writeTiers(doc *eaf.Document, m *segment.Model, res *videoResult, o tierOptions, suffix string, origin int64) error {
	spec := eaf.TierSpec{ID: o.tier + suffix, Annotator: annotator(), TimeOrigin: origin, Replace: o.replace}
	for _, s := range res.Signs {
		seg := eaf.Segment{Start: s.BeginMS, End: s.EndMS}
		if o.confidence {
			seg.ChildValue = strconv.FormatFloat(s.Confidence, 'f', 2, 64)
		}
		spec.Segments = append(spec.Segments, seg)
	}
	if o.confidence {
		spec.ChildID = spec.ID + "-confidence"
	}
	if _, err := doc.AddTier(spec); err != nil {
		return err
	}
	if err := setProvenance(doc, spec.ID, m); err != nil {
		return err
	}
	if o.boundaryTier != "" {
		if err := addSpanTier(doc, m, o.boundaryTier+suffix, res.Boundaries, o.replace, origin); err != nil {
			return err
		}
	}
	if o.sentenceTier != "" && res.Sentences != nil {
		return addSpanTier(doc, m, o.sentenceTier+suffix, res.Sentences, o.replace, origin)
	}
	return nil
}

// addSpanTier adds a tier of empty annotations, one per span.
func addSpanTier(doc *eaf.Document, m *segment.Model, name string, spans []decode.TimeSpan, replace bool, origin int64) error {
	t := eaf.TierSpec{ID: name, Annotator: annotator(), TimeOrigin: origin, Replace: replace}
	for _, s := range spans {
		t.Segments = append(t.Segments, eaf.Segment{Start: s.BeginMS, End: s.EndMS})
	}
	if _, err := doc.AddTier(t); err != nil {
		return err
	}
	return setProvenance(doc, name, m)
}

// setProvenance records which signseg and model wrote tier. EAF before 2.4
// has no header properties (nor ANNOTATOR), so such files get none.
func setProvenance(doc *eaf.Document, tier string, m *segment.Model) error {
	if !hasProperties(doc) {
		return nil
	}
	return doc.SetProperty(propertyName(tier), provenance(m))
}

// hasProperties reports whether doc's version (2.4 and later) has header
// properties and tier annotators.
func hasProperties(doc *eaf.Document) bool {
	v := doc.Version()
	return v.Major > 2 || v.Major == 2 && v.Minor >= 4
}

// fileReport is one line of a command's report (and of batch's JSON Lines).
type fileReport struct {
	Path     string   `json:"path"`
	Status   string   `json:"status"` // ok, skipped, failed, interrupted, dry-run
	Error    string   `json:"error,omitempty"`
	Output   string   `json:"output,omitempty"`
	Videos   []string `json:"videos,omitempty"`
	Tiers    []string `json:"tiers,omitempty"`
	Signs    int      `json:"signs"`
	MediaSec float64  `json:"media_seconds"`
	ProcSec  float64  `json:"processing_seconds"`
	// FeatureCache is, per video, where a keypoint model's keypoints came
	// from: "cached" or "computed" (videoResult.FeatureCache).
	FeatureCache []string `json:"feature_cache,omitempty"`
	// SignerShare is, per video, the share of frames in which a keypoint
	// model found a signer.
	SignerShare []float64 `json:"signer_share,omitempty"`
}

// signerShareWarn: below this share of frames with a signer, the user is
// warned that the video shows nobody the keypoint model can follow.
const signerShareWarn = 0.5

// signerShareNote says that a keypoint model found a signer on only share
// of video's frames.
func signerShareNote(video string, share float64) string {
	return fmt.Sprintf("%s: a signer was found on only %.0f %% of the frames, and nothing is segmented without one; `%s pose %q --overlay check.mp4` shows what MediaPipe sees", video, 100*share, programName, video)
}

// signerWarning is signerShareNote for a result under signerShareWarn,
// else "".
func signerWarning(video string, res *segment.Result) string {
	if res.SignerFrames < 0 || res.Frames == 0 {
		return ""
	}
	if share := float64(res.SignerFrames) / float64(res.Frames); share < signerShareWarn {
		return signerShareNote(video, share)
	}
	return ""
}

// addSigner records, for a keypoint model, the share of a video's frames
// in which it found a signer; one run has one model, so SignerShare is
// either empty or parallel to Videos.
func (r *fileReport) addSigner(res *segment.Result) {
	if res.SignerFrames < 0 || res.Frames == 0 {
		return
	}
	r.SignerShare = append(r.SignerShare, float64(res.SignerFrames)/float64(res.Frames))
}

// segmentOptions are the segment and batch commands' file handling flags.
type segmentOptions struct {
	tiers    tierOptions
	media    string
	videos   string
	outDir   string
	dryRun   bool
	noBackup bool
	skipDone bool // batch: skip files whose tier was written with this model
	// mediaDirs (--media-dir) is searched for linked videos that moved.
	mediaDirs *eaf.MediaDirs
}

// segmentFile adds the tiers to one EAF file and saves it (or a copy).
func (e *engine) segmentFile(ctx context.Context, path string, opt segmentOptions, prog *progress) (rep fileReport) {
	rep = fileReport{Path: path, Status: "failed"}
	fail := func(err error) fileReport {
		rep.Error = oneLine(err)
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			rep.Status = "interrupted" // cut short by Ctrl-C, not a failure of the file
		}
		return rep
	}
	doc, err := eaf.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	skip := opt.skipDone && !opt.tiers.replace
	// With one video the tier name is known without looking for the video,
	// so a finished file is skipped even if its video has moved since.
	oneVideo := opt.media != "" || opt.videos == "" || opt.videos == "first"
	if skip && oneVideo && e.alreadyDone(doc, opt.tiers, []videoTarget{{}}) {
		rep.Status = "skipped"
		return rep
	}
	targets, err := pickVideos(doc, opt)
	if err != nil {
		return fail(err)
	}
	if skip && !oneVideo && e.alreadyDone(doc, opt.tiers, targets) {
		rep.Status = "skipped"
		return rep
	}
	for _, t := range targets {
		if err := checkTierNames(doc, opt.tiers.names(opt.tiers.tier, t.suffix), opt.tiers.replace); err != nil {
			return fail(err)
		}
	}
	for _, t := range targets {
		res, err := e.run(ctx, t.path, prog.file(path, t.path))
		if err != nil {
			return fail(fmt.Errorf("%s: %w", path, err))
		}
		if err := writeTiers(doc, e.model, res, opt.tiers, t.suffix, t.origin); err != nil {
			return fail(err)
		}
		rep.Videos = append(rep.Videos, t.path)
		rep.addSigner(res.Result)
		rep.Tiers = append(rep.Tiers, opt.tiers.names(opt.tiers.tier, t.suffix)...)
		rep.Signs += len(res.Signs)
		rep.MediaSec += res.MediaSec
		rep.ProcSec += res.ProcSec
		if res.FeatureCache != "" {
			rep.FeatureCache = append(rep.FeatureCache, res.FeatureCache)
		}
	}
	if opt.dryRun {
		rep.Status = "dry-run"
		return rep
	}
	out := path
	if opt.outDir != "" {
		out = filepath.Join(opt.outDir, filepath.Base(path))
	}
	if err := doc.Save(out, eaf.SaveOptions{NoBackup: opt.noBackup, Overwrite: opt.outDir != ""}); err != nil {
		return fail(err)
	}
	rep.Output = out
	rep.Status = "ok"
	return rep
}

// alreadyDone reports whether every target tier exists with this model's
// provenance property, so a resumed batch can skip the file. Files before
// EAF 2.4 cannot record the model, so there the tier's presence counts.
func (e *engine) alreadyDone(doc *eaf.Document, o tierOptions, targets []videoTarget) bool {
	for _, t := range targets {
		if _, ok := doc.Tier(o.tier + t.suffix); !ok {
			return false
		}
		if !hasProperties(doc) {
			continue
		}
		if v, ok := doc.Property(propertyName(o.tier + t.suffix)); !ok || !strings.Contains(v, "model "+e.model.Name+" ") {
			return false
		}
	}
	return true
}

// videoTarget is one video of an EAF file to segment.
type videoTarget struct {
	path   string
	origin int64  // TIME_ORIGIN of its descriptor, ms
	suffix string // tier name suffix: "" for one video, "@stem" for several
}

// pickVideos applies --media and --videos first|all|GLOB.
func pickVideos(doc *eaf.Document, opt segmentOptions) ([]videoTarget, error) {
	if opt.media != "" {
		if _, err := os.Stat(opt.media); err != nil {
			return nil, fmt.Errorf("--media %s: %w", opt.media, err)
		}
		var origin int64
		if r, err := doc.ResolveVideo(eaf.ResolveOptions{MediaDirs: opt.mediaDirs}); err == nil {
			origin = r.Descriptor.TimeOrigin
		}
		return []videoTarget{{path: opt.media, origin: origin}}, nil
	}
	if opt.videos == "" || opt.videos == "first" {
		r, err := doc.ResolveVideo(eaf.ResolveOptions{MediaDirs: opt.mediaDirs})
		if err != nil {
			return nil, withMediaAdvice(err)
		}
		return []videoTarget{{path: r.Path, origin: r.Descriptor.TimeOrigin}}, nil
	}
	var targets []videoTarget
	for i, md := range doc.Media() {
		if !md.IsVideo() {
			continue
		}
		name := filepath.Base(filepath.FromSlash(md.MediaURL))
		if opt.videos != "all" {
			ok, err := filepath.Match(opt.videos, name)
			if err != nil {
				return nil, usagef("--videos %q: %v", opt.videos, err)
			}
			if !ok {
				continue
			}
		}
		r, err := doc.ResolveMedia(i, eaf.ResolveOptions{MediaDirs: opt.mediaDirs})
		if err != nil {
			return nil, withMediaAdvice(err)
		}
		if slices.ContainsFunc(targets, func(t videoTarget) bool { return sameFile(t.path, r.Path) }) {
			continue // linked twice: one video, one tier
		}
		targets = append(targets, videoTarget{path: r.Path, origin: md.TimeOrigin})
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("%s: no linked video matches --videos %q", doc.Name(), opt.videos)
	}
	if len(targets) > 1 {
		paths := make([]string, len(targets))
		for i, t := range targets {
			paths[i] = t.path
		}
		for i, name := range videoNames(paths) {
			targets[i].suffix = "@" + name
		}
	}
	return targets, nil
}

// sameFile reports whether a and b name the same file.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// videoNames names each of several distinct videos for its tier: the file
// name without extension, and where that is not unique, as few trailing
// path parts as tell them apart ("day1/cam", "day2/cam"), with the
// extension when only it differs ("cam.mp4", "cam.mov"). A name depends
// only on the set of paths, not on their order.
func videoNames(paths []string) []string {
	names := make([]string, len(paths))
	parts := make([][]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = filepath.Clean(p)
		}
		parts[i] = strings.Split(filepath.ToSlash(abs), "/")
	}
	// name is video i's candidate at level k: the last k+1 path parts, the
	// last without extension unless withExt.
	name := func(i, k int, withExt bool) string {
		ps := parts[i][max(0, len(parts[i])-1-k):]
		last := ps[len(ps)-1]
		if !withExt {
			last = strings.TrimSuffix(last, filepath.Ext(last))
		}
		return strings.Join(append(slices.Clone(ps[:len(ps)-1]), last), "/")
	}
	unique := func(group []int, k int, withExt bool) bool {
		seen := map[string]bool{}
		for _, i := range group {
			n := name(i, k, withExt)
			if seen[n] {
				return false
			}
			seen[n] = true
		}
		return true
	}
	// group the videos by plain name; only a clashing group is lengthened
	groups := map[string][]int{}
	for i := range paths {
		groups[name(i, 0, false)] = append(groups[name(i, 0, false)], i)
	}
	for _, group := range groups {
		depth := 0
		for _, i := range group {
			depth = max(depth, len(parts[i]))
		}
	levels:
		for k := 0; k < depth; k++ {
			for _, withExt := range []bool{false, true} {
				if unique(group, k, withExt) {
					for _, i := range group {
						names[i] = name(i, k, withExt)
					}
					break levels
				}
			}
		}
	}
	return names
}

// oneLine makes an error a single line for reports.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}
