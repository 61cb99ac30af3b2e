package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/evidence"
)

// exportEvidence answers GET /v1/evidence?from=&to=[&format=oscal]: the
// tenant's evidence archive of [from, to), streamed as a zip. The export
// is first recorded (evidence.exported, by the caller's key); that entry
// lies after the period, and the archive's end checkpoint covers it.
func (s *Server) exportEvidence(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	x := s.cfg.Evidence
	if x == nil {
		s.fail(w, r, errBad("this server makes no evidence archives"))
		return
	}
	q := r.URL.Query()
	from, err := queryTime(r, "from")
	var to time.Time
	if err == nil {
		to, err = queryTime(r, "to")
	}
	if err == nil && (from.IsZero() || to.IsZero()) {
		err = errBad("from and to are required (RFC 3339 times)")
	}
	format := q.Get("format")
	if err == nil && format != "" && format != "oscal" {
		err = errBad("format must be oscal or absent")
	}
	if err == nil && !from.Before(to) {
		err = errBad("from must be before to")
	}
	if err == nil && to.After(s.cfg.Clock()) {
		err = errBad("to is in the future: export a period that has ended")
	}
	var trustedSize int64
	if err == nil {
		trustedSize, err = queryInt(r, "trusted_size", 0)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := event.New(event.KindEvidenceExported, p.key.ID, &event.EvidenceExported{
		From: from.UTC().Format(time.RFC3339Nano), To: to.UTC().Format(time.RFC3339Nano), Format: format})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.cfg.Ledger.Append(r.Context(), p.tenant, req); err != nil {
		s.fail(w, r, err)
		return
	}
	cw := &startedWriter{w: w, start: func() {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="evidence-%s-%s-%s.zip"`,
			p.tenant, from.UTC().Format("20060102T150405Z"), to.UTC().Format("20060102T150405Z")))
		w.WriteHeader(http.StatusOK)
	}}
	_, err = x.Export(r.Context(), cw, p.tenant, from, to, evidence.Options{OSCAL: format == "oscal", TrustedSize: trustedSize})
	if err == nil {
		return
	}
	if !cw.started {
		if errors.Is(err, evidence.ErrPeriod) {
			err = errBad(err.Error())
		}
		s.fail(w, r, err)
		return
	}
	// The zip is half sent: cut the connection, so that the client sees a
	// broken download rather than a short archive.
	s.log.ErrorContext(r.Context(), "evidence export failed after it started", "err", err)
	panic(http.ErrAbortHandler)
}

// startedWriter calls start before the first byte it writes.
type startedWriter struct {
	w       http.ResponseWriter
	start   func()
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.start()
	}
	return s.w.Write(p)
}
