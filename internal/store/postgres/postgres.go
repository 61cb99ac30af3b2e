// Package postgres is Warden's store for several replicas: one PostgreSQL
// database (pgx/v5) shared by every `warden serve`. Appends to a tenant's
// log are serialized by a row lock on the log's head, commits are durable
// (synchronous_commit=on, checked at open), and coordination between
// replicas (change feed, singleton jobs) runs through the same database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
)

var (
	_ ledger.Store     = (*DB)(nil)
	_ access.KeyReader = (*DB)(nil)
)

//go:embed migrations/*.sql
var migrations embed.FS

// Pool defaults.
const (
	DefaultMaxConns        = 16
	DefaultMinConns        = 2
	DefaultConnMaxLifetime = time.Hour
	DefaultConnectTimeout  = 10 * time.Second
)

// ErrSchema is returned when the database is not migrated to this
// binary's schema (unmigrated, behind or newer).
var ErrSchema = errors.New("database schema does not match this binary")

// Options configure Open. Zero fields take the Default* values; settings
// given in the URL (pool_max_conns=...) win over them.
type Options struct {
	MaxConns        int32
	MinConns        int32
	ConnMaxLifetime time.Duration
}

// DB is the PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool
	dsn  string
}

// IsURL reports whether s names a PostgreSQL database.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func poolConfig(dsn string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: parse database URL: %w", redact(err, dsn))
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
		if opts.MaxConns > 0 {
			cfg.MaxConns = opts.MaxConns
		}
	}
	if !strings.Contains(dsn, "pool_min_conns") {
		cfg.MinConns = DefaultMinConns
		if opts.MinConns > 0 {
			cfg.MinConns = opts.MinConns
		}
	}
	cfg.MaxConnLifetime = DefaultConnMaxLifetime
	if opts.ConnMaxLifetime > 0 {
		cfg.MaxConnLifetime = opts.ConnMaxLifetime
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	// Every commit of this store is durable before it is acknowledged.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "warden"
	return cfg, nil
}

// redact keeps a password in the URL out of error messages.
func redact(err error, dsn string) error {
	cfg, perr := pgx.ParseConfig(dsn)
	if perr != nil || cfg.Password == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), cfg.Password, "xxxxx"))
}

// Open connects to the database and checks that it is migrated to this
// binary's schema and that commits are synchronous. It never migrates:
// run Migrate (warden migrate) first.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := poolConfig(dsn, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", redact(err, dsn))
	}
	db := &DB{pool: pool, dsn: dsn}
	if err := db.check(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) check(ctx context.Context) error {
	var sync string
	if err := db.pool.QueryRow(ctx, "SHOW synchronous_commit").Scan(&sync); err != nil {
		return fmt.Errorf("open store: %w", redact(err, db.dsn))
	}
	if sync != "on" {
		return fmt.Errorf("open store: synchronous_commit is %q, want on", sync)
	}
	v, err := schemaVersion(ctx, db.pool)
	if err != nil {
		return err
	}
	want := len(migrationFiles())
	switch {
	case v == 0:
		return fmt.Errorf("open store: the database is not migrated; run 'warden migrate --database ...' first: %w", ErrSchema)
	case v < want:
		return fmt.Errorf("open store: schema version %d, this binary needs %d; run 'warden migrate --database ...': %w", v, want, ErrSchema)
	case v > want:
		return fmt.Errorf("open store: schema version %d is newer than this binary's %d; upgrade warden: %w", v, want, ErrSchema)
	}
	return nil
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func schemaVersion(ctx context.Context, q queryRower) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass('warden_schema') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := q.QueryRow(ctx, "SELECT version FROM warden_schema WHERE tenant_id = '_system'").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func migrationFiles() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// migrateLock is the advisory lock key that serializes migrators.
const migrateLock = 0x77617264656e00 // "warden\0"

// Migrate brings the database to this binary's schema. It is idempotent,
// safe to run from several processes at once (an advisory lock serializes
// them), applies each migration in its own transaction, and refuses a
// schema newer than the binary. It returns the versions before and after.
func Migrate(ctx context.Context, dsn string) (from, to int, err error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: parse database URL: %w", redact(err, dsn))
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", redact(err, dsn))
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLock)); err != nil {
		return 0, 0, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrateLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS warden_schema (
		tenant_id text NOT NULL PRIMARY KEY, version integer NOT NULL)`); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	from, err = schemaVersion(ctx, conn)
	if err != nil {
		return 0, 0, err
	}
	files := migrationFiles()
	if from > len(files) {
		return from, from, fmt.Errorf("migrate: schema version %d is newer than this binary's %d: %w", from, len(files), ErrSchema)
	}
	for i := from; i < len(files); i++ {
		script, err := migrations.ReadFile(files[i])
		if err != nil {
			return from, i, err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(script)); err != nil {
				return fmt.Errorf("%s: %w", files[i], err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO warden_schema (tenant_id, version) VALUES ('_system', $1)
				ON CONFLICT (tenant_id) DO UPDATE SET version = EXCLUDED.version`, i+1)
			return err
		})
		if err != nil {
			return from, i, fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	return from, len(files), nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Pool returns the connection pool, for the coordination primitives.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database takes a durable write: it commits a small
// update. A read-only server, a full disk or a lost connection fail it.
func (db *DB) Ping(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO meta (tenant_id, key, value) VALUES ('_system', 'probe', $1)
		ON CONFLICT (tenant_id, key) DO UPDATE SET value = EXCLUDED.value`, strconv.FormatInt(time.Now().UnixMicro(), 10))
	if err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}
