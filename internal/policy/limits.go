package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AppliedLimit is one of a policy's limits as it applies to a request:
// the counter it draws on and what the request would draw. The limits
// package counts; the policy only says what applies.
type AppliedLimit struct {
	ID string
	// Counter names the count this request draws on: the limit's id and
	// its subject ("email-rate/agent:billing-bot"). Counters are per
	// tenant.
	Counter string
	Budget  bool
	// Max requests (a rate) or Max units of the argument (a budget) per
	// Period, over a sliding window.
	Max    int64
	Period time.Duration
	// Amount is what this request draws: 1 for a rate, the argument for a
	// budget.
	Amount int64
	// Err is set when a budget's argument is missing or not a
	// non-negative integer: the request cannot be counted, so it is not
	// allowed.
	Err error
}

type compiledLimit struct {
	id     string
	per    string
	match  [5]glob
	has    [5]bool
	max    int64
	period time.Duration
	budget bool
	field  []string // the budget's argument path after "args."
}

var rateUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

// parseRate reads "100/h" as 100 per hour.
func parseRate(s string) (int64, time.Duration, error) {
	n, unit, ok := strings.Cut(s, "/")
	max, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || max <= 0 || rateUnits[unit] == 0 {
		return 0, 0, fmt.Errorf("rate %q must look like 100/h (per s, m, h or d)", s)
	}
	return max, rateUnits[unit], nil
}

// compileLimits compiles the checked limits of doc.
func compileLimits(doc *Document) ([]compiledLimit, error) {
	out := make([]compiledLimit, 0, len(doc.Limits))
	for _, l := range doc.Limits {
		c := compiledLimit{id: l.ID, per: l.Per}
		for k, g := range matchGlobs(&l.Match) {
			if g.text == "" {
				continue
			}
			gl, err := compileGlob(g.text)
			if err != nil {
				return nil, err
			}
			c.match[k], c.has[k] = gl, true
		}
		var err error
		if l.Budget != nil {
			c.budget, c.max = true, l.Budget.Max
			c.field = strings.Split(strings.TrimPrefix(l.Budget.Field, "args."), ".")
			c.period, err = ParseDuration(l.Budget.Period)
		} else {
			c.max, c.period, err = parseRate(l.Rate)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Limits returns the policy's limits that apply to req, in document order.
func (p *Policy) Limits(req *Request) []AppliedLimit {
	var out []AppliedLimit
	vals := [5]string{req.Action.Type, req.Action.Resource, req.Principal.ID, req.Principal.Type, req.Context.Environment}
	for i := range p.limits {
		l := &p.limits[i]
		applies := true
		for k := range l.match {
			if l.has[k] && !l.match[k].match(vals[k]) {
				applies = false
				break
			}
		}
		if !applies {
			continue
		}
		var subject string
		switch l.per {
		case "agent":
			subject = req.Principal.ID
		case "session":
			subject = req.Context.SessionID
		case "action":
			subject = req.Action.Type
		}
		a := AppliedLimit{ID: l.id, Counter: l.id + "/" + l.per + ":" + subject, Budget: l.budget, Max: l.max, Period: l.period, Amount: 1}
		if l.budget {
			a.Amount, a.Err = budgetAmount(req.Args, l.field)
		}
		out = append(out, a)
	}
	return out
}

// budgetAmount reads the integer argument a budget sums.
func budgetAmount(args map[string]any, path []string) (int64, error) {
	var v any = args
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("the budget's argument args.%s is missing", strings.Join(path, "."))
		}
		if v, ok = m[k]; !ok {
			return 0, fmt.Errorf("the budget's argument args.%s is missing", strings.Join(path, "."))
		}
	}
	n, ok := v.(int64)
	if !ok || n < 0 {
		return 0, fmt.Errorf("the budget's argument args.%s must be a non-negative integer", strings.Join(path, "."))
	}
	return n, nil
}

// MaxSequenceWindow is the widest window of a forbidden sequence, and how
// far back one without a window looks.
const MaxSequenceWindow = 1000

// SessionRules are a policy's session rules, compiled.
type SessionRules struct {
	Sequences  []SessionSequence
	MaxActions int
	weights    []weight
	// RequireApprovalAt and DenyAt are risk thresholds (0: none).
	RequireApprovalAt int
	DenyAt            int
}

// SessionSequence is a forbidden sequence: its steps in order within a
// window of Within actions of one session (0: the whole session).
type SessionSequence struct {
	ID     string
	steps  []glob
	Within int
}

type weight struct {
	g glob
	w int
}

// Steps is the number of steps of the sequence.
func (s *SessionSequence) Steps() int { return len(s.steps) }

// StepMatches reports whether action is step i of the sequence.
func (s *SessionSequence) StepMatches(i int, action string) bool { return s.steps[i].match(action) }

// Weight is the risk an action adds to its session: the largest weight
// whose glob matches it.
func (r *SessionRules) Weight(action string) int {
	w := 0
	for _, x := range r.weights {
		if x.w > w && x.g.match(action) {
			w = x.w
		}
	}
	return w
}

func compileSessions(s *Sessions) (*SessionRules, error) {
	if s == nil {
		return nil, nil
	}
	r := &SessionRules{MaxActions: s.MaxActions}
	for _, q := range s.ForbiddenSequences {
		seq := SessionSequence{ID: q.ID, Within: q.Within}
		for _, st := range q.Steps {
			g, err := compileGlob(st)
			if err != nil {
				return nil, err
			}
			seq.steps = append(seq.steps, g)
		}
		r.Sequences = append(r.Sequences, seq)
	}
	if s.Risk != nil {
		r.RequireApprovalAt, r.DenyAt = s.Risk.RequireApprovalAt, s.Risk.DenyAt
		for pattern, w := range s.Risk.Weights {
			g, err := compileGlob(pattern)
			if err != nil {
				return nil, err
			}
			r.weights = append(r.weights, weight{g, w})
		}
	}
	return r, nil
}

// Sessions returns the policy's session rules, or nil when it has none.
func (p *Policy) Sessions() *SessionRules { return p.sessions }

// Counted reports whether the policy has limits or session rules: only
// then does a decision need the store's counts.
func (p *Policy) Counted() bool { return len(p.limits) > 0 || p.sessions != nil }
