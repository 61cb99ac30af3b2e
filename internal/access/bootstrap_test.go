package access_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

func newLedger(t *testing.T) (*ledger.Ledger, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	skey, _, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l, db
}

func rng(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func kinds(t *testing.T, db *sqlite.DB, tenant string) []string {
	t.Helper()
	recs, err := db.Records(context.Background(), tenant, 0, 100, 100)
	if err != nil {
		t.Fatalf("Records(%s) = %v", tenant, err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Kind)
	}
	return out
}

func TestBootstrapFirstStart(t *testing.T) {
	ctx := context.Background()
	l, db := newLedger(t)
	made, err := access.Bootstrap(ctx, l, db, rng(7), time.Now)
	if err != nil {
		t.Fatalf("Bootstrap = %v, want nil", err)
	}
	if len(made) != 2 || made[0].Role != access.RoleOwner || made[0].Tenant != ledger.SystemTenant ||
		made[1].Role != access.RoleAdmin || made[1].Tenant != access.DefaultTenant {
		t.Fatalf("Bootstrap made %+v, want an owner key in _system and an admin key in default", made)
	}
	want := []string{event.KindTenantCreated, event.KindKeyCreated}
	for _, tenant := range []string{ledger.SystemTenant, access.DefaultTenant} {
		if got := kinds(t, db, tenant); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("log of %s = %v, want %v", tenant, got, want)
		}
	}
	for _, k := range made {
		got, err := access.Authenticate(ctx, db, k.Secret, time.Now())
		if err != nil || got.Role != k.Role || got.Tenant != k.Tenant {
			t.Errorf("Authenticate(%s key) = %v, %v", k.Role, got, err)
		}
		stored, _ := db.KeyByID(ctx, k.ID)
		recs, _ := db.Records(ctx, k.Tenant, 0, 10, 10)
		for _, r := range recs {
			_, secret, _ := access.ParseKey(k.Secret)
			if bytes.Contains(r.Data, []byte(secret)) || bytes.Contains(r.Data, []byte(hex.EncodeToString(stored.Hash[:]))) {
				t.Errorf("entry %d of %s holds the key's secret or hash", r.Seq, k.Tenant)
			}
		}
	}
}

func TestBootstrapIsIdempotent(t *testing.T) {
	ctx := context.Background()
	l, db := newLedger(t)
	if _, err := access.Bootstrap(ctx, l, db, rng(1), time.Now); err != nil {
		t.Fatal(err)
	}
	made, err := access.Bootstrap(ctx, l, db, rng(2), time.Now)
	if err != nil || len(made) != 0 {
		t.Fatalf("second Bootstrap = %v, %v; want no new keys", made, err)
	}
	if got := kinds(t, db, access.DefaultTenant); len(got) != 2 {
		t.Errorf("log of default has %d entries after a second bootstrap, want 2", len(got))
	}
}

// A crash after the tenant's entry but before its key's: the next start
// makes only the key.
func TestBootstrapResumes(t *testing.T) {
	ctx := context.Background()
	l, db := newLedger(t)
	tn := &access.Tenant{ID: access.DefaultTenant, Name: "Default", Status: access.TenantActive, Created: time.Now()}
	req, err := event.New(event.KindTenantCreated, event.ActorSystem, &event.TenantCreated{TenantID: tn.ID, Name: tn.Name})
	if err != nil {
		t.Fatal(err)
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error { return tx.(access.TenantWriter).InsertTenant(tn) }
	if _, err := l.Append(ctx, tn.ID, req); err != nil {
		t.Fatal(err)
	}
	made, err := access.Bootstrap(ctx, l, db, rng(3), time.Now)
	if err != nil || len(made) != 2 {
		t.Fatalf("Bootstrap = %v, %v; want the owner and the admin key", made, err)
	}
	want := "tenant.created,key.created"
	if got := strings.Join(kinds(t, db, access.DefaultTenant), ","); got != want {
		t.Errorf("log of default = %s, want %s", got, want)
	}
}
