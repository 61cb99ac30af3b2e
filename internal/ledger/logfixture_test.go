package ledger_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// The logs that verify_test.go and tamper_test.go check and mutate. Each
// is built once per test binary through the real appender and SQLite
// store; each test then works on a fresh copy of the database file.
const (
	fixtureTenant = "acme"
	fixtureOrigin = "warden.test"
	fixtureSeed   = 20250101
)

// fixture is a closed, genuine log: the bytes of its database file and,
// in memory, everything an attacker with the signing key would know.
type fixture struct {
	n        int64
	files    map[string][]byte // database file suffix ("" or "-wal") -> bytes
	records  []ledger.Record
	cps      []ledger.StoredCheckpoint // ascending size
	stored   []tlog.Hash               // every stored tree hash, by stored-hash index
	signer   note.Signer               // the "stolen" signing key
	verifier note.Verifier
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int64]*fixtureOnce{}
)

type fixtureOnce struct {
	once sync.Once
	f    *fixture
	err  error
}

// fixtureSize is the size of the log that the verify and tamper tests
// check: 10,000 entries, or 1,000 under -short.
func fixtureSize() int64 {
	if testing.Short() {
		return 1000
	}
	return 10000
}

// logFixture returns the genuine log of n entries, built on first use.
func logFixture(t testing.TB, n int64) *fixture {
	t.Helper()
	fixturesMu.Lock()
	o := fixtures[n]
	if o == nil {
		o = &fixtureOnce{}
		fixtures[n] = o
	}
	fixturesMu.Unlock()
	o.once.Do(func() {
		// The log is read into memory before the first test's temporary
		// directory goes; every later test copies it from there.
		start := time.Now()
		o.f, o.err = buildFixture(t.TempDir(), n)
		t.Logf("built a log of %d entries in %v", n, time.Since(start).Round(time.Millisecond))
	})
	if o.err != nil {
		t.Fatalf("build a log of %d entries: %v", n, o.err)
	}
	return o.f
}

// fakeClock is a clock that advances one millisecond per reading.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func fixtureKeys(name string, seed int64) (note.Signer, note.Verifier, error) {
	skey, vkey, err := note.GenerateKey(rand.New(rand.NewSource(seed)), name)
	if err != nil {
		return nil, nil, err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, err
	}
	v, err := note.NewVerifier(vkey)
	return s, v, err
}

func buildFixture(dir string, n int64) (*fixture, error) {
	ctx := context.Background()
	path := filepath.Join(dir, "warden.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	f := &fixture{n: n, files: map[string][]byte{}}
	if f.signer, f.verifier, err = fixtureKeys(fixtureOrigin, fixtureSeed); err != nil {
		return nil, err
	}
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	l, err := ledger.New(db, ledger.Config{Origin: fixtureOrigin, Signer: f.signer, Clock: clock.Now,
		IDs: ledger.NewIDs(clock.Now, rand.New(rand.NewSource(fixtureSeed)))})
	if err != nil {
		return nil, err
	}

	// The log grows in eight phases of 32 concurrent writers. In each, a
	// checkpoint is signed once the phase's middle entry is in, while the
	// writers go on, and another when they are done: checkpoints exist at
	// several sizes, at least the eight phase ends.
	kinds := []string{"decision", "outcome", "key.created", "policy.version", "monitor.heartbeat"}
	var next atomic.Int64
	for phase := int64(1); phase <= 8; phase++ {
		start, end := next.Load(), n*phase/8
		halfway, half, done := (start+end)/2, make(chan struct{}), make(chan struct{})
		errc := make(chan error, 34)
		var wg sync.WaitGroup
		for w := 0; w < 32; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < end; i = next.Add(1) - 1 {
					body := map[string]any{"i": i, "note": "entrée ✓ <&> \u2028", "amount": float64(i) / 8, "ok": i%2 == 0}
					_, err := l.Append(ctx, fixtureTenant, ledger.Request{Kind: kinds[i%int64(len(kinds))], Actor: "system", Body: body})
					if err != nil {
						errc <- fmt.Errorf("append %d: %w", i, err)
						return
					}
					if i == halfway {
						close(half)
					}
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()
		select {
		case <-half:
			if _, err := l.Checkpointer().Sign(ctx, fixtureTenant); err != nil {
				errc <- err
			}
		case <-done:
		}
		<-done
		next.Store(end)
		if _, err := l.Checkpointer().Sign(ctx, fixtureTenant); err != nil {
			errc <- err
		}
		close(errc)
		if err := <-errc; err != nil {
			return nil, err
		}
	}
	if err := l.Close(ctx); err != nil {
		return nil, err
	}

	if f.records, err = db.Records(ctx, fixtureTenant, 0, math.MaxInt64, int(n)+1); err != nil {
		return nil, err
	}
	if f.cps, err = db.Checkpoints(ctx, fixtureTenant, 0, math.MaxInt64); err != nil {
		return nil, err
	}
	if int64(len(f.records)) != n {
		return nil, fmt.Errorf("log has %d records, want %d", len(f.records), n)
	}
	if len(f.cps) < 8 || f.cps[len(f.cps)-1].Size != n {
		return nil, fmt.Errorf("checkpoints at %v, want at least 8 and the last at %d", cpSizes(f.cps), n)
	}
	for _, r := range f.records {
		f.stored = append(f.stored, r.Hashes...)
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		f.files[suffix] = b
	}
	return f, nil
}

func cpSizes(cps []ledger.StoredCheckpoint) []int64 {
	var s []int64
	for _, cp := range cps {
		s = append(s, cp.Size)
	}
	return s
}

// copyTo writes a fresh copy of the genuine database to path.
func (f *fixture) copyTo(t testing.TB, path string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	for suffix, b := range f.files {
		if err := os.WriteFile(path+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// mutate changes the database at path directly, in one transaction, the
// way an attacker with write access to the file would.
func mutate(t testing.TB, path string, fn func(tx *sql.Tx) error) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=synchronous(OFF)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		t.Fatalf("mutate %s: %v", path, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// verifyFile verifies the log in the database at path, opened read-only
// through the real SQLite store.
func verifyFile(t testing.TB, path string, opts ledger.VerifyOptions) *ledger.Report {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := ledger.VerifyStore(ctx, db, opts, nil)
	if err != nil {
		t.Fatalf("VerifyStore(%s) = err %v, want a report", path, err)
	}
	return rep
}

func (f *fixture) opts(trusted []byte) ledger.VerifyOptions {
	return ledger.VerifyOptions{Tenant: fixtureTenant, Origin: fixtureOrigin,
		Keys: []note.Verifier{f.verifier}, Trusted: trusted}
}

// hashReader reads stored hashes from a slice indexed by stored-hash index.
func hashReader(stored []tlog.Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d of %d", x, len(stored))
			}
			out[i] = stored[x]
		}
		return out, nil
	})
}
