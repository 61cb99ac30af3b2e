package policy

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const examplePolicy = `name: payments
default: deny
rules:
  - id: small-charges
    match: {action: "stripe.charges.create", agent: "billing-*"}
    when: args.amount <= 10000 && args.currency == "usd"
    effect: allow
  - id: no-recursive-delete
    match: {action: "shell.*"}
    when: args.command.matches("rm\\s+-[a-zA-Z]*r")
    effect: deny
scan:
  deny: [injection>=high, secret]
  require_approval: [pii]
`

func TestEvaluateExample(t *testing.T) {
	p, err := ParseAndCompile([]byte(examplePolicy))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v, want nil", err)
	}
	tests := []struct {
		name     string
		in       Input
		effect   string
		rules    string
		code     string
		hasError bool
	}{
		{"allowed charge", Input{Request: &Request{Principal: Principal{ID: "billing-bot"}, Action: Action{Type: "stripe.charges.create"},
			Args: map[string]any{"amount": int64(1200), "currency": "usd"}}}, Allow, "small-charges", CodeRule, false},
		{"decimal amount compares with an int", Input{Request: &Request{Principal: Principal{ID: "billing-bot"}, Action: Action{Type: "stripe.charges.create"},
			Args: map[string]any{"amount": 99.5, "currency": "usd"}}}, Allow, "small-charges", CodeRule, false},
		{"too large falls to the default", Input{Request: &Request{Principal: Principal{ID: "billing-bot"}, Action: Action{Type: "stripe.charges.create"},
			Args: map[string]any{"amount": int64(20000), "currency": "usd"}}}, Deny, "", CodeDefault, false},
		{"other agent", Input{Request: &Request{Principal: Principal{ID: "support-bot"}, Action: Action{Type: "stripe.charges.create"},
			Args: map[string]any{"amount": int64(1), "currency": "usd"}}}, Deny, "", CodeDefault, false},
		{"recursive delete", Input{Request: &Request{Action: Action{Type: "shell.exec"}, Args: map[string]any{"command": "rm -rf /"}}}, Deny, "no-recursive-delete", CodeRule, false},
		{"missing argument fails closed", Input{Request: &Request{Action: Action{Type: "shell.exec"}}}, Deny, "", CodeError, true},
		{"secret finding denies an allowed charge", Input{Request: &Request{Principal: Principal{ID: "billing-bot"}, Action: Action{Type: "stripe.charges.create"},
			Args: map[string]any{"amount": int64(1), "currency": "usd"}}, Findings: []Finding{{Category: "secret.aws-access-token", Severity: "high"}}}, Deny, "small-charges", CodeScan, false},
		{"pii needs approval", Input{Request: &Request{Principal: Principal{ID: "billing-bot"}, Action: Action{Type: "stripe.charges.create"},
			Args: map[string]any{"amount": int64(1), "currency": "usd"}}, Findings: []Finding{{Category: "pii.email", Severity: "low"}}}, RequireApproval, "small-charges", CodeScan, false},
		{"low injection is below the mapping", Input{Request: &Request{Action: Action{Type: "files.read"}},
			Findings: []Finding{{Category: "injection", Severity: "medium"}}}, Deny, "", CodeDefault, false},
		{"incomplete scan denies", Input{Request: &Request{Principal: Principal{ID: "billing-bot"}, Action: Action{Type: "stripe.charges.create"},
			Args: map[string]any{"amount": int64(1), "currency": "usd"}}, ScanIncomplete: true}, Deny, "small-charges", CodeScan, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(&tt.in)
			if d.Effect != tt.effect || strings.Join(d.Rules, ",") != tt.rules || d.Reasons[0].Code != tt.code || (d.Err != nil) != tt.hasError {
				t.Errorf("Evaluate = %s %v %+v (err %v), want %s [%s] code %s", d.Effect, d.Rules, d.Reasons, d.Err, tt.effect, tt.rules, tt.code)
			}
		})
	}
}

func TestCompileErrorsHaveLines(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"bad CEL", "name: x\nrules:\n  - id: a\n    effect: allow\n    when: args.x +\n", "line 5, column"},
		{"not boolean", "name: x\nrules:\n  - id: a\n    effect: allow\n    when: args.x\n", "must be boolean"},
		{"duplicate id", "name: x\nrules:\n  - id: a\n    effect: allow\n  - id: a\n    effect: deny\n", "line 5, column 9: rules[1].id: duplicate"},
		{"unknown field", "name: x\nfoo: 1\n", "line 2: field foo not found"},
		{"duplicate key", "name: x\nname: y\n", "line 2"},
		{"reserved glob", "name: x\nrules:\n  - id: a\n    effect: allow\n    match: {action: 'a[b]'}\n", "reserved character"},
		{"bad effect", "name: x\nrules:\n  - id: a\n    effect: permit\n", `line 4, column 13: rules[0].effect: effect "permit"`},
		{"bad scan selector", "name: x\nscan:\n  deny: [injection>=huge]\n", "severity"},
		{"bad rate", "name: x\nlimits:\n  - {id: r, per: agent, rate: 5/week}\n", "rate"},
		{"two documents", "name: x\n---\nname: y\n", "more than one document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAndCompile([]byte(tt.doc))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseAndCompile = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestDigestIgnoresSpelling(t *testing.T) {
	a, err := ParseAndCompile([]byte("name: x\nrules: [{id: a, effect: allow}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseAndCompile([]byte(`{"rules": [{"effect": "allow", "id": "a"}], "name": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseAndCompile([]byte("name: x\nrules: [{id: a, effect: deny}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest || a.Digest == c.Digest || len(a.Digest) != 64 {
		t.Errorf("digests: yaml %s, json %s, changed %s; want the first two equal and the third different", a.Digest, b.Digest, c.Digest)
	}
}

// A condition that cel-go prices too low (concatenating dynamically typed
// strings) still cannot run long: the evaluation's deadline stops it and
// the decision is a deny with code error.
func TestConditionDeadline(t *testing.T) {
	idx := make([]string, 64)
	for i := range idx {
		idx[i] = strconv.Itoa(i)
	}
	list := "[" + strings.Join(idx, ",") + "]"
	doc := "name: slow\nrules:\n  - id: slow\n    effect: allow\n    when: '" + list + ".all(i, " + list +
		".all(j, size(args.blob + args.blob) > 0))'\n"
	p, err := ParseAndCompile([]byte(doc))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v", err)
	}
	blob := strings.Repeat("x", 1<<20)
	d := p.Evaluate(&Input{Request: &Request{Action: Action{Type: "a"}, Args: map[string]any{"blob": blob}}})
	if d.Effect != Deny || d.Err == nil || d.Reasons[0].Code != CodeError || !strings.Contains(d.Err.Error(), "interrupted") {
		t.Fatalf("Evaluate(slow condition) = %s %+v (err %v), want deny with code error", d.Effect, d.Reasons, d.Err)
	}
}

// WithConditionTimeout sets the backstop of a copy and leaves the
// original's alone. A timeout already expired interrupts a condition that
// runs long enough for cel-go to look (1,000 comprehension steps).
func TestWithConditionTimeout(t *testing.T) {
	p, err := ParseAndCompile([]byte(`name: t
rules:
  - id: loops
    effect: allow
    when: "[0,1,2,3,4,5,6,7,8,9].map(a, [0,1,2,3,4,5,6,7,8,9].map(b, [0,1,2,3,4,5,6,7,8,9].map(c, a + b + c))).size() == 10"
`))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v", err)
	}
	long := p.WithConditionTimeout(time.Minute)
	short := long.WithConditionTimeout(time.Nanosecond)
	in := &Input{Request: &Request{Action: Action{Type: "a"}}}
	if d := short.Evaluate(in); d.Effect != Deny || d.Err == nil || !strings.Contains(d.Err.Error(), "interrupted") {
		t.Errorf("Evaluate with a 1ns timeout = %s (err %v), want deny, interrupted", d.Effect, d.Err)
	}
	if d := long.Evaluate(in); d.Effect != Allow || d.Err != nil {
		t.Errorf("Evaluate with a minute, after a copy was shortened = %s (err %v), want allow", d.Effect, d.Err)
	}
	if p.timeout != DefaultConditionTimeout {
		t.Errorf("compiled policy's timeout = %v, want DefaultConditionTimeout", p.timeout)
	}
}

func TestDecidingReasonFirst(t *testing.T) {
	p, err := ParseAndCompile([]byte(`name: order
default: allow
rules:
  - {id: a-allow, match: {action: "pay.*"}, effect: allow}
  - {id: b-approve, match: {action: "pay.*"}, effect: require_approval}
  - {id: c-deny, match: {action: "pay.send"}, effect: deny}
  - {id: d-allow, match: {action: "pay.send"}, effect: allow}
scan:
  require_approval: [pii]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		action   string
		findings []Finding
		want     string // rule of each reason, in order
	}{
		{"deny first, then the rest in document order", "pay.send", nil, "c-deny a-allow b-approve d-allow"},
		{"approval first", "pay.refund", nil, "b-approve a-allow"},
		{"scan approval joins the deciding group in order", "pay.refund", []Finding{{Category: "pii.email", Severity: "low"}}, "b-approve pii a-allow"},
		{"scan over the default comes first", "other", []Finding{{Category: "pii", Severity: "low"}}, "pii "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Evaluate(&Input{Request: &Request{Action: Action{Type: tc.action}}, Findings: tc.findings})
			var got []string
			for _, r := range d.Reasons {
				got = append(got, r.Rule)
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Fatalf("Evaluate(%s) reasons by rule = %q, want %q (effect %s)", tc.action, s, tc.want, d.Effect)
			}
		})
	}
}
