package postgres

import (
	"context"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/cluster"
)

// Singleton job timing: a replica that does not hold a job tries for it
// every DefaultJobPoll, and the holder checks its lock connection every
// DefaultJobHeartbeat. When a holder dies its connection closes, the
// database releases the lock, and another replica takes the job within a
// poll: well inside 10 seconds.
const (
	DefaultJobPoll      = 2 * time.Second
	DefaultJobHeartbeat = 2 * time.Second
)

// JobsOptions configure Jobs.
type JobsOptions struct {
	Poll      time.Duration
	Heartbeat time.Duration
	Logger    *slog.Logger
}

// Jobs runs singleton jobs under PostgreSQL session advisory locks, each
// held on a connection of its own.
type Jobs struct {
	db   *DB
	opts JobsOptions
}

var _ cluster.Jobs = (*Jobs)(nil)

// NewJobs returns the singleton-job runner of a store.
func NewJobs(db *DB, opts JobsOptions) *Jobs {
	if opts.Poll <= 0 {
		opts.Poll = DefaultJobPoll
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultJobHeartbeat
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Jobs{db: db, opts: opts}
}

// jobKey maps a job name to its advisory lock key.
func jobKey(job string) int64 {
	h := fnv.New64a()
	h.Write([]byte("warden job\x00" + job))
	return int64(h.Sum64())
}

// Run implements cluster.Jobs. If the lock connection fails while fn runs,
// fn's context is cancelled; another replica may have started the job by
// then, so a job MUST tolerate a short overlap (the checkpoint signer does:
// stores keep checkpoint sizes growing).
func (j *Jobs) Run(ctx context.Context, job string, fn func(context.Context)) {
	for ctx.Err() == nil {
		held, err := j.holdOnce(ctx, job, fn)
		if err != nil && ctx.Err() == nil {
			j.opts.Logger.Warn("singleton job: lock connection", "job", job, "err", err)
		}
		if held && err != nil && ctx.Err() == nil {
			continue // lost the lock connection while running: try again at once
		}
		select {
		case <-ctx.Done():
		case <-time.After(j.opts.Poll):
		}
	}
}

// holdOnce tries the job's lock once; if it gets it, it runs fn until the
// lock is lost or ctx ends. It reports whether it held the lock.
func (j *Jobs) holdOnce(ctx context.Context, job string, fn func(context.Context)) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, j.db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", jobKey(job)).Scan(&got); err != nil || !got {
		return false, err
	}
	j.opts.Logger.Info("singleton job: took the lock", "job", job)
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); fn(jobCtx) }()
	tick := time.NewTicker(j.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-done:
			// fn ended on its own; closing the connection releases the lock.
			return true, nil
		case <-ctx.Done():
			cancel()
			<-done
			return true, nil
		case <-tick.C:
			pctx, pcancel := context.WithTimeout(ctx, j.opts.Heartbeat)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil && ctx.Err() == nil {
				cancel()
				<-done
				return true, err
			}
		}
	}
}
