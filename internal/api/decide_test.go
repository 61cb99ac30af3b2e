package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/storetest"
	"golang.org/x/mod/sumdb/note"
)

const chargesPolicy = `name: payments
rules:
  - id: small-charges
    match: {action: "stripe.charges.create", agent: "billing-*"}
    when: args.amount <= 10000
    effect: allow
  - id: no-shell
    match: {action: "shell.*"}
    effect: deny
`

func evalBody(agent, action string, args string) string {
	return `{"principal":{"id":"` + agent + `","type":"agent"},"action":{"type":"` + action + `"},"args":` + args + `}`
}

type answer struct {
	Decision  string `json:"decision"`
	Reasons   []struct{ Code, Rule, Message string }
	ReceiptID string `json:"receipt_id"`
	Seq       int64  `json:"seq"`
	LeafHash  string `json:"leaf_hash"`
	// ApprovalID and RetryAfterMs are present for require_approval and
	// rate_limited answers.
	ApprovalID   string `json:"approval_id"`
	RetryAfterMs int64  `json:"retry_after_ms"`
}

func (s *stack) evaluate(t *testing.T, key, body string, want int) *answer {
	t.Helper()
	r := s.do(t, "POST", "/v1/evaluate", key, strings.NewReader(body), "Content-Type", "application/json")
	if r.status != want {
		t.Fatalf("POST /v1/evaluate %s = %d %s, want %d", body, r.status, r.body, want)
	}
	var a answer
	if want == http.StatusOK {
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatal(err)
		}
	}
	return &a
}

func TestEvaluateWithoutPolicyDenies(t *testing.T) {
	s := newStack(t, stackOptions{})
	a := s.evaluate(t, s.admin, evalBody("billing-bot", "fs.read", "{}"), http.StatusOK)
	if a.Decision != "deny" || a.Reasons[0].Code != "error" || !strings.HasPrefix(a.ReceiptID, "rcpt_") {
		t.Fatalf("evaluate with no policy = %+v, want a recorded deny with code error", a)
	}
}

func TestEvaluateDecisions(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, chargesPolicy)
	tests := []struct {
		name, body, decision, code string
	}{
		{"allowed", evalBody("billing-bot", "stripe.charges.create", `{"amount": 1200}`), "allow", "rule"},
		{"denied by rule", evalBody("billing-bot", "shell.exec", `{"command": "ls"}`), "deny", "rule"},
		{"unmatched", evalBody("billing-bot", "email.send", `{}`), "deny", "default"},
		{"condition false", evalBody("billing-bot", "stripe.charges.create", `{"amount": 99999}`), "deny", "default"},
		{"condition error fails closed", evalBody("billing-bot", "stripe.charges.create", `{}`), "deny", "error"},
	}
	var last int64 = -1
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.evaluate(t, s.admin, tt.body, http.StatusOK)
			if a.Decision != tt.decision || a.Reasons[0].Code != tt.code || a.Seq <= last {
				t.Fatalf("evaluate = %+v, want %s with code %s after seq %d", a, tt.decision, tt.code, last)
			}
			last = a.Seq
			r, err := s.db.RecordByID(context.Background(), "default", a.ReceiptID)
			if err != nil || r.Seq != a.Seq || ledger.EncodeHash(r.LeafHash()) != a.LeafHash {
				t.Fatalf("receipt %s is not the entry at seq %d (%v)", a.ReceiptID, a.Seq, err)
			}
		})
	}
	signer, verifier := storetest.NewKey(t)
	_ = signer
	v, err := note.NewVerifier(s.vkey)
	if err != nil {
		t.Fatal(err)
	}
	_ = verifier
	s.waitCheckpoint(t, "default")
	rep, err := ledger.VerifyStore(context.Background(), s.db, ledger.VerifyOptions{Tenant: "default", Origin: testOrigin, Keys: []note.Verifier{v}}, nil)
	if err != nil || !rep.OK {
		t.Fatalf("VerifyStore after decisions = %+v, %v", rep, err)
	}
}

func TestEvaluateRejectsBadRequests(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, chargesPolicy)
	for name, body := range map[string]string{
		"unknown field":       `{"principal":{"id":"a","type":"agent"},"action":{"type":"x"},"surprise":1}`,
		"bad principal type":  `{"principal":{"id":"a","type":"robot"},"action":{"type":"x"}}`,
		"integer beyond 2^53": evalBody("a", "x", `{"n": 9007199254740993}`),
		"not json":            `{`,
	} {
		r := s.do(t, "POST", "/v1/evaluate", s.admin, strings.NewReader(body))
		if r.status != http.StatusBadRequest || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: POST /v1/evaluate = %d %s, want 400 problem", name, r.status, r.body)
		}
	}
}

func TestPolicyRoutes(t *testing.T) {
	s := newStack(t, stackOptions{})
	push := func(key, ctype, doc string, want int) map[string]any {
		t.Helper()
		r := s.do(t, "POST", "/v1/policies", key, strings.NewReader(doc), "Content-Type", ctype)
		if r.status != want {
			t.Fatalf("POST /v1/policies = %d %s, want %d", r.status, r.body, want)
		}
		var out map[string]any
		_ = json.Unmarshal(r.body, &out)
		return out
	}
	first := push(s.admin, "application/yaml", chargesPolicy, http.StatusCreated)
	if first["name"] != "payments" || first["version"] != float64(1) || len(first["digest"].(string)) != 64 {
		t.Fatalf("push = %v, want payments v1 with a digest", first)
	}
	if again := push(s.admin, "application/yaml", chargesPolicy, http.StatusOK); again["version"] != float64(1) {
		t.Errorf("identical push = %v, want the existing version 1", again)
	}
	asJSON := `{"name":"payments","rules":[{"id":"no-shell","match":{"action":"shell.*"},"effect":"deny"}]}`
	if second := push(s.admin, "application/json", asJSON, http.StatusCreated); second["version"] != float64(2) {
		t.Errorf("changed push = %v, want version 2", second)
	}
	bad := s.do(t, "POST", "/v1/policies", s.admin, strings.NewReader("name: x\nrules:\n  - id: a\n    effect: allow\n    when: args.x +\n"), "Content-Type", "application/yaml")
	if bad.status != http.StatusBadRequest || !strings.Contains(string(bad.body), "line 5") {
		t.Errorf("invalid push = %d %s, want 400 naming line 5", bad.status, bad.body)
	}
	if r := s.do(t, "POST", "/v1/policies", s.admin, strings.NewReader(chargesPolicy), "Content-Type", "text/plain"); r.status != http.StatusBadRequest {
		t.Errorf("push as text/plain = %d, want 400", r.status)
	}
	s.get(t, "/v1/policies/active", s.admin, http.StatusNotFound)
	if r := s.do(t, "POST", "/v1/policies/payments/versions/9/activate", s.admin, nil); r.status != http.StatusNotFound {
		t.Errorf("activate a missing version = %d %s, want 404", r.status, r.body)
	}
	if r := s.do(t, "POST", "/v1/policies/payments/versions/1/activate", s.admin, nil); r.status != http.StatusOK {
		t.Fatalf("activate v1 = %d %s, want 200", r.status, r.body)
	}
	r := s.get(t, "/v1/policies/active", s.admin, http.StatusOK)
	if !strings.Contains(string(r.body), `"version":1`) || !strings.Contains(string(r.body), "small-charges") {
		t.Errorf("GET /v1/policies/active = %s, want version 1 with its source", r.body)
	}
	r = s.get(t, "/v1/policies/payments/versions", s.admin, http.StatusOK)
	var list struct {
		Versions []struct {
			Version int64
			Active  bool
		}
	}
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Versions) != 2 || !list.Versions[0].Active || list.Versions[1].Active {
		t.Errorf("GET versions = %s, want v1 active and v2 not", r.body)
	}
	s.get(t, "/v1/policies/nope/versions", s.admin, http.StatusNotFound)
	s.get(t, "/v1/policies/payments/versions/0", s.admin, http.StatusBadRequest)

	auditor := s.addKey(t, "default", access.RoleAuditor)
	s.get(t, "/v1/policies", auditor, http.StatusOK)
	if r := s.do(t, "POST", "/v1/policies", auditor, strings.NewReader(chargesPolicy), "Content-Type", "application/yaml"); r.status != http.StatusForbidden {
		t.Errorf("auditor push = %d, want 403", r.status)
	}
	s.evaluate(t, auditor, evalBody("a", "x", "{}"), http.StatusForbidden)
	author := s.addKey(t, "default", access.RolePolicyAuthor)
	push(author, "application/yaml", "name: other\nrules: [{id: a, effect: deny}]\n", http.StatusCreated)
	// Another tenant sees none of it.
	s.get(t, "/v1/policies/active?tenant=_system", s.owner, http.StatusNotFound)
	if r := s.get(t, "/v1/policies/active?tenant=default", s.owner, http.StatusOK); !strings.Contains(string(r.body), "payments") {
		t.Errorf("owner with ?tenant=default = %s, want the default tenant's policy", r.body)
	}
}

func TestPolicyDiffRoute(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, chargesPolicy)
	s.pushAndActivate(t, chargesPolicy+`  - id: no-email
    match: {action: "email.*"}
    effect: deny
  - id: read-docs
    match: {action: "docs.read"}
    effect: allow
`)
	var out struct {
		Name string `json:"name"`
		From int64  `json:"from"`
		To   int64  `json:"to"`
		Diff struct {
			Added []struct {
				ID string `json:"id"`
			} `json:"added"`
			Examples []struct {
				From struct{ Effect string } `json:"from"`
				To   struct{ Effect string } `json:"to"`
			} `json:"examples"`
		} `json:"diff"`
	}
	r := s.get(t, "/v1/policies/payments/diff", s.admin, http.StatusOK)
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	if out.From != 1 || out.To != 2 || len(out.Diff.Added) != 2 || len(out.Diff.Examples) == 0 {
		t.Fatalf("GET diff = %s, want versions 1→2 with two added rules and examples", r.body)
	}
	changed := false
	for _, e := range out.Diff.Examples {
		changed = changed || e.From.Effect == "deny" && e.To.Effect == "allow"
	}
	if !changed {
		t.Fatalf("GET diff examples = %s, want one that read-docs turns from deny to allow", r.body)
	}
	r = s.get(t, "/v1/policies/payments/diff?from=2&to=1", s.admin, http.StatusOK)
	if err := json.Unmarshal(r.body, &out); err != nil || len(out.Diff.Added) != 0 {
		t.Fatalf("reverse diff = %s (%v), want nothing added", r.body, err)
	}
	s.get(t, "/v1/policies/payments/diff?from=1&to=9", s.admin, http.StatusNotFound)
	s.get(t, "/v1/policies/nothing/diff", s.admin, http.StatusNotFound)
	s.get(t, "/v1/policies/payments/diff?from=0", s.admin, http.StatusBadRequest)
	s.get(t, "/v1/policies/payments/diff", s.addKey(t, "default", access.RoleAgent), http.StatusForbidden)
}

// A policy's rate limit answers rate_limited over HTTP with the time to
// retry, and only allows count.
func TestEvaluateRateLimited(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, "name: limited\nrules: [{id: all, effect: allow}]\nlimits:\n  - {id: two, per: agent, rate: 2/h}\n")
	body := `{"principal":{"id":"bot","type":"agent"},"action":{"type":"email.send"}}`
	for range 2 {
		if a := s.evaluate(t, s.admin, body, http.StatusOK); a.Decision != "allow" {
			t.Fatalf("within the limit: %s", a.Decision)
		}
	}
	r := s.do(t, "POST", "/v1/evaluate", s.admin, strings.NewReader(body))
	var a struct {
		Decision     string `json:"decision"`
		RetryAfterMs int64  `json:"retry_after_ms"`
		Reasons      []struct{ Code, Rule string }
	}
	if err := json.Unmarshal(r.body, &a); err != nil || r.status != http.StatusOK {
		t.Fatalf("third = %d %s (%v)", r.status, r.body, err)
	}
	if a.Decision != "rate_limited" || a.RetryAfterMs <= 0 || a.Reasons[0].Code != "limit" || a.Reasons[0].Rule != "two" {
		t.Fatalf("third = %s, want rate_limited with retry_after_ms and the limit named first", r.body)
	}
}
