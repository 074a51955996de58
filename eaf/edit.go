package eaf

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Segment is one annotation to add, in media time.
type Segment struct {
	Start, End int64  // ms of media time (EAF time + TIME_ORIGIN)
	Value      string // the annotation's value
	// ChildValue is the value of the matching annotation on the child tier
	// (TierSpec.ChildID), for example a confidence.
	ChildValue string
}

// TierSpec describes a tier for AddTier.
type TierSpec struct {
	// ID is the new TIER_ID. For EAF 2.0–2.3 files it must be an XML name
	// (no spaces or colons), unused by any other xsd:ID in the document.
	ID string
	// Annotator is written as ANNOTATOR (EAF 2.4+ only); empty means
	// SignsegAnnotator. Replace recognises tiers by it.
	Annotator string
	// Participant is written as PARTICIPANT when not empty.
	Participant string
	// TimeOrigin is the TIME_ORIGIN (ms) of the media descriptor whose file
	// the segment times refer to; it is subtracted from every time.
	TimeOrigin int64
	// Segments are the annotations. They are sorted by start; they must
	// not overlap and must have End > Start. Segments that end at or before
	// TimeOrigin are dropped, starts before it are clamped to 0.
	Segments []Segment
	// Replace allows replacing an existing tier of the same ID, and the
	// child tier, if they were written by signseg (see Tier.IsSignseg).
	// The old annotations, their now unused time slots and the old tier's
	// signseg-written dependent tiers are removed; the new tier takes the
	// old one's place.
	Replace bool
	// ChildID, when not empty, adds a Symbolic_Association tier of that ID
	// under the new tier with one annotation per segment carrying
	// Segment.ChildValue.
	ChildID string
}

// Type names used when the document has no suitable linguistic type.
const (
	segmentationType = "segmentation"
	associationType  = "segmentation-association"
	assocDescription = "1-1 association with a parent annotation"
)

// AddTier adds a top-level time-aligned tier (and optionally a
// Symbolic_Association child tier) and returns the number of annotations
// written on it. The edit is spliced into the document's bytes; the result
// is re-parsed and checked before it is accepted, and on any error the
// document is unchanged.
//
// New time slots (two per annotation, never shared) are appended to
// TIME_ORDER; new annotation and slot ids are unique across the document's
// whole xsd:ID space; lastUsedAnnotationId is updated (or added, EAF 2.4+).
// The tier's linguistic type is default-lt when that is unconstrained,
// time-alignable and has no controlled vocabulary, else a suitable or new
// type named "segmentation" (or "segmentation-2", …).
func (d *Document) AddTier(spec TierSpec) (int, error) {
	if spec.Annotator == "" {
		spec.Annotator = SignsegAnnotator
	}
	if err := d.editable(); err != nil {
		return 0, err
	}
	segs, err := d.prepareSegments(spec)
	if err != nil {
		return 0, err
	}
	work := *d
	anchor, anchored := "", false
	remove, err := d.tiersToReplace(spec)
	if err != nil {
		return 0, err
	}
	// ids of removed annotations are not handed out again: other files or
	// tools may still refer to them
	floorA, _, err := maxIDs(d.m.ids)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", d.name, err)
	}
	if len(remove) > 0 {
		anchor, err = work.removeTiers(remove, spec.ID)
		if err != nil {
			return 0, err
		}
		anchored = true
	}
	if err := work.addTier(spec, segs, anchor, anchored, floorA); err != nil {
		return 0, err
	}
	d.data, d.root, d.m = work.data, work.root, work.m
	return len(segs), nil
}

// editable refuses versions whose element order this package does not know.
func (d *Document) editable() error {
	if !d.m.version.atLeast(2, 0) || d.m.version.atLeast(3, 1) {
		return fmt.Errorf("%s: EAF version %s is not supported for writing (2.0 to 3.0 are)", d.name, d.m.version)
	}
	return nil
}

type eafSeg struct {
	start, end int64
	value      string
	child      string
}

func (d *Document) prepareSegments(spec TierSpec) ([]eafSeg, error) {
	var out []eafSeg
	for i, s := range spec.Segments {
		if s.End <= s.Start {
			return nil, fmt.Errorf("%s: tier %q: segment %d ends at %d ms, not after its start %d ms", d.name, spec.ID, i+1, s.End, s.Start)
		}
		if s.Start < 0 {
			return nil, fmt.Errorf("%s: tier %q: segment %d starts at negative media time %d ms", d.name, spec.ID, i+1, s.Start)
		}
		st, en := s.Start-spec.TimeOrigin, s.End-spec.TimeOrigin
		if spec.TimeOrigin < 0 && (st < s.Start || en < s.End) {
			return nil, fmt.Errorf("%s: tier %q: segment %d: time overflow", d.name, spec.ID, i+1)
		}
		if en <= 0 {
			continue // before the media's origin: not on the annotation time line
		}
		if st < 0 {
			st = 0
		}
		if en > math.MaxUint32 {
			return nil, fmt.Errorf("%s: tier %q: segment %d ends at %d ms, beyond what EAF can store", d.name, spec.ID, i+1, en)
		}
		out = append(out, eafSeg{st, en, s.Value, s.ChildValue})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start < out[j].start })
	for i := 1; i < len(out); i++ {
		if out[i].start < out[i-1].end {
			return nil, fmt.Errorf("%s: tier %q: segments overlap: %d–%d ms and %d–%d ms (EAF time)", d.name, spec.ID,
				out[i-1].start, out[i-1].end, out[i].start, out[i].end)
		}
	}
	return out, nil
}

// tiersToReplace checks the new tier names and returns the tiers Replace
// must remove first.
func (d *Document) tiersToReplace(spec TierSpec) ([]*tierNode, error) {
	if spec.ID == "" {
		return nil, fmt.Errorf("%s: the new tier needs a name", d.name)
	}
	if spec.ChildID == spec.ID {
		return nil, fmt.Errorf("%s: the child tier cannot have the same name %q as its parent", d.name, spec.ID)
	}
	var remove []*tierNode
	seen := map[*tierNode]bool{}
	var addWithDeps func(t *tierNode) error
	addWithDeps = func(t *tierNode) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		remove = append(remove, t)
		for _, o := range d.m.tiers {
			if o.tier.Parent == t.tier.ID && o != t {
				if !o.tier.IsSignseg() {
					return fmt.Errorf("%s: tier %q cannot be replaced: tier %q (ANNOTATOR %q, not written by signseg) depends on it",
						d.name, spec.ID, o.tier.ID, o.tier.Annotator)
				}
				if err := addWithDeps(o); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, id := range []string{spec.ID, spec.ChildID} {
		if id == "" {
			continue
		}
		if clean(id) != id {
			return nil, fmt.Errorf("%s: tier name %q contains characters XML cannot hold", d.name, id)
		}
		t := d.m.tierByID[id]
		if t == nil {
			if !d.m.version.atLeast(2, 4) {
				if !isNCName(id) {
					return nil, fmt.Errorf("%s: tier name %q is not allowed in EAF %s (it must be an XML name: no spaces, no colon, not starting with a digit)", d.name, id, d.m.version)
				}
				if d.m.ids[id] {
					return nil, fmt.Errorf("%s: tier name %q is already used as an id in this EAF %s file; choose another name", d.name, id, d.m.version)
				}
			}
			continue
		}
		if !spec.Replace {
			return nil, fmt.Errorf("%s: a tier named %q already exists; choose another name or ask to replace it", d.name, id)
		}
		if !t.tier.IsSignseg() {
			return nil, fmt.Errorf("%s: tier %q exists and was not written by signseg (ANNOTATOR %q); refusing to replace it, choose another name",
				d.name, id, t.tier.Annotator)
		}
		if err := addWithDeps(t); err != nil {
			return nil, err
		}
	}
	return remove, nil
}

// removeTiers deletes the tiers and their now-unused time slots, and
// returns the ID of the tier just before the one named first (or "" when it
// was the first tier), where the new tier goes.
func (d *Document) removeTiers(remove []*tierNode, first string) (string, error) {
	// every TIER element of a removed name goes (ELAN merges repeats)
	goneIDs := map[string]bool{}
	for _, t := range remove {
		goneIDs[t.tier.ID] = true
	}
	gone := map[*node]bool{}
	for _, k := range d.root.kids {
		if k.name == "TIER" && goneIDs[k.get("TIER_ID")] {
			gone[k] = true
		}
	}
	// the TIER element right before the first removed one that survives
	anchor := ""
	target := d.m.tierByID[first]
	if target == nil {
		target = remove[0]
	}
	for _, k := range d.root.kids {
		if k == target.n {
			break
		}
		if k.name == "TIER" && !gone[k] {
			anchor = k.get("TIER_ID")
		}
	}
	used := map[string]int{}
	dropped := map[string]bool{}
	for _, k := range d.root.kids {
		if k.name != "TIER" {
			continue
		}
		walk(k, func(n *node) {
			for _, an := range []string{"TIME_SLOT_REF1", "TIME_SLOT_REF2"} {
				if v, ok := n.attr(an); ok {
					if gone[k] {
						dropped[v] = true
					} else {
						used[v]++
					}
				}
			}
		})
	}
	e := &editor{data: d.data, m: &d.m}
	for _, k := range d.root.kids {
		if k.name == "TIER" && gone[k] {
			e.remove(k)
		}
	}
	for _, s := range d.m.timeOrder.kids {
		id := s.get("TIME_SLOT_ID")
		if s.name == "TIME_SLOT" && dropped[id] && used[id] == 0 {
			e.remove(s)
		}
	}
	out, err := e.apply()
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.name, err)
	}
	if err := d.load(out); err != nil {
		return "", fmt.Errorf("%s: internal error: removing tiers produced an unreadable document: %w", d.name, err)
	}
	return anchor, nil
}

func walk(n *node, f func(*node)) {
	f(n)
	for _, k := range n.kids {
		walk(k, f)
	}
}

// idCounter hands out ids of the form prefix<N> not used in the ID space.
type idCounter struct {
	prefix string
	next   int64
	ids    map[string]bool
}

func (c *idCounter) take() (string, error) {
	for {
		if c.next == math.MaxInt64 {
			return "", errors.New("no free " + c.prefix + "<N> id left")
		}
		c.next++
		id := c.prefix + strconv.FormatInt(c.next, 10)
		if !c.ids[id] {
			c.ids[id] = true
			return id, nil
		}
	}
}

// maxIDs returns the largest N over ids a<N> and ts<N> in the ID space.
func maxIDs(ids map[string]bool) (a, ts int64, err error) {
	for id := range ids {
		m := idNum.FindStringSubmatch(id)
		if m == nil {
			continue
		}
		n, perr := strconv.ParseInt(m[2], 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("id %q is too large", id)
		}
		if m[1] == "a" {
			a = max(a, n)
		} else {
			ts = max(ts, n)
		}
	}
	return a, ts, nil
}

func (d *Document) addTier(spec TierSpec, segs []eafSeg, anchor string, anchored bool, floorA int64) error {
	m := &d.m
	v := m.version
	ids := make(map[string]bool, len(m.ids))
	for k := range m.ids {
		ids[k] = true
	}
	if !v.atLeast(2, 4) { // TIER_ID is an xsd:ID before 2.4
		ids[spec.ID] = true
		if spec.ChildID != "" {
			ids[spec.ChildID] = true
		}
	}
	maxA, maxTS, err := maxIDs(ids)
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	annIDs := &idCounter{prefix: "a", next: max(maxA, m.lastUsed, floorA), ids: ids}
	slotIDs := &idCounter{prefix: "ts", next: maxTS, ids: ids}
	e := &editor{data: d.data, m: m}

	// linguistic types
	var newTypes [][]fline
	reserved := map[string]bool{}
	takeType := func(base string, ok func(*LinguisticType) bool, attrs func(id string) [][2]string) (string, error) {
		for i := 1; i < 1000; i++ {
			name := base
			if i > 1 {
				name = base + "-" + strconv.Itoa(i)
			}
			if lt := m.typeByID[name]; lt != nil {
				if ok(lt) {
					return name, nil
				}
				continue
			}
			if reserved[name] || !v.atLeast(2, 4) && ids[name] {
				continue
			}
			if !v.atLeast(2, 4) {
				ids[name] = true // LINGUISTIC_TYPE_ID is an xsd:ID before 2.4
			}
			reserved[name] = true
			newTypes = append(newTypes, []fline{{0, elem("LINGUISTIC_TYPE", attrs(name), "/>")}})
			return name, nil
		}
		return "", fmt.Errorf("%s: no free linguistic type name %q", d.name, base)
	}
	graphic := func(a [][2]string) [][2]string {
		if v.atLeast(2, 1) {
			return append([][2]string{{"GRAPHIC_REFERENCES", "false"}}, a...)
		}
		return a
	}
	suitable := func(lt *LinguisticType) bool {
		return lt.Constraints == "" && lt.TimeAlignable && lt.ControlledVocab == "" && lt.ID != ""
	}
	parentType := "default-lt"
	if lt := m.typeByID[parentType]; lt == nil || !suitable(lt) {
		parentType, err = takeType(segmentationType, suitable, func(id string) [][2]string {
			return graphic([][2]string{{"LINGUISTIC_TYPE_ID", id}, {"TIME_ALIGNABLE", "true"}})
		})
		if err != nil {
			return err
		}
	}
	childType := ""
	needConstraint := false
	if spec.ChildID != "" {
		childType, err = takeType(associationType, func(lt *LinguisticType) bool {
			return lt.Constraints == "Symbolic_Association" && lt.ControlledVocab == ""
		}, func(id string) [][2]string {
			return append([][2]string{{"CONSTRAINTS", "Symbolic_Association"}},
				graphic([][2]string{{"LINGUISTIC_TYPE_ID", id}, {"TIME_ALIGNABLE", "false"}})...)
		})
		if err != nil {
			return err
		}
		needConstraint = true
		for _, k := range d.root.kids {
			if k.name == "CONSTRAINT" && k.get("STEREOTYPE") == "Symbolic_Association" {
				needConstraint = false
			}
		}
		if needConstraint && ids["Symbolic_Association"] {
			return fmt.Errorf("%s: cannot add the Symbolic_Association constraint: the id is used by another element", d.name)
		}
	}

	// ids, slots and tiers
	type newAnn struct{ id, ts1, ts2, ref string }
	parentAnns := make([]newAnn, len(segs))
	var slots []fline
	for i, s := range segs {
		id, err := annIDs.take()
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		t1, err1 := slotIDs.take()
		t2, err2 := slotIDs.take()
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%s: no free time slot id left", d.name)
		}
		parentAnns[i] = newAnn{id: id, ts1: t1, ts2: t2}
		slots = append(slots,
			fline{0, elem("TIME_SLOT", [][2]string{{"TIME_SLOT_ID", t1}, {"TIME_VALUE", strconv.FormatInt(s.start, 10)}}, "/>")},
			fline{0, elem("TIME_SLOT", [][2]string{{"TIME_SLOT_ID", t2}, {"TIME_VALUE", strconv.FormatInt(s.end, 10)}}, "/>")})
	}
	var childAnns []newAnn
	if spec.ChildID != "" {
		childAnns = make([]newAnn, len(segs))
		for i := range segs {
			id, err := annIDs.take()
			if err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			childAnns[i] = newAnn{id: id, ref: parentAnns[i].id}
		}
	}
	tierAttrs := func(id, lt, parent string) [][2]string {
		var a [][2]string
		if v.atLeast(2, 4) {
			a = append(a, [2]string{"ANNOTATOR", spec.Annotator})
		}
		a = append(a, [2]string{"LINGUISTIC_TYPE_REF", lt})
		if parent != "" {
			a = append(a, [2]string{"PARENT_REF", parent})
		}
		if spec.Participant != "" {
			a = append(a, [2]string{"PARTICIPANT", spec.Participant})
		}
		return append(a, [2]string{"TIER_ID", id})
	}
	var tiers []fline
	emitTier := func(attrs [][2]string, anns []newAnn, value func(i int) string) {
		if len(anns) == 0 {
			tiers = append(tiers, fline{0, elem("TIER", attrs, "/>")})
			return
		}
		tiers = append(tiers, fline{0, elem("TIER", attrs, ">")})
		for i, a := range anns {
			tiers = append(tiers, fline{1, "<ANNOTATION>"})
			if a.ref == "" {
				tiers = append(tiers, fline{2, elem("ALIGNABLE_ANNOTATION", [][2]string{{"ANNOTATION_ID", a.id}, {"TIME_SLOT_REF1", a.ts1}, {"TIME_SLOT_REF2", a.ts2}}, ">")})
			} else {
				tiers = append(tiers, fline{2, elem("REF_ANNOTATION", [][2]string{{"ANNOTATION_ID", a.id}, {"ANNOTATION_REF", a.ref}}, ">")})
			}
			tiers = append(tiers, fline{3, "<ANNOTATION_VALUE>" + escText(value(i)) + "</ANNOTATION_VALUE>"})
			if a.ref == "" {
				tiers = append(tiers, fline{2, "</ALIGNABLE_ANNOTATION>"})
			} else {
				tiers = append(tiers, fline{2, "</REF_ANNOTATION>"})
			}
			tiers = append(tiers, fline{1, "</ANNOTATION>"})
		}
		tiers = append(tiers, fline{0, "</TIER>"})
	}
	emitTier(tierAttrs(spec.ID, parentType, ""), parentAnns, func(i int) string { return segs[i].value })
	if spec.ChildID != "" {
		emitTier(tierAttrs(spec.ChildID, childType, spec.ID), childAnns, func(i int) string { return segs[i].child })
	}

	// splices, in an order that keeps same-position inserts in schema order
	if len(slots) > 0 {
		e.appendChild(m.timeOrder, slots)
	}
	switch {
	case anchored && anchor != "" && m.tierByID[anchor] != nil:
		e.insertAfter(m.tierByID[anchor].n, tiers)
	case anchored && len(m.tiers) > 0:
		e.insertBefore(m.tiers[0].n, tiers)
	default:
		e.insertTop(d.root, "TIER", tiers)
	}
	for _, t := range newTypes {
		e.insertTop(d.root, "LINGUISTIC_TYPE", t)
	}
	if needConstraint {
		e.insertTop(d.root, "CONSTRAINT", []fline{{0, elem("CONSTRAINT", [][2]string{{"DESCRIPTION", assocDescription}, {"STEREOTYPE", "Symbolic_Association"}}, "/>")}})
	}
	// lastUsedAnnotationId: the largest a<N> in use, or the old value if larger
	last := max(m.lastUsed, 0)
	for id := range m.annByID {
		if mm := idNum.FindStringSubmatch(id); mm != nil && mm[1] == "a" {
			if n, err := strconv.ParseInt(mm[2], 10, 64); err == nil {
				last = max(last, n)
			}
		}
	}
	if len(segs) > 0 {
		last = max(last, annIDs.next)
	}
	lastStr := strconv.FormatInt(last, 10)
	if m.lastUsedEl != nil {
		if m.lastUsed != last {
			e.setText(m.lastUsedEl, lastStr)
		}
	} else if v.atLeast(2, 4) {
		e.appendChild(m.header, []fline{{0, `<PROPERTY NAME="lastUsedAnnotationId">` + lastStr + "</PROPERTY>"}})
	}

	out, err := e.apply()
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	if err := d.load(out); err != nil {
		return fmt.Errorf("%s: internal error: the edited document does not parse: %w", d.name, err)
	}
	return d.checkAdded(spec, segs)
}

// checkAdded verifies the re-parsed document holds the new tier(s) exactly.
func (d *Document) checkAdded(spec TierSpec, segs []eafSeg) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: internal error after adding tier %q: %s", d.name, spec.ID, fmt.Sprintf(format, args...))
	}
	got, err := d.Annotations(spec.ID)
	if err != nil {
		return fail("%v", err)
	}
	if len(got) != len(segs) {
		return fail("%d annotations instead of %d", len(got), len(segs))
	}
	for i, a := range got {
		if a.Start != segs[i].start || a.End != segs[i].end || a.Value != clean(segs[i].value) {
			return fail("annotation %d reads back as %d–%d %q", i+1, a.Start, a.End, a.Value)
		}
	}
	if spec.ChildID != "" {
		ch, err := d.Annotations(spec.ChildID)
		if err != nil || len(ch) != len(segs) {
			return fail("child tier %q does not read back", spec.ChildID)
		}
	}
	return nil
}

// SetProperty sets the text of the HEADER PROPERTY with the given NAME,
// adding it (before lastUsedAnnotationId, which ELAN keeps last) when
// missing. PROPERTY exists from EAF 2.4 on; lastUsedAnnotationId is
// managed by AddTier and cannot be set.
func (d *Document) SetProperty(name, value string) error {
	if err := d.editable(); err != nil {
		return err
	}
	if !d.m.version.atLeast(2, 4) {
		return fmt.Errorf("%s: EAF %s has no PROPERTY element (added in 2.4); property %q not written", d.name, d.m.version, name)
	}
	if name == "" || name == "lastUsedAnnotationId" {
		return fmt.Errorf("%s: property name %q cannot be set", d.name, name)
	}
	e := &editor{data: d.data, m: &d.m}
	var found *node
	for _, k := range d.m.header.kids {
		if k.name == "PROPERTY" && k.get("NAME") == name {
			found = k
			break
		}
	}
	switch {
	case found != nil:
		if string(found.text) == value && len(found.kids) == 0 {
			return nil
		}
		e.setText(found, escText(value))
	default:
		line := []fline{{0, elem("PROPERTY", [][2]string{{"NAME", name}}, ">") + escText(value) + "</PROPERTY>"}}
		if d.m.lastUsedEl != nil {
			e.insertBefore(d.m.lastUsedEl, line)
		} else {
			e.appendChild(d.m.header, line)
		}
	}
	out, err := e.apply()
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	work := *d
	if err := work.load(out); err != nil {
		return fmt.Errorf("%s: internal error: setting property %q produced an unreadable document: %w", d.name, name, err)
	}
	if got, _ := work.Property(name); got != clean(value) {
		return fmt.Errorf("%s: internal error: property %q reads back as %q", d.name, name, got)
	}
	d.data, d.root, d.m = work.data, work.root, work.m
	return nil
}

// FreeTierID returns base when no tier has that name, else the first of
// base-1, base-2, … that is free (ELAN's way of renaming on a clash). For
// EAF 2.0–2.3 files the name must also be unused in the document's xsd:ID
// space.
func (d *Document) FreeTierID(base string) string {
	taken := func(id string) bool {
		return d.m.tierByID[id] != nil || !d.m.version.atLeast(2, 4) && d.m.ids[id]
	}
	if !taken(base) {
		return base
	}
	for i := 1; ; i++ {
		if id := base + "-" + strconv.Itoa(i); !taken(id) {
			return id
		}
	}
}

// isNCName reports whether s is an XML non-colonized name (ASCII-strict
// for the first character's digit rule, permissive for other letters).
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= 0xC0 && r != 0xD7 && r != 0xF7 && validXMLRune(r):
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9' || r == 0xB7):
		default:
			return false
		}
	}
	return true
}
