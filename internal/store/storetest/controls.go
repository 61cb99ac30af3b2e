package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/ledger"
)

// controlsWork appends an entry to tenant's log whose work runs fn on the
// store's controls.Tx inside the append transaction. Work runs on the
// appender's goroutine, so fn returns failures rather than failing t.
func controlsWork(l *ledger.Ledger, tenant string, fn func(tx controls.Tx) error) error {
	req := Req(0)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		ct, ok := tx.(controls.Tx)
		if !ok {
			return fmt.Errorf("the store's transaction %T is not a controls.Tx", tx)
		}
		return fn(ct)
	}
	_, err := l.Append(context.Background(), tenant, req)
	return err
}

// normControls returns copies of cs that reflect.DeepEqual can hold
// against others: times in UTC without monotonic readings, none nil.
func normControls(cs []controls.Control) []controls.Control {
	out := []controls.Control{}
	for _, c := range cs {
		c.Created = c.Created.UTC().Round(0)
		if c.Expires != nil {
			e := c.Expires.UTC().Round(0)
			c.Expires = &e
		}
		out = append(out, c)
	}
	return out
}

// wantControls checks the version and switches a transaction sees.
func wantControls(tx controls.Tx, version int64, want ...controls.Control) error {
	v, err := tx.ControlsVersion()
	if err != nil || v != version {
		return fmt.Errorf("ControlsVersion() = %d, %v; want %d, nil", v, err, version)
	}
	got, err := tx.Controls()
	if err != nil {
		return fmt.Errorf("Controls() = %w", err)
	}
	if g, w := normControls(got), normControls(want); !reflect.DeepEqual(g, w) {
		return fmt.Errorf("Controls() = %+v, want %+v", g, w)
	}
	return nil
}

// testControls: a tenant's controls version starts at 0 and every insert
// and clear raises it by one, in the transaction that makes the change
// and for every later one; Controls lists, in id order, the switches of
// the transaction's tenant that are not cleared, field for field (times
// to the microsecond); clearing an unknown or cleared switch is
// controls.ErrNotFound; TenantControls agrees with the transaction's
// view; tenants are apart; a failing entry or transaction changes
// neither the version nor the switches; all of it survives a reopen.
func testControls(t *testing.T, h *harness) {
	ctx := context.Background()
	r, ok := h.Store.(controls.Reader)
	if !ok {
		t.Fatal("the store is not a controls.Reader")
	}
	l := h.Ledger(t, ledger.Config{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	run := func(tenant, what string, fn func(tx controls.Tx) error) {
		t.Helper()
		if err := controlsWork(l, tenant, fn); err != nil {
			t.Fatalf("%s in %s: %v", what, tenant, err)
		}
	}
	// want checks tenant's version and switches, in a transaction and
	// through the Reader.
	want := func(tenant string, version int64, cs ...controls.Control) {
		t.Helper()
		run(tenant, "read controls", func(tx controls.Tx) error { return wantControls(tx, version, cs...) })
		v, got, err := r.TenantControls(ctx, tenant)
		if err != nil || v != version {
			t.Fatalf("TenantControls(%s) = %d, %v; want %d, nil", tenant, v, err, version)
		}
		if g, w := normControls(got), normControls(cs); !reflect.DeepEqual(g, w) {
			t.Errorf("TenantControls(%s) = %+v, want %+v", tenant, g, w)
		}
	}
	newControl := func(tenant, id string) controls.Control {
		return controls.Control{ID: id, Tenant: tenant, Scope: controls.Scope{Agent: "billing-*"}, Effect: controls.Deny,
			Reason: "incident 7", Created: at, By: "key_ops"}
	}

	want(TenantA, 0)
	want(TenantB, 0)

	// Every field comes back; ids order the list, not insertion.
	expires := at.Add(90 * time.Minute)
	full := controls.Control{ID: "ctl_03", Tenant: TenantA,
		Scope:  controls.Scope{Agent: "billing-*", Action: "stripe.*", Session: "sess_42"},
		Effect: controls.RequireApproval, Reason: "Spend spike — ünïcode reason", Expires: &expires,
		Created: at.Add(time.Microsecond), By: "key_admin"}
	c1, c2 := newControl(TenantA, "ctl_01"), newControl(TenantA, "ctl_02")
	c2.Scope = controls.Scope{}
	run(TenantA, "InsertControl(ctl_03)", func(tx controls.Tx) error {
		if err := tx.InsertControl(&full); err != nil {
			return fmt.Errorf("InsertControl(ctl_03) = %w", err)
		}
		// The transaction sees its own change.
		return wantControls(tx, 1, full)
	})
	want(TenantA, 1, full)
	want(TenantB, 0)
	run(TenantA, "InsertControl(ctl_01, ctl_02)", func(tx controls.Tx) error {
		if err := tx.InsertControl(&c1); err != nil {
			return fmt.Errorf("InsertControl(ctl_01) = %w", err)
		}
		if err := tx.InsertControl(&c2); err != nil {
			return fmt.Errorf("InsertControl(ctl_02) = %w", err)
		}
		return wantControls(tx, 3, c1, c2, full)
	})
	want(TenantA, 3, c1, c2, full)

	// An id is used once, and a switch goes into its own tenant's log only.
	if err := controlsWork(l, TenantA, func(tx controls.Tx) error {
		dup := newControl(TenantA, "ctl_01")
		return tx.InsertControl(&dup)
	}); !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("InsertControl(an existing id) = %v, want ErrRejected", err)
	}
	if err := controlsWork(l, TenantA, func(tx controls.Tx) error {
		stray := newControl(TenantB, "ctl_99")
		return tx.InsertControl(&stray)
	}); !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("InsertControl(of %s, in %s) = %v, want ErrRejected", TenantB, TenantA, err)
	}
	want(TenantA, 3, c1, c2, full)

	// Clearing raises the version and drops the switch from the list.
	run(TenantA, "ClearControl(ctl_02)", func(tx controls.Tx) error {
		if err := tx.ClearControl("ctl_02", at.Add(time.Minute)); err != nil {
			return fmt.Errorf("ClearControl(ctl_02) = %w", err)
		}
		return wantControls(tx, 4, c1, full)
	})
	want(TenantA, 4, c1, full)
	for _, id := range []string{"ctl_02", "ctl_77"} {
		if err := controlsWork(l, TenantA, func(tx controls.Tx) error { return tx.ClearControl(id, at) }); !errors.Is(err, controls.ErrNotFound) {
			t.Errorf("ClearControl(%s) = %v, want controls.ErrNotFound", id, err)
		}
	}
	want(TenantA, 4, c1, full)

	// Tenants are apart: the same id in another tenant is another switch,
	// and one tenant cannot clear another's.
	other := newControl(TenantB, "ctl_01")
	other.Reason = "other tenant"
	run(TenantB, "InsertControl(ctl_01)", func(tx controls.Tx) error { return tx.InsertControl(&other) })
	want(TenantB, 1, other)
	want(TenantA, 4, c1, full)
	if err := controlsWork(l, TenantB, func(tx controls.Tx) error { return tx.ClearControl("ctl_03", at) }); !errors.Is(err, controls.ErrNotFound) {
		t.Errorf("ClearControl(%s's ctl_03, in %s) = %v, want controls.ErrNotFound", TenantA, TenantB, err)
	}
	run(TenantB, "ClearControl(ctl_01)", func(tx controls.Tx) error { return tx.ClearControl("ctl_01", at) })
	want(TenantB, 2)
	want(TenantA, 4, c1, full)

	// A failing entry, or transaction, changes nothing.
	change := func(tx controls.Tx) error {
		c4 := newControl(TenantA, "ctl_04")
		if err := tx.InsertControl(&c4); err != nil {
			return err
		}
		if err := tx.ClearControl("ctl_01", at.Add(2*time.Minute)); err != nil {
			return err
		}
		return wantControls(tx, 6, full, c4)
	}
	err := controlsWork(l, TenantA, func(tx controls.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, ledger.ErrRejected) || !errors.Is(err, errBoom) {
		t.Fatalf("Append(work changes switches, then fails) = %v, want ErrRejected wrapping %v", err, errBoom)
	}
	err = h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
		ct, ok := tx.(controls.Tx)
		if !ok {
			return fmt.Errorf("the store's transaction %T is not a controls.Tx", tx)
		}
		if err := change(ct); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Store.Append(changes switches, then fails) = %v, want %v", err, errBoom)
	}
	want(TenantA, 4, c1, full)

	if err := l.Close(ctx); err != nil {
		t.Fatalf("Ledger.Close() = %v, want nil", err)
	}
	h.Reopen(t)
	r = h.Store.(controls.Reader)
	l = h.Ledger(t, ledger.Config{})
	want(TenantA, 4, c1, full)
	want(TenantB, 2)
	h.Verify(t, TenantA)
	h.Verify(t, TenantB)
}
