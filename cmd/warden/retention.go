package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/retention"
)

// newRetentionJob returns the retention job of this server: each tenant's
// retention_days and legal_hold settings decide what it prunes.
func newRetentionJob(db store, l *ledger.Ledger, logger *slog.Logger) *retention.Job {
	return &retention.Job{Log: db, Ledger: l, Logger: logger, Clock: time.Now,
		Policy: func(ctx context.Context, tenant string) (retention.Policy, error) {
			t, err := db.Tenant(ctx, tenant)
			if errors.Is(err, access.ErrNotFound) {
				return retention.Policy{}, retention.ErrUnknownTenant
			}
			if err != nil {
				return retention.Policy{}, err
			}
			return retention.Policy{Days: t.Settings.RetentionDays, LegalHold: t.Settings.LegalHold}, nil
		}}
}

// runRetention runs the retention job as the singleton job it is: on one
// replica at a time, every interval (the first run when it starts).
func runRetention(ctx context.Context, b *backend, l *ledger.Ledger, interval time.Duration, logger *slog.Logger) {
	job := newRetentionJob(b.store, l, logger)
	b.jobs.Run(ctx, "retention", func(ctx context.Context) {
		logger.Info("retention job running", "interval", interval.String())
		job.Run(ctx, interval)
	})
}
