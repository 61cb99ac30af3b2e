package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
)

var txBase = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// insertNext builds the next entry of tenant's log and inserts it.
func insertNext(tx ledger.Tx, tenant, id string) (*ledger.Record, error) {
	r, err := nextRecord(tx, tenant, id)
	if err != nil {
		return nil, err
	}
	return r, tx.Insert(r)
}

// nextRecord builds the next entry of tenant's log the way the appender
// does, from the Tx's own head and hashes.
func nextRecord(tx ledger.Tx, tenant, id string) (*ledger.Record, error) {
	head := tx.Head()
	at := txBase.Add(time.Duration(head.Size) * time.Millisecond)
	e := &ledger.Entry{V: ledger.FormatVersion, Tenant: tenant, Seq: head.Size, ID: id,
		Time: ledger.FormatTime(at), Kind: "test.entry", Actor: "system", Body: json.RawMessage(`{}`)}
	if head.Size > 0 {
		e.Prev = ledger.EncodeHash(head.LastHash)
	}
	data, err := ledger.Encode(e)
	if err != nil {
		return nil, err
	}
	hashes, err := tlog.StoredHashes(head.Size, data, tlog.HashReaderFunc(tx.ReadHashes))
	if err != nil {
		return nil, fmt.Errorf("stored hashes of seq %d: %w", head.Size, err)
	}
	return &ledger.Record{Seq: head.Size, ID: id, Kind: e.Kind, Time: at, Data: data, Hashes: hashes}, nil
}

// insertKey writes k through the Tx's access.KeyWriter. Work may run on
// the appender's goroutine, so failures are returned, not fatal.
func insertKey(tx ledger.Tx, k *access.Key) error {
	kw, ok := tx.(access.KeyWriter)
	if !ok {
		return fmt.Errorf("append Tx %T does not implement access.KeyWriter", tx)
	}
	return kw.InsertKey(k)
}

func newKeys(t *testing.T, tenant string, n int) []*access.Key {
	t.Helper()
	r := rand.NewChaCha8([32]byte{7})
	keys := make([]*access.Key, n)
	for i := range keys {
		k, _, err := access.NewKey(r, tenant, access.RoleAgent, fmt.Sprintf("key %d", i), txBase)
		if err != nil {
			t.Fatalf("NewKey(%d) = %v, want nil", i, err)
		}
		keys[i] = k
	}
	return keys
}

// wantKey checks that a key exists (or not) after the transactions ran.
func wantKey(t *testing.T, s Store, k *access.Key, exists bool) {
	t.Helper()
	got, err := s.KeyByID(context.Background(), k.ID)
	switch {
	case exists && (err != nil || got.Tenant != k.Tenant || got.Hash != k.Hash):
		t.Errorf("KeyByID(%s) = %v, %v; want the inserted key", k.ID, got, err)
	case !exists && !errors.Is(err, access.ErrNotFound):
		t.Errorf("KeyByID(%s) = %v, %v; want access.ErrNotFound (its write was undone)", k.ID, got, err)
	}
}

func testTxReadsOwnInserts(t *testing.T, h *harness) {
	ctx := context.Background()
	for round, n := range []int{6, 5} { // the second round reads committed and new hashes
		err := h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
			start := tx.Head().Size
			for i := range n {
				r, err := insertNext(tx, TenantA, fmt.Sprintf("evt_%d_%d", round, i))
				if err != nil {
					return fmt.Errorf("insert seq %d: %w", start+int64(i), err)
				}
				if hd := tx.Head(); hd.Size != r.Seq+1 || hd.LastHash != r.Hashes[0] || !hd.LastTime.Equal(r.Time) {
					return fmt.Errorf("Tx.Head() after seq %d = %+v, want the inserted record", r.Seq, hd)
				}
			}
			if hd, err := h.Store.Head(ctx, TenantA); err != nil || hd.Size != start {
				return fmt.Errorf("Store.Head() inside the tx = %d, %v; want %d (uncommitted rows are invisible)", hd.Size, err, start)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Append(round %d) = %v, want nil", round, err)
		}
	}
	// The hashes the Tx handed to tlog were those tlog would compute: the
	// log verifies, and a Tx reads them all, old and new alike.
	h.Verify(t, TenantA)
	want := expectHashes(t, AllRecords(t, h.Store, TenantA))
	err := h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
		if _, err := insertNext(tx, TenantA, "evt_last"); err != nil {
			return err
		}
		idx := make([]int64, tlog.StoredHashCount(tx.Head().Size))
		for i := range idx {
			idx[i] = int64(i)
		}
		got, err := tx.ReadHashes(idx)
		if err != nil {
			return fmt.Errorf("Tx.ReadHashes(0..%d) = %w", len(idx)-1, err)
		}
		for i := range want {
			if got[i] != want[i] {
				return fmt.Errorf("Tx.ReadHashes()[%d] = %x, want %x", i, got[i], want[i])
			}
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Append(read all hashes) = %v, want %v", err, errBoom)
	}
	// Inserting out of turn is refused, so seq stays contiguous.
	for _, seq := range []int64{0, 10, 12, 20} {
		err := h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
			r, err := nextRecord(tx, TenantA, "evt_bad")
			if err != nil {
				return err
			}
			r.Seq = seq
			if err := tx.Insert(r); err == nil {
				return fmt.Errorf("Tx.Insert(seq=%d) at size %d = nil, want an error", seq, tx.Head().Size)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Append(insert seq %d) = %v, want %v", seq, err, errBoom)
		}
	}
	if rep := h.Verify(t, TenantA); rep.Entries != 11 {
		t.Errorf("VerifyStore entries = %d, want 11", rep.Entries)
	}
}

func testTxIsolate(t *testing.T, h *harness) {
	ctx := context.Background()
	keys := newKeys(t, TenantA, 4)
	err := h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
		if err := insertKey(tx, keys[0]); err != nil {
			return fmt.Errorf("InsertKey(0) = %w", err)
		}
		if _, err := insertNext(tx, TenantA, "evt_0"); err != nil {
			return err
		}
		// A failing Isolate undoes its key and its entries.
		err := tx.Isolate(func() error {
			if err := insertKey(tx, keys[1]); err != nil {
				return fmt.Errorf("InsertKey(1) = %w", err)
			}
			for i := range 3 {
				if _, err := insertNext(tx, TenantA, fmt.Sprintf("evt_undone_%d", i)); err != nil {
					return err
				}
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			return fmt.Errorf("Isolate(failing) = %v, want %v", err, errBoom)
		}
		if hd := tx.Head(); hd.Size != 1 {
			return fmt.Errorf("Tx.Head() after a failed Isolate = size %d, want 1", hd.Size)
		}
		// A succeeding Isolate keeps its writes, and the ids the failed one
		// used are free again.
		err = tx.Isolate(func() error {
			if err := insertKey(tx, keys[2]); err != nil {
				return fmt.Errorf("InsertKey(2) = %w", err)
			}
			for i := range 3 {
				if _, err := insertNext(tx, TenantA, fmt.Sprintf("evt_undone_%d", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("Isolate(succeeding) = %v, want nil", err)
		}
		// A key whose Isolate fails before anything else was written.
		if err := tx.Isolate(func() error { insertKey(tx, keys[3]); return errBoom }); !errors.Is(err, errBoom) {
			return fmt.Errorf("Isolate(key only) = %v, want %v", err, errBoom)
		}
		_, err = insertNext(tx, TenantA, "evt_4")
		return err
	})
	if err != nil {
		t.Fatalf("Append() = %v, want nil", err)
	}
	for i, exists := range []bool{true, false, true, false} {
		wantKey(t, h.Store, keys[i], exists)
	}
	recs := AllRecords(t, h.Store, TenantA)
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if want := []string{"evt_0", "evt_undone_0", "evt_undone_1", "evt_undone_2", "evt_4"}; !slices.Equal(ids, want) {
		t.Fatalf("Records() ids = %v, want %v", ids, want)
	}
	h.Verify(t, TenantA)
}

func testTxFnError(t *testing.T, h *harness) {
	ctx := context.Background()
	keys := newKeys(t, TenantA, 2)
	AppendN(t, h.Ledger(t, ledger.Config{}), TenantB, 1) // another tenant's log is untouched
	err := h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
		if err := insertKey(tx, keys[0]); err != nil {
			return err
		}
		for i := range 4 {
			if _, err := insertNext(tx, TenantA, fmt.Sprintf("evt_%d", i)); err != nil {
				return err
			}
		}
		if err := tx.Isolate(func() error { return insertKey(tx, keys[1]) }); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Append(fn fails) = %v, want %v", err, errBoom)
	}
	if hd, err := h.Store.Head(ctx, TenantA); err != nil || hd.Size != 0 {
		t.Errorf("Head() = size %d, %v; want 0, nil", hd.Size, err)
	}
	if recs := AllRecords(t, h.Store, TenantA); len(recs) != 0 {
		t.Errorf("Records() = %d records, want 0", len(recs))
	}
	if _, err := h.Store.RecordByID(ctx, TenantA, "evt_0"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("RecordByID(evt_0) = %v, want ErrNotFound", err)
	}
	wantKey(t, h.Store, keys[0], false)
	wantKey(t, h.Store, keys[1], false)
	tenants, err := h.Store.Tenants(ctx)
	if err != nil || !slices.Equal(tenants, []string{TenantB}) {
		t.Errorf("Tenants() = %v, %v; want [%s]", tenants, err, TenantB)
	}
	// The failed transaction left nothing behind that blocks the next one.
	AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, 3)
	h.Verify(t, TenantA)
	h.Verify(t, TenantB)
}
