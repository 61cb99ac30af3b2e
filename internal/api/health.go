package api

import (
	"context"
	"net/http"
	"time"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only while the store takes writes: a server that
// cannot record decisions must not receive traffic.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: store cannot write", "err", err)
		body := map[string]string{"status": "unavailable", "store": "cannot write"}
		if last := s.cfg.Ledger.Healthy(); last != nil {
			body["last_append"] = "failed"
		}
		s.writeJSON(w, r, http.StatusServiceUnavailable, body)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready", "store": "ok"})
}
