package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache keeps prepared statements of one *sql.DB by their SQL text.
// The driver compiles SQL on every Exec and Query otherwise, which on the
// decision path cost more CPU than executing the statements. database/sql
// prepares a cached statement once per pooled connection and reuses it,
// also inside transactions (Tx.StmtContext).
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// lookup returns query's statement if it was prepared before.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// get returns the prepared statement for query, preparing it once. It
// needs a free connection of the pool, so it is only called when the
// store opens (the writer's only connection is held by every transaction).
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	c.m[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// scanner is a single-row result.
type scanner interface{ Scan(dest ...any) error }

// readerStatements are the reads of the decision path, prepared on the
// read pool when the store opens.
var readerStatements = []string{sqlKeyByID, sqlActivePolicy, sqlPolicyVersion, sqlReadHead, sqlCandidate, sqlControlsVersion}

// queryRow runs a single-row query on the read pool, a prepared one when
// the store has it.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) scanner {
	if s := db.rs.lookup(query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, query, args...)
}

// writerStatements are the statements of the append path, prepared on
// the writer when the store opens. The writer has one connection, which a
// transaction holds, so nothing can be prepared for reuse during one.
var writerStatements = []string{
	sqlInsertEntry, sqlReadHead, sqlReadHash, sqlRegisterLog, sqlInsertReceipt, sqlControlsVersion,
	"SAVEPOINT entry", "ROLLBACK TO entry", "RELEASE entry",
}

func (c *stmtCache) prepareAll(ctx context.Context, queries []string) error {
	for _, q := range queries {
		if _, err := c.get(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// exec runs a statement in the append transaction, a prepared one when
// the store has it.
func (t *appendTx) exec(query string, args ...any) (sql.Result, error) {
	if s := t.ws.lookup(query); s != nil {
		return t.tx.StmtContext(t.ctx, s).ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}

// queryRow runs a single-row query in the append transaction, a prepared
// one when the store has it.
func (t *appendTx) queryRow(query string, args ...any) scanner {
	if s := t.ws.lookup(query); s != nil {
		return t.tx.StmtContext(t.ctx, s).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}
