package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/controls"
)

var (
	_ controls.Tx     = (*appendTx)(nil)
	_ controls.Reader = (*DB)(nil)
)

const (
	sqlControlsVersion = "SELECT version FROM controls_version WHERE tenant_id = ?"
	sqlControls        = `SELECT id, agent, action, session, effect, reason, expires_us, created_us, created_by
		FROM controls WHERE tenant_id = ? AND cleared_us IS NULL ORDER BY id`
)

func scanControls(rows *sql.Rows, tenant string) ([]controls.Control, error) {
	defer rows.Close()
	var out []controls.Control
	for rows.Next() {
		c := controls.Control{Tenant: tenant}
		var expires sql.NullInt64
		var created int64
		if err := rows.Scan(&c.ID, &c.Scope.Agent, &c.Scope.Action, &c.Scope.Session, &c.Effect, &c.Reason, &expires, &created, &c.By); err != nil {
			return nil, fmt.Errorf("controls of %q: %w", tenant, err)
		}
		c.Expires, c.Created = timePtr(expires), fromMicros(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("controls of %q: %w", tenant, err)
	}
	return out, nil
}

func version(row scanner, tenant string) (int64, error) {
	var v int64
	err := row.Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("controls version of %q: %w", tenant, err)
	}
	return v, nil
}

// ControlsVersion returns the transaction's tenant's controls version.
// Every decision of a batch asks; it is read once, and again only after
// this transaction changed it.
func (t *appendTx) ControlsVersion() (int64, error) {
	if t.controlsKnown {
		return t.controls, nil
	}
	v, err := version(t.queryRow(sqlControlsVersion, t.tenant), t.tenant)
	if err == nil {
		t.controls, t.controlsKnown = v, true
	}
	return v, err
}

// Controls returns the transaction's tenant's switches not cleared.
func (t *appendTx) Controls() ([]controls.Control, error) {
	rows, err := t.tx.QueryContext(t.ctx, sqlControls, t.tenant)
	if err != nil {
		return nil, fmt.Errorf("controls of %q: %w", t.tenant, err)
	}
	return scanControls(rows, t.tenant)
}

func (t *appendTx) bumpControls() error {
	t.controlsKnown = false
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO controls_version (tenant_id, version) VALUES (?, 1)
		ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1`, t.tenant)
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
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO controls (tenant_id, id, agent, action, session, effect, reason, expires_us, created_us, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`, t.tenant, c.ID, c.Scope.Agent, c.Scope.Action, c.Scope.Session, c.Effect, c.Reason,
		nullMicros(c.Expires), micros(c.Created), c.By)
	if err != nil {
		return fmt.Errorf("insert control %s: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("insert control %s: %w", c.ID, controls.ErrExists)
	}
	return t.bumpControls()
}

// ClearControl removes a switch and raises the version.
func (t *appendTx) ClearControl(id string, at time.Time) error {
	res, err := t.tx.ExecContext(t.ctx, "UPDATE controls SET cleared_us = ? WHERE tenant_id = ? AND id = ? AND cleared_us IS NULL",
		micros(at), t.tenant, id)
	if err != nil {
		return fmt.Errorf("clear control %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("clear control %s: %w", id, controls.ErrNotFound)
	}
	return t.bumpControls()
}

// TenantControls returns a tenant's controls version and switches.
func (db *DB) TenantControls(ctx context.Context, tenant string) (int64, []controls.Control, error) {
	v, err := version(db.queryRow(ctx, sqlControlsVersion, tenant), tenant)
	if err != nil {
		return 0, nil, err
	}
	if v == 0 {
		return 0, nil, nil // never had a switch
	}
	rows, err := db.r.QueryContext(ctx, sqlControls, tenant)
	if err != nil {
		return 0, nil, fmt.Errorf("controls of %q: %w", tenant, err)
	}
	cs, err := scanControls(rows, tenant)
	return v, cs, err
}
