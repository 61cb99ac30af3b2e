package api

import (
	"net/http"
	"time"

	"github.com/wardenhq/warden/internal/policy"
)

// VersionApprovalJSON is one approval of a policy version.
type VersionApprovalJSON struct {
	KeyID string    `json:"key_id"`
	At    time.Time `json:"at"`
}

func versionApprovals(as []policy.VersionApproval) []VersionApprovalJSON {
	out := []VersionApprovalJSON{}
	for _, a := range as {
		out = append(out, VersionApprovalJSON{KeyID: a.Key, At: a.At})
	}
	return out
}

// approvePolicy answers POST /v1/policies/{name}/versions/{n}/approve:
// the version's approvals after this one. Its author cannot approve it
// (403); a second approval by the same key is 409.
func (s *Server) approvePolicy(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if err := emptyBody(r); err != nil {
		s.fail(w, r, err)
		return
	}
	name, n, err := pathVersion(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	as, err := s.cfg.Policies.Approve(r.Context(), p.tenant, p.key.ID, name, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"name": name, "version": n, "approvals": versionApprovals(as)})
}

// setCandidate answers POST /v1/policies/{name}/versions/{n}/candidate:
// the version is evaluated in shadow on every decision from now.
func (s *Server) setCandidate(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if err := emptyBody(r); err != nil {
		s.fail(w, r, err)
		return
	}
	name, n, err := pathVersion(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.cfg.Policies.SetCandidate(r.Context(), p.tenant, p.key.ID, name, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"name": a.Name, "version": a.Version, "set_at": a.Activated, "set_by": a.By})
}

// clearCandidate answers DELETE /v1/policies/candidate.
func (s *Server) clearCandidate(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if err := s.cfg.Policies.ClearCandidate(r.Context(), p.tenant, p.key.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ActivationJSON is one activation of the tenant's history.
type ActivationJSON struct {
	Name        string    `json:"name"`
	Version     int64     `json:"version"`
	ActivatedAt time.Time `json:"activated_at"`
	ActivatedBy string    `json:"activated_by"`
}

// listActivations answers GET /v1/policies/activations?limit=: who
// activated which version when, newest first.
func (s *Server) listActivations(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	limit, err := queryLimit(r, 100, 1000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	as, err := s.cfg.Policies.Store.Activations(r.Context(), p.tenant, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Activations []ActivationJSON `json:"activations"`
	}{Activations: []ActivationJSON{}}
	for _, a := range as {
		out.Activations = append(out.Activations, ActivationJSON{Name: a.Name, Version: a.Version, ActivatedAt: a.Activated, ActivatedBy: a.By})
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
