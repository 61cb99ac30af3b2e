package event

import (
	"context"
	"errors"
	"time"
)

// Outcome records what happened when an allowed action ran: reported once
// by the caller against the decision's receipt (DESIGN.md section 2).
type Outcome struct {
	ReceiptID   string `json:"receipt_id"`
	DecisionSeq int64  `json:"decision_seq"`
	// Agent and Action are the decision's principal id and action type,
	// so that a reader of the log (the monitor) needs no lookup.
	Agent  string `json:"agent,omitempty"`
	Action string `json:"action,omitempty"`
	Status string `json:"status"` // succeeded or failed
	// Output is the action's output as reported, with every finding
	// redacted once scanning runs on outcomes.
	Output     any               `json:"output,omitempty"`
	DurationMS *int64            `json:"duration_ms,omitempty"`
	Error      string            `json:"error,omitempty"`
	Findings   []DecisionFinding `json:"findings,omitempty"`
	// ScanComplete is false when the output could not be scanned in full;
	// such an output is not recorded at all.
	ScanComplete bool `json:"scan_complete"`
}

// Outcome statuses.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// Receipt is the index row of one decision: what receipts are listed and
// filtered by, and whether an outcome was reported. The ledger entries
// remain the record; a receipt row is written in the same transaction as
// its decision entry (and updated in that of its outcome entry).
type Receipt struct {
	ID            string    // the decision entry's id
	Seq           int64     // the decision entry's seq
	Time          time.Time // the decision entry's time
	Agent         string    // principal id
	Action        string    // action type
	Decision      string
	OutcomeSeq    int64 // -1 when no outcome was reported
	OutcomeStatus string
}

// HasOutcome reports whether an outcome was recorded for the receipt.
func (r *Receipt) HasOutcome() bool { return r.OutcomeSeq >= 0 }

// ReceiptFilter selects receipts: seq in [FromSeq, ToSeq), each non-empty
// field equal, in seq order, at most Limit.
type ReceiptFilter struct {
	FromSeq, ToSeq int64
	Agent          string
	Action         string
	Decision       string
	Limit          int
}

// ErrNoReceipt is returned (wrapped) for a receipt that does not exist in
// the tenant.
var ErrNoReceipt = errors.New("no such receipt")

// ReceiptWriter is what the append transaction offers for receipts, so
// that a receipt exists exactly when its decision entry does, and its
// outcome exactly when the outcome entry does.
type ReceiptWriter interface {
	InsertReceipt(r *Receipt) error
	// ReceiptInTx reads a receipt inside the transaction (the tenant's
	// appends are serialized, so what it reads cannot change before the
	// transaction commits).
	ReceiptInTx(id string) (*Receipt, error)
	// SetOutcome records the outcome entry of a receipt that has none; it
	// fails if the receipt has one.
	SetOutcome(id string, seq int64, status string) error
}

// ReceiptReader reads receipts of a tenant.
type ReceiptReader interface {
	Receipt(ctx context.Context, tenant, id string) (*Receipt, error)
	Receipts(ctx context.Context, tenant string, f ReceiptFilter) ([]Receipt, error)
}
