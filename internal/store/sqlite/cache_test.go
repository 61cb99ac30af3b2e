package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// lockDBEnv names the database TestLockChild holds; set only in the child.
const lockDBEnv = "WARDEN_LOCK_DB"

var (
	errBoom = errors.New("boom")
	cacheAt = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
)

// needLocks skips t where the platform has no file locks: there an
// Exclusive open neither locks nor caches.
func needLocks(t *testing.T) {
	t.Helper()
	f, err := lockStore(filepath.Join(t.TempDir(), "probe.db"))
	if errors.Is(err, errNoLock) {
		t.Skip("no file locks on this platform")
	}
	if err != nil {
		t.Fatalf("lockStore(probe) = %v, want nil", err)
	}
	f.Close()
}

// openExclusive opens a new Exclusive store, which caches.
func openExclusive(t *testing.T) *DB {
	t.Helper()
	needLocks(t)
	db := mustOpen(t, filepath.Join(t.TempDir(), "warden.db"), Options{Exclusive: true})
	if db.cache == nil {
		t.Fatal("Exclusive Open made no cache")
	}
	return db
}

// inTx runs fn on the append transaction of tenant seen as T (access.Tx,
// policy.VersionWriter, controls.Tx). It writes state rows only, no entry.
func inTx[T any](db *DB, tenant string, fn func(T) error) error {
	return db.Append(context.Background(), tenant, func(tx ledger.Tx) error {
		w, ok := tx.(T)
		if !ok {
			return fmt.Errorf("append Tx %T is not a %v", tx, reflect.TypeFor[T]())
		}
		return fn(w)
	})
}

func mustTx[T any](t *testing.T, db *DB, tenant, what string, fn func(T) error) {
	t.Helper()
	if err := inTx(db, tenant, fn); err != nil {
		t.Fatalf("Append(%s) = %v, want nil", what, err)
	}
}

// newKeyGen returns a source of distinct agent keys of tenant, seeded
// with its name so that the keys of tenants differ too.
func newKeyGen(t *testing.T, tenant string) func() *access.Key {
	var seed [32]byte
	copy(seed[:], tenant)
	r := rand.NewChaCha8(seed)
	n := 0
	return func() *access.Key {
		t.Helper()
		n++
		k, _, err := access.NewKey(r, tenant, access.RoleAgent, fmt.Sprintf("agent %d", n), cacheAt)
		if err != nil {
			t.Fatalf("NewKey(%d) = %v, want nil", n, err)
		}
		k.Bindings = []string{"billing-*"}
		return k
	}
}

func newTenant(id string) *access.Tenant {
	return &access.Tenant{ID: id, Name: id, Status: access.TenantActive, Created: cacheAt, Settings: access.DefaultSettings}
}

// keyText shows every field of a key, times in UTC, for comparisons.
func keyText(k *access.Key) string {
	if k == nil {
		return "<nil>"
	}
	at := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s/%s role=%s name=%q groups=%q bindings=%q hash=%x created=%s expires=%s revoked=%s used=%s tenant=%q",
		k.Tenant, k.ID, k.Role, k.Name, k.Groups, k.Bindings, k.Hash[:4], at(&k.Created), at(k.Expires), at(k.Revoked),
		at(k.LastUsed), k.TenantStatus)
}

// storedKey reads key id from the database, past the cache.
func storedKey(t *testing.T, db *DB, id string) *access.Key {
	t.Helper()
	k, err := scanKey(db.queryRow(context.Background(), sqlKeyByID, id), id)
	if err != nil {
		t.Fatalf("read key %s from the database = %v, want nil", id, err)
	}
	return k
}

// wantKey checks that KeyByID returns want, twice (the second time from
// the cache if the first kept it), and that want is what is stored.
func wantKey(t *testing.T, db *DB, want *access.Key) {
	t.Helper()
	for i := range 2 {
		got, err := db.KeyByID(context.Background(), want.ID)
		if err != nil || keyText(got) != keyText(want) {
			t.Fatalf("KeyByID(%s) call %d = %s, %v;\nwant %s", want.ID, i, keyText(got), err, keyText(want))
		}
	}
	if got := storedKey(t, db, want.ID); keyText(got) != keyText(want) {
		t.Fatalf("stored key %s = %s;\nwant %s", want.ID, keyText(got), keyText(want))
	}
}

func wantKeyCached(t *testing.T, db *DB, id string) {
	t.Helper()
	if _, ok := db.cache.key(id); !ok {
		t.Fatalf("key %s is not cached after KeyByID; the test would not exercise the cache", id)
	}
}

// TestLockExclusive: an Exclusive open locks the store against another
// Exclusive open, but not against plain and read-only opens; a refused
// open or closing the others does not release the lock; Close does, and
// the lock file it leaves behind does not block the next open.
func TestLockExclusive(t *testing.T) {
	needLocks(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	first := mustOpen(t, path, Options{Exclusive: true})
	refused := func(when string) {
		t.Helper()
		db, err := Open(ctx, path, Options{Exclusive: true})
		if err == nil {
			db.Close()
			t.Fatalf("%s: second Open(Exclusive) = nil, want ErrInUse", when)
		}
		if !errors.Is(err, ErrInUse) {
			t.Fatalf("%s: second Open(Exclusive) = %v, want ErrInUse", when, err)
		}
	}
	refused("while held")
	refused("after a refused open")

	others := []struct {
		name string
		opts Options
	}{
		{"plain", Options{}},
		{"read-only", Options{ReadOnly: true}},
		{"read-only exclusive", Options{ReadOnly: true, Exclusive: true}},
	}
	for _, o := range others {
		db, err := Open(ctx, path, o.opts)
		if err != nil {
			t.Fatalf("Open(%s) while an Exclusive open holds the store = %v, want nil", o.name, err)
		}
		if db.cache != nil {
			t.Errorf("Open(%s) made a cache, want none: it is not the only writer", o.name)
		}
		if _, err := db.Head(ctx, tenant); err != nil {
			t.Errorf("Open(%s).Head() = %v, want nil", o.name, err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Open(%s).Close() = %v, want nil", o.name, err)
		}
	}
	refused("after the other opens closed")

	if err := first.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Fatalf("stat lock file after Close = %v; the test expects it left behind", err)
	}
	again := mustOpen(t, path, Options{Exclusive: true})
	if again.cache == nil {
		t.Error("Exclusive Open after Close made no cache")
	}
	refused("after reopening")
}

// TestLockChild holds the store Exclusive for TestLockExclusiveAcrossProcesses
// until it is killed or its stdin closes.
func TestLockChild(t *testing.T) {
	path := os.Getenv(lockDBEnv)
	if path == "" {
		t.Skip("the child of TestLockExclusiveAcrossProcesses; runs only when started by it")
	}
	db, err := Open(context.Background(), path, Options{Exclusive: true})
	if err != nil {
		fmt.Printf("open: %v\n", err)
		os.Exit(2)
	}
	defer db.Close()
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n') // the parent holds stdin open
}

// TestLockExclusiveAcrossProcesses: another process's Exclusive open
// refuses this one's, and its crash releases the lock.
func TestLockExclusiveAcrossProcesses(t *testing.T) {
	needLocks(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	mustOpen(t, path, Options{}).Close() // migrated before the child races for it

	c := startChild(t, "TestLockChild", lockDBEnv+"="+path)
	defer c.stdin.Close()
	cmd, stderr := c.cmd, c.stderr
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(c.stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("child said %q, %v; want locked\nstderr: %s", line, err, stderr.String())
	}

	if db, err := Open(ctx, path, Options{Exclusive: true}); !errors.Is(err, ErrInUse) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open(Exclusive) while another process holds the store = %v, want ErrInUse", err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	db, err := Open(ctx, path, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("Open(Exclusive) after the holder was killed = %v, want nil", err)
	}
	db.Close()
}

// TestCacheKeyInvalidation: a change to a cached key, or to its tenant,
// shows in the first KeyByID after the Append that made it returns; a
// transaction that fails leaves the stored value; and a read made while
// the transaction runs (which sees the old value) does not outlive it.
func TestCacheKeyInvalidation(t *testing.T) {
	revokedAt := cacheAt.Add(time.Hour)
	tests := []struct {
		name     string
		noTenant bool // the key is stored before its tenant
		// change changes k, a copy of the key as read, into what it
		// should read afterwards, and writes the change.
		change func(w access.Tx, k *access.Key) error
	}{
		{"revoke", false, func(w access.Tx, k *access.Key) error {
			k.Revoked = &revokedAt
			return w.UpdateKey(k)
		}},
		{"role, groups and bindings", false, func(w access.Tx, k *access.Key) error {
			k.Role, k.Groups, k.Bindings = access.RoleOperator, []string{"oncall"}, nil
			return w.UpdateKey(k)
		}},
		{"suspend tenant", false, func(w access.Tx, k *access.Key) error {
			k.TenantStatus = access.TenantSuspended
			return w.SetTenantStatus(access.TenantSuspended)
		}},
		{"create tenant", true, func(w access.Tx, k *access.Key) error {
			k.TenantStatus = access.TenantActive
			return w.InsertTenant(newTenant(k.Tenant))
		}},
	}
	// One store serves every subtest, each in a tenant of its own.
	db := openExclusive(t)
	n := 0
	for _, tc := range tests {
		for _, commit := range []bool{true, false} {
			for _, readInside := range []bool{false, true} {
				name := fmt.Sprintf("%s/commit=%t/read in tx=%t", tc.name, commit, readInside)
				n++
				tenant := fmt.Sprintf("tenant-%d", n)
				t.Run(name, func(t *testing.T) {
					ctx := context.Background()
					k := newKeyGen(t, tenant)()
					mustTx(t, db, tenant, "insert key", func(w access.Tx) error {
						if !tc.noTenant {
							if err := w.InsertTenant(newTenant(tenant)); err != nil {
								return err
							}
						}
						return w.InsertKey(k)
					})
					before := storedKey(t, db, k.ID)
					wantKey(t, db, before)
					wantKeyCached(t, db, k.ID)

					want := *before
					err := inTx(db, tenant, func(w access.Tx) error {
						if err := tc.change(w, &want); err != nil {
							return err
						}
						if readInside {
							// Uncommitted: the old value, which the cache may keep
							// only until the transaction ends.
							got, err := db.KeyByID(ctx, k.ID)
							if err != nil || keyText(got) != keyText(before) {
								return fmt.Errorf("KeyByID inside the tx = %s, %v; want %s", keyText(got), err, keyText(before))
							}
						}
						if !commit {
							return errBoom
						}
						return nil
					})
					if commit && err != nil {
						t.Fatalf("Append(change) = %v, want nil", err)
					}
					if !commit {
						if !errors.Is(err, errBoom) {
							t.Fatalf("Append(change, then fail) = %v, want %v", err, errBoom)
						}
						want = *before
					}
					wantKey(t, db, &want)
				})
			}
		}
	}
}

// TestCacheStaleReadNotKept takes KeyByID's and ActivePolicy's steps by
// hand around an Append: a value read before the Append that changed it
// returned is not kept when offered after. TestCacheRevocationRace hits
// this window only by chance.
func TestCacheStaleReadNotKept(t *testing.T) {
	ctx := context.Background()
	db := openExclusive(t)
	k := newKeyGen(t, tenant)()
	a := &policy.Active{Name: "p", Version: 1, Activated: cacheAt, By: "key_admin"}
	mustTx(t, db, tenant, "insert key and version", func(w access.Tx) error {
		if err := w.InsertKey(k); err != nil {
			return err
		}
		return w.(policy.VersionWriter).InsertPolicyVersion(&policy.Version{Tenant: tenant, Name: "p", Version: 1,
			Digest: "d1", Source: []byte("name: p\n"), Author: "key_admin", Created: cacheAt})
	})
	mustTx(t, db, tenant, "activate", func(w policy.VersionWriter) error { return w.SetActivePolicy(a) })

	gen := db.cache.gen.Load()
	old := storedKey(t, db, k.ID)
	oldActive, err := db.readActivePolicy(ctx, tenant)
	if err != nil {
		t.Fatalf("readActivePolicy() = %v, want nil", err)
	}
	revoked := cacheAt.Add(time.Hour)
	mustTx(t, db, tenant, "revoke and activate again", func(w access.Tx) error {
		k.Revoked = &revoked
		if err := w.UpdateKey(k); err != nil {
			return err
		}
		return w.(policy.VersionWriter).SetActivePolicy(&policy.Active{Name: "p", Version: 1, Activated: revoked, By: "key_ops"})
	})
	db.cache.keepKey(gen, old)
	db.cache.keepActive(gen, tenant, oldActive)
	if got, ok := db.cache.key(k.ID); ok {
		t.Errorf("cache kept key %s read before the revocation: %s", k.ID, keyText(got))
	}
	if got, ok := db.cache.activePolicy(tenant); ok {
		t.Errorf("cache kept the active policy read before the activation: %+v", got)
	}
	if got, err := db.KeyByID(ctx, k.ID); err != nil || got.Revoked == nil {
		t.Errorf("KeyByID(%s) = %s, %v; want revoked", k.ID, keyText(got), err)
	}
}

// TestCacheActivePolicy: an activation shows in the first ActivePolicy
// after its Append returns, even if the old pointer was read during the
// transaction; a failed activation leaves the stored one.
func TestCacheActivePolicy(t *testing.T) {
	ctx := context.Background()
	db := openExclusive(t)
	active := func(v int64) *policy.Active {
		return &policy.Active{Name: "payments", Version: v, Activated: cacheAt.Add(time.Duration(v) * time.Minute), By: "key_admin"}
	}
	same := func(a, b *policy.Active) bool {
		return a != nil && b != nil && a.Name == b.Name && a.Version == b.Version && a.Activated.Equal(b.Activated) && a.By == b.By
	}
	wantActive := func(when string, want *policy.Active) {
		t.Helper()
		for i := range 2 {
			if got, err := db.ActivePolicy(ctx, tenant); err != nil || !same(got, want) {
				t.Fatalf("%s: ActivePolicy() call %d = %+v, %v; want %+v", when, i, got, err, want)
			}
		}
		if got, err := db.readActivePolicy(ctx, tenant); err != nil || !same(got, want) {
			t.Fatalf("%s: stored active policy = %+v, %v; want %+v", when, got, err, want)
		}
	}

	mustTx(t, db, tenant, "insert versions", func(w policy.VersionWriter) error {
		for v := int64(1); v <= 3; v++ {
			if err := w.InsertPolicyVersion(&policy.Version{Tenant: tenant, Name: "payments", Version: v,
				Digest: fmt.Sprintf("d%d", v), Source: []byte("name: payments\n"), Author: "key_admin", Created: cacheAt}); err != nil {
				return err
			}
		}
		return w.SetActivePolicy(active(1))
	})
	wantActive("after activating 1", active(1))
	if _, ok := db.cache.activePolicy(tenant); !ok {
		t.Fatal("the active policy is not cached after ActivePolicy; the test would not exercise the cache")
	}

	mustTx(t, db, tenant, "activate 2", func(w policy.VersionWriter) error {
		if err := w.SetActivePolicy(active(2)); err != nil {
			return err
		}
		if got, err := db.ActivePolicy(ctx, tenant); err != nil || !same(got, active(1)) {
			return fmt.Errorf("ActivePolicy() inside the tx = %+v, %v; want version 1", got, err)
		}
		return nil
	})
	wantActive("after activating 2", active(2))

	err := inTx(db, tenant, func(w policy.VersionWriter) error {
		if err := w.SetActivePolicy(active(3)); err != nil {
			return err
		}
		if _, err := db.ActivePolicy(ctx, tenant); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Append(activate 3, then fail) = %v, want %v", err, errBoom)
	}
	wantActive("after a failed activation of 3", active(2))
}

// TestCacheReturnsCopies: changing what KeyByID or ActivePolicy returned
// changes neither the cache nor later results.
func TestCacheReturnsCopies(t *testing.T) {
	ctx := context.Background()
	db := openExclusive(t)
	k := newKeyGen(t, tenant)()
	mustTx(t, db, tenant, "insert key and policy", func(w access.Tx) error {
		if err := w.InsertTenant(newTenant(tenant)); err != nil {
			return err
		}
		if err := w.InsertKey(k); err != nil {
			return err
		}
		pw := w.(policy.VersionWriter)
		if err := pw.InsertPolicyVersion(&policy.Version{Tenant: tenant, Name: "p", Version: 1, Digest: "d1",
			Source: []byte("name: p\n"), Author: "key_admin", Created: cacheAt}); err != nil {
			return err
		}
		return pw.SetActivePolicy(&policy.Active{Name: "p", Version: 1, Activated: cacheAt, By: "key_admin"})
	})
	want := storedKey(t, db, k.ID)
	for range 2 { // a miss, then a hit
		got, err := db.KeyByID(ctx, k.ID)
		if err != nil {
			t.Fatalf("KeyByID(%s) = %v, want nil", k.ID, err)
		}
		revoked := cacheAt
		got.Revoked, got.Role, got.TenantStatus, got.Bindings = &revoked, access.RoleOwner, access.TenantSuspended, nil
	}
	wantKey(t, db, want)

	for range 2 {
		a, err := db.ActivePolicy(ctx, tenant)
		if err != nil {
			t.Fatalf("ActivePolicy() = %v, want nil", err)
		}
		a.Version, a.Name = 99, "other"
	}
	if a, err := db.ActivePolicy(ctx, tenant); err != nil || a.Name != "p" || a.Version != 1 {
		t.Fatalf("ActivePolicy() after changing earlier results = %+v, %v; want p version 1", a, err)
	}
}

// TestCacheTouchKey: TouchKey moves a cached key's last use forward, as
// it does the stored row's, and never back.
func TestCacheTouchKey(t *testing.T) {
	ctx := context.Background()
	db := openExclusive(t)
	k := newKeyGen(t, tenant)()
	mustTx(t, db, tenant, "insert key", func(w access.Tx) error { return w.InsertKey(k) })
	want := storedKey(t, db, k.ID)
	wantKey(t, db, want)
	steps := []struct {
		at, want time.Time
	}{
		{cacheAt.Add(time.Minute), cacheAt.Add(time.Minute)},
		{cacheAt.Add(30 * time.Second), cacheAt.Add(time.Minute)}, // older: no change
		{cacheAt.Add(time.Minute), cacheAt.Add(time.Minute)},      // equal: no change
		{cacheAt.Add(time.Hour), cacheAt.Add(time.Hour)},
	}
	for i, s := range steps {
		if err := db.TouchKey(ctx, k.ID, s.at); err != nil {
			t.Fatalf("step %d: TouchKey(%s, %s) = %v, want nil", i, k.ID, s.at, err)
		}
		wantKeyCached(t, db, k.ID) // TouchKey keeps the entry: KeyByID reads it
		used := s.want
		want.LastUsed = &used
		wantKey(t, db, want)
	}
}

// TestCacheRevocationRace: while readers call KeyByID without pause, a
// revocation's Append returns; every call that starts after it returned
// sees the key revoked. Each round revokes a new key, once readers have
// cached it; rounds run until their number or the time budget is spent
// (a commit's fsync takes from microseconds to many milliseconds).
func TestCacheRevocationRace(t *testing.T) {
	rounds, budget := 300, 5*time.Second
	if testing.Short() {
		rounds, budget = 60, time.Second
	}
	const minRounds = 10
	const readers = DefaultReaders + 1 // one waits for a connection at times
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := openExclusive(t)
	nextKey := newKeyGen(t, tenant)
	mustTx(t, db, tenant, "insert tenant", func(w access.Tx) error { return w.InsertTenant(newTenant(tenant)) })

	type round struct {
		n       int
		id      string
		revoked atomic.Bool // set once the revoking Append has returned
		reads   atomic.Int64
	}
	var cur atomic.Pointer[round]
	var stale atomic.Int64
	insert := func(n int) *round {
		k := nextKey()
		mustTx(t, db, tenant, "insert key", func(w access.Tx) error { return w.InsertKey(k) })
		return &round{n: n, id: k.ID}
	}
	cur.Store(insert(0))

	var wg sync.WaitGroup
	defer wg.Wait() // after cancel (deferred later, so run first)
	defer cancel()
	for range readers {
		wg.Go(func() {
			for ctx.Err() == nil {
				r := cur.Load()
				after := r.revoked.Load()
				k, err := db.KeyByID(ctx, r.id)
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					t.Errorf("round %d: KeyByID(%s) = %v, want nil", r.n, r.id, err)
					cancel()
					return
				case after && k.Revoked == nil:
					if stale.Add(1) <= 3 {
						t.Errorf("round %d: KeyByID(%s) started after the revocation returned = not revoked, want revoked", r.n, r.id)
					}
				}
				r.reads.Add(1)
			}
		})
	}
	// waitReads waits until readers made n more calls on r.
	waitReads := func(r *round, n int64) {
		t.Helper()
		target := r.reads.Load() + n
		deadline := time.Now().Add(10 * time.Second)
		for r.reads.Load() < target && ctx.Err() == nil {
			if time.Now().After(deadline) {
				t.Errorf("round %d: readers made %d calls in 10s, want %d", r.n, r.reads.Load(), target)
				cancel()
				return
			}
			runtime.Gosched()
		}
	}

	start := time.Now()
	n := 0
	for ; n < rounds && ctx.Err() == nil && (n < minRounds || time.Since(start) < budget); n++ {
		r := cur.Load()
		waitReads(r, readers) // cached, and read on
		revokedAt := cacheAt.Add(time.Duration(n) * time.Second)
		mustTx(t, db, tenant, "revoke", func(w access.Tx) error {
			k, err := w.KeyForUpdate(r.id)
			if err != nil {
				return err
			}
			k.Revoked = &revokedAt
			return w.UpdateKey(k)
		})
		r.revoked.Store(true)
		waitReads(r, 2*readers)
		cur.Store(insert(n + 1))
	}
	cancel()
	wg.Wait()
	t.Logf("%d rounds in %v", n, time.Since(start).Round(time.Millisecond))
	if s := stale.Load(); s > 0 {
		t.Errorf("%d KeyByID calls that started after a revocation returned saw the key unrevoked", s)
	}
}

// TestControlsVersionInTx: a transaction reads its tenant's controls
// version once and again after each change it makes, and after a
// savepoint it rolled back.
func TestControlsVersionInTx(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "warden.db"), Options{})
	control := func(id string) *controls.Control {
		return &controls.Control{ID: id, Tenant: tenant, Scope: controls.Scope{Agent: "billing-*"}, Effect: controls.Deny,
			Reason: "incident 7", Created: cacheAt, By: "key_ops"}
	}
	mustTx(t, db, tenant, "insert ctl_01", func(tx controls.Tx) error { return tx.InsertControl(control("ctl_01")) })

	err := inTx(db, tenant, func(tx controls.Tx) error {
		wantVersion := func(step string, want int64) error {
			if v, err := tx.ControlsVersion(); err != nil || v != want {
				return fmt.Errorf("%s: ControlsVersion() = %d, %v; want %d, nil", step, v, err, want)
			}
			return nil
		}
		// failIsolate runs inside in an Isolate that then fails, so that
		// its changes roll back.
		failIsolate := func(inside func() error) error {
			err := tx.(ledger.Tx).Isolate(func() error {
				if err := inside(); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				return fmt.Errorf("Isolate() = %v, want %v", err, errBoom)
			}
			return nil
		}
		v, err := tx.ControlsVersion()
		if err != nil || v != 1 {
			return fmt.Errorf("first ControlsVersion() = %d, %v; want 1, nil", v, err)
		}
		steps := []struct {
			name string
			do   func() error
			want int64
		}{
			{"read again", func() error { return nil }, v},
			{"after InsertControl", func() error { return tx.InsertControl(control("ctl_02")) }, v + 1},
			{"after a failed Isolate that changed and read the version", func() error {
				return failIsolate(func() error {
					if err := tx.InsertControl(control("ctl_03")); err != nil {
						return err
					}
					return wantVersion("inside Isolate", v+2)
				})
			}, v + 1},
			{"after a failed Isolate that only read the version", func() error {
				return failIsolate(func() error { return wantVersion("inside Isolate", v+1) })
			}, v + 1},
			{"after an Isolate that cleared a switch", func() error {
				return tx.(ledger.Tx).Isolate(func() error {
					if err := tx.ClearControl("ctl_01", cacheAt); err != nil {
						return err
					}
					return wantVersion("inside Isolate", v+2)
				})
			}, v + 2},
		}
		for _, s := range steps {
			if err := s.do(); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if err := wantVersion(s.name, s.want); err != nil {
				return err
			}
		}
		cs, err := tx.Controls()
		if err != nil || len(cs) != 1 || cs[0].ID != "ctl_02" {
			return fmt.Errorf("Controls() = %+v, %v; want ctl_02 alone", cs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Append() = %v", err)
	}
	if v, cs, err := db.TenantControls(ctx, tenant); err != nil || v != 3 || len(cs) != 1 {
		t.Fatalf("TenantControls() after the commit = %d, %d switches, %v; want 3, 1", v, len(cs), err)
	}
}

// TestCacheNonExclusive: a plain open keeps no cache, and KeyByID
// follows every change.
func TestCacheNonExclusive(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "warden.db"), Options{})
	if db.cache != nil {
		t.Fatal("a plain Open made a cache, want none")
	}
	k := newKeyGen(t, tenant)()
	mustTx(t, db, tenant, "insert key", func(w access.Tx) error { return w.InsertKey(k) })
	want := storedKey(t, db, k.ID)
	wantKey(t, db, want)
	revoked := cacheAt.Add(time.Hour)
	mustTx(t, db, tenant, "revoke", func(w access.Tx) error {
		want.Revoked = &revoked
		return w.UpdateKey(want)
	})
	wantKey(t, db, want)
}

// TestExclusiveConformance runs the store suite on Exclusive opens, whose
// cache must not change what the suite sees.
func TestExclusiveConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite runs on plain opens in TestConformance; the cache's own tests run in short mode")
	}
	needLocks(t)
	storetest.Run(t, func(t *testing.T) func(*testing.T) storetest.Store {
		path := filepath.Join(t.TempDir(), "warden.db")
		return func(t *testing.T) storetest.Store { return mustOpen(t, path, Options{Exclusive: true}) }
	})
}
