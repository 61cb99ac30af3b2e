package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// entriesOf returns the decoded bodies of tenant's entries of kind, in
// log order, with their actors.
func (s *stack) entriesOf(t *testing.T, tenant, kind string) (bodies []any, actors []string) {
	t.Helper()
	head, err := s.db.Head(context.Background(), tenant)
	if err != nil {
		t.Fatalf("Head(%s) = %v", tenant, err)
	}
	recs, err := s.db.Records(context.Background(), tenant, 0, head.Size, int(head.Size)+1)
	if err != nil {
		t.Fatalf("Records(%s) = %v", tenant, err)
	}
	for _, rec := range recs {
		e, _, err := ledger.ParseObject(rec.Data)
		if err != nil {
			t.Fatalf("entry %d: %v", rec.Seq, err)
		}
		if e.Kind != kind {
			continue
		}
		b, err := event.Decode(e.Kind, e.Body)
		if err != nil {
			t.Fatalf("entry %d: %v", rec.Seq, err)
		}
		bodies, actors = append(bodies, b), append(actors, e.Actor)
	}
	return bodies, actors
}

func (s *stack) send(t *testing.T, method, path, key, body string, want int) *response {
	t.Helper()
	r := s.do(t, method, path, key, strings.NewReader(body))
	if r.status != want {
		t.Fatalf("%s %s %s = %d, want %d; body %s", method, path, body, r.status, want, r.body)
	}
	return r
}

// problemDetail returns the detail of a problem answer.
func problemDetail(t *testing.T, r *response) string {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem %s: %v", r.body, err)
	}
	return p.Detail
}

// Keys cannot be made or changed into more power than their maker has,
// and every attempt that fails leaves the key as it was.
func TestKeyEscalation(t *testing.T) {
	s := newStack(t, stackOptions{})
	author := s.createKey(t, s.admin, `{"role":"policy_author","name":"author"}`)
	agent := s.createKey(t, s.admin, `{"role":"agent","name":"bot","bindings":["bot-1"]}`)

	// Only owner and admin keys create keys at all.
	s.send(t, "POST", "/v1/keys", author.Key, `{"role":"auditor","name":"x"}`, http.StatusForbidden)
	s.send(t, "POST", "/v1/keys", agent.Key, `{"role":"agent","name":"x","bindings":["*"]}`, http.StatusForbidden)
	// An admin makes no owner (and owners live in _system only).
	s.send(t, "POST", "/v1/keys", s.admin, `{"role":"owner","name":"x"}`, http.StatusBadRequest)
	s.send(t, "POST", "/v1/keys?tenant=default", s.owner, `{"role":"owner","name":"x"}`, http.StatusBadRequest)
	// Promotions through PATCH: an agent or author key cannot patch, an
	// admin cannot make an owner.
	s.send(t, "PATCH", "/v1/keys/"+agent.ID, agent.Key, `{"role":"admin"}`, http.StatusForbidden)
	s.send(t, "PATCH", "/v1/keys/"+author.ID, author.Key, `{"role":"admin"}`, http.StatusForbidden)
	r := s.send(t, "PATCH", "/v1/keys/"+author.ID, s.admin, `{"role":"owner"}`, http.StatusForbidden)
	if d := problemDetail(t, r); !strings.Contains(d, "admin key cannot give the role owner") {
		t.Errorf("escalation refused with detail %q, want the reason", d)
	}
	// The owner's own key is not in the admin's tenant at all.
	ownerID := strings.Split(s.owner, "_")[1]
	s.send(t, "PATCH", "/v1/keys/"+ownerID, s.admin, `{"name":"mine"}`, http.StatusNotFound)
	s.send(t, "DELETE", "/v1/keys/"+ownerID, s.admin, "", http.StatusNotFound)
	got := s.send(t, "GET", "/v1/keys/"+author.ID, s.admin, "", http.StatusOK)
	var k api.KeyJSON
	if err := json.Unmarshal(got.body, &k); err != nil || k.Role != "policy_author" {
		t.Fatalf("after refused promotions the key is %s (%v), want policy_author", got.body, err)
	}
	// The author key still cannot create keys.
	s.send(t, "POST", "/v1/keys", author.Key, `{"role":"auditor","name":"x"}`, http.StatusForbidden)
	if bodies, _ := s.entriesOf(t, "default", event.KindKeyChanged); len(bodies) != 0 {
		t.Errorf("refused changes wrote %d key.changed entries", len(bodies))
	}

	// A permitted change is one entry with the acting key as actor.
	adminID := strings.Split(s.admin, "_")[1]
	s.send(t, "PATCH", "/v1/keys/"+author.ID, s.admin, `{"role":"auditor","groups":["sre","audit"]}`, http.StatusOK)
	bodies, actors := s.entriesOf(t, "default", event.KindKeyChanged)
	if len(bodies) != 1 || actors[0] != adminID {
		t.Fatalf("key.changed entries %v by %v, want one by %s", bodies, actors, adminID)
	}
	kc := bodies[0].(*event.KeyChanged)
	if kc.KeyID != author.ID || len(kc.Changes) != 2 || kc.Changes[0].Field != "role" || kc.Changes[0].To != "auditor" {
		t.Errorf("key.changed %+v, want role and groups changed", kc)
	}
	// The demoted key lost the author's permission at once.
	s.send(t, "POST", "/v1/policies", author.Key, "name: p\nrules: []\n", http.StatusForbidden)
}

// An agent key speaks only for the principals it is bound to: another is
// refused with 403 and an access.refused entry, and it neither sees nor
// reports on another principal's receipts.
func TestAgentBinding(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, "name: open\nrules: [{id: all, effect: allow}]\n")
	agent := s.createKey(t, s.admin, `{"role":"agent","name":"bot","bindings":["bot-*"]}`)
	mine := `{"principal":{"id":"bot-7","type":"agent"},"action":{"type":"fs.read"}}`
	theirs := `{"principal":{"id":"payroll","type":"agent"},"action":{"type":"fs.read"}}`

	own := s.evaluate(t, agent.Key, mine, http.StatusOK)
	r := s.do(t, "POST", "/v1/evaluate", agent.Key, strings.NewReader(theirs))
	if r.status != http.StatusForbidden || !strings.Contains(problemDetail(t, r), "payroll") {
		t.Fatalf("evaluate for another principal = %d %s, want 403 naming it", r.status, r.body)
	}
	bodies, actors := s.entriesOf(t, "default", event.KindAccessRefused)
	if len(bodies) != 1 || actors[0] != agent.ID {
		t.Fatalf("access.refused entries %v by %v, want one by the agent key", bodies, actors)
	}
	if ref := bodies[0].(*event.AccessRefused); ref.Principal != "payroll" || ref.KeyID != agent.ID || ref.Route != "POST /v1/evaluate" {
		t.Errorf("access.refused = %+v", ref)
	}
	if d, _ := s.entriesOf(t, "default", event.KindDecision); len(d) != 1 {
		t.Errorf("%d decisions recorded, want only the agent's own", len(d))
	}

	// Another principal's receipt (made by the admin) is not found for the
	// agent, for reading and for reporting alike; its own is.
	other := s.evaluate(t, s.admin, theirs, http.StatusOK)
	s.get(t, "/v1/receipts/"+other.ReceiptID, agent.Key, http.StatusNotFound)
	s.outcome(t, agent.Key, other.ReceiptID, `{"status":"succeeded"}`, http.StatusNotFound)
	s.get(t, "/v1/receipts/"+own.ReceiptID, agent.Key, http.StatusOK)
	s.outcome(t, agent.Key, own.ReceiptID, `{"status":"succeeded"}`, http.StatusCreated)
	list := s.get(t, "/v1/receipts", agent.Key, http.StatusOK)
	if strings.Contains(string(list.body), other.ReceiptID) || !strings.Contains(string(list.body), own.ReceiptID) {
		t.Errorf("the agent's receipt list %s shows another principal's receipt or misses its own", list.body)
	}
	// Rebinding takes effect at the next request.
	s.send(t, "PATCH", "/v1/keys/"+agent.ID, s.admin, `{"bindings":["payroll"]}`, http.StatusOK)
	s.evaluate(t, agent.Key, theirs, http.StatusOK)
	s.send(t, "POST", "/v1/evaluate", agent.Key, mine, http.StatusForbidden)
}

// Revocation and expiry take effect at the next request; the secret is
// shown once and never again.
func TestKeyLifecycle(t *testing.T) {
	clk := &testClock{now: time.Now()}
	s := newStack(t, stackOptions{clock: clk.Now})
	now := clk.Now()

	exp := now.Add(time.Hour).UTC().Format(time.RFC3339)
	k := s.createKey(t, s.admin, `{"role":"auditor","name":"temp","expires_at":"`+exp+`"}`)
	s.get(t, "/v1/log/key", k.Key, http.StatusOK)
	for _, path := range []string{"/v1/keys", "/v1/keys/" + k.ID, "/v1/access/review"} {
		if r := s.get(t, path, s.admin, http.StatusOK); strings.Contains(string(r.body), strings.Split(k.Key, "_")[2]) {
			t.Errorf("GET %s shows the key's secret", path)
		}
	}
	// Last use is recorded.
	var got api.KeyJSON
	if err := json.Unmarshal(s.get(t, "/v1/keys/"+k.ID, s.admin, http.StatusOK).body, &got); err != nil || got.LastUsedAt == nil {
		t.Fatalf("key after use = %+v (%v), want a last use", got, err)
	}
	clk.Advance(2 * time.Hour)
	s.get(t, "/v1/log/key", k.Key, http.StatusUnauthorized)
	// Clearing the expiry brings it back; revoking stops it for good.
	s.send(t, "PATCH", "/v1/keys/"+k.ID, s.admin, `{"expires_at":null}`, http.StatusOK)
	s.get(t, "/v1/log/key", k.Key, http.StatusOK)
	s.send(t, "DELETE", "/v1/keys/"+k.ID, s.admin, "", http.StatusOK)
	s.get(t, "/v1/log/key", k.Key, http.StatusUnauthorized)
	s.send(t, "PATCH", "/v1/keys/"+k.ID, s.admin, `{"name":"back"}`, http.StatusBadRequest)
	if b, _ := s.entriesOf(t, "default", event.KindKeyRevoked); len(b) != 1 {
		t.Errorf("%d key.revoked entries, want 1", len(b))
	}
	// A second revocation changes nothing and records nothing.
	s.send(t, "DELETE", "/v1/keys/"+k.ID, s.admin, "", http.StatusOK)
	if b, _ := s.entriesOf(t, "default", event.KindKeyRevoked); len(b) != 1 {
		t.Errorf("%d key.revoked entries after revoking twice, want 1", len(b))
	}
	// Strict bodies: unknown fields and bad values are 400.
	s.send(t, "POST", "/v1/keys", s.admin, `{"role":"auditor","name":"x","admin":true}`, http.StatusBadRequest)
	s.send(t, "POST", "/v1/keys", s.admin, `{"role":"auditor","name":"x","expires_at":"yesterday"}`, http.StatusBadRequest)
	s.send(t, "POST", "/v1/keys", s.admin, `{"role":"auditor","name":"x","groups":["Not A Group"]}`, http.StatusBadRequest)
}

// The access review lists every key; a sign-off records its digest, and a
// review that changed since it was read cannot be signed.
func TestAccessReview(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.createKey(t, s.admin, `{"role":"agent","name":"bot","bindings":["bot-*"],"groups":["agents"]}`)
	var rv struct {
		Keys []struct {
			ID, Role, Status string
			Bindings         []string
		} `json:"keys"`
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(s.get(t, "/v1/access/review", s.admin, http.StatusOK).body, &rv); err != nil {
		t.Fatal(err)
	}
	if len(rv.Keys) != 2 || rv.Digest == "" {
		t.Fatalf("review lists %d keys (digest %q), want the admin and the agent", len(rv.Keys), rv.Digest)
	}
	// The admin's own use between reading and signing does not change
	// the digest: last use is not part of it.
	r := s.send(t, "POST", "/v1/access/review/sign", s.admin, `{"digest":"`+rv.Digest+`","comment":"Q4 review"}`, http.StatusCreated)
	var signed api.SignedReviewJSON
	if err := json.Unmarshal(r.body, &signed); err != nil || signed.Review.Digest != rv.Digest {
		t.Fatalf("sign = %s (%v)", r.body, err)
	}
	bodies, _ := s.entriesOf(t, "default", event.KindReviewSigned)
	if len(bodies) != 1 {
		t.Fatalf("%d access.review_signed entries, want 1", len(bodies))
	}
	if b := bodies[0].(*event.ReviewSigned); b.Digest != rv.Digest || b.Keys != 2 || b.Comment != "Q4 review" {
		t.Errorf("access.review_signed = %+v", b)
	}
	// A key made after the review was read: the old digest is refused.
	s.createKey(t, s.admin, `{"role":"auditor","name":"late"}`)
	s.send(t, "POST", "/v1/access/review/sign", s.admin, `{"digest":"`+rv.Digest+`"}`, http.StatusConflict)
}

// Settings changes are one setting.changed entry each, with before and
// after; out-of-range values are refused and change nothing.
func TestSettings(t *testing.T) {
	s := newStack(t, stackOptions{})
	auditor := s.createKey(t, s.admin, `{"role":"auditor","name":"a"}`)
	s.get(t, "/v1/settings", auditor.Key, http.StatusOK)
	s.send(t, "PATCH", "/v1/settings", auditor.Key, `{"retention_days":30}`, http.StatusForbidden)
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"retention_days":0}`, http.StatusBadRequest)
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"retention_days":30,"unknown":1}`, http.StatusBadRequest)
	r := s.send(t, "PATCH", "/v1/settings", s.admin, `{"retention_days":30,"policy_approvals":2}`, http.StatusOK)
	if !strings.Contains(string(r.body), `"retention_days":30`) || !strings.Contains(string(r.body), `"policy_approvals":2`) {
		t.Errorf("settings after the change = %s", r.body)
	}
	s.send(t, "PATCH", "/v1/settings", s.admin, `{"retention_days":30}`, http.StatusOK) // no change
	bodies, _ := s.entriesOf(t, "default", event.KindSettingChanged)
	if len(bodies) != 1 {
		t.Fatalf("%d setting.changed entries, want 1", len(bodies))
	}
	if c := bodies[0].(*event.SettingChanged).Changes; len(c) != 2 || c[0].Field != "retention_days" || c[0].To != float64(30) {
		t.Errorf("setting.changed changes %+v", c)
	}
}

// An owner creates tenants, each with its own first admin key and log;
// suspending one stops its keys at once and is recorded in its log.
func TestTenants(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.send(t, "POST", "/v1/tenants", s.admin, `{"id":"acme","name":"Acme"}`, http.StatusForbidden)
	r := s.send(t, "POST", "/v1/tenants", s.owner, `{"id":"acme","name":"Acme"}`, http.StatusCreated)
	var made api.NewTenantJSON
	if err := json.Unmarshal(r.body, &made); err != nil || made.AdminKey.Key == "" || made.Tenant.Status != "active" {
		t.Fatalf("POST /v1/tenants = %s (%v)", r.body, err)
	}
	s.send(t, "POST", "/v1/tenants", s.owner, `{"id":"acme","name":"Again"}`, http.StatusConflict)
	s.send(t, "POST", "/v1/tenants", s.owner, `{"id":"_system","name":"x"}`, http.StatusBadRequest)
	s.send(t, "POST", "/v1/tenants", s.owner, `{"id":"Bad Id","name":"x"}`, http.StatusBadRequest)
	// The new tenant evaluates with the built-in default policy.
	s.evaluate(t, made.AdminKey.Key, `{"principal":{"id":"a","type":"agent"},"action":{"type":"fs.read","resource":"/workspace/x"}}`, http.StatusOK)
	s.send(t, "POST", "/v1/tenants/acme/suspend", s.owner, `{"reason":"unpaid"}`, http.StatusOK)
	r = s.do(t, "GET", "/v1/log/key", made.AdminKey.Key, nil)
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "tenant-suspended") {
		t.Fatalf("a suspended tenant's key got %d %s, want 403 tenant-suspended", r.status, r.body)
	}
	for _, kind := range []string{event.KindTenantCreated, event.KindKeyCreated, event.KindTenantSuspended} {
		bodies, actors := s.entriesOf(t, "acme", kind)
		if len(bodies) == 0 || actors[0] != strings.Split(s.owner, "_")[1] {
			t.Errorf("acme's log has %d %s entries by %v, want one by the owner key", len(bodies), kind, actors)
		}
	}
	// A tenant made through the API needs a second approver for policies;
	// the bootstrap tenant starts without, and both creations say so.
	for tenant, want := range map[string]int{"acme": 1, "default": 0} {
		bodies, _ := s.entriesOf(t, tenant, event.KindTenantCreated)
		if tc := bodies[0].(*event.TenantCreated); tc.Settings == nil || tc.Settings.PolicyApprovals != want {
			t.Errorf("%s's tenant.created records settings %+v, want policy_approvals %d", tenant, tc.Settings, want)
		}
	}
	list := s.get(t, "/v1/tenants", s.owner, http.StatusOK)
	if !strings.Contains(string(list.body), `"id":"acme"`) || !strings.Contains(string(list.body), `"status":"suspended"`) {
		t.Errorf("GET /v1/tenants = %s", list.body)
	}
	s.send(t, "POST", "/v1/tenants/_system/suspend", s.owner, "", http.StatusBadRequest)
	s.send(t, "POST", "/v1/tenants/nobody/suspend", s.owner, "", http.StatusNotFound)
}

// A key over its rate gets 429 with a Retry-After; another key is not
// affected.
func TestRateLimit(t *testing.T) {
	s := newStack(t, stackOptions{rateLimit: 1, rateBurst: 3})
	other := s.createKey(t, s.admin, `{"role":"auditor","name":"other"}`)
	limited := 0
	var last *response
	for range 10 {
		r := s.do(t, "GET", "/v1/log/key", other.Key, nil)
		if r.status == http.StatusTooManyRequests {
			limited++
			last = r
		}
	}
	if limited == 0 {
		t.Fatal("10 requests at a rate of 1/s with a burst of 3 were never limited")
	}
	if ra := last.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("429 without a Retry-After (%q)", ra)
	}
	if !strings.Contains(string(last.body), "rate-limited") {
		t.Errorf("429 body %s is not the rate-limited problem", last.body)
	}
}

// testClock is a clock the test moves; the server reads it concurrently.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// A session of key creation, use, rotation and revocation with debug
// logging on: no key secret appears in any log line, in the log entries,
// or in any answer but the one that created the key.
func TestNoSecretInLogs(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, "name: open\nrules: [{id: all, effect: allow}]\n")
	var secrets []string
	keep := func(k *api.NewKeyJSON) *api.NewKeyJSON {
		secrets = append(secrets, k.Key, strings.Split(k.Key, "_")[2])
		return k
	}
	secrets = append(secrets, s.admin, strings.Split(s.admin, "_")[2], s.owner, strings.Split(s.owner, "_")[2])
	var answers []*response
	call := func(method, path, key, body string) *response {
		r := s.do(t, method, path, key, strings.NewReader(body))
		answers = append(answers, r)
		return r
	}
	agent := keep(s.createKey(t, s.admin, `{"role":"agent","name":"bot","bindings":["bot-*"]}`))
	eval := `{"principal":{"id":"bot-1","type":"agent"},"action":{"type":"fs.read"}}`
	call("POST", "/v1/evaluate", agent.Key, eval)
	call("POST", "/v1/evaluate", agent.Key, `{"principal":{"id":"payroll","type":"agent"},"action":{"type":"fs.read"}}`)
	// A wrong secret for a real id, a key in the body, a key in the query.
	wrong := agent.Key[:len(agent.Key)-4] + "aaaa"
	secrets = append(secrets, wrong)
	call("POST", "/v1/evaluate", wrong, eval)
	call("GET", "/v1/keys?cursor="+agent.Key, s.admin, "")
	if r := call("POST", "/v1/keys", s.admin, `{"role":"auditor","name":"`+agent.Key+`"}`); r.status != http.StatusBadRequest {
		t.Errorf("a key named with a key's secret = %d, want 400", r.status)
	}
	// Rotation: a new key for the same principal, then the old one revoked.
	next := keep(s.createKey(t, s.admin, `{"role":"agent","name":"bot (rotated)","bindings":["bot-*"]}`))
	call("POST", "/v1/evaluate", next.Key, eval)
	call("DELETE", "/v1/keys/"+agent.ID, s.admin, "")
	call("POST", "/v1/evaluate", agent.Key, eval)
	call("PATCH", "/v1/keys/"+next.ID, s.admin, `{"groups":["bots"]}`)
	call("GET", "/v1/access/review", s.admin, "")
	call("POST", "/v1/access/review/sign", s.admin, `{}`)
	call("DELETE", "/v1/keys/"+next.ID, s.admin, "")
	call("POST", "/v1/evaluate", next.Key, eval)
	r := call("POST", "/v1/tenants", s.owner, `{"id":"acme","name":"Acme"}`)
	var made api.NewTenantJSON
	if err := json.Unmarshal(r.body, &made); err != nil {
		t.Fatal(err)
	}
	keep(&made.AdminKey)
	answers = answers[:len(answers)-1] // the answer that showed acme's admin key, once
	call("GET", "/v1/keys", made.AdminKey.Key, "")

	logs := s.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) && !strings.Contains(logs, `"msg":"http"`) {
		t.Fatalf("no log lines captured: the capture does not work")
	}
	var entries strings.Builder
	for _, tenant := range []string{"default", "acme", "_system"} {
		head, err := s.db.Head(context.Background(), tenant)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := s.db.Records(context.Background(), tenant, 0, head.Size, int(head.Size)+1)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			entries.Write(rec.Data)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("a log line carries a key secret")
		}
		if strings.Contains(entries.String(), secret) {
			t.Errorf("a log entry carries a key secret")
		}
		for i, a := range answers {
			if strings.Contains(string(a.body), secret) {
				t.Errorf("answer %d (%d) carries a key secret", i, a.status)
			}
		}
	}
}
