package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/storetest"
)

const tenant = storetest.TenantA

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func(*testing.T) storetest.Store {
		path := filepath.Join(t.TempDir(), "warden.db")
		return func(t *testing.T) storetest.Store { return mustOpen(t, path, Options{}) }
	})
}

// mustOpen opens the store at path and closes it at cleanup.
func mustOpen(t *testing.T, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s, %+v) = %v, want nil", path, opts, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newLedger returns a ledger over s that is closed at cleanup.
func newLedger(t *testing.T, s ledger.Store, signer note.Signer) *ledger.Ledger {
	t.Helper()
	l, err := ledger.New(s, ledger.Config{Origin: storetest.Origin, Signer: signer})
	if err != nil {
		t.Fatalf("ledger.New() = %v, want nil", err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// rawHandle opens the database file the way any other SQLite client would,
// bypassing Open.
func rawHandle(t *testing.T, path string) *sql.DB {
	t.Helper()
	h, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatalf("sql.Open(%s) = %v, want nil", path, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestOpenDurability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	db := mustOpen(t, path, Options{})
	ctx := context.Background()
	var sync int
	if err := db.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("writer PRAGMA synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	pools := []struct {
		name string
		db   *sql.DB
	}{{"writer", db.w}, {"reader", db.r}, {"second handle", rawHandle(t, path)}}
	for _, p := range pools {
		var mode string
		if err := p.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("%s PRAGMA journal_mode = %q, %v; want wal", p.name, mode, err)
		}
	}
	// Readers cannot write even by mistake.
	if _, err := db.r.ExecContext(ctx, "INSERT INTO meta (tenant_id, key, value) VALUES ('_system', 'x', 'y')"); err == nil {
		t.Errorf("INSERT through the reader pool = nil, want an error (query_only)")
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	newer := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "warden.db")
		db := mustOpen(t, path, Options{})
		db.Close()
		if _, err := rawHandle(t, path).ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
			t.Fatalf("PRAGMA user_version = 99: %v", err)
		}
		return path
	}
	empty := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "warden.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	missing := func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.db") }
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		opts    Options
		want    error // nil: any error
		created bool  // whether the file may exist afterwards
	}{
		{"newer schema", newer, Options{}, ErrSchema, true},
		{"newer schema read-only", newer, Options{ReadOnly: true}, ErrSchema, true},
		{"unmigrated read-only", empty, Options{ReadOnly: true}, ErrSchema, true},
		{"missing read-only", missing, Options{ReadOnly: true}, nil, false},
		{"in memory (no WAL)", func(*testing.T) string { return ":memory:" }, Options{}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			db, err := Open(ctx, path, tc.opts)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s, %+v) = nil, want an error", tc.name, tc.opts)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open(%s, %+v) = %v, want %v", tc.name, tc.opts, err, tc.want)
			}
			if _, serr := os.Stat(path); !tc.created && serr == nil {
				t.Errorf("Open(%s, %+v) created %s, want no file", tc.name, tc.opts, path)
			}
		})
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	signer, verifier := storetest.NewKey(t)
	schema := func(db *DB) (int, []string) {
		t.Helper()
		v, err := schemaVersion(ctx, db.r)
		if err != nil {
			t.Fatalf("schemaVersion() = %v, want nil", err)
		}
		rows, err := db.r.QueryContext(ctx, "SELECT type || ' ' || name FROM sqlite_master ORDER BY name")
		if err != nil {
			t.Fatalf("read sqlite_master: %v", err)
		}
		defer rows.Close()
		var objs []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			objs = append(objs, s)
		}
		return v, objs
	}
	var first []string
	for i := range 3 {
		db := mustOpen(t, path, Options{})
		v, objs := schema(db)
		if v != len(migrationFiles()) || v == 0 {
			t.Fatalf("open %d: user_version = %d, want %d", i, v, len(migrationFiles()))
		}
		if i == 0 {
			first = objs
			l := newLedger(t, db, signer)
			storetest.AppendN(t, l, tenant, 4)
			if got, err := db.SetMetaOnce(ctx, "origin", "warden"); err != nil || got != "warden" {
				t.Fatalf("SetMetaOnce(origin, warden) = %q, %v; want warden", got, err)
			}
			if err := l.Close(ctx); err != nil {
				t.Fatalf("Ledger.Close() = %v, want nil", err)
			}
		} else if !slices.Equal(objs, first) {
			t.Fatalf("open %d: schema objects %v, want %v", i, objs, first)
		}
		if got, err := db.SetMetaOnce(ctx, "origin", "other"); err != nil || got != "warden" {
			t.Errorf("open %d: SetMetaOnce(origin, other) = %q, %v; want the first value warden", i, got, err)
		}
		if rep := storetest.Verify(t, db, signer, verifier, tenant); rep.Entries != 4 {
			t.Fatalf("open %d: VerifyStore entries = %d, want 4", i, rep.Entries)
		}
		db.Close()
	}
}

// refusesWrites checks that every write path of a read-only store fails,
// directly and through a ledger, and that nothing changed.
func refusesWrites(t *testing.T, db *DB, signer note.Signer, verifier note.Verifier, size int64) {
	t.Helper()
	ctx := context.Background()
	writes := []struct {
		name string
		call func() error
	}{
		{"Append", func() error { return db.Append(ctx, tenant, func(ledger.Tx) error { return nil }) }},
		{"PutCheckpoint", func() error {
			return db.PutCheckpoint(ctx, tenant, ledger.StoredCheckpoint{Size: math.MaxInt32, Note: []byte("x")})
		}},
		{"Ping", func() error { return db.Ping(ctx) }},
		{"SetMetaOnce", func() error { _, err := db.SetMetaOnce(ctx, "k", "v"); return err }},
	}
	for _, w := range writes {
		if err := w.call(); err == nil {
			t.Errorf("read-only %s = nil, want an error", w.name)
		}
	}
	l := newLedger(t, db, signer)
	if _, err := l.Append(ctx, tenant, storetest.Req(0)); !errors.Is(err, ledger.ErrStore) {
		t.Errorf("read-only Ledger.Append = %v, want ErrStore", err)
	}
	if err := l.Healthy(); !errors.Is(err, ledger.ErrStore) {
		t.Errorf("Healthy() after a failed append = %v, want ErrStore", err)
	}
	if rep := storetest.Verify(t, db, signer, verifier, tenant); rep.Entries != size {
		t.Errorf("read-only VerifyStore entries = %d, want %d", rep.Entries, size)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "warden.db")
	signer, verifier := storetest.NewKey(t)
	rw := mustOpen(t, path, Options{})
	l := newLedger(t, rw, signer)
	storetest.AppendN(t, l, tenant, 5)
	if err := l.Close(ctx); err != nil { // signs the covering checkpoint
		t.Fatalf("Ledger.Close() = %v, want nil", err)
	}

	t.Run("beside a live writer", func(t *testing.T) {
		ro := mustOpen(t, path, Options{ReadOnly: true})
		refusesWrites(t, ro, signer, verifier, 5)
		storetest.AppendN(t, newLedger(t, rw, signer), tenant, 3)
		if head, err := ro.Head(ctx, tenant); err != nil || head.Size != 8 {
			t.Errorf("read-only Head() after the writer appended = %d, %v; want 8", head.Size, err)
		}
	})

	t.Run("copied", func(t *testing.T) {
		// Close the writer before reading its files: closing any descriptor
		// of the database drops this process's POSIX locks on it.
		if err := rw.Close(); err != nil {
			t.Fatalf("Close() = %v, want nil", err)
		}
		want := storetest.AllRecords(t, mustOpen(t, path, Options{ReadOnly: true}), tenant)
		dst := filepath.Join(t.TempDir(), "warden.db")
		for _, suffix := range []string{"", "-wal"} {
			copyFile(t, path+suffix, dst+suffix)
		}
		ro := mustOpen(t, dst, Options{ReadOnly: true})
		got := storetest.AllRecords(t, ro, tenant)
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("copied Records() = %d records, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID || string(got[i].Data) != string(want[i].Data) {
				t.Fatalf("copied record %d = %s, want %s", i, got[i].ID, want[i].ID)
			}
		}
		refusesWrites(t, ro, signer, verifier, int64(len(want)))
	})
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
