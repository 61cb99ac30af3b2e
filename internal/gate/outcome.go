package gate

import (
	"context"
	"errors"
	"fmt"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// ErrOutcomeConflict is returned (wrapped) for an outcome the receipt
// cannot take: its decision was not allow, or it has one already.
var ErrOutcomeConflict = errors.New("the receipt cannot take this outcome")

// OutcomeAnswer is the answer to an outcome report.
type OutcomeAnswer struct {
	ReceiptID string `json:"receipt_id"`
	Seq       int64  `json:"seq"`
	LeafHash  string `json:"leaf_hash"`
	Status    string `json:"status"`
	// Findings are what the scanners found in the output (offsets and
	// rule ids, never values).
	Findings []event.DecisionFinding `json:"findings,omitempty"`
	// Output is the output with the findings the policy's redact_outputs
	// names redacted; present when there were findings.
	Output       any  `json:"output,omitempty"`
	ScanComplete bool `json:"scan_complete"`
}

// Outcome records what happened when the action of an allowed decision
// ran. The receipt is checked and marked inside the append transaction
// of the outcome entry, so that two reports racing for one receipt (on
// any replica) record exactly one.
func (g *Gate) Outcome(ctx context.Context, tenant, actor, receiptID string, o *policy.Outcome) (*OutcomeAnswer, error) {
	body := &event.Outcome{ReceiptID: receiptID, Status: o.Status, DurationMS: o.DurationMS}
	answered := g.scanOutput(ctx, tenant, o.Output, body)
	body.Error = g.scanError(ctx, tenant, o.Error, body)
	req, err := event.New(event.KindOutcome, actor, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnrecorded, err)
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(event.ReceiptWriter)
		if !ok {
			return errors.New("the store cannot record outcomes")
		}
		r, err := w.ReceiptInTx(receiptID)
		if err != nil {
			return err
		}
		switch {
		case r.Decision != policy.Allow:
			return fmt.Errorf("%w: receipt %s was answered %s; only allowed actions report an outcome", ErrOutcomeConflict, receiptID, r.Decision)
		case r.HasOutcome():
			return fmt.Errorf("%w: receipt %s has an outcome already (seq %d)", ErrOutcomeConflict, receiptID, r.OutcomeSeq)
		}
		body.DecisionSeq, body.Agent, body.Action = r.Seq, r.Agent, r.Action
		return w.SetOutcome(receiptID, tx.Head().Size, o.Status)
	}
	ack, err := g.Ledger.Append(ctx, tenant, req)
	if err != nil {
		if errors.Is(err, ErrOutcomeConflict) || errors.Is(err, event.ErrNoReceipt) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrUnrecorded, err)
	}
	return &OutcomeAnswer{ReceiptID: receiptID, Seq: ack.Seq, LeafHash: ledger.EncodeHash(ack.LeafHash), Status: o.Status,
		Findings: answerFindings(body.Findings), Output: answered, ScanComplete: body.ScanComplete}, nil
}

// scanOutput scans an outcome's output and fills what body records: the
// output with every finding redacted, or nothing when it could not be
// scanned in full. It returns what the answer shows: the output redacted
// as the active policy's redact_outputs says (everything redacted when the
// policy cannot be read), or nil when there was nothing to redact.
func (g *Gate) scanOutput(ctx context.Context, tenant string, output any, body *event.Outcome) any {
	if output == nil {
		body.ScanComplete = true
		return nil
	}
	sc, ok := g.Scanner.(OutputScanner)
	if !ok || g.Scanner == nil {
		// No scanner in this gate: recorded as given, as args are.
		body.Output, body.ScanComplete = output, true
		return nil
	}
	res, err := sc.ScanOutput(ctx, tenant, "/output", output)
	if err != nil || res.Incomplete {
		return nil
	}
	body.ScanComplete, body.Findings = true, res.Findings
	if len(res.Findings) == 0 {
		body.Output = output
		return nil
	}
	body.Output = res.Redacted
	if res.Redact == nil {
		return res.Redacted
	}
	active, err := g.Policies.Active(ctx, tenant)
	if err != nil || active == nil || active.Policy == nil {
		return res.Redacted
	}
	pol := active.Policy
	return res.Redact(func(f event.DecisionFinding) bool { return pol.RedactOutputs(f.Category, f.Severity) })
}

// scanError scans an outcome's error text (a tool's error may echo what
// it was given) and returns what is recorded of it: the text with every
// finding redacted, or a note when it could not be scanned in full.
func (g *Gate) scanError(ctx context.Context, tenant, text string, body *event.Outcome) string {
	sc, ok := g.Scanner.(OutputScanner)
	if text == "" || !ok || g.Scanner == nil {
		return text
	}
	res, err := sc.ScanOutput(ctx, tenant, "/error", text)
	if err != nil || res.Incomplete {
		body.ScanComplete = false
		return "[not recorded: the error text could not be scanned]"
	}
	body.Findings = append(body.Findings, res.Findings...)
	if len(res.Findings) == 0 {
		return text
	}
	if s, ok := res.Redacted.(string); ok {
		return s
	}
	return "[not recorded: the error text could not be redacted]"
}
