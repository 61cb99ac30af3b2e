package policy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"cel.dev/cel-go/common/types"
)

// Request is a request as the policy sees it (DESIGN.md section 2).
type Request struct {
	Principal Principal      `json:"principal"`
	Action    Action         `json:"action"`
	Args      map[string]any `json:"args"`
	Context   Context        `json:"context"`
}

// Principal is who acts.
type Principal struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Action is what the principal wants to do.
type Action struct {
	Type      string `json:"type"`
	Resource  string `json:"resource,omitempty"`
	Operation string `json:"operation,omitempty"`
}

// Context is where the request happens.
type Context struct {
	SessionID       string `json:"session_id,omitempty"`
	TraceID         string `json:"trace_id,omitempty"`
	ParentReceiptID string `json:"parent_receipt_id,omitempty"`
	Environment     string `json:"environment,omitempty"`
}

// Input is everything an evaluation reads: the request, the scanners'
// findings (and whether the scan was complete), and the session's state.
type Input struct {
	Request        *Request
	Findings       []Finding
	ScanIncomplete bool
	Session        map[string]any
}

// Reason codes of a decision (DESIGN.md section 2).
const (
	CodeRule    = "rule"
	CodeDefault = "default"
	CodeScan    = "scan"
	CodeError   = "error"
)

// Reason explains one part of a decision.
type Reason struct {
	Code    string `json:"code"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// Decision is the outcome of an evaluation.
type Decision struct {
	Effect string
	// Rules are the ids of every rule that applied, in document order.
	Rules   []string
	Reasons []Reason
	// Default is set when no rule applied; the policy's default then
	// counts like a rule, and the scan mapping may only make it stricter.
	Default bool
	// Approval is the deciding rule's approval for require_approval (nil
	// when the tenant's default approval applies).
	Approval *Approval
	// Err is set when evaluation failed; the effect is then deny.
	Err error
}

// ErrEvaluation wraps a condition that could not be evaluated.
var ErrEvaluation = errors.New("policy evaluation failed")

// strictness orders effects: the strictest wins.
func strictness(effect string) int {
	switch effect {
	case Deny:
		return 3
	case RequireApproval:
		return 2
	case Allow:
		return 1
	}
	return 0
}

var candidatePool = sync.Pool{New: func() any { s := make([]int, 0, 64); return &s }}

// Evaluate decides a request: every applicable rule and the scan mapping
// count, the strictest effect wins (deny > require_approval > allow), and
// when no rule applies the policy's default counts in their place. It MUST fail
// closed: a condition that errors, or exceeds its cost limit, makes the
// decision a deny with code error.
func (p *Policy) Evaluate(in *Input) *Decision {
	req := in.Request
	if req == nil {
		return failed(errors.New("no request"))
	}
	d := &Decision{}
	best := 0
	// effects[i] is the effect reason i argues for, so that the reasons
	// that decided can be put first.
	var effects []string
	take := func(effect string, approval *Approval) {
		effects = append(effects, effect)
		if s := strictness(effect); s > best {
			best, d.Effect, d.Approval = s, effect, approval
		} else if s == best && effect == RequireApproval && d.Approval == nil {
			d.Approval = approval
		}
	}

	bufp := candidatePool.Get().(*[]int)
	defer func() { *bufp = (*bufp)[:0]; candidatePool.Put(bufp) }()
	cands := p.index.candidates(req.Action.Type, req.Principal.ID, (*bufp)[:0])
	*bufp = cands

	var vars map[string]any
	var deadline context.Context
	for _, i := range cands {
		r := &p.rules[i]
		if !r.matches(req) {
			continue
		}
		if r.when != nil {
			if vars == nil {
				vars = activation(in)
				var cancel context.CancelFunc
				deadline, cancel = context.WithTimeout(context.Background(), p.conditionTimeout())
				defer cancel()
			}
			ok, err := evalCondition(deadline, r, vars)
			if err != nil {
				return failed(fmt.Errorf("%w: rule %s: %w", ErrEvaluation, r.id, err))
			}
			if !ok {
				continue
			}
		}
		d.Rules = append(d.Rules, r.id)
		msg := r.message
		if msg == "" {
			msg = fmt.Sprintf("rule %s: %s", r.id, r.effect)
		}
		d.Reasons = append(d.Reasons, Reason{Code: CodeRule, Rule: r.id, Message: msg})
		take(r.effect, r.approval)
	}
	if len(d.Rules) == 0 {
		// The default stands in for the missing rules and the scan mapping
		// can only make it stricter: a finding or an incomplete scan never
		// turns a default deny into require_approval or allow.
		d.Default = true
		take(p.def, nil)
		d.Reasons = append(d.Reasons, Reason{Code: CodeDefault,
			Message: fmt.Sprintf("no rule applies: the policy's default is %s", p.def)})
	}
	p.applyScan(in, d, take)
	d.Reasons = decidingFirst(d.Reasons, effects, d.Effect)
	return d
}

// decidingFirst orders reasons so that those whose effect is the
// decision's come first (a client reading reasons[0] reads why), keeping
// document order within each group. reasons[i] argued for effects[i].
func decidingFirst(reasons []Reason, effects []string, effect string) []Reason {
	if len(reasons) < 2 || len(reasons) != len(effects) {
		return reasons
	}
	out := make([]Reason, 0, len(reasons))
	for i, r := range reasons {
		if effects[i] == effect {
			out = append(out, r)
		}
	}
	for i, r := range reasons {
		if effects[i] != effect {
			out = append(out, r)
		}
	}
	return out
}

func failed(err error) *Decision {
	return &Decision{Effect: Deny, Err: err,
		Reasons: []Reason{{Code: CodeError, Message: "the policy could not be evaluated: " + err.Error()}}}
}

func (r *compiledRule) matches(req *Request) bool {
	vals := [5]string{req.Action.Type, req.Action.Resource, req.Principal.ID, req.Principal.Type, req.Context.Environment}
	for k := range r.match {
		if r.has[k] && !r.match[k].match(vals[k]) {
			return false
		}
	}
	return true
}

// DefaultConditionTimeout bounds, in time, all the conditions one
// evaluation runs, as a backstop to the cost limit: cel-go cannot price
// every operation on dynamically typed arguments (string concatenation,
// for one).
const DefaultConditionTimeout = 20 * time.Millisecond

func (p *Policy) conditionTimeout() time.Duration {
	if p.timeout <= 0 {
		return DefaultConditionTimeout
	}
	return p.timeout
}

func evalCondition(ctx context.Context, r *compiledRule, vars map[string]any) (bool, error) {
	out, _, err := r.when.ContextEval(ctx, vars)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition gave %v, not a boolean", out.Type())
	}
	return bool(b), nil
}

// activation is what conditions see, built once per evaluation.
func activation(in *Input) map[string]any {
	req := in.Request
	attrs := req.Principal.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	args := req.Args
	if args == nil {
		args = map[string]any{}
	}
	findings := make([]any, len(in.Findings))
	for i, f := range in.Findings {
		findings[i] = map[string]any{"category": f.Category, "rule": f.Rule, "severity": f.Severity,
			"confidence": f.Confidence, "path": f.Path}
	}
	session := in.Session
	if session == nil {
		session = map[string]any{}
	}
	return map[string]any{
		"principal": map[string]any{"id": req.Principal.ID, "type": req.Principal.Type, "attributes": attrs},
		"action":    map[string]any{"type": req.Action.Type, "resource": req.Action.Resource, "operation": req.Action.Operation},
		"args":      args,
		"context": map[string]any{"session_id": req.Context.SessionID, "trace_id": req.Context.TraceID,
			"parent_receipt_id": req.Context.ParentReceiptID, "environment": req.Context.Environment},
		"findings": findings,
		"session":  session,
	}
}

// applyScan applies the scan mapping to the findings.
func (p *Policy) applyScan(in *Input, d *Decision, take func(string, *Approval)) {
	if in.ScanIncomplete {
		d.Reasons = append(d.Reasons, Reason{Code: CodeScan, Rule: "on_incomplete",
			Message: "the scan was incomplete: on_incomplete is " + p.scan.onIncomplete})
		take(p.scan.onIncomplete, nil)
	}
	for _, f := range in.Findings {
		for _, list := range []struct {
			sels   []selector
			effect string
		}{{p.scan.deny, Deny}, {p.scan.approve, RequireApproval}} {
			for _, s := range list.sels {
				if s.matches(f.Category, f.Severity) {
					d.Reasons = append(d.Reasons, Reason{Code: CodeScan, Rule: s.text,
						Message: fmt.Sprintf("finding %s (%s) at %s: %s", f.Category, f.Severity, f.Path, list.effect)})
					take(list.effect, nil)
					break
				}
			}
		}
	}
}

// RedactArgs reports whether the scan mapping redacts a finding of this
// category and severity from the args in the answer.
func (p *Policy) RedactArgs(category, severity string) bool {
	return anyMatch(p.scan.redactArgs, category, severity)
}

// RedactOutputs reports whether the scan mapping redacts a finding of this
// category and severity from outputs.
func (p *Policy) RedactOutputs(category, severity string) bool {
	return anyMatch(p.scan.redactOutputs, category, severity)
}

func anyMatch(sels []selector, category, severity string) bool {
	for _, s := range sels {
		if s.matches(category, severity) {
			return true
		}
	}
	return false
}
