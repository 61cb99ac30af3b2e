package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Receipt listing limits.
const (
	DefaultReceiptLimit = 100
	MaxReceiptLimit     = 1000
)

var receiptIDRE = regexp.MustCompile(`^rcpt_[0-9a-z]{1,64}$`)

// receiptID reads the {id} of a receipt route; anything that cannot be a
// receipt id is simply not found.
func receiptID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !receiptIDRE.MatchString(id) {
		return "", fmt.Errorf("receipt %q: %w", id, event.ErrNoReceipt)
	}
	return id, nil
}

// reportOutcome answers POST /v1/receipts/{id}/outcome.
func (s *Server) reportOutcome(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	id, err := receiptID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := policy.DecodeOutcome(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.key.Role == access.RoleAgent {
		rc, err := s.cfg.Store.Receipt(r.Context(), p.tenant, id)
		if err == nil {
			err = sees(p, rc.Agent)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	ans, err := s.cfg.Gate.Outcome(r.Context(), p.tenant, p.key.ID, id, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, ans)
}

// ProofJSON is an inclusion proof of one entry against a signed checkpoint.
type ProofJSON struct {
	Checkpoint string   `json:"checkpoint"` // the signed note, verbatim
	Size       int64    `json:"size"`
	Inclusion  []string `json:"inclusion"`
}

// RecordedJSON is one entry of a receipt with its proof, when the latest
// checkpoint covers it (proof_pending otherwise: it will, within the
// checkpoint interval).
type RecordedJSON struct {
	EntryJSON
	Proof        *ProofJSON `json:"proof,omitempty"`
	ProofPending bool       `json:"proof_pending,omitempty"`
}

// ReceiptJSON is a receipt as served by GET /v1/receipts/{id}.
type ReceiptJSON struct {
	ReceiptID string        `json:"receipt_id"`
	Decision  *RecordedJSON `json:"decision"`
	Outcome   *RecordedJSON `json:"outcome"`
}

// getReceipt answers GET /v1/receipts/{id}: the decision entry, its
// outcome entry if any, and their inclusion proofs against the latest
// checkpoint, so that a holder of the verifier key checks them alone.
func (s *Server) getReceipt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(ctx)
	id, err := receiptID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := s.cfg.Store.Receipt(ctx, p.tenant, id)
	if err == nil {
		err = sees(p, rc.Agent)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cp, err := s.cfg.Store.LatestCheckpoint(ctx, p.tenant)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	out := ReceiptJSON{ReceiptID: id}
	if out.Decision, err = s.recorded(r, p.tenant, rc.Seq, cp); err != nil {
		s.fail(w, r, err)
		return
	}
	if rc.HasOutcome() {
		if out.Outcome, err = s.recorded(r, p.tenant, rc.OutcomeSeq, cp); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) recorded(r *http.Request, tenant string, seq int64, cp *ledger.StoredCheckpoint) (*RecordedJSON, error) {
	recs, err := s.cfg.Store.Records(r.Context(), tenant, seq, seq+1, 1)
	if err == nil && len(recs) != 1 {
		err = fmt.Errorf("receipt entry %d of %q is missing", seq, tenant)
	}
	if err != nil {
		return nil, err
	}
	out := &RecordedJSON{EntryJSON: entryJSON(&recs[0])}
	if cp == nil || cp.Size <= seq {
		out.ProofPending = true
		return out, nil
	}
	proof, err := ledger.InclusionProof(r.Context(), s.cfg.Store, tenant, seq, cp.Size)
	if err != nil {
		return nil, err
	}
	out.Proof = &ProofJSON{Checkpoint: string(cp.Note), Size: cp.Size, Inclusion: hashList(proof)}
	return out, nil
}

// ReceiptSummaryJSON is one receipt as listed.
type ReceiptSummaryJSON struct {
	ReceiptID     string    `json:"receipt_id"`
	Seq           int64     `json:"seq"`
	Time          time.Time `json:"time"`
	Agent         string    `json:"agent"`
	Action        string    `json:"action"`
	Decision      string    `json:"decision"`
	OutcomeSeq    *int64    `json:"outcome_seq,omitempty"`
	OutcomeStatus string    `json:"outcome_status,omitempty"`
}

var decisions = map[string]bool{policy.Allow: true, policy.Deny: true, policy.RequireApproval: true, "rate_limited": true}

// listReceipts answers GET /v1/receipts?agent=&action=&decision=&from=&to=&limit=&cursor=.
// from and to are RFC 3339 times (to exclusive); the cursor carries the
// window of the first page, the filters are given again with each page.
func (s *Server) listReceipts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(ctx)
	q := r.URL.Query()
	f := event.ReceiptFilter{Agent: q.Get("agent"), Action: q.Get("action"), Decision: q.Get("decision")}
	if f.Decision != "" && !decisions[f.Decision] {
		s.fail(w, r, errBad("decision must be allow, deny, require_approval or rate_limited"))
		return
	}
	limit, err := queryLimit(r, DefaultReceiptLimit, MaxReceiptLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Limit = limit
	if c := q.Get("cursor"); c != "" {
		if f.FromSeq, f.ToSeq, err = decodeCursor(c); err != nil {
			s.fail(w, r, err)
			return
		}
	} else if f.FromSeq, f.ToSeq, err = s.seqWindow(r, p.tenant); err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Receipts   []ReceiptSummaryJSON `json:"receipts"`
		NextCursor string               `json:"next_cursor,omitempty"`
	}{Receipts: []ReceiptSummaryJSON{}}
	if f.FromSeq < f.ToSeq {
		rs, err := s.cfg.Store.Receipts(ctx, p.tenant, f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, rc := range rs {
			if sees(p, rc.Agent) != nil {
				continue // an agent key lists its own principals' receipts only
			}
			js := ReceiptSummaryJSON{ReceiptID: rc.ID, Seq: rc.Seq, Time: rc.Time, Agent: rc.Agent, Action: rc.Action,
				Decision: rc.Decision, OutcomeStatus: rc.OutcomeStatus}
			if rc.HasOutcome() {
				js.OutcomeSeq = &rc.OutcomeSeq
			}
			out.Receipts = append(out.Receipts, js)
		}
		if n := len(rs); n == f.Limit && rs[n-1].Seq+1 < f.ToSeq {
			out.NextCursor = encodeCursor(rs[n-1].Seq+1, f.ToSeq)
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// seqWindow turns the from and to times of a listing into a seq range.
func (s *Server) seqWindow(r *http.Request, tenant string) (from, to int64, err error) {
	q := r.URL.Query()
	return s.window(r, tenant, q.Get("from"), q.Get("to"))
}

// window turns RFC 3339 times (empty: the start and the head of the log)
// into the seq range [from, to) of tenant's log.
func (s *Server) window(r *http.Request, tenant, fromTime, toTime string) (from, to int64, err error) {
	head, err := s.cfg.Store.Head(r.Context(), tenant)
	if err != nil {
		return 0, 0, err
	}
	from, to = 0, head.Size
	at := func(name, v string, def int64) (int64, error) {
		if v == "" {
			return def, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, errBad(name + " must be an RFC 3339 time")
		}
		seq, err := s.cfg.Store.SeqAtTime(r.Context(), tenant, t)
		if err != nil {
			return 0, err
		}
		return min(seq, head.Size), nil
	}
	if from, err = at("from", fromTime, from); err != nil {
		return 0, 0, err
	}
	if to, err = at("to", toTime, to); err != nil {
		return 0, 0, err
	}
	return from, to, nil
}
