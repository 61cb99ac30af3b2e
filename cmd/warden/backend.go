package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/cluster"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/monitor"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/watch"
)

// store is what serve needs of a store; both stores provide it.
type store interface {
	api.Store
	access.BootstrapStore
	access.Reader
	approval.Reader
	controls.Reader
	alerting.Reader
	watch.Store
	policy.VersionReader
	Meta(ctx context.Context, key string) (string, error)
	SetMetaOnce(ctx context.Context, key, value string) (string, error)
	Close() error
}

var (
	_ store = (*sqlite.DB)(nil)
	_ store = (*postgres.DB)(nil)
)

// backend is an open store with the coordination primitives that suit it.
type backend struct {
	store    store
	feed     cluster.Feed
	jobs     cluster.Jobs
	postgres bool
	where    string // for logs: a path or "postgres"; never a password
	close    func()
}

// openBackend opens the store --database names: SQLite in the data
// directory by default, or PostgreSQL for a postgres:// URL.
func openBackend(ctx context.Context, c *serveConfig, logger *slog.Logger) (*backend, error) {
	if postgres.IsURL(c.Database) {
		if c.Migrate {
			if _, _, err := postgres.Migrate(ctx, c.Database); err != nil {
				return nil, err
			}
		}
		db, err := postgres.Open(ctx, c.Database, postgres.Options{MaxConns: c.PoolMaxConns})
		if err != nil {
			return nil, err
		}
		feed := postgres.NewFeed(db, postgres.FeedOptions{Logger: logger})
		return &backend{store: db, feed: feed, jobs: postgres.NewJobs(db, postgres.JobsOptions{Logger: logger}),
			postgres: true, where: "postgres", close: func() { feed.Close(); db.Close() }}, nil
	}
	path := c.Database
	if path == "" {
		path = filepath.Join(c.DataDir, dbFile)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Exclusive: true})
	if err != nil {
		return nil, err
	}
	return &backend{store: db, feed: cluster.NewLocalFeed(), jobs: cluster.LocalJobs{}, where: path,
		close: func() { db.Close() }}, nil
}

// topicLedger carries "this tenant's log grew" notices to the replica
// that runs the checkpoint signer.
const topicLedger = "ledger"

// commitNotifier publishes ledger notices, coalesced: however many
// batches commit meanwhile, one notice per tenant is in flight.
type commitNotifier struct {
	feed   cluster.Feed
	logger *slog.Logger

	mu    sync.Mutex
	dirty map[string]bool
	wake  chan struct{}
}

func newCommitNotifier(feed cluster.Feed, logger *slog.Logger) *commitNotifier {
	return &commitNotifier{feed: feed, logger: logger, dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// committed fits ledger.Config.OnCommit: it never blocks.
func (n *commitNotifier) committed(tenant string, _ int64) {
	n.mu.Lock()
	n.dirty[tenant] = true
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *commitNotifier) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
		n.mu.Lock()
		tenants := n.dirty
		n.dirty = map[string]bool{}
		n.mu.Unlock()
		for t := range tenants {
			if err := n.feed.Publish(ctx, topicLedger, t); err != nil && !errors.Is(err, context.Canceled) {
				// The signer's periodic resync covers a lost notice.
				n.logger.Warn("publish ledger notice", "tenant", t, "err", err)
			}
		}
	}
}

// runSigner runs the checkpoint signer as the singleton job it is: on one
// replica at a time, told by the feed which logs grew anywhere.
func runSigner(ctx context.Context, b *backend, l *ledger.Ledger, logger *slog.Logger) {
	b.jobs.Run(ctx, "checkpoint-signer", func(ctx context.Context) {
		cp := l.Checkpointer()
		notices, cancel := b.feed.Subscribe(topicLedger)
		defer cancel()
		go func() {
			for n := range notices {
				if !n.Resync {
					if ledger.ValidTenant(n.Payload) {
						cp.Notify(n.Payload)
					}
				} else if err := cp.Resync(ctx); err != nil && ctx.Err() == nil {
					logger.Warn("checkpoint signer: resync", "err", err)
				}
			}
		}()
		logger.Info("checkpoint signer running")
		cp.Run(ctx)
	})
}

func describeStore(b *backend) string {
	if b.postgres {
		return "PostgreSQL"
	}
	return fmt.Sprintf("SQLite %s", b.where)
}

// newMonitorJob returns the monitor job of this server.
func newMonitorJob(c *serveConfig, b *backend, l *ledger.Ledger, alerts *alerting.Service, keyHistory []string, origin string, logger *slog.Logger) (*watch.Job, error) {
	keys := make([]note.Verifier, len(keyHistory))
	for i, k := range keyHistory {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("monitor: verifier key: %w", err)
		}
		keys[i] = v
	}
	opts := watch.Options{Heartbeat: c.MonitorHeartbeat, Poll: c.MonitorPoll, Verify: c.MonitorVerify}
	if c.MonitorBucket != 0 {
		opts.Monitor = monitor.DefaultConfig()
		opts.Monitor.Bucket = c.MonitorBucket
	}
	return &watch.Job{Log: b.store, State: b.store, Ledger: l, Alerts: alerts, Origin: origin, Keys: keys,
		Logger: logger, Version: buildVersion(), Options: opts}, nil
}

// runMonitor runs the monitor as the singleton job it is: on one replica
// at a time; a replica that takes the job over resumes from the
// checkpoints.
func runMonitor(ctx context.Context, b *backend, job *watch.Job, logger *slog.Logger) {
	b.jobs.Run(ctx, "monitor", func(ctx context.Context) {
		logger.Info("monitor running")
		job.Reset()
		job.Run(ctx)
	})
}
