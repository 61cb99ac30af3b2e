package policy

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/wardenhq/warden/internal/event"
)

// Replay and shadow evaluation ask one question of a candidate policy: on
// this input, does it decide otherwise than the policy that decided? Replay
// asks it of decisions recorded in the ledger, the shadow of live ones; a
// Replayer tallies the answers of either.

// DefaultMaxFlips bounds the example flips of a ReplayReport when
// NewReplayer is given no bound.
const DefaultMaxFlips = 50

// Keys of ByRule for what is not a rule of the policy. Rule ids cannot
// contain parentheses or colons, so these never collide with one.
const (
	FlipByDefault = "(default)"
	FlipByError   = "(error)"
	flipByScan    = "scan:" // followed by the scan mapping's selector
)

// ErrUnreplayable wraps every reason a recorded decision cannot be turned
// back into an input.
var ErrUnreplayable = errors.New("recorded decision cannot be replayed")

// InputFromDecision rebuilds the input a recorded decision was evaluated
// on. What the ledger holds is what the candidate sees: args with every
// finding replaced by its placeholder (and none at all when the scan was
// incomplete), and no session state (conditions see an empty session, as
// they do live). Numbers come back as a live request carries them: an
// integral number within ±2^53 as int64, any other as float64, whether d
// was decoded with or without json.Decoder.UseNumber. d is not changed.
func InputFromDecision(d *event.Decision) (*Input, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: no decision", ErrUnreplayable)
	}
	req := &Request{
		Principal: Principal{ID: d.Principal.ID, Type: d.Principal.Type},
		Action:    Action{Type: d.Action.Type, Resource: d.Action.Resource, Operation: d.Action.Operation},
	}
	var err error
	if req.Args, err = recordedObject(d.Args, "args"); err != nil {
		return nil, err
	}
	if req.Principal.Attributes, err = recordedObject(d.Principal.Attributes, "principal.attributes"); err != nil {
		return nil, err
	}
	for k, v := range d.Context {
		switch k {
		case "session_id":
			req.Context.SessionID = v
		case "trace_id":
			req.Context.TraceID = v
		case "parent_receipt_id":
			req.Context.ParentReceiptID = v
		case "environment":
			req.Context.Environment = v
		default:
			return nil, fmt.Errorf("%w: unknown context key %q", ErrUnreplayable, k)
		}
	}
	in := &Input{Request: req, ScanIncomplete: !d.ScanComplete}
	if len(d.Findings) > 0 {
		in.Findings = make([]Finding, len(d.Findings))
		for i, f := range d.Findings {
			in.Findings[i] = Finding{Category: f.Category, Rule: f.Rule, Severity: f.Severity, Path: f.Path}
		}
	}
	return in, nil
}

func recordedObject(m map[string]any, name string) (map[string]any, error) {
	w := &recordedWalk{name: name}
	v, err := w.value(m, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreplayable, err)
	}
	return v.(map[string]any), nil
}

// recordedWalk copies a decoded JSON value with its numbers as
// DecodeRequest gives them, within the same depth bound. It keeps the
// path to the current value as steps and spells it only for an error.
type recordedWalk struct {
	name  string
	steps []recordedStep
}

type recordedStep struct {
	key   string
	index int // -1 for an object member
}

func (w *recordedWalk) path() string {
	var b strings.Builder
	b.WriteString(w.name)
	for _, st := range w.steps {
		if st.index < 0 {
			b.WriteString("." + st.key)
		} else {
			fmt.Fprintf(&b, "[%d]", st.index)
		}
	}
	return b.String()
}

func (w *recordedWalk) value(v any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d levels", w.path(), MaxDepth)
	}
	switch x := v.(type) {
	case float64:
		// The ledger's canonical form prints an integral float64 without
		// a fraction, so "2.0" and "2" were recorded alike; DecodeRequest
		// reads the canonical spelling as an integer.
		if x == math.Trunc(x) && math.Abs(x) <= maxSafeInteger {
			return int64(x), nil
		}
		return x, nil
	case json.Number:
		n, err := number(string(x), "")
		if err != nil {
			_, err = number(string(x), w.path())
		}
		return n, err
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			w.steps = append(w.steps, recordedStep{key: k, index: -1})
			c, err := w.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			w.steps = w.steps[:len(w.steps)-1]
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			w.steps = append(w.steps, recordedStep{index: i})
			c, err := w.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			w.steps = w.steps[:len(w.steps)-1]
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// policyCodes are the reason codes Evaluate gives.
var policyCodes = map[string]bool{CodeRule: true, CodeDefault: true, CodeScan: true, CodeError: true}

// SkipUnevaluated is RecordedEffect's skip for a decision no policy
// evaluated and that gives no reason code.
const SkipUnevaluated = "unevaluated"

// RecordedEffect returns what the recorded policy itself decided, or,
// when the record does not show it, why not (skip). The answer is the
// policy's when every reason is one Evaluate gives (rule, default, scan,
// error) and a policy is named. A kill switch of effect require_approval
// leaves a deny standing, so a deny whose other reasons are the policy's
// is the policy's too. Anything else was decided or changed after the
// policy, and skip is the code that did it: control (a kill switch that
// denied before any policy ran, or asked for approval over an allow),
// session, limit, budget, approval, authorization; error or another code
// of a decision made before a policy ran (no active policy, a failed
// scan); SkipUnevaluated when there is no reason at all.
func RecordedEffect(d *event.Decision) (effect, skip string) {
	other := ""
	for _, r := range d.Reasons {
		if !policyCodes[r.Code] && (other == "" || other == "control") {
			other = r.Code
		}
	}
	switch {
	case d.Policy == nil:
		if len(d.Reasons) == 0 {
			return "", SkipUnevaluated
		}
		return "", d.Reasons[0].Code
	case other == "control" && d.Decision == Deny:
		return Deny, ""
	case other != "":
		return "", other
	}
	switch d.Decision {
	case Allow, Deny, RequireApproval:
		return d.Decision, ""
	}
	return "", "decision:" + d.Decision
}

// Flip is one decision the candidate decides otherwise.
type Flip struct {
	Seq       int64  `json:"seq"`
	ReceiptID string `json:"receipt_id"`
	Agent     string `json:"agent"`
	Action    string `json:"action"`
	From      string `json:"from"`
	To        string `json:"to"`
	// Rules explain the flip: the rules that applied on one side only
	// (new, removed, or whose match or condition changed); when the
	// same rules applied on both, what decided the candidate's answer
	// (rule ids, FlipByDefault, "scan:<selector>"); FlipByError alone when
	// the candidate failed to evaluate.
	Rules []string `json:"rules"`
	// Redacted is set when the candidate saw less than the recorded
	// policy did: args with findings redacted, or not recorded at all
	// because the scan was incomplete.
	Redacted bool `json:"redacted,omitempty"`
}

// ReplayReport tallies comparisons of a candidate with the policy that
// decided. Every map is present, empty rather than null.
type ReplayReport struct {
	// Decisions is every decision added, compared or not.
	Decisions int `json:"decisions"`
	// Compared is the decisions whose policy's own effect is known and
	// that the candidate evaluated.
	Compared int `json:"compared"`
	// Skipped is the decisions not compared because something other than
	// the policy decided them (RecordedEffect), by that thing.
	Skipped   int            `json:"skipped"`
	SkippedBy map[string]int `json:"skipped_by"`
	// Changed is the compared decisions whose effect the candidate
	// changes; ChangedRedacted, those of them whose Flip is Redacted.
	Changed         int `json:"changed"`
	ChangedRedacted int `json:"changed_redacted"`
	// ByTransition counts flips by "from->to" (say "allow->deny"); ByRule
	// by each of a Flip's Rules; ByAction and ByAgent by action type and
	// principal id.
	ByTransition map[string]int `json:"by_transition"`
	ByRule       map[string]int `json:"by_rule"`
	ByAction     map[string]int `json:"by_action"`
	ByAgent      map[string]int `json:"by_agent"`
	// Examples are the flips of lowest seq, at most the Replayer's bound.
	Examples []Flip `json:"examples"`
	// Errors is the compared decisions the candidate could not evaluate (a
	// condition failed: it decided deny, as it would live); Invalid, the
	// decisions that could not be rebuilt into an input (not compared).
	Errors  int `json:"errors"`
	Invalid int `json:"invalid"`
}

// Replayer tallies a candidate's decisions against those of the policy
// that decided. It is not safe for concurrent use: give each goroutine its
// own and Merge them.
type Replayer struct {
	candidate *Policy
	effects   map[string]string // candidate's rule id -> effect
	maxFlips  int
	rep       ReplayReport
	worst     int // index in rep.Examples of the highest seq
}

// NewReplayer returns a Replayer for candidate keeping at most maxFlips
// examples (DefaultMaxFlips when maxFlips <= 0).
func NewReplayer(candidate *Policy, maxFlips int) *Replayer {
	if maxFlips <= 0 {
		maxFlips = DefaultMaxFlips
	}
	r := &Replayer{candidate: candidate, effects: make(map[string]string, len(candidate.rules)), maxFlips: maxFlips}
	for i := range candidate.rules {
		r.effects[candidate.rules[i].id] = candidate.rules[i].effect
	}
	r.rep = ReplayReport{SkippedBy: map[string]int{}, ByTransition: map[string]int{}, ByRule: map[string]int{},
		ByAction: map[string]int{}, ByAgent: map[string]int{}}
	return r
}

// Add replays a recorded decision: the candidate evaluates in (rebuilt
// from rec with InputFromDecision when nil) and its effect is compared
// with the recorded policy's own (RecordedEffect). It reports whether
// the candidate decides otherwise. Nothing is fatal: a record that cannot
// be compared is counted.
func (r *Replayer) Add(seq int64, receiptID string, rec *event.Decision, in *Input) bool {
	r.rep.Decisions++
	if rec == nil {
		r.rep.Invalid++
		return false
	}
	from, skip := RecordedEffect(rec)
	if skip != "" {
		r.rep.Skipped++
		r.rep.SkippedBy[skip]++
		return false
	}
	if in == nil || in.Request == nil {
		var err error
		if in, err = InputFromDecision(rec); err != nil {
			r.rep.Invalid++
			return false
		}
	}
	redacted := len(rec.Findings) > 0 || !rec.ScanComplete
	return r.compare(seq, receiptID, in.Request, from, rec.Rules, r.candidate.Evaluate(in), redacted)
}

// AddShadow tallies a live shadow evaluation: active is the active
// policy's own decision on in (before kill switches, limits and session
// rules), s what Shadow of this Replayer's candidate gave.
func (r *Replayer) AddShadow(seq int64, receiptID string, in *Input, active *Decision, s *ShadowResult) bool {
	r.rep.Decisions++
	if in == nil || in.Request == nil || active == nil || s == nil {
		r.rep.Invalid++
		return false
	}
	to := s.Candidate
	if to == nil {
		to = &Decision{Effect: s.Decision, Reasons: s.Reasons}
	}
	return r.compare(seq, receiptID, in.Request, active.Effect, active.Rules, to, false)
}

// AddRecorded tallies the shadow decision recorded with a decision (its
// Shadow field, evaluated live by this Replayer's candidate) against the
// recorded policy's own effect: the shadow report, rebuilt from the log.
func (r *Replayer) AddRecorded(seq int64, receiptID string, rec *event.Decision) bool {
	r.rep.Decisions++
	if rec == nil || rec.Shadow == nil {
		r.rep.Invalid++
		return false
	}
	from, skip := RecordedEffect(rec)
	if skip != "" {
		r.rep.Skipped++
		r.rep.SkippedBy[skip]++
		return false
	}
	to := &Decision{Effect: rec.Shadow.Decision, Rules: rec.Shadow.Rules}
	for _, rs := range rec.Shadow.Reasons {
		to.Reasons = append(to.Reasons, Reason{Code: rs.Code, Rule: rs.Rule, Message: rs.Message})
		if rs.Code == CodeError {
			to.Err = ErrEvaluation
		}
	}
	req := &Request{}
	req.Principal.ID, req.Action.Type = rec.Principal.ID, rec.Action.Type
	return r.compare(seq, receiptID, req, from, rec.Rules, to, len(rec.Findings) > 0 || !rec.ScanComplete)
}

func (r *Replayer) compare(seq int64, receiptID string, req *Request, from string, fromRules []string, to *Decision, redacted bool) bool {
	r.rep.Compared++
	if to.Err != nil {
		r.rep.Errors++
	}
	if from == to.Effect {
		return false
	}
	f := Flip{Seq: seq, ReceiptID: receiptID, Agent: req.Principal.ID, Action: req.Action.Type,
		From: from, To: to.Effect, Rules: r.explain(fromRules, to), Redacted: redacted}
	r.rep.Changed++
	if redacted {
		r.rep.ChangedRedacted++
	}
	r.rep.ByTransition[from+"->"+to.Effect]++
	for _, id := range f.Rules {
		r.rep.ByRule[id]++
	}
	r.rep.ByAction[f.Action]++
	r.rep.ByAgent[f.Agent]++
	r.keep(f)
	return true
}

// explain names what made a flip (see Flip.Rules).
func (r *Replayer) explain(before []string, to *Decision) []string {
	if to.Err != nil {
		// No rule applied because none was evaluated to the end.
		return []string{FlipByError}
	}
	var keys []string
	for _, id := range before {
		if !slices.Contains(to.Rules, id) {
			keys = append(keys, id)
		}
	}
	for _, id := range to.Rules {
		if !slices.Contains(before, id) {
			keys = append(keys, id)
		}
	}
	if len(keys) == 0 {
		keys = r.deciding(to)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// deciding returns what argued for the candidate's effect.
func (r *Replayer) deciding(d *Decision) []string {
	keys := []string{}
	sc := &r.candidate.scan
	for _, rs := range d.Reasons {
		switch rs.Code {
		case CodeRule:
			if r.effects[rs.Rule] == d.Effect {
				keys = append(keys, rs.Rule)
			}
		case CodeDefault:
			if r.candidate.def == d.Effect {
				keys = append(keys, FlipByDefault)
			}
		case CodeScan:
			if (rs.Rule == "on_incomplete" && sc.onIncomplete == d.Effect) ||
				(d.Effect == Deny && hasSelector(sc.deny, rs.Rule)) ||
				(d.Effect == RequireApproval && hasSelector(sc.approve, rs.Rule)) {
				keys = append(keys, flipByScan+rs.Rule)
			}
		}
	}
	return keys
}

func hasSelector(sels []selector, text string) bool {
	return slices.ContainsFunc(sels, func(s selector) bool { return s.text == text })
}

// keep adds f to the examples if it is among the maxFlips of lowest seq.
func (r *Replayer) keep(f Flip) {
	ex := r.rep.Examples
	switch {
	case len(ex) < r.maxFlips:
		r.rep.Examples = append(ex, f)
		if len(ex) == 0 || f.Seq > ex[r.worst].Seq {
			r.worst = len(ex)
		}
		return
	case f.Seq >= ex[r.worst].Seq:
		return
	}
	ex[r.worst] = f
	for i := range ex {
		if ex[i].Seq > ex[r.worst].Seq {
			r.worst = i
		}
	}
}

// Merge adds o's tally to r's (replays split across goroutines). Both
// must compare the same candidate.
func (r *Replayer) Merge(o *Replayer) {
	a, b := &r.rep, &o.rep
	a.Decisions += b.Decisions
	a.Compared += b.Compared
	a.Skipped += b.Skipped
	a.Changed += b.Changed
	a.ChangedRedacted += b.ChangedRedacted
	a.Errors += b.Errors
	a.Invalid += b.Invalid
	for _, m := range [][2]map[string]int{{a.SkippedBy, b.SkippedBy}, {a.ByTransition, b.ByTransition},
		{a.ByRule, b.ByRule}, {a.ByAction, b.ByAction}, {a.ByAgent, b.ByAgent}} {
		for k, n := range m[1] {
			m[0][k] += n
		}
	}
	for _, f := range b.Examples {
		r.keep(f)
	}
}

// Report returns the tally so far, examples in seq order. The report is a
// copy: adding more does not change it.
func (r *Replayer) Report() *ReplayReport {
	rep := r.rep
	rep.SkippedBy, rep.ByTransition, rep.ByRule = maps.Clone(r.rep.SkippedBy), maps.Clone(r.rep.ByTransition), maps.Clone(r.rep.ByRule)
	rep.ByAction, rep.ByAgent = maps.Clone(r.rep.ByAction), maps.Clone(r.rep.ByAgent)
	rep.Examples = make([]Flip, len(r.rep.Examples))
	for i, f := range r.rep.Examples {
		f.Rules = slices.Clone(f.Rules)
		rep.Examples[i] = f
	}
	slices.SortFunc(rep.Examples, func(x, y Flip) int { return cmp.Compare(x.Seq, y.Seq) })
	return &rep
}

// ShadowResult is a candidate's decision beside the active one: the
// answer's shadow field.
type ShadowResult struct {
	Decision string   `json:"decision"`
	Reasons  []Reason `json:"reasons"`
	// Differs is set when the candidate's effect is not the active one.
	Differs bool `json:"differs"`
	// Candidate is the candidate's whole decision, for AddShadow; it is
	// never answered.
	Candidate *Decision `json:"-"`
}

// Shadow evaluates candidate p on in beside the active policy's decision
// active. It MUST NOT change the answer: it only reads in and active, and
// shares no memory with active; even a panic in the candidate's
// evaluation comes back as a deny with code error in the result, never to
// the caller. A nil p (no candidate) gives nil.
func (p *Policy) Shadow(in *Input, active *Decision) (s *ShadowResult) {
	if p == nil {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			s = shadowOf(failed(fmt.Errorf("%w: the candidate's evaluation panicked", ErrEvaluation)), active)
		}
	}()
	return shadowOf(p.Evaluate(in), active)
}

func shadowOf(d *Decision, active *Decision) *ShadowResult {
	return &ShadowResult{Decision: d.Effect, Reasons: d.Reasons, Differs: active != nil && active.Effect != d.Effect, Candidate: d}
}
