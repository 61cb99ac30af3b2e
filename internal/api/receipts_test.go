package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func (s *stack) outcome(t *testing.T, key, id, body string, want int) *response {
	t.Helper()
	r := s.do(t, "POST", "/v1/receipts/"+id+"/outcome", key, strings.NewReader(body), "Content-Type", "application/json")
	if r.status != want {
		t.Fatalf("POST outcome of %s %s = %d %s, want %d", id, body, r.status, r.body, want)
	}
	return r
}

// checkRecorded verifies a receipt entry offline: its bytes hash to its
// leaf hash, and its inclusion proof leads to the root of a checkpoint
// signed by the installation's key.
func checkRecorded(t *testing.T, vkey string, rec *api.RecordedJSON, wantSeq int64) {
	t.Helper()
	if rec == nil || rec.Seq != wantSeq || rec.Proof == nil {
		t.Fatalf("recorded entry = %+v, want seq %d with a proof", rec, wantSeq)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ledger.OpenCheckpoint([]byte(rec.Proof.Checkpoint), testOrigin+"/default", v)
	if err != nil || cp.Size != rec.Proof.Size {
		t.Fatalf("OpenCheckpoint = %+v, %v; want size %d", cp, err, rec.Proof.Size)
	}
	leaf := tlog.RecordHash(rec.Entry)
	if got := base64.StdEncoding.EncodeToString(leaf[:]); got != rec.LeafHash {
		t.Fatalf("leaf hash of the entry = %s, served %s", got, rec.LeafHash)
	}
	var proof tlog.RecordProof
	for _, h := range rec.Proof.Inclusion {
		d, err := ledger.DecodeHash(h)
		if err != nil {
			t.Fatal(err)
		}
		proof = append(proof, d)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Root, rec.Seq, leaf); err != nil {
		t.Fatalf("CheckRecord(seq %d, size %d) = %v", rec.Seq, cp.Size, err)
	}
}

func TestReceiptsAndOutcomes(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, chargesPolicy)
	allowed := s.evaluate(t, s.admin, evalBody("billing-bot", "stripe.charges.create", `{"amount": 1200}`), http.StatusOK)
	denied := s.evaluate(t, s.admin, evalBody("billing-bot", "shell.exec", `{"command": "ls"}`), http.StatusOK)
	if allowed.Decision != "allow" || denied.Decision != "deny" {
		t.Fatalf("decisions = %s, %s; want allow, deny", allowed.Decision, denied.Decision)
	}

	r := s.outcome(t, s.admin, allowed.ReceiptID, `{"status":"succeeded","output":{"charge":"ch_1","amount":1200},"duration_ms":42}`, http.StatusCreated)
	var oa struct {
		ReceiptID string `json:"receipt_id"`
		Seq       int64  `json:"seq"`
		Status    string `json:"status"`
	}
	if err := json.Unmarshal(r.body, &oa); err != nil || oa.ReceiptID != allowed.ReceiptID || oa.Seq <= denied.Seq || oa.Status != "succeeded" {
		t.Fatalf("outcome answer = %s (%v)", r.body, err)
	}
	for _, tc := range []struct {
		name, id, body string
		want           int
		problem        string
	}{
		{"second outcome", allowed.ReceiptID, `{"status":"failed"}`, http.StatusConflict, "has an outcome already"},
		{"denied receipt", denied.ReceiptID, `{"status":"succeeded"}`, http.StatusConflict, "only allowed actions"},
		{"unknown receipt", "rcpt_01zzzzzzzzzzzzzzzzzzzzzzzz", `{"status":"succeeded"}`, http.StatusNotFound, ""},
		{"not a receipt id", "evt_1", `{"status":"succeeded"}`, http.StatusNotFound, ""},
		{"bad status", allowed.ReceiptID, `{"status":"done"}`, http.StatusBadRequest, "succeeded or failed"},
		{"unknown field", allowed.ReceiptID, `{"status":"failed","extra":1}`, http.StatusBadRequest, "unknown field"},
		{"unsafe integer", allowed.ReceiptID, `{"status":"failed","output":{"n":9007199254740993}}`, http.StatusBadRequest, "outside"},
		{"negative duration", allowed.ReceiptID, `{"status":"failed","duration_ms":-1}`, http.StatusBadRequest, "duration_ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.outcome(t, s.admin, tc.id, tc.body, tc.want)
			if p := decodeProblem(t, tc.name, r); !strings.Contains(p.Detail, tc.problem) {
				t.Fatalf("problem detail = %q, want it to contain %q", p.Detail, tc.problem)
			}
		})
	}

	s.waitCheckpoint(t, "default")
	g := s.get(t, "/v1/receipts/"+allowed.ReceiptID, s.admin, http.StatusOK)
	var rc api.ReceiptJSON
	if err := json.Unmarshal(g.body, &rc); err != nil {
		t.Fatalf("GET receipt: %v (%s)", err, g.body)
	}
	checkRecorded(t, s.vkey, rc.Decision, allowed.Seq)
	checkRecorded(t, s.vkey, rc.Outcome, oa.Seq)
	var outEntry struct {
		Kind string `json:"kind"`
		Body struct {
			ReceiptID   string         `json:"receipt_id"`
			DecisionSeq int64          `json:"decision_seq"`
			Output      map[string]any `json:"output"`
		} `json:"body"`
	}
	if err := json.Unmarshal(rc.Outcome.Entry, &outEntry); err != nil || outEntry.Kind != "outcome" ||
		outEntry.Body.ReceiptID != allowed.ReceiptID || outEntry.Body.DecisionSeq != allowed.Seq || outEntry.Body.Output["charge"] != "ch_1" {
		t.Fatalf("outcome entry = %s (%v)", rc.Outcome.Entry, err)
	}
	g = s.get(t, "/v1/receipts/"+denied.ReceiptID, s.admin, http.StatusOK)
	if !strings.Contains(string(g.body), `"outcome":null`) {
		t.Fatalf("receipt without outcome = %s, want outcome null", g.body)
	}
	// Another tenant's receipt does not exist for this key, and an owner
	// reading another tenant sees that tenant's receipts only.
	s.get(t, "/v1/receipts/"+allowed.ReceiptID+"?tenant=_system", s.owner, http.StatusNotFound)
	s.get(t, "/v1/receipts/"+allowed.ReceiptID+"?tenant=default", s.owner, http.StatusOK)
}

func TestReceiptListing(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, chargesPolicy)
	want := map[string][]string{}
	for i := range 25 {
		agent := fmt.Sprintf("billing-%d", i%3)
		body := evalBody(agent, "stripe.charges.create", `{"amount": 1200}`)
		if i%4 == 0 {
			body = evalBody(agent, "shell.exec", `{}`)
		}
		a := s.evaluate(t, s.admin, body, http.StatusOK)
		want["all"] = append(want["all"], a.ReceiptID)
		want["agent="+agent] = append(want["agent="+agent], a.ReceiptID)
		want["decision="+a.Decision] = append(want["decision="+a.Decision], a.ReceiptID)
		if agent == "billing-1" && a.Decision == "deny" {
			want["agent=billing-1&action=shell.exec"] = append(want["agent=billing-1&action=shell.exec"], a.ReceiptID)
		}
	}
	list := func(query string, limit int) []string {
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatalf("listing %q did not end", query)
			}
			q := query + fmt.Sprintf("&limit=%d", limit)
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := s.get(t, "/v1/receipts?"+q, s.admin, http.StatusOK)
			var page struct {
				Receipts []api.ReceiptSummaryJSON `json:"receipts"`
				Next     string                   `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			for _, rc := range page.Receipts {
				ids = append(ids, rc.ReceiptID)
			}
			if page.Next == "" {
				return ids
			}
			cursor = page.Next
		}
	}
	for q, ids := range map[string][]string{
		"x=1":                               want["all"],
		"agent=billing-2":                   want["agent=billing-2"],
		"decision=deny":                     want["decision=deny"],
		"decision=allow":                    want["decision=allow"],
		"agent=billing-1&action=shell.exec": want["agent=billing-1&action=shell.exec"],
		"agent=nobody":                      nil,
	} {
		for _, limit := range []int{1, 4, 1000} {
			if got := list(q, limit); strings.Join(got, ",") != strings.Join(ids, ",") {
				t.Errorf("list %s limit %d = %v, want %v", q, limit, got, ids)
			}
		}
	}
	// A time window: everything is before now+1h, nothing after it.
	s.get(t, "/v1/receipts?from=2000-01-01T00:00:00Z", s.admin, http.StatusOK)
	r := s.get(t, "/v1/receipts?from=2999-01-01T00:00:00Z", s.admin, http.StatusOK)
	if !strings.Contains(string(r.body), `"receipts":[]`) {
		t.Fatalf("receipts from 2999 = %s, want none", r.body)
	}
	r = s.get(t, "/v1/receipts?to=2000-01-01T00:00:00Z", s.admin, http.StatusOK)
	if !strings.Contains(string(r.body), `"receipts":[]`) {
		t.Fatalf("receipts to 2000 = %s, want none", r.body)
	}
	for _, q := range []string{"decision=maybe", "from=yesterday", "limit=0", "limit=1001", "cursor=abc"} {
		s.get(t, "/v1/receipts?"+q, s.admin, http.StatusBadRequest)
	}
}
