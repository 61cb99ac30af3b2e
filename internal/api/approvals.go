package api

import (
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/approval"
)

// Approval listing limits and the longest long poll.
const (
	DefaultApprovalLimit = 100
	MaxApprovalLimit     = 1000
	MaxApprovalWait      = 60 * time.Second
)

// VoteJSON is one vote as served.
type VoteJSON struct {
	KeyID   string    `json:"key_id"`
	Approve bool      `json:"approve"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// ApprovalJSON is an approval request as served. Authorization is present
// only for an agent key bound to the principal that asked, once the
// request is approved and while its authorization is unused.
type ApprovalJSON struct {
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
	Votes         []VoteJSON `json:"votes"`
	UsedReceipt   string     `json:"used_by_receipt,omitempty"`
	Authorization string     `json:"authorization,omitempty"`
}

func (s *Server) approvalJSON(p *principal, a *approval.Approval) ApprovalJSON {
	out := ApprovalJSON{ID: a.ID, ReceiptID: a.ReceiptID, Status: a.StatusAt(s.cfg.Clock()), Reason: a.Reason, Principal: a.Principal,
		Action: a.Action, Rule: a.Rule, RequestDigest: a.Digest, RequestedBy: a.Requester, Groups: orEmpty(a.Groups),
		Keys: orEmpty(a.Keys), Count: a.Count, CreatedAt: a.Created, ExpiresAt: a.Expires, ResolvedAt: a.Resolved,
		Votes: []VoteJSON{}, UsedReceipt: a.UsedReceipt}
	for _, v := range a.Votes {
		out.Votes = append(out.Votes, VoteJSON{KeyID: v.Key, Approve: v.Approve, Comment: v.Comment, At: v.At})
	}
	if p.key.Role == access.RoleAgent && p.key.SpeaksFor(a.Principal) {
		out.Authorization = s.cfg.Approvals.Authorization(a)
	}
	return out
}

var approvalIDRE = regexp.MustCompile(`^apr_[0-9a-z]{1,64}$`)

// approvalFrom reads the {id} of an approval route and the approval, if
// the caller may see it: another tenant's, or for an agent key another
// principal's, is not found.
func (s *Server) approvalFrom(r *http.Request, wait time.Duration) (*approval.Approval, error) {
	p := principalFrom(r.Context())
	if s.cfg.Approvals == nil {
		return nil, errBad("this server keeps no approvals")
	}
	id := r.PathValue("id")
	if !approvalIDRE.MatchString(id) {
		return nil, fmt.Errorf("approval %q: %w", id, approval.ErrNotFound)
	}
	var a *approval.Approval
	var err error
	if wait > 0 {
		a, err = s.cfg.Approvals.Wait(r.Context(), p.tenant, id, wait)
	} else {
		a, err = s.cfg.Approvals.Get(r.Context(), p.tenant, id)
	}
	if err != nil {
		return nil, err
	}
	if !p.key.SpeaksFor(a.Principal) {
		return nil, fmt.Errorf("approval of principal %q, not the key's: %w", a.Principal, approval.ErrNotFound)
	}
	return a, nil
}

// listApprovals answers GET /v1/approvals?status=&cursor=&limit=.
func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if s.cfg.Approvals == nil {
		s.fail(w, r, errBad("this server keeps no approvals"))
		return
	}
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", approval.Pending, approval.Approved, approval.Rejected, approval.Expired, approval.Failed:
	default:
		s.fail(w, r, errBad("status must be pending, approved, rejected, expired or failed"))
		return
	}
	limit, err := queryLimit(r, DefaultApprovalLimit, MaxApprovalLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after := q.Get("cursor")
	if after != "" && !approvalIDRE.MatchString(after) {
		s.fail(w, r, errBad("cursor is not a cursor of this listing"))
		return
	}
	as, err := s.cfg.Approvals.List(r.Context(), p.tenant, status, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Approvals  []ApprovalJSON `json:"approvals"`
		NextCursor string         `json:"next_cursor,omitempty"`
	}{Approvals: []ApprovalJSON{}}
	for i := range as {
		if p.key.SpeaksFor(as[i].Principal) {
			out.Approvals = append(out.Approvals, s.approvalJSON(p, &as[i]))
		}
	}
	if len(as) == limit {
		out.NextCursor = as[len(as)-1].ID
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// getApproval answers GET /v1/approvals/{id}?wait=30s: with wait, once
// the request is no longer pending or the wait is over (long polling).
func (s *Server) getApproval(w http.ResponseWriter, r *http.Request) {
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxApprovalWait {
			s.fail(w, r, errBad(fmt.Sprintf("wait must be a duration up to %s", MaxApprovalWait)))
			return
		}
		wait = d
	}
	a, err := s.approvalFrom(r, wait)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.approvalJSON(principalFrom(r.Context()), a))
}

type voteRequest struct {
	Comment string `json:"comment"`
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) { s.vote(w, r, true) }
func (s *Server) reject(w http.ResponseWriter, r *http.Request)  { s.vote(w, r, false) }

// vote answers POST /v1/approvals/{id}/approve and /reject ({comment}).
func (s *Server) vote(w http.ResponseWriter, r *http.Request, approve bool) {
	p := principalFrom(r.Context())
	var req voteRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	a, err := s.approvalFrom(r, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err = s.cfg.Approvals.Vote(r.Context(), p.key, p.tenant, a.ID, approve, req.Comment)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.approvalJSON(p, a))
}
