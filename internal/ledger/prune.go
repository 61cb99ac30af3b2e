package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// KindLogPruned is the kind of the entry that records a prune: the data of
// a range of earlier entries was removed under the tenant's retention. The
// ledger interprets it when it verifies a log (see Pruned).
const KindLogPruned = "retention.pruned"

// Pruned is the body of a retention.pruned entry. The data of the entries with
// seq in [From, To) was removed; their rows, seq, id, kind, time and tree
// hashes remain, so checkpoints and proofs that cover them still verify.
// A store MUST remove data only in the transaction that appends the entry
// recording it.
type Pruned struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Cutoff is the retention cutoff (entry time layout): every entry of
	// the range is older.
	Cutoff        string `json:"cutoff"`
	RetentionDays int    `json:"retention_days"`
}

// DecodePruned strictly decodes the body of a retention.pruned entry.
func DecodePruned(body []byte) (*Pruned, error) {
	var p Pruned
	if err := decodeStrict(body, &p); err != nil {
		return nil, fmt.Errorf("%s body: %w", KindLogPruned, err)
	}
	if p.From < 0 || p.To <= p.From {
		return nil, fmt.Errorf("%s body: range [%d, %d) is empty or negative", KindLogPruned, p.From, p.To)
	}
	if _, err := ParseTime(p.Cutoff); err != nil {
		return nil, fmt.Errorf("%s body: cutoff: %w", KindLogPruned, err)
	}
	return &p, nil
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// Unprunable are the kinds whose data a prune MUST keep: a verifier reads
// them (the declarations of earlier prunes, the key history).
var Unprunable = []string{KindLogPruned, KindLogKeyRotated}

// PruneTx is the capability of an append transaction (a store's Tx) to
// remove entries' data: Request.Work of a retention.pruned entry type-asserts
// the Tx to it, so the removal and its record commit together or not at
// all.
type PruneTx interface {
	// PrunedThrough returns the end of the tenant's pruned prefix: every
	// entry below it was pruned (0 if none was).
	PrunedThrough() (int64, error)
	// PruneData sets the data of the tenant's entries with seq in
	// [from, to) to NULL, except entries of the Unprunable kinds, keeping
	// everything else (row, seq, id, kind, time, hashes), moves the pruned
	// prefix to to, and returns how many rows still had data. It MUST refuse a
	// range that reaches an entry inserted in this transaction.
	PruneData(from, to int64) (int64, error)
}

// pruneState is what a verifier learns about pruned data: the entries
// without data it accepted on their stored leaf hash, and the ranges the
// log's retention.pruned entries declare.
type pruneState struct {
	missing  [][2]int64 // [from, to), ascending, merged
	declared []declared
}

type declared struct {
	seq      int64 // of the retention.pruned entry
	from, to int64
}

func (p *pruneState) noteMissing(seq int64) {
	if n := len(p.missing); n > 0 && p.missing[n-1][1] == seq {
		p.missing[n-1][1]++
		return
	}
	p.missing = append(p.missing, [2]int64{seq, seq + 1})
}

// firstUndeclared returns the first entry without data that no prune
// covers, counting only declarations at a seq below signed (a retention.pruned
// entry that no checkpoint covers could be forged), or -1.
func (p *pruneState) firstUndeclared(signed int64) int64 {
	if len(p.missing) == 0 {
		return -1
	}
	var ds [][2]int64
	for _, d := range p.declared {
		if d.seq < signed {
			ds = append(ds, [2]int64{d.from, d.to})
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i][0] < ds[j][0] })
	for _, m := range p.missing {
		next := m[0] // first seq of m not yet known to be covered
		for _, d := range ds {
			if d[0] > next {
				break
			}
			if d[1] > next {
				next = d[1]
			}
			if next >= m[1] {
				break
			}
		}
		if next < m[1] {
			return next
		}
	}
	return -1
}
