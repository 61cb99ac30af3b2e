package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/policy"
)

// readBody reads a request body within the server's limit.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, errBad("cannot read body")
	}
	return b, nil
}

// evaluate answers POST /v1/evaluate: one recorded decision.
func (s *Server) evaluate(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := policy.DecodeRequest(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.speaksFor(w, r, req.Request.Principal.ID) {
		return
	}
	ans, err := s.cfg.Gate.DecideWith(r.Context(), p.tenant, p.key.ID, &req.Request, req.Authorization)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ans)
}

// VersionJSON is a policy version as listed.
type VersionJSON struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Digest    string    `json:"digest"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	Active    bool      `json:"active"`
	Source    string    `json:"source,omitempty"`
}

func (s *Server) versionJSON(v *policy.Version, active *policy.Active, withSource bool) VersionJSON {
	out := VersionJSON{Name: v.Name, Version: v.Version, Digest: v.Digest, Author: v.Author, CreatedAt: v.Created,
		Active: active != nil && active.Name == v.Name && active.Version == v.Version}
	if withSource {
		out.Source = string(v.Source)
	}
	return out
}

// pushPolicy answers POST /v1/policies: 201 with a new version, 200 with
// the existing one when the content is identical.
func (s *Server) pushPolicy(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])
	switch ct {
	case "application/yaml", "application/x-yaml", "text/yaml", "application/json":
	default:
		s.fail(w, r, errBad("Content-Type must be application/yaml or application/json"))
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, created, err := s.cfg.Policies.Push(r.Context(), p.tenant, p.key.ID, body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeJSON(w, r, status, map[string]any{"name": v.Name, "version": v.Version, "digest": v.Digest})
}

func (s *Server) activeOrNil(r *http.Request, tenant string) (*policy.Active, error) {
	a, err := s.cfg.Policies.Store.ActivePolicy(r.Context(), tenant)
	if errors.Is(err, policy.ErrNoVersion) {
		return nil, nil
	}
	return a, err
}

// listPolicies answers GET /v1/policies and GET /v1/policies/{name}/versions.
func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	name := r.PathValue("name")
	vs, err := s.cfg.Policies.Store.PolicyVersions(r.Context(), p.tenant, name)
	if err == nil && name != "" && len(vs) == 0 {
		err = policy.ErrNoVersion
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	active, err := s.activeOrNil(r, p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Versions []VersionJSON `json:"versions"`
	}{Versions: []VersionJSON{}}
	for i := range vs {
		out.Versions = append(out.Versions, s.versionJSON(&vs[i], active, false))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func pathVersion(r *http.Request) (string, int64, error) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		return "", 0, errBad("version must be a positive integer")
	}
	return r.PathValue("name"), n, nil
}

// getPolicyVersion answers GET /v1/policies/{name}/versions/{n}, with source.
func (s *Server) getPolicyVersion(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	name, n, err := pathVersion(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.cfg.Policies.Store.PolicyVersion(r.Context(), p.tenant, name, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	active, err := s.activeOrNil(r, p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.versionJSON(v, active, true))
}

// activePolicy answers GET /v1/policies/active.
func (s *Server) activePolicy(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	a, err := s.cfg.Policies.Store.ActivePolicy(r.Context(), p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.cfg.Policies.Store.PolicyVersion(r.Context(), p.tenant, a.Name, a.Version)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := s.versionJSON(v, a, true)
	s.writeJSON(w, r, http.StatusOK, map[string]any{"policy": out, "activated_at": a.Activated, "activated_by": a.By})
}

// activatePolicy answers POST /v1/policies/{name}/versions/{n}/activate.
func (s *Server) activatePolicy(w http.ResponseWriter, r *http.Request) {
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
	a, err := s.cfg.Policies.Activate(r.Context(), p.tenant, p.key.ID, name, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"name": a.Name, "version": a.Version, "activated_at": a.Activated, "activated_by": a.By})
}

// diffPolicy answers GET /v1/policies/{name}/diff?from=&to=: what changed
// between two versions of a policy, with example requests whose decision
// changes. to defaults to the latest version, from to the one before to.
func (s *Server) diffPolicy(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	name := r.PathValue("name")
	vs, err := s.cfg.Policies.Store.PolicyVersions(r.Context(), p.tenant, name)
	if err == nil && len(vs) == 0 {
		err = policy.ErrNoVersion
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	latest := vs[len(vs)-1].Version
	for _, v := range vs {
		latest = max(latest, v.Version)
	}
	to, err := queryInt(r, "to", latest)
	if err == nil && to < 1 {
		err = errBad("to must be a positive version")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, err := queryInt(r, "from", to-1)
	if err == nil && from < 1 {
		err = errBad("from must be a positive version (the policy has one version: give from and to)")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.cfg.Policies.Store.PolicyVersion(r.Context(), p.tenant, name, from)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.cfg.Policies.Store.PolicyVersion(r.Context(), p.tenant, name, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := policy.Diff(a.Source, b.Source)
	if err != nil {
		// Both versions compiled when they were pushed.
		s.fail(w, r, fmt.Errorf("diff policy %q versions %d and %d: %w", name, from, to, err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"name": name, "from": from, "to": to, "diff": d})
}
