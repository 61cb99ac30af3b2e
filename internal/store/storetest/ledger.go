package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
)

func testTenantIsolation(t *testing.T, h *harness) {
	ctx := context.Background()
	l := h.Ledger(t, ledger.Config{})
	sizes := map[string]int{TenantA: 7, TenantB: 3, ledger.SystemTenant: 2}
	acks := map[string][]*ledger.Appended{}
	for i := range 7 { // interleaved, so that each log's seq counts alone
		for tenant, n := range sizes {
			if i < n {
				acks[tenant] = append(acks[tenant], AppendN(t, l, tenant, 1)[0])
			}
		}
	}
	for tenant, n := range sizes {
		head, err := h.Store.Head(ctx, tenant)
		if err != nil || head.Size != int64(n) || head.LastHash != acks[tenant][n-1].LeafHash {
			t.Errorf("Head(%s) = size %d, %v; want %d with its own last leaf", tenant, head.Size, err, n)
		}
		for i, r := range AllRecords(t, h.Store, tenant) {
			e, err := ledger.Parse(r.Data)
			if err != nil || e.Tenant != tenant || r.Seq != int64(i) || r.ID != acks[tenant][i].ID {
				t.Errorf("Records(%s)[%d] = {seq %d id %s}, %v; want {seq %d id %s} of %s",
					tenant, i, r.Seq, r.ID, err, i, acks[tenant][i].ID, tenant)
			}
		}
	}
	if _, err := h.Store.RecordByID(ctx, TenantB, acks[TenantA][5].ID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("RecordByID(%s, id of %s) = %v, want ErrNotFound", TenantB, TenantA, err)
	}
	if _, err := ledger.InclusionProof(ctx, h.Store, TenantB, 5, 7); !errors.Is(err, ledger.ErrRange) {
		t.Errorf("InclusionProof(%s, seq=5, size=7) = %v, want ErrRange (its log has 3)", TenantB, err)
	}
	// Checkpoint sizes grow per tenant: B's 3 is stored after A's 7.
	for _, tenant := range []string{TenantA, TenantB} {
		cp, err := l.Checkpointer().Sign(ctx, tenant)
		if err != nil || cp.Size != int64(sizes[tenant]) {
			t.Fatalf("Sign(%s) = %v, %v; want size %d", tenant, cp, err, sizes[tenant])
		}
	}
	if _, err := h.Store.LatestCheckpoint(ctx, ledger.SystemTenant); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("LatestCheckpoint(%s) = %v, want ErrNotFound (only the others were signed)", ledger.SystemTenant, err)
	}
	for _, tenant := range []string{TenantA, TenantB} {
		cps, err := h.Store.Checkpoints(ctx, tenant, 0, math.MaxInt64)
		if err != nil || len(cps) != 1 || cps[0].Size != int64(sizes[tenant]) {
			t.Errorf("Checkpoints(%s) = %d, %v; want its one checkpoint of size %d", tenant, len(cps), err, sizes[tenant])
		}
	}
	tenants, err := h.Store.Tenants(ctx)
	slices.Sort(tenants)
	if want := []string{ledger.SystemTenant, TenantA, TenantB}; err != nil || !slices.Equal(tenants, want) {
		t.Errorf("Tenants() = %v, %v; want %v", tenants, err, want)
	}
	for tenant := range sizes {
		h.Verify(t, tenant)
	}
}

func testWorkRejectedAlone(t *testing.T, h *harness) {
	ctx := context.Background()
	const n = 24
	var mu sync.Mutex
	maxBatch := 0
	l := h.Ledger(t, ledger.Config{Observe: func(_ string, entries int, _ time.Duration, _ error) {
		mu.Lock()
		maxBatch = max(maxBatch, entries)
		mu.Unlock()
	}})
	keys := newKeys(t, TenantA, n)
	// The first entry holds the append transaction until every other
	// writer is on its way, so that most of them share the next batch.
	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, TenantA, ledger.Request{Kind: "test.entry", Actor: "system",
			Work: func(context.Context, ledger.Tx) error { close(entered); <-release; return nil }})
		first <- err
	}()
	<-entered
	type outcome struct {
		ack *ledger.Appended
		err error
	}
	out := make([]outcome, n)
	var started, done sync.WaitGroup
	for i := range n {
		started.Add(1)
		done.Go(func() {
			req := Req(i)
			switch i % 3 {
			case 0: // writes a key, then fails: the key must go with it
				req.Work = func(_ context.Context, tx ledger.Tx) error {
					if err := insertKey(tx, keys[i]); err != nil {
						return err
					}
					return fmt.Errorf("work %d: %w", i, errBoom)
				}
			case 1: // writes a key and succeeds
				req.Work = func(_ context.Context, tx ledger.Tx) error { return insertKey(tx, keys[i]) }
			}
			started.Done()
			out[i].ack, out[i].err = l.Append(ctx, TenantA, req)
		})
	}
	started.Wait()
	close(release)
	done.Wait()
	if err := <-first; err != nil {
		t.Fatalf("Append(first) = %v, want nil", err)
	}
	seqs := []int64{0}
	for i, o := range out {
		if i%3 == 0 {
			if !errors.Is(o.err, ledger.ErrRejected) || !errors.Is(o.err, errBoom) || o.ack != nil {
				t.Errorf("Append(failing work %d) = %v, %v; want ErrRejected wrapping %v", i, o.ack, o.err, errBoom)
			}
			wantKey(t, h.Store, keys[i], false)
			continue
		}
		if o.err != nil {
			t.Fatalf("Append(%d) = %v, want nil", i, o.err)
		}
		seqs = append(seqs, o.ack.Seq)
		if i%3 == 1 {
			wantKey(t, h.Store, keys[i], true)
		}
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i) {
			t.Fatalf("acknowledged seqs = %v, want 0..%d", seqs, len(seqs)-1)
		}
	}
	if rep := h.Verify(t, TenantA); rep.Entries != int64(len(seqs)) {
		t.Errorf("VerifyStore entries = %d, want %d", rep.Entries, len(seqs))
	}
	if err := l.Healthy(); err != nil {
		t.Errorf("Healthy() after rejections = %v, want nil", err)
	}
	mu.Lock()
	t.Logf("largest batch: %d entries", maxBatch)
	mu.Unlock()
}

// snapshot is what a reopened store must give back unchanged.
type snapshot struct {
	head ledger.Head
	recs []ledger.Record
	cps  []ledger.StoredCheckpoint
}

func takeSnapshot(t *testing.T, s Store, tenant string) snapshot {
	t.Helper()
	ctx := context.Background()
	head, err := s.Head(ctx, tenant)
	if err != nil {
		t.Fatalf("Head(%s) = %v, want nil", tenant, err)
	}
	cps, err := s.Checkpoints(ctx, tenant, 0, math.MaxInt64)
	if err != nil {
		t.Fatalf("Checkpoints(%s) = %v, want nil", tenant, err)
	}
	return snapshot{head: head, recs: AllRecords(t, s, tenant), cps: cps}
}

func (a snapshot) diff(b snapshot) string {
	if a.head.Size != b.head.Size || a.head.LastHash != b.head.LastHash || !a.head.LastTime.Equal(b.head.LastTime) {
		return fmt.Sprintf("head %+v, was %+v", b.head, a.head)
	}
	if len(a.recs) != len(b.recs) || len(a.cps) != len(b.cps) {
		return fmt.Sprintf("%d records and %d checkpoints, was %d and %d", len(b.recs), len(b.cps), len(a.recs), len(a.cps))
	}
	for i, r := range a.recs {
		o := b.recs[i]
		if r.Seq != o.Seq || r.ID != o.ID || r.Kind != o.Kind || !r.Time.Equal(o.Time) ||
			!bytes.Equal(r.Data, o.Data) || !slices.Equal(r.Hashes, o.Hashes) {
			return fmt.Sprintf("record %d changed", i)
		}
	}
	for i := range a.cps {
		if !sameCheckpoint(a.cps[i], b.cps[i]) {
			return fmt.Sprintf("checkpoint %d changed", i)
		}
	}
	return ""
}

func testReopen(t *testing.T, h *harness) {
	ctx := context.Background()
	l := h.Ledger(t, ledger.Config{})
	key := newKeys(t, TenantA, 1)[0]
	AppendN(t, l, TenantA, 10)
	AppendN(t, l, TenantB, 4)
	if _, err := l.Append(ctx, TenantA, ledger.Request{Kind: "key.created", Actor: "system",
		Work: func(_ context.Context, tx ledger.Tx) error { return insertKey(tx, key) }}); err != nil {
		t.Fatalf("Append(key.created) = %v, want nil", err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatalf("Ledger.Close() = %v, want nil", err)
	}
	before := map[string]snapshot{TenantA: takeSnapshot(t, h.Store, TenantA), TenantB: takeSnapshot(t, h.Store, TenantB)}
	if n := len(before[TenantA].cps); n == 0 || before[TenantA].cps[n-1].Size != 11 {
		t.Fatalf("after Ledger.Close, %s has checkpoints %v, want the last of size 11", TenantA, before[TenantA].cps)
	}
	for range 2 { // reopening twice changes nothing either
		h.Reopen(t)
		for tenant, snap := range before {
			if d := snap.diff(takeSnapshot(t, h.Store, tenant)); d != "" {
				t.Fatalf("after reopening, %s has %s", tenant, d)
			}
		}
		wantKey(t, h.Store, key, true)
	}
	tenants, err := h.Store.Tenants(ctx)
	slices.Sort(tenants)
	if err != nil || !slices.Equal(tenants, []string{TenantA, TenantB}) {
		t.Errorf("Tenants() after reopening = %v, %v; want [%s %s]", tenants, err, TenantA, TenantB)
	}
	acks := AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, 5)
	last := before[TenantA].head
	for i, a := range acks {
		if a.Seq != last.Size+int64(i) {
			t.Fatalf("Append(%d) after reopening = seq %d, want %d", i, a.Seq, last.Size+int64(i))
		}
	}
	e, err := ledger.Parse(acks[0].Data)
	if err != nil || e.Prev != ledger.EncodeHash(last.LastHash) {
		t.Fatalf("first entry after reopening: prev %q, %v; want the leaf hash of seq %d", e.Prev, err, last.Size-1)
	}
	h.Verify(t, TenantA)
	h.Verify(t, TenantB)
}
