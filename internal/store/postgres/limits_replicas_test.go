package postgres_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	evt "github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/limits"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// replicaPolicy allows everything, at most 5 emails an hour per agent and
// charges of at most 10000 a day per agent.
const replicaPolicy = `name: replicas
rules: [{id: all, effect: allow}]
limits:
  - {id: email-rate, match: {action: "email.send"}, per: agent, rate: 5/h}
  - {id: spend, match: {action: "stripe.charges.create"}, per: agent, budget: {field: args.amount, max: 10000, period: 24h}}
`

const (
	replicaCount  = 3
	replicaCalls  = 64
	replicaRate   = 5
	replicaBudget = 10000
	replicaTenant = storetest.TenantA
)

// replica is one `warden serve`: its own pool, ledger and gate over the
// shared database.
type replica struct {
	db   *postgres.DB
	gate *gate.Gate
}

// newReplicas opens n replicas of one freshly migrated database, all
// committing up to maxBatch entries a transaction (0: the default),
// signing with signer and deciding with p at the fixed time now.
func newReplicas(t *testing.T, n, maxBatch int, signer note.Signer, p *policy.Policy, now time.Time) []*replica {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v, want nil", err)
	}
	out := make([]*replica, n)
	for i := range out {
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatalf("Open(replica %d) = %v, want nil", i, err)
		}
		t.Cleanup(func() { db.Close() })
		// Each replica draws its ids from its own seed, so receipts never
		// collide across replicas.
		ids := ledger.NewIDs(time.Now, rand.NewChaCha8([32]byte{byte(i + 1)}))
		l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer, IDs: ids, MaxBatch: maxBatch})
		if err != nil {
			t.Fatalf("ledger.New(replica %d) = %v, want nil", i, err)
		}
		t.Cleanup(func() { l.Close(context.Background()) })
		out[i] = &replica{db: db, gate: &gate.Gate{
			Policies: gate.CurrentFunc(func(context.Context, string) (*policy.Policy, int64, error) { return p, 1, nil }),
			Limits:   limits.Counter{},
			Ledger:   l,
			IDs:      ids,
			Clock:    func() time.Time { return now },
		}}
	}
	return out
}

// replicaDecision is one call of decideEverywhere and what it got.
type replicaDecision struct {
	replica int
	amount  int64
	answer  *gate.Answer
	err     error
}

// decideEverywhere makes len(reqs) decisions at once, request i on
// replica i mod len(rs), all released together.
func decideEverywhere(rs []*replica, reqs []*policy.Request, amounts []int64) []replicaDecision {
	out := make([]replicaDecision, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := i % len(rs)
			<-start
			a, err := rs[r].gate.Decide(context.Background(), replicaTenant, "key1", req)
			out[i] = replicaDecision{replica: r, answer: a, err: err}
			if amounts != nil {
				out[i].amount = amounts[i]
			}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// recordedDecision is a decision as the log holds it.
type recordedDecision struct {
	seq int64
	id  string
	*evt.Decision
}

// readDecisions reads the tenant's log in seq order.
func readDecisions(t *testing.T, db *postgres.DB) []recordedDecision {
	t.Helper()
	recs := storetest.AllRecords(t, db, replicaTenant)
	out := make([]recordedDecision, 0, len(recs))
	for _, rec := range recs {
		e, _, err := ledger.ParseObject(rec.Data)
		if err != nil {
			t.Fatalf("ParseObject(seq %d) = %v, want nil", rec.Seq, err)
		}
		b, err := evt.Decode(e.Kind, e.Body)
		if err != nil {
			t.Fatalf("event.Decode(seq %d, %s) = %v, want nil", rec.Seq, e.Kind, err)
		}
		d, ok := b.(*evt.Decision)
		if !ok {
			t.Fatalf("seq %d is a %s, want a decision", rec.Seq, e.Kind)
		}
		out = append(out, recordedDecision{seq: rec.Seq, id: rec.ID, Decision: d})
	}
	return out
}

// checkAnswers fails t for every decision that could not be made, and
// for every answer its entry does not record.
func checkAnswers(t *testing.T, ds []replicaDecision, log []recordedDecision) {
	t.Helper()
	failed := 0
	for i, d := range ds {
		if d.err != nil {
			failed++
			t.Errorf("Decide(call %d on replica %d) = %v, want an answer (decisions must not fail under contention)", i, d.replica, d.err)
			continue
		}
		a := d.answer
		if a.Seq < 0 || a.Seq >= int64(len(log)) || log[a.Seq].id != a.ReceiptID || log[a.Seq].Decision.Decision != a.Decision {
			t.Errorf("call %d answered %s as receipt %s at seq %d; the log does not record that", i, a.Decision, a.ReceiptID, a.Seq)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d decisions failed under contention between %d replicas", failed, len(ds), replicaCount)
	}
}

// storedSum returns the count and the sum of a counter's stored events.
func storedSum(t *testing.T, db *postgres.DB, counter string) (n, sum int64) {
	t.Helper()
	err := db.Pool().QueryRow(context.Background(),
		"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM limit_events WHERE tenant_id = $1 AND counter = $2",
		replicaTenant, counter).Scan(&n, &sum)
	if err != nil {
		t.Fatalf("read limit_events of %s: %v", counter, err)
	}
	return n, sum
}

// amountOf reads a recorded charge's amount (a JSON number).
func amountOf(d *evt.Decision) (int64, error) {
	switch v := d.Args["amount"].(type) {
	case float64:
		return int64(v), nil
	case int64:
		return v, nil
	}
	return 0, fmt.Errorf("amount %v (%T) is not a number", d.Args["amount"], d.Args["amount"])
}

// TestLimitsExactAcrossReplicas runs three replicas, each with its own
// pool, ledger and gate, against one database, and fires concurrent
// decisions at all of them: the counts live in the store and are read and
// written in the decision's append transaction, which holds the tenant's
// log head, so the replicas together allow exactly what one counter would.
// It runs with the appender's group commit and with one decision per
// transaction (64 transactions queueing on the log head).
func TestLimitsExactAcrossReplicas(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBatch int
	}{
		{"batched", 0},
		{"one per transaction", 1},
	} {
		t.Run(tc.name, func(t *testing.T) { testLimitsAcrossReplicas(t, tc.maxBatch) })
	}
}

func testLimitsAcrossReplicas(t *testing.T, maxBatch int) {
	p, err := policy.ParseAndCompile([]byte(replicaPolicy))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v, want nil", err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	signer, verifier := storetest.NewKey(t)
	rs := newReplicas(t, replicaCount, maxBatch, signer, p, now)
	db := rs[0].db

	// A rate limit of 5/h: exactly five of 64 are allowed.
	reqs := make([]*policy.Request, replicaCalls)
	for i := range reqs {
		reqs[i] = replicaRequest("email.send", nil)
	}
	ds := decideEverywhere(rs, reqs, nil)
	log := readDecisions(t, db)
	checkAnswers(t, ds, log)
	allowed, perReplica := 0, make([]int, replicaCount)
	for _, d := range ds {
		if d.err != nil {
			continue
		}
		switch a := d.answer; a.Decision {
		case policy.Allow:
			allowed++
			perReplica[d.replica]++
		case policy.RateLimited:
			if a.RetryAfterMs <= 0 || len(a.Reasons) == 0 || a.Reasons[0].Code != limits.CodeLimit || a.Reasons[0].Rule != "email-rate" {
				t.Errorf("rate limited answer %+v: want retry_after_ms and the limit named first", a)
			}
		default:
			t.Errorf("answer %s, want allow or rate_limited", a.Decision)
		}
	}
	recorded := 0
	for _, d := range log {
		if d.Decision.Decision == policy.Allow {
			recorded++
		}
	}
	t.Logf("rate: %d of %d allowed (per replica %v), %d recorded; the log passes between replicas %d times",
		allowed, replicaCalls, perReplica, recorded, switches(ds))
	if allowed != replicaRate || recorded != replicaRate {
		t.Errorf("%d answered and %d recorded allows of %d calls on %d replicas under 5/h, want exactly %d",
			allowed, recorded, replicaCalls, replicaCount, replicaRate)
	}
	if n, _ := storedSum(t, db, "email-rate/agent:bot"); n != replicaRate {
		t.Errorf("the store counts %d uses of email-rate, want %d", n, replicaRate)
	}

	// A budget of 10000 a day: the log, read in seq order, is what one
	// sequential counter would have decided, and never overspends.
	amounts := make([]int64, replicaCalls)
	for i := range amounts {
		amounts[i] = int64(100 + (i*397)%1900)
		reqs[i] = replicaRequest("stripe.charges.create", map[string]any{"amount": amounts[i]})
	}
	ds = decideEverywhere(rs, reqs, amounts)
	log = readDecisions(t, db)
	checkAnswers(t, ds, log)
	var spent, answeredSpend int64
	charges := 0
	for _, d := range log {
		if d.Action.Type != "stripe.charges.create" {
			continue
		}
		charges++
		amt, err := amountOf(d.Decision)
		if err != nil {
			t.Fatalf("seq %d: %v", d.seq, err)
		}
		fits := spent+amt <= replicaBudget
		switch {
		case d.Decision.Decision == policy.Allow && fits:
			spent += amt
		case d.Decision.Decision == policy.RateLimited && !fits:
			if d.RetryAfterMs <= 0 || len(d.Reasons) == 0 || d.Reasons[0].Code != limits.CodeBudget {
				t.Errorf("seq %d: budget refusal %+v, want retry_after_ms and code budget", d.seq, d.Decision)
			}
		default:
			t.Fatalf("seq %d: a charge of %d with %d of %d spent was %s; one sequential counter would not have decided that",
				d.seq, amt, spent, replicaBudget, d.Decision.Decision)
		}
	}
	for _, d := range ds {
		if d.err == nil && d.answer.Decision == policy.Allow {
			answeredSpend += d.amount
		}
	}
	_, stored := storedSum(t, db, "spend/agent:bot")
	t.Logf("budget: %d charges recorded, %d of %d spent (answered %d, stored %d); the log passes between replicas %d times",
		charges, spent, replicaBudget, answeredSpend, stored, switches(ds))
	if charges != replicaCalls-countErrs(ds) {
		t.Errorf("the log records %d charges, want %d", charges, replicaCalls-countErrs(ds))
	}
	if spent > replicaBudget || spent < replicaBudget-2000 {
		t.Errorf("spent %d of a %d budget, want at most the budget and within the largest charge of it", spent, replicaBudget)
	}
	if answeredSpend != spent || stored != spent {
		t.Errorf("allowed charges add up to %d in the answers and %d in the store, want the log's %d", answeredSpend, stored, spent)
	}
	storetest.Verify(t, db, signer, verifier, replicaTenant)
}

// switches counts how often the log, in seq order, passes from one
// replica's decision to another's: how much the replicas interleaved.
func switches(ds []replicaDecision) int {
	bySeq := map[int64]int{}
	for _, d := range ds {
		if d.err == nil {
			bySeq[d.answer.Seq] = d.replica
		}
	}
	seqs := slices.Sorted(maps.Keys(bySeq))
	n := 0
	for i := 1; i < len(seqs); i++ {
		if bySeq[seqs[i]] != bySeq[seqs[i-1]] {
			n++
		}
	}
	return n
}

func countErrs(ds []replicaDecision) int {
	n := 0
	for _, d := range ds {
		if d.err != nil {
			n++
		}
	}
	return n
}

// replicaRequest is agent bot's request for action with args.
func replicaRequest(action string, args map[string]any) *policy.Request {
	r := &policy.Request{}
	r.Principal.ID, r.Principal.Type = "bot", "agent"
	r.Action.Type = action
	r.Args = args
	return r
}
