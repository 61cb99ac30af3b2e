package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Replay bounds: the most entries one report reads (narrow the time range
// beyond), the page it reads them in, and its examples.
const (
	MaxReplayEntries  = 5_000_000
	replayPage        = 1000
	DefaultReplayFlip = 20
	MaxReplayFlips    = 1000
)

// forDecisions calls fn with every decision entry of tenant with seq in
// [from, to), in order.
func (s *Server) forDecisions(ctx context.Context, tenant string, from, to int64, fn func(seq int64, id string, d *event.Decision)) error {
	if to-from > MaxReplayEntries {
		return errBad(fmt.Sprintf("the range holds %d entries; at most %d are read at once: narrow from and to", to-from, MaxReplayEntries))
	}
	for seq := from; seq < to; {
		recs, err := s.cfg.Store.Records(ctx, tenant, seq, to, replayPage)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			if recs[i].Kind != event.KindDecision || recs[i].Data == nil { // pruned: nothing to replay
				continue
			}
			e, err := ledger.Parse(recs[i].Data)
			if err != nil {
				return err
			}
			b, err := event.Decode(e.Kind, e.Body)
			if err != nil {
				return err
			}
			fn(recs[i].Seq, recs[i].ID, b.(*event.Decision))
		}
		seq = recs[len(recs)-1].Seq + 1
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// ReplayRequest is the body of POST /v1/policies/replay: a version to
// evaluate against the recorded decisions of [from, to) (RFC 3339 times;
// default the whole log), with at most examples flips shown.
type ReplayRequest struct {
	Name     string `json:"name"`
	Version  int64  `json:"version"`
	From     string `json:"from"`
	To       string `json:"to"`
	Examples int    `json:"examples"`
}

// ReplayJSON answers a replay or a shadow report.
type ReplayJSON struct {
	Policy  policyVersionRef     `json:"policy"`
	FromSeq int64                `json:"from_seq"`
	ToSeq   int64                `json:"to_seq"`
	Report  *policy.ReplayReport `json:"report"`
}

type policyVersionRef struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// replayPolicy answers POST /v1/policies/replay: which recorded decisions
// the version would have decided otherwise, from their stored (redacted)
// requests.
func (s *Server) replayPolicy(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var req ReplayRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Examples < 0 || req.Examples > MaxReplayFlips {
		s.fail(w, r, errBad(fmt.Sprintf("examples must be from 0 to %d", MaxReplayFlips)))
		return
	}
	v, err := s.cfg.Policies.Store.PolicyVersion(r.Context(), p.tenant, req.Name, req.Version)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cand, err := policy.ParseAndCompile(v.Source)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, to, err := s.window(r, p.tenant, req.From, req.To)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rp := policy.NewReplayer(cand, orDefault(req.Examples, DefaultReplayFlip))
	if err := s.forDecisions(r.Context(), p.tenant, from, to, func(seq int64, id string, d *event.Decision) {
		rp.Add(seq, id, d, nil)
	}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ReplayJSON{Policy: policyVersionRef{req.Name, req.Version}, FromSeq: from, ToSeq: to, Report: rp.Report()})
}

// shadowReport answers GET /v1/policies/shadow/report?from=&to=&examples=:
// the flips the tenant's candidate recorded in shadow, by rule, action
// and agent.
func (s *Server) shadowReport(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	n, err := queryInt(r, "examples", DefaultReplayFlip)
	if err != nil || n > MaxReplayFlips {
		s.fail(w, r, errBad(fmt.Sprintf("examples must be from 0 to %d", MaxReplayFlips)))
		return
	}
	a, err := s.cfg.Policies.Store.CandidatePolicy(r.Context(), p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cand, _, err := s.cfg.Policies.Candidate(r.Context(), p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	from, to, err := s.window(r, p.tenant, q.Get("from"), q.Get("to"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rp := policy.NewReplayer(cand, orDefault(int(n), DefaultReplayFlip))
	if err := s.forDecisions(r.Context(), p.tenant, from, to, func(seq int64, id string, d *event.Decision) {
		if d.Shadow != nil && d.Shadow.Policy.Name == a.Name && d.Shadow.Policy.Version == a.Version {
			rp.AddRecorded(seq, id, d)
		}
	}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ReplayJSON{Policy: policyVersionRef{a.Name, a.Version}, FromSeq: from, ToSeq: to, Report: rp.Report()})
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
