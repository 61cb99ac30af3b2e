package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// loadedLedger is a ledger with its checkpoint signer running and writers
// appending to every tenant of backupTenants until stop is called.
type loadedLedger struct {
	db    *DB
	acked atomic.Int64
	stop  func()
	errc  chan error
}

var backupTenants = []string{ledger.SystemTenant, storetest.TenantA, storetest.TenantB}

func startLoad(t *testing.T, db *DB, signer note.Signer, writers int) *loadedLedger {
	t.Helper()
	l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer, CheckpointInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("ledger.New() = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ld := &loadedLedger{db: db, errc: make(chan error, writers)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.Checkpointer().Run(ctx) }()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := backupTenants[w%len(backupTenants)]
			for i := 0; ctx.Err() == nil; i++ {
				if _, err := l.Append(ctx, tenant, storetest.Req(w<<20|i)); err != nil {
					if ctx.Err() == nil {
						ld.errc <- fmt.Errorf("Append(%s, writer %d, n=%d) = %v", tenant, w, i, err)
					}
					return
				}
				ld.acked.Add(1)
			}
		}()
	}
	var once sync.Once
	ld.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			if err := l.Close(context.Background()); err != nil {
				t.Errorf("Ledger.Close() = %v, want nil", err)
			}
		})
	}
	t.Cleanup(ld.stop)
	return ld
}

// failed reports a writer's error, if any.
func (ld *loadedLedger) failed(t *testing.T) {
	t.Helper()
	select {
	case err := <-ld.errc:
		t.Fatalf("writer under load: %v", err)
	default:
	}
}

// waitSigned polls until every tenant has a signed checkpoint of at least
// size entries.
func (ld *loadedLedger) waitSigned(t *testing.T, size int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, tenant := range backupTenants {
		for {
			ld.failed(t)
			cp, err := ld.db.LatestCheckpoint(context.Background(), tenant)
			if err == nil && cp.Size >= size {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint of %s covering %d entries within 60s (latest: %+v, %v)", tenant, size, cp, err)
			}
			time.Sleep(5 * time.Millisecond) // polling with a deadline
		}
	}
}

// TestBackupUnderLoad takes online backups while writers append and the
// checkpoint signer runs, and checks that each backup holds a verifiable
// prefix of every log that extends every checkpoint signed before it began.
func TestBackupUnderLoad(t *testing.T) {
	ctx := context.Background()
	signer, verifier := storetest.NewKey(t)
	keys := []note.Verifier{verifier}
	dir := t.TempDir()
	db := mustOpen(t, filepath.Join(dir, "warden.db"), Options{})
	rounds, step := 3, int64(150)
	if testing.Short() {
		rounds, step = 2, 60
	}
	ld := startLoad(t, db, signer, 2*len(backupTenants))

	type backup struct {
		path   string
		signed map[string][]ledger.StoredCheckpoint // before it began
	}
	var backups []backup
	overlapped := int64(0) // appends acknowledged while a backup ran
	for round := range rounds {
		ld.waitSigned(t, step*int64(round+1))
		b := backup{path: filepath.Join(dir, fmt.Sprintf("backup-%d.db", round)), signed: map[string][]ledger.StoredCheckpoint{}}
		for _, tenant := range backupTenants {
			cps, err := db.Checkpoints(ctx, tenant, 0, math.MaxInt64)
			if err != nil || len(cps) == 0 {
				t.Fatalf("Checkpoints(%s) = %d, %v; want some", tenant, len(cps), err)
			}
			b.signed[tenant] = cps
		}
		before := ld.acked.Load()
		if err := db.Backup(ctx, b.path); err != nil {
			t.Fatalf("Backup(round %d) = %v, want nil", round, err)
		}
		overlapped += ld.acked.Load() - before
		backups = append(backups, b)
	}
	ld.failed(t)
	if overlapped == 0 {
		t.Errorf("no append was acknowledged while any of %d backups ran: the backups were not taken under load", rounds)
	}
	// The load stops before the (CPU-bound) checks; the live log only grows.
	ld.waitSigned(t, step*int64(rounds+1))
	ld.stop()
	for _, b := range backups {
		checkBackup(t, db, b.path, keys, b.signed)
	}

	// The trusted-checkpoint check is not vacuous: a checkpoint signed
	// after the first backup's snapshot does not verify against it.
	first, err := Open(ctx, filepath.Join(dir, "backup-0.db"), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	head, err := first.Head(ctx, storetest.TenantA)
	if err != nil {
		t.Fatal(err)
	}
	later, err := db.LatestCheckpoint(ctx, storetest.TenantA)
	if err != nil || later.Size <= head.Size {
		t.Fatalf("LatestCheckpoint(%s) = %+v, %v; want one beyond the first backup's %d entries", storetest.TenantA, later, err, head.Size)
	}
	rep, err := ledger.VerifyStore(ctx, first, ledger.VerifyOptions{Tenant: storetest.TenantA, Origin: storetest.Origin,
		Keys: keys, Trusted: later.Note}, nil)
	if err != nil || rep.OK || rep.Failure.Check != ledger.CheckTrustedCheckpoint {
		t.Errorf("VerifyStore(first backup, trusted size %d > %d) = %+v, %v; want a %s failure",
			later.Size, head.Size, rep, err, ledger.CheckTrustedCheckpoint)
	}
}

// checkBackup opens the backup at path and checks that every log verifies,
// is a prefix of the live log, keeps every checkpoint in signed and extends
// each of them.
func checkBackup(t *testing.T, live *DB, path string, keys []note.Verifier, signed map[string][]ledger.StoredCheckpoint) {
	t.Helper()
	ctx := context.Background()
	b, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open(backup %s, read-only) = %v, want nil", path, err)
	}
	defer b.Close()
	tenants, err := b.Tenants(ctx)
	if want := slices.Sorted(slices.Values(backupTenants)); err != nil || !slices.Equal(tenants, want) {
		t.Fatalf("backup Tenants() = %v, %v; want %v", tenants, err, want)
	}
	for _, tenant := range tenants {
		opts := ledger.VerifyOptions{Tenant: tenant, Origin: storetest.Origin, Keys: keys}
		rep, err := ledger.VerifyStore(ctx, b, opts, nil)
		if err != nil || !rep.OK {
			t.Fatalf("VerifyStore(backup %s, %s) = %+v, %v; want OK", path, tenant, rep, err)
		}
		backupRecs := storetest.AllRecords(t, b, tenant)
		liveRecs, err := live.Records(ctx, tenant, 0, int64(len(backupRecs)), len(backupRecs)+1)
		if err != nil || len(liveRecs) != len(backupRecs) {
			t.Fatalf("live Records(%s, [0, %d)) = %d records, %v", tenant, len(backupRecs), len(liveRecs), err)
		}
		for i := range backupRecs {
			if !bytes.Equal(backupRecs[i].Data, liveRecs[i].Data) || !slices.Equal(backupRecs[i].Hashes, liveRecs[i].Hashes) {
				t.Fatalf("backup entry %d of %s differs from the live log's", i, tenant)
			}
		}
		cps, err := b.Checkpoints(ctx, tenant, 0, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		notes := make([][]byte, len(cps))
		for i := range cps {
			notes[i] = cps[i].Note
		}
		for _, cp := range signed[tenant] {
			if !slices.ContainsFunc(notes, func(n []byte) bool { return bytes.Equal(n, cp.Note) }) {
				t.Errorf("backup %s lacks the checkpoint of size %d of %s signed before it began", path, cp.Size, tenant)
			}
			opts.Trusted = cp.Note
			if rep := verifyRecords(t, opts, notes, backupRecs); !rep.OK || rep.Trusted != cp.Size {
				t.Fatalf("verify backup %s of %s with trusted checkpoint of size %d = %+v; want OK extending it", path, tenant, cp.Size, rep)
			}
		}
	}
}

// verifyRecords verifies records already read, as VerifyStore would read
// them, so that one walk of a backup serves many trusted checkpoints.
func verifyRecords(t *testing.T, opts ledger.VerifyOptions, notes [][]byte, recs []ledger.Record) *ledger.Report {
	t.Helper()
	v, err := ledger.NewVerifier(opts, notes)
	if err != nil {
		t.Fatalf("NewVerifier(%s) = %v, want nil", opts.Tenant, err)
	}
	for _, r := range recs {
		if v.Add(r.Data, r.Hashes) != nil {
			break
		}
	}
	return v.Finish()
}

func TestBackupRefusesExistingDest(t *testing.T) {
	ctx := context.Background()
	signer, _ := storetest.NewKey(t)
	db := mustOpen(t, filepath.Join(t.TempDir(), "warden.db"), Options{})
	storetest.AppendN(t, newLedger(t, db, signer), storetest.TenantA, 3)
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"empty file", []byte{}}, // VACUUM INTO itself would write into it
		{"non-empty file", []byte("keep me")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "backup.db")
			if err := os.WriteFile(dest, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := db.Backup(ctx, dest); !errors.Is(err, fs.ErrExist) {
				t.Errorf("Backup(existing %s) = %v, want fs.ErrExist", tc.name, err)
			}
			if got, err := os.ReadFile(dest); err != nil || !bytes.Equal(got, tc.content) {
				t.Errorf("after a refused Backup, dest holds %q (%v), want %q", got, err, tc.content)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	signer, verifier := storetest.NewKey(t)
	db := mustOpen(t, filepath.Join(t.TempDir(), "warden.db"), Options{})
	l := newLedger(t, db, signer)
	storetest.AppendN(t, l, storetest.TenantA, 5)
	if err := l.Close(ctx); err != nil { // signs the final checkpoint
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, src); err != nil {
		t.Fatalf("Backup() = %v, want nil", err)
	}
	srcBytes, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("installs into a new path", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "warden.db")
		if err := Restore(src, dest, nil, nil); err != nil {
			t.Fatalf("Restore() = %v, want nil", err)
		}
		if got, err := os.ReadFile(dest); err != nil || !bytes.Equal(got, srcBytes) {
			t.Fatalf("restored file differs from the backup (%v)", err)
		}
		noFile(t, dest+".restoring")
		r := mustOpen(t, dest, Options{})
		if rep := storetest.Verify(t, r, signer, verifier, storetest.TenantA); rep.Entries != 5 {
			t.Errorf("restored log has %d entries, want 5", rep.Entries)
		}
	})

	for _, tc := range []struct {
		name     string
		existing string // suffix of dest that exists already
	}{
		{"refuses an existing database", ""},
		{"refuses an existing WAL", "-wal"},
		{"refuses an existing shared-memory file", "-shm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "warden.db")
			if err := os.WriteFile(dest+tc.existing, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := Restore(src, dest, nil, nil); err == nil {
				t.Fatalf("Restore(over %s%s) = nil, want an error", filepath.Base(dest), tc.existing)
			}
			if got, err := os.ReadFile(dest + tc.existing); err != nil || string(got) != "old" {
				t.Errorf("refused Restore changed %s%s to %q (%v)", filepath.Base(dest), tc.existing, got, err)
			}
			if tc.existing != "" {
				noFile(t, dest)
			}
			noFile(t, dest+".restoring")
		})
	}

	for _, tc := range []struct {
		name string
		src  func(t *testing.T) string
	}{
		{"missing source", func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent.db") }},
		{"unreadable source (a directory)", func(t *testing.T) string { return t.TempDir() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "warden.db")
			if err := Restore(tc.src(t), dest, nil, nil); err == nil {
				t.Fatalf("Restore(%s) = nil, want an error", tc.name)
			}
			noFile(t, dest)
			noFile(t, dest+".restoring")
		})
	}
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists (stat: %v), want no file", path, err)
	}
}

// Restore checks the very copy it installs, moves an old database aside
// only after the check passed, and replaces a copy a crashed restore left.
func TestRestoreChecksCopyBeforeMakingRoom(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(src, []byte("backup bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "warden.db")
	if err := os.WriteFile(dest, []byte("old database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest+RestoringSuffix, []byte("left by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved := false
	makeRoom := func() error { moved = true; return os.Rename(dest, dest+".old") }

	refuse := errors.New("bad backup")
	var checked []byte
	err := Restore(src, dest, func(p string) error {
		checked, _ = os.ReadFile(p)
		return refuse
	}, makeRoom)
	if !errors.Is(err, refuse) || moved {
		t.Fatalf("Restore(failing check) = %v, moved aside %v; want the check's error and nothing moved", err, moved)
	}
	if string(checked) != "backup bytes" {
		t.Errorf("check saw %q, want the backup's bytes", checked)
	}
	if got, _ := os.ReadFile(dest); string(got) != "old database" {
		t.Errorf("a refused restore changed dest to %q", got)
	}
	noFile(t, dest+RestoringSuffix)

	if err := Restore(src, dest, func(string) error { return nil }, makeRoom); err != nil || !moved {
		t.Fatalf("Restore(passing check) = %v, moved aside %v; want nil and moved", err, moved)
	}
	if got, _ := os.ReadFile(dest); string(got) != "backup bytes" {
		t.Errorf("dest = %q after restore, want the backup", got)
	}
	if got, _ := os.ReadFile(dest + ".old"); string(got) != "old database" {
		t.Errorf("moved-aside database = %q, want the old one", got)
	}
}
