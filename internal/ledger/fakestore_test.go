package ledger_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

var _ ledger.Store = (*fakeStore)(nil)

// fakeStore is an in-memory ledger.Store whose hooks inject failures and
// stalls into the append path, for the appender tests. Tests that need a
// real database use internal/store/sqlite instead.
type fakeStore struct {
	// BeforeAppend, if set, runs at the start of every Append, outside
	// the store's lock; an error fails the Append before fn runs.
	BeforeAppend func(tenant string) error
	// BeforeCommit, if set, runs after fn succeeded; an error aborts the
	// transaction as a failed commit would.
	BeforeCommit func(tenant string, inserted int) error
	// OnInsert, if set, runs for every Tx.Insert; an error fails it.
	OnInsert func(r *ledger.Record) error

	mu    sync.Mutex // held for the whole of an append transaction
	logs  map[string][]ledger.Record
	cps   map[string][]ledger.StoredCheckpoint
	notes map[string][]string // per-entry work writes (see fakeTx.Note)
}

func newFakeStore() *fakeStore {
	return &fakeStore{logs: map[string][]ledger.Record{}, cps: map[string][]ledger.StoredCheckpoint{},
		notes: map[string][]string{}}
}

// fakeTx buffers one transaction's writes; Isolate keeps savepoints.
type fakeTx struct {
	s       *fakeStore
	tenant  string
	base    []ledger.Record
	pending []ledger.Record
	notes   []string
}

// Note is the per-entry work's write: it records s in the transaction, so
// tests can see which work survived a rollback.
func (t *fakeTx) Note(s string) { t.notes = append(t.notes, s) }

func (t *fakeTx) Head() ledger.Head {
	return headOf(append(t.base[:len(t.base):len(t.base)], t.pending...))
}

func headOf(recs []ledger.Record) ledger.Head {
	if len(recs) == 0 {
		return ledger.Head{}
	}
	last := recs[len(recs)-1]
	return ledger.Head{Size: last.Seq + 1, LastHash: last.Hashes[0], LastTime: last.Time}
}

func (t *fakeTx) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return readHashes(append(t.base[:len(t.base):len(t.base)], t.pending...), indexes)
}

func readHashes(recs []ledger.Record, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		level, k := tlog.SplitStoredHashIndex(idx)
		seq := (k+1)<<level - 1
		if seq >= int64(len(recs)) || level >= len(recs[seq].Hashes) {
			return nil, fmt.Errorf("stored hash %d: %w", idx, ledger.ErrNotFound)
		}
		out[i] = recs[seq].Hashes[level]
	}
	return out, nil
}

func (t *fakeTx) Insert(r *ledger.Record) error {
	if want := t.Head().Size; r.Seq != want {
		return fmt.Errorf("insert seq %d at size %d", r.Seq, want)
	}
	if t.s.OnInsert != nil {
		if err := t.s.OnInsert(r); err != nil {
			return err
		}
	}
	t.pending = append(t.pending, *r)
	return nil
}

func (t *fakeTx) Isolate(fn func() error) error {
	n, notes := len(t.pending), len(t.notes)
	if err := fn(); err != nil {
		t.pending, t.notes = t.pending[:n], t.notes[:notes]
		return err
	}
	return nil
}

func (s *fakeStore) Append(ctx context.Context, tenant string, fn func(ledger.Tx) error) error {
	if s.BeforeAppend != nil {
		if err := s.BeforeAppend(tenant); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &fakeTx{s: s, tenant: tenant, base: s.logs[tenant]}
	if err := fn(tx); err != nil {
		return err
	}
	if s.BeforeCommit != nil {
		if err := s.BeforeCommit(tenant, len(tx.pending)); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	s.logs[tenant] = append(s.logs[tenant], tx.pending...)
	s.notes[tenant] = append(s.notes[tenant], tx.notes...)
	return nil
}

func (s *fakeStore) records(tenant string) []ledger.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ledger.Record(nil), s.logs[tenant]...)
}

func (s *fakeStore) workNotes(tenant string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.notes[tenant]...)
}

func (s *fakeStore) Head(ctx context.Context, tenant string) (ledger.Head, error) {
	return headOf(s.records(tenant)), nil
}

func (s *fakeStore) Records(ctx context.Context, tenant string, from, to int64, limit int) ([]ledger.Record, error) {
	var out []ledger.Record
	for _, r := range s.records(tenant) {
		if r.Seq >= from && r.Seq < to && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *fakeStore) RecordByID(ctx context.Context, tenant, id string) (*ledger.Record, error) {
	for _, r := range s.records(tenant) {
		if r.ID == id {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("entry %q: %w", id, ledger.ErrNotFound)
}

func (s *fakeStore) SeqAtTime(ctx context.Context, tenant string, t time.Time) (int64, error) {
	recs := s.records(tenant)
	return int64(sort.Search(len(recs), func(i int) bool { return !recs[i].Time.Before(t) })), nil
}

func (s *fakeStore) ReadHashes(ctx context.Context, tenant string, indexes []int64) ([]tlog.Hash, error) {
	return readHashes(s.records(tenant), indexes)
}

func (s *fakeStore) PutCheckpoint(ctx context.Context, tenant string, cp ledger.StoredCheckpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cps := s.cps[tenant]
	if len(cps) > 0 && cps[len(cps)-1].Size >= cp.Size {
		return fmt.Errorf("checkpoint %d of %q: not larger than the latest", cp.Size, tenant)
	}
	s.cps[tenant] = append(cps, cp)
	return nil
}

func (s *fakeStore) LatestCheckpoint(ctx context.Context, tenant string) (*ledger.StoredCheckpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cps := s.cps[tenant]
	if len(cps) == 0 {
		return nil, fmt.Errorf("checkpoint of %q: %w", tenant, ledger.ErrNotFound)
	}
	cp := cps[len(cps)-1]
	return &cp, nil
}

func (s *fakeStore) Checkpoints(ctx context.Context, tenant string, from, to int64) ([]ledger.StoredCheckpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ledger.StoredCheckpoint
	for _, cp := range s.cps[tenant] {
		if cp.Size >= from && cp.Size <= to {
			out = append(out, cp)
		}
	}
	return out, nil
}

func (s *fakeStore) Tenants(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t, recs := range s.logs {
		if len(recs) > 0 {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}
