// Package limits counts what a policy limits: rate limits and budgets
// over sliding windows, and the session rules (forbidden sequences, a cap
// on a session's actions, a risk score). It counts in the store, inside
// the decision's own append transaction: that transaction holds the
// tenant's log, so every decision of a tenant on every replica reads and
// writes the counts one after another, and the counts are exact.
//
// Only an allow consumes (DESIGN.md section 2): a require_approval is
// checked against the limits (an exhausted limit answers rate_limited)
// but reserves nothing, and a deny neither checks nor counts.
package limits

import (
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Event is one counted use of a counter: when, and how much (1 for a
// rate).
type Event struct {
	At     time.Time
	Amount int64
}

// Tx is what counting needs of the decision's append transaction. Every
// method acts on the transaction's tenant.
type Tx interface {
	// LimitUsed drops counter's events at or before since and returns the
	// total amount of those left: what the window holds. It reads only
	// what leaves the window, never the whole window.
	LimitUsed(counter string, since time.Time) (int64, error)
	// LimitEvents returns counter's events after since, oldest first (only
	// asked when a request does not fit, to say when it will).
	LimitEvents(counter string, since time.Time) ([]Event, error)
	// AddLimitEvent counts one use.
	AddLimitEvent(counter string, at time.Time, amount int64) error
	// SessionTotals returns how many actions a session has taken and the
	// risk they added up to.
	SessionTotals(session string) (actions, risk int64, err error)
	// SessionActions returns the session's last n actions, oldest first.
	SessionActions(session string, n int) ([]string, error)
	// AddSessionAction records an action the session took.
	AddSessionAction(session string, at time.Time, action string, risk int64) error
}

// Reason codes of what this package decides (DESIGN.md section 2).
const (
	CodeLimit   = "limit"
	CodeBudget  = "budget"
	CodeSession = "session"
)

// MaxLookback bounds how many of a session's past actions a forbidden
// sequence looks at (a window, or the whole session without one); older
// actions are not kept.
const MaxLookback = policy.MaxSequenceWindow

// Verdict is a decision after the limits and the session rules.
type Verdict struct {
	Effect string
	// Reasons are the reasons that changed the effect, to come first.
	Reasons []policy.Reason
	// RetryAfter is when a rate_limited request may succeed.
	RetryAfter time.Duration
	// Spend is what an allowed decision counted against its budgets (the
	// largest amount, when several budgets count the same action): what
	// the monitor follows as the agent's spend.
	Spend int64
}

// Counter applies limits and session rules inside an append transaction;
// the gate calls it through its Limiter interface.
type Counter struct{}

// Apply decides what the limits and session rules make of a decision the
// policy gave as effect, at now, and counts an allow. tx must be a Tx.
func (Counter) Apply(tx ledger.Tx, p *policy.Policy, req *policy.Request, effect string, now time.Time) (*Verdict, error) {
	t, ok := tx.(Tx)
	if !ok {
		return nil, errors.New("limits: the store cannot count")
	}
	return Apply(t, p, req, effect, now)
}

// Apply is Counter.Apply on a Tx.
func Apply(tx Tx, p *policy.Policy, req *policy.Request, effect string, now time.Time) (*Verdict, error) {
	v := &Verdict{Effect: effect}
	if effect != policy.Allow && effect != policy.RequireApproval {
		return v, nil
	}
	rules, session := p.Sessions(), req.Context.SessionID
	var weight int64
	if rules != nil && session != "" {
		var err error
		if weight, err = sessionRules(tx, rules, req, v); err != nil {
			return nil, err
		}
		if v.Effect == policy.Deny {
			return v, nil
		}
	}
	uses := p.Limits(req)
	for _, u := range uses {
		if u.Err != nil {
			v.Effect = policy.Deny
			v.Reasons = append(v.Reasons, policy.Reason{Code: CodeBudget, Rule: u.ID, Message: u.Err.Error()})
			return v, nil
		}
	}
	for _, u := range uses {
		used, err := tx.LimitUsed(u.Counter, now.Add(-u.Period))
		if err != nil {
			return nil, fmt.Errorf("limit %s: %w", u.ID, err)
		}
		var wait time.Duration
		never := u.Amount > u.Max
		if !never && used+u.Amount > u.Max {
			events, err := tx.LimitEvents(u.Counter, now.Add(-u.Period))
			if err != nil {
				return nil, fmt.Errorf("limit %s: %w", u.ID, err)
			}
			wait, never = exceeds(u, events, now)
		}
		switch {
		case never:
			v.Effect = policy.Deny
			v.Reasons = append([]policy.Reason{{Code: CodeBudget, Rule: u.ID,
				Message: fmt.Sprintf("%d is more than the whole budget of %d per %s", u.Amount, u.Max, u.Period)}}, v.Reasons...)
			return v, nil
		case wait > 0:
			v.Effect = policy.RateLimited
			v.RetryAfter = max(v.RetryAfter, wait)
			code, msg := CodeLimit, fmt.Sprintf("%d requests per %s reached", u.Max, u.Period)
			if u.Budget {
				code, msg = CodeBudget, fmt.Sprintf("%d would exceed the budget of %d per %s", u.Amount, u.Max, u.Period)
			}
			v.Reasons = append(v.Reasons, policy.Reason{Code: code, Rule: u.ID, Message: msg})
		}
	}
	if v.Effect != policy.Allow {
		return v, nil
	}
	for _, u := range uses {
		if err := tx.AddLimitEvent(u.Counter, now, u.Amount); err != nil {
			return nil, fmt.Errorf("limit %s: %w", u.ID, err)
		}
		if u.Budget {
			v.Spend = max(v.Spend, u.Amount)
		}
	}
	if rules != nil && session != "" {
		if err := tx.AddSessionAction(session, now, req.Action.Type, weight); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	return v, nil
}

// exceeds reports how long until u fits among the window's events, 0 if
// it fits now, or never when it cannot fit in any window.
func exceeds(u policy.AppliedLimit, events []Event, now time.Time) (wait time.Duration, never bool) {
	if u.Amount > u.Max {
		return 0, true
	}
	var used int64
	for _, e := range events {
		used += e.Amount
	}
	if used+u.Amount <= u.Max {
		return 0, false
	}
	// The oldest events leave the window first: wait until enough of them
	// have left.
	for _, e := range events {
		used -= e.Amount
		if used+u.Amount <= u.Max {
			return max(e.At.Add(u.Period).Sub(now), time.Millisecond), false
		}
	}
	return u.Period, false
}

// sessionRules applies the session rules to req in v, and returns the
// risk weight the action adds.
func sessionRules(tx Tx, rules *policy.SessionRules, req *policy.Request, v *Verdict) (int64, error) {
	session, action := req.Context.SessionID, req.Action.Type
	count, risk, err := tx.SessionTotals(session)
	if err != nil {
		return 0, fmt.Errorf("session: %w", err)
	}
	if rules.MaxActions > 0 && count >= int64(rules.MaxActions) {
		v.Effect = policy.Deny
		v.Reasons = []policy.Reason{{Code: CodeSession, Rule: "max_actions",
			Message: fmt.Sprintf("the session took its %d actions", rules.MaxActions)}}
		return 0, nil
	}
	for i := range rules.Sequences {
		q := &rules.Sequences[i]
		if !q.StepMatches(q.Steps()-1, action) {
			continue
		}
		n := q.Within - 1
		if q.Within <= 0 {
			n = MaxLookback
		}
		past, err := tx.SessionActions(session, n)
		if err != nil {
			return 0, fmt.Errorf("session: %w", err)
		}
		if completes(q, past) {
			v.Effect = policy.Deny
			v.Reasons = []policy.Reason{{Code: CodeSession, Rule: q.ID,
				Message: "the session's earlier actions and this one form the forbidden sequence " + q.ID}}
			return 0, nil
		}
	}
	w := int64(rules.Weight(action))
	total := risk + w
	switch {
	case rules.DenyAt > 0 && total >= int64(rules.DenyAt):
		v.Effect = policy.Deny
		v.Reasons = []policy.Reason{{Code: CodeSession, Rule: "risk",
			Message: fmt.Sprintf("the session's risk would reach %d (deny at %d)", total, rules.DenyAt)}}
	case rules.RequireApprovalAt > 0 && total >= int64(rules.RequireApprovalAt) && v.Effect == policy.Allow:
		v.Effect = policy.RequireApproval
		v.Reasons = []policy.Reason{{Code: CodeSession, Rule: "risk",
			Message: fmt.Sprintf("the session's risk would reach %d (approval from %d)", total, rules.RequireApprovalAt)}}
	}
	return w, nil
}

// completes reports whether past, followed by an action matching the
// sequence's last step, holds all of its steps in order.
func completes(q *policy.SessionSequence, past []string) bool {
	step := q.Steps() - 2
	for i := len(past) - 1; i >= 0 && step >= 0; i-- {
		if q.StepMatches(step, past[i]) {
			step--
		}
	}
	return step < 0
}
