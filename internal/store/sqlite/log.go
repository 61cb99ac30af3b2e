package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

// The statements of the append path (see writerStatements).
const (
	sqlInsertEntry = "INSERT INTO entries (tenant_id, seq, id, kind, time_us, data, hashes) VALUES (?, ?, ?, ?, ?, ?, ?)"
	sqlReadHead    = "SELECT seq, time_us, hashes FROM entries WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1"
	sqlReadHash    = "SELECT hashes FROM entries WHERE tenant_id = ? AND seq = ?"
	sqlRegisterLog = "INSERT OR IGNORE INTO logs (tenant_id, created_us) VALUES (?, ?)"
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

// rowQuerier runs a single-row query: on the read pool or in the append
// transaction, with cached statements either way.
type rowQuerier func(query string, args ...any) scanner

func (db *DB) rows(ctx context.Context) rowQuerier {
	return func(q string, args ...any) scanner { return db.queryRow(ctx, q, args...) }
}

// Append runs fn in one write transaction (BEGIN IMMEDIATE: SQLite's single
// writer lock) and commits it; with synchronous=FULL the commit is durable
// when it returns.
func (db *DB) Append(ctx context.Context, tenant string, fn func(ledger.Tx) error) error {
	if db.w == nil {
		return fmt.Errorf("append to %q: store opened read-only", tenant)
	}
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append to %q: begin: %w", tenant, err)
	}
	tx := &appendTx{ctx: ctx, tx: sqlTx, ws: db.ws, tenant: tenant, hashes: map[int64]tlog.Hash{}}
	if db.cache != nil {
		// Runs after the rollback below: once the transaction has ended,
		// whether it committed or not, and before Append returns.
		defer func() {
			if tx.stateChanged {
				db.cache.invalidate()
			}
		}()
	}
	defer sqlTx.Rollback()
	if tx.head, err = readHead(tx.queryRow, tenant); err != nil {
		return err
	}
	tx.start = tx.head.Size
	if err := fn(tx); err != nil {
		return err
	}
	if tx.head.Size > tx.start && tx.start == 0 {
		if _, err := tx.exec(sqlRegisterLog,
			tenant, micros(time.Now())); err != nil {
			return fmt.Errorf("append to %q: register log: %w", tenant, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("append to %q: commit: %w", tenant, err)
	}
	return nil
}

func readHead(q rowQuerier, tenant string) (ledger.Head, error) {
	var (
		h      ledger.Head
		seq    int64
		timeUS int64
		hashes []byte
	)
	err := q(sqlReadHead, tenant).
		Scan(&seq, &timeUS, &hashes)
	if errors.Is(err, sql.ErrNoRows) {
		return h, nil
	}
	if err != nil {
		return h, fmt.Errorf("read head of %q: %w", tenant, err)
	}
	if len(hashes) < len(h.LastHash) {
		return h, fmt.Errorf("read head of %q: seq %d has %d bytes of hashes", tenant, seq, len(hashes))
	}
	h.Size = seq + 1
	copy(h.LastHash[:], hashes)
	h.LastTime = fromMicros(timeUS)
	return h, nil
}

// appendTx is one append transaction. It tracks the head and the hashes
// it inserted so that tlog can read them before the commit.
type appendTx struct {
	ctx    context.Context
	tx     *sql.Tx
	ws     *stmtCache
	tenant string
	start  int64
	head   ledger.Head
	hashes map[int64]tlog.Hash
	// stateChanged is set by every write to what stateCache keeps.
	stateChanged bool
	// controls is the tenant's controls version when controlsKnown.
	controls      int64
	controlsKnown bool
}

func (t *appendTx) Head() ledger.Head { return t.head }

func (t *appendTx) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if h, ok := t.hashes[idx]; ok {
			out[i] = h
			continue
		}
		h, err := readHash(t.queryRow, t.tenant, idx)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func (t *appendTx) Insert(r *ledger.Record) error {
	if r.Seq != t.head.Size {
		return fmt.Errorf("insert seq %d into %q at size %d", r.Seq, t.tenant, t.head.Size)
	}
	blob := ledger.JoinHashes(r.Hashes)
	if _, err := t.exec(sqlInsertEntry, t.tenant, r.Seq, r.ID, r.Kind, micros(r.Time), r.Data, blob); err != nil {
		return fmt.Errorf("insert seq %d into %q: %w", r.Seq, t.tenant, err)
	}
	if err := t.insertIndex(r); err != nil {
		return fmt.Errorf("insert seq %d into %q: %w", r.Seq, t.tenant, err)
	}
	base := tlog.StoredHashIndex(0, r.Seq)
	for i, h := range r.Hashes {
		t.hashes[base+int64(i)] = h
	}
	t.head = ledger.Head{Size: r.Seq + 1, LastHash: r.Hashes[0], LastTime: r.Time}
	return nil
}

// Isolate runs fn inside a savepoint and undoes fn's writes if it fails.
func (t *appendTx) Isolate(fn func() error) error {
	// Savepoints are never nested here (each is released or rolled back
	// before the next), so one name serves, and its statements are cached.
	if _, err := t.exec("SAVEPOINT entry"); err != nil {
		return &ledger.TxError{Op: "savepoint", Err: err}
	}
	head := t.head
	if err := fn(); err != nil {
		t.controlsKnown = false // fn may have read a version it then undid
		_, rerr := t.exec("ROLLBACK TO entry")
		if rerr == nil {
			_, rerr = t.exec("RELEASE entry")
		}
		if rerr != nil {
			return &ledger.TxError{Op: "rollback to savepoint", Err: errors.Join(err, rerr)}
		}
		for s := head.Size; s < t.head.Size; s++ {
			base := tlog.StoredHashIndex(0, s)
			for idx := base; idx < tlog.StoredHashIndex(0, s+1); idx++ {
				delete(t.hashes, idx)
			}
		}
		t.head = head
		return err
	}
	if _, err := t.exec("RELEASE entry"); err != nil {
		return &ledger.TxError{Op: "release savepoint", Err: err}
	}
	return nil
}

// readHash reads one stored tree hash. The hash with stored index idx
// (level L, node k) was written by record (k+1)<<L - 1, at offset L of
// that record's hashes.
func readHash(q rowQuerier, tenant string, idx int64) (tlog.Hash, error) {
	var h tlog.Hash
	seq, pos := ledger.HashLocation(idx)
	var blob []byte
	err := q(sqlReadHash, tenant, seq).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("read tree hash %d of %q: seq %d: %w", idx, tenant, seq, ledger.ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("read tree hash %d of %q: %w", idx, tenant, err)
	}
	h, err = ledger.HashAt(blob, seq, pos)
	if err != nil {
		return h, fmt.Errorf("read tree hash %d of %q: %w", idx, tenant, err)
	}
	return h, nil
}

// Head returns the head of a tenant's log.
func (db *DB) Head(ctx context.Context, tenant string) (ledger.Head, error) {
	return readHead(db.rows(ctx), tenant)
}

// ReadHashes reads stored tree hashes of a tenant's log, in one query
// (a proof needs about twenty).
func (db *DB) ReadHashes(ctx context.Context, tenant string, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	seqs := make([]int64, len(indexes))
	levels := make([]int, len(indexes))
	args := make([]any, 0, len(indexes)+1)
	args = append(args, tenant)
	marks := make([]string, len(indexes))
	for i, idx := range indexes {
		seqs[i], levels[i] = ledger.HashLocation(idx)
		args = append(args, seqs[i])
		marks[i] = "?"
	}
	rows, err := db.r.QueryContext(ctx, "SELECT seq, hashes FROM entries WHERE tenant_id = ? AND seq IN ("+
		strings.Join(marks, ",")+")", args...)
	if err != nil {
		return nil, fmt.Errorf("read tree hashes of %q: %w", tenant, err)
	}
	defer rows.Close()
	blobs := make(map[int64][]byte, len(indexes))
	for rows.Next() {
		var seq int64
		var blob []byte
		if err := rows.Scan(&seq, &blob); err != nil {
			return nil, fmt.Errorf("read tree hashes of %q: %w", tenant, err)
		}
		blobs[seq] = blob
	}
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

const recordColumns = "seq, id, kind, time_us, data, hashes"

func scanRecord(sc interface{ Scan(...any) error }) (ledger.Record, error) {
	var (
		r      ledger.Record
		timeUS int64
		blob   []byte
	)
	if err := sc.Scan(&r.Seq, &r.ID, &r.Kind, &timeUS, &r.Data, &blob); err != nil {
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

// scanRecordRows is scanRecord for a row of a walk: the blobs are read
// in place (sql.RawBytes) and copied once, not twice (driver and Scan).
func scanRecordRows(rows *sql.Rows) (ledger.Record, error) {
	var (
		r            ledger.Record
		timeUS       int64
		data, hashes sql.RawBytes
	)
	if err := rows.Scan(&r.Seq, &r.ID, &r.Kind, &timeUS, &data, &hashes); err != nil {
		return r, err
	}
	r.Time = fromMicros(timeUS)
	r.Data = bytes.Clone(data)
	hs, err := ledger.SplitHashes(hashes)
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
	rows, err := db.r.QueryContext(ctx, "SELECT "+recordColumns+
		" FROM entries WHERE tenant_id = ? AND seq >= ? AND seq < ? ORDER BY seq LIMIT ?", tenant, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("read entries of %q from %d: %w", tenant, from, err)
	}
	defer rows.Close()
	var out []ledger.Record
	for rows.Next() {
		r, err := scanRecordRows(rows)
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
	r, err := scanRecord(db.r.QueryRowContext(ctx, "SELECT "+recordColumns+
		" FROM entries WHERE tenant_id = ? AND id = ?", tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
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
	var seq sql.NullInt64
	err := db.r.QueryRowContext(ctx,
		"SELECT MIN(seq) FROM entries WHERE tenant_id = ? AND time_us >= ?", tenant, us).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("seq at %s in %q: %w", t.Format(time.RFC3339), tenant, err)
	}
	if seq.Valid {
		return seq.Int64, nil
	}
	h, err := db.Head(ctx, tenant)
	return h.Size, err
}

// PutCheckpoint stores a signed checkpoint. A checkpoint no larger than
// the latest stored one is refused: sizes only grow.
func (db *DB) PutCheckpoint(ctx context.Context, tenant string, cp ledger.StoredCheckpoint) error {
	if db.w == nil {
		return fmt.Errorf("store checkpoint of %q: store opened read-only", tenant)
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO checkpoints (tenant_id, size, note, created_us)
		SELECT ?, ?, ?, ? WHERE ? > COALESCE((SELECT MAX(size) FROM checkpoints WHERE tenant_id = ?), 0)`,
		tenant, cp.Size, cp.Note, micros(cp.Time), cp.Size, tenant)
	if err != nil {
		return fmt.Errorf("store checkpoint %d of %q: %w", cp.Size, tenant, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store checkpoint %d of %q: not larger than the latest", cp.Size, tenant)
	}
	return nil
}

// LatestCheckpoint returns the largest stored checkpoint.
func (db *DB) LatestCheckpoint(ctx context.Context, tenant string) (*ledger.StoredCheckpoint, error) {
	cps, err := db.queryCheckpoints(ctx,
		"SELECT size, note, created_us FROM checkpoints WHERE tenant_id = ? ORDER BY size DESC LIMIT 1", tenant)
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
		"SELECT size, note, created_us FROM checkpoints WHERE tenant_id = ? AND size >= ? AND size <= ? ORDER BY size",
		tenant, from, to)
}

func (db *DB) queryCheckpoints(ctx context.Context, query string, args ...any) ([]ledger.StoredCheckpoint, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
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
	rows, err := db.r.QueryContext(ctx, "SELECT tenant_id FROM logs ORDER BY tenant_id")
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list logs: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
