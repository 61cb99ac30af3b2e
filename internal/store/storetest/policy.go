package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// policyWork appends an entry whose work runs fn on the store's policy
// capabilities inside the append transaction.
func policyWork(t *testing.T, l *ledger.Ledger, tenant string, fn func(w policy.VersionWriter) error) error {
	t.Helper()
	req := Req(0)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(policy.VersionWriter)
		if !ok {
			return errors.New("the store's transaction is not a policy.VersionWriter")
		}
		return fn(w)
	}
	_, err := l.Append(context.Background(), tenant, req)
	return err
}

// testPolicyVersions: versions are stored with their entries, found by
// digest and number, listed in order, kept apart per tenant; activation
// needs an existing version and replaces the previous one; a failing
// entry leaves no version behind.
func testPolicyVersions(t *testing.T, h *harness) {
	ctx := context.Background()
	r, ok := h.Store.(policy.VersionReader)
	if !ok {
		t.Fatal("the store is not a policy.VersionReader")
	}
	l := h.Ledger(t, ledger.Config{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	version := func(tenant, name string, n int64, digest string) *policy.Version {
		return &policy.Version{Tenant: tenant, Name: name, Version: n, Digest: digest,
			Source: []byte(fmt.Sprintf("name: %s\n# %d\n", name, n)), Author: "key1", Created: at}
	}
	for _, v := range []*policy.Version{version(TenantA, "payments", 1, "d1"), version(TenantA, "payments", 2, "d2"),
		version(TenantA, "coding", 1, "d3"), version(TenantB, "payments", 1, "d1")} {
		if err := policyWork(t, l, v.Tenant, func(w policy.VersionWriter) error {
			latest, err := w.LatestPolicyVersion(v.Name)
			if err != nil || latest != v.Version-1 {
				return fmt.Errorf("LatestPolicyVersion(%s) = %d, %v; want %d", v.Name, latest, err, v.Version-1)
			}
			return w.InsertPolicyVersion(v)
		}); err != nil {
			t.Fatalf("insert %s/%s v%d: %v", v.Tenant, v.Name, v.Version, err)
		}
	}
	got, err := r.PolicyVersion(ctx, TenantA, "payments", 2)
	if err != nil || got.Digest != "d2" || string(got.Source) != "name: payments\n# 2\n" || !got.Created.Equal(at) || got.Author != "key1" {
		t.Fatalf("PolicyVersion(payments, 2) = %+v, %v", got, err)
	}
	if _, err := r.PolicyVersion(ctx, TenantA, "payments", 3); !errors.Is(err, policy.ErrNoVersion) {
		t.Errorf("PolicyVersion(payments, 3) = %v, want ErrNoVersion", err)
	}
	if _, err := r.PolicyVersion(ctx, TenantB, "payments", 2); !errors.Is(err, policy.ErrNoVersion) {
		t.Errorf("PolicyVersion(%s, payments, 2) = %v, want ErrNoVersion (tenants are apart)", TenantB, err)
	}
	all, err := r.PolicyVersions(ctx, TenantA, "")
	if err != nil || len(all) != 3 || all[0].Name != "coding" || all[1].Version != 1 || all[2].Version != 2 {
		t.Errorf("PolicyVersions(%s, all) = %+v, %v; want coding v1, payments v1, v2", TenantA, all, err)
	}
	if one, err := r.PolicyVersions(ctx, TenantA, "payments"); err != nil || len(one) != 2 {
		t.Errorf("PolicyVersions(payments) = %d versions, %v; want 2", len(one), err)
	}
	err = policyWork(t, l, TenantA, func(w policy.VersionWriter) error {
		v, err := w.PolicyVersionByDigest("payments", "d2")
		if err != nil || v.Version != 2 {
			return fmt.Errorf("PolicyVersionByDigest(d2) = %+v, %v; want version 2", v, err)
		}
		if _, err := w.PolicyVersionByDigest("payments", "d9"); !errors.Is(err, policy.ErrNoVersion) {
			return fmt.Errorf("PolicyVersionByDigest(d9) = %v, want ErrNoVersion", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A duplicate version number is refused and rejected alone.
	if err := policyWork(t, l, TenantA, func(w policy.VersionWriter) error {
		return w.InsertPolicyVersion(version(TenantA, "payments", 2, "d4"))
	}); !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("insert of an existing version = %v, want ErrRejected", err)
	}
	if _, err := r.ActivePolicy(ctx, TenantA); !errors.Is(err, policy.ErrNoVersion) {
		t.Errorf("ActivePolicy before any activation = %v, want ErrNoVersion", err)
	}
	for _, a := range []policy.Active{{Name: "payments", Version: 1, Activated: at, By: "key1"}, {Name: "coding", Version: 1, Activated: at.Add(time.Second), By: "key2"}} {
		if err := policyWork(t, l, TenantA, func(w policy.VersionWriter) error { return w.SetActivePolicy(&a) }); err != nil {
			t.Fatalf("SetActivePolicy(%s v%d) = %v", a.Name, a.Version, err)
		}
	}
	act, err := r.ActivePolicy(ctx, TenantA)
	if err != nil || act.Name != "coding" || act.Version != 1 || act.By != "key2" || !act.Activated.Equal(at.Add(time.Second)) {
		t.Errorf("ActivePolicy = %+v, %v; want coding v1 by key2", act, err)
	}
	if err := policyWork(t, l, TenantA, func(w policy.VersionWriter) error {
		return w.SetActivePolicy(&policy.Active{Name: "payments", Version: 9, Activated: at, By: "key1"})
	}); !errors.Is(err, ledger.ErrRejected) || !errors.Is(err, policy.ErrNoVersion) {
		t.Errorf("activating a missing version = %v, want ErrRejected wrapping ErrNoVersion", err)
	}
	if act, _ := r.ActivePolicy(ctx, TenantA); act == nil || act.Name != "coding" {
		t.Errorf("a refused activation changed the active policy to %+v", act)
	}
	if _, err := r.ActivePolicy(ctx, TenantB); !errors.Is(err, policy.ErrNoVersion) {
		t.Errorf("ActivePolicy(%s) = %v, want ErrNoVersion (tenants are apart)", TenantB, err)
	}
}
