package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// accessWork appends an entry to tenant's log whose work runs fn on the
// store's access.Tx inside the append transaction. Work runs on the
// appender's goroutine, so fn returns failures rather than failing t.
func accessWork(l *ledger.Ledger, tenant string, fn func(w access.Tx) error) error {
	req := Req(0)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(access.Tx)
		if !ok {
			return fmt.Errorf("the store's transaction %T is not an access.Tx", tx)
		}
		return fn(w)
	}
	_, err := l.Append(context.Background(), tenant, req)
	return err
}

// testAccess: tenants and keys are written with their entries and read
// back whole (settings, groups, bindings, times to the microsecond), listed
// in id order page by page, kept per tenant; updates change what they
// name and nothing else; a tenant's status reaches its keys' lookups;
// last use never moves back; a failing entry leaves no change behind.
func testAccess(t *testing.T, h *harness) {
	ctx := context.Background()
	r, ok := h.Store.(access.Reader)
	if !ok {
		t.Fatal("the store is not an access.Reader")
	}
	l := h.Ledger(t, ledger.Config{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

	tenants := []access.Tenant{
		{ID: ledger.SystemTenant, Name: "Installation", Status: access.TenantActive, Created: at, Settings: access.DefaultSettings},
		{ID: TenantA, Name: "Acme", Status: access.TenantActive, Created: at.Add(time.Microsecond),
			Settings: access.Settings{RetentionDays: 30, PolicyApprovals: 2,
				DefaultApproval: policy.Approval{Groups: []string{"finance"}, Count: 2, Expires: "30m"}}},
		{ID: TenantB, Name: "Globex", Status: access.TenantActive, Created: at.Add(time.Second), Settings: access.DefaultSettings},
	}
	for _, tn := range tenants {
		err := accessWork(l, tn.ID, func(w access.Tx) error {
			if exists, err := w.TenantExists(tn.ID); err != nil || exists {
				return fmt.Errorf("TenantExists(%s) before its insert = %v, %v; want false, nil", tn.ID, exists, err)
			}
			return w.InsertTenant(&tn)
		})
		if err != nil {
			t.Fatalf("insert tenant %s: %v", tn.ID, err)
		}
	}
	for _, want := range tenants {
		if got, err := r.Tenant(ctx, want.ID); err != nil || !sameTenant(got, &want) {
			t.Errorf("Tenant(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
	if got, err := r.Tenant(ctx, "initech"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Tenant(initech) = %+v, %v; want access.ErrNotFound", got, err)
	}
	if all, err := r.TenantList(ctx, "", 10); err != nil || len(all) != len(tenants) ||
		!sameTenant(&all[0], &tenants[0]) || !sameTenant(&all[1], &tenants[1]) || !sameTenant(&all[2], &tenants[2]) {
		t.Errorf("TenantList(all) = %+v, %v; want %+v", all, err, tenants)
	}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 2, []string{ledger.SystemTenant, TenantA}},
		{TenantA, 2, []string{TenantB}},
		{"b", 1, []string{TenantB}},
		{TenantB, 2, nil},
	} {
		got, err := r.TenantList(ctx, tc.after, tc.limit)
		var ids []string
		for _, tn := range got {
			ids = append(ids, tn.ID)
		}
		if err != nil || !slices.Equal(ids, tc.want) {
			t.Errorf("TenantList(after=%q, limit=%d) = %v, %v; want %v", tc.after, tc.limit, ids, err, tc.want)
		}
	}

	rnd := rand.NewChaCha8([32]byte{11})
	newKey := func(tenant string, role access.Role, name string, groups, bindings []string, expires *time.Time) *access.Key {
		k, _, err := access.NewKey(rnd, tenant, role, name, at)
		if err != nil {
			t.Fatalf("NewKey(%s, %s) = %v, want nil", tenant, role, err)
		}
		k.Groups, k.Bindings, k.Expires = groups, bindings, expires
		return k
	}
	expires := at.Add(90*24*time.Hour + time.Microsecond)
	keysA := []*access.Key{
		newKey(TenantA, access.RoleAdmin, "admin", []string{"ops", "security"}, nil, nil),
		newKey(TenantA, access.RoleAgent, "agent", []string{"bots"}, []string{"agent-*", "billing"}, &expires),
		newKey(TenantA, access.RoleAuditor, "auditor", nil, nil, nil),
	}
	keyB := newKey(TenantB, access.RoleAdmin, "admin of b", nil, nil, nil)
	// A key whose tenant has no row is still found, with no status.
	orphan := newKey("hooli", access.RoleAdmin, "orphan", nil, nil, nil)
	for _, k := range append(slices.Clone(keysA), keyB, orphan) {
		if err := accessWork(l, k.Tenant, func(w access.Tx) error { return w.InsertKey(k) }); err != nil {
			t.Fatalf("insert key %s of %s: %v", k.ID, k.Tenant, err)
		}
	}
	for _, k := range append(slices.Clone(keysA), keyB, orphan) {
		wantStatus := access.TenantActive
		if k == orphan {
			wantStatus = ""
		}
		got, err := r.KeyByID(ctx, k.ID)
		if err != nil || !sameKey(got, k) || got.TenantStatus != wantStatus {
			t.Errorf("KeyByID(%s) = %s, %v; want %s with tenant status %q", k.ID, keyString(got), err, keyString(k), wantStatus)
		}
	}
	if got, err := r.KeyByID(ctx, "unknownkeyid"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("KeyByID(unknown) = %s, %v; want access.ErrNotFound", keyString(got), err)
	}
	sorted := slices.Clone(keysA)
	slices.SortFunc(sorted, func(a, b *access.Key) int { return strings.Compare(a.ID, b.ID) })
	wantKeys(t, r, TenantA, "", 2, sorted[:2])
	wantKeys(t, r, TenantA, sorted[1].ID, 2, sorted[2:])
	wantKeys(t, r, TenantA, sorted[2].ID, 2, nil)
	wantKeys(t, r, TenantB, "", 10, []*access.Key{keyB})

	// Last use only moves forward.
	admin, agent := keysA[0], keysA[1]
	used := at.Add(2 * time.Hour)
	for _, step := range []struct{ at, want time.Time }{
		{used, used},
		{used.Add(-time.Minute), used},
		{used.Add(time.Microsecond), used.Add(time.Microsecond)},
	} {
		if err := r.TouchKey(ctx, agent.ID, step.at); err != nil {
			t.Fatalf("TouchKey(%s, %s) = %v, want nil", agent.ID, step.at, err)
		}
		if got, err := r.KeyByID(ctx, agent.ID); err != nil || got.LastUsed == nil || !got.LastUsed.Equal(step.want) {
			t.Errorf("after TouchKey(%s): KeyByID = %s, %v; want last used %s", step.at, keyString(got), err, step.want)
		}
	}
	lastUsed := used.Add(time.Microsecond)
	agent.LastUsed = &lastUsed

	// Updates change role, name, groups, bindings, expiry and revocation.
	revoked, later := at.Add(3*time.Hour), at.Add(48*time.Hour)
	newAdmin, newAgent := *admin, *agent
	newAdmin.Name, newAdmin.Groups, newAdmin.Expires = "admin renamed", nil, &later
	newAgent.Role, newAgent.Name, newAgent.Groups, newAgent.Bindings = access.RoleOperator, "operator", []string{"oncall"}, nil
	newAgent.Expires, newAgent.Revoked = nil, &revoked
	err := accessWork(l, TenantA, func(w access.Tx) error {
		if got, err := w.KeyForUpdate(agent.ID); err != nil || !sameKey(got, agent) {
			return fmt.Errorf("KeyForUpdate(%s) = %s, %v; want %s", agent.ID, keyString(got), err, keyString(agent))
		}
		if got, err := w.KeyForUpdate(keyB.ID); !errors.Is(err, access.ErrNotFound) {
			return fmt.Errorf("KeyForUpdate(%s of %s) in %s = %s, %v; want access.ErrNotFound", keyB.ID, TenantB, TenantA, keyString(got), err)
		}
		if n, err := w.CountKeys(TenantA, access.RoleAgent); err != nil || n != 1 {
			return fmt.Errorf("CountKeys(%s, agent) = %d, %v; want 1", TenantA, n, err)
		}
		if err := w.UpdateKey(&newAdmin); err != nil {
			return err
		}
		return w.UpdateKey(&newAgent)
	})
	if err != nil {
		t.Fatalf("update keys: %v", err)
	}
	for _, want := range []*access.Key{&newAdmin, &newAgent} {
		if got, err := r.KeyByID(ctx, want.ID); err != nil || !sameKey(got, want) {
			t.Errorf("KeyByID(%s) after UpdateKey = %s, %v; want %s", want.ID, keyString(got), err, keyString(want))
		}
	}
	// Another tenant's key is neither inserted nor changed.
	newB, otherB := newKey(TenantB, access.RoleAdmin, "b", nil, nil, nil), *keyB
	otherB.Name = "changed from " + TenantA
	for _, tc := range []struct {
		name string
		fn   func(access.Tx) error
	}{
		{"InsertKey", func(w access.Tx) error { return w.InsertKey(newB) }},
		{"UpdateKey", func(w access.Tx) error { return w.UpdateKey(&otherB) }},
	} {
		if err := accessWork(l, TenantA, tc.fn); err == nil {
			t.Errorf("%s of a %s key in the log of %s = nil, want an error", tc.name, TenantB, TenantA)
		}
	}
	wantKeys(t, r, TenantB, "", 10, []*access.Key{keyB})

	// A tenant's status and settings, its status seen with its keys.
	suspended := tenants[1]
	suspended.Status, suspended.Settings = access.TenantSuspended, access.Settings{RetentionDays: 3650, PolicyApprovals: 0,
		DefaultApproval: policy.Approval{Groups: []string{"ops"}, Count: 3, Expires: "2h"}}
	err = accessWork(l, TenantA, func(w access.Tx) error {
		if got, err := w.TenantForUpdate(); err != nil || !sameTenant(got, &tenants[1]) {
			return fmt.Errorf("TenantForUpdate() = %+v, %v; want %+v", got, err, tenants[1])
		}
		if err := w.SetTenantStatus(access.TenantSuspended); err != nil {
			return err
		}
		return w.SetTenantSettings(suspended.Settings)
	})
	if err != nil {
		t.Fatalf("suspend %s: %v", TenantA, err)
	}
	if got, err := r.Tenant(ctx, TenantA); err != nil || !sameTenant(got, &suspended) {
		t.Errorf("Tenant(%s) = %+v, %v; want %+v", TenantA, got, err, suspended)
	}
	if got, err := r.KeyByID(ctx, admin.ID); err != nil || got.TenantStatus != access.TenantSuspended {
		t.Errorf("KeyByID(%s) = %s, %v; want tenant status %q", admin.ID, keyString(got), err, access.TenantSuspended)
	}
	if got, err := r.KeyByID(ctx, keyB.ID); err != nil || got.TenantStatus != access.TenantActive {
		t.Errorf("KeyByID(%s) = %s, %v; want tenant status %q (tenants are apart)", keyB.ID, keyString(got), err, access.TenantActive)
	}
	if got, err := r.Tenant(ctx, TenantB); err != nil || !sameTenant(got, &tenants[2]) {
		t.Errorf("Tenant(%s) = %+v, %v; want %+v (tenants are apart)", TenantB, got, err, tenants[2])
	}

	// A failing entry leaves none of its changes behind.
	extra := newKey(TenantA, access.RoleAuditor, "undone", nil, nil, nil)
	undone := newAdmin
	undone.Name, undone.Revoked = "undone", &revoked
	err = accessWork(l, TenantA, func(w access.Tx) error {
		if err := w.InsertKey(extra); err != nil {
			return err
		}
		if err := w.UpdateKey(&undone); err != nil {
			return err
		}
		if err := w.SetTenantStatus(access.TenantActive); err != nil {
			return err
		}
		if err := w.SetTenantSettings(access.DefaultSettings); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("failing access work = %v, want %v", err, errBoom)
	}
	newTenant := access.Tenant{ID: "initech", Name: "Initech", Status: access.TenantActive, Created: at, Settings: access.DefaultSettings}
	firstKey := newKey(newTenant.ID, access.RoleAdmin, "undone", nil, nil, nil)
	err = accessWork(l, newTenant.ID, func(w access.Tx) error {
		if err := w.InsertTenant(&newTenant); err != nil {
			return err
		}
		if err := w.InsertKey(firstKey); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("failing tenant creation = %v, want %v", err, errBoom)
	}
	if got, err := r.KeyByID(ctx, extra.ID); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("KeyByID(%s) of a failed entry = %s, %v; want access.ErrNotFound", extra.ID, keyString(got), err)
	}
	if got, err := r.KeyByID(ctx, admin.ID); err != nil || !sameKey(got, &newAdmin) {
		t.Errorf("KeyByID(%s) after a failed update = %s, %v; want %s", admin.ID, keyString(got), err, keyString(&newAdmin))
	}
	if got, err := r.Tenant(ctx, TenantA); err != nil || !sameTenant(got, &suspended) {
		t.Errorf("Tenant(%s) after a failed update = %+v, %v; want %+v", TenantA, got, err, suspended)
	}
	if got, err := r.Tenant(ctx, newTenant.ID); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Tenant(%s) of a failed entry = %+v, %v; want access.ErrNotFound", newTenant.ID, got, err)
	}
	if got, err := r.Keys(ctx, newTenant.ID, "", 10); err != nil || len(got) != 0 {
		t.Errorf("Keys(%s) of a failed entry = %d keys, %v; want none", newTenant.ID, len(got), err)
	}
	if got, err := r.TenantList(ctx, "", 10); err != nil || len(got) != len(tenants) {
		t.Errorf("TenantList() after a failed creation = %d tenants, %v; want %d", len(got), err, len(tenants))
	}
	wantKeys(t, r, TenantA, "", 10, []*access.Key{&newAdmin, &newAgent, keysA[2]})
}

// wantKeys checks a page of tenant's keys: the ids of want in id order,
// each read back whole.
func wantKeys(t *testing.T, r access.Reader, tenant, after string, limit int, want []*access.Key) {
	t.Helper()
	want = slices.Clone(want)
	slices.SortFunc(want, func(a, b *access.Key) int { return strings.Compare(a.ID, b.ID) })
	got, err := r.Keys(context.Background(), tenant, after, limit)
	if err != nil {
		t.Fatalf("Keys(%s, after=%q, limit=%d) = %v, want nil", tenant, after, limit, err)
	}
	var gotIDs, wantIDs []string
	for i := range got {
		gotIDs = append(gotIDs, got[i].ID)
	}
	for _, k := range want {
		wantIDs = append(wantIDs, k.ID)
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Fatalf("Keys(%s, after=%q, limit=%d) = %v, want %v", tenant, after, limit, gotIDs, wantIDs)
	}
	for i := range got {
		if !sameKey(&got[i], want[i]) {
			t.Errorf("Keys(%s)[%d] = %s, want %s", tenant, i, keyString(&got[i]), keyString(want[i]))
		}
	}
}

// sameKey reports whether a stored key reads back as want, apart from its
// tenant's status. An empty list MUST read back as nil.
func sameKey(got, want *access.Key) bool {
	return got != nil && got.ID == want.ID && got.Tenant == want.Tenant && got.Role == want.Role &&
		got.Name == want.Name && got.Hash == want.Hash && got.Created.Equal(want.Created) &&
		slices.Equal(got.Groups, want.Groups) && (got.Groups == nil) == (len(want.Groups) == 0) &&
		slices.Equal(got.Bindings, want.Bindings) && (got.Bindings == nil) == (len(want.Bindings) == 0) &&
		sameTime(got.Expires, want.Expires) && sameTime(got.Revoked, want.Revoked) && sameTime(got.LastUsed, want.LastUsed)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func sameTenant(got, want *access.Tenant) bool {
	return got != nil && got.ID == want.ID && got.Name == want.Name && got.Status == want.Status &&
		got.Created.Equal(want.Created) && reflect.DeepEqual(got.Settings, want.Settings)
}

// keyString shows what a key carries, without its hash.
func keyString(k *access.Key) string {
	if k == nil {
		return "<nil>"
	}
	opt := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("{%s %s %s %q groups %q bindings %q created %s expires %s revoked %s used %s tenant %q}",
		k.ID, k.Tenant, k.Role, k.Name, k.Groups, k.Bindings, k.Created.Format(time.RFC3339Nano),
		opt(k.Expires), opt(k.Revoked), opt(k.LastUsed), k.TenantStatus)
}
