package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

func testAppendOrderAndChain(t *testing.T, h *harness) {
	l := h.Ledger(t, ledger.Config{})
	acks := AppendN(t, l, TenantA, 20)
	recs := AllRecords(t, h.Store, TenantA)
	if len(recs) != len(acks) {
		t.Fatalf("Records(from=0) returned %d records, want %d", len(recs), len(acks))
	}
	var prev tlog.Hash
	for i, r := range recs {
		ack := acks[i]
		if r.Seq != int64(i) || ack.Seq != int64(i) {
			t.Fatalf("record %d: seq %d, ack seq %d, want %d", i, r.Seq, ack.Seq, i)
		}
		if r.ID != ack.ID || r.Kind != "test.entry" || !bytes.Equal(r.Data, ack.Data) || !r.Time.Equal(ack.Time) {
			t.Errorf("record %d = {id %s kind %s time %v}, want the acknowledged {id %s kind test.entry time %v} with the same bytes",
				i, r.ID, r.Kind, r.Time, ack.ID, ack.Time)
		}
		if r.LeafHash() != ledger.LeafHash(r.Data) || r.LeafHash() != ack.LeafHash {
			t.Errorf("record %d: leaf hash %x, want %x", i, r.LeafHash(), ledger.LeafHash(r.Data))
		}
		e, err := ledger.Parse(r.Data)
		if err != nil {
			t.Fatalf("Parse(record %d) = %v, want nil", i, err)
		}
		want := ""
		if i > 0 {
			want = ledger.EncodeHash(prev)
		}
		if e.Seq != int64(i) || e.Tenant != TenantA || e.Prev != want {
			t.Errorf("entry %d = {seq %d tenant %s prev %q}, want {seq %d tenant %s prev %q}",
				i, e.Seq, e.Tenant, e.Prev, i, TenantA, want)
		}
		prev = r.LeafHash()
	}
	h.Verify(t, TenantA)
}

func testConcurrentAppends(t *testing.T, h *harness) {
	const writers, each = 32, 50
	l := h.Ledger(t, ledger.Config{})
	ctx := context.Background()
	acks := make([][]*ledger.Appended, writers)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ack, err := l.Append(ctx, TenantA, Req(w*each+i))
				if err != nil {
					errs <- err
					return
				}
				acks[w] = append(acks[w], ack)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append = %v, want nil", err)
	}
	const n = writers * each
	bySeq := make(map[int64]*ledger.Appended, n)
	ids := make(map[string]bool, n)
	for _, as := range acks {
		for _, a := range as {
			if bySeq[a.Seq] != nil || ids[a.ID] {
				t.Fatalf("ack {seq %d id %s} repeats an earlier ack", a.Seq, a.ID)
			}
			bySeq[a.Seq], ids[a.ID] = a, true
		}
	}
	for seq := range int64(n) {
		if bySeq[seq] == nil {
			t.Fatalf("no ack for seq %d of %d", seq, n)
		}
	}
	recs := AllRecords(t, h.Store, TenantA)
	if len(recs) != n {
		t.Fatalf("Records(from=0) returned %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		a := bySeq[int64(i)]
		if r.Seq != int64(i) || r.ID != a.ID || !bytes.Equal(r.Data, a.Data) {
			t.Fatalf("record %d = {seq %d id %s}, want the ack {seq %d id %s}", i, r.Seq, r.ID, a.Seq, a.ID)
		}
	}
	if rep := h.Verify(t, TenantA); rep.Entries != n {
		t.Errorf("VerifyStore entries = %d, want %d", rep.Entries, n)
	}
	if err := l.Healthy(); err != nil {
		t.Errorf("Healthy() = %v, want nil", err)
	}
}

func testRecords(t *testing.T, h *harness) {
	const n = 10
	acks := AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, n)
	tests := []struct {
		name           string
		from, to       int64
		limit          int
		wantFirst, num int64
	}{
		{"all", 0, n, 100, 0, n},
		{"beyond end", 0, 1 << 40, 100, 0, n},
		{"middle", 3, 7, 100, 3, 4},
		{"limit", 2, n, 3, 2, 3},
		{"limit one", 9, n, 1, 9, 1},
		{"negative from", -5, 2, 100, 0, 2},
		{"empty range", 4, 4, 100, 0, 0},
		{"reversed range", 7, 3, 100, 0, 0},
		{"from at size", n, n + 5, 100, 0, 0},
		{"from past size", n + 3, n + 5, 100, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := h.Store.Records(context.Background(), TenantA, tc.from, tc.to, tc.limit)
			if err != nil {
				t.Fatalf("Records(from=%d, to=%d, limit=%d) = %v, want nil", tc.from, tc.to, tc.limit, err)
			}
			if int64(len(recs)) != tc.num {
				t.Fatalf("Records(from=%d, to=%d, limit=%d) returned %d records, want %d",
					tc.from, tc.to, tc.limit, len(recs), tc.num)
			}
			for i, r := range recs {
				seq := tc.wantFirst + int64(i)
				if r.Seq != seq || r.ID != acks[seq].ID {
					t.Errorf("Records(from=%d, to=%d)[%d] = {seq %d id %s}, want {seq %d id %s}",
						tc.from, tc.to, i, r.Seq, r.ID, seq, acks[seq].ID)
				}
			}
		})
	}
	recs, err := h.Store.Records(context.Background(), TenantB, 0, n, 100)
	if err != nil || len(recs) != 0 {
		t.Errorf("Records(%s, from=0) = %d records, %v; want 0, nil", TenantB, len(recs), err)
	}
}

func testRecordByID(t *testing.T, h *harness) {
	acks := AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, 5)
	ctx := context.Background()
	for _, a := range acks {
		r, err := h.Store.RecordByID(ctx, TenantA, a.ID)
		if err != nil {
			t.Fatalf("RecordByID(%s) = %v, want nil", a.ID, err)
		}
		if r.Seq != a.Seq || r.ID != a.ID || !bytes.Equal(r.Data, a.Data) || r.LeafHash() != a.LeafHash {
			t.Errorf("RecordByID(%s) = {seq %d id %s}, want {seq %d id %s} with the acknowledged bytes",
				a.ID, r.Seq, r.ID, a.Seq, a.ID)
		}
	}
	tests := []struct{ name, tenant, id string }{
		{"unknown id", TenantA, "evt_unknown"},
		{"empty id", TenantA, ""},
		{"other tenant", TenantB, acks[0].ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := h.Store.RecordByID(ctx, tc.tenant, tc.id)
			if !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("RecordByID(%s, %q) = %v, %v; want ErrNotFound", tc.tenant, tc.id, r, err)
			}
		})
	}
}

func testSeqAtTime(t *testing.T, h *harness) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := NewClock(t0)
	l := h.Ledger(t, ledger.Config{Clock: clock.Now})
	// Entries at t0, t0+1s, t0+2s, t0+2s, t0+4s, so that equal times and
	// gaps are both covered.
	offsets := []time.Duration{0, time.Second, 2 * time.Second, 2 * time.Second, 4 * time.Second}
	for i, off := range offsets {
		clock.Set(t0.Add(off))
		ack, err := l.Append(context.Background(), TenantA, Req(i))
		if err != nil {
			t.Fatalf("Append(n=%d) = %v, want nil", i, err)
		}
		if !ack.Time.Equal(t0.Add(off)) {
			t.Fatalf("Append(n=%d) time = %v, want the clock's %v", i, ack.Time, t0.Add(off))
		}
	}
	tests := []struct {
		name string
		at   time.Time
		want int64
	}{
		{"long before", t0.Add(-time.Hour), 0},
		{"first", t0, 0},
		{"just after first", t0.Add(time.Microsecond), 1},
		{"a nanosecond after first", t0.Add(time.Nanosecond), 1},
		{"a nanosecond before second", t0.Add(time.Second - time.Nanosecond), 1},
		{"second", t0.Add(time.Second), 1},
		{"equal times give the first", t0.Add(2 * time.Second), 2},
		{"in a gap", t0.Add(3 * time.Second), 4},
		{"last", t0.Add(4 * time.Second), 4},
		{"after last", t0.Add(4*time.Second + time.Microsecond), 5},
		{"other zone", t0.Add(time.Second).In(time.FixedZone("x", 3600)), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Store.SeqAtTime(context.Background(), TenantA, tc.at)
			if err != nil || got != tc.want {
				t.Errorf("SeqAtTime(%v) = %d, %v; want %d, nil", tc.at, got, err, tc.want)
			}
		})
	}
	if got, err := h.Store.SeqAtTime(context.Background(), TenantB, t0); err != nil || got != 0 {
		t.Errorf("SeqAtTime(%s, %v) = %d, %v; want 0, nil (empty log)", TenantB, t0, got, err)
	}
}

func testTimeNeverDecreases(t *testing.T, h *harness) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := NewClock(t0)
	l := h.Ledger(t, ledger.Config{Clock: clock.Now})
	// The clock jumps back twice; entry time holds at the latest time seen.
	steps := []struct{ clock, want time.Duration }{
		{0, 0},
		{5 * time.Second, 5 * time.Second},
		{time.Second, 5 * time.Second},
		{-time.Hour, 5 * time.Second},
		{6 * time.Second, 6 * time.Second},
		{6*time.Second + 1500*time.Nanosecond, 6*time.Second + time.Microsecond},
		{6 * time.Second, 6*time.Second + time.Microsecond},
	}
	for i, s := range steps {
		clock.Set(t0.Add(s.clock))
		ack, err := l.Append(context.Background(), TenantA, Req(i))
		if err != nil {
			t.Fatalf("Append(n=%d) = %v, want nil", i, err)
		}
		if want := t0.Add(s.want); !ack.Time.Equal(want) {
			t.Errorf("Append(n=%d) with clock at %v: time %v, want %v", i, t0.Add(s.clock), ack.Time, want)
		}
	}
	// Each time comes back from the store as stamped, in record and bytes.
	for i, r := range AllRecords(t, h.Store, TenantA) {
		e, err := ledger.Parse(r.Data)
		if err != nil {
			t.Fatalf("Parse(record %d) = %v, want nil", i, err)
		}
		want := t0.Add(steps[i].want)
		if !r.Time.Equal(want) || e.Time != ledger.FormatTime(want) {
			t.Errorf("record %d: time %v, entry time %s; want %v", i, r.Time, e.Time, want)
		}
	}
	if got, err := h.Store.SeqAtTime(context.Background(), TenantA, t0.Add(5*time.Second)); err != nil || got != 1 {
		t.Errorf("SeqAtTime(t0+5s) = %d, %v; want 1, nil", got, err)
	}
	h.Verify(t, TenantA)
}

func testHead(t *testing.T, h *harness) {
	ctx := context.Background()
	head, err := h.Store.Head(ctx, TenantA)
	if err != nil || head.Size != 0 || head.LastHash != (tlog.Hash{}) {
		t.Fatalf("Head(empty) = %+v, %v; want size 0 and no hash", head, err)
	}
	l := h.Ledger(t, ledger.Config{})
	for n := 1; n <= 5; n++ {
		ack := AppendN(t, l, TenantA, 1)[0]
		head, err := h.Store.Head(ctx, TenantA)
		if err != nil {
			t.Fatalf("Head() after %d appends = %v, want nil", n, err)
		}
		if head.Size != int64(n) || head.LastHash != ack.LeafHash || !head.LastTime.Equal(ack.Time) {
			t.Errorf("Head() after %d appends = {size %d time %v}, want {size %d time %v} with the last leaf hash",
				n, head.Size, head.LastTime, n, ack.Time)
		}
	}
}

func testReadHashes(t *testing.T, h *harness) {
	ctx := context.Background()
	const n = 23
	AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, n)
	recs := AllRecords(t, h.Store, TenantA)
	want := expectHashes(t, recs)
	if int64(len(want)) != tlog.StoredHashCount(n) {
		t.Fatalf("computed %d stored hashes, want tlog.StoredHashCount(%d) = %d", len(want), n, tlog.StoredHashCount(n))
	}
	all := make([]int64, len(want))
	for i := range all {
		all[i] = int64(i)
	}
	got, err := h.Store.ReadHashes(ctx, TenantA, all)
	if err != nil {
		t.Fatalf("ReadHashes(0..%d) = %v, want nil", len(all)-1, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ReadHashes()[%d] = %x, want %x", i, got[i], want[i])
		}
	}
	// Out of order and repeated indexes come back in the asked order.
	idx := []int64{7, 0, 7, int64(len(want)) - 1, 3}
	got, err = h.Store.ReadHashes(ctx, TenantA, idx)
	if err != nil || len(got) != len(idx) {
		t.Fatalf("ReadHashes(%v) = %d hashes, %v; want %d, nil", idx, len(got), err, len(idx))
	}
	for i, x := range idx {
		if got[i] != want[x] {
			t.Errorf("ReadHashes(%v)[%d] = %x, want hash %d", idx, i, got[i], x)
		}
	}
	for _, bad := range []int64{int64(len(want)), int64(len(want)) + 100} {
		if _, err := h.Store.ReadHashes(ctx, TenantA, []int64{bad}); err == nil {
			t.Errorf("ReadHashes([%d]) beyond %d stored hashes = nil error, want an error", bad, len(want))
		}
	}
	for i, r := range recs {
		base := tlog.StoredHashIndex(0, int64(i))
		if len(r.Hashes) != int(tlog.StoredHashIndex(0, int64(i)+1)-base) {
			t.Fatalf("record %d has %d hashes, want %d", i, len(r.Hashes), tlog.StoredHashIndex(0, int64(i)+1)-base)
		}
		for j, hh := range r.Hashes {
			if hh != want[base+int64(j)] {
				t.Errorf("record %d hash %d = %x, want %x", i, j, hh, want[base+int64(j)])
			}
		}
	}
}
