package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/event"
)

var (
	_ approval.Tx     = (*appendTx)(nil)
	_ approval.Reader = (*DB)(nil)
)

// InsertApproval stores an approval request in its decision's transaction.
func (t *appendTx) InsertApproval(a *approval.Approval) error {
	if a.Tenant != t.tenant {
		return fmt.Errorf("insert approval %s of %q into the log of %q", a.ID, a.Tenant, t.tenant)
	}
	groups, err := json.Marshal(orEmpty(a.Groups))
	if err != nil {
		return err
	}
	keys, err := json.Marshal(orEmpty(a.Keys))
	if err != nil {
		return err
	}
	req, err := json.Marshal(a.Request)
	if err != nil {
		return fmt.Errorf("approval %s request: %w", a.ID, err)
	}
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO approvals (tenant_id, id, receipt_id, digest, principal, action, requester, rule,
		groups_json, keys_json, count, created_us, expires_us, status, request_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.tenant, a.ID, a.ReceiptID, a.Digest, a.Principal, a.Action, a.Requester, a.Rule, string(groups), string(keys),
		a.Count, micros(a.Created), micros(a.Expires), a.Status, string(req))
	if err != nil {
		return fmt.Errorf("insert approval %s: %w", a.ID, err)
	}
	return nil
}

// ApprovalForUpdate reads an approval of the transaction's tenant.
func (t *appendTx) ApprovalForUpdate(id string) (*approval.Approval, error) {
	return readApproval(t.ctx, t.tx, t.tenant, id)
}

// AddVote records a vote.
func (t *appendTx) AddVote(id string, v approval.Vote) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO approval_votes (tenant_id, approval_id, key_id, approve, comment, time_us)
		VALUES (?, ?, ?, ?, ?, ?)`, t.tenant, id, v.Key, v.Approve, v.Comment, micros(v.At))
	if err != nil {
		return fmt.Errorf("vote on %s: %w", id, err)
	}
	return nil
}

// ResolveApproval records how a request ended.
func (t *appendTx) ResolveApproval(id, status, reason string, at time.Time) error {
	return t.updateApproval(id, "status = ?, reason = ?, resolved_us = ?", status, reason, micros(at))
}

// UseApproval records the receipt an authorization allowed.
func (t *appendTx) UseApproval(id, receipt string, at time.Time) error {
	return t.updateApproval(id, "used_receipt = ?, used_us = ?", receipt, micros(at))
}

func (t *appendTx) updateApproval(id, set string, args ...any) error {
	res, err := t.tx.ExecContext(t.ctx, "UPDATE approvals SET "+set+" WHERE tenant_id = ? AND id = ?", append(args, t.tenant, id)...)
	if err != nil {
		return fmt.Errorf("update approval %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update approval %s: %w", id, approval.ErrNotFound)
	}
	return nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const sqlApprovalColumns = `SELECT id, receipt_id, digest, principal, action, requester, rule, groups_json, keys_json, count,
	created_us, expires_us, status, reason, resolved_us, used_receipt, used_us, request_json FROM approvals`

func scanApproval(row scanner, tenant string) (*approval.Approval, error) {
	a := approval.Approval{Tenant: tenant}
	var (
		groups, keys, req string
		created, expires  int64
		resolved, used    sql.NullInt64
	)
	err := row.Scan(&a.ID, &a.ReceiptID, &a.Digest, &a.Principal, &a.Action, &a.Requester, &a.Rule, &groups, &keys, &a.Count,
		&created, &expires, &a.Status, &a.Reason, &resolved, &a.UsedReceipt, &used, &req)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, approval.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	if err := json.Unmarshal([]byte(groups), &a.Groups); err != nil {
		return nil, fmt.Errorf("approval %s groups: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(keys), &a.Keys); err != nil {
		return nil, fmt.Errorf("approval %s keys: %w", a.ID, err)
	}
	a.Request = &event.Decision{}
	if err := json.Unmarshal([]byte(req), a.Request); err != nil {
		return nil, fmt.Errorf("approval %s request: %w", a.ID, err)
	}
	if len(a.Groups) == 0 {
		a.Groups = nil
	}
	if len(a.Keys) == 0 {
		a.Keys = nil
	}
	a.Created, a.Expires = fromMicros(created), fromMicros(expires)
	a.Resolved, a.UsedAt = timePtr(resolved), timePtr(used)
	return &a, nil
}

func readApproval(ctx context.Context, q querier, tenant, id string) (*approval.Approval, error) {
	a, err := scanApproval(q.QueryRowContext(ctx, sqlApprovalColumns+" WHERE tenant_id = ? AND id = ?", tenant, id), tenant)
	if err != nil {
		if errors.Is(err, approval.ErrNotFound) {
			return nil, fmt.Errorf("approval %s: %w", id, approval.ErrNotFound)
		}
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT key_id, approve, comment, time_us FROM approval_votes
		WHERE tenant_id = ? AND approval_id = ? ORDER BY time_us, key_id`, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("votes of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v approval.Vote
		var us int64
		if err := rows.Scan(&v.Key, &v.Approve, &v.Comment, &us); err != nil {
			return nil, fmt.Errorf("votes of %s: %w", id, err)
		}
		v.At = fromMicros(us)
		a.Votes = append(a.Votes, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("votes of %s: %w", id, err)
	}
	return a, nil
}

// Approval returns an approval of tenant with its votes.
func (db *DB) Approval(ctx context.Context, tenant, id string) (*approval.Approval, error) {
	return readApproval(ctx, db.r, tenant, id)
}

// Approvals lists a tenant's approvals with id after after, in id order,
// filtered by their status at now.
func (db *DB) Approvals(ctx context.Context, tenant, status, after string, limit int, now time.Time) ([]approval.Approval, error) {
	where, args := "tenant_id = ? AND id > ?", []any{tenant, after}
	switch status {
	case "":
	case approval.Pending:
		where, args = where+" AND status = 'pending' AND expires_us > ?", append(args, micros(now))
	case approval.Expired:
		where, args = where+" AND (status = 'expired' OR (status = 'pending' AND expires_us <= ?))", append(args, micros(now))
	default:
		where, args = where+" AND status = ?", append(args, status)
	}
	rows, err := db.r.QueryContext(ctx, sqlApprovalColumns+" WHERE "+where+" ORDER BY id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("approvals of %q: %w", tenant, err)
	}
	var ids []string
	for rows.Next() {
		a, err := scanApproval(rows, tenant)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, a.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("approvals of %q: %w", tenant, err)
	}
	out := make([]approval.Approval, 0, len(ids))
	for _, id := range ids {
		a, err := readApproval(ctx, db.r, tenant, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}
