package postgres_test

import (
	"context"
	"testing"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// TestAppendCostIgnoresLogSize guards the plan of the tree-hash lookup
// every append runs. Prepared on a small, never-analyzed table (a fresh
// database with autovacuum off), a cached generic plan for
// "tenant_id = $1 AND seq = ANY($2)" used an index on tenant_id alone, so
// each append scanned the tenant's whole log: appends slowed down linearly
// with its size. The test counts index and heap tuples PostgreSQL reads.
func TestAppendCostIgnoresLogSize(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v, want nil", err)
	}
	// One connection: every statement shares one plan cache, and its
	// statistics can be flushed on demand.
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 1, MinConns: 1})
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	defer db.Close()
	signer, _ := storetest.NewKey(t)
	l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	const tenant = storetest.TenantA
	// Enough appends on a tiny table for PostgreSQL to settle on a generic plan.
	storetest.AppendN(t, l, tenant, 12)

	// Make a scan of the whole tenant expensive to count: rows far beyond
	// the log's end, which no correct lookup touches.
	const filler = 20_000
	if _, err := db.Pool().Exec(ctx, `INSERT INTO entries (tenant_id, seq, id, kind, time_us, data, hashes)
		SELECT $1, g, 'filler_' || g, 'filler', 0, '\x00', '\x00' FROM generate_series($2::bigint, $2::bigint + $3 - 1) g`,
		tenant, int64(1)<<40, filler); err != nil {
		t.Fatal(err)
	}

	before := tuplesRead(t, db)
	const appends = 10
	storetest.AppendN(t, l, tenant, appends)
	read := tuplesRead(t, db) - before
	t.Logf("%d appends read %d tuples of entries beside %d filler rows", appends, read, filler)
	// A lookup by primary key reads a few tuples per append; one scan of the
	// tenant reads every filler row.
	if read > filler/2 {
		t.Fatalf("%d appends read %d tuples of entries, want a few per append: a lookup scans the tenant's whole log", appends, read)
	}
}

// tuplesRead returns how many tuples of entries this database's statements
// have read so far, through any index or by sequential scan.
func tuplesRead(t *testing.T, db *postgres.DB) int64 {
	t.Helper()
	ctx := context.Background()
	// The lone pooled connection publishes its pending counts as it goes idle.
	if _, err := db.Pool().Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
		t.Fatal(err)
	}
	var n int64
	err := db.Pool().QueryRow(ctx, `SELECT COALESCE(SUM(idx_tup_read), 0) +
		(SELECT COALESCE(seq_tup_read, 0) FROM pg_stat_user_tables WHERE relname = 'entries')
		FROM pg_stat_user_indexes WHERE relname = 'entries'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
