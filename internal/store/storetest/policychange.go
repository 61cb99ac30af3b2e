package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// sameActive reports whether two policy.Active values are equal, times
// compared as instants.
func sameActive(a, b policy.Active) bool {
	return a.Name == b.Name && a.Version == b.Version && a.By == b.By && a.Activated.Equal(b.Activated)
}

// testPolicyChange: approvals of a version are kept per version and per
// tenant, read in time order, once per key; every activation joins the
// tenant's history, read newest first (the later of two at the same time
// first) up to a limit; the candidate is set, replaced and cleared per
// tenant; a failing entry leaves none of them behind; all of it survives
// reopening.
func testPolicyChange(t *testing.T, h *harness) {
	ctx := context.Background()
	r, ok := h.Store.(policy.VersionReader)
	if !ok {
		t.Fatal("the store is not a policy.VersionReader")
	}
	l := h.Ledger(t, ledger.Config{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	run := func(tenant, what string, fn func(w policy.VersionWriter) error) {
		t.Helper()
		if err := policyWork(t, l, tenant, fn); err != nil {
			t.Fatalf("%s in %s: %v", what, tenant, err)
		}
	}
	for _, v := range []struct {
		tenant string
		n      int64
	}{{TenantA, 1}, {TenantA, 2}, {TenantB, 1}} {
		run(v.tenant, fmt.Sprintf("insert payments v%d", v.n), func(w policy.VersionWriter) error {
			return w.InsertPolicyVersion(&policy.Version{Tenant: v.tenant, Name: "payments", Version: v.n,
				Digest: fmt.Sprintf("d%d", v.n), Source: []byte("name: payments\n"), Author: "key1", Created: at})
		})
	}

	// Approvals, recorded out of time order, are read in time order.
	approve := func(tenant string, version int64, key string, d time.Duration) {
		t.Helper()
		run(tenant, fmt.Sprintf("AddPolicyApproval(payments v%d, %s)", version, key), func(w policy.VersionWriter) error {
			return w.AddPolicyApproval("payments", version, key, at.Add(d))
		})
	}
	approve(TenantA, 1, "key3", 2*time.Second)
	approve(TenantA, 1, "key2", time.Second)
	approve(TenantA, 2, "key2", 0) // the same key approves another version
	approve(TenantB, 1, "key3", 0) // and the same name and version in another tenant
	wantApprovals := func(tenant string, version int64, want ...policy.VersionApproval) {
		t.Helper()
		got, err := r.PolicyApprovals(ctx, tenant, "payments", version)
		same := func(a, b policy.VersionApproval) bool { return a.Key == b.Key && a.At.Equal(b.At) }
		if err != nil || !slices.EqualFunc(got, want, same) {
			t.Errorf("PolicyApprovals(%s, payments, %d) = %v, %v; want %v", tenant, version, got, err, want)
		}
	}
	wantApprovals(TenantA, 1, policy.VersionApproval{Key: "key2", At: at.Add(time.Second)},
		policy.VersionApproval{Key: "key3", At: at.Add(2 * time.Second)})
	wantApprovals(TenantA, 2, policy.VersionApproval{Key: "key2", At: at})
	wantApprovals(TenantA, 3)
	wantApprovals(TenantB, 1, policy.VersionApproval{Key: "key3", At: at})
	wantApprovers := func(w policy.VersionWriter, version int64, want ...string) error {
		got, err := w.PolicyApprovers("payments", version)
		if err != nil || !slices.Equal(got, want) {
			return fmt.Errorf("PolicyApprovers(payments, %d) = %v, %v; want %v", version, got, err, want)
		}
		return nil
	}
	run(TenantA, "read approvers", func(w policy.VersionWriter) error {
		return errors.Join(wantApprovers(w, 1, "key2", "key3"), wantApprovers(w, 2, "key2"), wantApprovers(w, 3))
	})
	run(TenantB, "read approvers", func(w policy.VersionWriter) error { return wantApprovers(w, 1, "key3") })
	if err := policyWork(t, l, TenantA, func(w policy.VersionWriter) error {
		return w.AddPolicyApproval("payments", 1, "key2", at.Add(time.Minute))
	}); !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("a second approval by key2 = %v, want ErrRejected", err)
	}
	wantApprovals(TenantA, 1, policy.VersionApproval{Key: "key2", At: at.Add(time.Second)},
		policy.VersionApproval{Key: "key3", At: at.Add(2 * time.Second)})

	// The activation history, newest first.
	if got, err := r.Activations(ctx, TenantA, 10); err != nil || len(got) != 0 {
		t.Errorf("Activations(%s) before any = %v, %v; want none", TenantA, got, err)
	}
	acts := []policy.Active{
		{Name: "payments", Version: 1, Activated: at, By: "key1"},
		{Name: "payments", Version: 2, Activated: at.Add(time.Second), By: "key2"},
		{Name: "payments", Version: 1, Activated: at.Add(time.Second), By: "key3"}, // a rollback in the same microsecond
	}
	for _, a := range acts {
		run(TenantA, fmt.Sprintf("SetActivePolicy(v%d by %s)", a.Version, a.By), func(w policy.VersionWriter) error {
			return w.SetActivePolicy(&a)
		})
	}
	run(TenantB, "SetActivePolicy(v1)", func(w policy.VersionWriter) error {
		return w.SetActivePolicy(&policy.Active{Name: "payments", Version: 1, Activated: at.Add(time.Hour), By: "keyB"})
	})
	if err := policyWork(t, l, TenantA, func(w policy.VersionWriter) error {
		return w.SetActivePolicy(&policy.Active{Name: "payments", Version: 9, Activated: at.Add(time.Hour), By: "key1"})
	}); !errors.Is(err, policy.ErrNoVersion) {
		t.Errorf("activating a missing version = %v, want ErrNoVersion", err)
	}
	wantHistory := func(tenant string, limit int, want ...policy.Active) {
		t.Helper()
		got, err := r.Activations(ctx, tenant, limit)
		if err != nil || !slices.EqualFunc(got, want, sameActive) {
			t.Errorf("Activations(%s, %d) = %+v, %v; want %+v", tenant, limit, got, err, want)
		}
	}
	wantHistory(TenantA, 10, acts[2], acts[1], acts[0])
	wantHistory(TenantA, 2, acts[2], acts[1])
	wantHistory(TenantB, 10, policy.Active{Name: "payments", Version: 1, Activated: at.Add(time.Hour), By: "keyB"})

	// The candidate is set, replaced and cleared per tenant.
	wantCandidate := func(tenant string, want *policy.Active) {
		t.Helper()
		got, err := r.CandidatePolicy(ctx, tenant)
		switch {
		case want == nil && !errors.Is(err, policy.ErrNoVersion):
			t.Errorf("CandidatePolicy(%s) = %+v, %v; want ErrNoVersion", tenant, got, err)
		case want != nil && (err != nil || !sameActive(*got, *want)):
			t.Errorf("CandidatePolicy(%s) = %+v, %v; want %+v", tenant, got, err, want)
		}
	}
	setCandidate := func(tenant string, a *policy.Active) {
		t.Helper()
		run(tenant, fmt.Sprintf("SetCandidate(%+v)", a), func(w policy.VersionWriter) error { return w.SetCandidate(a) })
	}
	wantCandidate(TenantA, nil)
	candA := &policy.Active{Name: "payments", Version: 2, Activated: at.Add(time.Minute), By: "key1"}
	setCandidate(TenantA, candA)
	wantCandidate(TenantA, candA)
	wantCandidate(TenantB, nil)
	candA = &policy.Active{Name: "payments", Version: 1, Activated: at.Add(2 * time.Minute), By: "key2"}
	setCandidate(TenantA, candA)
	wantCandidate(TenantA, candA)
	candB := &policy.Active{Name: "payments", Version: 1, Activated: at.Add(3 * time.Minute), By: "keyB"}
	setCandidate(TenantB, candB)
	setCandidate(TenantA, nil)
	wantCandidate(TenantA, nil)
	wantCandidate(TenantB, candB)
	setCandidate(TenantA, nil) // clearing no candidate is no error
	setCandidate(TenantA, candA)

	// A failing entry leaves none of its changes behind, though it read
	// its own writes.
	err := policyWork(t, l, TenantA, func(w policy.VersionWriter) error {
		if err := w.AddPolicyApproval("payments", 2, "key4", at.Add(time.Hour)); err != nil {
			return err
		}
		if err := wantApprovers(w, 2, "key2", "key4"); err != nil {
			return err
		}
		if err := w.SetActivePolicy(&policy.Active{Name: "payments", Version: 2, Activated: at.Add(time.Hour), By: "key4"}); err != nil {
			return err
		}
		if err := w.SetCandidate(nil); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, ledger.ErrRejected) || !errors.Is(err, errBoom) {
		t.Fatalf("failing entry = %v, want ErrRejected wrapping %v", err, errBoom)
	}
	check := func() {
		t.Helper()
		wantApprovals(TenantA, 2, policy.VersionApproval{Key: "key2", At: at})
		wantHistory(TenantA, 10, acts[2], acts[1], acts[0])
		if got, err := r.ActivePolicy(ctx, TenantA); err != nil || !sameActive(*got, acts[2]) {
			t.Errorf("ActivePolicy(%s) = %+v, %v; want %+v", TenantA, got, err, acts[2])
		}
		wantCandidate(TenantA, candA)
		wantCandidate(TenantB, candB)
	}
	check()

	h.Reopen(t)
	r = h.Store.(policy.VersionReader)
	check()
	wantApprovals(TenantA, 1, policy.VersionApproval{Key: "key2", At: at.Add(time.Second)},
		policy.VersionApproval{Key: "key3", At: at.Add(2 * time.Second)})
}
