package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/policy"
)

// PolicySizes are the rule counts the policy engine is measured at.
var PolicySizes = []int{10, 100, 1000, 10000}

var (
	policyResources = []string{"db", "files", "users", "charges", "queue", "tickets", "email", "repo"}
	policyVerbs     = []string{"read", "list", "get", "create", "update", "delete", "send"}
)

// PolicyWorkload is a compiled policy of a given size and requests to
// evaluate against it, shared by BenchmarkEvaluate and
// bench/cmd/policytable so that both measure the same thing.
type PolicyWorkload struct {
	Policy *policy.Policy
	Inputs []*policy.Input
}

// NewPolicyWorkload builds a policy of rules rules shaped like a real one:
// actions svcN.resource.verb over about rules/20 services (so rules share
// service and resource prefixes), exact actions and svcN.resource.* and
// svcN.* globs, agent globs like bot-1*, a few catch-all rules, and CEL
// conditions on one rule in eight. The inputs (4,096, drawn from the same
// services and agents) hit the index the way traffic would: most match a
// handful of rules, and every evaluation succeeds (no condition errors).
func NewPolicyWorkload(rules int, seed uint64) (*PolicyWorkload, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(rules)))
	services := max(1, rules/20)
	doc := &policy.Document{Name: fmt.Sprintf("bench-%d", rules), Default: policy.Deny}
	add := func(r policy.Rule) {
		r.ID = fmt.Sprintf("rule-%d", len(doc.Rules))
		doc.Rules = append(doc.Rules, r)
	}
	// Rules every request meets, as real policies have.
	add(policy.Rule{Match: policy.Match{Action: "*.delete"}, Effect: policy.RequireApproval})
	add(policy.Rule{Match: policy.Match{Agent: "*-admin"}, Effect: policy.Allow})
	add(policy.Rule{Match: policy.Match{Action: "*", Environment: "prod"}, When: "has(args.amount) && args.amount > 100000", Effect: policy.Deny})
	effects := []string{policy.Allow, policy.Allow, policy.Allow, policy.Deny, policy.RequireApproval}
	conditions := []string{
		`args.amount <= 10000 && args.currency == "usd"`,
		`has(args.dry_run) && args.dry_run == true`,
		`principal.type == "agent" && action.resource.startsWith("db/")`,
		`args.amount > 5000`,
	}
	for len(doc.Rules) < rules {
		svc := fmt.Sprintf("svc%d", rng.IntN(services))
		res, verb := policyResources[rng.IntN(len(policyResources))], policyVerbs[rng.IntN(len(policyVerbs))]
		r := policy.Rule{Effect: effects[rng.IntN(len(effects))]}
		switch k := rng.IntN(10); {
		case k < 5:
			r.Match.Action = svc + "." + res + "." + verb
		case k < 8:
			r.Match.Action = svc + "." + res + ".*"
		default:
			r.Match.Action = svc + ".*"
		}
		switch rng.IntN(10) {
		case 0, 1:
			r.Match.Agent = fmt.Sprintf("bot-%d*", rng.IntN(10))
		case 2:
			r.Match.Agent = fmt.Sprintf("bot-%d", rng.IntN(100))
		case 3:
			r.Match.Resource = "db/*"
		case 4:
			r.Match.Environment = "prod"
		}
		if rng.IntN(8) == 0 {
			r.When = conditions[rng.IntN(len(conditions))]
		}
		add(r)
	}
	p, err := policy.Compile(doc, nil)
	if err != nil {
		return nil, fmt.Errorf("compile bench policy of %d rules: %w", rules, err)
	}
	w := &PolicyWorkload{Policy: p}
	for range 4096 {
		req := &policy.Request{
			Principal: policy.Principal{ID: fmt.Sprintf("bot-%d", rng.IntN(100)), Type: "agent"},
			Action: policy.Action{
				Type:     fmt.Sprintf("svc%d.%s.%s", rng.IntN(services), policyResources[rng.IntN(len(policyResources))], policyVerbs[rng.IntN(len(policyVerbs))]),
				Resource: []string{"db/customers", "files/report.pdf", "users/42"}[rng.IntN(3)],
			},
			Args:    map[string]any{"amount": int64(rng.IntN(20000)), "currency": "usd", "to": "someone@example.com"},
			Context: policy.Context{SessionID: "s-1", Environment: []string{"prod", "staging"}[rng.IntN(2)]},
		}
		w.Inputs = append(w.Inputs, &policy.Input{Request: req})
	}
	return w, nil
}

// Check evaluates every input once and fails if one errors: a benchmark
// of failing evaluations would measure the wrong path.
func (w *PolicyWorkload) Check() error {
	for _, in := range w.Inputs {
		if d := w.Policy.Evaluate(in); d.Err != nil {
			return fmt.Errorf("bench policy %s: %w", w.Policy.Name, d.Err)
		}
	}
	return nil
}

// EvalStats is the outcome of timing evaluations one at a time.
type EvalStats struct {
	Evaluations int
	Elapsed     time.Duration
	Latencies   []time.Duration // sorted ascending
}

// Time evaluates n inputs on the calling goroutine, cycling through the
// workload, and times each call.
func (w *PolicyWorkload) Time(n int) *EvalStats {
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := range n {
		t := time.Now()
		w.Policy.Evaluate(w.Inputs[i%len(w.Inputs)])
		lat[i] = time.Since(t)
	}
	st := &EvalStats{Evaluations: n, Elapsed: time.Since(start), Latencies: lat}
	slices.Sort(st.Latencies)
	return st
}

// PerSecond returns evaluations per second of wall time.
func (s *EvalStats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Evaluations) / s.Elapsed.Seconds()
}

// Quantile returns the q-quantile (0 < q <= 1) of the latencies by the
// nearest-rank method, or 0 if there are none.
func (s *EvalStats) Quantile(q float64) time.Duration {
	n := len(s.Latencies)
	if n == 0 {
		return 0
	}
	i := int(q*float64(n)+0.999999) - 1
	return s.Latencies[max(0, min(i, n-1))]
}

// Throughput evaluates n inputs in total on goroutines goroutines and
// returns decisions per second of wall time.
func (w *PolicyWorkload) Throughput(goroutines, n int) float64 {
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < n; i += goroutines {
				w.Policy.Evaluate(w.Inputs[i%len(w.Inputs)])
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}
