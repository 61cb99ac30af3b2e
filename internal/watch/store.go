package watch

import (
	"context"
	"time"
)

// State is what the monitor job checkpoints for one tenant: the
// monitor's snapshot and the seq of the next entry it has not fed it.
// Resuming from a State feeds the entries from Next on, so nothing is
// counted twice or missed.
type State struct {
	// Next is the seq of the first entry the snapshot has not seen.
	Next int64
	// Snapshot is monitor.Monitor.Snapshot's bytes.
	Snapshot []byte
	// Updated is when the state was written.
	Updated time.Time
}

// Point is one agent's bucket of the series the monitor shows: Data is
// the JSON of the bucket's per-metric values (observed, baseline, band,
// CUSUM), as the watch package writes and reads it.
type Point struct {
	Agent  string
	Bucket time.Time // the bucket's start
	Data   []byte
}

// AgentSummary is one agent the monitor has series for.
type AgentSummary struct {
	Agent   string
	First   time.Time // the first bucket kept
	Last    time.Time // the latest bucket
	Buckets int64     // buckets kept
}

// Store keeps the monitor job's checkpoints and series. Another tenant's
// rows are never returned.
type Store interface {
	// MonitorState returns the tenant's checkpoint, or nil (and no error)
	// when there is none.
	MonitorState(ctx context.Context, tenant string) (*State, error)
	// PutMonitorState replaces the tenant's checkpoint, durably.
	PutMonitorState(ctx context.Context, tenant string, st *State) error
	// PutSeries stores points, replacing any of the same agent and bucket.
	PutSeries(ctx context.Context, tenant string, points []Point) error
	// Series returns an agent's points with Bucket in [from, to), oldest
	// first, at most limit (positive).
	Series(ctx context.Context, tenant, agent string, from, to time.Time, limit int) ([]Point, error)
	// MonitorAgents returns the agents with points, by agent id, at most
	// limit (positive), after the agent id after (the cursor, "" for the
	// first page).
	MonitorAgents(ctx context.Context, tenant, after string, limit int) ([]AgentSummary, error)
	// PruneSeries deletes every tenant's points with Bucket before t and
	// returns how many.
	PruneSeries(ctx context.Context, before time.Time) (int64, error)
}
