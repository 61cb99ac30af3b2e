package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// approvalWork appends an entry to tenant's log whose work runs fn on the
// store's approval.Tx inside the append transaction. Work runs on the
// appender's goroutine, so fn returns failures rather than failing t.
func approvalWork(l *ledger.Ledger, tenant string, fn func(tx approval.Tx) error) error {
	req := Req(0)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		at, ok := tx.(approval.Tx)
		if !ok {
			return fmt.Errorf("the store's transaction %T is not an approval.Tx", tx)
		}
		return fn(at)
	}
	_, err := l.Append(context.Background(), tenant, req)
	return err
}

// normApproval returns a copy of a that reflect.DeepEqual can hold against
// another: times in UTC without monotonic readings, empty lists nil.
func normApproval(a *approval.Approval) approval.Approval {
	n := *a
	n.Created, n.Expires = n.Created.UTC(), n.Expires.UTC()
	for _, p := range []**time.Time{&n.Resolved, &n.UsedAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	n.Votes = nil
	for _, v := range a.Votes {
		v.At = v.At.UTC()
		n.Votes = append(n.Votes, v)
	}
	if len(n.Groups) == 0 {
		n.Groups = nil
	}
	if len(n.Keys) == 0 {
		n.Keys = nil
	}
	return n
}

// diffApproval describes how got differs from want, or returns "".
func diffApproval(got, want *approval.Approval) string {
	g, w := normApproval(got), normApproval(want)
	if reflect.DeepEqual(g, w) {
		return ""
	}
	if !reflect.DeepEqual(g.Request, w.Request) {
		return fmt.Sprintf("request %+v, want %+v", g.Request, w.Request)
	}
	g.Request, w.Request = nil, nil
	return fmt.Sprintf("%+v, want %+v", g, w)
}

// testApprovals: an approval request is stored with its decision's entry
// and read back field for field (times to the microsecond, the recorded
// request with its args and findings); votes are read in time order, one
// per key; resolution and use are recorded; listings page in id order and
// filter by the status at a given time; tenants are apart; a failing entry
// leaves nothing behind.
func testApprovals(t *testing.T, h *harness) {
	ctx := context.Background()
	r, ok := h.Store.(approval.Reader)
	if !ok {
		t.Fatal("the store is not an approval.Reader")
	}
	l := h.Ledger(t, ledger.Config{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	run := func(tenant, what string, fn func(tx approval.Tx) error) {
		t.Helper()
		if err := approvalWork(l, tenant, fn); err != nil {
			t.Fatalf("%s in %s: %v", what, tenant, err)
		}
	}
	newApproval := func(tenant, id string, expires time.Duration) *approval.Approval {
		return &approval.Approval{ID: id, Tenant: tenant, ReceiptID: "rcpt_" + id, Digest: "9f86d081884c7d65" + id,
			Principal: "agent:bot", Action: "payments.send", Requester: "key_agent", Count: 1, Created: at,
			Expires: at.Add(expires), Status: approval.Pending,
			Request: &event.Decision{Principal: event.DecisionPrincipal{ID: "agent:bot", Type: "agent"},
				Action: event.DecisionAction{Type: "payments.send"}, Args: map[string]any{}, Decision: "require_approval",
				Reasons: []event.DecisionReason{{Code: "approval_required", Message: "needs approval"}}, ApprovalID: id}}
	}
	insert := func(a *approval.Approval) {
		t.Helper()
		run(a.Tenant, "InsertApproval("+a.ID+")", func(tx approval.Tx) error { return tx.InsertApproval(a) })
	}
	want := func(tenant string, a *approval.Approval) {
		t.Helper()
		got, err := r.Approval(ctx, tenant, a.ID)
		if err != nil {
			t.Fatalf("Approval(%s, %s) = %v, want nil", tenant, a.ID, err)
		}
		if d := diffApproval(got, a); d != "" {
			t.Errorf("Approval(%s, %s) = %s", tenant, a.ID, d)
		}
	}

	// Every field comes back, the request as recorded.
	full := newApproval(TenantA, "apr_01", time.Hour)
	full.Rule, full.Groups, full.Keys, full.Count = "large-payment", []string{"finance", "ops"}, []string{"key_cfo"}, 2
	full.Request = &event.Decision{
		Principal: event.DecisionPrincipal{ID: "agent:bot", Type: "agent", Attributes: map[string]any{"team": "billing"}},
		Action:    event.DecisionAction{Type: "payments.send", Resource: "acct:42", Operation: "create"},
		Args: map[string]any{"to": "[REDACTED]", "amount": 1250.5, "memo": "Invoice 7 — ünïcode",
			"lines": []any{map[string]any{"sku": "a", "qty": 2.0}}, "urgent": true, "note": nil},
		Context:  map[string]string{"session_id": "sess_1"},
		Decision: "require_approval",
		Reasons:  []event.DecisionReason{{Code: "approval_required", Rule: "large-payment", Message: "over 1000"}},
		Rules:    []string{"large-payment"},
		Findings: []event.DecisionFinding{{Category: "secret", Rule: "iban", Severity: "high", Path: "args.to",
			Start: 0, End: 22, InKey: false, ValueHMAC: "hm_1"}, {Category: "pii", Rule: "email", Severity: "low",
			Path: "args.memo", Start: 3, End: 9, InKey: true}},
		Policy:       &event.PolicyRef{Name: "payments", Version: 3, Digest: "sha256:abc"},
		ApprovalID:   "apr_01",
		ScanComplete: true,
	}
	insert(full)
	want(TenantA, full)
	if err := approvalWork(l, TenantA, func(tx approval.Tx) error { return tx.InsertApproval(newApproval(TenantA, "apr_01", 0)) }); !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("InsertApproval(an existing id) = %v, want ErrRejected", err)
	}
	if err := approvalWork(l, TenantA, func(tx approval.Tx) error { return tx.InsertApproval(newApproval(TenantB, "apr_99", 0)) }); !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("InsertApproval(of %s, in %s) = %v, want ErrRejected", TenantB, TenantA, err)
	}

	// Votes come back in time order, one per key.
	votes := []approval.Vote{{Key: "key_cfo", Approve: true, Comment: "fine by me", At: at.Add(2 * time.Minute)},
		{Key: "key_ops", Approve: false, Comment: "", At: at.Add(time.Minute)}}
	for _, v := range votes {
		run(TenantA, "AddVote("+v.Key+")", func(tx approval.Tx) error { return tx.AddVote("apr_01", v) })
	}
	full.Votes = []approval.Vote{votes[1], votes[0]}
	want(TenantA, full)
	if err := approvalWork(l, TenantA, func(tx approval.Tx) error {
		return tx.AddVote("apr_01", approval.Vote{Key: "key_ops", Approve: true, At: at.Add(3 * time.Minute)})
	}); !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("a second vote by key_ops = %v, want ErrRejected", err)
	}
	run(TenantA, "ApprovalForUpdate(apr_01)", func(tx approval.Tx) error {
		got, err := tx.ApprovalForUpdate("apr_01")
		if err != nil {
			return fmt.Errorf("ApprovalForUpdate(apr_01) = %w", err)
		}
		if d := diffApproval(got, full); d != "" {
			return fmt.Errorf("ApprovalForUpdate(apr_01) = %s", d)
		}
		return nil
	})

	// Resolution and use. apr_01 ends rejected; apr_02 stays open; apr_03
	// is approved and used; apr_04 and apr_06 lapse, unresolved, at +10m
	// and +30m; apr_05 is resolved expired.
	run(TenantA, "ResolveApproval(apr_01)", func(tx approval.Tx) error {
		return tx.ResolveApproval("apr_01", approval.Rejected, "rejected by key_ops", at.Add(3*time.Minute))
	})
	full.Status, full.Reason, full.Resolved = approval.Rejected, "rejected by key_ops", ptr(at.Add(3*time.Minute))
	want(TenantA, full)
	all := []*approval.Approval{full, newApproval(TenantA, "apr_02", time.Hour), newApproval(TenantA, "apr_03", time.Hour),
		newApproval(TenantA, "apr_04", 10*time.Minute), newApproval(TenantA, "apr_05", 5*time.Minute),
		newApproval(TenantA, "apr_06", 30*time.Minute)}
	for _, a := range all[1:] {
		insert(a)
	}
	run(TenantA, "resolve and use apr_03, apr_05", func(tx approval.Tx) error {
		return errors.Join(tx.ResolveApproval("apr_03", approval.Approved, "", at.Add(4*time.Minute)),
			tx.UseApproval("apr_03", "rcpt_used", at.Add(5*time.Minute)),
			tx.ResolveApproval("apr_05", approval.Expired, "not approved within its time", at.Add(6*time.Minute)))
	})
	all[2].Status, all[2].Resolved = approval.Approved, ptr(at.Add(4*time.Minute))
	all[2].UsedReceipt, all[2].UsedAt = "rcpt_used", ptr(at.Add(5*time.Minute))
	all[4].Status, all[4].Reason, all[4].Resolved = approval.Expired, "not approved within its time", ptr(at.Add(6*time.Minute))
	for _, a := range all {
		want(TenantA, a)
	}
	for _, op := range []struct {
		name string
		fn   func(tx approval.Tx) error
	}{
		{"ResolveApproval", func(tx approval.Tx) error { return tx.ResolveApproval("apr_77", approval.Approved, "", at) }},
		{"UseApproval", func(tx approval.Tx) error { return tx.UseApproval("apr_77", "rcpt_x", at) }},
		{"ApprovalForUpdate", func(tx approval.Tx) error { _, err := tx.ApprovalForUpdate("apr_77"); return err }},
	} {
		if err := approvalWork(l, TenantA, op.fn); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("%s(unknown id) = %v, want approval.ErrNotFound", op.name, err)
		}
	}

	// Listings: every filter as StatusAt would have it, in id order.
	list := func(tenant, status, after string, limit int, now time.Time) []string {
		t.Helper()
		got, err := r.Approvals(ctx, tenant, status, after, limit, now)
		if err != nil {
			t.Fatalf("Approvals(%s, %q, after %q, %d) = %v, want nil", tenant, status, after, limit, err)
		}
		ids := []string{}
		for i := range got {
			if status != "" && got[i].StatusAt(now) != status {
				t.Errorf("Approvals(%s, %q) listed %s, whose status at %s is %s", tenant, status, got[i].ID, now, got[i].StatusAt(now))
			}
			ids = append(ids, got[i].ID)
		}
		return ids
	}
	later := at.Add(30 * time.Minute) // apr_06 expires at exactly this time
	for _, tc := range []struct {
		name, status, after string
		limit               int
		now                 time.Time
		want                []string
	}{
		{"all", "", "", 100, later, []string{"apr_01", "apr_02", "apr_03", "apr_04", "apr_05", "apr_06"}},
		{"pending", approval.Pending, "", 100, later, []string{"apr_02"}},
		{"pending before expiries", approval.Pending, "", 100, at, []string{"apr_02", "apr_04", "apr_06"}},
		{"expired", approval.Expired, "", 100, later, []string{"apr_04", "apr_05", "apr_06"}},
		{"expired before expiries", approval.Expired, "", 100, at, []string{"apr_05"}},
		{"expired a microsecond early", approval.Expired, "", 100, later.Add(-time.Microsecond), []string{"apr_04", "apr_05"}},
		{"approved", approval.Approved, "", 100, later, []string{"apr_03"}},
		{"rejected", approval.Rejected, "", 100, later, []string{"apr_01"}},
		{"failed", approval.Failed, "", 100, later, []string{}},
		{"first page", "", "", 2, later, []string{"apr_01", "apr_02"}},
		{"second page", "", "apr_02", 2, later, []string{"apr_03", "apr_04"}},
		{"last page", "", "apr_04", 2, later, []string{"apr_05", "apr_06"}},
		{"past the end", "", "apr_06", 2, later, []string{}},
		{"expired page", approval.Expired, "apr_04", 1, later, []string{"apr_05"}},
		{"other tenant", "", "", 100, later, []string{}},
	} {
		tenant := TenantA
		if tc.name == "other tenant" {
			tenant = TenantB
		}
		if got := list(tenant, tc.status, tc.after, tc.limit, tc.now); !slices.Equal(got, tc.want) {
			t.Errorf("Approvals(%s: %s, %q, after %q, %d) = %v, want %v", tc.name, tenant, tc.status, tc.after, tc.limit, got, tc.want)
		}
	}
	if got, err := r.Approvals(ctx, TenantA, approval.Rejected, "", 10, later); err != nil || len(got) != 1 || diffApproval(&got[0], full) != "" {
		t.Errorf("Approvals(rejected) = %+v, %v; want apr_01 with its votes", got, err)
	}

	// Tenants are apart: the same id in another tenant is another approval.
	other := newApproval(TenantB, "apr_01", time.Hour)
	other.Principal = "agent:other"
	insert(other)
	want(TenantB, other)
	want(TenantA, full)
	if _, err := r.Approval(ctx, TenantB, "apr_02"); !errors.Is(err, approval.ErrNotFound) {
		t.Errorf("Approval(%s, apr_02) = %v, want approval.ErrNotFound", TenantB, err)
	}
	for _, op := range []struct {
		name string
		fn   func(tx approval.Tx) error
	}{
		{"ApprovalForUpdate", func(tx approval.Tx) error { _, err := tx.ApprovalForUpdate("apr_02"); return err }},
		{"ResolveApproval", func(tx approval.Tx) error { return tx.ResolveApproval("apr_02", approval.Approved, "", at) }},
		{"UseApproval", func(tx approval.Tx) error { return tx.UseApproval("apr_03", "rcpt_b", at) }},
	} {
		if err := approvalWork(l, TenantB, op.fn); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("%s(%s's approval, in %s) = %v, want approval.ErrNotFound", op.name, TenantA, TenantB, err)
		}
	}
	run(TenantB, "AddVote(apr_01)", func(tx approval.Tx) error {
		return tx.AddVote("apr_01", approval.Vote{Key: "key_ops", Approve: true, Comment: "b", At: at})
	})
	other.Votes = []approval.Vote{{Key: "key_ops", Approve: true, Comment: "b", At: at}}
	want(TenantB, other)
	if got := list(TenantB, "", "", 100, later); !slices.Equal(got, []string{"apr_01"}) {
		t.Errorf("Approvals(%s) = %v, want [apr_01]", TenantB, got)
	}

	// A failing entry leaves nothing behind.
	err := approvalWork(l, TenantA, func(tx approval.Tx) error {
		if err := tx.InsertApproval(newApproval(TenantA, "apr_07", time.Hour)); err != nil {
			return err
		}
		if err := tx.AddVote("apr_02", approval.Vote{Key: "key_cfo", Approve: true, At: at}); err != nil {
			return err
		}
		if err := tx.ResolveApproval("apr_02", approval.Approved, "", at.Add(time.Minute)); err != nil {
			return err
		}
		if err := tx.UseApproval("apr_02", "rcpt_gone", at.Add(2*time.Minute)); err != nil {
			return err
		}
		if a, err := tx.ApprovalForUpdate("apr_02"); err != nil || a.Status != approval.Approved || len(a.Votes) != 1 {
			return fmt.Errorf("ApprovalForUpdate(apr_02) in its own transaction = %+v, %v; want it approved with one vote", a, err)
		}
		return errBoom
	})
	if !errors.Is(err, ledger.ErrRejected) || !errors.Is(err, errBoom) {
		t.Fatalf("failing entry = %v, want ErrRejected wrapping %v", err, errBoom)
	}
	if _, err := r.Approval(ctx, TenantA, "apr_07"); !errors.Is(err, approval.ErrNotFound) {
		t.Errorf("Approval(apr_07) after a failed entry = %v, want approval.ErrNotFound", err)
	}
	check := func() {
		t.Helper()
		for _, a := range all {
			want(TenantA, a)
		}
		want(TenantB, other)
	}
	check()
	h.Reopen(t)
	r = h.Store.(approval.Reader)
	check()
}

func ptr[T any](v T) *T { return &v }
