package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/wardenhq/warden/internal/controls"
)

// ControlJSON is a kill switch as served.
type ControlJSON struct {
	ID        string         `json:"id"`
	Scope     controls.Scope `json:"scope"`
	Effect    string         `json:"effect"`
	Reason    string         `json:"reason"`
	ExpiresAt *time.Time     `json:"expires_at"`
	CreatedAt time.Time      `json:"created_at"`
	CreatedBy string         `json:"created_by"`
}

func controlJSON(c *controls.Control) ControlJSON {
	return ControlJSON{ID: c.ID, Scope: c.Scope, Effect: c.Effect, Reason: c.Reason, ExpiresAt: c.Expires, CreatedAt: c.Created, CreatedBy: c.By}
}

type setControlRequest struct {
	Scope     controls.Scope `json:"scope"`
	Effect    string         `json:"effect"`
	Reason    string         `json:"reason"`
	ExpiresAt *time.Time     `json:"expires_at"`
}

func (s *Server) controlsService() (*controls.Service, error) {
	if s.cfg.Controls == nil {
		return nil, errBad("this server keeps no kill switches")
	}
	return s.cfg.Controls, nil
}

// setControl answers POST /v1/controls: 201 with the switch, which binds
// the next decision on every replica.
func (s *Server) setControl(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, err := s.controlsService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req setControlRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := svc.Set(r.Context(), p.tenant, p.key.ID, controls.Spec{Scope: req.Scope, Effect: req.Effect, Reason: req.Reason, Expires: req.ExpiresAt})
	var inv *controls.Invalid
	if errors.As(err, &inv) {
		err = errBad(inv.Msg)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, controlJSON(c))
}

// listControls answers GET /v1/controls: the switches in force.
func (s *Server) listControls(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, err := s.controlsService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := svc.List(r.Context(), p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Controls []ControlJSON `json:"controls"`
	}{Controls: []ControlJSON{}}
	for i := range cs {
		out.Controls = append(out.Controls, controlJSON(&cs[i]))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

var controlIDRE = regexp.MustCompile(`^ctl_[0-9a-z]{1,64}$`)

// clearControl answers DELETE /v1/controls/{id}: 204.
func (s *Server) clearControl(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, err := s.controlsService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if !controlIDRE.MatchString(id) {
		s.fail(w, r, fmt.Errorf("control %q: %w", id, controls.ErrNotFound))
		return
	}
	if err := svc.Clear(r.Context(), p.tenant, p.key.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
