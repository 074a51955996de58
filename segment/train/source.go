package train

// Source gives Fit and Resume their training sequences one at a time, so
// that memory holds one batch of sequences rather than the whole training
// set: an on-disk feature cache, for example. Fit loads sequence i when a
// step needs it (once per epoch, and once before training to check it) and
// keeps no reference to it after that step, so Load must return the same
// sequence every time it is called with the same i.
type Source interface {
	// Len is the number of sequences.
	Len() int
	// Name is sequence i's name (a file name, say); it must not need
	// loading the sequence. Resume compares the names with the saved run's.
	Name(i int) string
	// Load returns sequence i, 0 ≤ i < Len().
	Load(i int) (Sequence, error)
}

// Sequences is a Source of sequences held in memory.
type Sequences []Sequence

// Len returns len(s).
func (s Sequences) Len() int { return len(s) }

// Name returns s[i].Name.
func (s Sequences) Name(i int) string { return s[i].Name }

// Load returns s[i].
func (s Sequences) Load(i int) (Sequence, error) { return s[i], nil }
