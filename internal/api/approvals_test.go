package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/notify"
)

const approvalPolicy = `name: pay
rules:
  - {id: all, effect: allow}
  - {id: big, match: {action: "pay.*"}, when: "args.amount > 100", effect: require_approval,
     approval: {groups: [finance], count: 2, expires: 1h}}
  - {id: small, match: {action: "refund.*"}, effect: require_approval}
`

// approvalEnv is a stack with the approval policy, an agent bound to
// bot-*, two finance approvers, an approver outside finance, and an
// auditor.
type approvalEnv struct {
	s                        *stack
	clock                    *testClock
	agent, fin1, fin2, other *api.NewKeyJSON
	auditor                  *api.NewKeyJSON
}

func newApprovalEnv(t *testing.T) *approvalEnv {
	t.Helper()
	clock := &testClock{now: time.Now().UTC()}
	s := newStack(t, stackOptions{clock: clock.Now})
	s.pushAndActivate(t, approvalPolicy)
	return &approvalEnv{s: s, clock: clock,
		agent:   s.createKey(t, s.admin, `{"role":"agent","name":"bot","bindings":["bot-*"]}`),
		fin1:    s.createKey(t, s.admin, `{"role":"approver","name":"fin one","groups":["finance"]}`),
		fin2:    s.createKey(t, s.admin, `{"role":"approver","name":"fin two","groups":["finance"]}`),
		other:   s.createKey(t, s.admin, `{"role":"approver","name":"ops","groups":["ops"]}`),
		auditor: s.createKey(t, s.admin, `{"role":"auditor","name":"aud"}`),
	}
}

func pay(amount string) string {
	return `{"principal":{"id":"bot-1","type":"agent"},"action":{"type":"pay.out"},"args":{"amount":` + amount + `},"context":{"session_id":"s1"}}`
}

func withAuthorization(body, token string) string {
	return strings.TrimSuffix(body, "}") + `,"authorization":"` + token + `"}`
}

func (e *approvalEnv) approval(t *testing.T, key, id string) api.ApprovalJSON {
	t.Helper()
	var a api.ApprovalJSON
	if err := json.Unmarshal(e.s.get(t, "/v1/approvals/"+id, key, http.StatusOK).body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *approvalEnv) vote(t *testing.T, key, id, verb string, want int) api.ApprovalJSON {
	t.Helper()
	r := e.s.send(t, "POST", "/v1/approvals/"+id+"/"+verb, key, `{"comment":"ok"}`, want)
	var a api.ApprovalJSON
	if want == http.StatusOK {
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// The whole path: a require_approval opens a request; two eligible
// approvers approve; the agent receives a single-use authorization that
// allows the same request once, as a new receipt linked to the approval,
// against which it reports the outcome.
func TestApprovalFlow(t *testing.T) {
	e := newApprovalEnv(t)
	ask := e.s.evaluate(t, e.agent.Key, pay("500"), http.StatusOK)
	if ask.Decision != "require_approval" || ask.ApprovalID == "" {
		t.Fatalf("a large payment = %+v, want require_approval with an approval id", ask)
	}
	a := e.approval(t, e.agent.Key, ask.ApprovalID)
	if a.Status != "pending" || a.ReceiptID != ask.ReceiptID || a.Count != 2 || a.Groups[0] != "finance" || a.Authorization != "" {
		t.Fatalf("the request = %+v", a)
	}
	e.vote(t, e.fin1.Key, ask.ApprovalID, "approve", http.StatusOK)
	if a := e.approval(t, e.agent.Key, ask.ApprovalID); a.Status != "pending" || a.Authorization != "" {
		t.Fatalf("after one of two approvals: %+v", a)
	}
	a = e.vote(t, e.fin2.Key, ask.ApprovalID, "approve", http.StatusOK)
	if a.Status != "approved" || len(a.Votes) != 2 {
		t.Fatalf("after two approvals: %+v", a)
	}
	// Only the agent bound to the principal receives the authorization.
	if a.Authorization != "" || e.approval(t, e.s.admin, ask.ApprovalID).Authorization != "" {
		t.Fatal("an approver or the admin was shown the authorization")
	}
	token := e.approval(t, e.agent.Key, ask.ApprovalID).Authorization
	if !strings.HasPrefix(token, "wat_") {
		t.Fatalf("the agent's view has authorization %q", token)
	}
	// Another request (args changed) does not match it.
	changed := e.s.evaluate(t, e.agent.Key, withAuthorization(pay("501"), token), http.StatusOK)
	if changed.Decision != "deny" || changed.Reasons[0].Code != "authorization" {
		t.Fatalf("the authorization with other args = %+v, want deny (authorization)", changed)
	}
	ok := e.s.evaluate(t, e.agent.Key, withAuthorization(pay("500"), token), http.StatusOK)
	if ok.Decision != "allow" || ok.Reasons[0].Code != "approval" || ok.ApprovalID != ask.ApprovalID || ok.ReceiptID == ask.ReceiptID {
		t.Fatalf("the authorization with the approved request = %+v, want allow (approval) as a new receipt", ok)
	}
	e.s.outcome(t, e.agent.Key, ok.ReceiptID, `{"status":"succeeded"}`, http.StatusCreated)
	again := e.s.evaluate(t, e.agent.Key, withAuthorization(pay("500"), token), http.StatusOK)
	if again.Decision != "deny" || again.Reasons[0].Code != "authorization" {
		t.Fatalf("the authorization used twice = %+v, want deny (authorization)", again)
	}
	if a := e.approval(t, e.s.admin, ask.ApprovalID); a.UsedReceipt != ok.ReceiptID {
		t.Errorf("the approval records use by %q, want %q", a.UsedReceipt, ok.ReceiptID)
	}
	// The log holds the votes and the resolution; no entry holds the token.
	votes, _ := e.s.entriesOf(t, "default", event.KindApprovalVoted)
	resolved, _ := e.s.entriesOf(t, "default", event.KindApprovalResolved)
	if len(votes) != 2 || len(resolved) != 1 || resolved[0].(*event.ApprovalResolved).Status != "approved" {
		t.Errorf("votes %v, resolutions %v", votes, resolved)
	}
	decisions, _ := e.s.entriesOf(t, "default", event.KindDecision)
	for _, d := range decisions {
		b, _ := json.Marshal(d)
		if strings.Contains(string(b), token[strings.LastIndex(token, "_")+1:]) {
			t.Fatal("a decision entry holds the authorization")
		}
	}
}

// Separation of duties: the key that asked, a key outside the named
// groups, a role that does not approve and a second vote are refused,
// and refusals of eligibility are recorded.
func TestApprovalSeparationOfDuties(t *testing.T) {
	e := newApprovalEnv(t)
	// The admin asks for itself: it cannot approve its own request.
	own := e.s.evaluate(t, e.s.admin, pay("500"), http.StatusOK)
	r := e.s.send(t, "POST", "/v1/approvals/"+own.ApprovalID+"/approve", e.s.admin, "", http.StatusForbidden)
	if !strings.Contains(problemDetail(t, r), "own request") {
		t.Errorf("self-approval refused with %q", problemDetail(t, r))
	}
	// An approver outside finance.
	e.vote(t, e.other.Key, own.ApprovalID, "approve", http.StatusForbidden)
	// Roles without the vote permission.
	e.vote(t, e.auditor.Key, own.ApprovalID, "approve", http.StatusForbidden)
	e.vote(t, e.agent.Key, own.ApprovalID, "approve", http.StatusForbidden)
	refused, actors := e.s.entriesOf(t, "default", event.KindApprovalRefused)
	if len(refused) != 2 {
		t.Fatalf("%d approval.refused entries (by %v), want the admin's and the ops approver's", len(refused), actors)
	}
	// One vote per key.
	e.vote(t, e.fin1.Key, own.ApprovalID, "approve", http.StatusOK)
	e.vote(t, e.fin1.Key, own.ApprovalID, "approve", http.StatusConflict)
	if a := e.approval(t, e.s.admin, own.ApprovalID); a.Status != "pending" || len(a.Votes) != 1 {
		t.Fatalf("after a repeated vote: %+v", a)
	}
	// Any rejection rejects, and a rejected request takes no more votes.
	a := e.vote(t, e.fin2.Key, own.ApprovalID, "reject", http.StatusOK)
	if a.Status != "rejected" {
		t.Fatalf("after a rejection: %+v", a)
	}
	e.s.send(t, "POST", "/v1/approvals/"+own.ApprovalID+"/approve?tenant=default", e.s.owner, "", http.StatusConflict)
}

// An open request expires; a vote after its expiry is refused and the
// expiry is recorded.
func TestApprovalExpiry(t *testing.T) {
	e := newApprovalEnv(t)
	ask := e.s.evaluate(t, e.agent.Key, pay("500"), http.StatusOK)
	e.vote(t, e.fin1.Key, ask.ApprovalID, "approve", http.StatusOK)
	e.clock.Advance(61 * time.Minute)
	e.vote(t, e.fin2.Key, ask.ApprovalID, "approve", http.StatusConflict)
	if a := e.approval(t, e.agent.Key, ask.ApprovalID); a.Status != "expired" || a.Authorization != "" {
		t.Fatalf("after its expiry: %+v", a)
	}
	list := e.s.get(t, "/v1/approvals?status=expired", e.s.admin, http.StatusOK)
	if !strings.Contains(string(list.body), ask.ApprovalID) {
		t.Errorf("GET /v1/approvals?status=expired = %s", list.body)
	}
	if b, _ := e.s.entriesOf(t, "default", event.KindApprovalResolved); len(b) != 1 || b[0].(*event.ApprovalResolved).Status != "expired" {
		t.Errorf("resolutions %v, want one expired", b)
	}
}

// Time of check and time of use: an approval the current policy would
// now deny fails, and an authorization is refused when the policy denies
// the request at use.
func TestApprovalRecheck(t *testing.T) {
	e := newApprovalEnv(t)
	first := e.s.evaluate(t, e.agent.Key, pay("500"), http.StatusOK)
	second := e.s.evaluate(t, e.agent.Key, pay("700"), http.StatusOK)
	for _, k := range []string{e.fin1.Key, e.fin2.Key} {
		e.vote(t, k, second.ApprovalID, "approve", http.StatusOK)
	}
	token := e.approval(t, e.agent.Key, second.ApprovalID).Authorization
	// Payments are now forbidden.
	e.s.pushAndActivate(t, approvalPolicy+"  - {id: no-pay, match: {action: \"pay.*\"}, effect: deny}\n")
	e.vote(t, e.fin1.Key, first.ApprovalID, "approve", http.StatusOK)
	a := e.vote(t, e.fin2.Key, first.ApprovalID, "approve", http.StatusOK)
	if a.Status != "failed" || !strings.Contains(a.Reason, "denies") {
		t.Fatalf("an approval of what the policy now denies: %+v, want failed", a)
	}
	use := e.s.evaluate(t, e.agent.Key, withAuthorization(pay("700"), token), http.StatusOK)
	if use.Decision != "deny" || use.Reasons[0].Rule != "no-pay" {
		t.Fatalf("an authorization of what the policy now denies = %+v, want the policy's deny", use)
	}
}

// Two approvers approving at once count once each.
func TestApprovalConcurrentVotes(t *testing.T) {
	e := newApprovalEnv(t)
	ask := e.s.evaluate(t, e.agent.Key, pay("500"), http.StatusOK)
	var wg sync.WaitGroup
	status := make([]int, 2)
	for i, k := range []string{e.fin1.Key, e.fin2.Key} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i] = e.s.do(t, "POST", "/v1/approvals/"+ask.ApprovalID+"/approve", k, strings.NewReader(`{}`)).status
		}()
	}
	wg.Wait()
	if status[0] != http.StatusOK || status[1] != http.StatusOK {
		t.Fatalf("concurrent approvals answered %v", status)
	}
	a := e.approval(t, e.s.admin, ask.ApprovalID)
	if a.Status != "approved" || len(a.Votes) != 2 {
		t.Fatalf("after two concurrent approvals: %+v", a)
	}
	if b, _ := e.s.entriesOf(t, "default", event.KindApprovalResolved); len(b) != 1 {
		t.Errorf("%d resolutions, want exactly one", len(b))
	}
}

// The agent waits on its request with ?wait= and learns of the approval
// as soon as it is made; a request no rule describes uses the tenant's
// default approval (any approver, one).
func TestApprovalLongPollAndDefault(t *testing.T) {
	e := newApprovalEnv(t)
	ask := e.s.evaluate(t, e.agent.Key, `{"principal":{"id":"bot-2","type":"agent"},"action":{"type":"refund.issue"}}`, http.StatusOK)
	done := make(chan api.ApprovalJSON, 1)
	go func() {
		var a api.ApprovalJSON
		r := e.s.do(t, "GET", "/v1/approvals/"+ask.ApprovalID+"?wait=30s", e.agent.Key, nil)
		_ = json.Unmarshal(r.body, &a)
		done <- a
	}()
	a := e.vote(t, e.other.Key, ask.ApprovalID, "approve", http.StatusOK)
	if a.Status != "approved" || a.Count != 1 || len(a.Groups) != 0 {
		t.Fatalf("the default approval: %+v", a)
	}
	if got := <-done; got.Status != "approved" || got.Authorization == "" {
		t.Fatalf("the waiting agent got %+v", got)
	}
	e.s.send(t, "GET", "/v1/approvals/"+ask.ApprovalID+"?wait=2m", e.agent.Key, "", http.StatusBadRequest)
}

// A new approval request is delivered to the tenant's receivers, signed;
// the receiver's secret is never shown nor recorded, and the delivery's
// result is an entry.
func TestApprovalNotified(t *testing.T) {
	e := newApprovalEnv(t)
	secret := strings.Repeat("s3cr3t-", 8)
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer rcv.Close()
	settings := `{"receivers":[{"name":"approvers","kind":"webhook","url":"` + rcv.URL + `/hook","secret":"` + secret + `","events":["approval.requested"]}]}`
	r := e.s.send(t, "PATCH", "/v1/settings", e.s.admin, settings, http.StatusOK)
	if strings.Contains(string(r.body), secret) || !strings.Contains(string(r.body), `"approvers"`) {
		t.Fatalf("PATCH /v1/settings answered %s: want the receiver, redacted", r.body)
	}
	if strings.Contains(string(e.s.get(t, "/v1/settings", e.s.admin, http.StatusOK).body), secret) {
		t.Fatal("GET /v1/settings shows the receiver's secret")
	}
	// Sent back as shown, the secret is kept.
	shown := e.s.get(t, "/v1/settings", e.s.admin, http.StatusOK)
	var st struct{ Receivers json.RawMessage }
	_ = json.Unmarshal(shown.body, &st)
	e.s.send(t, "PATCH", "/v1/settings", e.s.admin, `{"receivers":`+string(st.Receivers)+`}`, http.StatusOK)

	ask := e.s.evaluate(t, e.agent.Key, pay("500"), http.StatusOK)
	req := <-got
	body := <-bodies
	if err := notify.Verify(secret, req.Header.Get(notify.HeaderTimestamp), body, req.Header.Get(notify.HeaderSignature), time.Now(), time.Minute); err != nil {
		t.Fatalf("the delivery's signature: %v", err)
	}
	if !strings.Contains(string(body), ask.ApprovalID) || req.Header.Get(notify.HeaderEvent) != notify.EventApprovalRequested {
		t.Fatalf("delivered %s", body)
	}
	changed, _ := e.s.entriesOf(t, "default", event.KindSettingChanged)
	for _, c := range changed {
		if b, _ := json.Marshal(c); strings.Contains(string(b), secret) {
			t.Fatal("a setting.changed entry holds the receiver's secret")
		}
	}
	if len(changed) != 1 {
		t.Errorf("%d setting.changed entries; sending the redacted list back must change nothing", len(changed))
	}
	// The result is recorded once the dispatcher has it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		results, _ := e.s.entriesOf(t, "default", event.KindNotification)
		if len(results) == 1 {
			if r := results[0].(*event.NotificationResult); !r.Delivered || r.MessageID != ask.ApprovalID || r.Receiver != "approvers" {
				t.Fatalf("notification.result %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification.result entry within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A receiver that keeps failing is retried, and its failure is recorded;
// the decision never waited for it.
func TestApprovalNotifyFailureRecorded(t *testing.T) {
	e := newApprovalEnv(t)
	var mu sync.Mutex
	attempts := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts++
		mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer rcv.Close()
	e.s.send(t, "PATCH", "/v1/settings", e.s.admin, `{"receivers":[{"name":"flaky","kind":"webhook","url":"`+rcv.URL+`","secret":"`+
		strings.Repeat("k", 40)+`"}]}`, http.StatusOK)
	ask := e.s.evaluate(t, e.agent.Key, pay("500"), http.StatusOK)
	deadline := time.Now().Add(10 * time.Second)
	for {
		results, _ := e.s.entriesOf(t, "default", event.KindNotification)
		if len(results) == 1 {
			r := results[0].(*event.NotificationResult)
			if r.Delivered || r.Attempts != 3 || r.Status != http.StatusServiceUnavailable || r.MessageID != ask.ApprovalID {
				t.Fatalf("notification.result %+v, want a failure after 3 attempts", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification.result entry within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 {
		t.Errorf("the receiver saw %d attempts, want 3", attempts)
	}
}
