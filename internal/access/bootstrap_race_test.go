package access_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// replicaStore is what one simulated replica needs of its store handle.
type replicaStore interface {
	ledger.Store
	access.BootstrapStore
	access.KeyReader
}

// bootstrapRace runs Bootstrap from n goroutines at once, each with its own
// Ledger over stores[i%len(stores)] (handles of one database), and checks
// that exactly one owner and one admin key were made, each once, each
// after its tenant in that tenant's log.
func bootstrapRace(t *testing.T, stores []replicaStore, n int) {
	t.Helper()
	ctx := context.Background()
	skey, _, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		made []access.NewKeyInfo
		err  error
	}
	results := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		l, err := ledger.New(stores[i%len(stores)], ledger.Config{Origin: "warden", Signer: signer})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close(context.Background()) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i].made, results[i].err = access.Bootstrap(ctx, l, stores[i%len(stores)], rng(byte(i+1)), time.Now)
		}()
	}
	close(start)
	wg.Wait()

	var made []access.NewKeyInfo
	for i, r := range results {
		if r.err != nil {
			t.Errorf("Bootstrap(replica %d) = %v, want nil", i, r.err)
		}
		made = append(made, r.made...)
	}
	byRole := map[access.Role][]access.NewKeyInfo{}
	for _, k := range made {
		byRole[k.Role] = append(byRole[k.Role], k)
	}
	if len(made) != 2 || len(byRole[access.RoleOwner]) != 1 || len(byRole[access.RoleAdmin]) != 1 {
		t.Fatalf("%d concurrent Bootstraps returned %d keys %v, want one owner and one admin in all", n, len(made), roles(made))
	}
	if k := byRole[access.RoleOwner][0]; k.Tenant != ledger.SystemTenant {
		t.Errorf("owner key made in %q, want %q", k.Tenant, ledger.SystemTenant)
	}
	if k := byRole[access.RoleAdmin][0]; k.Tenant != access.DefaultTenant {
		t.Errorf("admin key made in %q, want %q", k.Tenant, access.DefaultTenant)
	}

	want := event.KindTenantCreated + "," + event.KindKeyCreated
	for i, st := range stores {
		for _, c := range []struct {
			tenant string
			role   access.Role
		}{{ledger.SystemTenant, access.RoleOwner}, {access.DefaultTenant, access.RoleAdmin}} {
			if got, err := st.CountKeys(ctx, c.tenant, c.role); err != nil || got != 1 {
				t.Errorf("handle %d: CountKeys(%s, %s) = %d, %v; want 1", i, c.tenant, c.role, got, err)
			}
			recs, err := st.Records(ctx, c.tenant, 0, 100, 100)
			if err != nil {
				t.Fatalf("handle %d: Records(%s) = %v", i, c.tenant, err)
			}
			var kinds []string
			for _, r := range recs {
				kinds = append(kinds, r.Kind)
			}
			if got := strings.Join(kinds, ","); got != want {
				t.Errorf("handle %d: log of %s = %s, want %s", i, c.tenant, got, want)
			}
		}
		// The key each winner printed is the key that was stored.
		for _, k := range made {
			got, err := access.Authenticate(ctx, st, k.Secret, time.Now())
			if err != nil || got.ID != k.ID || got.Role != k.Role || got.Tenant != k.Tenant {
				t.Errorf("handle %d: Authenticate(returned %s key %s) = %+v, %v; want that key", i, k.Role, k.ID, got, err)
			}
		}
	}
}

func roles(keys []access.NewKeyInfo) []string {
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s/%s", k.Role, k.Tenant))
	}
	return out
}

// rounds is how many fresh databases each race runs on.
func rounds() int {
	if testing.Short() {
		return 2
	}
	return 5
}

func TestBootstrapRaceSQLite(t *testing.T) {
	for round := range rounds() {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.db")
			var stores []replicaStore
			for range 2 { // the file opened twice: two processes' handles
				db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
				if err != nil {
					t.Fatalf("sqlite.Open(%s) = %v", path, err)
				}
				t.Cleanup(func() { db.Close() })
				stores = append(stores, db)
			}
			bootstrapRace(t, stores, 6)
		})
	}
}

func TestBootstrapRacePostgres(t *testing.T) {
	for round := range rounds() {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			ctx := context.Background()
			if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
				t.Fatalf("Migrate = %v", err)
			}
			var stores []replicaStore
			for range 2 { // two replicas' pools
				db, err := postgres.Open(ctx, dsn, postgres.Options{})
				if err != nil {
					t.Fatalf("postgres.Open = %v", err)
				}
				t.Cleanup(func() { db.Close() })
				stores = append(stores, db)
			}
			bootstrapRace(t, stores, 6)
		})
	}
}
