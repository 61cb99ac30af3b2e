package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// receiptReq is an entry carrying a receipt index row.
func receiptReq(n int, agent, action, decision string) ledger.Request {
	req := Req(n)
	req.ID = fmt.Sprintf("rcpt_%06d", n)
	req.Index = &event.Receipt{Agent: agent, Action: action, Decision: decision}
	return req
}

// outcomeWork appends an entry whose work records an outcome for id.
func outcomeWork(l *ledger.Ledger, tenant, id string) (*ledger.Appended, error) {
	req := Req(-1)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(event.ReceiptWriter)
		if !ok {
			return errors.New("the store's transaction is not an event.ReceiptWriter")
		}
		r, err := w.ReceiptInTx(id)
		if err != nil {
			return err
		}
		if r.HasOutcome() {
			return fmt.Errorf("receipt %s has outcome %d", id, r.OutcomeSeq)
		}
		return w.SetOutcome(id, tx.Head().Size, event.OutcomeSucceeded)
	}
	return l.Append(context.Background(), tenant, req)
}

// testReceipts: a receipt row is written with its entry (seq, id and time
// of the record), read back and filtered, kept per tenant; an outcome is
// recorded once even when reports race; an unknown index value fails its
// entry and leaves nothing behind.
func testReceipts(t *testing.T, h *harness) {
	ctx := context.Background()
	r, ok := h.Store.(event.ReceiptReader)
	if !ok {
		t.Fatal("the store is not an event.ReceiptReader")
	}
	l := h.Ledger(t, ledger.Config{})
	AppendN(t, l, TenantA, 3) // entries without receipts come first
	type spec struct{ agent, action, decision string }
	specs := []spec{{"a1", "fs.read", "allow"}, {"a2", "fs.read", "deny"}, {"a1", "shell.exec", "deny"},
		{"a1", "fs.read", "allow"}, {"a3", "pay.send", "require_approval"}, {"a1", "fs.read", "allow"}}
	acks := map[string]*ledger.Appended{}
	for i, s := range specs {
		req := receiptReq(i, s.agent, s.action, s.decision)
		ack, err := l.Append(ctx, TenantA, req)
		if err != nil {
			t.Fatalf("append receipt %d: %v", i, err)
		}
		acks[req.ID] = ack
	}
	if _, err := l.Append(ctx, TenantB, receiptReq(0, "b1", "fs.read", "allow")); err != nil {
		t.Fatalf("append receipt of %s: %v", TenantB, err)
	}
	got, err := r.Receipt(ctx, TenantA, "rcpt_000004")
	want := acks["rcpt_000004"]
	if err != nil || got.Seq != want.Seq || !got.Time.Equal(want.Time) || got.Agent != "a3" || got.Action != "pay.send" ||
		got.Decision != "require_approval" || got.HasOutcome() {
		t.Fatalf("Receipt(rcpt_000004) = %+v, %v; want seq %d time %s", got, err, want.Seq, want.Time)
	}
	if _, err := r.Receipt(ctx, TenantB, "rcpt_000004"); !errors.Is(err, event.ErrNoReceipt) {
		t.Fatalf("Receipt of %s from %s = %v, want ErrNoReceipt", "rcpt_000004", TenantB, err)
	}
	head, err := h.Store.Head(ctx, TenantA)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rs []event.Receipt) string {
		s := ""
		for _, r := range rs {
			s += r.ID[len(r.ID)-1:]
		}
		return s
	}
	for _, tc := range []struct {
		name string
		f    event.ReceiptFilter
		want string
	}{
		{"all", event.ReceiptFilter{ToSeq: head.Size, Limit: 100}, "012345"},
		{"limit", event.ReceiptFilter{ToSeq: head.Size, Limit: 2}, "01"},
		{"window", event.ReceiptFilter{FromSeq: acks["rcpt_000002"].Seq, ToSeq: acks["rcpt_000005"].Seq, Limit: 100}, "234"},
		{"agent", event.ReceiptFilter{ToSeq: head.Size, Agent: "a1", Limit: 100}, "0235"},
		{"action and decision", event.ReceiptFilter{ToSeq: head.Size, Action: "fs.read", Decision: "allow", Limit: 100}, "035"},
		{"agent action decision", event.ReceiptFilter{ToSeq: head.Size, Agent: "a1", Action: "shell.exec", Decision: "deny", Limit: 100}, "2"},
		{"nothing", event.ReceiptFilter{ToSeq: head.Size, Agent: "b1", Limit: 100}, ""},
	} {
		rs, err := r.Receipts(ctx, TenantA, tc.f)
		if err != nil || ids(rs) != tc.want {
			t.Errorf("Receipts(%s) = %q, %v; want %q", tc.name, ids(rs), err, tc.want)
		}
	}

	// Racing outcome reports: exactly one is recorded.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = outcomeWork(l, TenantA, "rcpt_000003")
		}()
	}
	wg.Wait()
	okN := 0
	for _, err := range errs {
		if err == nil {
			okN++
		} else if !errors.Is(err, ledger.ErrRejected) {
			t.Errorf("racing outcome: %v, want nil or ErrRejected", err)
		}
	}
	got, err = r.Receipt(ctx, TenantA, "rcpt_000003")
	if okN != 1 || err != nil || !got.HasOutcome() || got.OutcomeStatus != event.OutcomeSucceeded {
		t.Fatalf("after racing outcomes: %d recorded, receipt %+v, %v; want exactly 1", okN, got, err)
	}
	if _, err := outcomeWork(l, TenantA, "rcpt_999999"); !errors.Is(err, event.ErrNoReceipt) {
		t.Errorf("outcome of an unknown receipt = %v, want ErrNoReceipt", err)
	}

	// An index value the store does not know fails its entry.
	before := takeSnapshot(t, h.Store, TenantA)
	bad := Req(99)
	bad.Index = struct{ X int }{1}
	if _, err := l.Append(ctx, TenantA, bad); err == nil {
		t.Fatal("append with an unknown index value succeeded")
	}
	if d := before.diff(takeSnapshot(t, h.Store, TenantA)); d != "" {
		t.Fatalf("a failed index write changed the log: %s", d)
	}
	h.Verify(t, TenantA) // fails the test unless the log verifies
}
