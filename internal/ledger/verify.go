package ledger

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checks named in a Failure.
const (
	CheckEntry             = "entry"              // bytes are not a well-formed canonical entry
	CheckSequence          = "sequence"           // seq missing, repeated or out of order; log shorter than signed
	CheckChain             = "chain"              // prev does not match the previous leaf hash
	CheckTime              = "time"               // time goes backwards
	CheckLeafHash          = "leaf_hash"          // stored or served leaf hash does not match the bytes
	CheckTreeHashes        = "tree_hashes"        // stored interior hashes do not match the entries
	CheckCheckpoint        = "checkpoint"         // a checkpoint's signature, origin or root is wrong
	CheckTrustedCheckpoint = "trusted_checkpoint" // the log does not extend the trusted checkpoint
	CheckIndex             = "index"              // a store's id, kind or time column disagrees with the entry
)

// Failure is the first integrity failure found in a log. Seq is the first
// entry that is wrong or missing, or -1 where the failure is a checkpoint's
// own (its signature) and no entry is to blame.
type Failure struct {
	Seq    int64  `json:"seq"`
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

func (f *Failure) Error() string {
	if f.Seq < 0 {
		return fmt.Sprintf("%s: %s", f.Check, f.Reason)
	}
	return fmt.Sprintf("seq %d: %s: %s", f.Seq, f.Check, f.Reason)
}

// Report is the outcome of verifying one tenant's log.
type Report struct {
	Tenant      string `json:"tenant"`
	Origin      string `json:"origin"`
	Entries     int64  `json:"entries"`
	Checkpoints int    `json:"checkpoints_verified"`
	SignedSize  int64  `json:"signed_size"`
	Root        string `json:"root,omitempty"`
	Uncovered   int64  `json:"uncovered"` // entries after the latest checkpoint
	Trusted     int64  `json:"trusted_size,omitempty"`
	// Pruned are the ranges [from, to) of entries whose data was removed
	// under retention: accepted on their stored leaf hashes, which the
	// checkpoints authenticate, and each covered by a retention.pruned entry.
	Pruned  [][2]int64 `json:"pruned,omitempty"`
	OK      bool       `json:"ok"`
	Failure *Failure   `json:"failure,omitempty"`
	Took    string     `json:"took"`
}

// VerifyOptions say what a verifier trusts.
type VerifyOptions struct {
	Tenant string
	// Origin is the installation origin; checkpoints must carry Origin/Tenant.
	Origin string
	// Keys are the trusted checkpoint keys, a key history, oldest first.
	// A log's first checkpoint may be signed by any of them (a tenant made
	// after a rotation starts with the newer key); after that, key i+1
	// signs only sizes beyond the signing_key.rotated entry that announced it,
	// which a checkpoint of key i at the size just covering it MUST cover,
	// and key i signs nothing larger than that size (see KeyRotated).
	Keys []note.Verifier
	// Trusted is an earlier checkpoint the verifier holds; the log must
	// extend it. Optional.
	Trusted []byte
}

// Verifier checks a log entry by entry, in order, without trusting any
// stored hash: it recomputes leaves, the chain and the tree, and compares
// them with what the source claims and what checkpoints sign.
type Verifier struct {
	opts    VerifyOptions
	origin  string
	started time.Time

	size      int64
	prevLeaf  tlog.Hash
	prevTime  string
	tree      *compact.Range
	newHashes []tlog.Hash

	cps     map[int64][][]byte // checkpoint notes by size
	sizes   []int64            // their sizes, ascending
	next    int                // index into sizes of the next to check
	goodAt  int64              // largest size whose root matched a checkpoint
	signed  int64
	root    tlog.Hash
	trusted *Checkpoint
	checked int

	keys  keyState
	prune pruneState

	fail *Failure
}

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// NewVerifier returns a verifier for one tenant's log with the given signed
// checkpoints (any order; each is verified at its size). It fails only for
// bad options, such as a trusted checkpoint that the trusted keys do not
// verify.
func NewVerifier(opts VerifyOptions, checkpoints [][]byte) (*Verifier, error) {
	if len(opts.Keys) == 0 {
		return nil, fmt.Errorf("verify %q: no trusted key", opts.Tenant)
	}
	v := &Verifier{opts: opts, origin: TenantOrigin(opts.Origin, opts.Tenant), started: time.Now(),
		tree: rangeFactory.NewEmptyRange(0), cps: map[int64][][]byte{}, keys: newKeyState(opts.Keys)}
	if len(opts.Trusted) > 0 {
		cp, err := OpenCheckpoint(opts.Trusted, v.origin, opts.Keys...)
		if err != nil {
			return nil, fmt.Errorf("trusted checkpoint: %w", err)
		}
		v.trusted = cp
	}
	for _, msg := range checkpoints {
		size, err := peekSize(msg)
		if err != nil {
			// A note we cannot even read is checked (and fails) at size 0.
			size = 0
		}
		v.cps[size] = append(v.cps[size], msg)
	}
	for s := range v.cps {
		v.sizes = append(v.sizes, s)
	}
	sort.Slice(v.sizes, func(i, j int) bool { return v.sizes[i] < v.sizes[j] })
	v.checkSize() // checkpoints of size 0 (unreadable ones)
	return v, nil
}

// peekSize reads the size line of a checkpoint note without trusting it.
func peekSize(msg []byte) (int64, error) {
	lines := bytes.SplitN(msg, []byte("\n"), 3)
	if len(lines) < 3 {
		return 0, fmt.Errorf("short checkpoint")
	}
	var n int64
	if _, err := fmt.Sscanf(string(lines[1]), "%d", &n); err != nil || n < 0 {
		return 0, fmt.Errorf("bad size line")
	}
	return n, nil
}

// Failed returns the first failure found so far, or nil.
func (v *Verifier) Failed() *Failure { return v.fail }

// Size returns how many entries have been added.
func (v *Verifier) Size() int64 { return v.size }

// Add checks the next entry. data are its canonical bytes; claimed, if not
// nil, are the tree hashes the source says it stored for it (at least the
// leaf hash). Add returns the first failure of the log, now or earlier.
func (v *Verifier) Add(data []byte, claimed []tlog.Hash) *Failure {
	if v.fail != nil {
		return v.fail
	}
	return v.add(prepare(data), claimed)
}

// prepared is what checking an entry needs from its bytes alone: the
// parsed envelope and the leaf hash. Preparing is most of the cost of a
// walk and depends on no other entry, so VerifyStore prepares entries in
// parallel; everything that relates an entry to the log stays in add.
type prepared struct {
	entry *Entry
	err   error
	leaf  tlog.Hash
	// missing marks an entry without data (pruned, or removed): it is
	// accepted on its stored leaf hash and must lie in a declared prune.
	missing bool
	seq     int64 // the store's seq of a missing entry, or -1
}

func prepare(data []byte) prepared {
	if len(data) == 0 {
		return prepared{missing: true, seq: -1}
	}
	e, err := Parse(data)
	if err != nil {
		return prepared{err: err}
	}
	return prepared{entry: e, leaf: LeafHash(data)}
}

// add checks the next entry, prepared from its bytes, against the log so far.
func (v *Verifier) add(p prepared, claimed []tlog.Hash) *Failure {
	if v.fail != nil {
		return v.fail
	}
	pos := v.size
	if p.missing {
		return v.addMissing(p, claimed)
	}
	if p.err != nil {
		return v.failAt(pos, CheckEntry, p.err.Error())
	}
	e := p.entry
	switch {
	case e.Tenant != v.opts.Tenant:
		return v.failAt(pos, CheckEntry, fmt.Sprintf("tenant %q in the log of %q", e.Tenant, v.opts.Tenant))
	case e.Seq > pos:
		return v.failAt(pos, CheckSequence, fmt.Sprintf("entry %d is missing (found seq %d in its place)", pos, e.Seq))
	case e.Seq < pos:
		return v.failAt(pos, CheckSequence, fmt.Sprintf("found seq %d at position %d (repeated or out of order)", e.Seq, pos))
	}
	if pos > 0 && e.Prev != EncodeHash(v.prevLeaf) {
		return v.failAt(pos, CheckChain, fmt.Sprintf("prev %s is not the leaf hash of entry %d (%s)", e.Prev, pos-1, EncodeHash(v.prevLeaf)))
	}
	if e.Time < v.prevTime { // the layout sorts like the instant
		return v.failAt(pos, CheckTime, fmt.Sprintf("time %s is before the previous entry's %s", e.Time, v.prevTime))
	}
	leaf := p.leaf
	if len(claimed) > 0 && claimed[0] != leaf {
		return v.failAt(pos, CheckLeafHash, fmt.Sprintf("leaf hash %s does not match the entry bytes (%s)", EncodeHash(claimed[0]), EncodeHash(leaf)))
	}
	if reason := v.interpret(e); reason != "" {
		return v.failAt(pos, CheckEntry, reason)
	}
	if v.appendLeaf(pos, leaf, claimed) != nil {
		return v.fail
	}
	v.prevTime = e.Time
	return v.fail
}

// addMissing accepts an entry without data on its stored leaf hash: the
// next entry's prev and the checkpoints' roots still authenticate it.
// Finish requires it to lie in a range a retention.pruned entry declares.
func (v *Verifier) addMissing(p prepared, claimed []tlog.Hash) *Failure {
	pos := v.size
	switch {
	case p.seq >= 0 && p.seq > pos:
		return v.failAt(pos, CheckSequence, fmt.Sprintf("entry %d is missing (found seq %d in its place)", pos, p.seq))
	case p.seq >= 0 && p.seq < pos:
		return v.failAt(pos, CheckSequence, fmt.Sprintf("found seq %d at position %d (repeated or out of order)", p.seq, pos))
	case len(claimed) == 0:
		return v.failAt(pos, CheckEntry, fmt.Sprintf("data of entry %d is missing and its leaf hash is not stored", pos))
	}
	v.prune.noteMissing(pos)
	v.appendLeaf(pos, claimed[0], claimed)
	return v.fail
}

// interpret applies the entries the verifier itself reads: prunes and key
// rotations. It returns why the entry does not fit, or "".
func (v *Verifier) interpret(e *Entry) string {
	switch e.Kind {
	case KindLogPruned:
		p, err := DecodePruned(e.Body)
		if err != nil {
			return err.Error()
		}
		if p.To > e.Seq {
			return fmt.Sprintf("%s entry declares [%d, %d), which does not end before it", KindLogPruned, p.From, p.To)
		}
		v.prune.declared = append(v.prune.declared, declared{seq: e.Seq, from: p.From, to: p.To})
	case KindLogKeyRotated:
		k, err := DecodeKeyRotated(e.Body)
		if err != nil {
			return err.Error()
		}
		return v.keys.announce(e.Seq, k)
	}
	return ""
}

// appendLeaf adds the next leaf to the tree, checks the claimed tree
// hashes and then the checkpoints of the new size.
func (v *Verifier) appendLeaf(pos int64, leaf tlog.Hash, claimed []tlog.Hash) *Failure {
	v.newHashes = append(v.newHashes[:0], leaf)
	if err := v.tree.Append(leaf[:], v.visit); err != nil {
		return v.failAt(pos, CheckTreeHashes, err.Error())
	}
	if len(claimed) > 1 {
		if len(claimed) != len(v.newHashes) {
			return v.failAt(pos, CheckTreeHashes, fmt.Sprintf("%d stored tree hashes, want %d", len(claimed), len(v.newHashes)))
		}
		for i := range claimed {
			if claimed[i] != v.newHashes[i] {
				return v.failAt(pos, CheckTreeHashes, fmt.Sprintf("stored tree hash %d of entry %d does not match", i, pos))
			}
		}
	}
	v.size++
	v.prevLeaf = leaf
	v.checkSize()
	return v.fail
}

// checkIndex compares the columns a store indexes an entry by (id, kind,
// time) with the entry itself: a changed column would misdirect lookups
// by id or time without touching the hashed bytes. It runs after add, so
// the entry is the one last added.
func (v *Verifier) checkIndex(r *Record, e *Entry) *Failure {
	if v.fail != nil || e == nil {
		return v.fail
	}
	t, _ := ParseTime(e.Time)
	if r.ID != e.ID || r.Kind != e.Kind || !r.Time.Equal(t) {
		return v.failAt(v.size-1, CheckIndex, fmt.Sprintf(
			"stored columns (id %q, kind %q, time %s) disagree with the entry (id %q, kind %q, time %s)",
			r.ID, r.Kind, FormatTime(r.Time), e.ID, e.Kind, e.Time))
	}
	return nil
}

// visit collects the tree nodes that appending a leaf completes, in the
// order tlog stores them (the leaf, then each new parent upward).
func (v *Verifier) visit(id compact.NodeID, hash []byte) {
	if id.Level == 0 {
		return // the leaf itself is already first
	}
	var h tlog.Hash
	copy(h[:], hash)
	v.newHashes = append(v.newHashes, h)
}

// checkSize verifies every checkpoint and the trusted checkpoint whose
// size equals the number of entries added so far.
func (v *Verifier) checkSize() {
	if v.trusted != nil && v.trusted.Size == v.size && v.fail == nil {
		if r := v.rootHash(); r != v.trusted.Root {
			// Checkpoints stored below the trusted size may be forged with
			// a stolen key, so no entry can be blamed: only the range.
			v.failAt(-1, CheckTrustedCheckpoint, fmt.Sprintf(
				"the log's root at size %d is not the trusted checkpoint's: entries in [0, %d) were rewritten", v.size, v.size))
		}
	}
	for v.fail == nil && v.next < len(v.sizes) && v.sizes[v.next] <= v.size {
		size := v.sizes[v.next]
		opened := make([]openedCheckpoint, 0, len(v.cps[size]))
		for _, msg := range v.cps[size] {
			cp, j, err := v.open(msg)
			if err != nil {
				v.failAt(-1, CheckCheckpoint, fmt.Sprintf("checkpoint claiming size %d: %v", size, err))
				return
			}
			opened = append(opened, openedCheckpoint{cp, j})
		}
		// At one size, an older key's checkpoint (a handover) comes first.
		sort.SliceStable(opened, func(a, b int) bool { return opened[a].key < opened[b].key })
		for _, o := range opened {
			cp := o.cp
			if cp.Size == 0 {
				v.failAt(-1, CheckCheckpoint, "checkpoint of size 0")
				return
			}
			if r := v.rootHash(); r != cp.Root {
				// Everything up to the last matching checkpoint is proven; the
				// change lies at or after it.
				v.failAt(v.goodAt, CheckCheckpoint, fmt.Sprintf(
					"root of the log at size %d is %s, the checkpoint signs %s: an entry in [%d, %d) was altered",
					size, EncodeHash(r), EncodeHash(cp.Root), v.goodAt, size))
				return
			}
			if reason := v.keys.check(size, o.key); reason != "" {
				v.failAt(-1, CheckCheckpoint, reason)
				return
			}
			v.checked++
		}
		v.keys.settle(size)
		v.goodAt, v.signed = size, size
		v.root = v.rootHash()
		v.next++
	}
}

type openedCheckpoint struct {
	cp  *Checkpoint
	key int // index in VerifyOptions.Keys
}

// open verifies a checkpoint note and returns it with the index of the
// trusted key that signed it.
func (v *Verifier) open(msg []byte) (*Checkpoint, int, error) {
	var firstErr error
	for i, k := range v.opts.Keys {
		cp, err := OpenCheckpoint(msg, v.origin, k)
		if err == nil {
			return cp, i, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, keyUnknown, fmt.Errorf("not signed by a trusted key (give every key of the history, oldest first): %w", firstErr)
}

func (v *Verifier) rootHash() tlog.Hash {
	var h tlog.Hash
	r, err := v.tree.GetRootHash(nil)
	if err == nil {
		copy(h[:], r)
	}
	return h
}

func (v *Verifier) failAt(seq int64, check, reason string) *Failure {
	if v.fail == nil {
		v.fail = &Failure{Seq: seq, Check: check, Reason: reason}
	}
	return v.fail
}

// Finish ends the walk and returns the report. Checkpoints or a trusted
// checkpoint beyond the end of the log mean the log lost entries.
func (v *Verifier) Finish() *Report {
	if v.fail == nil && v.trusted != nil && v.trusted.Size > v.size {
		v.failAt(v.size, CheckTrustedCheckpoint, fmt.Sprintf(
			"the log has %d entries but the trusted checkpoint covers %d: entries were removed or the log rolled back",
			v.size, v.trusted.Size))
	}
	if v.fail == nil && v.next < len(v.sizes) {
		v.failAt(v.size, CheckSequence, fmt.Sprintf(
			"the log has %d entries but a checkpoint covers %d: entries from %d on are missing",
			v.size, v.sizes[len(v.sizes)-1], v.size))
	}
	if v.fail == nil {
		if seq := v.prune.firstUndeclared(v.signed); seq >= 0 {
			v.failAt(seq, CheckEntry, fmt.Sprintf("data of entry %d is missing and no prune covers it", seq))
		}
	}
	if v.fail == nil && v.size == 0 {
		// Every tenant's log starts with its creation: an empty log was
		// removed (or never existed).
		v.failAt(0, CheckSequence, "the log has no entries")
	}
	if v.fail == nil && v.size > 0 && v.checked == 0 {
		v.failAt(-1, CheckCheckpoint, fmt.Sprintf("no signed checkpoint covers any of the %d entries", v.size))
	}
	r := &Report{Tenant: v.opts.Tenant, Origin: v.origin, Entries: v.size, Checkpoints: v.checked,
		SignedSize: v.signed, Uncovered: v.size - v.signed, Pruned: v.prune.missing, OK: v.fail == nil, Failure: v.fail,
		Took: time.Since(v.started).Round(time.Millisecond).String()}
	if v.signed > 0 {
		r.Root = EncodeHash(v.root)
	}
	if v.trusted != nil {
		r.Trusted = v.trusted.Size
	}
	return r
}

// AddRecord checks the next record as a store holds it: its entry, its
// stored hashes and its index columns (the checks of VerifyStore).
func (v *Verifier) AddRecord(r *Record) *Failure {
	if v.fail != nil {
		return v.fail
	}
	p := prepare(r.Data)
	if p.missing {
		p.seq = r.Seq
	}
	if f := v.add(p, r.Hashes); f != nil {
		return f
	}
	return v.checkIndex(r, p.entry)
}

// AddCheckpoints gives a verifier that is following a growing log the
// checkpoints signed since it started. Those of a size it has passed
// cannot be checked any more (it keeps only the current tree) and are
// ignored; those of its current size are checked now, the others when
// the log reaches their size. It returns the first failure.
func (v *Verifier) AddCheckpoints(notes [][]byte) *Failure {
	if v.fail != nil {
		return v.fail
	}
	added := false
	for _, msg := range notes {
		size, err := peekSize(msg)
		if err != nil {
			v.failAt(-1, CheckCheckpoint, fmt.Sprintf("unreadable checkpoint: %v", err))
			return v.fail
		}
		if size < v.size || (size == v.size && v.checkedAt(size)) {
			continue
		}
		if _, known := v.cps[size]; !known {
			v.sizes = append(v.sizes, size)
			added = true
		}
		if !slices.ContainsFunc(v.cps[size], func(b []byte) bool { return bytes.Equal(b, msg) }) {
			v.cps[size] = append(v.cps[size], msg)
		}
	}
	if added {
		rest := v.sizes[v.next:]
		sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	}
	v.checkSize()
	return v.fail
}

// checkedAt reports whether the checkpoints of size were checked already.
func (v *Verifier) checkedAt(size int64) bool {
	return v.next > 0 && v.sizes[v.next-1] == size
}
