package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardenhq/warden/internal/alerting"
)

// Alerts and incidents change only in an append transaction, which holds
// the tenant's log head: two replicas never change one at once.
var (
	_ alerting.Tx     = (*appendTx)(nil)
	_ alerting.Reader = (*DB)(nil)
)

// An alert or incident is kept whole as the JSON of its struct, with its
// times in UTC to the microsecond like every time this store keeps, so
// that it reads back as it was stored. The columns beside the JSON only
// select and order.

func utcMicros(t time.Time) time.Time { return fromMicros(micros(t)) }

func utcMicrosPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utcMicros(*t)
	return &u
}

func alertJSON(a *alerting.Alert) (string, error) {
	n := *a
	n.Time, n.Raised = utcMicros(n.Time), utcMicros(n.Raised)
	n.AckedAt, n.ResolvedAt = utcMicrosPtr(n.AckedAt), utcMicrosPtr(n.ResolvedAt)
	b, err := json.Marshal(&n)
	return string(b), err
}

func incidentJSON(i *alerting.Incident) (string, error) {
	n := *i
	n.Opened, n.Updated = utcMicros(n.Opened), utcMicros(n.Updated)
	n.ResolvedAt = utcMicrosPtr(n.ResolvedAt)
	if i.Notes != nil {
		n.Notes = make([]alerting.Note, len(i.Notes))
		for k, note := range i.Notes {
			note.At = utcMicros(note.At)
			n.Notes[k] = note
		}
	}
	b, err := json.Marshal(&n)
	return string(b), err
}

// InsertAlert stores a new alert of the transaction's tenant. A taken id
// is found by the primary key with ON CONFLICT DO NOTHING: a unique
// violation would abort the whole transaction, where ErrExists leaves it
// usable.
func (t *appendTx) InsertAlert(a *alerting.Alert) error {
	if a.ID == "" {
		return fmt.Errorf("insert alert into %q: empty id", t.tenant)
	}
	data, err := alertJSON(a)
	if err != nil {
		return fmt.Errorf("insert alert %s: %w", a.ID, err)
	}
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO alerts (tenant_id, id, seq, status, severity, agent, metric, time_us, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, id) DO NOTHING`,
		t.tenant, a.ID, a.Seq, a.Status, a.Severity, a.Agent, a.Metric, micros(a.Time), data)
	return changed(tag, err, fmt.Sprintf("insert alert %s of %q", a.ID, t.tenant), alerting.ErrExists)
}

// AlertInTx reads one of the transaction's tenant's alerts.
func (t *appendTx) AlertInTx(id string) (*alerting.Alert, error) {
	return readAlert(t.ctx, t.tx, t.tenant, id)
}

// UpdateAlert replaces a stored alert of the transaction's tenant.
func (t *appendTx) UpdateAlert(a *alerting.Alert) error {
	data, err := alertJSON(a)
	if err != nil {
		return fmt.Errorf("update alert %s: %w", a.ID, err)
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE alerts SET seq = $3, status = $4, severity = $5, agent = $6, metric = $7, time_us = $8, data = $9
		WHERE tenant_id = $1 AND id = $2`,
		t.tenant, a.ID, a.Seq, a.Status, a.Severity, a.Agent, a.Metric, micros(a.Time), data)
	return changed(tag, err, fmt.Sprintf("update alert %s of %q", a.ID, t.tenant), alerting.ErrNotFound)
}

// InsertIncident stores a new incident of the transaction's tenant.
func (t *appendTx) InsertIncident(i *alerting.Incident) error {
	if i.ID == "" {
		return fmt.Errorf("insert incident into %q: empty id", t.tenant)
	}
	data, err := incidentJSON(i)
	if err != nil {
		return fmt.Errorf("insert incident %s: %w", i.ID, err)
	}
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO incidents (tenant_id, id, seq, status, data)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO NOTHING`, t.tenant, i.ID, i.Seq, i.Status, data)
	return changed(tag, err, fmt.Sprintf("insert incident %s of %q", i.ID, t.tenant), alerting.ErrExists)
}

// IncidentInTx reads one of the transaction's tenant's incidents.
func (t *appendTx) IncidentInTx(id string) (*alerting.Incident, error) {
	return readIncident(t.ctx, t.tx, t.tenant, id)
}

// UpdateIncident replaces a stored incident of the transaction's tenant.
func (t *appendTx) UpdateIncident(i *alerting.Incident) error {
	data, err := incidentJSON(i)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", i.ID, err)
	}
	tag, err := t.tx.Exec(t.ctx, "UPDATE incidents SET seq = $3, status = $4, data = $5 WHERE tenant_id = $1 AND id = $2",
		t.tenant, i.ID, i.Seq, i.Status, data)
	return changed(tag, err, fmt.Sprintf("update incident %s of %q", i.ID, t.tenant), alerting.ErrNotFound)
}

// changed checks that a statement changed one row, or returns none
// (ErrExists or ErrNotFound) about op.
func changed(tag pgconn.CommandTag, err error, op string, none error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%s: %w", op, none)
	}
	return nil
}

func readAlert(ctx context.Context, q querier, tenant, id string) (*alerting.Alert, error) {
	var a alerting.Alert
	if err := readJSON(q.QueryRow(ctx, "SELECT data FROM alerts WHERE tenant_id = $1 AND id = $2", tenant, id), &a); err != nil {
		return nil, fmt.Errorf("alert %s of %q: %w", id, tenant, err)
	}
	return &a, nil
}

func readIncident(ctx context.Context, q querier, tenant, id string) (*alerting.Incident, error) {
	var i alerting.Incident
	if err := readJSON(q.QueryRow(ctx, "SELECT data FROM incidents WHERE tenant_id = $1 AND id = $2", tenant, id), &i); err != nil {
		return nil, fmt.Errorf("incident %s of %q: %w", id, tenant, err)
	}
	return &i, nil
}

// readJSON decodes the one data column of row into v.
func readJSON(row pgx.Row, v any) error {
	var data string
	err := row.Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return alerting.ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(data), v)
}

// Alert returns one of tenant's alerts.
func (db *DB) Alert(ctx context.Context, tenant, id string) (*alerting.Alert, error) {
	return readAlert(ctx, db.pool, tenant, id)
}

// Incident returns one of tenant's incidents.
func (db *DB) Incident(ctx context.Context, tenant, id string) (*alerting.Incident, error) {
	return readIncident(ctx, db.pool, tenant, id)
}

// conds is a conjunction of conditions, each with one argument written
// as the placeholder $n.
type conds struct {
	sql  []string
	args []any
}

// add appends the condition col op $n.
func (w *conds) add(col, op string, arg any) {
	w.args = append(w.args, arg)
	w.sql = append(w.sql, fmt.Sprintf("%s %s $%d", col, op, len(w.args)))
}

func (w *conds) String() string { return strings.Join(w.sql, " AND ") }

// limit appends n as the last argument and returns its placeholder.
func (w *conds) limit(n int) string {
	w.args = append(w.args, n)
	return fmt.Sprintf("$%d", len(w.args))
}

// Alerts returns the tenant's alerts that f selects, newest first.
func (db *DB) Alerts(ctx context.Context, tenant string, f alerting.AlertFilter) ([]alerting.Alert, error) {
	if f.Limit <= 0 {
		return nil, fmt.Errorf("alerts of %q: limit %d is not positive", tenant, f.Limit)
	}
	var w conds
	w.add("tenant_id", "=", tenant)
	for _, c := range []struct{ col, v string }{{"status", f.Status}, {"severity", f.Severity}, {"agent", f.Agent}, {"metric", f.Metric}} {
		if c.v != "" {
			w.add(c.col, "=", c.v)
		}
	}
	if !f.From.IsZero() {
		w.add("time_us", ">=", ceilMicros(f.From))
	}
	if !f.To.IsZero() {
		w.add("time_us", "<", ceilMicros(f.To))
	}
	if f.BeforeSeq > 0 {
		w.add("seq", "<", f.BeforeSeq)
	}
	query := "SELECT data FROM alerts WHERE " + w.String() + " ORDER BY seq DESC, id DESC LIMIT " + w.limit(f.Limit)
	return listJSON[alerting.Alert](ctx, db.pool, fmt.Sprintf("alerts of %q", tenant), query, w.args...)
}

// Incidents returns the tenant's incidents that f selects, newest first.
func (db *DB) Incidents(ctx context.Context, tenant string, f alerting.IncidentFilter) ([]alerting.Incident, error) {
	if f.Limit <= 0 {
		return nil, fmt.Errorf("incidents of %q: limit %d is not positive", tenant, f.Limit)
	}
	var w conds
	w.add("tenant_id", "=", tenant)
	if f.Status != "" {
		w.add("status", "=", f.Status)
	}
	if f.BeforeSeq > 0 {
		w.add("seq", "<", f.BeforeSeq)
	}
	query := "SELECT data FROM incidents WHERE " + w.String() + " ORDER BY seq DESC, id DESC LIMIT " + w.limit(f.Limit)
	return listJSON[alerting.Incident](ctx, db.pool, fmt.Sprintf("incidents of %q", tenant), query, w.args...)
}

// listJSON decodes the data column of every row query returns.
func listJSON[T any](ctx context.Context, q querier, what, query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var v T
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
