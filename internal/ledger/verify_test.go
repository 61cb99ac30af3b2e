package ledger_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// openCopy opens a fresh, untouched copy of the fixture read-only.
func openCopy(t *testing.T, f *fixture) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warden.db")
	f.copyTo(t, path)
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (f *fixture) root(t *testing.T, size int64) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(size, hashReader(f.stored))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestVerifyStoreClean checks that an untouched log, built by concurrent
// writers with checkpoints signed along the way, verifies with no false
// alarm, whichever genuine checkpoint the verifier trusts.
func TestVerifyStoreClean(t *testing.T) {
	f := logFixture(t, fixtureSize())
	db := openCopy(t, f)
	mid := f.cps[len(f.cps)/2]
	last := f.cps[len(f.cps)-1]
	_, oldKey := mustKeys(t, fixtureOrigin, 77)
	tests := []struct {
		name    string
		trusted *ledger.StoredCheckpoint
		keys    []note.Verifier
	}{
		{name: "no trusted checkpoint", keys: []note.Verifier{f.verifier}},
		{name: "trusting the first checkpoint", trusted: &f.cps[0], keys: []note.Verifier{f.verifier}},
		{name: "trusting a middle checkpoint", trusted: &mid, keys: []note.Verifier{f.verifier}},
		{name: "trusting the latest checkpoint", trusted: &last, keys: []note.Verifier{f.verifier}},
		{name: "key history", trusted: &mid, keys: []note.Verifier{oldKey, f.verifier}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ledger.VerifyOptions{Tenant: fixtureTenant, Origin: fixtureOrigin, Keys: tt.keys}
			var wantTrusted int64
			if tt.trusted != nil {
				opts.Trusted, wantTrusted = tt.trusted.Note, tt.trusted.Size
			}
			var calls int
			var done, total int64
			rep, err := ledger.VerifyStore(context.Background(), db, opts, func(d, n int64) {
				if d < done {
					t.Errorf("progress went from %d back to %d", done, d)
				}
				calls, done, total = calls+1, d, n
			})
			if err != nil {
				t.Fatalf("VerifyStore = %v, want a report", err)
			}
			if !rep.OK || rep.Failure != nil {
				t.Fatalf("VerifyStore(clean log) = failure %v, want OK", rep.Failure)
			}
			want := ledger.Report{Tenant: fixtureTenant, Origin: fixtureOrigin + "/" + fixtureTenant, Entries: f.n,
				Checkpoints: len(f.cps), SignedSize: f.n, Root: ledger.EncodeHash(f.root(t, f.n)), Uncovered: 0,
				Trusted: wantTrusted, OK: true, Took: rep.Took}
			if !reflect.DeepEqual(*rep, want) {
				t.Errorf("VerifyStore = %+v, want %+v", *rep, want)
			}
			if calls == 0 || done != f.n || total != f.n {
				t.Errorf("progress called %d times, last (%d, %d), want it to end at (%d, %d)", calls, done, total, f.n, f.n)
			}
		})
	}
}

// TestVerifierWithoutStoredHashes walks the log through Verifier.Add
// directly, with and without the stored hashes.
func TestVerifierWithoutStoredHashes(t *testing.T) {
	f := logFixture(t, fixtureSize())
	notes := make([][]byte, len(f.cps))
	for i := range f.cps {
		notes[len(notes)-1-i] = f.cps[i].Note // any order will do
	}
	for _, withHashes := range []bool{false, true} {
		v, err := ledger.NewVerifier(f.opts(nil), notes)
		if err != nil {
			t.Fatalf("NewVerifier = %v, want nil", err)
		}
		for _, r := range f.records {
			var claimed []tlog.Hash
			if withHashes {
				claimed = r.Hashes
			}
			if fail := v.Add(r.Data, claimed); fail != nil {
				t.Fatalf("Add(seq %d, hashes %v) = %v, want nil", r.Seq, withHashes, fail)
			}
		}
		if rep := v.Finish(); !rep.OK || rep.Checkpoints != len(f.cps) || rep.Entries != f.n {
			t.Errorf("Finish(hashes %v) = %+v, want OK over %d entries and %d checkpoints", withHashes, rep, f.n, len(f.cps))
		}
	}
}

func TestVerifyOptions(t *testing.T) {
	f := logFixture(t, fixtureSize())
	db := openCopy(t, f)
	forger, otherKey := mustKeys(t, fixtureOrigin, 99)
	forged, err := ledger.SignCheckpoint(forger, fixtureOrigin+"/"+fixtureTenant, f.cps[0].Size, f.root(t, f.cps[0].Size))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     ledger.VerifyOptions
		wantErr  bool            // bad options: no report
		wantFail *ledger.Failure // nil: OK
	}{
		{name: "no key", opts: ledger.VerifyOptions{Tenant: fixtureTenant, Origin: fixtureOrigin}, wantErr: true},
		{name: "trusted checkpoint by another key", opts: f.opts(forged), wantErr: true},
		{name: "trusted checkpoint garbage", opts: f.opts([]byte("not a checkpoint")), wantErr: true},
		{name: "another key only", opts: ledger.VerifyOptions{Tenant: fixtureTenant, Origin: fixtureOrigin,
			Keys: []note.Verifier{otherKey}}, wantFail: &ledger.Failure{Seq: -1, Check: ledger.CheckCheckpoint}},
		{name: "another origin", opts: ledger.VerifyOptions{Tenant: fixtureTenant, Origin: "elsewhere",
			Keys: []note.Verifier{f.verifier}}, wantFail: &ledger.Failure{Seq: -1, Check: ledger.CheckCheckpoint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := ledger.VerifyStore(context.Background(), db, tt.opts, nil)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("VerifyStore(%s) = %+v, want an error", tt.name, rep)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerifyStore(%s) = %v, want a report", tt.name, err)
			}
			if rep.OK || rep.Failure == nil || rep.Failure.Seq != tt.wantFail.Seq || rep.Failure.Check != tt.wantFail.Check {
				t.Errorf("VerifyStore(%s) = failure %v, want seq %d check %s", tt.name, rep.Failure, tt.wantFail.Seq, tt.wantFail.Check)
			}
		})
	}
}

// TestProofs checks inclusion and consistency proofs served from the real
// store against the fixture's signed roots, with sumdb/tlog alone.
func TestProofs(t *testing.T) {
	f := logFixture(t, fixtureSize())
	db := openCopy(t, f)
	ctx := context.Background()
	roots := map[int64]tlog.Hash{}
	for _, cp := range f.cps {
		c, err := ledger.OpenCheckpoint(cp.Note, fixtureOrigin+"/"+fixtureTenant, f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		roots[cp.Size] = c.Root
	}
	for i, cp := range f.cps {
		for _, seq := range []int64{0, cp.Size / 3, cp.Size - 1} {
			p, err := ledger.InclusionProof(ctx, db, fixtureTenant, seq, cp.Size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d) = %v, want nil", seq, cp.Size, err)
			}
			if err := tlog.CheckRecord(p, cp.Size, roots[cp.Size], seq, ledger.LeafHash(f.records[seq].Data)); err != nil {
				t.Errorf("tlog.CheckRecord(InclusionProof(%d, %d)) = %v, want nil", seq, cp.Size, err)
			}
		}
		for _, from := range f.cps[:i+1] {
			p, err := ledger.ConsistencyProof(ctx, db, fixtureTenant, from.Size, cp.Size)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d) = %v, want nil", from.Size, cp.Size, err)
			}
			if err := tlog.CheckTree(p, cp.Size, roots[cp.Size], from.Size, roots[from.Size]); err != nil {
				t.Errorf("tlog.CheckTree(ConsistencyProof(%d, %d)) = %v, want nil", from.Size, cp.Size, err)
			}
		}
		if root, err := ledger.TreeHash(ctx, db, fixtureTenant, cp.Size); err != nil || root != roots[cp.Size] {
			t.Errorf("TreeHash(%d) = %x, %v; want the signed root %x", cp.Size, root, err, roots[cp.Size])
		}
	}
	bad := []struct {
		name string
		err  func() error
	}{
		{"inclusion of seq = size", func() error { _, err := ledger.InclusionProof(ctx, db, fixtureTenant, 5, 5); return err }},
		{"inclusion of negative seq", func() error { _, err := ledger.InclusionProof(ctx, db, fixtureTenant, -1, 5); return err }},
		{"inclusion beyond the log", func() error { _, err := ledger.InclusionProof(ctx, db, fixtureTenant, 0, f.n+1); return err }},
		{"consistency from 0", func() error { _, err := ledger.ConsistencyProof(ctx, db, fixtureTenant, 0, 5); return err }},
		{"consistency backwards", func() error { _, err := ledger.ConsistencyProof(ctx, db, fixtureTenant, 6, 5); return err }},
		{"consistency beyond the log", func() error { _, err := ledger.ConsistencyProof(ctx, db, fixtureTenant, 1, f.n+1); return err }},
		{"tree hash of size 0", func() error { _, err := ledger.TreeHash(ctx, db, fixtureTenant, 0); return err }},
	}
	for _, tt := range bad {
		if err := tt.err(); !errors.Is(err, ledger.ErrRange) {
			t.Errorf("%s = %v, want ErrRange", tt.name, err)
		}
	}
}

// TestVerifierChecks feeds Verifier.Add entries without stored hashes,
// one of them re-encoded with a change, and checks which check fires where.
func TestVerifierChecks(t *testing.T) {
	f := logFixture(t, fixtureSize())
	k := f.cps[0].Size + 1
	for f.hasCheckpoint(k+1) || f.hasCheckpoint(k) {
		k++
	}
	notes := make([][]byte, len(f.cps))
	for i := range f.cps {
		notes[i] = f.cps[i].Note
	}
	prevEntry, err := ledger.Parse(f.records[k-1].Data)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(e *ledger.Entry)
		want   ledger.Failure
	}{
		{name: "body", change: func(e *ledger.Entry) { e.Body = []byte(`{"changed":true}`) },
			want: ledger.Failure{Seq: k + 1, Check: ledger.CheckChain}},
		{name: "prev", change: func(e *ledger.Entry) { e.Prev = ledger.EncodeHash(testRoot("elsewhere")) },
			want: ledger.Failure{Seq: k, Check: ledger.CheckChain}},
		{name: "time before the previous entry", change: func(e *ledger.Entry) {
			tm, _ := ledger.ParseTime(prevEntry.Time)
			e.Time = ledger.FormatTime(tm.Add(-time.Microsecond))
		}, want: ledger.Failure{Seq: k, Check: ledger.CheckTime}},
		{name: "tenant", change: func(e *ledger.Entry) { e.Tenant = "other" },
			want: ledger.Failure{Seq: k, Check: ledger.CheckEntry}},
		{name: "seq", change: func(e *ledger.Entry) { e.Seq = k + 1 },
			want: ledger.Failure{Seq: k, Check: ledger.CheckSequence}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ledger.NewVerifier(f.opts(nil), notes)
			if err != nil {
				t.Fatal(err)
			}
			var fail *ledger.Failure
			for _, r := range f.records {
				data := r.Data
				if r.Seq == k {
					e, err := ledger.Parse(data)
					if err != nil {
						t.Fatal(err)
					}
					tt.change(e)
					if data, err = ledger.Encode(e); err != nil {
						t.Fatal(err)
					}
				}
				if fail = v.Add(data, nil); fail != nil {
					break
				}
			}
			if fail == nil || fail.Seq != tt.want.Seq || fail.Check != tt.want.Check {
				t.Errorf("Add(entry %d with another %s) = %v, want seq %d check %s", k, tt.name, fail, tt.want.Seq, tt.want.Check)
			}
			if rep := v.Finish(); rep.OK || rep.Failure != fail {
				t.Errorf("Finish() = %+v, want the failure from Add", rep)
			}
		})
	}
}
