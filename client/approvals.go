package client

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Statuses of an approval request.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
	ApprovalExpired  = "expired"
	// ApprovalFailed: approved, but the tenant's current policy would now
	// deny the request.
	ApprovalFailed = "failed"
)

// MaxApprovalWait is the longest wait the server grants GetApproval.
const MaxApprovalWait = 60 * time.Second

// Approval is the approval request a require_approval decision opened.
// Groups and Keys name who may approve (both empty: any approver); Count
// approving votes of distinct eligible keys approve it, and any rejection
// rejects it.
type Approval struct {
	ID            string     `json:"id"`
	ReceiptID     string     `json:"receipt_id"`
	Status        string     `json:"status"`
	Reason        string     `json:"reason,omitempty"`
	Principal     string     `json:"principal"`
	Action        string     `json:"action"`
	Rule          string     `json:"rule,omitempty"`
	RequestDigest string     `json:"request_digest"`
	RequestedBy   string     `json:"requested_by"`
	Groups        []string   `json:"groups"`
	Keys          []string   `json:"keys"`
	Count         int        `json:"count"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	Votes         []Vote     `json:"votes"`
	UsedByReceipt string     `json:"used_by_receipt,omitempty"`
	// Authorization is the single-use token that lets the exact request
	// approved be evaluated again with EvaluateWith. The server gives it
	// only to an agent key bound to the principal that asked, once the
	// request is approved and while the token is unused. It is a
	// credential: callers MUST NOT log it.
	Authorization string `json:"authorization,omitempty"`
}

// Approvals is the number of approving votes.
func (a *Approval) Approvals() int {
	n := 0
	for _, v := range a.Votes {
		if v.Approve {
			n++
		}
	}
	return n
}

// LogValue leaves the authorization out of logs.
func (a Approval) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("status", a.Status),
		slog.String("principal", a.Principal), slog.String("action", a.Action))
}

// Vote is one approver's answer to an approval request.
type Vote struct {
	KeyID   string    `json:"key_id"`
	Approve bool      `json:"approve"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// ApprovalPage is one page of approval requests; NextCursor is empty on
// the last.
type ApprovalPage struct {
	Approvals  []Approval `json:"approvals"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// Approvals lists one page of the tenant's approval requests in id order
// (an agent key sees only its principals'), of one status unless status
// is empty, continuing at cursor if it is not empty (limit <= 0: the
// server's default).
func (c *Client) Approvals(ctx context.Context, status, cursor string, limit int) (*ApprovalPage, error) {
	q := pageQuery(cursor, limit)
	if status != "" {
		q.Set("status", status)
	}
	var p ApprovalPage
	if err := c.getJSON(ctx, "/v1/approvals", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetApproval reads one approval request. With wait > 0 the server
// answers once the request is no longer pending or the wait is over (at
// most MaxApprovalWait), whichever comes first; the client's timeout is
// stretched to cover the wait.
func (c *Client) GetApproval(ctx context.Context, id string, wait time.Duration) (*Approval, error) {
	var q url.Values
	cc := c
	if wait > 0 {
		q = url.Values{"wait": {wait.String()}}
		cc = c.waiting(wait)
	}
	var a Approval
	if err := cc.getJSON(ctx, "/v1/approvals/"+url.PathEscape(id), q, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// waiting returns c, or a copy of c whose HTTP client's timeout outlasts
// a long poll of wait: the default 30 s would cut a 60 s wait short.
func (c *Client) waiting(wait time.Duration) *Client {
	const slack = 15 * time.Second
	if c.hc.Timeout == 0 || c.hc.Timeout >= wait+slack {
		return c
	}
	hc := *c.hc
	hc.Timeout = wait + slack
	cc := *c
	cc.hc = &hc
	return &cc
}

// Approve votes for an approval request and returns it as it stands
// after the vote. A key that may not vote on it is an *Error with status
// 403 whose Detail says why; a request no longer open, or one the key
// voted on already, is an *Error with status 409.
func (c *Client) Approve(ctx context.Context, id, comment string) (*Approval, error) {
	return c.vote(ctx, id, "approve", comment)
}

// Reject votes against an approval request, which rejects it, and
// returns it as it stands after the vote. Errors are as for Approve.
func (c *Client) Reject(ctx context.Context, id, comment string) (*Approval, error) {
	return c.vote(ctx, id, "reject", comment)
}

func (c *Client) vote(ctx context.Context, id, verb, comment string) (*Approval, error) {
	in := struct {
		Comment string `json:"comment,omitempty"`
	}{comment}
	var a Approval
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/"+verb, nil, in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
