package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// ceilMicros is t in whole microseconds, rounded up: stored times are
// whole microseconds, so a stored time is at or after t exactly when it
// is at or after ceilMicros(t).
func ceilMicros(t time.Time) int64 {
	us := micros(t)
	if fromMicros(us).Before(t) {
		us++
	}
	return us
}

// Append runs fn in one transaction holding the row lock on the tenant's
// log head, so appends from every replica are serialized, and commits it
// (synchronous_commit=on: durable when Commit returns). Records inserted by
// fn are written in one COPY before the head moves.
func (db *DB) Append(ctx context.Context, tenant string, fn func(ledger.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var (
			size, timeUS int64
			last         []byte
		)
		// The upsert both creates a new log's head and takes its row lock.
		err := tx.QueryRow(ctx, `INSERT INTO log_heads (tenant_id, size, last_hash, last_time_us) VALUES ($1, 0, ''::bytea, 0)
			ON CONFLICT (tenant_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id
			RETURNING size, last_hash, last_time_us`, tenant).Scan(&size, &last, &timeUS)
		if err != nil {
			return fmt.Errorf("append to %q: lock head: %w", tenant, err)
		}
		t := &appendTx{ctx: ctx, tx: tx, tenant: tenant, hashes: map[int64]tlog.Hash{}, start: size}
		t.head.Size = size
		if size > 0 {
			if len(last) != len(tlog.Hash{}) {
				return fmt.Errorf("append to %q: head hash has %d bytes", tenant, len(last))
			}
			copy(t.head.LastHash[:], last)
			t.head.LastTime = fromMicros(timeUS)
		}
		if err := t.prefetchFrontier(); err != nil {
			return err
		}
		start := t.head.Size
		if err := fn(t); err != nil {
			return err
		}
		if err := t.flush(); err != nil {
			return err
		}
		if t.head.Size == start {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE log_heads SET size = $2, last_hash = $3, last_time_us = $4 WHERE tenant_id = $1",
			tenant, t.head.Size, t.head.LastHash[:], micros(t.head.LastTime)); err != nil {
			return fmt.Errorf("append to %q: move head: %w", tenant, err)
		}
		return nil
	})
}

// appendTx is one append transaction. Inserted records wait in pending
// until the batch's COPY (or a savepoint) flushes them.
type appendTx struct {
	ctx     context.Context
	tx      pgx.Tx
	tenant  string
	start   int64 // the log's size when the transaction began
	head    ledger.Head
	hashes  map[int64]tlog.Hash
	pending []*ledger.Record
	sp      int
}

func (t *appendTx) Head() ledger.Head { return t.head }

// prefetchFrontier loads the roots of the complete subtrees of the tree
// as it stands. Appending reads only those and hashes made in this
// transaction, so a batch needs one query for all its tree hashes.
func (t *appendTx) prefetchFrontier() error {
	var idx []int64
	start := int64(0)
	for level := 62; level >= 0; level-- {
		if t.head.Size&(1<<level) != 0 {
			idx = append(idx, tlog.StoredHashIndex(level, start>>level))
			start += 1 << level
		}
	}
	if len(idx) == 0 {
		return nil
	}
	hs, err := readHashes(t.ctx, t.tx, t.tenant, idx)
	if err != nil {
		return &ledger.TxError{Op: "read tree frontier", Err: err}
	}
	for i, h := range hs {
		t.hashes[idx[i]] = h
	}
	return nil
}

func (t *appendTx) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, idx := range indexes {
		if h, ok := t.hashes[idx]; ok {
			out[i] = h
		} else {
			missing = append(missing, idx)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if err := t.flush(); err != nil {
		return nil, err
	}
	hs, err := readHashes(t.ctx, t.tx, t.tenant, missing)
	if err != nil {
		return nil, err
	}
	for i, idx := range missing {
		t.hashes[idx] = hs[i]
	}
	for i, idx := range indexes {
		out[i] = t.hashes[idx]
	}
	return out, nil
}

func (t *appendTx) Insert(r *ledger.Record) error {
	if r.Seq != t.head.Size {
		return fmt.Errorf("insert seq %d into %q at size %d", r.Seq, t.tenant, t.head.Size)
	}
	t.pending = append(t.pending, r)
	base := tlog.StoredHashIndex(0, r.Seq)
	for i, h := range r.Hashes {
		t.hashes[base+int64(i)] = h
	}
	t.head = ledger.Head{Size: r.Seq + 1, LastHash: r.Hashes[0], LastTime: r.Time}
	return nil
}

// flush writes pending records with one COPY.
func (t *appendTx) flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	index, err := t.indexRows()
	if err != nil {
		return &ledger.TxError{Op: "index rows", Err: err}
	}
	rows := make([][]any, len(t.pending))
	for i, r := range t.pending {
		rows[i] = []any{t.tenant, r.Seq, r.ID, r.Kind, micros(r.Time), r.Data, ledger.JoinHashes(r.Hashes)}
	}
	n, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"entries"},
		[]string{"tenant_id", "seq", "id", "kind", "time_us", "data", "hashes"}, pgx.CopyFromRows(rows))
	if err != nil {
		return &ledger.TxError{Op: fmt.Sprintf("write %d entries of %q", len(rows), t.tenant), Err: err}
	}
	if n != int64(len(rows)) {
		return &ledger.TxError{Op: "write entries", Err: fmt.Errorf("wrote %d of %d", n, len(rows))}
	}
	if err := t.copyReceipts(index); err != nil {
		return &ledger.TxError{Op: fmt.Sprintf("write receipts of %q", t.tenant), Err: err}
	}
	t.pending = t.pending[:0]
	return nil
}

// Isolate runs fn inside a savepoint and undoes fn's writes if it fails.
// Pending records are flushed first so the savepoint covers exactly fn.
func (t *appendTx) Isolate(fn func() error) error {
	if err := t.flush(); err != nil {
		return err
	}
	t.sp++
	name := fmt.Sprintf("entry%d", t.sp)
	if _, err := t.tx.Exec(t.ctx, "SAVEPOINT "+name); err != nil {
		return &ledger.TxError{Op: "savepoint", Err: err}
	}
	head := t.head
	err := fn()
	if err == nil {
		err = t.flush()
		var txe *ledger.TxError
		if errors.As(err, &txe) {
			// The record was fn's own: a failed write of it rejects it alone.
			err = txe.Err
		}
	}
	if err != nil {
		if _, rerr := t.tx.Exec(t.ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return &ledger.TxError{Op: "rollback to savepoint", Err: errors.Join(err, rerr)}
		}
		for s := head.Size; s < t.head.Size; s++ {
			for idx := tlog.StoredHashIndex(0, s); idx < tlog.StoredHashIndex(0, s+1); idx++ {
				delete(t.hashes, idx)
			}
		}
		t.pending = t.pending[:0]
		t.head = head
		return err
	}
	if _, err := t.tx.Exec(t.ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return &ledger.TxError{Op: "release savepoint", Err: err}
	}
	return nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readHashes reads stored tree hashes in one query. The hash with stored
// index idx (level L, node k) was written by record (k+1)<<L - 1, at
// offset L of that record's hashes.
func readHashes(ctx context.Context, q querier, tenant string, indexes []int64) ([]tlog.Hash, error) {
	seqs := make([]int64, len(indexes))
	levels := make([]int, len(indexes))
	for i, idx := range indexes {
		seqs[i], levels[i] = ledger.HashLocation(idx)
	}
	// An unnamed statement is planned for its actual seqs every time. A
	// cached generic plan made while the table was small (and never
	// analyzed since, as with autovacuum off) may use an index on tenant_id
	// alone and scan the whole log on every append.
	rows, err := q.Query(ctx, "SELECT seq, hashes FROM entries WHERE tenant_id = $1 AND seq = ANY($2)",
		pgx.QueryExecModeExec, tenant, seqs)
	if err != nil {
		return nil, fmt.Errorf("read tree hashes of %q: %w", tenant, err)
	}
	blobs := map[int64][]byte{}
	for rows.Next() {
		var seq int64
		var blob []byte
		if err := rows.Scan(&seq, &blob); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read tree hashes of %q: %w", tenant, err)
		}
		blobs[seq] = blob
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tree hashes of %q: %w", tenant, err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i := range indexes {
		blob, ok := blobs[seqs[i]]
		if !ok {
			return nil, fmt.Errorf("read tree hash %d of %q: seq %d: %w", indexes[i], tenant, seqs[i], ledger.ErrNotFound)
		}
		h, err := ledger.HashAt(blob, seqs[i], levels[i])
		if err != nil {
			return nil, fmt.Errorf("read tree hash %d of %q: %w", indexes[i], tenant, err)
		}
		out[i] = h
	}
	return out, nil
}

// Head returns the head of a tenant's log.
func (db *DB) Head(ctx context.Context, tenant string) (ledger.Head, error) {
	var (
		h      ledger.Head
		timeUS int64
		last   []byte
	)
	err := db.pool.QueryRow(ctx, "SELECT size, last_hash, last_time_us FROM log_heads WHERE tenant_id = $1", tenant).
		Scan(&h.Size, &last, &timeUS)
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Head{}, nil
	}
	if err != nil {
		return h, fmt.Errorf("read head of %q: %w", tenant, err)
	}
	if h.Size > 0 {
		copy(h.LastHash[:], last)
		h.LastTime = fromMicros(timeUS)
	}
	return h, nil
}

// ReadHashes reads stored tree hashes of a tenant's log.
func (db *DB) ReadHashes(ctx context.Context, tenant string, indexes []int64) ([]tlog.Hash, error) {
	return readHashes(ctx, db.pool, tenant, indexes)
}

const recordColumns = "seq, id, kind, time_us, data, hashes"

func scanRecord(row pgx.Row) (ledger.Record, error) {
	var (
		r      ledger.Record
		timeUS int64
		blob   []byte
	)
	if err := row.Scan(&r.Seq, &r.ID, &r.Kind, &timeUS, &r.Data, &blob); err != nil {
		return r, err
	}
	r.Time = fromMicros(timeUS)
	hs, err := ledger.SplitHashes(blob)
	if err != nil {
		return r, fmt.Errorf("seq %d: %w", r.Seq, err)
	}
	r.Hashes = hs
	return r, nil
}

// Records returns up to limit records with seq in [from, to), in order.
func (db *DB) Records(ctx context.Context, tenant string, from, to int64, limit int) ([]ledger.Record, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read entries of %q: limit %d is not positive", tenant, limit)
	}
	rows, err := db.pool.Query(ctx, "SELECT "+recordColumns+
		" FROM entries WHERE tenant_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4", tenant, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("read entries of %q from %d: %w", tenant, from, err)
	}
	defer rows.Close()
	var out []ledger.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("read entries of %q: %w", tenant, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read entries of %q: %w", tenant, err)
	}
	return out, nil
}

// RecordByID returns the record with entry id.
func (db *DB) RecordByID(ctx context.Context, tenant, id string) (*ledger.Record, error) {
	r, err := scanRecord(db.pool.QueryRow(ctx, "SELECT "+recordColumns+
		" FROM entries WHERE tenant_id = $1 AND id = $2", tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("entry %q of %q: %w", id, tenant, ledger.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("entry %q of %q: %w", id, tenant, err)
	}
	return &r, nil
}

// SeqAtTime returns the first seq at or after t, or the log size.
func (db *DB) SeqAtTime(ctx context.Context, tenant string, t time.Time) (int64, error) {
	us := ceilMicros(t)
	var seq *int64
	err := db.pool.QueryRow(ctx, "SELECT MIN(seq) FROM entries WHERE tenant_id = $1 AND time_us >= $2", tenant, us).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("seq at %s in %q: %w", t.Format(time.RFC3339), tenant, err)
	}
	if seq != nil {
		return *seq, nil
	}
	h, err := db.Head(ctx, tenant)
	return h.Size, err
}

// PutCheckpoint stores a signed checkpoint larger than the latest one.
func (db *DB) PutCheckpoint(ctx context.Context, tenant string, cp ledger.StoredCheckpoint) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO checkpoints (tenant_id, size, note, created_us)
		SELECT $1, $2, $3, $4 WHERE $2 > COALESCE((SELECT MAX(size) FROM checkpoints WHERE tenant_id = $1), 0)
		ON CONFLICT DO NOTHING`, tenant, cp.Size, cp.Note, micros(cp.Time))
	if err != nil {
		return fmt.Errorf("store checkpoint %d of %q: %w", cp.Size, tenant, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("store checkpoint %d of %q: not larger than the latest", cp.Size, tenant)
	}
	return nil
}

// LatestCheckpoint returns the largest stored checkpoint.
func (db *DB) LatestCheckpoint(ctx context.Context, tenant string) (*ledger.StoredCheckpoint, error) {
	cps, err := db.queryCheckpoints(ctx,
		"SELECT size, note, created_us FROM checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1", tenant)
	if err != nil {
		return nil, err
	}
	if len(cps) == 0 {
		return nil, fmt.Errorf("checkpoint of %q: %w", tenant, ledger.ErrNotFound)
	}
	return &cps[0], nil
}

// Checkpoints returns stored checkpoints with size in [from, to].
func (db *DB) Checkpoints(ctx context.Context, tenant string, from, to int64) ([]ledger.StoredCheckpoint, error) {
	return db.queryCheckpoints(ctx,
		"SELECT size, note, created_us FROM checkpoints WHERE tenant_id = $1 AND size >= $2 AND size <= $3 ORDER BY size",
		tenant, from, to)
}

func (db *DB) queryCheckpoints(ctx context.Context, query string, args ...any) ([]ledger.StoredCheckpoint, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []ledger.StoredCheckpoint
	for rows.Next() {
		var cp ledger.StoredCheckpoint
		var us int64
		if err := rows.Scan(&cp.Size, &cp.Note, &us); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		cp.Time = fromMicros(us)
		out = append(out, cp)
	}
	return out, rows.Err()
}

// Tenants lists the tenants that have a log.
func (db *DB) Tenants(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, "SELECT tenant_id FROM log_heads WHERE size > 0 ORDER BY tenant_id")
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
