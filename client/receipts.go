package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Outcome is what happened when an allowed action ran.
type Outcome struct {
	Status     string `json:"status"` // succeeded or failed
	Output     any    `json:"output,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	Error      string `json:"error,omitempty"`
}

// OutcomeRecorded acknowledges a recorded outcome.
type OutcomeRecorded struct {
	ReceiptID string `json:"receipt_id"`
	Seq       int64  `json:"seq"`
	LeafHash  string `json:"leaf_hash"`
	Status    string `json:"status"`
}

// ReportOutcome reports the outcome of the allowed decision with receipt
// id. A receipt takes one outcome; a second is an *Error with status 409.
func (c *Client) ReportOutcome(ctx context.Context, id string, o Outcome) (*OutcomeRecorded, error) {
	body, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("warden outcome of %s: encode: %w", id, err)
	}
	b, err := c.do(ctx, http.MethodPost, "/v1/receipts/"+url.PathEscape(id)+"/outcome", nil, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	var out OutcomeRecorded
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("warden outcome of %s: decode: %w", id, err)
	}
	return &out, nil
}

// Proof is an inclusion proof of an entry against a signed checkpoint.
type Proof struct {
	Checkpoint string   `json:"checkpoint"`
	Size       int64    `json:"size"`
	Inclusion  []string `json:"inclusion"`
}

// RecordedEntry is an entry of a receipt, with its proof once a signed
// checkpoint covers it (ProofPending until then).
type RecordedEntry struct {
	Entry
	Proof        *Proof `json:"proof,omitempty"`
	ProofPending bool   `json:"proof_pending,omitempty"`
}

// Receipt is a decision with its outcome, if one was reported.
type Receipt struct {
	ReceiptID string         `json:"receipt_id"`
	Decision  *RecordedEntry `json:"decision"`
	Outcome   *RecordedEntry `json:"outcome"`
}

// GetReceipt reads one receipt with its proofs.
func (c *Client) GetReceipt(ctx context.Context, id string) (*Receipt, error) {
	var r Receipt
	if err := c.getJSON(ctx, "/v1/receipts/"+url.PathEscape(id), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ReceiptSummary is a receipt as listed.
type ReceiptSummary struct {
	ReceiptID     string    `json:"receipt_id"`
	Seq           int64     `json:"seq"`
	Time          time.Time `json:"time"`
	Agent         string    `json:"agent"`
	Action        string    `json:"action"`
	Decision      string    `json:"decision"`
	OutcomeSeq    *int64    `json:"outcome_seq,omitempty"`
	OutcomeStatus string    `json:"outcome_status,omitempty"`
}

// ReceiptQuery filters a receipt listing; zero fields do not filter.
type ReceiptQuery struct {
	Agent, Action, Decision string
	From, To                time.Time
	Limit                   int
	Cursor                  string
}

// ReceiptPage is one page of receipts; NextCursor is empty on the last.
type ReceiptPage struct {
	Receipts   []ReceiptSummary `json:"receipts"`
	NextCursor string           `json:"next_cursor"`
}

// Receipts lists receipts. Pass the same query with Cursor set to the
// previous page's NextCursor for the next page.
func (c *Client) Receipts(ctx context.Context, rq ReceiptQuery) (*ReceiptPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"agent": rq.Agent, "action": rq.Action, "decision": rq.Decision, "cursor": rq.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !rq.From.IsZero() {
		q.Set("from", rq.From.UTC().Format(time.RFC3339Nano))
	}
	if !rq.To.IsZero() {
		q.Set("to", rq.To.UTC().Format(time.RFC3339Nano))
	}
	if rq.Limit > 0 {
		q.Set("limit", strconv.Itoa(rq.Limit))
	}
	var p ReceiptPage
	if err := c.getJSON(ctx, "/v1/receipts", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Finding is what a scanner found: where, never the value.
type Finding struct {
	Category   string  `json:"category"`
	Rule       string  `json:"rule"`
	Severity   string  `json:"severity"`
	Confidence float64 `json:"confidence"`
	Path       string  `json:"path"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	InKey      bool    `json:"in_key,omitempty"`
}

// ScanResult is the answer of POST /v1/scan.
type ScanResult struct {
	Findings   []Finding `json:"findings"`
	Incomplete bool      `json:"incomplete"`
	Why        string    `json:"why,omitempty"`
}

// ScanText runs the server's scanners on text (provenance "argument",
// "output" or "tool_description"; empty means argument). Nothing is
// recorded.
func (c *Client) ScanText(ctx context.Context, text, provenance string) (*ScanResult, error) {
	body, err := json.Marshal(map[string]any{"text": text, "provenance": provenance})
	if err != nil {
		return nil, err
	}
	b, err := c.do(ctx, http.MethodPost, "/v1/scan", nil, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	var r ScanResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("warden POST /v1/scan: decode: %w", err)
	}
	return &r, nil
}
