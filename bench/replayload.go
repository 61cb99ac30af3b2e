package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// ReplayDecisions is the number of recorded decisions the replay figure
// of issue 7 is measured on, and ReplayRules the size of its policies.
const (
	ReplayDecisions = 1_000_000
	ReplayRules     = 100
)

// Shares of the recorded decisions that are not the policy's alone or
// whose args were redacted, in thousandths.
const (
	replayPII        = 50 // a pii.email finding, args.to redacted
	replayRateLimit  = 30 // rate_limited by a limit after the policy
	replayKillSwitch = 10 // denied by a kill switch before the policy ran
)

// ReplayWorkload is a tenant's recorded decisions, as the ledger holds
// their bodies (canonical JSON, in memory), the active policy that
// decided them and a candidate to replay them against; both are shaped as
// in NewPolicyWorkload. BenchmarkReplay, BenchmarkShadow and
// bench/cmd/replaytable share it.
type ReplayWorkload struct {
	Active, Candidate *policy.Policy
	// Bodies[i] is the body of the decision entry of seq i, IDs[i] its
	// receipt id.
	Bodies [][]byte
	IDs    []string
	// Inputs are live requests for the shadow (NewPolicyWorkload's).
	Inputs []*policy.Input
}

// NewReplayWorkload records decisions decisions of a policy of rules
// rules and derives the candidate from it as a policy author would: three
// deny rules of a resource become require_approval, two exact allows
// become deny, two rules are removed and two added (a conditional deny
// of large amounts in prod, an allow for one agent family), so that a few
// per cent of the decisions flip. Both policies share a scan mapping
// (deny secret, require_approval pii). The decisions cycle through the
// policy workload's requests with their own agents, amounts, sessions and
// traces; 5% carry a redacted pii finding, 3% were rate limited and 1%
// denied by a kill switch. Recording runs on every CPU.
func NewReplayWorkload(rules, decisions int, seed uint64) (*ReplayWorkload, error) {
	pw, err := NewPolicyWorkload(rules, seed)
	if err != nil {
		return nil, err
	}
	scan := &policy.Scan{Deny: []string{"secret"}, RequireApproval: []string{"pii"}}
	doc := *pw.Policy.Doc
	doc.Rules, doc.Scan = slices.Clone(doc.Rules), scan
	active, err := policy.Compile(&doc, nil)
	if err != nil {
		return nil, fmt.Errorf("compile active policy: %w", err)
	}
	cand := doc
	cand.Rules = slices.Clone(doc.Rules)
	// Soften three deny rules of one resource (deny -> require_approval)
	// and harden two exact allows (allow -> deny).
	soft, hard := 0, 0
	for i := 3; i < len(cand.Rules); i++ {
		r := &cand.Rules[i]
		switch {
		case soft < 3 && r.Effect == policy.Deny && strings.Count(r.Match.Action, ".") == 2 && strings.HasSuffix(r.Match.Action, ".*"):
			r.Effect, soft = policy.RequireApproval, soft+1
		case hard < 2 && r.Effect == policy.Allow && !strings.Contains(r.Match.Action, "*") && r.When == "":
			r.Effect, hard = policy.Deny, hard+1
		}
	}
	cand.Rules = slices.Delete(cand.Rules, len(cand.Rules)/2, len(cand.Rules)/2+2)
	cand.Rules = append(cand.Rules,
		policy.Rule{ID: "cand-large-prod", Match: policy.Match{Action: "svc0.*", Environment: "prod"},
			When: "has(args.amount) && args.amount > 15000", Effect: policy.Deny},
		policy.Rule{ID: "cand-bot-9", Match: policy.Match{Agent: "bot-9*"}, Effect: policy.Allow})
	candidate, err := policy.Compile(&cand, nil)
	if err != nil {
		return nil, fmt.Errorf("compile candidate policy: %w", err)
	}
	w := &ReplayWorkload{Active: active, Candidate: candidate, Inputs: pw.Inputs,
		Bodies: make([][]byte, decisions), IDs: make([]string, decisions)}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := g; i < decisions; i += workers {
				body, err := w.record(i, pw.Inputs[i%len(pw.Inputs)], seed)
				if err != nil {
					errs[g] = err
					return
				}
				w.Bodies[i], w.IDs[i] = body, fmt.Sprintf("rcpt_01jd8x%016d", i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}

// record decides the i-th request with the active policy and returns the
// decision body as the gate writes it.
func (w *ReplayWorkload) record(i int, base *policy.Input, seed uint64) ([]byte, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	req := *base.Request
	req.Principal.ID = fmt.Sprintf("bot-%d", rng.IntN(100))
	req.Principal.Attributes = map[string]any{"team": []string{"payments", "support", "ops"}[rng.IntN(3)]}
	req.Args = map[string]any{"amount": int64(rng.IntN(20000)), "currency": "usd", "to": "someone@example.com",
		"memo": fmt.Sprintf("invoice %d for order %d", rng.IntN(1_000_000), rng.IntN(1_000_000))}
	req.Context.SessionID, req.Context.TraceID = fmt.Sprintf("s-%d", i/20), fmt.Sprintf("t-%08x", rng.Uint32())
	in := &policy.Input{Request: &req}
	body := &event.Decision{
		Principal:    event.DecisionPrincipal{ID: req.Principal.ID, Type: req.Principal.Type, Attributes: req.Principal.Attributes},
		Action:       event.DecisionAction{Type: req.Action.Type, Resource: req.Action.Resource, Operation: req.Action.Operation},
		Args:         req.Args,
		Context:      map[string]string{"session_id": req.Context.SessionID, "trace_id": req.Context.TraceID, "environment": req.Context.Environment},
		ScanComplete: true,
	}
	kind := rng.IntN(1000)
	if kind < replayPII {
		in.Findings = []policy.Finding{{Category: "pii.email", Rule: "email", Severity: "low", Path: "/args/to"}}
		body.Findings = []event.DecisionFinding{{Category: "pii.email", Rule: "email", Severity: "low", Path: "/args/to",
			Start: 0, End: 19, ValueHMAC: "q1Xh0m3bY0cN2tq2mM7m3J8t8m0b1c2d3e4f5a6b7c8="}}
		args := make(map[string]any, len(req.Args))
		for k, v := range req.Args {
			args[k] = v
		}
		args["to"] = "[REDACTED:pii.email]"
		body.Args = args
	}
	var d *policy.Decision
	if kind >= replayPII && kind < replayPII+replayKillSwitch {
		d = &policy.Decision{Effect: policy.Deny, Reasons: []policy.Reason{{Code: "control", Rule: "ks-1", Message: "agent paused"}}}
	} else {
		body.Policy = &event.PolicyRef{Name: w.Active.Name, Version: 7, Digest: w.Active.Digest}
		d = w.Active.Evaluate(in)
		if d.Err != nil {
			return nil, fmt.Errorf("record decision %d: %w", i, d.Err)
		}
		if kind >= replayPII+replayKillSwitch && kind < replayPII+replayKillSwitch+replayRateLimit && d.Effect == policy.Allow {
			d.Effect, body.RetryAfterMs = policy.RateLimited, 1500
			d.Reasons = append([]policy.Reason{{Code: "limit", Rule: "rate", Message: "100 requests per 1h0m0s reached"}}, d.Reasons...)
		}
	}
	body.Decision, body.Rules, body.Default = d.Effect, d.Rules, d.Default
	for _, r := range d.Reasons {
		body.Reasons = append(body.Reasons, event.DecisionReason{Code: r.Code, Rule: r.Rule, Message: r.Message})
	}
	return ledger.CanonicalBody(body)
}

// MeanBodySize returns the mean size of the recorded bodies in bytes.
func (w *ReplayWorkload) MeanBodySize() int {
	total := 0
	for _, b := range w.Bodies {
		total += len(b)
	}
	return total / max(1, len(w.Bodies))
}

// ReplayRun is the outcome of one replay of a workload.
type ReplayRun struct {
	Report  *policy.ReplayReport
	Elapsed time.Duration
	// CPU is the process's user and system CPU time during the replay
	// (garbage collection included).
	CPU time.Duration
}

// PerSecond returns decisions replayed per second of wall time.
func (r *ReplayRun) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Report.Decisions) / r.Elapsed.Seconds()
}

// Replay replays every body against the candidate as the server does,
// from the bytes: strict decoding (event.Decode), the input rebuilt,
// the candidate evaluated and compared. goroutines goroutines each take
// a contiguous range with a Replayer of their own, merged at the end.
func (w *ReplayWorkload) Replay(goroutines int) (*ReplayRun, error) {
	goroutines = max(1, goroutines)
	rs := make([]*policy.Replayer, goroutines)
	errs := make([]error, goroutines)
	per := (len(w.Bodies) + goroutines - 1) / goroutines
	cpu, start := ProcessCPU(), time.Now()
	var wg sync.WaitGroup
	for g := range goroutines {
		rs[g] = policy.NewReplayer(w.Candidate, 0)
		wg.Go(func() {
			for i := g * per; i < min((g+1)*per, len(w.Bodies)); i++ {
				v, err := event.Decode(event.KindDecision, w.Bodies[i])
				if err != nil {
					errs[g] = fmt.Errorf("decision %d: %w", i, err)
					return
				}
				rs[g].Add(int64(i), w.IDs[i], v.(*event.Decision), nil)
			}
		})
	}
	wg.Wait()
	for _, r := range rs[1:] {
		rs[0].Merge(r)
	}
	run := &ReplayRun{Report: rs[0].Report(), Elapsed: time.Since(start), CPU: ProcessCPU() - cpu}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return run, nil
}

// DecodeOnly decodes every body with event.Decode on the calling
// goroutine and discards it: the share of a replay that is decoding.
func (w *ReplayWorkload) DecodeOnly() (elapsed, cpu time.Duration, err error) {
	cpu0, start := ProcessCPU(), time.Now()
	for i, b := range w.Bodies {
		if _, err := event.Decode(event.KindDecision, b); err != nil {
			return 0, 0, fmt.Errorf("decision %d: %w", i, err)
		}
	}
	return time.Since(start), ProcessCPU() - cpu0, nil
}

// ShadowStats are latencies of the active evaluation and of the shadow
// evaluation that follows it, each timed on its own.
type ShadowStats struct {
	Active, Shadow *EvalStats
	Differs        int
}

// TimeShadow runs n live decisions on the calling goroutine, cycling
// through the inputs: the active policy evaluates, then the candidate's
// Shadow, the extra work a candidate adds to a decision. Each is timed.
func (w *ReplayWorkload) TimeShadow(n int) *ShadowStats {
	act, sh := make([]time.Duration, n), make([]time.Duration, n)
	st := &ShadowStats{}
	var elapsed time.Duration
	for i := range n {
		in := w.Inputs[i%len(w.Inputs)]
		t0 := time.Now()
		d := w.Active.Evaluate(in)
		t1 := time.Now()
		s := w.Candidate.Shadow(in, d)
		t2 := time.Now()
		act[i], sh[i] = t1.Sub(t0), t2.Sub(t1)
		elapsed += sh[i]
		if s.Differs {
			st.Differs++
		}
	}
	slices.Sort(act)
	slices.Sort(sh)
	st.Active = &EvalStats{Evaluations: n, Latencies: act}
	st.Shadow = &EvalStats{Evaluations: n, Elapsed: elapsed, Latencies: sh}
	return st
}
