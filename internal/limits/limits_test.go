package limits_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/limits"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

const tenant = "acme"

// clock is a test clock the gate's limits read.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a gate with limits over a real ledger on SQLite, deciding
// with one fixed policy.
type harness struct {
	gate  *gate.Gate
	db    *sqlite.DB
	clock *clock
}

func newHarness(t *testing.T, doc string) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	skey, _, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	p, err := policy.ParseAndCompile([]byte(doc))
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	c := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	g := &gate.Gate{
		Policies: gate.CurrentFunc(func(context.Context, string) (*policy.Policy, int64, error) { return p, 1, nil }),
		Limits:   limits.Counter{}, Ledger: l, IDs: ledger.NewIDs(time.Now, rand.Reader), Clock: c.Now,
	}
	return &harness{gate: g, db: db, clock: c}
}

func request(agent, session, action string, args map[string]any) *policy.Request {
	r := &policy.Request{}
	r.Principal.ID, r.Principal.Type = agent, "agent"
	r.Action.Type = action
	r.Args = args
	r.Context.SessionID = session
	return r
}

func (h *harness) decide(t *testing.T, r *policy.Request) *gate.Answer {
	t.Helper()
	a, err := h.gate.Decide(context.Background(), tenant, "key1", r)
	if err != nil {
		t.Fatalf("Decide = %v", err)
	}
	return a
}

// decisions reads the recorded decisions in log order.
func (h *harness) decisions(t *testing.T) []*event.Decision {
	t.Helper()
	head, err := h.db.Head(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := h.db.Records(context.Background(), tenant, 0, head.Size, int(head.Size)+1)
	if err != nil {
		t.Fatal(err)
	}
	var out []*event.Decision
	for _, rec := range recs {
		e, _, err := ledger.ParseObject(rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := event.Decode(e.Kind, e.Body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b.(*event.Decision))
	}
	return out
}

const ratePolicy = `name: rates
rules: [{id: all, effect: allow}]
limits:
  - {id: email-rate, match: {action: "email.send"}, per: agent, rate: 5/h}
`

// 64 goroutines on one limit: exactly the limit's count is allowed, the
// rest are rate limited with a retry time, and each answer is what its
// entry records.
func TestRateUnderConcurrency(t *testing.T) {
	h := newHarness(t, ratePolicy)
	var wg sync.WaitGroup
	answers := make([]*gate.Answer, 64)
	errs := make([]error, 64)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = h.gate.Decide(context.Background(), tenant, "key1", request("bot", "", "email.send", nil))
		}()
	}
	wg.Wait()
	allowed := 0
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatalf("Decide = %v", errs[i])
		}
		switch a.Decision {
		case policy.Allow:
			allowed++
		case policy.RateLimited:
			if a.RetryAfterMs <= 0 || a.Reasons[0].Code != limits.CodeLimit || a.Reasons[0].Rule != "email-rate" {
				t.Errorf("rate limited answer %+v: want retry_after_ms and the limit named first", a)
			}
		default:
			t.Errorf("decision %s", a.Decision)
		}
	}
	if allowed != 5 {
		t.Fatalf("%d of 64 allowed under a limit of 5/h", allowed)
	}
	recorded := 0
	for _, d := range h.decisions(t) {
		if d.Decision == policy.Allow {
			recorded++
		}
	}
	if recorded != 5 {
		t.Errorf("the log records %d allows, want 5", recorded)
	}
	// Another agent has its own count.
	if a := h.decide(t, request("other-bot", "", "email.send", nil)); a.Decision != policy.Allow {
		t.Errorf("another agent: %s", a.Decision)
	}
}

// The window slides: a use counts for exactly one period after it.
func TestRateWindowSlides(t *testing.T) {
	h := newHarness(t, `name: rates
rules: [{id: all, effect: allow}]
limits:
  - {id: two-a-minute, per: tenant, rate: 2/m}
`)
	req := func() *gate.Answer { return h.decide(t, request("bot", "", "x.y", nil)) }
	req()
	h.clock.Advance(20 * time.Second)
	req()
	a := req()
	if a.Decision != policy.RateLimited || a.RetryAfterMs != 40_000 {
		t.Fatalf("third within a minute: %s, retry after %d ms; want rate_limited, 40000", a.Decision, a.RetryAfterMs)
	}
	h.clock.Advance(40 * time.Second)
	if a := req(); a.Decision != policy.Allow {
		t.Fatalf("after the first use left the window: %s", a.Decision)
	}
	if a := req(); a.Decision != policy.RateLimited || a.RetryAfterMs != 20_000 {
		t.Fatalf("then: %s after %d ms; want rate_limited, 20000", a.Decision, a.RetryAfterMs)
	}
}

const budgetPolicy = `name: spend
rules:
  - {id: charges, match: {action: "stripe.charges.create"}, effect: allow}
  - {id: big, match: {action: "stripe.charges.create"}, when: "has(args.amount) && args.amount > 4000", effect: require_approval}
limits:
  - {id: spend, match: {action: "stripe.charges.create"}, per: agent, budget: {field: args.amount, max: 10000, period: 24h}}
`

// A budget is never overspent under concurrency, and the log read in
// order is exactly what one sequential counter would have decided.
func TestBudgetUnderConcurrency(t *testing.T) {
	h := newHarness(t, budgetPolicy)
	amounts := make([]int64, 64)
	for i := range amounts {
		amounts[i] = int64(100 + (i*397)%1900)
	}
	var wg sync.WaitGroup
	for _, amt := range amounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.gate.Decide(context.Background(), tenant, "key1",
				request("bot", "", "stripe.charges.create", map[string]any{"amount": amt})); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var spent int64
	for _, d := range h.decisions(t) {
		amt := d.Args["amount"].(float64)
		fits := spent+int64(amt) <= 10000
		switch {
		case d.Decision == policy.Allow && fits:
			spent += int64(amt)
		case d.Decision == policy.RateLimited && !fits:
			if d.RetryAfterMs <= 0 || d.Reasons[0].Code != limits.CodeBudget {
				t.Errorf("budget refusal %+v: want retry_after_ms and code budget", d)
			}
		default:
			t.Fatalf("charge of %v with %d spent was %s", amt, spent, d.Decision)
		}
	}
	if spent > 10000 || spent < 10000-2000 {
		t.Errorf("spent %d of a 10000 budget", spent)
	}
}

// A require_approval is checked but reserves nothing; an amount over the
// whole budget or a missing amount is a deny.
func TestBudgetEdges(t *testing.T) {
	h := newHarness(t, budgetPolicy)
	charge := func(amount any) *gate.Answer {
		args := map[string]any{"amount": amount}
		if amount == nil {
			args = map[string]any{}
		}
		return h.decide(t, request("bot", "", "stripe.charges.create", args))
	}
	for range 3 {
		if a := charge(int64(5000)); a.Decision != policy.RequireApproval {
			t.Fatalf("a large charge: %s, want require_approval", a.Decision)
		}
	}
	// None of the three reserved anything: the whole budget is still free.
	if a := charge(int64(4000)); a.Decision != policy.Allow {
		t.Fatalf("after three approvals pending: %s", a.Decision)
	}
	if a := charge(int64(3000)); a.Decision != policy.Allow {
		t.Fatalf("7000 of 10000: %s", a.Decision)
	}
	// Now a require_approval that would not fit is rate limited.
	if a := charge(int64(4500)); a.Decision != policy.RateLimited {
		t.Fatalf("a large charge past the budget: %s, want rate_limited", a.Decision)
	}
	if a := charge(int64(10001)); a.Decision != policy.Deny || a.Reasons[0].Code != limits.CodeBudget {
		t.Fatalf("more than the whole budget: %+v, want deny (budget)", a)
	}
	if a := charge(nil); a.Decision != policy.Deny || a.Reasons[0].Code != limits.CodeBudget {
		t.Fatalf("no amount: %+v, want deny (budget)", a)
	}
	if a := charge(1.5); a.Decision != policy.Deny {
		t.Fatalf("a fractional amount: %s, want deny", a.Decision)
	}
}

const sessionPolicy = `name: sessions
rules: [{id: all, effect: allow}]
sessions:
  forbidden_sequences: [{id: read-then-post, steps: [db.read_customers, http.post], within: 3}]
  max_actions: 6
  risk: {weights: {"shell.*": 10, "http.post": 5}, require_approval_at: 20, deny_at: 30}
`

// A forbidden sequence across interleaved sessions is caught only in its
// own session, and only within its window.
func TestForbiddenSequence(t *testing.T) {
	h := newHarness(t, sessionPolicy)
	step := func(session, action string) string {
		return h.decide(t, request("bot", session, action, nil)).Decision
	}
	step("a", "db.read_customers")
	if d := step("b", "http.post"); d != policy.Allow {
		t.Fatalf("b posts without reading: %s", d)
	}
	step("b", "fs.read")
	a := h.decide(t, request("bot", "a", "http.post", nil))
	if a.Decision != policy.Deny || a.Reasons[0].Code != limits.CodeSession || a.Reasons[0].Rule != "read-then-post" {
		t.Fatalf("a reads then posts: %+v, want deny by read-then-post", a)
	}
	// The window is three actions: read, two others, then post is outside.
	step("c", "db.read_customers")
	step("c", "fs.read")
	step("c", "fs.list")
	if d := step("c", "http.post"); d != policy.Allow {
		t.Fatalf("a post four actions after the read: %s, want allow", d)
	}
	// Without a session id no session rule applies.
	step("", "db.read_customers")
	if d := step("", "http.post"); d != policy.Allow {
		t.Fatalf("no session: %s", d)
	}
}

// A session's cap and risk thresholds count only what was allowed.
func TestSessionCapAndRisk(t *testing.T) {
	h := newHarness(t, sessionPolicy)
	step := func(session, action string) string {
		return h.decide(t, request("bot", session, action, nil)).Decision
	}
	if d := step("r", "shell.exec"); d != policy.Allow { // risk 10
		t.Fatal(d)
	}
	if d := step("r", "http.post"); d != policy.Allow { // 15
		t.Fatal(d)
	}
	if d := step("r", "shell.exec"); d != policy.RequireApproval { // would be 25
		t.Fatalf("risk 25: %s, want require_approval", d)
	}
	if d := step("r", "http.post"); d != policy.RequireApproval { // 20: approvals reserve nothing
		t.Fatalf("risk 20: %s, want require_approval", d)
	}
	if d := step("r", "fs.read"); d != policy.Allow { // 15, weight 0
		t.Fatal(d)
	}
	for i := range 3 {
		if d := step("m", fmt.Sprintf("fs.read%d", i)); d != policy.Allow {
			t.Fatal(d)
		}
	}
	// r has taken 3 allowed actions, m 3: each stays under the cap of 6.
	for range 3 {
		step("m", "fs.read")
	}
	if d := step("m", "fs.read"); d != policy.Deny {
		t.Fatalf("the seventh action: %s, want deny", d)
	}
	recs := h.decisions(t)
	last, _ := json.Marshal(recs[len(recs)-1].Reasons)
	if recs[len(recs)-1].Decision != policy.Deny || recs[len(recs)-1].Reasons[0].Rule != "max_actions" {
		t.Errorf("the cap's refusal is recorded as %s", last)
	}
	h2 := newHarness(t, `name: s
rules: [{id: all, effect: allow}]
sessions: {risk: {weights: {"shell.*": 20}, deny_at: 30}}
`)
	h2.decide(t, request("bot", "x", "shell.a", nil))
	if a := h2.decide(t, request("bot", "x", "shell.b", nil)); a.Decision != policy.Deny || a.Reasons[0].Rule != "risk" {
		t.Fatalf("risk 40 over deny_at 30: %+v", a)
	}
}

// A deny from the policy is not counted; a policy without limits or
// session rules never touches the counts.
func TestDenyNotCounted(t *testing.T) {
	h := newHarness(t, `name: rates
rules:
  - {id: all, effect: allow}
  - {id: no-spam, match: {action: "email.send"}, when: "args.to == 'all'", effect: deny}
limits:
  - {id: email-rate, match: {action: "email.send"}, per: agent, rate: 2/h}
`)
	for range 5 {
		if a := h.decide(t, request("bot", "", "email.send", map[string]any{"to": "all"})); a.Decision != policy.Deny {
			t.Fatal(a.Decision)
		}
	}
	for range 2 {
		if a := h.decide(t, request("bot", "", "email.send", map[string]any{"to": "one"})); a.Decision != policy.Allow {
			t.Fatalf("after five denies: %s", a.Decision)
		}
	}
}
