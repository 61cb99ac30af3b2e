package policy

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

const replayActive = `name: shop
default: deny
rules:
  - id: small-charges
    match: {action: "stripe.charges.create", agent: "billing-*"}
    when: args.amount <= 10000
    effect: allow
  - id: reads
    match: {action: "db.read"}
    effect: allow
  - id: no-delete
    match: {action: "db.delete"}
    effect: deny
  - id: writes
    match: {action: "db.write"}
    effect: allow
scan:
  require_approval: [pii]
`

// replayCandidate tightens small-charges, drops reads, softens no-delete,
// adds no-prod-writes and denies on pii.
const replayCandidate = `name: shop
default: deny
rules:
  - id: small-charges
    match: {action: "stripe.charges.create", agent: "billing-*"}
    when: args.amount <= 5000
    effect: allow
  - id: no-delete
    match: {action: "db.delete"}
    effect: require_approval
  - id: writes
    match: {action: "db.write"}
    effect: allow
  - id: no-prod-writes
    match: {action: "db.write", environment: "prod"}
    effect: deny
  - id: audit-writes
    match: {action: "db.write"}
    effect: require_approval
    when: args.audit == true
scan:
  deny: [pii]
`

func compile(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := ParseAndCompile([]byte(src))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v, want nil", err)
	}
	return p
}

// record decides in with p as the gate does and returns the decision's
// body as a reader of the ledger gets it: canonical JSON, decoded strictly.
// redacted replaces args before recording, as the scanner's redaction does.
func record(t *testing.T, p *Policy, in *Input, redacted map[string]any) *event.Decision {
	t.Helper()
	d := p.Evaluate(in)
	req := in.Request
	body := &event.Decision{
		Principal:    event.DecisionPrincipal{ID: req.Principal.ID, Type: req.Principal.Type, Attributes: req.Principal.Attributes},
		Action:       event.DecisionAction{Type: req.Action.Type, Resource: req.Action.Resource, Operation: req.Action.Operation},
		Args:         req.Args,
		Context:      map[string]string{},
		Decision:     d.Effect,
		Rules:        d.Rules,
		Default:      d.Default,
		Policy:       &event.PolicyRef{Name: p.Name, Version: 1, Digest: p.Digest},
		ScanComplete: !in.ScanIncomplete,
	}
	if redacted != nil {
		body.Args = redacted
	}
	if req.Context.SessionID != "" {
		body.Context["session_id"] = req.Context.SessionID
	}
	if req.Context.Environment != "" {
		body.Context["environment"] = req.Context.Environment
	}
	for _, r := range d.Reasons {
		body.Reasons = append(body.Reasons, event.DecisionReason{Code: r.Code, Rule: r.Rule, Message: r.Message})
	}
	for _, f := range in.Findings {
		body.Findings = append(body.Findings, event.DecisionFinding{Category: f.Category, Rule: f.Rule, Severity: f.Severity, Path: f.Path})
	}
	return roundTrip(t, body)
}

func roundTrip(t *testing.T, body *event.Decision) *event.Decision {
	t.Helper()
	raw, err := ledger.CanonicalBody(body)
	if err != nil {
		t.Fatalf("CanonicalBody = %v, want nil", err)
	}
	v, err := event.Decode(event.KindDecision, raw)
	if err != nil {
		t.Fatalf("event.Decode(%s) = %v, want nil", raw, err)
	}
	return v.(*event.Decision)
}

func input(agent, action, env string, args map[string]any, findings ...Finding) *Input {
	if args == nil {
		args = map[string]any{}
	}
	return &Input{Request: &Request{Principal: Principal{ID: agent, Type: "agent", Attributes: map[string]any{}},
		Action: Action{Type: action}, Args: args, Context: Context{Environment: env}}, Findings: findings}
}

func TestInputFromDecisionRoundTrip(t *testing.T) {
	in := &Input{
		Request: &Request{
			Principal: Principal{ID: "billing-bot", Type: "agent", Attributes: map[string]any{"team": "payments", "level": int64(3)}},
			Action:    Action{Type: "stripe.charges.create", Resource: "stripe://customers/cus_1", Operation: "create"},
			Args: map[string]any{"amount": int64(1200), "rate": 0.25, "big": 1e300, "neg": int64(-(1 << 53)),
				"list": []any{"a", int64(2), nil, true}, "nested": map[string]any{"n": int64(-3), "f": 1.5}},
			Context: Context{SessionID: "s-42", TraceID: "t-1", ParentReceiptID: "rcpt_1", Environment: "production"},
		},
		Findings:       []Finding{{Category: "pii.email", Rule: "email", Severity: "low", Path: "/args/note"}},
		ScanIncomplete: true,
	}
	rec := record(t, compile(t, replayActive), in, nil)
	rec.Context["trace_id"], rec.Context["parent_receipt_id"] = "t-1", "rcpt_1"
	got, err := InputFromDecision(rec)
	if err != nil {
		t.Fatalf("InputFromDecision = %v, want nil", err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("InputFromDecision =\n%#v\nwant\n%#v", got.Request, in.Request)
	}
	if _, ok := rec.Args["amount"].(float64); !ok {
		t.Errorf("InputFromDecision changed the record's args: amount is %T", rec.Args["amount"])
	}
}

func TestInputFromDecisionNumbers(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"integral float is an int", 2.0, int64(2)},
		{"fraction stays a float", 2.5, 2.5},
		{"beyond 2^53 stays a float", 1e20, 1e20},
		{"json.Number integer", json.Number("12"), int64(12)},
		{"json.Number decimal", json.Number("0.5"), 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InputFromDecision(&event.Decision{Args: map[string]any{"x": tt.in}})
			if err != nil {
				t.Fatalf("InputFromDecision = %v, want nil", err)
			}
			if x := got.Request.Args["x"]; x != tt.want {
				t.Errorf("args.x = %#v, want %#v", x, tt.want)
			}
		})
	}
}

func TestInputFromDecisionErrors(t *testing.T) {
	deep := map[string]any{}
	for range MaxDepth + 1 {
		deep = map[string]any{"x": deep}
	}
	tests := []struct {
		name, want string
		d          *event.Decision
	}{
		{"nil", "no decision", nil},
		{"unknown context key", `unknown context key "tenant"`, &event.Decision{Context: map[string]string{"tenant": "x"}}},
		{"too deep", "args.x.x.x", &event.Decision{Args: deep}},
		{"integer beyond 2^53", "args.a.b[1]: integer 9007199254740993 is outside",
			&event.Decision{Args: map[string]any{"a": map[string]any{"b": []any{json.Number("1"), json.Number("9007199254740993")}}}}},
		{"attributes", "principal.attributes.n: integer", &event.Decision{Principal: event.DecisionPrincipal{
			Attributes: map[string]any{"n": json.Number("-9007199254740993")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InputFromDecision(tt.d)
			if !errors.Is(err, ErrUnreplayable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("InputFromDecision = %v, want ErrUnreplayable saying %q", err, tt.want)
			}
		})
	}
}

func TestRecordedEffect(t *testing.T) {
	pol := &event.PolicyRef{Name: "shop", Version: 1}
	reasons := func(codes ...string) []event.DecisionReason {
		var rs []event.DecisionReason
		for _, c := range codes {
			rs = append(rs, event.DecisionReason{Code: c})
		}
		return rs
	}
	tests := []struct {
		name         string
		d            *event.Decision
		effect, skip string
	}{
		{"rule", &event.Decision{Decision: Allow, Reasons: reasons("rule"), Policy: pol}, Allow, ""},
		{"rule and scan", &event.Decision{Decision: RequireApproval, Reasons: reasons("scan", "rule"), Policy: pol}, RequireApproval, ""},
		{"default", &event.Decision{Decision: Deny, Reasons: reasons("default"), Policy: pol}, Deny, ""},
		{"policy evaluation error", &event.Decision{Decision: Deny, Reasons: reasons("error"), Policy: pol}, Deny, ""},
		{"kill switch denied before the policy", &event.Decision{Decision: Deny, Reasons: reasons("control")}, "", "control"},
		{"kill switch asked approval over an allow", &event.Decision{Decision: RequireApproval, Reasons: reasons("control", "rule"), Policy: pol}, "", "control"},
		{"kill switch left the policy's deny", &event.Decision{Decision: Deny, Reasons: reasons("control", "rule"), Policy: pol}, Deny, ""},
		{"rate limited", &event.Decision{Decision: RateLimited, Reasons: reasons("limit", "rule"), Policy: pol}, "", "limit"},
		{"budget", &event.Decision{Decision: Deny, Reasons: reasons("budget", "rule"), Policy: pol}, "", "budget"},
		{"session after a kill switch", &event.Decision{Decision: Deny, Reasons: reasons("session", "control", "rule"), Policy: pol}, "", "session"},
		{"kill switch then session", &event.Decision{Decision: Deny, Reasons: reasons("control", "session", "rule"), Policy: pol}, "", "session"},
		{"no active policy", &event.Decision{Decision: Deny, Reasons: reasons("error")}, "", "error"},
		{"nothing at all", &event.Decision{Decision: Deny}, "", SkipUnevaluated},
		{"unknown decision", &event.Decision{Decision: "maybe", Reasons: reasons("rule"), Policy: pol}, "", "decision:maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if effect, skip := RecordedEffect(tt.d); effect != tt.effect || skip != tt.skip {
				t.Errorf("RecordedEffect = %q, %q; want %q, %q", effect, skip, tt.effect, tt.skip)
			}
		})
	}
}

func TestReplayerCountsFlips(t *testing.T) {
	active, cand := compile(t, replayActive), compile(t, replayCandidate)
	pii := Finding{Category: "pii.email", Rule: "email", Severity: "low", Path: "/args/note"}
	cases := []struct {
		in       *Input
		redacted map[string]any
	}{
		{in: input("billing-1", "stripe.charges.create", "", map[string]any{"amount": int64(3000)})},  // allow, allow
		{in: input("billing-1", "stripe.charges.create", "", map[string]any{"amount": int64(8000)})},  // allow -> deny
		{in: input("billing-2", "stripe.charges.create", "", map[string]any{"amount": int64(20000)})}, // deny, deny
		{in: input("reader", "db.read", "", nil)},                                                     // allow -> deny (reads removed)
		{in: input("ops", "db.delete", "", nil)},                                                      // deny -> require_approval
		{in: input("ops", "db.write", "prod", map[string]any{"audit": false})},                        // allow -> deny
		{in: input("ops", "db.write", "staging", map[string]any{"audit": false})},                     // allow, allow
		{in: input("billing-1", "stripe.charges.create", "", map[string]any{"amount": int64(100), "note": "to a@b.example"}, pii),
			redacted: map[string]any{"amount": int64(100), "note": "to [REDACTED:pii.email]"}}, // require_approval -> deny
	}
	r := NewReplayer(cand, 0)
	var changed []int64
	for i, c := range cases {
		if r.Add(int64(i), "rcpt_"+string(rune('a'+i)), record(t, active, c.in, c.redacted), nil) {
			changed = append(changed, int64(i))
		}
	}
	limited := record(t, active, input("billing-1", "stripe.charges.create", "", map[string]any{"amount": int64(1)}), nil)
	limited.Decision = RateLimited
	limited.Reasons = append([]event.DecisionReason{{Code: "limit", Rule: "charges-rate"}}, limited.Reasons...)
	r.Add(100, "rcpt_limited", limited, nil)
	r.Add(101, "rcpt_killed", &event.Decision{Decision: Deny, Reasons: []event.DecisionReason{{Code: "control", Rule: "ks-1"}}}, nil)

	rep := r.Report()
	if want := []int64{1, 3, 4, 5, 7}; !slices.Equal(changed, want) {
		t.Errorf("Add reported changes at %v, want %v", changed, want)
	}
	counts := map[string][2]int{"decisions": {rep.Decisions, 10}, "compared": {rep.Compared, 8}, "skipped": {rep.Skipped, 2},
		"changed": {rep.Changed, 5}, "changed redacted": {rep.ChangedRedacted, 1}, "errors": {rep.Errors, 0}, "invalid": {rep.Invalid, 0}}
	for name, c := range counts {
		if c[0] != c[1] {
			t.Errorf("report %s = %d, want %d", name, c[0], c[1])
		}
	}
	maps := []struct {
		name      string
		got, want map[string]int
	}{
		{"SkippedBy", rep.SkippedBy, map[string]int{"limit": 1, "control": 1}},
		{"ByTransition", rep.ByTransition, map[string]int{"allow->deny": 3, "deny->require_approval": 1, "require_approval->deny": 1}},
		{"ByRule", rep.ByRule, map[string]int{"small-charges": 1, "reads": 1, "no-delete": 1, "no-prod-writes": 1, "scan:pii": 1}},
		{"ByAction", rep.ByAction, map[string]int{"stripe.charges.create": 2, "db.read": 1, "db.delete": 1, "db.write": 1}},
		{"ByAgent", rep.ByAgent, map[string]int{"billing-1": 2, "reader": 1, "ops": 2}},
	}
	for _, m := range maps {
		if !reflect.DeepEqual(m.got, m.want) {
			t.Errorf("report %s = %v, want %v", m.name, m.got, m.want)
		}
	}
	wantFlip := Flip{Seq: 7, ReceiptID: "rcpt_h", Agent: "billing-1", Action: "stripe.charges.create",
		From: RequireApproval, To: Deny, Rules: []string{"scan:pii"}, Redacted: true}
	if len(rep.Examples) != 5 || !reflect.DeepEqual(rep.Examples[4], wantFlip) {
		t.Errorf("report examples = %+v, want 5 ending with %+v", rep.Examples, wantFlip)
	}
}

func TestReplayerExamplesBounded(t *testing.T) {
	active := compile(t, "name: a\ndefault: allow\n")
	cand := compile(t, "name: a\ndefault: deny\n")
	rec := record(t, active, input("bot", "x.y", "", nil), nil)
	seqs := []int64{9, 4, 7, 1, 8, 3, 6, 2, 5, 0}
	whole, halves := NewReplayer(cand, 3), [2]*Replayer{NewReplayer(cand, 3), NewReplayer(cand, 3)}
	for i, s := range seqs {
		whole.Add(s, "", rec, nil)
		halves[i%2].Add(s, "", rec, nil)
	}
	rep := whole.Report()
	var got []int64
	for _, f := range rep.Examples {
		got = append(got, f.Seq)
	}
	if want := []int64{0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("examples seqs = %v, want %v", got, want)
	}
	if rep.Changed != len(seqs) || rep.ByRule[FlipByDefault] != len(seqs) {
		t.Errorf("Changed = %d, ByRule = %v; want %d flips by %s", rep.Changed, rep.ByRule, len(seqs), FlipByDefault)
	}
	halves[0].Merge(halves[1])
	if merged := halves[0].Report(); !reflect.DeepEqual(merged, rep) {
		t.Errorf("merged report = %+v, want %+v", merged, rep)
	}
	// A report is a copy.
	rep.ByRule["x"] = 1
	rep.Examples[0].Rules[0] = "changed"
	if again := whole.Report(); again.ByRule["x"] != 0 || again.Examples[0].Rules[0] != FlipByDefault {
		t.Errorf("changing a report changed the Replayer: %+v", again)
	}
}

// TestReplayRedactedArgs pins what a condition on a redacted value does:
// it sees the placeholder the ledger holds. A string test evaluates on
// the placeholder text (here it no longer matches, so the flip that a
// live request would show is missed); a numeric test on a placeholder
// fails, which the candidate decides as a deny with code error, counted
// in Errors. Either way the flip is marked Redacted.
func TestReplayRedactedArgs(t *testing.T) {
	active := compile(t, "name: m\ndefault: deny\nrules:\n  - {id: cards, match: {action: pay.card}, effect: allow}\n")
	cand := compile(t, `name: m
default: deny
rules:
  - {id: cards, match: {action: pay.card}, when: "args.card > 0", effect: allow}
  - {id: corp-mail, match: {action: email.send}, when: 'args.to.endsWith("@corp.example")', effect: allow}
`)
	r := NewReplayer(cand, 0)
	card := Finding{Category: "pii.credit_card", Rule: "card", Severity: "high", Path: "/args/card"}
	mail := Finding{Category: "pii.email", Rule: "email", Severity: "low", Path: "/args/to"}
	r.Add(1, "rcpt_card", record(t, active, input("bot", "pay.card", "", map[string]any{"card": int64(4111111111111111 % (1 << 53))}, card),
		map[string]any{"card": "[REDACTED:pii.credit_card]"}), nil)
	r.Add(2, "rcpt_mail", record(t, active, input("bot", "email.send", "", map[string]any{"to": "bob@corp.example"}, mail),
		map[string]any{"to": "[REDACTED:pii.email]"}), nil)
	rep := r.Report()
	if rep.Compared != 2 || rep.Changed != 1 || rep.Errors != 1 || rep.ChangedRedacted != 1 {
		t.Fatalf("report = %+v, want 2 compared, 1 changed (redacted), 1 error", rep)
	}
	if f := rep.Examples[0]; f.ReceiptID != "rcpt_card" || f.To != Deny || !slices.Equal(f.Rules, []string{FlipByError}) || !f.Redacted {
		t.Errorf("flip = %+v, want rcpt_card allow->deny by %s, redacted", f, FlipByError)
	}
	// Live, with the value, the candidate would have allowed the mail.
	if d := cand.Evaluate(input("bot", "email.send", "", map[string]any{"to": "bob@corp.example"})); d.Effect != Allow {
		t.Errorf("live Evaluate = %s, want allow", d.Effect)
	}
}

func TestReplayErrorsAreCounted(t *testing.T) {
	active := compile(t, "name: m\ndefault: allow\n")
	cand := compile(t, "name: m\ndefault: allow\nrules:\n  - {id: needs-x, effect: deny, when: args.x == 1}\n")
	r := NewReplayer(cand, 0)
	good := record(t, active, input("bot", "a.b", "", map[string]any{"x": int64(2)}), nil)
	missing := record(t, active, input("bot", "a.b", "", nil), nil)
	bad := record(t, active, input("bot", "a.b", "", nil), nil)
	bad.Context = map[string]string{"tenant": "other"}
	r.Add(1, "", missing, nil)
	r.Add(2, "", nil, nil)
	r.Add(3, "", bad, nil)
	r.Add(4, "", good, nil)
	rep := r.Report()
	if rep.Decisions != 4 || rep.Compared != 2 || rep.Errors != 1 || rep.Invalid != 2 || rep.Changed != 1 {
		t.Errorf("report = %+v, want 4 decisions, 2 compared, 1 error, 2 invalid, 1 changed", rep)
	}
}

func cloneDecision(d *Decision) *Decision {
	c := *d
	c.Rules, c.Reasons = slices.Clone(d.Rules), slices.Clone(d.Reasons)
	return &c
}

func TestShadowNeverChangesTheActiveDecision(t *testing.T) {
	active, cand := compile(t, replayActive), compile(t, replayCandidate)
	tests := []struct {
		name      string
		cand      *Policy
		in        *Input
		decision  string
		differs   bool
		errorCode bool
	}{
		{"same", cand, input("billing-1", "stripe.charges.create", "", map[string]any{"amount": int64(10)}), Allow, false, false},
		{"differs", cand, input("billing-1", "stripe.charges.create", "", map[string]any{"amount": int64(8000)}), Deny, true, false},
		{"condition fails", cand, input("ops", "db.write", "", nil), Deny, true, true},
		{"candidate panics", &Policy{}, input("reader", "db.read", "", nil), Deny, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := *tt.in.Request
			args := maps.Clone(tt.in.Request.Args)
			act := active.Evaluate(tt.in)
			before := cloneDecision(act)
			s := tt.cand.Shadow(tt.in, act)
			if s.Decision != tt.decision || s.Differs != tt.differs || (s.Reasons[0].Code == CodeError) != tt.errorCode {
				t.Errorf("Shadow = %s differs=%v %+v, want %s differs=%v", s.Decision, s.Differs, s.Reasons, tt.decision, tt.differs)
			}
			s.Reasons[0].Message = "changed"
			s.Candidate.Rules = append(s.Candidate.Rules[:0], "changed")
			if !reflect.DeepEqual(act, before) {
				t.Errorf("active decision after Shadow = %+v, want %+v", act, before)
			}
			if !reflect.DeepEqual(*tt.in.Request, req) || !reflect.DeepEqual(tt.in.Request.Args, args) {
				t.Errorf("Shadow changed its input: %+v", tt.in.Request)
			}
		})
	}
	var none *Policy
	if s := none.Shadow(input("a", "b.c", "", nil), nil); s != nil {
		t.Errorf("Shadow without a candidate = %+v, want nil", s)
	}
}

func TestShadowAnswerAndTally(t *testing.T) {
	active, cand := compile(t, replayActive), compile(t, replayCandidate)
	in := input("reader", "db.read", "", nil)
	act := active.Evaluate(in)
	s := cand.Shadow(in, act)
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"decision":"deny","reasons":[{"code":"default","message":"no rule applies: the policy's default is deny"}],"differs":true}`; string(raw) != want {
		t.Errorf("shadow JSON = %s, want %s", raw, want)
	}
	live, replay := NewReplayer(cand, 0), NewReplayer(cand, 0)
	live.AddShadow(5, "rcpt_x", in, act, s)
	replay.Add(5, "rcpt_x", record(t, active, in, nil), nil)
	if l, r := live.Report(), replay.Report(); !reflect.DeepEqual(l, r) {
		t.Errorf("shadow tally = %+v, replay tally = %+v; want equal", l, r)
	}
	if got := live.Report().ByRule; !reflect.DeepEqual(got, map[string]int{"reads": 1}) {
		t.Errorf("ByRule = %v, want reads: 1", got)
	}
}

// FuzzReplay feeds decision bodies of any shape to a Replayer: nothing
// may panic, and every decision is counted exactly once.
func FuzzReplay(f *testing.F) {
	for _, seed := range []string{
		`{"principal":{"id":"billing-1","type":"agent"},"action":{"type":"stripe.charges.create"},"args":{"amount":8000},"decision":"allow","reasons":[{"code":"rule","rule":"small-charges","message":"m"}],"rules":["small-charges"],"policy":{"name":"shop","version":1,"digest":"d"},"scan_complete":true}`,
		`{"principal":{"id":"ops","type":"agent","attributes":{"n":1.5}},"action":{"type":"db.write"},"args":{"a":[1,{"b":null}]},"context":{"environment":"prod"},"decision":"rate_limited","reasons":[{"code":"limit","message":"m"},{"code":"rule","rule":"writes","message":"m"}],"policy":{"name":"shop","version":1,"digest":"d"},"scan_complete":false}`,
		`{"principal":{"id":"x","type":"agent"},"action":{"type":"a.b"},"args":{},"decision":"deny","reasons":[{"code":"control","message":"m"}],"scan_complete":true}`,
		`{"principal":{"id":"x","type":"agent"},"action":{"type":"a.b"},"args":{"to":"[REDACTED:pii.email]"},"context":{"tenant":"t"},"decision":"deny","reasons":[],"findings":[{"category":"pii.email","rule":"email","severity":"low","path":"/args/to","start":0,"end":3}],"policy":{"name":"shop","version":1,"digest":"d"},"scan_complete":true}`,
	} {
		f.Add([]byte(seed))
	}
	cand, err := ParseAndCompile([]byte(replayCandidate))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := event.Decode(event.KindDecision, body)
		if err != nil {
			return
		}
		r := NewReplayer(cand, 2)
		r.Add(1, "rcpt_1", v.(*event.Decision), nil)
		rep := r.Report()
		if rep.Decisions != 1 || rep.Compared+rep.Skipped+rep.Invalid != 1 || rep.Changed > rep.Compared || len(rep.Examples) != rep.Changed {
			t.Errorf("report of one decision = %+v", rep)
		}
	})
}
