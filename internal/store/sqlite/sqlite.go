// Package sqlite is Warden's embedded store: one SQLite file in the data
// directory (modernc.org/sqlite, pure Go), in WAL mode with
// synchronous=FULL so that a committed append survives a crash or power
// loss.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

var (
	_ ledger.Store     = (*DB)(nil)
	_ access.KeyReader = (*DB)(nil)
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultReaders is the size of the read connection pool.
const DefaultReaders = 4

// ErrSchema is returned when the database's schema is newer than this
// binary knows.
var ErrSchema = errors.New("unsupported database schema")

// ErrInUse is returned by an Exclusive open of a store that another
// process (or another DB of this one) has open Exclusive.
var ErrInUse = errors.New("the store is in use by another warden process (is warden serve running?)")

// errNoLock is lockStore's answer where the platform has no file locks.
var errNoLock = errors.New("file locks are not supported here")

// Options configure Open.
type Options struct {
	// ReadOnly opens without migrating or writing (offline verification of
	// a live data directory). The schema must already be current.
	ReadOnly bool
	// MaxPageCount, if set, caps the database size in pages; writes beyond
	// it fail as if the disk were full. For quotas and failure tests.
	MaxPageCount int64
	// Exclusive locks the store for this DB (a second Exclusive open, in
	// this process or another, fails with ErrInUse) and, being then its
	// only writer, caches keys and active policy pointers, invalidated by
	// its own writes (see stateCache). warden serve and the offline
	// commands that write open it so. Where the platform has no file
	// locks, it neither locks nor caches.
	Exclusive bool
}

// DB is the SQLite store. Writes go through one connection (SQLite has one
// writer); reads use a pool that sees committed data only.
type DB struct {
	path string
	w    *sql.DB
	r    *sql.DB
	ws   *stmtCache // statements of w
	rs   *stmtCache // statements of r

	lock  *os.File    // held by an Exclusive open
	cache *stateCache // nil unless lock is held
}

// Open opens (creating and migrating unless read-only) the database at path.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)"}
	if opts.MaxPageCount > 0 {
		pragmas = append(pragmas, fmt.Sprintf("max_page_count(%d)", opts.MaxPageCount))
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append(pragmas, extra...) {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode()
	}
	if opts.ReadOnly {
		// SQLite would create a missing file; a read-only open must not.
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store %q read-only: %w", path, err)
		}
	}
	db := &DB{path: path}
	var err error
	if opts.Exclusive && !opts.ReadOnly {
		db.lock, err = lockStore(path)
		switch {
		case err == nil:
			db.cache = newStateCache()
		case errors.Is(err, errNoLock):
		default:
			return nil, err
		}
	}
	if !opts.ReadOnly {
		if db.w, err = sql.Open("sqlite", dsn()+"&_txlock=immediate"); err != nil {
			db.Close() // releases the lock
			return nil, fmt.Errorf("open store %q: %w", path, err)
		}
		db.w.SetMaxOpenConns(1)
		db.w.SetMaxIdleConns(1)
		db.w.SetConnMaxLifetime(0)
		db.w.SetConnMaxIdleTime(0)
		db.ws = newStmtCache(db.w)
	}
	if db.r, err = sql.Open("sqlite", dsn("query_only(1)")); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	db.r.SetMaxOpenConns(DefaultReaders)
	// Every pooled reader stays open: a connection closed as surplus idle
	// would be opened again (pragmas, prepared statements) moments later.
	db.r.SetMaxIdleConns(DefaultReaders)
	db.rs = newStmtCache(db.r)
	if err := db.init(ctx, opts); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) init(ctx context.Context, opts Options) error {
	conn := db.r
	if db.w != nil {
		conn = db.w
		if err := db.migrate(ctx); err != nil {
			return err
		}
	}
	// Durability is promised, so it is checked rather than assumed.
	var mode string
	var sync int
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("open store %q: read journal_mode: %w", db.path, err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("open store %q: read synchronous: %w", db.path, err)
	}
	if !strings.EqualFold(mode, "wal") || sync != 2 {
		return fmt.Errorf("open store %q: journal_mode=%s synchronous=%d, want wal and 2 (FULL)", db.path, mode, sync)
	}
	v, err := schemaVersion(ctx, conn)
	if err != nil {
		return err
	}
	if want := len(migrationFiles()); v != want {
		if v > want {
			return fmt.Errorf("open store %q: schema version %d is newer than this binary's %d: %w", db.path, v, want, ErrSchema)
		}
		return fmt.Errorf("open store %q: schema version %d, want %d (open it read-write once to migrate): %w", db.path, v, want, ErrSchema)
	}
	if db.ws != nil {
		if err := db.ws.prepareAll(ctx, writerStatements); err != nil {
			return fmt.Errorf("open store %q: %w", db.path, err)
		}
	}
	if err := db.rs.prepareAll(ctx, readerStatements); err != nil {
		return fmt.Errorf("open store %q: %w", db.path, err)
	}
	return nil
}

func schemaVersion(ctx context.Context, conn *sql.DB) (int, error) {
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func migrationFiles() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// migrate applies the embedded migrations the database lacks, each in its
// own transaction together with the new user_version.
func (db *DB) migrate(ctx context.Context) error {
	v, err := schemaVersion(ctx, db.w)
	if err != nil {
		return err
	}
	files := migrationFiles()
	if v > len(files) {
		return fmt.Errorf("migrate store %q: schema version %d is newer than this binary's %d: %w", db.path, v, len(files), ErrSchema)
	}
	for i := v; i < len(files); i++ {
		script, err := migrations.ReadFile(files[i])
		if err != nil {
			return err
		}
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate store %q: %w", db.path, err)
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate store %q: %s: %w", db.path, files[i], err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate store %q: set version %d: %w", db.path, i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate store %q: commit %s: %w", db.path, files[i], err)
		}
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	var errs []error
	if db.ws != nil {
		db.ws.close()
	}
	if db.rs != nil {
		db.rs.close()
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	return errors.Join(errs...)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Ping checks that the database can be written: it takes the write lock,
// writes more than its free pages hold, deletes it and commits, so that
// the WAL is written and synced and the file could grow. A full disk, a read-only file or a lost lock all
// fail it.
func (db *DB) Ping(ctx context.Context) error {
	if db.w == nil {
		return fmt.Errorf("ping store %q: opened read-only", db.path)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ping store %q: %w", db.path, err)
	}
	defer tx.Rollback()
	// Free pages would take the probe without the file growing; it is
	// made larger than they are (up to a bound), so that it needs room
	// the database does not have yet.
	var free, pageSize int64
	if err := tx.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return fmt.Errorf("ping store %q: %w", db.path, err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return fmt.Errorf("ping store %q: %w", db.path, err)
	}
	probe := (min(free, 256) + 4) * pageSize / 2 // hex doubles it
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (tenant_id, key, value) VALUES ('_system', 'probe', hex(randomblob(?)))", probe); err != nil {
		return fmt.Errorf("ping store %q: %w", db.path, err)
	}
	// A rollback would never touch the files: only a commit shows that
	// they can still be written.
	if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE tenant_id = '_system' AND key = 'probe'"); err != nil {
		return fmt.Errorf("ping store %q: %w", db.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ping store %q: %w", db.path, err)
	}
	return nil
}
