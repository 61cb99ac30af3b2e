package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/limits"
)

var _ limits.Tx = (*appendTx)(nil)

// LimitEvents returns a counter's events after since, oldest first.
func (t *appendTx) LimitEvents(counter string, since time.Time) ([]limits.Event, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT time_us, amount FROM limit_events
		WHERE tenant_id = ? AND counter = ? AND time_us > ? ORDER BY time_us`, t.tenant, counter, micros(since))
	if err != nil {
		return nil, fmt.Errorf("limit events of %s: %w", counter, err)
	}
	defer rows.Close()
	var out []limits.Event
	for rows.Next() {
		var us, amount int64
		if err := rows.Scan(&us, &amount); err != nil {
			return nil, fmt.Errorf("limit events of %s: %w", counter, err)
		}
		out = append(out, limits.Event{At: fromMicros(us), Amount: amount})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("limit events of %s: %w", counter, err)
	}
	return out, nil
}

// AddLimitEvent counts one use of a counter.
func (t *appendTx) AddLimitEvent(counter string, at time.Time, amount int64) error {
	if _, err := t.tx.ExecContext(t.ctx, "INSERT INTO limit_events (tenant_id, counter, time_us, amount) VALUES (?, ?, ?, ?)",
		t.tenant, counter, micros(at), amount); err != nil {
		return fmt.Errorf("count %s: %w", counter, err)
	}
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO limit_totals (tenant_id, counter, used) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id, counter) DO UPDATE SET used = used + excluded.used`, t.tenant, counter, amount); err != nil {
		return fmt.Errorf("count %s: %w", counter, err)
	}
	return nil
}

// LimitUsed drops a counter's events at or before since, subtracts them
// from its running total and returns what is left.
func (t *appendTx) LimitUsed(counter string, since time.Time) (int64, error) {
	var left int64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COALESCE(SUM(amount), 0) FROM limit_events
		WHERE tenant_id = ? AND counter = ? AND time_us <= ?`, t.tenant, counter, micros(since)).Scan(&left); err != nil {
		return 0, fmt.Errorf("limit %s: %w", counter, err)
	}
	if left > 0 {
		if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM limit_events WHERE tenant_id = ? AND counter = ? AND time_us <= ?",
			t.tenant, counter, micros(since)); err != nil {
			return 0, fmt.Errorf("limit %s: %w", counter, err)
		}
	}
	var used int64
	err := t.tx.QueryRowContext(t.ctx, `INSERT INTO limit_totals (tenant_id, counter, used) VALUES (?, ?, 0)
		ON CONFLICT (tenant_id, counter) DO UPDATE SET used = used - ? RETURNING used`, t.tenant, counter, left).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("limit %s: %w", counter, err)
	}
	return used, nil
}

// SessionTotals returns a session's action count and risk.
func (t *appendTx) SessionTotals(session string) (actions, risk int64, err error) {
	err = t.tx.QueryRowContext(t.ctx, "SELECT actions, risk FROM session_totals WHERE tenant_id = ? AND session_id = ?",
		t.tenant, session).Scan(&actions, &risk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("session %q: %w", session, err)
	}
	return actions, risk, nil
}

// SessionActions returns a session's last n actions, oldest first.
func (t *appendTx) SessionActions(session string, n int) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT action FROM session_actions
		WHERE tenant_id = ? AND session_id = ? ORDER BY n DESC LIMIT ?`, t.tenant, session, n)
	if err != nil {
		return nil, fmt.Errorf("session %q: %w", session, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("session %q: %w", session, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session %q: %w", session, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// AddSessionAction records an action a session took and its risk.
func (t *appendTx) AddSessionAction(session string, at time.Time, action string, risk int64) error {
	var n int64
	err := t.tx.QueryRowContext(t.ctx, `INSERT INTO session_totals (tenant_id, session_id, actions, risk) VALUES (?, ?, 1, ?)
		ON CONFLICT (tenant_id, session_id) DO UPDATE SET actions = actions + 1, risk = risk + excluded.risk
		RETURNING actions`, t.tenant, session, risk).Scan(&n)
	if err != nil {
		return fmt.Errorf("session %q: %w", session, err)
	}
	if _, err := t.tx.ExecContext(t.ctx, "INSERT INTO session_actions (tenant_id, session_id, n, time_us, action) VALUES (?, ?, ?, ?, ?)",
		t.tenant, session, n, micros(at), action); err != nil {
		return fmt.Errorf("session %q: %w", session, err)
	}
	// No sequence looks further back than MaxLookback actions.
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM session_actions WHERE tenant_id = ? AND session_id = ? AND n <= ?",
		t.tenant, session, n-limits.MaxLookback); err != nil {
		return fmt.Errorf("session %q: %w", session, err)
	}
	return nil
}
