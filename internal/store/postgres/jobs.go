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
// every DefaultJobPoll on a connection it keeps, and the holder checks its
// lock connection every DefaultJobHeartbeat. When a holder dies its
// connection closes, the database releases the lock, and another replica
// takes the job within a poll: well inside 10 seconds, and for the
// checkpoint signer close to the one-second promise.
const (
	DefaultJobPoll      = 500 * time.Millisecond
	DefaultJobHeartbeat = time.Second
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
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for ctx.Err() == nil {
		if conn == nil {
			c, err := pgx.ConnectConfig(ctx, j.db.pool.Config().ConnConfig.Copy())
			if err != nil {
				if ctx.Err() == nil {
					j.opts.Logger.Warn("singleton job: connect", "job", job, "err", err)
				}
				j.wait(ctx)
				continue
			}
			conn = c
		}
		held, err := j.holdOnce(ctx, conn, job, fn)
		if err != nil || held {
			// A failed connection is replaced; after holding, the session
			// lock is released by closing the connection that took it.
			if err != nil && ctx.Err() == nil {
				j.opts.Logger.Warn("singleton job: lock connection", "job", job, "err", err)
			}
			conn.Close(context.Background())
			conn = nil
			if err != nil && held {
				continue // lost the lock while running: try again at once
			}
		}
		j.wait(ctx)
	}
}

func (j *Jobs) wait(ctx context.Context) {
	t := time.NewTimer(j.opts.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// holdOnce tries the job's lock once on conn; if it gets it, it runs fn
// until the lock connection fails or ctx ends. It reports whether it held
// the lock.
func (j *Jobs) holdOnce(ctx context.Context, conn *pgx.Conn, job string, fn func(context.Context)) (bool, error) {
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
