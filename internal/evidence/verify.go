package evidence

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Names of the checks of an archive.
const (
	CheckManifestSignature = "manifest_signature" // manifest.sig signs manifest.json with a trusted key
	CheckFiles             = "file_hashes"        // every file is in the manifest, with its size and SHA-256
	CheckEntries           = "entries"            // each entry parses, is the tenant's, in the period, in seq order
	CheckChain             = "chain"              // each entry's prev is the leaf hash of the one before
	CheckCheckpoints       = "checkpoints"        // the start and end checkpoints are signed by a trusted key
	CheckConsistency       = "consistency"        // the end checkpoint's tree extends the start's
	CheckInclusion         = "inclusion"          // the first and last entries are in the end checkpoint's tree
	CheckComplete          = "period_complete"    // the entries around the period are outside it and chain to it
	CheckPruned            = "pruned"             // every pruned entry is declared by a prune in the log
	CheckPolicies          = "policies"           // each policy file has the digest its entries record
	CheckTrusted           = "trusted_checkpoint" // the archive's log extends the auditor's checkpoint
)

// VerifyOptions are what the auditor trusts: the log's keys (a key
// history, oldest first) and optionally a checkpoint of their own.
type VerifyOptions struct {
	Keys    []note.Verifier
	Trusted []byte
}

// maxArchiveFile bounds what Verify reads of any file but the entries.
const maxArchiveFile = 256 << 20

// Verify checks an archive offline and returns a verdict per check. The
// error is for an archive that cannot be read at all (not a zip);
// everything else is a failed check.
func Verify(r io.ReaderAt, size int64, opts VerifyOptions) (*Verification, *Manifest, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("not an evidence archive: %w", err)
	}
	v := &Verification{OK: true}
	fail := map[string]string{}
	note := func(name string, err error) {
		if err != nil && fail[name] == "" {
			fail[name] = err.Error()
		}
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			note(CheckFiles, fmt.Errorf("%s is in the archive twice", f.Name))
		}
		files[f.Name] = f
	}
	read := func(name string) ([]byte, error) {
		f := files[name]
		if f == nil {
			return nil, fmt.Errorf("%s is missing", name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxArchiveFile+1))
		if err == nil && len(b) > maxArchiveFile {
			err = fmt.Errorf("%s is larger than %d bytes", name, maxArchiveFile)
		}
		return b, err
	}
	var m Manifest
	raw, err := read(FileManifest)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(&m)
		if err == nil && m.Format != Format {
			err = fmt.Errorf("format %q, want %q", m.Format, Format)
		}
	}
	if err != nil {
		// Without a manifest nothing else can be judged.
		v.OK = false
		v.Checks = []Check{{Name: CheckManifestSignature, Detail: "manifest.json: " + err.Error()}}
		return v, nil, nil
	}
	sig, err := read(FileManifestSig)
	if err == nil {
		err = checkManifestSig(&m, raw, sig, opts.Keys)
	}
	note(CheckManifestSignature, err)

	// Every file but the manifest's own is listed, with its digest.
	listed := map[string]bool{}
	for _, fd := range m.Files {
		listed[fd.Path] = true
		f := files[fd.Path]
		if f == nil {
			note(CheckFiles, fmt.Errorf("%s is in the manifest but not in the archive", fd.Path))
			continue
		}
		n, sum, err := digest(f)
		if err != nil {
			note(CheckFiles, fmt.Errorf("%s: %v", fd.Path, err))
			continue
		}
		if n != fd.Size || sum != fd.SHA256 {
			note(CheckFiles, fmt.Errorf("%s has changed: SHA-256 %s, the manifest says %s", fd.Path, sum, fd.SHA256))
		}
	}
	for name := range files {
		if !listed[name] && name != FileManifest && name != FileManifestSig {
			note(CheckFiles, fmt.Errorf("%s is not in the manifest", name))
		}
	}

	var cps Checkpoints
	if b, err := read(FileCheckpoints); err != nil {
		note(CheckCheckpoints, err)
	} else if err := json.Unmarshal(b, &cps); err != nil {
		note(CheckCheckpoints, fmt.Errorf("checkpoints.json: %v", err))
	}
	origin := ledger.TenantOrigin(m.Origin, m.Tenant)
	walk := walkEntries(files[FileEntries], &m, &cps)
	for name, err := range walk.errs {
		note(name, err)
	}
	for _, c := range checkProofs(&cps, origin, opts.Keys, opts.Trusted, walk.edges) {
		note(c.name, c.err)
	}
	note(CheckPruned, checkPrunes(&cps, walk.pruned))
	note(CheckPolicies, checkPolicies(read, walk.policyDigests))

	for _, name := range []string{CheckManifestSignature, CheckFiles, CheckEntries, CheckChain, CheckCheckpoints, CheckConsistency,
		CheckInclusion, CheckComplete, CheckPruned, CheckPolicies, CheckTrusted} {
		if name == CheckTrusted && len(opts.Trusted) == 0 {
			continue
		}
		c := Check{Name: name, OK: fail[name] == "", Detail: fail[name]}
		v.OK = v.OK && c.OK
		v.Checks = append(v.Checks, c)
	}
	return v, &m, nil
}

func digest(f *zip.File) (int64, string, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// walked is what the walk over entries.ndjson found.
type walked struct {
	errs          map[string]error
	edges         edges
	lastTime      string
	pruned        []int64
	policyDigests map[string]string // "name/version" → digest, from policy.version entries
}

// walkEntries checks entries.ndjson line by line: each entry is the
// tenant's, in seq order from the manifest's first seq, chained to the
// one before, within the period; the count and last seq are the
// manifest's.
func walkEntries(f *zip.File, m *Manifest, cps *Checkpoints) *walked {
	w := &walked{errs: map[string]error{}, policyDigests: map[string]string{}}
	bad := func(name string, format string, args ...any) {
		if w.errs[name] == nil {
			w.errs[name] = fmt.Errorf(format, args...)
		}
	}
	if f == nil {
		bad(CheckEntries, "%s is missing", FileEntries)
		return w
	}
	rc, err := f.Open()
	if err != nil {
		bad(CheckEntries, "%s: %v", FileEntries, err)
		return w
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	from, to := ledger.FormatTime(m.From), ledger.FormatTime(m.To)
	// The chain starts at the entry before the period, when there is one.
	var prev *tlog.Hash
	if cps.Before != nil {
		h := ledger.LeafHash([]byte(cps.Before.Entry))
		prev = &h
	}
	seq, n := m.FirstSeq, int64(0)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: an entry is at most 1 MiB.
			bad(CheckEntries, "a line of %s is longer than an entry may be", FileEntries)
			return w
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			bad(CheckEntries, "%s: %v", FileEntries, err)
			return w
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		n++
		if bytes.HasPrefix(line, []byte(`{"seq":`)) {
			var p prunedLine
			if json.Unmarshal(line, &p) != nil || !p.Pruned {
				bad(CheckEntries, "line %d is neither an entry nor a pruned entry", n)
				return w
			}
			h, err := ledger.DecodeHash(p.LeafHash)
			if err != nil || p.Seq != seq {
				bad(CheckEntries, "line %d: pruned entry %d where %d was expected", n, p.Seq, seq)
				return w
			}
			w.pruned = append(w.pruned, p.Seq)
			w.edges.add(p.Seq, h, "")
			prev = &h
			seq++
			continue
		}
		e, err := ledger.Parse(line)
		if err != nil {
			bad(CheckEntries, "line %d: %v", n, err)
			return w
		}
		switch {
		case e.Tenant != m.Tenant:
			bad(CheckEntries, "entry %d is of tenant %q, not %q", e.Seq, e.Tenant, m.Tenant)
		case e.Seq != seq:
			bad(CheckEntries, "found entry %d where %d was expected: an entry was removed or added", e.Seq, seq)
		case e.Time < from || e.Time >= to:
			bad(CheckEntries, "entry %d at %s is outside the period", e.Seq, e.Time)
		}
		if prev != nil && e.Prev != ledger.EncodeHash(*prev) {
			bad(CheckChain, "entry %d does not chain to the entry before it: it was changed, or one was removed or added", e.Seq)
		}
		if e.Time < w.lastTime {
			bad(CheckEntries, "entry %d goes back in time", e.Seq)
		}
		w.lastTime = e.Time
		h := ledger.LeafHash(line)
		prev = &h
		w.edges.add(e.Seq, h, e.Prev)
		if e.Kind == event.KindPolicyVersion {
			var pv event.PolicyVersion
			if json.Unmarshal(e.Body, &pv) == nil {
				w.policyDigests[fmt.Sprintf("%s/%d", pv.Name, pv.Version)] = pv.Digest
			}
		}
		seq++
		if err == io.EOF {
			break
		}
	}
	if n != m.Entries || (n > 0 && seq-1 != m.LastSeq) {
		bad(CheckEntries, "%s holds %d entries up to %d; the manifest says %d up to %d", FileEntries, n, seq-1, m.Entries, m.LastSeq)
	}
	// The entries around the period lie outside it.
	if cps.Before != nil {
		if e, err := ledger.Parse([]byte(cps.Before.Entry)); err == nil && e.Time >= from {
			bad(CheckComplete, "the entry before the period (%d, %s) is not before it", e.Seq, e.Time)
		}
	}
	if cps.After != nil {
		if e, err := ledger.Parse([]byte(cps.After.Entry)); err == nil && e.Time < to {
			bad(CheckComplete, "the entry after the period (%d, %s) is inside it: the period is not complete", e.Seq, e.Time)
		}
	}
	return w
}

// namedErr is one check's failure (err nil: passed).
type namedErr struct {
	name string
	err  error
}

// edges are the period's first and last entries: their seqs and leaf
// hashes (a pruned entry's stored one), and the first entry's prev (""
// when its body was pruned). n is 0 for a period without entries.
type edges struct {
	n                   int64
	firstSeq, lastSeq   int64
	firstLeaf, lastLeaf tlog.Hash
	firstPrev           string
}

// add records the next entry of the period.
func (ed *edges) add(seq int64, leaf tlog.Hash, prev string) {
	if ed.n == 0 {
		ed.firstSeq, ed.firstLeaf, ed.firstPrev = seq, leaf, prev
	}
	ed.lastSeq, ed.lastLeaf = seq, leaf
	ed.n++
}

// checkProofs checks the checkpoints and proofs of cps against keys,
// for a period with edges ed.
func checkProofs(cps *Checkpoints, origin string, keys []note.Verifier, trusted []byte, ed edges) []namedErr {
	var out []namedErr
	add := func(name string, err error) { out = append(out, namedErr{name, err}) }
	end, err := ledger.OpenCheckpoint([]byte(cps.End), origin, keys...)
	if err != nil {
		add(CheckCheckpoints, fmt.Errorf("end checkpoint: %v", err))
		return out
	}
	var start *ledger.Checkpoint
	if cps.Start != "" {
		if start, err = ledger.OpenCheckpoint([]byte(cps.Start), origin, keys...); err != nil {
			add(CheckCheckpoints, fmt.Errorf("start checkpoint: %v", err))
			return out
		}
	}
	if start != nil {
		p, err := decodeHashes(cps.Consistency)
		if err == nil {
			err = tlog.CheckTree(p, end.Size, end.Root, start.Size, start.Root)
		}
		if err != nil {
			add(CheckConsistency, fmt.Errorf("the end checkpoint (%d) does not extend the start checkpoint (%d): %v", end.Size, start.Size, err))
		}
	}
	included := func(what string, seq int64, leaf tlog.Hash, proof []string) error {
		p, err := decodeHashes(proof)
		if err == nil {
			err = tlog.CheckRecord(p, end.Size, end.Root, seq, leaf)
		}
		if err != nil {
			return fmt.Errorf("%s (entry %d) is not in the end checkpoint's tree: %v", what, seq, err)
		}
		return nil
	}
	if ed.n > 0 {
		if cps.First == nil || cps.First.Seq != ed.firstSeq || cps.Last == nil || cps.Last.Seq != ed.lastSeq {
			add(CheckInclusion, fmt.Errorf("the proofs are not of the period's first and last entries (%d, %d)", ed.firstSeq, ed.lastSeq))
		} else {
			add(CheckInclusion, included("the first entry", ed.firstSeq, ed.firstLeaf, cps.First.Proof))
			add(CheckInclusion, included("the last entry", ed.lastSeq, ed.lastLeaf, cps.Last.Proof))
		}
	}
	// The entries around the period are outside it and in the tree.
	if cps.Before != nil {
		add(CheckComplete, boundary(cps.Before, ed, true, included))
	} else if ed.n > 0 && ed.firstSeq != 0 {
		add(CheckComplete, fmt.Errorf("nothing shows the entry before %d is outside the period", ed.firstSeq))
	}
	if cps.After != nil {
		add(CheckComplete, boundary(cps.After, ed, false, included))
	} else {
		add(CheckComplete, fmt.Errorf("no entry after the period proves its end: entries could be missing at the end"))
	}
	// A period without entries: the entries around it are adjacent.
	if ed.n == 0 && cps.After != nil {
		after, err := ledger.Parse([]byte(cps.After.Entry))
		switch {
		case err != nil:
		case cps.Before == nil && after.Seq != 0:
			add(CheckComplete, fmt.Errorf("the period is empty but the entry after it is %d, not the log's first", after.Seq))
		case cps.Before != nil && (after.Seq != cps.Before.Seq+1 || after.Prev != ledger.EncodeHash(ledger.LeafHash([]byte(cps.Before.Entry)))):
			add(CheckComplete, fmt.Errorf("the period is empty but the entries around it (%d, %d) are not adjacent: entries were removed", cps.Before.Seq, after.Seq))
		}
	}
	// The prunes that declare pruned bodies are the log's own entries.
	for _, p := range cps.Prunes {
		add(CheckPruned, included("a prune entry", p.Seq, ledger.LeafHash([]byte(p.Entry)), p.Proof))
	}
	if len(trusted) > 0 {
		add(CheckTrusted, checkTrusted(trusted, origin, keys, start, end, cps.Trusted))
	}
	return out
}

// boundary checks the entry just before (or after) the period: it is in
// the tree at its seq, next to the period's edge, and chains to it. The
// times are checked by walkEntries, which knows the period.
func boundary(b *Boundary, ed edges, before bool, included func(string, int64, tlog.Hash, []string) error) error {
	e, err := ledger.Parse([]byte(b.Entry))
	if err != nil || e.Seq != b.Seq {
		return fmt.Errorf("the boundary entry %d does not parse: %v", b.Seq, err)
	}
	what := "the entry after the period"
	if before {
		what = "the entry before the period"
	}
	if err := included(what, b.Seq, ledger.LeafHash([]byte(b.Entry)), b.Proof); err != nil {
		return err
	}
	if ed.n == 0 {
		return nil
	}
	if before {
		// A pruned first entry has no prev to compare: the two inclusion
		// proofs place both at adjacent seqs of the tree.
		if e.Seq != ed.firstSeq-1 || (ed.firstPrev != "" && ed.firstPrev != ledger.EncodeHash(ledger.LeafHash([]byte(b.Entry)))) {
			return fmt.Errorf("the period's first entry (%d) does not follow %s (%d): entries at the start were removed", ed.firstSeq, what, e.Seq)
		}
		return nil
	}
	if e.Seq != ed.lastSeq+1 || e.Prev != ledger.EncodeHash(ed.lastLeaf) {
		return fmt.Errorf("%s (%d) does not follow the period's last entry (%d): entries at the end were removed or added", what, e.Seq, ed.lastSeq)
	}
	return nil
}

func checkTrusted(trusted []byte, origin string, keys []note.Verifier, start, end *ledger.Checkpoint, tp *TreeProof) error {
	t, err := ledger.OpenCheckpoint(trusted, origin, keys...)
	if err != nil {
		return fmt.Errorf("the trusted checkpoint: %v", err)
	}
	if tp != nil && tp.Size == t.Size && t.Size <= end.Size {
		p, err := decodeHashes(tp.Proof)
		if err == nil {
			err = tlog.CheckTree(p, end.Size, end.Root, t.Size, t.Root)
		}
		if err != nil {
			return fmt.Errorf("the end checkpoint does not extend the trusted checkpoint of size %d: the log was rewritten: %v", t.Size, err)
		}
		return nil
	}
	for _, c := range []*ledger.Checkpoint{start, end} {
		if c != nil && c.Size == t.Size {
			if c.Root != t.Root {
				return fmt.Errorf("the archive's checkpoint of size %d is not the trusted one: the log was rewritten", t.Size)
			}
			return nil
		}
	}
	if t.Size > end.Size {
		return fmt.Errorf("the trusted checkpoint covers %d entries, the archive's end only %d: the log was rolled back", t.Size, end.Size)
	}
	return fmt.Errorf("the archive has no proof from the trusted size %d (its checkpoints are of %d and %d): export it with --trusted-size %d", t.Size, sizeOf(start), end.Size, t.Size)
}

func sizeOf(c *ledger.Checkpoint) int64 {
	if c == nil {
		return 0
	}
	return c.Size
}

// checkPrunes checks that every pruned entry of the period lies in a
// range that a retention.pruned entry declares, each proved in the end tree.
func checkPrunes(cps *Checkpoints, pruned []int64) error {
	if len(pruned) == 0 {
		return nil
	}
	var ranges [][2]int64
	for _, p := range cps.Prunes {
		e, err := ledger.Parse([]byte(p.Entry))
		if err != nil || e.Kind != KindPruned {
			return fmt.Errorf("prune record %d is not a %s entry", p.Seq, KindPruned)
		}
		var body struct {
			From int64 `json:"from"`
			To   int64 `json:"to"`
		}
		if err := json.Unmarshal(e.Body, &body); err != nil {
			return fmt.Errorf("prune entry %d: %v", p.Seq, err)
		}
		ranges = append(ranges, [2]int64{body.From, body.To})
	}
	for _, seq := range pruned {
		ok := false
		for _, r := range ranges {
			ok = ok || (r[0] <= seq && seq < r[1])
		}
		if !ok {
			return fmt.Errorf("entry %d has no body and no prune declares it: it was removed", seq)
		}
	}
	return nil
}

// checkPolicies recomputes each policy file's digest: it must be the one
// policies.json lists and the one the version's entry recorded.
func checkPolicies(read func(string) ([]byte, error), recorded map[string]string) error {
	raw, err := read(FilePolicies)
	if err != nil {
		return err
	}
	var doc struct {
		Versions []Policy `json:"versions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("policies.json: %v", err)
	}
	for _, p := range doc.Versions {
		src, err := read(p.File)
		if err != nil {
			return err
		}
		d, _, err := policy.Parse(src)
		if err != nil {
			return fmt.Errorf("%s does not parse: %v", p.File, err)
		}
		sum, err := policy.ComputeDigest(d)
		if err != nil {
			return err
		}
		if sum != p.Digest {
			return fmt.Errorf("%s has digest %s, but version %d of %s is %s: the file was altered", p.File, sum, p.Version, p.Name, p.Digest)
		}
		if want, ok := recorded[fmt.Sprintf("%s/%d", p.Name, p.Version)]; ok && want != sum {
			return fmt.Errorf("%s has digest %s, but its policy.version entry records %s: the file was altered", p.File, sum, want)
		}
	}
	return nil
}

func decodeHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := ledger.DecodeHash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// Format renders a verification as the lines warden evidence verify
// prints.
func (v *Verification) Format() string {
	var b strings.Builder
	for _, c := range v.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s", mark, c.Name)
		if c.Detail != "" {
			fmt.Fprintf(&b, ": %s", c.Detail)
		}
		b.WriteByte('\n')
	}
	if v.OK {
		b.WriteString("verdict: the archive verifies\n")
	} else {
		b.WriteString("verdict: the archive does NOT verify\n")
	}
	return b.String()
}
