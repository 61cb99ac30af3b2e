package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/scan"
)

// scanRequest is the body of POST /v1/scan: exactly one of text and value.
type scanRequest struct {
	Text       *string         `json:"text"`
	Value      json.RawMessage `json:"value"`
	Provenance string          `json:"provenance"`
}

var provenances = map[string]scan.Provenance{"": scan.Argument, "argument": scan.Argument, "output": scan.Output, "tool_description": scan.ToolDescription}

// scanContent answers POST /v1/scan: the scanners alone, nothing recorded.
// Findings carry offsets and rule ids, never the values.
func (s *Server) scanContent(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Scanner == nil {
		s.fail(w, r, errBad("this server has no scanner"))
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req scanRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.fail(w, r, errBad("body must be {\"text\": …} or {\"value\": …}: "+err.Error()))
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		s.fail(w, r, errBad("trailing data after the body"))
		return
	}
	prov, ok := provenances[req.Provenance]
	if !ok {
		s.fail(w, r, errBad("provenance must be argument, output or tool_description"))
		return
	}
	var res scan.Result
	switch {
	case req.Text != nil && len(req.Value) == 0:
		res = s.cfg.Scanner.ScanText(r.Context(), *req.Text, "", prov)
	case req.Text == nil && len(req.Value) > 0:
		v, err := policy.DecodeValue(req.Value, "value")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		res = s.cfg.Scanner.ScanValue(r.Context(), v, "", prov)
	default:
		s.fail(w, r, errBad("give exactly one of text and value"))
		return
	}
	if res.Findings == nil {
		res.Findings = []scan.Finding{}
	}
	s.writeJSON(w, r, http.StatusOK, res)
}
