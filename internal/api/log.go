package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Entry listing limits.
const (
	DefaultEntryLimit = 100
	MaxEntryLimit     = 1000
)

// EntryJSON is one entry as served: entry is the object whose canonical
// (RFC 8785) encoding is exactly the bytes whose leaf hash is leaf_hash,
// or null for an entry whose data was pruned under retention (its leaf
// hash remains, and a retention.pruned entry declares the prune).
type EntryJSON struct {
	Seq      int64           `json:"seq"`
	LeafHash string          `json:"leaf_hash"`
	Entry    json.RawMessage `json:"entry"`
	Pruned   bool            `json:"pruned,omitempty"`
}

func entryJSON(r *ledger.Record) EntryJSON {
	if r.Data == nil {
		return EntryJSON{Seq: r.Seq, LeafHash: ledger.EncodeHash(r.LeafHash()), Entry: json.RawMessage("null"), Pruned: true}
	}
	return EntryJSON{Seq: r.Seq, LeafHash: ledger.EncodeHash(r.LeafHash()), Entry: json.RawMessage(r.Data)}
}

// getCheckpoint answers the latest checkpoint, or with ?size=N the stored
// one of exactly that size (a verifier that follows a key rotation asks
// for the old key's checkpoint covering it).
func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var cp *ledger.StoredCheckpoint
	var err error
	if r.URL.Query().Has("size") {
		var size int64
		if size, err = queryInt(r, "size", 0); err == nil {
			var cps []ledger.StoredCheckpoint
			cps, err = s.cfg.Store.Checkpoints(r.Context(), p.tenant, size, size)
			if err == nil && len(cps) == 0 {
				err = fmt.Errorf("checkpoint of size %d: %w", size, ledger.ErrNotFound)
			}
			if err == nil {
				cp = &cps[0]
			}
		}
	} else {
		cp, err = s.cfg.Store.LatestCheckpoint(r.Context(), p.tenant)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(cp.Note)
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s.cfg.VerifierKey+"\n")
}

// cursors are opaque to clients; they encode the next seq and the end of
// the window, so that later pages stay within the first page's range.
func encodeCursor(seq, to int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatInt(seq, 10) + ":to:" + strconv.FormatInt(to, 10)))
}

func decodeCursor(c string) (seq, to int64, err error) {
	bad := errBad("cursor is not one this server issued")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, bad
	}
	var a, z int64
	if _, err := fmt.Sscanf(string(b), "seq:%d:to:%d", &a, &z); err != nil || a < 0 || z < a || encodeCursor(a, z) != c {
		return 0, 0, bad
	}
	return a, z, nil
}

func (s *Server) listEntries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(ctx)
	head, err := s.cfg.Store.Head(ctx, p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, err := queryInt(r, "from", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, err := queryInt(r, "to", head.Size)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := queryLimit(r, DefaultEntryLimit, MaxEntryLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		// The cursor carries the window: from and to are not read again.
		if from, to, err = decodeCursor(c); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if to > head.Size {
		to = head.Size
	}
	out := struct {
		Entries    []EntryJSON `json:"entries"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}{Entries: []EntryJSON{}}
	if from < to {
		recs, err := s.cfg.Store.Records(ctx, p.tenant, from, to, limit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for i := range recs {
			out.Entries = append(out.Entries, entryJSON(&recs[i]))
		}
		if n := len(recs); n > 0 && recs[n-1].Seq+1 < to {
			out.NextCursor = encodeCursor(recs[n-1].Seq+1, to)
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) getEntry(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 0 {
		s.fail(w, r, errBad("seq must be a non-negative integer"))
		return
	}
	recs, err := s.cfg.Store.Records(r.Context(), p.tenant, seq, seq+1, 1)
	if err == nil && len(recs) == 0 {
		err = fmt.Errorf("entry %d: %w", seq, ledger.ErrNotFound)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, entryJSON(&recs[0]))
}

// InclusionJSON is an inclusion proof as served: base64 hashes, leaf to root.
type InclusionJSON struct {
	Seq   int64    `json:"seq"`
	Size  int64    `json:"size"`
	Proof []string `json:"proof"`
}

// ConsistencyJSON is a consistency proof as served.
type ConsistencyJSON struct {
	From  int64    `json:"from"`
	To    int64    `json:"to"`
	Proof []string `json:"proof"`
}

func hashList(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = ledger.EncodeHash(h)
	}
	return out
}

// defaultSize is the size of the latest checkpoint: proofs are useful
// against what has been signed.
func (s *Server) defaultSize(r *http.Request, tenant string) (int64, error) {
	cp, err := s.cfg.Store.LatestCheckpoint(r.Context(), tenant)
	if err != nil {
		return 0, err
	}
	return cp.Size, nil
}

func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if r.URL.Query().Get("seq") == "" {
		s.fail(w, r, errBad("seq is required"))
		return
	}
	seq, err := queryInt(r, "seq", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	size, err := queryInt(r, "size", -1)
	if err == nil && size < 0 {
		size, err = s.defaultSize(r, p.tenant)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	proof, err := ledger.InclusionProof(r.Context(), s.cfg.Store, p.tenant, seq, size)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, InclusionJSON{Seq: seq, Size: size, Proof: hashList(proof)})
}

func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if r.URL.Query().Get("from") == "" {
		s.fail(w, r, errBad("from is required"))
		return
	}
	from, err := queryInt(r, "from", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, err := queryInt(r, "to", -1)
	if err == nil && to < 0 {
		to, err = s.defaultSize(r, p.tenant)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	proof, err := ledger.ConsistencyProof(r.Context(), s.cfg.Store, p.tenant, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ConsistencyJSON{From: from, To: to, Proof: hashList(proof)})
}

// verifyLog walks the tenant's whole log. One runs at a time; others wait
// for their turn as long as their request lives.
func (s *Server) verifyLog(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(ctx)
	if err := emptyBody(r); err != nil {
		s.fail(w, r, err)
		return
	}
	history := s.cfg.KeyHistory
	if len(history) == 0 {
		history = []string{s.cfg.VerifierKey}
	}
	keys := make([]note.Verifier, len(history))
	for i, k := range history {
		v, err := note.NewVerifier(k)
		if err != nil {
			s.fail(w, r, fmt.Errorf("verifier key: %w", err))
			return
		}
		keys[i] = v
	}
	select {
	case s.verify <- struct{}{}:
		defer func() { <-s.verify }()
	case <-ctx.Done():
		s.fail(w, r, ctx.Err())
		return
	}
	rep, err := ledger.VerifyStore(ctx, s.cfg.Store, ledger.VerifyOptions{
		Tenant: p.tenant, Origin: s.cfg.Origin, Keys: keys}, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}

// emptyBody accepts no body or an empty JSON object.
func emptyBody(r *http.Request) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errBad("cannot read body")
	}
	if t := strings.TrimSpace(string(b)); t != "" && t != "{}" {
		return errBad("this route takes no body (or {})")
	}
	return nil
}
