package ledger

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// DefaultCheckpointInterval is the least time between two checkpoints of
// one tenant. A checkpoint covering an append is signed at most this long
// after the append's commit (plus the time to sign and store it), well
// inside the one-second promise.
const DefaultCheckpointInterval = 200 * time.Millisecond

// Config configures a Ledger. Zero fields take their Default* values.
type Config struct {
	// Origin is the installation's origin; a tenant's checkpoints carry
	// "<Origin>/<tenant>".
	Origin string
	// Signer signs checkpoints (a sumdb/note Ed25519 signer).
	Signer note.Signer
	// QueueSize and MaxBatch shape each tenant's appender.
	QueueSize int
	MaxBatch  int
	// Linger is how long a batch waits for more entries when entries
	// arrived while the previous batch was committing (0: never waits;
	// an idle log never waits). It trades that much latency under load
	// for fewer, larger commits.
	Linger time.Duration
	// CheckpointInterval is the least time between two checkpoints of a tenant.
	CheckpointInterval time.Duration
	Clock              func() time.Time
	IDs                *IDs
	Logger             *slog.Logger
	// Observe, if set, is called after every batch (for metrics), before
	// the batch's appends are answered; it MUST NOT block.
	Observe func(tenant string, entries int, took time.Duration, err error)
	// OnCommit, if set, is called after every batch that committed
	// entries, with the log's new size; it MUST NOT block (replicas use it
	// to tell the checkpoint signer, wherever it runs, that a log grew).
	OnCommit func(tenant string, size int64)

	committed func(tenant string, size int64)
}

func (c *Config) fill() error {
	if c.Origin == "" {
		return errors.New("ledger config: origin is empty")
	}
	if c.Signer == nil {
		return errors.New("ledger config: no checkpoint signer")
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.IDs == nil {
		c.IDs = NewIDs(c.Clock, rand.Reader)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Ledger is the write side of every tenant's log: one group-commit
// appender per tenant and the checkpoint signer. Reads go to the Store.
type Ledger struct {
	store Store
	cfg   Config
	cp    *Checkpointer

	mu        sync.Mutex
	appenders map[string]*appender
	closed    bool

	health health
}

// New returns a Ledger over store. Call Close to drain it.
func New(store Store, cfg Config) (*Ledger, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	l := &Ledger{store: store, cfg: cfg, appenders: map[string]*appender{}}
	l.cp = newCheckpointer(store, &l.cfg)
	l.cfg.committed = func(tenant string, size int64) {
		l.cp.Notify(tenant)
		if l.cfg.OnCommit != nil {
			l.cfg.OnCommit(tenant, size)
		}
	}
	return l, nil
}

// Store returns the store the ledger writes to.
func (l *Ledger) Store() Store { return l.store }

// Origin returns the checkpoint origin of a tenant's log.
func (l *Ledger) Origin(tenant string) string { return TenantOrigin(l.cfg.Origin, tenant) }

// Checkpointer returns the checkpoint signer, for callers that run it.
func (l *Ledger) Checkpointer() *Checkpointer { return l.cp }

// TenantOrigin is the checkpoint origin of a tenant: "<origin>/<tenant>".
func TenantOrigin(origin, tenant string) string { return origin + "/" + tenant }

// Append writes one entry to the tenant's log and returns once it is
// durable. It returns ErrPushback when the tenant's queue is full, ErrClosed
// after Close, ErrRejected when the entry's own work or body fails, and
// ErrStore when the store cannot write.
func (l *Ledger) Append(ctx context.Context, tenant string, req Request) (*Appended, error) {
	if !ValidTenant(tenant) {
		return nil, fmt.Errorf("%w: tenant %q is not a tenant id", ErrRejected, tenant)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	a := l.appenders[tenant]
	if a == nil {
		a = newAppender(l.store, tenant, &l.cfg)
		l.appenders[tenant] = a
	}
	l.mu.Unlock()
	ack, err := a.append(ctx, req)
	l.health.record(err)
	return ack, err
}

// Healthy returns the last store failure of an append if no append has
// succeeded since, and nil otherwise.
func (l *Ledger) Healthy() error { return l.health.get() }

// Close stops intake, waits for every queued entry to be committed or
// failed, and signs final checkpoints. The checkpointer's Run, if started,
// must be stopped by its own context after Close returns.
func (l *Ledger) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	as := make([]*appender, 0, len(l.appenders))
	for _, a := range l.appenders {
		as = append(as, a)
	}
	l.mu.Unlock()
	done := make(chan struct{})
	go func() {
		for _, a := range as {
			a.close()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("drain ledger: %w", ctx.Err())
	}
	return l.cp.Flush(ctx)
}

type health struct {
	mu  sync.Mutex
	err error
}

func (h *health) record(err error) {
	if err != nil && !errors.Is(err, ErrStore) {
		return // rejections and pushback say nothing about the store
	}
	h.mu.Lock()
	h.err = err
	h.mu.Unlock()
}

func (h *health) get() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}
