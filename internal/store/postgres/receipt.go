package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wardenhq/warden/internal/event"
)

var (
	_ event.ReceiptWriter = (*appendTx)(nil)
	_ event.ReceiptReader = (*DB)(nil)
)

const (
	receiptColumns = "id, seq, time_us, agent, action, decision, outcome_seq, outcome_status"
	sqlReceipt     = "SELECT " + receiptColumns + " FROM receipts WHERE tenant_id = $1 AND id = $2"
)

// indexRows turns pending records' index values into receipt rows for
// the batch's COPY (see ledger.Request.Index).
func (t *appendTx) indexRows() ([][]any, error) {
	var rows [][]any
	for _, r := range t.pending {
		switch x := r.Index.(type) {
		case nil:
		case *event.Receipt:
			rows = append(rows, []any{t.tenant, r.ID, r.Seq, micros(r.Time), x.Agent, x.Action, x.Decision})
		default:
			return nil, fmt.Errorf("index of entry %s: unknown type %T", r.ID, r.Index)
		}
	}
	return rows, nil
}

// copyReceipts writes receipt rows with one COPY.
func (t *appendTx) copyReceipts(rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	n, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"receipts"},
		[]string{"tenant_id", "id", "seq", "time_us", "agent", "action", "decision"}, pgx.CopyFromRows(rows))
	if err != nil {
		return err
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("wrote %d of %d receipts", n, len(rows))
	}
	return nil
}

// InsertReceipt writes a receipt row in the append transaction.
func (t *appendTx) InsertReceipt(r *event.Receipt) error {
	_, err := t.tx.Exec(t.ctx, "INSERT INTO receipts (tenant_id, id, seq, time_us, agent, action, decision) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		t.tenant, r.ID, r.Seq, micros(r.Time), r.Agent, r.Action, r.Decision)
	if err != nil {
		return fmt.Errorf("insert receipt %s: %w", r.ID, err)
	}
	return nil
}

func scanReceipt(sc interface{ Scan(...any) error }) (*event.Receipt, error) {
	var r event.Receipt
	var oseq *int64
	var ostatus *string
	var us int64
	if err := sc.Scan(&r.ID, &r.Seq, &us, &r.Agent, &r.Action, &r.Decision, &oseq, &ostatus); err != nil {
		return nil, err
	}
	r.Time = fromMicros(us)
	r.OutcomeSeq = -1
	if oseq != nil {
		r.OutcomeSeq = *oseq
	}
	if ostatus != nil {
		r.OutcomeStatus = *ostatus
	}
	return &r, nil
}

func receiptErr(err error, id string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("receipt %s: %w", id, event.ErrNoReceipt)
	}
	return fmt.Errorf("receipt %s: %w", id, err)
}

// ReceiptInTx reads a receipt inside the append transaction. Receipts of
// this batch that are still pending are flushed first.
func (t *appendTx) ReceiptInTx(id string) (*event.Receipt, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	r, err := scanReceipt(t.tx.QueryRow(t.ctx, sqlReceipt, t.tenant, id))
	if err != nil {
		return nil, receiptErr(err, id)
	}
	return r, nil
}

// SetOutcome records the outcome entry of a receipt that has none.
func (t *appendTx) SetOutcome(id string, seq int64, status string) error {
	tag, err := t.tx.Exec(t.ctx, "UPDATE receipts SET outcome_seq = $1, outcome_status = $2 WHERE tenant_id = $3 AND id = $4 AND outcome_seq IS NULL",
		seq, status, t.tenant, id)
	if err != nil {
		return fmt.Errorf("set outcome of receipt %s: %w", id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("set outcome of receipt %s: %d rows changed", id, tag.RowsAffected())
	}
	return nil
}

// Receipt reads one receipt of a tenant.
func (db *DB) Receipt(ctx context.Context, tenant, id string) (*event.Receipt, error) {
	r, err := scanReceipt(db.pool.QueryRow(ctx, sqlReceipt, tenant, id))
	if err != nil {
		return nil, receiptErr(err, id)
	}
	return r, nil
}

// Receipts lists a tenant's receipts that pass f, in seq order.
func (db *DB) Receipts(ctx context.Context, tenant string, f event.ReceiptFilter) ([]event.Receipt, error) {
	q := strings.Builder{}
	q.WriteString("SELECT " + receiptColumns + " FROM receipts WHERE tenant_id = $1 AND seq >= $2 AND seq < $3")
	args := []any{tenant, f.FromSeq, f.ToSeq}
	for _, c := range []struct{ col, v string }{{"agent", f.Agent}, {"action", f.Action}, {"decision", f.Decision}} {
		if c.v != "" {
			args = append(args, c.v)
			q.WriteString(" AND " + c.col + " = $" + strconv.Itoa(len(args)))
		}
	}
	args = append(args, f.Limit)
	q.WriteString(" ORDER BY seq LIMIT $" + strconv.Itoa(len(args)))
	rows, err := db.pool.Query(ctx, q.String(), args...)
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
