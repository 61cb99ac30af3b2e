package ledger_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

// prunedLog is ten entries, a retention.pruned declaring [2, 6) at seq 10 and a
// checkpoint covering it all.
func prunedLog(t *testing.T, k testKey) *memLog {
	m := &memLog{t: t}
	m.addN(10)
	m.sign(k)
	m.add(ledger.KindLogPruned, ledger.Pruned{From: 2, To: 6, Cutoff: ledger.FormatTime(memBase), RetentionDays: 30})
	m.sign(k)
	return m
}

// without returns copies of recs with the data of seqs removed.
func without(recs []ledger.Record, seqs ...int64) []ledger.Record {
	out := slices.Clone(recs)
	for _, s := range seqs {
		out[s].Data = nil
	}
	return out
}

func TestVerifyPruned(t *testing.T) {
	k := newTestKey(t, 1)
	m := prunedLog(t, k)

	rep := m.verify(without(m.recs, 2, 3, 4, 5), k)
	if !rep.OK || !reflect.DeepEqual(rep.Pruned, [][2]int64{{2, 6}}) {
		t.Fatalf("Verify(declared prune) = %+v, want OK with pruned [[2 6]]", rep)
	}
	rep = m.verify(without(m.recs, 3), k)
	if !rep.OK || !reflect.DeepEqual(rep.Pruned, [][2]int64{{3, 4}}) {
		t.Errorf("Verify(part of a declared range) = %+v, want OK with pruned [[3 4]]", rep)
	}

	tests := []struct {
		name  string
		recs  func() []ledger.Record
		fail  ledger.Failure // Seq and Check; Reason is a part
		notes func(m *memLog)
	}{
		{name: "body nulled outside the declared range", recs: func() []ledger.Record { return without(m.recs, 2, 3, 7) },
			fail: ledger.Failure{Seq: 7, Check: ledger.CheckEntry, Reason: "data of entry 7 is missing and no prune covers it"}},
		{name: "declared range with a leaf hash altered", recs: func() []ledger.Record {
			recs := without(m.recs, 2, 3, 4, 5)
			// The attacker rewrites the stored hashes consistently: only
			// the signed roots can tell.
			recs[3].Hashes = []tlog.Hash{{1, 2, 3}}
			for i := range recs {
				if i != 3 {
					recs[i].Hashes = recs[i].Hashes[:1]
				}
			}
			return recs
		}, fail: ledger.Failure{Seq: 0, Check: ledger.CheckCheckpoint, Reason: "was altered"}},
		{name: "missing without a stored leaf hash", recs: func() []ledger.Record {
			recs := without(m.recs, 2)
			recs[2].Hashes = nil
			return recs
		}, fail: ledger.Failure{Seq: 2, Check: ledger.CheckEntry, Reason: "leaf hash is not stored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := m.verify(tt.recs(), k)
			f := rep.Failure
			if rep.OK || f.Seq != tt.fail.Seq || f.Check != tt.fail.Check || !strings.Contains(f.Reason, tt.fail.Reason) {
				t.Fatalf("Verify(%s) = %v, want seq %d %s %q", tt.name, f, tt.fail.Seq, tt.fail.Check, tt.fail.Reason)
			}
		})
	}

	// A retention.pruned entry that no checkpoint covers vouches for nothing: it
	// could have been appended by anyone with write access.
	u := &memLog{t: t}
	u.addN(10)
	u.sign(k)
	u.add(ledger.KindLogPruned, ledger.Pruned{From: 2, To: 6, Cutoff: ledger.FormatTime(memBase), RetentionDays: 30})
	if rep := u.verify(without(u.recs, 2), k); rep.OK || rep.Failure.Seq != 2 {
		t.Errorf("Verify(prune declared by an uncovered entry) = %+v, want a failure at seq 2", rep.Failure)
	}
	// A declaration reaching itself or beyond is malformed.
	b := &memLog{t: t}
	b.addN(3)
	b.add(ledger.KindLogPruned, ledger.Pruned{From: 0, To: 4, Cutoff: ledger.FormatTime(memBase), RetentionDays: 30})
	b.sign(k)
	if rep := b.verify(b.recs, k); rep.OK || rep.Failure.Seq != 3 || rep.Failure.Check != ledger.CheckEntry {
		t.Errorf("Verify(prune declaring its own seq) = %+v, want entry failure at seq 3", rep.Failure)
	}
}
