package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardenhq/warden/internal/watch"
)

var _ watch.Store = (*DB)(nil)

// MonitorState returns the tenant's checkpoint, or nil when there is none.
func (db *DB) MonitorState(ctx context.Context, tenant string) (*watch.State, error) {
	var (
		st      watch.State
		updated int64
	)
	err := db.pool.QueryRow(ctx, "SELECT next_seq, snapshot, updated_us FROM monitor_state WHERE tenant_id = $1", tenant).
		Scan(&st.Next, &st.Snapshot, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("monitor state of %q: %w", tenant, err)
	}
	st.Updated = fromMicros(updated)
	return &st, nil
}

// PutMonitorState replaces the tenant's checkpoint; it is durable when it
// returns (synchronous_commit=on).
func (db *DB) PutMonitorState(ctx context.Context, tenant string, st *watch.State) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO monitor_state (tenant_id, next_seq, snapshot, updated_us) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET next_seq = EXCLUDED.next_seq, snapshot = EXCLUDED.snapshot, updated_us = EXCLUDED.updated_us`,
		tenant, st.Next, orNoBytes(st.Snapshot), micros(st.Updated))
	if err != nil {
		return fmt.Errorf("store monitor state of %q at %d: %w", tenant, st.Next, err)
	}
	return nil
}

// orNoBytes keeps a nil slice, which pgx sends as NULL, out of a NOT NULL
// column.
func orNoBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PutSeries stores points in one statement, replacing any of the same
// agent and bucket (a later point of the same call wins: one upsert may
// not touch a row twice, so earlier duplicates are dropped first).
func (db *DB) PutSeries(ctx context.Context, tenant string, points []watch.Point) error {
	if len(points) == 0 {
		return nil
	}
	type key struct {
		agent  string
		bucket int64
	}
	at := make(map[key]int, len(points))
	agents := make([]string, 0, len(points))
	buckets := make([]int64, 0, len(points))
	data := make([][]byte, 0, len(points))
	for _, p := range points {
		k := key{p.Agent, micros(p.Bucket)}
		if i, ok := at[k]; ok {
			data[i] = orNoBytes(p.Data)
			continue
		}
		at[k] = len(agents)
		agents, buckets, data = append(agents, k.agent), append(buckets, k.bucket), append(data, orNoBytes(p.Data))
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO monitor_series (tenant_id, agent, bucket_us, data)
		SELECT $1, p.agent, p.bucket_us, p.data FROM unnest($2::text[], $3::bigint[], $4::bytea[]) AS p (agent, bucket_us, data)
		ON CONFLICT (tenant_id, agent, bucket_us) DO UPDATE SET data = EXCLUDED.data`, tenant, agents, buckets, data)
	if err != nil {
		return fmt.Errorf("store %d points of %q: %w", len(agents), tenant, err)
	}
	return nil
}

// Series returns an agent's points with Bucket in [from, to), oldest first.
func (db *DB) Series(ctx context.Context, tenant, agent string, from, to time.Time, limit int) ([]watch.Point, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("series of %q in %q: limit %d is not positive", agent, tenant, limit)
	}
	rows, err := db.pool.Query(ctx, `SELECT bucket_us, data FROM monitor_series
		WHERE tenant_id = $1 AND agent = $2 AND bucket_us >= $3 AND bucket_us < $4 ORDER BY bucket_us LIMIT $5`,
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
	// The primary key orders the rows by agent (byte for byte, COLLATE
	// "C") and bucket: one range scan.
	rows, err := db.pool.Query(ctx, `SELECT agent, MIN(bucket_us), MAX(bucket_us), COUNT(*) FROM monitor_series
		WHERE tenant_id = $1 AND agent > $2 GROUP BY agent ORDER BY agent LIMIT $3`, tenant, after, limit)
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

// PruneSeries deletes every tenant's points with Bucket before t and
// returns how many.
func (db *DB) PruneSeries(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, "DELETE FROM monitor_series WHERE bucket_us < $1", ceilMicros(before))
	if err != nil {
		return 0, fmt.Errorf("prune series before %s: %w", before.Format(time.RFC3339), err)
	}
	return tag.RowsAffected(), nil
}
