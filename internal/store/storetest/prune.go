package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/retention"
)

var pruneBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// pruneReq is a retention.pruned entry that removes the data of [from, to) in
// its own transaction, as the retention job writes it.
func pruneReq(from, to int64) ledger.Request {
	body := &ledger.Pruned{From: from, To: to, Cutoff: ledger.FormatTime(pruneBase), RetentionDays: 1}
	req, _ := event.New(event.KindLogPruned, event.ActorSystem, body)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		ptx, ok := tx.(ledger.PruneTx)
		if !ok {
			return fmt.Errorf("append Tx %T does not implement ledger.PruneTx", tx)
		}
		_, err := ptx.PruneData(from, to)
		return err
	}
	return req
}

// prunedThrough reads the pruned prefix in a transaction that writes nothing.
func prunedThrough(t *testing.T, s Store, tenant string) int64 {
	t.Helper()
	var through int64
	err := s.Append(context.Background(), tenant, func(tx ledger.Tx) error {
		var err error
		through, err = tx.(ledger.PruneTx).PrunedThrough()
		return err
	})
	if err != nil {
		t.Fatalf("PrunedThrough(%s) = %v, want nil", tenant, err)
	}
	return through
}

func verifyReport(t *testing.T, s ledger.Store, v note.Verifier, tenant string) *ledger.Report {
	t.Helper()
	rep, err := ledger.VerifyStore(context.Background(), s, ledger.VerifyOptions{Tenant: tenant, Origin: Origin,
		Keys: []note.Verifier{v}}, nil)
	if err != nil {
		t.Fatalf("VerifyStore(%s) = %v, want a report", tenant, err)
	}
	return rep
}

func testPruneData(t *testing.T, h *harness) {
	ctx := context.Background()
	l := h.Ledger(t, ledger.Config{})
	acks := AppendN(t, l, TenantA, 12)
	before := AllRecords(t, h.Store, TenantA)
	cp, err := l.Checkpointer().Sign(ctx, TenantA)
	if err != nil {
		t.Fatalf("Checkpointer().Sign() = %v, want nil", err)
	}
	root, err := ledger.TreeHash(ctx, h.Store, TenantA, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	if got := prunedThrough(t, h.Store, TenantA); got != 0 {
		t.Fatalf("PrunedThrough(new log) = %d, want 0", got)
	}
	// A range reaching entries of the transaction itself is refused.
	err = h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
		if _, err := insertNext(tx, TenantA, "evt_inside"); err != nil {
			return err
		}
		_, err := tx.(ledger.PruneTx).PruneData(0, tx.Head().Size)
		return err
	})
	if err == nil {
		t.Fatal("PruneData(a range with an uncommitted entry) = nil, want an error")
	}

	if _, err := l.Append(ctx, TenantA, pruneReq(0, 5)); err != nil {
		t.Fatalf("Append(retention.pruned [0, 5)) = %v, want nil", err)
	}
	recs := AllRecords(t, h.Store, TenantA)
	for i := range before {
		r, b := recs[i], before[i]
		wantNil := i < 5
		if (r.Data == nil) != wantNil || r.ID != b.ID || r.Kind != b.Kind || !r.Time.Equal(b.Time) || !slices.Equal(r.Hashes, b.Hashes) {
			t.Errorf("record %d after the prune = {id %s kind %s data nil %v, %d hashes}, want {id %s kind %s data nil %v} with the hashes kept",
				i, r.ID, r.Kind, r.Data == nil, len(r.Hashes), b.ID, b.Kind, wantNil)
		}
	}
	got, err := h.Store.RecordByID(ctx, TenantA, acks[2].ID)
	if err != nil || got.Data != nil || got.Seq != 2 || got.LeafHash() != acks[2].LeafHash {
		t.Errorf("RecordByID(pruned seq 2) = %+v, %v; want seq 2 without data, leaf hash kept", got, err)
	}
	if got := prunedThrough(t, h.Store, TenantA); got != 5 {
		t.Errorf("PrunedThrough(after [0, 5)) = %d, want 5", got)
	}
	// Old proofs still verify: the leaf hashes are stored.
	for seq := range int64(5) {
		p, err := ledger.InclusionProof(ctx, h.Store, TenantA, seq, cp.Size)
		if err != nil {
			t.Fatalf("InclusionProof(pruned seq %d, size %d) = %v, want nil", seq, cp.Size, err)
		}
		if err := tlog.CheckRecord(p, cp.Size, root, seq, acks[seq].LeafHash); err != nil {
			t.Errorf("CheckRecord(pruned seq %d) = %v, want nil", seq, err)
		}
	}
	rep := h.Verify(t, TenantA)
	if want := [][2]int64{{0, 5}}; !reflect.DeepEqual(rep.Pruned, want) {
		t.Errorf("VerifyStore().Pruned = %v, want %v", rep.Pruned, want)
	}

	// A later prune over a retention.pruned entry keeps that entry's data (the
	// verifier reads it); pruning a pruned range again changes nothing.
	if _, err := l.Append(ctx, TenantA, pruneReq(0, 13)); err != nil {
		t.Fatalf("Append(retention.pruned [0, 13)) = %v, want nil", err)
	}
	recs = AllRecords(t, h.Store, TenantA)
	if recs[12].Data == nil || recs[12].Kind != ledger.KindLogPruned || recs[11].Data != nil {
		t.Errorf("after pruning [0, 13): seq 12 (retention.pruned) data nil %v, seq 11 data nil %v; want kept and pruned",
			recs[12].Data == nil, recs[11].Data == nil)
	}
	rep = h.Verify(t, TenantA)
	if want := [][2]int64{{0, 12}}; !reflect.DeepEqual(rep.Pruned, want) {
		t.Errorf("VerifyStore().Pruned = %v, want %v", rep.Pruned, want)
	}
}

// testPruneUndeclared removes data without a retention.pruned entry declaring it:
// verification names the first entry.
func testPruneUndeclared(t *testing.T, h *harness) {
	ctx := context.Background()
	l := h.Ledger(t, ledger.Config{})
	AppendN(t, l, TenantA, 8)
	req := pruneReq(2, 4)
	req.Kind, req.Body = "test.entry", map[string]int{"n": 99}
	if _, err := l.Append(ctx, TenantA, req); err != nil {
		t.Fatalf("Append(prune without a declaration) = %v, want nil", err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rep := verifyReport(t, h.Store, h.Verifier, TenantA)
	want := "data of entry 2 is missing and no prune covers it"
	if rep.OK || rep.Failure == nil || rep.Failure.Seq != 2 || rep.Failure.Check != ledger.CheckEntry || rep.Failure.Reason != want {
		t.Errorf("VerifyStore(data removed undeclared) = %+v, want seq 2 entry %q", rep.Failure, want)
	}
}

// testRetentionJob runs the retention job with a fake clock over three
// tenants: one pruned, one on legal hold, and the installation's log.
func testRetentionJob(t *testing.T, h *harness) {
	ctx := context.Background()
	clock := NewClock(pruneBase)
	l := h.Ledger(t, ledger.Config{Clock: clock.Now})
	tenants := []string{TenantA, TenantB, ledger.SystemTenant}
	appendDays := func(days ...int) {
		t.Helper()
		for _, d := range days {
			clock.Set(pruneBase.Add(time.Duration(d) * day))
			for _, tn := range tenants {
				if _, err := l.Append(ctx, tn, Req(d)); err != nil {
					t.Fatalf("Append(%s, day %d) = %v, want nil", tn, d, err)
				}
			}
		}
	}
	sign := func() {
		t.Helper()
		for _, tn := range tenants {
			if _, err := l.Checkpointer().Sign(ctx, tn); err != nil {
				t.Fatalf("Sign(%s) = %v, want nil", tn, err)
			}
		}
	}
	policies := map[string]retention.Policy{TenantA: {Days: 400}, TenantB: {Days: 400, LegalHold: true},
		ledger.SystemTenant: {Days: 1}}
	job := &retention.Job{Log: h.Store, Ledger: l, Clock: clock.Now, Logger: slog.New(slog.DiscardHandler),
		Policy: func(_ context.Context, tenant string) (retention.Policy, error) {
			p, ok := policies[tenant]
			if !ok {
				return p, retention.ErrUnknownTenant
			}
			return p, nil
		}}
	run := func(wantTenants ...string) []retention.Prune {
		t.Helper()
		ps, err := job.RunOnce(ctx)
		if err != nil {
			t.Fatalf("RunOnce() = %v, want nil", err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.Tenant)
		}
		if !slices.Equal(got, wantTenants) {
			t.Fatalf("RunOnce() pruned %v, want %v", got, wantTenants)
		}
		return ps
	}
	countPruned := func(tenant string) int {
		n := 0
		for _, r := range AllRecords(t, h.Store, tenant) {
			if r.Kind == ledger.KindLogPruned {
				n++
			}
		}
		return n
	}

	appendDays(0, 1, 2, 3, 4, 450, 451) // seq 0..4 old, 5..6 recent
	sign()
	clock.Set(pruneBase.Add(460 * day)) // cutoff: day 60
	ps := run(TenantA)
	if p := ps[0]; p.Body.From != 0 || p.Body.To != 5 || p.Body.RetentionDays != 400 || p.Seq != 7 ||
		p.Body.Cutoff != ledger.FormatTime(pruneBase.Add(60*day)) {
		t.Errorf("RunOnce() = %+v, want [0, 5) at seq 7 with the day-60 cutoff", p)
	}
	run() // idempotent: the same day finds nothing more
	clock.Set(pruneBase.Add(470 * day))
	run() // nothing new has aged out
	if n := countPruned(TenantA); n != 1 {
		t.Errorf("%d retention.pruned entries in %s, want 1", n, TenantA)
	}
	for _, tn := range []string{TenantB, ledger.SystemTenant} {
		if n := countPruned(tn); n != 0 {
			t.Errorf("%d retention.pruned entries in %s, want 0", n, tn)
		}
		for _, r := range AllRecords(t, h.Store, tn) {
			if r.Data == nil {
				t.Errorf("%s seq %d was pruned, want kept", tn, r.Seq)
			}
		}
	}

	// Entries no checkpoint covers are never pruned, however old.
	// (the checkpoint covers 7 entries: the retention.pruned at seq 7 came after it).
	appendDays(500, 501) // TenantA seq 8, 9: no checkpoint yet
	clock.Set(pruneBase.Add(1000 * day))
	ps = run(TenantA)
	if p := ps[0]; p.Body.From != 5 || p.Body.To != 7 {
		t.Errorf("RunOnce(uncovered tail) = [%d, %d), want [5, 7): the latest checkpoint's size", p.Body.From, p.Body.To)
	}
	sign()
	policies[TenantB] = retention.Policy{Days: 400} // the hold is lifted
	ps = run(TenantA, TenantB)
	// TenantA's seq 10 is the retention.pruned of day 1000, after the cutoff.
	if a, b := ps[0].Body, ps[1].Body; a.From != 7 || a.To != 10 || b.From != 0 || b.To != 9 {
		t.Errorf("RunOnce() = A [%d, %d), B [%d, %d); want A [7, 10), B [0, 9)", a.From, a.To, b.From, b.To)
	}
	for _, tn := range []string{TenantA, TenantB} {
		rep := h.Verify(t, tn)
		for _, r := range AllRecords(t, h.Store, tn) {
			if r.Kind == ledger.KindLogPruned && r.Data == nil {
				t.Errorf("%s: retention.pruned entry at seq %d lost its data", tn, r.Seq)
			}
		}
		if len(rep.Pruned) == 0 {
			t.Errorf("VerifyStore(%s).Pruned is empty, want the pruned ranges", tn)
		}
	}
	for _, r := range AllRecords(t, h.Store, ledger.SystemTenant) {
		if r.Data == nil {
			t.Errorf("%s seq %d was pruned, want kept", ledger.SystemTenant, r.Seq)
		}
	}
	// A failing tenant does not stop the others.
	sign()
	clock.Set(pruneBase.Add(1100 * day))
	policies[TenantA] = retention.Policy{Days: 1}
	job.Policy = func(_ context.Context, tenant string) (retention.Policy, error) {
		if tenant == TenantB {
			return retention.Policy{}, errors.New("settings unavailable")
		}
		return policies[tenant], nil
	}
	ps, err := job.RunOnce(ctx)
	if err == nil || !strings.Contains(err.Error(), "settings unavailable") || len(ps) != 1 || ps[0].Tenant != TenantA {
		t.Errorf("RunOnce(one tenant failing) = %v, %v; want A pruned and B's error", ps, err)
	}
}
