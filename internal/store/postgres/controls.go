package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardenhq/warden/internal/controls"
)

// Switches are changed only in an append transaction, which holds the
// tenant's log head: a decision's transaction that takes the head after a
// change committed reads (READ COMMITTED, a new statement) the raised
// version, on whichever replica it runs.
var (
	_ controls.Tx     = (*appendTx)(nil)
	_ controls.Reader = (*DB)(nil)
)

const (
	sqlControlsVersion = "SELECT version FROM controls_version WHERE tenant_id = $1"
	sqlControls        = `SELECT id, agent, action, session, effect, reason, expires_us, created_us, created_by
		FROM controls WHERE tenant_id = $1 AND cleared_us IS NULL ORDER BY id`
)

func readControlsVersion(ctx context.Context, q querier, tenant string) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, sqlControlsVersion, tenant).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("controls version of %q: %w", tenant, err)
	}
	return v, nil
}

func readControls(ctx context.Context, q querier, tenant string) ([]controls.Control, error) {
	rows, err := q.Query(ctx, sqlControls, tenant)
	if err != nil {
		return nil, fmt.Errorf("controls of %q: %w", tenant, err)
	}
	defer rows.Close()
	var out []controls.Control
	for rows.Next() {
		c := controls.Control{Tenant: tenant}
		var (
			expires *int64
			created int64
		)
		if err := rows.Scan(&c.ID, &c.Scope.Agent, &c.Scope.Action, &c.Scope.Session, &c.Effect, &c.Reason, &expires, &created, &c.By); err != nil {
			return nil, fmt.Errorf("controls of %q: %w", tenant, err)
		}
		c.Expires, c.Created = optTime(expires), fromMicros(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("controls of %q: %w", tenant, err)
	}
	return out, nil
}

// ControlsVersion returns the transaction's tenant's controls version.
func (t *appendTx) ControlsVersion() (int64, error) {
	return readControlsVersion(t.ctx, t.tx, t.tenant)
}

// Controls returns the transaction's tenant's switches not cleared.
func (t *appendTx) Controls() ([]controls.Control, error) {
	return readControls(t.ctx, t.tx, t.tenant)
}

func (t *appendTx) bumpControls() error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO controls_version (tenant_id, version) VALUES ($1, 1)
		ON CONFLICT (tenant_id) DO UPDATE SET version = controls_version.version + 1`, t.tenant)
	if err != nil {
		return fmt.Errorf("controls version of %q: %w", t.tenant, err)
	}
	return nil
}

// InsertControl stores a switch and raises the version.
func (t *appendTx) InsertControl(c *controls.Control) error {
	if c.Tenant != t.tenant {
		return fmt.Errorf("insert control %s of %q into the log of %q", c.ID, c.Tenant, t.tenant)
	}
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO controls (tenant_id, id, agent, action, session, effect, reason, expires_us, created_us, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, id) DO NOTHING`, t.tenant, c.ID, c.Scope.Agent, c.Scope.Action, c.Scope.Session, c.Effect, c.Reason,
		optMicros(c.Expires), micros(c.Created), c.By)
	if err != nil {
		return fmt.Errorf("insert control %s: %w", c.ID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("insert control %s: %w", c.ID, controls.ErrExists)
	}
	return t.bumpControls()
}

// ClearControl removes a switch and raises the version.
func (t *appendTx) ClearControl(id string, at time.Time) error {
	tag, err := t.tx.Exec(t.ctx, "UPDATE controls SET cleared_us = $3 WHERE tenant_id = $1 AND id = $2 AND cleared_us IS NULL",
		t.tenant, id, micros(at))
	if err != nil {
		return fmt.Errorf("clear control %s: %w", id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("clear control %s: %w", id, controls.ErrNotFound)
	}
	return t.bumpControls()
}

// TenantControls returns a tenant's controls version and switches. The two
// reads are separate statements: a change committed between them shows in
// the switches with the older version, which only makes the decision's
// transaction check again.
func (db *DB) TenantControls(ctx context.Context, tenant string) (int64, []controls.Control, error) {
	v, err := readControlsVersion(ctx, db.pool, tenant)
	if err != nil {
		return 0, nil, err
	}
	if v == 0 {
		return 0, nil, nil // never had a switch
	}
	cs, err := readControls(ctx, db.pool, tenant)
	if err != nil {
		return 0, nil, err
	}
	return v, cs, nil
}
