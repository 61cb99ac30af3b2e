package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

func newManager(t *testing.T) (*policy.Manager, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	skey, _, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(ctx) })
	return &policy.Manager{Ledger: l, Store: db}, db
}

func kinds(t *testing.T, db *sqlite.DB) []string {
	t.Helper()
	recs, err := db.Records(context.Background(), "acme", 0, 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Kind)
	}
	return out
}

func TestManagerPushActivateCurrent(t *testing.T) {
	ctx := context.Background()
	m, db := newManager(t)
	if _, _, err := m.Current(ctx, "acme"); !errors.Is(err, policy.ErrNoVersion) {
		t.Fatalf("Current before any activation = %v, want ErrNoVersion", err)
	}
	v1, created, err := m.Push(ctx, "acme", "key1", []byte("name: p\nrules: [{id: a, effect: allow}]\n"))
	if err != nil || !created || v1.Version != 1 {
		t.Fatalf("Push = %+v, %v, %v; want version 1 created", v1, created, err)
	}
	same, created, err := m.Push(ctx, "acme", "key2", []byte(`{"name": "p", "rules": [{"effect": "allow", "id": "a"}]}`))
	if err != nil || created || same.Version != 1 || same.Author != "key1" {
		t.Fatalf("Push(same content, other spelling) = %+v, %v, %v; want the existing version 1", same, created, err)
	}
	v2, created, err := m.Push(ctx, "acme", "key1", []byte("name: p\nrules: [{id: a, effect: deny}]\n"))
	if err != nil || !created || v2.Version != 2 {
		t.Fatalf("Push(changed) = %+v, %v, %v; want version 2", v2, created, err)
	}
	if _, _, err := m.Push(ctx, "acme", "key1", []byte("name: p\nrules: [{id: a, effect: maybe}]\n")); !errors.Is(err, policy.ErrInvalid) {
		t.Errorf("Push(invalid) = %v, want ErrInvalid", err)
	}
	if _, err := m.Activate(ctx, "acme", "key1", "p", 3); !errors.Is(err, policy.ErrNoVersion) {
		t.Errorf("Activate(missing) = %v, want ErrNoVersion", err)
	}
	for _, n := range []int64{1, 2} {
		if _, err := m.Activate(ctx, "acme", "key1", "p", n); err != nil {
			t.Fatalf("Activate(%d) = %v", n, err)
		}
		p, version, err := m.Current(ctx, "acme")
		if err != nil || version != n || p.Name != "p" {
			t.Fatalf("Current after activating %d = %v, %d, %v", n, p, version, err)
		}
	}
	want := "policy.version,policy.version,policy.activated,policy.activated"
	if got := strings.Join(kinds(t, db), ","); got != want {
		t.Errorf("log = %s, want %s (an identical or invalid push writes nothing)", got, want)
	}
	recs, _ := db.Records(ctx, "acme", 3, 4, 1)
	e, _ := ledger.Parse(recs[0].Data)
	var act event.PolicyActivated
	if err := json.Unmarshal(e.Body, &act); err != nil || act.Version != 2 || act.Previous == nil || act.Previous.Version != 1 || act.Digest != v2.Digest {
		t.Errorf("second activation entry = %s, want version 2 after 1 with its digest", e.Body)
	}
}

func TestManagerEnsureActive(t *testing.T) {
	ctx := context.Background()
	m, db := newManager(t)
	for i := 0; i < 2; i++ {
		if err := m.EnsureActive(ctx, "acme", event.ActorSystem, policy.BuiltinDefault()); err != nil {
			t.Fatalf("EnsureActive #%d = %v", i+1, err)
		}
	}
	if got := strings.Join(kinds(t, db), ","); got != "policy.version,policy.activated" {
		t.Errorf("log after two EnsureActive = %s, want one version and one activation", got)
	}
	p, _, err := m.Current(ctx, "acme")
	if err != nil || p.Name != "builtin-default" {
		t.Fatalf("Current = %v, %v; want the built-in default", p, err)
	}
	d := p.Evaluate(&policy.Input{Request: &policy.Request{Principal: policy.Principal{ID: "x", Type: "agent"}, Action: policy.Action{Type: "payments.refund"}}})
	if d.Effect != policy.Deny || !d.Default {
		t.Errorf("built-in default on an unknown action = %s (default %v), want deny by default", d.Effect, d.Default)
	}
}
