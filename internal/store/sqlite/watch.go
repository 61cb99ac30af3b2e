package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/watch"
)

var _ watch.Store = (*DB)(nil)

// DefaultPruneBatch is how many series rows PruneSeries deletes per
// transaction: SQLite has one writer, and appends wait for a delete.
const DefaultPruneBatch = 5000

// MonitorState returns the tenant's checkpoint, or nil when there is none.
func (db *DB) MonitorState(ctx context.Context, tenant string) (*watch.State, error) {
	var (
		st      watch.State
		updated int64
	)
	err := db.r.QueryRowContext(ctx, "SELECT next_seq, snapshot, updated_us FROM monitor_state WHERE tenant_id = ?", tenant).
		Scan(&st.Next, &st.Snapshot, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("monitor state of %q: %w", tenant, err)
	}
	st.Updated = fromMicros(updated)
	return &st, nil
}

// PutMonitorState replaces the tenant's checkpoint; it is durable when it
// returns (synchronous=FULL).
func (db *DB) PutMonitorState(ctx context.Context, tenant string, st *watch.State) error {
	if db.w == nil {
		return fmt.Errorf("store monitor state of %q: store opened read-only", tenant)
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO monitor_state (tenant_id, next_seq, snapshot, updated_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET next_seq = excluded.next_seq, snapshot = excluded.snapshot, updated_us = excluded.updated_us`,
		tenant, st.Next, orNoBytes(st.Snapshot), micros(st.Updated))
	if err != nil {
		return fmt.Errorf("store monitor state of %q at %d: %w", tenant, st.Next, err)
	}
	return nil
}

// orNoBytes keeps a nil slice out of a NOT NULL column.
func orNoBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PutSeries stores points in one transaction, replacing any of the same
// agent and bucket (a later point of the same call wins).
func (db *DB) PutSeries(ctx context.Context, tenant string, points []watch.Point) error {
	if len(points) == 0 {
		return nil
	}
	if db.w == nil {
		return fmt.Errorf("store series of %q: store opened read-only", tenant)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store series of %q: %w", tenant, err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO monitor_series (tenant_id, agent, bucket_us, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, agent, bucket_us) DO UPDATE SET data = excluded.data`)
	if err != nil {
		return fmt.Errorf("store series of %q: %w", tenant, err)
	}
	defer stmt.Close()
	for _, p := range points {
		if _, err := stmt.ExecContext(ctx, tenant, p.Agent, micros(p.Bucket), orNoBytes(p.Data)); err != nil {
			return fmt.Errorf("store series of %q: agent %q at %s: %w", tenant, p.Agent, p.Bucket.Format(time.RFC3339), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store series of %q: commit: %w", tenant, err)
	}
	return nil
}

// Series returns an agent's points with Bucket in [from, to), oldest first.
func (db *DB) Series(ctx context.Context, tenant, agent string, from, to time.Time, limit int) ([]watch.Point, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("series of %q in %q: limit %d is not positive", agent, tenant, limit)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT bucket_us, data FROM monitor_series
		WHERE tenant_id = ? AND agent = ? AND bucket_us >= ? AND bucket_us < ? ORDER BY bucket_us LIMIT ?`,
		tenant, agent, ceilMicros(from), ceilMicros(to), limit)
	if err != nil {
		return nil, fmt.Errorf("series of %q in %q: %w", agent, tenant, err)
	}
	defer rows.Close()
	var out []watch.Point
	for rows.Next() {
		p := watch.Point{Agent: agent}
		var bucket int64
		if err := rows.Scan(&bucket, &p.Data); err != nil {
			return nil, fmt.Errorf("series of %q in %q: %w", agent, tenant, err)
		}
		p.Bucket = fromMicros(bucket)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("series of %q in %q: %w", agent, tenant, err)
	}
	return out, nil
}

// MonitorAgents returns the agents with points, by agent id, after the
// agent id after ("" for the first page).
func (db *DB) MonitorAgents(ctx context.Context, tenant, after string, limit int) ([]watch.AgentSummary, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("monitored agents of %q: limit %d is not positive", tenant, limit)
	}
	// The primary key orders the rows by agent and bucket: one range scan.
	rows, err := db.r.QueryContext(ctx, `SELECT agent, MIN(bucket_us), MAX(bucket_us), COUNT(*) FROM monitor_series
		WHERE tenant_id = ? AND agent > ? GROUP BY agent ORDER BY agent LIMIT ?`, tenant, after, limit)
	if err != nil {
		return nil, fmt.Errorf("monitored agents of %q: %w", tenant, err)
	}
	defer rows.Close()
	var out []watch.AgentSummary
	for rows.Next() {
		var (
			s           watch.AgentSummary
			first, last int64
		)
		if err := rows.Scan(&s.Agent, &first, &last, &s.Buckets); err != nil {
			return nil, fmt.Errorf("monitored agents of %q: %w", tenant, err)
		}
		s.First, s.Last = fromMicros(first), fromMicros(last)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("monitored agents of %q: %w", tenant, err)
	}
	return out, nil
}

// PruneSeries deletes every tenant's points with Bucket before t, in
// transactions of DefaultPruneBatch rows, and returns how many.
func (db *DB) PruneSeries(ctx context.Context, before time.Time) (int64, error) {
	if db.w == nil {
		return 0, errors.New("prune series: store opened read-only")
	}
	var total int64
	for {
		res, err := db.w.ExecContext(ctx, `DELETE FROM monitor_series WHERE rowid IN
			(SELECT rowid FROM monitor_series WHERE bucket_us < ? LIMIT ?)`, ceilMicros(before), DefaultPruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune series before %s: %w", before.Format(time.RFC3339), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune series before %s: %w", before.Format(time.RFC3339), err)
		}
		total += n
		if n < DefaultPruneBatch {
			return total, nil
		}
	}
}
