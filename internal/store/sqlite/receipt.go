package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

var (
	_ event.ReceiptWriter = (*appendTx)(nil)
	_ event.ReceiptReader = (*DB)(nil)
)

const (
	sqlInsertReceipt = "INSERT INTO receipts (tenant_id, id, seq, time_us, agent, action, decision) VALUES (?, ?, ?, ?, ?, ?, ?)"
	receiptColumns   = "id, seq, time_us, agent, action, decision, outcome_seq, outcome_status"
	sqlReceipt       = "SELECT " + receiptColumns + " FROM receipts WHERE tenant_id = ? AND id = ?"
)

// insertIndex writes a record's index row (see ledger.Request.Index).
func (t *appendTx) insertIndex(rec *ledger.Record) error {
	switch x := rec.Index.(type) {
	case nil:
		return nil
	case *event.Receipt:
		r := *x
		r.ID, r.Seq, r.Time = rec.ID, rec.Seq, rec.Time
		return t.InsertReceipt(&r)
	}
	return fmt.Errorf("index of entry %s: unknown type %T", rec.ID, rec.Index)
}

// InsertReceipt writes a decision's receipt row in its append transaction.
func (t *appendTx) InsertReceipt(r *event.Receipt) error {
	if _, err := t.exec(sqlInsertReceipt, t.tenant, r.ID, r.Seq, micros(r.Time), r.Agent, r.Action, r.Decision); err != nil {
		return fmt.Errorf("insert receipt %s: %w", r.ID, err)
	}
	return nil
}

func scanReceipt(sc scanner) (*event.Receipt, error) {
	var r event.Receipt
	var oseq sql.NullInt64
	var ostatus sql.NullString
	var us int64
	if err := sc.Scan(&r.ID, &r.Seq, &us, &r.Agent, &r.Action, &r.Decision, &oseq, &ostatus); err != nil {
		return nil, err
	}
	r.Time = fromMicros(us)
	r.OutcomeSeq, r.OutcomeStatus = -1, ostatus.String
	if oseq.Valid {
		r.OutcomeSeq = oseq.Int64
	}
	return &r, nil
}

func receiptErr(err error, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("receipt %s: %w", id, event.ErrNoReceipt)
	}
	return fmt.Errorf("receipt %s: %w", id, err)
}

// ReceiptInTx reads a receipt inside the append transaction.
func (t *appendTx) ReceiptInTx(id string) (*event.Receipt, error) {
	r, err := scanReceipt(t.queryRow(sqlReceipt, t.tenant, id))
	if err != nil {
		return nil, receiptErr(err, id)
	}
	return r, nil
}

// SetOutcome records the outcome entry of a receipt that has none.
func (t *appendTx) SetOutcome(id string, seq int64, status string) error {
	res, err := t.exec("UPDATE receipts SET outcome_seq = ?, outcome_status = ? WHERE tenant_id = ? AND id = ? AND outcome_seq IS NULL",
		seq, status, t.tenant, id)
	if err != nil {
		return fmt.Errorf("set outcome of receipt %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("set outcome of receipt %s: %d rows changed (%v)", id, n, err)
	}
	return nil
}

// Receipt reads one receipt of a tenant.
func (db *DB) Receipt(ctx context.Context, tenant, id string) (*event.Receipt, error) {
	r, err := scanReceipt(db.queryRow(ctx, sqlReceipt, tenant, id))
	if err != nil {
		return nil, receiptErr(err, id)
	}
	return r, nil
}

// Receipts lists a tenant's receipts that pass f, in seq order.
func (db *DB) Receipts(ctx context.Context, tenant string, f event.ReceiptFilter) ([]event.Receipt, error) {
	q := strings.Builder{}
	q.WriteString("SELECT " + receiptColumns + " FROM receipts WHERE tenant_id = ? AND seq >= ? AND seq < ?")
	args := []any{tenant, f.FromSeq, f.ToSeq}
	for _, c := range []struct{ col, v string }{{"agent", f.Agent}, {"action", f.Action}, {"decision", f.Decision}} {
		if c.v != "" {
			q.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.v)
		}
	}
	q.WriteString(" ORDER BY seq LIMIT ?")
	args = append(args, f.Limit)
	rows, err := db.r.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list receipts of %q: %w", tenant, err)
	}
	defer rows.Close()
	var out []event.Receipt
	for rows.Next() {
		r, err := scanReceipt(rows)
		if err != nil {
			return nil, fmt.Errorf("list receipts of %q: %w", tenant, err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list receipts of %q: %w", tenant, err)
	}
	return out, nil
}
