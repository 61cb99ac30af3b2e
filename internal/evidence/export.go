package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// ErrPeriod is returned (wrapped) for a period that cannot be exported.
var ErrPeriod = errors.New("invalid evidence period")

// Records reads what the archive holds besides the log: each returns
// JSON-ready values for its file. Nil functions give empty files.
type Records struct {
	// Policies returns the versions created or active in [from, to),
	// with their sources (Policy.Source) for policies/.
	Policies func(ctx context.Context, tenant string, from, to time.Time) ([]Policy, error)
	// Keys returns the tenant's keys now (never a secret).
	Keys func(ctx context.Context, tenant string) (any, error)
	// Controls returns the kill switches in force now.
	Controls func(ctx context.Context, tenant string) (any, error)
	// Alerts and Incidents return those of [from, to).
	Alerts    func(ctx context.Context, tenant string, from, to time.Time) (any, error)
	Incidents func(ctx context.Context, tenant string, from, to time.Time) (any, error)
	// Settings returns the settings now, without credentials.
	Settings func(ctx context.Context, tenant string) (any, error)
}

// Policy is one policy version in policies.json; its source is the file
// policies/<name>/v<version>.<ext>.
type Policy struct {
	Name          string          `json:"name"`
	Version       int64           `json:"version"`
	Digest        string          `json:"digest"`
	Author        string          `json:"author"`
	Created       time.Time       `json:"created"`
	Approvals     []PolicyVote    `json:"approvals"`
	Activations   []time.Time     `json:"activations"`
	ActiveAtStart bool            `json:"active_at_start"`
	File          string          `json:"file"`
	Format        string          `json:"format"` // yaml or json
	Source        []byte          `json:"-"`
	Extra         json.RawMessage `json:"extra,omitempty"`
}

// PolicyVote is one approval of a version.
type PolicyVote struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// Exporter makes archives from a server's store.
type Exporter struct {
	Log    ledger.Store
	Origin string
	// Signer signs the manifest (the log key); Keys are the log's key
	// history, oldest first, the current key's verifier last.
	Signer note.Signer
	Keys   []note.Verifier
	// Sign signs a checkpoint of the tenant's log now and returns it
	// (the checkpoint signer's Sign).
	Sign      func(ctx context.Context, tenant string) (*ledger.StoredCheckpoint, error)
	Records   Records
	Generator string
	Clock     func() time.Time
	// NewUUID makes OSCAL uuids (default NewUUID).
	NewUUID func() string
	// HeartbeatGap is the longest stretch without a monitor heartbeat
	// that is not a gap in coverage (default DefaultHeartbeatGap).
	HeartbeatGap time.Duration
}

// DefaultHeartbeatGap is five missed heartbeats of the monitor's default
// minute.
const DefaultHeartbeatGap = 5 * time.Minute

// Options shape one export.
type Options struct {
	// OSCAL adds the OSCAL assessment results to the archive.
	OSCAL bool
	// Progress, if set, is called as entries are written: done of total.
	Progress func(done, total int64)
	// TrustedSize, if positive, is the size of a checkpoint the auditor
	// holds: the archive proves that its end extends it.
	TrustedSize int64
}

func (x *Exporter) now() time.Time {
	if x.Clock == nil {
		return time.Now().UTC()
	}
	return x.Clock().UTC()
}

// KindPruned is the kind of the entry that records a prune of bodies
// under the tenant's retention.
const KindPruned = ledger.KindLogPruned

// readBatch is how many records an export reads at a time.
const readBatch = 8192

// Export writes the archive of tenant's [from, to) to w and returns its
// summary. The period must have ended: every entry of it exists, and the
// end checkpoint (signed now if the latest does not cover the period's
// last entry and the one after it) proves it.
func (x *Exporter) Export(ctx context.Context, w io.Writer, tenant string, from, to time.Time, opts Options) (*Summary, error) {
	now := x.now()
	switch {
	case !from.Before(to):
		return nil, fmt.Errorf("%w: from %s is not before to %s", ErrPeriod, from.Format(time.RFC3339), to.Format(time.RFC3339))
	case to.After(now):
		return nil, fmt.Errorf("%w: to %s is in the future: export a period that has ended", ErrPeriod, to.Format(time.RFC3339))
	}
	a, err := x.Log.SeqAtTime(ctx, tenant, from)
	if err != nil {
		return nil, err
	}
	b, err := x.Log.SeqAtTime(ctx, tenant, to)
	if err != nil {
		return nil, err
	}
	head, err := x.Log.Head(ctx, tenant)
	if err != nil {
		return nil, err
	}
	// The end checkpoint covers the entry after the period when there is
	// one, so that nothing of the period can be added after the fact.
	need := min(b+1, head.Size)
	end, err := x.Log.LatestCheckpoint(ctx, tenant)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return nil, err
	}
	if end == nil || end.Size < need {
		if end, err = x.Sign(ctx, tenant); err != nil {
			return nil, fmt.Errorf("sign the end checkpoint: %w", err)
		}
		if end.Size < need {
			return nil, fmt.Errorf("the end checkpoint covers %d entries, the period needs %d", end.Size, need)
		}
	}
	cps := &Checkpoints{End: string(end.Note)}
	checkpoints := int64(1)
	var start *ledger.StoredCheckpoint
	if a > 0 {
		list, err := x.Log.Checkpoints(ctx, tenant, 1, a)
		if err != nil {
			return nil, err
		}
		if len(list) > 0 {
			start = &list[len(list)-1]
			cps.Start = string(start.Note)
			checkpoints++
		}
	}
	hr := ledger.HashReader(ctx, x.Log, tenant)
	if start != nil {
		p, err := tlog.ProveTree(end.Size, start.Size, hr)
		if err != nil {
			return nil, fmt.Errorf("consistency proof: %w", err)
		}
		cps.Consistency = hashes(p)
	}
	if n := opts.TrustedSize; n > 0 {
		if n > end.Size {
			return nil, fmt.Errorf("%w: the trusted size %d is beyond the log's signed size %d", ErrPeriod, n, end.Size)
		}
		p, err := tlog.ProveTree(end.Size, n, hr)
		if err != nil {
			return nil, fmt.Errorf("consistency proof from the trusted size: %w", err)
		}
		cps.Trusted = &TreeProof{Size: n, Proof: hashes(p)}
	}
	s := &Summary{Tenant: tenant, From: from.UTC(), To: to.UTC(), Generated: now, Generator: x.Generator, KeyName: x.Signer.Name(),
		FirstSeq: -1, LastSeq: -1, Kinds: map[string]int64{}, Decisions: map[string]int64{}, Checkpoints: checkpoints}
	if b > a {
		s.FirstSeq, s.LastSeq, s.Entries = a, b-1, b-a
		if cps.First, err = inclusion(a, end.Size, hr); err != nil {
			return nil, err
		}
		if cps.Last, err = inclusion(b-1, end.Size, hr); err != nil {
			return nil, err
		}
	}
	if a > 0 {
		if cps.Before, err = x.boundary(ctx, tenant, a-1, end.Size, hr); err != nil {
			return nil, err
		}
	}
	if b < end.Size {
		if cps.After, err = x.boundary(ctx, tenant, b, end.Size, hr); err != nil {
			return nil, err
		}
	}

	zw := zip.NewWriter(w)
	m := &Manifest{Format: Format, Tenant: tenant, Origin: x.Origin, From: s.From, To: s.To, Generated: now, Generator: x.Generator,
		KeyName: x.Signer.Name(), FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, Entries: s.Entries}
	add := func(path string, write func(io.Writer) error) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		h := sha256.New()
		cw := &countWriter{w: io.MultiWriter(f, h)}
		if err := write(cw); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		m.Files = append(m.Files, FileDigest{Path: path, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	var kept kept
	if err := add(FileEntries, func(w io.Writer) error {
		return x.walk(ctx, tenant, a, b, opts.Progress, func(r *ledger.Record) error {
			return kept.entry(w, r, s)
		})
	}); err != nil {
		return nil, err
	}
	// The pruned ranges of the period and the entries that declared them
	// (made after the period, when its bodies were pruned).
	if len(kept.pruned) > 0 {
		if err := x.walk(ctx, tenant, b, end.Size, nil, func(r *ledger.Record) error {
			if r.Kind == KindPruned {
				kept.prunes = append(kept.prunes, r.Seq)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for _, pr := range kept.prunes {
		bd, err := x.boundary(ctx, tenant, pr, end.Size, hr)
		if err != nil {
			return nil, err
		}
		cps.Prunes = append(cps.Prunes, *bd)
	}
	if err := add(FileEntriesCSV, func(w io.Writer) error {
		cw := newCSV(w)
		if err := cw.header(); err != nil {
			return err
		}
		if err := x.walk(ctx, tenant, a, b, nil, func(r *ledger.Record) error { return cw.record(r) }); err != nil {
			return err
		}
		return cw.flush()
	}); err != nil {
		return nil, err
	}
	if err := add(FileCheckpoints, jsonFile(cps)); err != nil {
		return nil, err
	}
	policies, err := x.policies(ctx, tenant, from, to)
	if err != nil {
		return nil, err
	}
	s.Flags = append(s.Flags, kept.flags(policies)...)
	if err := add(FilePolicies, jsonFile(map[string]any{"versions": policies, "entries": kept.of("policy.")})); err != nil {
		return nil, err
	}
	for _, p := range policies {
		if err := add(p.File, func(w io.Writer) error { _, err := w.Write(p.Source); return err }); err != nil {
			return nil, err
		}
	}
	files := []struct {
		path  string
		now   func(ctx context.Context) (any, error)
		kinds []string
	}{
		{FileAccess, x.tenantOnly(x.Records.Keys, tenant), []string{"key.", "access.", "tenant."}},
		{FileKillSwitch, x.tenantOnly(x.Records.Controls, tenant), []string{"control."}},
		{FileAlerts, x.period(x.Records.Alerts, tenant, from, to), []string{"alert."}},
		{FileIncidents, x.period(x.Records.Incidents, tenant, from, to), []string{"incident."}},
		{FileApprovals, nil, []string{"approval."}},
		{FileSettings, x.tenantOnly(x.Records.Settings, tenant), []string{"setting.", "retention.", "signing_key.", "evidence.", "ledger."}},
	}
	for _, f := range files {
		doc := map[string]any{"entries": kept.of(f.kinds...)}
		if f.now != nil {
			v, err := f.now(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.path, err)
			}
			doc["now"] = v
		}
		if err := add(f.path, jsonFile(doc)); err != nil {
			return nil, err
		}
	}
	gap := x.HeartbeatGap
	if gap <= 0 {
		gap = DefaultHeartbeatGap
	}
	s.Heartbeats = coverage(kept.beats, s.From, s.To, gap)
	if err := add(FileMonitoring, jsonFile(map[string]any{"heartbeats": kept.beatEntries, "coverage": s.Heartbeats,
		"self_verifications": kept.of(event.KindSelfVerified)})); err != nil {
		return nil, err
	}
	s.Pruned = kept.pruned
	s.Verification = selfCheck(cps, x.Origin, tenant, x.Keys, kept.chainErr, kept.edges)
	s.Criteria = Criteria(s)
	report, err := RenderReport(s)
	if err != nil {
		return nil, err
	}
	if err := add(FileReport, func(w io.Writer) error { _, err := w.Write(report); return err }); err != nil {
		return nil, err
	}
	controls, err := ControlsJSON(s)
	if err != nil {
		return nil, err
	}
	if err := add(FileControls, func(w io.Writer) error { _, err := w.Write(controls); return err }); err != nil {
		return nil, err
	}
	if opts.OSCAL {
		uuid := x.NewUUID
		if uuid == nil {
			uuid = NewUUID
		}
		doc, err := OSCALResults(s, uuid)
		if err != nil {
			return nil, err
		}
		if err := add(FileOSCAL, func(w io.Writer) error { _, err := w.Write(doc); return err }); err != nil {
			return nil, err
		}
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	manifest = append(manifest, '\n')
	sig, err := signManifest(m, manifest, x.Signer)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{FileManifest, manifest}, {FileManifestSig, sig}} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.path, Method: zip.Deflate, Modified: now})
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return s, nil
}

// walk calls fn for each record with seq in [a, b), in order.
func (x *Exporter) walk(ctx context.Context, tenant string, a, b int64, progress func(done, total int64), fn func(*ledger.Record) error) error {
	next := a
	for next < b {
		recs, err := x.Log.Records(ctx, tenant, next, b, readBatch)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return fmt.Errorf("entries from %d are missing from the store (the log has %d)", next, b)
		}
		for i := range recs {
			if recs[i].Seq != next {
				return fmt.Errorf("the store returned seq %d where %d was expected", recs[i].Seq, next)
			}
			if err := fn(&recs[i]); err != nil {
				return err
			}
			next++
		}
		if progress != nil {
			progress(next-a, b-a)
		}
	}
	return nil
}

// boundary returns the record at seq with its inclusion proof.
func (x *Exporter) boundary(ctx context.Context, tenant string, seq, size int64, hr tlog.HashReader) (*Boundary, error) {
	recs, err := x.Log.Records(ctx, tenant, seq, seq+1, 1)
	if err != nil {
		return nil, err
	}
	if len(recs) != 1 || recs[0].Seq != seq {
		return nil, fmt.Errorf("entry %d is missing from the store", seq)
	}
	inc, err := inclusion(seq, size, hr)
	if err != nil {
		return nil, err
	}
	return &Boundary{Entry: string(recs[0].Data), Seq: seq, Proof: inc.Proof}, nil
}

func inclusion(seq, size int64, hr tlog.HashReader) (*Inclusion, error) {
	p, err := tlog.ProveRecord(size, seq, hr)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %d in %d: %w", seq, size, err)
	}
	return &Inclusion{Seq: seq, Proof: hashes(p)}, nil
}

func hashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = ledger.EncodeHash(h)
	}
	return out
}

func (x *Exporter) policies(ctx context.Context, tenant string, from, to time.Time) ([]Policy, error) {
	if x.Records.Policies == nil {
		return []Policy{}, nil
	}
	ps, err := x.Records.Policies(ctx, tenant, from, to)
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		return ps[i].Version < ps[j].Version
	})
	for i := range ps {
		ps[i].File = policyFile(ps[i].Name, ps[i].Version, ps[i].Format)
	}
	if ps == nil {
		ps = []Policy{}
	}
	return ps, nil
}

func policyFile(name string, version int64, format string) string {
	ext := "yaml"
	if format == "json" {
		ext = "json"
	}
	return fmt.Sprintf("policies/%s/v%d.%s", name, version, ext)
}

func (x *Exporter) tenantOnly(f func(context.Context, string) (any, error), tenant string) func(context.Context) (any, error) {
	if f == nil {
		return nil
	}
	return func(ctx context.Context) (any, error) { return f(ctx, tenant) }
}

func (x *Exporter) period(f func(context.Context, string, time.Time, time.Time) (any, error), tenant string, from, to time.Time) func(context.Context) (any, error) {
	if f == nil {
		return nil
	}
	return func(ctx context.Context) (any, error) { return f(ctx, tenant, from, to) }
}

// jsonFile writes v as indented JSON.
func jsonFile(v any) func(io.Writer) error {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// kept is what the entries walk keeps for the other files: the entries
// of the kinds they list (every kind but decisions and outcomes, which
// are the bulk), heartbeat times, pruned ranges, and the chain check.
type kept struct {
	entries     []json.RawMessage
	kinds       []string
	beats       []time.Time
	beatEntries []json.RawMessage
	pruned      [][2]int64
	prunes      []int64 // seqs of retention.pruned entries seen
	prev        *tlog.Hash
	chainErr    error
	edges       edges
	lineBuf     bytes.Buffer
}

// decisionView is what the summary counts of a decision.
type decisionView struct {
	Body struct {
		Decision string            `json:"decision"`
		Findings []json.RawMessage `json:"findings"`
	} `json:"body"`
}

func (k *kept) entry(w io.Writer, r *ledger.Record, s *Summary) error {
	k.lineBuf.Reset()
	if len(r.Data) == 0 {
		// A pruned body: its seq and stored leaf hash stand for it.
		line, _ := json.Marshal(prunedLine{Seq: r.Seq, Pruned: true, LeafHash: ledger.EncodeHash(r.LeafHash())})
		k.lineBuf.Write(line)
		if n := len(k.pruned); n > 0 && k.pruned[n-1][1] == r.Seq {
			k.pruned[n-1][1] = r.Seq + 1
		} else {
			k.pruned = append(k.pruned, [2]int64{r.Seq, r.Seq + 1})
		}
		leaf := r.LeafHash()
		k.prev = &leaf
		k.edges.add(r.Seq, leaf, "")
	} else {
		k.lineBuf.Write(r.Data)
		e, err := ledger.Parse(r.Data)
		if err != nil {
			return fmt.Errorf("entry %d: %w", r.Seq, err)
		}
		leaf := ledger.LeafHash(r.Data)
		if k.prev != nil && e.Prev != ledger.EncodeHash(*k.prev) && k.chainErr == nil {
			k.chainErr = fmt.Errorf("entry %d does not chain to entry %d", r.Seq, r.Seq-1)
		}
		k.prev = &leaf
		k.edges.add(r.Seq, leaf, e.Prev)
		s.Kinds[r.Kind]++
		switch r.Kind {
		case event.KindDecision:
			var v decisionView
			if err := json.Unmarshal(r.Data, &v); err == nil {
				s.Decisions[v.Body.Decision]++
				if len(v.Body.Findings) > 0 {
					s.WithFindings++
				}
			}
		case event.KindOutcome:
		default:
			k.entries = append(k.entries, json.RawMessage(bytes.Clone(r.Data)))
			k.kinds = append(k.kinds, r.Kind)
			if r.Kind == event.KindMonitorHeartbeat {
				k.beats = append(k.beats, r.Time)
				k.beatEntries = append(k.beatEntries, json.RawMessage(bytes.Clone(r.Data)))
			}
		}
	}
	k.lineBuf.WriteByte('\n')
	_, err := w.Write(k.lineBuf.Bytes())
	return err
}

// of returns the kept entries whose kind starts with one of prefixes.
func (k *kept) of(prefixes ...string) []json.RawMessage {
	out := []json.RawMessage{}
	for i, kind := range k.kinds {
		for _, p := range prefixes {
			if len(kind) >= len(p) && kind[:len(p)] == p {
				out = append(out, k.entries[i])
				break
			}
		}
	}
	return out
}

// flags are what an auditor should read first: policy versions
// activated in the period without an approval by a key other than their
// author's.
func (k *kept) flags(ps []Policy) []string {
	var out []string
	for _, p := range ps {
		if len(p.Activations) == 0 {
			continue
		}
		second := false
		for _, v := range p.Approvals {
			if v.Key != p.Author {
				second = true
			}
		}
		if !second {
			out = append(out, fmt.Sprintf("policy %s version %d was activated without a second approver (the tenant's policy_approvals setting allowed it)", p.Name, p.Version))
		}
	}
	return out
}

// coverage lists the gaps between heartbeats (and the period's bounds)
// longer than the monitor's heartbeat allows.
func coverage(beats []time.Time, from, to time.Time, maxGap time.Duration) Coverage {
	c := Coverage{Count: int64(len(beats)), MaxGap: maxGap, Gaps: []Gap{}}
	last := from
	for _, t := range beats {
		if t.Sub(last) > maxGap {
			c.Gaps = append(c.Gaps, Gap{From: last, To: t})
		}
		last = t
	}
	if to.Sub(last) > maxGap {
		c.Gaps = append(c.Gaps, Gap{From: last, To: to})
	}
	return c
}

// selfCheck is the exporter's own check of what it wrote: the chain of
// the entries, and its checkpoints and proofs against its own key. The
// auditor's Verify checks the archive again, against keys of their own.
func selfCheck(cps *Checkpoints, origin, tenant string, keys []note.Verifier, chainErr error, ed edges) Verification {
	v := Verification{OK: true}
	add := func(name string, err error) {
		c := Check{Name: name, OK: err == nil}
		if err != nil {
			c.Detail = err.Error()
			v.OK = false
		}
		v.Checks = append(v.Checks, c)
	}
	add(CheckChain, chainErr)
	for _, c := range checkProofs(cps, ledger.TenantOrigin(origin, tenant), keys, nil, ed) {
		add(c.name, c.err)
	}
	return v
}
