// Package gate runs one decision end to end, in the order of DESIGN.md
// section 2: validate, controls, scan, policy, ledger append, answer. It
// owns failing closed: a missing policy, an evaluation error or a scanner
// error is a deny with code error, and a decision that cannot be recorded
// is not answered at all (the caller answers 503). It consumes every other
// capability through the small interfaces below.
package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/limits"
	"github.com/wardenhq/warden/internal/policy"
)

// ActivePolicy is a tenant's active policy and the version it is.
type ActivePolicy struct {
	Policy  *policy.Policy
	Version int64
}

// Policies finds a tenant's active policy; ledger.ErrNotFound (wrapped)
// when it has none.
type Policies interface {
	Active(ctx context.Context, tenant string) (*ActivePolicy, error)
}

// CurrentFunc adapts a source of compiled active policies (such as
// policy.Manager.Current) to Policies.
type CurrentFunc func(ctx context.Context, tenant string) (*policy.Policy, int64, error)

// Active implements Policies.
func (f CurrentFunc) Active(ctx context.Context, tenant string) (*ActivePolicy, error) {
	p, v, err := f(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return &ActivePolicy{Policy: p, Version: v}, nil
}

// ControlHit is a tripped kill switch that applies to a request.
type ControlHit struct {
	ID     string
	Effect string // deny or require_approval
	Reason string
}

// Controls checks kill switches. Version is the tenant's controls version
// the check saw, recorded with the decision.
type Controls interface {
	Check(ctx context.Context, tenant string, req *policy.Request) (hit *ControlHit, version int64, err error)
}

// ScanResult is what the scanners found in a value (a request's args or
// an outcome's output).
type ScanResult struct {
	Findings   []event.DecisionFinding
	Incomplete bool
	// Redacted is the value with every finding replaced by a typed
	// placeholder: what the ledger records. Nil means "as given" (only a
	// scanner that found nothing may leave it nil).
	Redacted any
	// Redact, if set, returns the value with the findings pick selects
	// redacted: what an answer shows under the policy's redact_args or
	// redact_outputs.
	Redact func(pick func(event.DecisionFinding) bool) any
}

// Scanner scans a request's args.
type Scanner interface {
	ScanArgs(ctx context.Context, tenant string, req *policy.Request) (*ScanResult, error)
}

// OutputScanner scans what an outcome reports (its output at root
// "/output", its error text at "/error").
type OutputScanner interface {
	ScanOutput(ctx context.Context, tenant, root string, output any) (*ScanResult, error)
}

// Appender records a decision; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// Limiter applies a policy's limits and session rules to a decision,
// inside the decision's append transaction, and counts an allow there
// (limits.Counter is one).
type Limiter interface {
	Apply(tx ledger.Tx, p *policy.Policy, req *policy.Request, effect string, now time.Time) (*limits.Verdict, error)
}

// Approvals opens the approval request of a require_approval decision
// and checks the authorization of an approved one (approval.Service is
// one). Open, Usable and Consume run inside the decision's append
// transaction.
type Approvals interface {
	Prepare(ctx context.Context, tenant, actor string, req *policy.Request, rule *policy.Approval, ruleID string) (*approval.Approval, error)
	Open(tx ledger.Tx, a *approval.Approval) error
	Opened(ctx context.Context, a *approval.Approval)
	Authorize(ctx context.Context, tenant, token string, req *policy.Request) (string, error)
	Usable(tx ledger.Tx, id string) error
	Consume(tx ledger.Tx, id, receipt string, at time.Time) error
}

// Gate decides requests.
type Gate struct {
	Policies Policies
	Controls Controls // nil: no kill switches yet
	Scanner  Scanner  // nil: no scanning yet (args recorded as given)
	Limits   Limiter  // nil: limits and session rules are not applied
	// Approvals opens approval requests and accepts authorizations (nil:
	// require_approval opens nothing and authorizations are refused).
	Approvals Approvals
	// Candidates finds a tenant's candidate policy, evaluated in shadow
	// (nil, or policy.ErrNoVersion: none).
	Candidates CurrentFunc
	Ledger     Appender
	IDs        *ledger.IDs
	Clock      func() time.Time // the limits' clock; time.Now when nil
}

// Answer is the decision's answer (DESIGN.md section 2).
type Answer struct {
	Decision  string                  `json:"decision"`
	Reasons   []policy.Reason         `json:"reasons"`
	ReceiptID string                  `json:"receipt_id"`
	Seq       int64                   `json:"seq"`
	LeafHash  string                  `json:"leaf_hash"`
	Findings  []event.DecisionFinding `json:"findings,omitempty"`
	// ArgsRedacted is present when the policy redacts args (redact_args)
	// and a finding it names was found.
	ArgsRedacted any `json:"args_redacted,omitempty"`
	// RetryAfterMs is when a rate_limited request may succeed.
	RetryAfterMs int64 `json:"retry_after_ms,omitempty"`
	// ApprovalID is the approval request a require_approval opened, or the
	// one whose authorization allowed this request.
	ApprovalID string `json:"approval_id,omitempty"`
	// Shadow is what the tenant's candidate policy would have decided.
	Shadow *Shadow `json:"shadow,omitempty"`
}

// Shadow is the answer's shadow field.
type Shadow struct {
	Decision string          `json:"decision"`
	Reasons  []policy.Reason `json:"reasons"`
}

// ErrUnrecorded means the decision could not be recorded: nothing may be
// answered but 503 (the wrapped error says why).
var ErrUnrecorded = errors.New("decision could not be recorded")

// Decide runs one decision for tenant on behalf of actor (a key id).
func (g *Gate) Decide(ctx context.Context, tenant, actor string, req *policy.Request) (*Answer, error) {
	return g.DecideWith(ctx, tenant, actor, req, "")
}

// DecideWith is Decide for a request that may present the authorization
// of an approved request (DESIGN.md section 2): valid for exactly this
// request, unused and unexpired, it turns the policy's require_approval
// into allow once. A kill switch and a deny of the current policy still
// win over it.
func (g *Gate) DecideWith(ctx context.Context, tenant, actor string, req *policy.Request, authorization string) (*Answer, error) {
	// A decision whose kill switches changed before it was recorded is
	// decided again, with the switches as they are.
	for range 3 {
		a, err := g.decideOnce(ctx, tenant, actor, req, authorization)
		if !errors.Is(err, errStaleControls) {
			return a, err
		}
		if f, ok := g.Controls.(interface{ Forget(tenant string) }); ok {
			f.Forget(tenant) // read the switches again
		}
	}
	return nil, fmt.Errorf("%w: the tenant's kill switches kept changing", ErrUnrecorded)
}

// errStaleControls rejects a decision checked against kill switches that
// changed before its append.
var errStaleControls = errors.New("the kill switches changed since the check")

func (g *Gate) decideOnce(ctx context.Context, tenant, actor string, req *policy.Request, authorization string) (*Answer, error) {
	body := &event.Decision{
		Principal: event.DecisionPrincipal{ID: req.Principal.ID, Type: req.Principal.Type, Attributes: req.Principal.Attributes},
		Action:    event.DecisionAction{Type: req.Action.Type, Resource: req.Action.Resource, Operation: req.Action.Operation},
		Args:      req.Args,
		Context:   contextMap(req.Context),
	}
	var argsRedacted any
	var pol *policy.Policy
	controlled := false
	d := g.decide(ctx, tenant, req, body, &argsRedacted, &pol, &controlled)
	authorized := ""
	if authorization != "" {
		switch {
		case g.Approvals == nil:
			d = authorizationDeny("this server does not accept authorizations")
		case controlled, d.Effect == policy.Deny:
			// A kill switch wins over an authorization, and so does what
			// the current policy denies.
		default:
			id, err := g.Approvals.Authorize(ctx, tenant, authorization, req)
			switch {
			case err != nil:
				d = authorizationDeny(authorizationMessage(err))
			case d.Effect == policy.RequireApproval:
				d.Effect = policy.Allow
				d.Reasons = append([]policy.Reason{{Code: CodeApproval, Rule: id, Message: "allowed by approval " + id}}, d.Reasons...)
				authorized = id
			}
		}
	}
	record := func() {
		body.Decision, body.Rules, body.Default = d.Effect, d.Rules, d.Default
		body.Reasons = body.Reasons[:0]
		for _, r := range d.Reasons {
			body.Reasons = append(body.Reasons, event.DecisionReason{Code: r.Code, Rule: r.Rule, Message: r.Message})
		}
	}
	record()
	id := g.IDs.New("rcpt")
	index := &event.Receipt{Agent: req.Principal.ID, Action: req.Action.Type, Decision: d.Effect}
	counted := g.Limits != nil && pol != nil && pol.Counted() && (d.Effect == policy.Allow || d.Effect == policy.RequireApproval)
	// A require_approval opens an approval request; session rules may
	// also turn an allow into one inside the transaction.
	var opened *approval.Approval
	if g.Approvals != nil && (d.Effect == policy.RequireApproval || (counted && pol.Sessions() != nil)) {
		rule := d.Approval
		ruleID := ""
		if len(d.Reasons) > 0 {
			ruleID = d.Reasons[0].Rule
		}
		var err error
		if opened, err = g.Approvals.Prepare(ctx, tenant, actor, req, rule, ruleID); err != nil {
			d = errorDecision("the approval request could not be prepared")
			record()
			opened, counted, authorized = nil, false, ""
		}
	}
	rechecker, _ := g.Controls.(Rechecker)
	seenAtCheck := body.ControlsSeen
	var entry ledger.Request
	var err error
	if counted || opened != nil || authorized != "" {
		// What the counts, the approval request and the authorization
		// decide is settled in the append transaction, which completes
		// the entry.
		if entry, err = event.NewWithID(event.KindDecision, id, actor, body); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnrecorded, err)
		}
		now := g.now()
		request := *body // the request as recorded, for the approval
		// Work may run again if its batch's transaction is retried: it
		// starts from the policy's decision each time.
		effect, reasons := d.Effect, d.Reasons
		seen := body.ControlsSeen
		entry.Work = func(_ context.Context, tx ledger.Tx) error {
			eff, rs := effect, reasons
			var retry time.Duration
			var spend int64
			body.ControlsSeen, body.Spend = seen, 0
			if rechecker != nil {
				// A switch set since the check binds this decision too.
				hit, version, err := rechecker.Recheck(tx, req, seen)
				if err != nil {
					return err
				}
				body.ControlsSeen = max(seen, version)
				if hit != nil {
					d.Effect, d.Reasons = switched(hit, effect, reasons)
					body.ApprovalID, body.RetryAfterMs = "", 0
					index.Decision = d.Effect
					record()
					return nil
				}
			}
			if authorized != "" {
				if err := g.Approvals.Usable(tx, authorized); err != nil {
					if !errors.Is(err, approval.ErrAuthorization) {
						return err
					}
					eff, rs = policy.Deny, authorizationDeny(authorizationMessage(err)).Reasons
				}
			}
			if counted && eff != policy.Deny {
				v, err := g.Limits.Apply(tx, pol, req, eff, now)
				if err != nil {
					return err
				}
				eff, rs, retry, spend = v.Effect, append(append([]policy.Reason(nil), v.Reasons...), rs...), v.RetryAfter, v.Spend
			}
			body.ApprovalID = ""
			switch {
			case eff == policy.Allow && authorized != "":
				if err := g.Approvals.Consume(tx, authorized, id, now); err != nil {
					return err
				}
				body.ApprovalID = authorized
			case eff == policy.RequireApproval && opened != nil:
				opened.ReceiptID, opened.Request = id, &request
				if err := g.Approvals.Open(tx, opened); err != nil {
					return err
				}
				body.ApprovalID = opened.ID
			}
			d.Effect, d.Reasons = eff, rs
			body.RetryAfterMs = retry.Milliseconds()
			if eff == policy.Allow {
				body.Spend = spend
			}
			index.Decision = eff
			record()
			return nil
		}
	} else {
		// The common case: the body is final, encoded here; the
		// transaction only checks that the switches did not change.
		if entry, err = event.NewEncoded(event.KindDecision, id, actor, body); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnrecorded, err)
		}
		if rechecker != nil {
			seen := body.ControlsSeen
			entry.Check = func(tx ledger.Tx) error {
				v, err := rechecker.Version(tx)
				if err == nil && v != seen {
					err = errStaleControls
				}
				return err
			}
		}
	}
	entry.Index = index
	ack, err := g.Ledger.Append(ctx, tenant, entry)
	if errors.Is(err, errStaleControls) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnrecorded, err)
	}
	if opened != nil && body.ApprovalID == opened.ID {
		g.Approvals.Opened(ctx, opened)
	}
	if f, ok := g.Controls.(interface{ Forget(tenant string) }); ok && body.ControlsSeen != seenAtCheck {
		f.Forget(tenant) // the transaction saw newer switches than the check
	}
	return &Answer{Decision: d.Effect, Reasons: d.Reasons, ReceiptID: ack.ID, Seq: ack.Seq,
		LeafHash: ledger.EncodeHash(ack.LeafHash), Findings: answerFindings(body.Findings), ArgsRedacted: argsRedacted,
		RetryAfterMs: body.RetryAfterMs, ApprovalID: body.ApprovalID, Shadow: shadowAnswer(body.Shadow)}, nil
}

func shadowAnswer(s *event.DecisionShadow) *Shadow {
	if s == nil {
		return nil
	}
	out := &Shadow{Decision: s.Decision, Reasons: []policy.Reason{}}
	for _, r := range s.Reasons {
		out.Reasons = append(out.Reasons, policy.Reason{Code: r.Code, Rule: r.Rule, Message: r.Message})
	}
	return out
}

// shadow evaluates the tenant's candidate on the active policy's input;
// whatever happens there never changes d.
func (g *Gate) shadow(ctx context.Context, tenant string, in *policy.Input, d *policy.Decision, body *event.Decision) {
	if g.Candidates == nil {
		return
	}
	cand, version, err := g.Candidates(ctx, tenant)
	if err != nil || cand == nil {
		return
	}
	s := cand.Shadow(in, d)
	if s == nil {
		return
	}
	sh := &event.DecisionShadow{Policy: event.PolicyRef{Name: cand.Name, Version: version, Digest: cand.Digest},
		Decision: s.Decision, Differs: s.Differs}
	if s.Candidate != nil {
		sh.Rules = s.Candidate.Rules
	}
	for _, r := range s.Reasons {
		sh.Reasons = append(sh.Reasons, event.DecisionReason{Code: r.Code, Rule: r.Rule, Message: r.Message})
	}
	body.Shadow = sh
}

// switched is the decision a switch makes of the policy's: a deny
// switch denies; a require_approval switch holds what was not denied.
func switched(hit *ControlHit, effect string, reasons []policy.Reason) (string, []policy.Reason) {
	r := policy.Reason{Code: "control", Rule: hit.ID, Message: hit.Reason}
	if hit.Effect == policy.RequireApproval && effect != policy.Deny {
		return policy.RequireApproval, append([]policy.Reason{r}, reasons...)
	}
	if hit.Effect == policy.RequireApproval {
		return effect, reasons
	}
	return policy.Deny, []policy.Reason{r}
}

// Reason codes of authorizations (DESIGN.md section 2).
const (
	// CodeApproval: allowed by the authorization of an approved request.
	CodeApproval = "approval"
	// CodeAuthorization: an authorization that was used, expired, or does
	// not match the request.
	CodeAuthorization = "authorization"
)

func authorizationDeny(msg string) *policy.Decision {
	return &policy.Decision{Effect: policy.Deny, Reasons: []policy.Reason{{Code: CodeAuthorization, Message: msg}}}
}

// authorizationMessage is what an answer says of a refused authorization.
func authorizationMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, approval.ErrAuthorization.Error()); i >= 0 {
		return msg[i:]
	}
	return approval.ErrAuthorization.Error()
}

func (g *Gate) now() time.Time {
	if g.Clock != nil {
		return g.Clock()
	}
	return time.Now()
}

// decide evaluates; every failure becomes a deny with code error.
func (g *Gate) decide(ctx context.Context, tenant string, req *policy.Request, body *event.Decision, argsOut *any, pol **policy.Policy, controlled *bool) *policy.Decision {
	if g.Controls != nil {
		hit, version, err := g.Controls.Check(ctx, tenant, req)
		body.ControlsSeen = version
		if err != nil {
			return errorDecision("kill switches could not be checked")
		}
		*controlled = hit != nil
		if hit != nil && hit.Effect != policy.RequireApproval {
			// A kill switch wins over everything (and one whose effect is
			// not understood denies).
			return &policy.Decision{Effect: policy.Deny, Reasons: []policy.Reason{{Code: "control", Rule: hit.ID, Message: hit.Reason}}}
		}
		if hit != nil {
			// A require_approval switch makes anything the policy would
			// allow need approval; a deny still denies.
			d := g.evaluate(ctx, tenant, req, body, argsOut, pol)
			if d.Effect != policy.Deny {
				d.Effect = policy.RequireApproval
				d.Reasons = append([]policy.Reason{{Code: "control", Rule: hit.ID, Message: hit.Reason}}, d.Reasons...)
			}
			return d
		}
	}
	return g.evaluate(ctx, tenant, req, body, argsOut, pol)
}

func (g *Gate) evaluate(ctx context.Context, tenant string, req *policy.Request, body *event.Decision, argsOut *any, pol **policy.Policy) (d *policy.Decision) {
	in := &policy.Input{Request: req}
	var scanned *ScanResult
	body.ScanComplete = true
	if g.Scanner != nil {
		res, err := g.Scanner.ScanArgs(ctx, tenant, req)
		if err != nil {
			// Args nobody has read for secrets are not recorded.
			body.ScanComplete, body.Args = false, map[string]any{}
			return errorDecision("the request could not be scanned")
		}
		body.Findings, body.ScanComplete = res.Findings, !res.Incomplete
		switch {
		case res.Incomplete:
			// Part of the args was never read: what it holds is unknown,
			// so none of them is recorded. The policy's on_incomplete
			// decides the answer.
			body.Args = map[string]any{}
		case len(res.Findings) > 0:
			m, ok := res.Redacted.(map[string]any)
			if !ok {
				// Args with findings that cannot be recorded redacted are
				// not recorded at all, and nothing is allowed.
				body.Args = map[string]any{}
				return errorDecision("the request's args could not be redacted")
			}
			body.Args = m
		}
		scanned = res
		in.ScanIncomplete = res.Incomplete
		for _, f := range res.Findings {
			in.Findings = append(in.Findings, policy.Finding{Category: f.Category, Rule: f.Rule, Severity: f.Severity, Path: f.Path})
		}
	}
	active, err := g.Policies.Active(ctx, tenant)
	if err != nil || active == nil || active.Policy == nil {
		if errors.Is(err, ledger.ErrNotFound) || errors.Is(err, policy.ErrNoVersion) || (err == nil && (active == nil || active.Policy == nil)) {
			return errorDecision("the tenant has no active policy")
		}
		return errorDecision("the active policy could not be loaded")
	}
	body.Policy = &event.PolicyRef{Name: active.Policy.Name, Version: active.Version, Digest: active.Policy.Digest}
	d = active.Policy.Evaluate(in)
	if d.Err == nil {
		*pol = active.Policy
	}
	g.shadow(ctx, tenant, in, d, body)
	if scanned != nil && scanned.Redact != nil {
		pol := active.Policy
		for _, f := range scanned.Findings {
			if pol.RedactArgs(f.Category, f.Severity) {
				*argsOut = scanned.Redact(func(f event.DecisionFinding) bool { return pol.RedactArgs(f.Category, f.Severity) })
				break
			}
		}
	}
	return d
}

// answerFindings are the findings as answered: the value HMACs stay in
// the ledger (a caller holding the value has no use for it, and an
// answer is logged by clients in places the ledger is not).
func answerFindings(fs []event.DecisionFinding) []event.DecisionFinding {
	if len(fs) == 0 {
		return nil
	}
	out := make([]event.DecisionFinding, len(fs))
	for i, f := range fs {
		f.ValueHMAC = ""
		out[i] = f
	}
	return out
}

func errorDecision(msg string) *policy.Decision {
	return &policy.Decision{Effect: policy.Deny, Err: errors.New(msg),
		Reasons: []policy.Reason{{Code: policy.CodeError, Message: msg + ": not allowed"}}}
}

func contextMap(c policy.Context) map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"session_id": c.SessionID, "trace_id": c.TraceID,
		"parent_receipt_id": c.ParentReceiptID, "environment": c.Environment} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}
