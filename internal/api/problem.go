package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Problem is an RFC 9457 problem detail. Type is stable: clients branch on
// it, never on Title or Detail.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

const problemBase = "urn:warden:problem:"

// Problem types.
var (
	probBadRequest   = Problem{Type: problemBase + "bad-request", Title: "Bad request", Status: http.StatusBadRequest}
	probUnauthorized = Problem{Type: problemBase + "unauthorized", Title: "Missing or invalid API key", Status: http.StatusUnauthorized}
	probForbidden    = Problem{Type: problemBase + "forbidden", Title: "The key's role does not allow this", Status: http.StatusForbidden}
	probNotFound     = Problem{Type: problemBase + "not-found", Title: "Not found", Status: http.StatusNotFound}
	probMethod       = Problem{Type: problemBase + "method-not-allowed", Title: "Method not allowed", Status: http.StatusMethodNotAllowed}
	probConflict     = Problem{Type: problemBase + "conflict", Title: "Conflicts with the current state", Status: http.StatusConflict}
	probTooLarge     = Problem{Type: problemBase + "too-large", Title: "Request body too large", Status: http.StatusRequestEntityTooLarge}
	probSuspended    = Problem{Type: problemBase + "tenant-suspended", Title: "The key's tenant is suspended", Status: http.StatusForbidden}
	probRateLimited  = Problem{Type: problemBase + "rate-limited", Title: "Too many requests for this key; retry after the time given", Status: http.StatusTooManyRequests}
	probUnavailable  = Problem{Type: problemBase + "unavailable", Title: "Cannot record right now; retry later", Status: http.StatusServiceUnavailable}
	probInternal     = Problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError}
)

// badRequest is an error whose message is safe to show the client.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func errBad(msg string) error { return &badRequest{msg: msg} }

// problemFor is the one table that maps errors to responses. Anything it
// does not know is an internal error: logged in full, answered generically.
func problemFor(err error) (Problem, bool) {
	var br *badRequest
	var mbe *http.MaxBytesError
	var ae *access.Error
	var refusal *approval.Refusal
	var policyRefusal *policy.Refusal
	var alertConflict *alerting.Conflict
	var alertInvalid *alerting.Invalid
	switch {
	case errors.As(err, &br):
		p := probBadRequest
		p.Detail = br.msg
		return p, false
	case errors.As(err, &mbe):
		return probTooLarge, false
	case errors.Is(err, policy.ErrInvalid), errors.Is(err, policy.ErrBadRequest):
		// The caller's own document or request: its errors are safe to show.
		p := probBadRequest
		p.Detail = err.Error()
		return p, false
	case errors.Is(err, policy.ErrNoVersion):
		return probNotFound, false
	case errors.Is(err, event.ErrNoReceipt):
		return probNotFound, false
	case errors.Is(err, gate.ErrOutcomeConflict):
		p := probConflict
		p.Detail = conflictDetail(err)
		return p, false
	case errors.Is(err, gate.ErrUnrecorded):
		return probUnavailable, true
	case errors.Is(err, access.ErrBadKey):
		return probUnauthorized, false
	case errors.Is(err, access.ErrSuspended):
		return probSuspended, false
	case errors.As(err, &ae):
		var p Problem
		switch {
		case errors.Is(ae.Kind, access.ErrForbidden):
			p = probForbidden
		case errors.Is(ae.Kind, access.ErrExists), errors.Is(ae.Kind, access.ErrStale):
			p = probConflict
		default:
			p = probBadRequest
		}
		p.Detail = ae.Msg
		return p, false
	case errors.As(err, &refusal):
		p := probConflict
		if errors.Is(refusal.Kind, approval.ErrIneligible) {
			p = probForbidden
		}
		p.Detail = refusal.Msg
		return p, false
	case errors.As(err, &policyRefusal):
		p := probConflict
		if errors.Is(policyRefusal.Kind, policy.ErrSelfApproval) {
			p = probForbidden
		}
		p.Detail = policyRefusal.Msg
		return p, false
	case errors.Is(err, approval.ErrNotFound), errors.Is(err, controls.ErrNotFound), errors.Is(err, alerting.ErrNotFound):
		return probNotFound, false
	case errors.As(err, &alertConflict):
		p := probConflict
		p.Detail = alertConflict.Msg
		return p, false
	case errors.As(err, &alertInvalid):
		p := probBadRequest
		p.Detail = alertInvalid.Msg
		return p, false
	case errors.Is(err, ledger.ErrNotFound), errors.Is(err, access.ErrNotFound):
		return probNotFound, false
	case errors.Is(err, ledger.ErrRange):
		p := probBadRequest
		p.Detail = "seq or size outside the log"
		return p, false
	case errors.Is(err, ledger.ErrPushback), errors.Is(err, ledger.ErrStore), errors.Is(err, ledger.ErrClosed):
		return probUnavailable, true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return probUnavailable, false
	}
	return probInternal, true
}

// conflictDetail is the part of a conflict's error that is about the
// caller's receipt (the ledger's wrapping is internal).
func conflictDetail(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, gate.ErrOutcomeConflict.Error()); i >= 0 {
		return msg[i:]
	}
	return gate.ErrOutcomeConflict.Error()
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, logIt := problemFor(err)
	if logIt {
		s.log.ErrorContext(r.Context(), "request failed", "route", routeName(r), "err", err)
	}
	s.writeProblem(w, r, p)
}

func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.RequestID = requestID(r.Context())
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="warden"`)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	if err := json.NewEncoder(w).Encode(p); err != nil {
		s.log.DebugContext(r.Context(), "write problem", "err", err)
	}
}

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "write response", slog.Any("err", err))
	}
}
