// Package retention prunes the data of ledger entries older than each
// tenant's retention, keeping their hashes, so that checkpoints and proofs
// that cover them still verify. Each prune is a retention.pruned entry written
// in the transaction that removes the data.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// DefaultInterval is the time between two runs of the job.
const DefaultInterval = 24 * time.Hour

// ErrUnknownTenant is returned by a Policy for a log that has no tenant
// settings; the job leaves such a log alone.
var ErrUnknownTenant = errors.New("no settings for this tenant")

// Policy is what a tenant's settings say of retention.
type Policy struct {
	Days      int
	LegalHold bool
}

// Appender records entries; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// Log is what the job reads of the logs.
type Log interface {
	Tenants(ctx context.Context) ([]string, error)
	LatestCheckpoint(ctx context.Context, tenant string) (*ledger.StoredCheckpoint, error)
	SeqAtTime(ctx context.Context, tenant string, t time.Time) (int64, error)
}

// Job prunes every tenant's log once per run. It MUST run on one replica
// at a time (a singleton job), though two runs racing only make the
// second find nothing to prune: the pruned prefix is read and moved
// inside the append transaction.
type Job struct {
	Log    Log
	Ledger Appender
	// Policy returns a tenant's retention and legal hold.
	Policy func(ctx context.Context, tenant string) (Policy, error)
	Clock  func() time.Time
	Logger *slog.Logger
}

// Prune is one prune the job made.
type Prune struct {
	Tenant string
	Seq    int64 // of the retention.pruned entry
	Body   ledger.Pruned
}

// errNothing rejects a retention.pruned entry whose range turned out empty.
var errNothing = errors.New("nothing to prune")

// Run runs the job now and then every interval until ctx ends.
func (j *Job) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := j.RunOnce(ctx); err != nil && ctx.Err() == nil {
			j.logger().ErrorContext(ctx, "retention run", "err", err)
		}
		t.Reset(interval)
	}
}

// RunOnce prunes every tenant's log as far as its retention allows: the
// entries older than the retention, below the latest checkpoint, and not
// pruned before. A tenant on legal hold, and the installation's own log,
// are left alone. Failures of one tenant do not stop the others; they
// are returned joined.
func (j *Job) RunOnce(ctx context.Context) ([]Prune, error) {
	tenants, err := j.Log.Tenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("retention: list logs: %w", err)
	}
	var out []Prune
	var errs []error
	for _, t := range tenants {
		p, err := j.pruneTenant(ctx, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, errors.Join(errs...)
}

func (j *Job) pruneTenant(ctx context.Context, tenant string) (*Prune, error) {
	// The installation's log has no retention setting of its own: it is
	// never pruned.
	if tenant == ledger.SystemTenant {
		return nil, nil
	}
	pol, err := j.Policy(ctx, tenant)
	if errors.Is(err, ErrUnknownTenant) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("retention of %q: %w", tenant, err)
	}
	if pol.LegalHold || pol.Days <= 0 {
		return nil, nil
	}
	cp, err := j.Log.LatestCheckpoint(ctx, tenant)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("retention of %q: %w", tenant, err)
	}
	cutoff := j.now().Add(-time.Duration(pol.Days) * 24 * time.Hour)
	to, err := j.Log.SeqAtTime(ctx, tenant, cutoff)
	if err != nil {
		return nil, fmt.Errorf("retention of %q: %w", tenant, err)
	}
	// Only what a checkpoint covers: its leaf hashes are then signed.
	to = min(to, cp.Size)
	if to <= 0 {
		return nil, nil
	}
	body := &ledger.Pruned{To: to, Cutoff: ledger.FormatTime(cutoff), RetentionDays: pol.Days}
	req, err := event.New(event.KindLogPruned, event.ActorSystem, body)
	if err != nil {
		return nil, err
	}
	var removed int64
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		ptx, ok := tx.(ledger.PruneTx)
		if !ok {
			return fmt.Errorf("store transaction %T cannot prune", tx)
		}
		from, err := ptx.PrunedThrough()
		if err != nil {
			return err
		}
		if from >= to {
			return errNothing
		}
		body.From = from
		removed, err = ptx.PruneData(from, to)
		return err
	}
	ack, err := j.Ledger.Append(ctx, tenant, req)
	if errors.Is(err, errNothing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("retention of %q: %w", tenant, err)
	}
	j.logger().InfoContext(ctx, "retention: pruned entry data", "tenant", tenant, "from", body.From, "to", body.To,
		"entries", removed, "cutoff", body.Cutoff, "seq", ack.Seq)
	return &Prune{Tenant: tenant, Seq: ack.Seq, Body: *body}, nil
}

func (j *Job) now() time.Time {
	if j.Clock == nil {
		return time.Now()
	}
	return j.Clock()
}

func (j *Job) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.Default()
	}
	return j.Logger
}
