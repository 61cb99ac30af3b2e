package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const casesPolicy = `name: payments
default: deny
rules:
  - id: small-charges
    match: {action: stripe.charges.create}
    when: args.amount <= 10000
    effect: allow
  - id: charges-logged
    match: {action: stripe.charges.create}
    when: args.amount > 0
    effect: allow
  - id: large-charges
    match: {action: stripe.charges.create}
    when: args.amount > 10000
    effect: require_approval
    approval: {groups: [finance], count: 1, expires: 1h}
  - id: refunds
    match: {action: stripe.refunds.create}
    effect: deny
  - id: never-used
    match: {action: stripe.payouts.create}
    effect: deny
scan:
  deny: [secret]
  require_approval: [pii]
`

const goodCases = `# a comment
cases:
  - name: small charge
    request: {principal: {id: billing-bot, type: agent}, action: {type: stripe.charges.create}, args: {amount: 500, currency: usd, rate: 0.5, tags: [a, 2], when: 2024-01-01}}
    expect: {decision: allow, rules: [charges-logged, small-charges], code: rule}
  - name: large charge
    request:
      principal: {id: billing-bot, type: agent, attributes: {team: payments}}
      action: {type: stripe.charges.create, resource: "stripe://customers/cus_1"}
      args: {amount: 20000}
      context: {session_id: s-1, environment: production}
    findings: [{category: pii.email, severity: low, rule: email, confidence: 0.9, path: /args/note}]
    scan_incomplete: true
    expect: {decision: require_approval}
  - name: nothing applies
    request: {principal: {id: x, type: user}, action: {type: other}}
    expect: {decision: deny, rules: [], code: default}
`

func TestParseCases(t *testing.T) {
	cases, err := ParseCases([]byte(goodCases))
	if err != nil {
		t.Fatalf("ParseCases = %v, want nil", err)
	}
	if len(cases) != 3 {
		t.Fatalf("ParseCases gave %d cases, want 3", len(cases))
	}
	c0, c1, c2 := cases[0], cases[1], cases[2]
	if c0.Name != "small charge" || c0.Line != 3 || c1.Line != 6 || c2.Line != 15 {
		t.Errorf("names and lines = %q %d, %d, %d; want \"small charge\" 3, 6, 15", c0.Name, c0.Line, c1.Line, c2.Line)
	}
	wantArgs := map[string]any{"amount": int64(500), "currency": "usd", "rate": 0.5, "tags": []any{"a", int64(2)}, "when": "2024-01-01"}
	if !reflect.DeepEqual(c0.Request.Args, wantArgs) {
		t.Errorf("args = %#v, want %#v (numbers as DecodeRequest gives them)", c0.Request.Args, wantArgs)
	}
	if !reflect.DeepEqual(c0.Request.Principal, Principal{ID: "billing-bot", Type: "agent", Attributes: map[string]any{}}) {
		t.Errorf("principal = %#v", c0.Request.Principal)
	}
	if !reflect.DeepEqual(c0.Expect, Expectation{Decision: Allow, Rules: []string{"charges-logged", "small-charges"}, Code: CodeRule}) {
		t.Errorf("expect = %#v", c0.Expect)
	}
	if c1.Request.Context.Environment != "production" || c1.Request.Action.Resource != "stripe://customers/cus_1" ||
		c1.Request.Principal.Attributes["team"] != "payments" || !c1.ScanIncomplete {
		t.Errorf("large charge = %#v", c1)
	}
	if want := []Finding{{Category: "pii.email", Rule: "email", Severity: "low", Confidence: 0.9, Path: "/args/note"}}; !reflect.DeepEqual(c1.Findings, want) {
		t.Errorf("findings = %#v, want %#v", c1.Findings, want)
	}
	if c1.Expect.Rules != nil || c1.Expect.Code != "" {
		t.Errorf("expect without rules and code = %#v, want both unchecked (nil, empty)", c1.Expect)
	}
	if c2.Expect.Rules == nil || len(c2.Expect.Rules) != 0 {
		t.Errorf("expect rules: [] = %#v, want an empty, non-nil list", c2.Expect.Rules)
	}
}

func TestParseCasesRejects(t *testing.T) {
	one := func(request, rest string) string {
		return "cases:\n  - name: a\n    request: " + request + "\n" + rest + "    expect: {decision: allow}\n"
	}
	const req = "{principal: {id: p, type: agent}, action: {type: x.y}}"
	tests := []struct{ name, doc, want string }{
		{"empty", "", "empty document"},
		{"two documents", "cases: []\n---\ncases: []\n", "line 2: more than one document"},
		{"not YAML", "cases: [\n", "line"},
		{"no cases", "cases: []\n", "line 1, column 8: cases: no cases"},
		{"no cases key", "{}\n", "no cases"},
		{"unknown top-level field", "cases: []\npolicy: x\n", "line 2: field policy not found"},
		{"unknown case field", one(req, "    effect: allow\n"), "line 4: field effect not found"},
		{"unknown expect field", "cases:\n  - name: a\n    request: " + req + "\n    expect: {decision: allow, reason: x}\n", "line 4: field reason not found"},
		{"unknown finding field", one(req, "    findings: [{category: pii, severity: low, score: 1}]\n"), "field score not found"},
		{"duplicate key", "cases:\n  - name: a\n    name: b\n", "line 3"},
		{"wrong type", one(req, "    scan_incomplete: maybe\n"), "line 4"},
		{"missing name", "cases:\n  - request: " + req + "\n    expect: {decision: allow}\n", "line 2, column 5: cases[0].name: name is required"},
		{"repeated name", "cases:\n  - {name: a, request: " + req + ", expect: {decision: allow}}\n  - {name: a, request: " + req + ", expect: {decision: deny}}\n",
			`line 3, column 12: cases[1].name: case "a": repeats the name of cases[0]`},
		{"missing request", "cases:\n  - name: a\n    expect: {decision: allow}\n", `line 2, column 5: cases[0].request: case "a": request is required`},
		{"request not a mapping", one("[1]", ""), "line 3, column 14: cases[0].request: case \"a\": request must be a mapping"},
		{"missing expect", "cases:\n  - name: a\n    request: " + req + "\n", `cases[0]: case "a": expect is required`},
		{"bad decision", "cases:\n  - name: a\n    request: " + req + "\n    expect: {decision: permit}\n", `line 4, column 24: cases[0].expect.decision: case "a": decision "permit"`},
		{"bad code", "cases:\n  - name: a\n    request: " + req + "\n    expect: {decision: allow, code: limit}\n", `code "limit" must be`},
		{"rule listed twice", "cases:\n  - name: a\n    request: " + req + "\n    expect: {decision: allow, rules: [r, r]}\n", `expect.rules[1]: case "a": rule id "r" is listed twice`},
		{"bad rule id", "cases:\n  - name: a\n    request: " + req + "\n    expect: {decision: allow, rules: ['r s']}\n", `rule id "r s" must match`},
		{"bad severity", one(req, "    findings: [{category: pii, severity: severe}]\n"), `findings[0].severity: case "a": severity "severe"`},
		{"missing severity", one(req, "    findings: [{category: secret}]\n"), `severity ""`},
		{"bad category", one(req, "    findings: [{category: PII, severity: low}]\n"), `category "PII"`},
		{"bad confidence", one(req, "    findings: [{category: pii, severity: low, confidence: 2}]\n"), "confidence 2"},
		// Requests are held to what POST /v1/evaluate accepts.
		{"unknown request field", one("{principal: {id: p, type: agent}, action: {type: x.y}, extra: 1}", ""), `line 3, column 14: cases[0].request: case "a": POST /v1/evaluate would refuse this request: json: unknown field "extra"`},
		{"unknown principal field", one("{principal: {id: p, type: agent, team: x}, action: {type: x.y}}", ""), `unknown field "team"`},
		{"bad principal type", one("{principal: {id: p, type: robot}, action: {type: x.y}}", ""), `principal.type "robot" must be agent, user or service`},
		{"missing principal", one("{action: {type: x.y}}", ""), "principal.id is required"},
		{"upper-case action", one("{principal: {id: p, type: agent}, action: {type: Stripe.Charge}}", ""), "action.type"},
		{"args not an object", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: [1]}", ""), "args must be an object"},
		{"authorization", one("{principal: {id: p, type: agent}, action: {type: x.y}, authorization: tok}", ""), "authorization is not part of a policy decision"},
		{"integer beyond 2^53", "cases:\n  - name: a\n    request:\n      principal: {id: p, type: agent}\n      action: {type: x.y}\n      args: {n: 1, m: 9007199254740993}\n    expect: {decision: allow}\n",
			"line 6, column 23: cases[0].request: case \"a\": args.m: integer 9007199254740993 is outside ±2^53"},
		{"too precise decimal", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {n: 0.12345678901234567}}", ""), "more precision than a float64"},
		{"hexadecimal", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {n: 0x10}}", ""), "args.n: number 0x10 is not written as JSON writes numbers"},
		{"underscored", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {n: 1_000}}", ""), "number 1_000"},
		{"infinity", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {n: .inf}}", ""), "number .inf"},
		{"number in a list", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {l: [1, 0o7]}}", ""), "args.l[1]: number 0o7"},
		{"alias", "cases:\n  - name: a\n    request:\n      principal: &p {id: p, type: agent}\n      action: {type: x.y}\n      args: {who: *p}\n    expect: {decision: allow}\n", "line 6, column 19: cases[0].request: case \"a\": args.who: aliases are not allowed"},
		{"binary", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {b: !!binary aGk=}}", ""), "tagged !!binary"},
		{"custom tag", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {b: !secret x}}", ""), "tagged !secret"},
		{"repeated request key", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {n: 1, n: 2}}", ""), "line 3"},
		{"null key", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: {~: 1}}", ""), "a key must be a string"},
		{"too deep", one("{principal: {id: p, type: agent}, action: {type: x.y}, args: "+strings.Repeat("{a: ", MaxDepth+1)+"1"+strings.Repeat("}", MaxDepth+1)+"}", ""), "nested deeper than 32 levels"},
		{"every problem is reported", "cases:\n  - {name: a, expect: {decision: x}}\n  - {name: a, expect: {decision: y}}\n",
			`cases[0].request: case "a": request is required; line 2, column 34: cases[0].expect.decision`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cases, err := ParseCases([]byte(tt.doc))
			if !errors.Is(err, ErrInvalidCases) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseCases = %d cases, %v\nwant ErrInvalidCases containing %q", len(cases), err, tt.want)
			}
		})
	}
}

func TestParseCasesSizeLimit(t *testing.T) {
	big := "cases: []\n#" + strings.Repeat("x", MaxCaseFileSize)
	if _, err := ParseCases([]byte(big)); !errors.Is(err, ErrInvalidCases) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("ParseCases(%d bytes) = %v, want ErrInvalidCases naming the limit", len(big), err)
	}
}

func TestRunCases(t *testing.T) {
	p, err := ParseAndCompile([]byte(casesPolicy))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v", err)
	}
	const principal = "principal: {id: billing-bot, type: agent}"
	charge := func(amount string) string {
		return "{" + principal + ", action: {type: stripe.charges.create}, args: {amount: " + amount + "}}"
	}
	tests := []struct {
		name, request, extra, expect string
		pass                         bool
		got                          CaseOutcome
		hasError                     bool
	}{
		{"rules in another order pass", charge("500"), "", "{decision: allow, rules: [small-charges, charges-logged], code: rule}", true,
			CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"decision alone", charge("500"), "", "{decision: allow}", true, CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"wrong decision", charge("500"), "", "{decision: deny}", false, CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"a missing rule fails", charge("500"), "", "{decision: allow, rules: [small-charges]}", false, CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"an extra rule fails", charge("500"), "", "{decision: allow, rules: [small-charges, charges-logged, refunds]}", false, CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"an unknown rule fails", charge("500"), "", "{decision: allow, rules: [small-charges, no-such-rule]}", false, CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"no rules expected but some applied", charge("500"), "", "{decision: allow, rules: []}", false, CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"wrong code", charge("500"), "", "{decision: allow, code: default}", false, CaseOutcome{Allow, []string{"small-charges", "charges-logged"}, CodeRule}, false},
		{"approval from a rule", charge("20000"), "", "{decision: require_approval, rules: [charges-logged, large-charges], code: rule}", true,
			CaseOutcome{RequireApproval, []string{"charges-logged", "large-charges"}, CodeRule}, false},
		{"default", "{" + principal + ", action: {type: other}}", "", "{decision: deny, rules: [], code: default}", true, CaseOutcome{Deny, []string{}, CodeDefault}, false},
		{"scan makes an allow an approval", charge("500"), "    findings: [{category: pii.email, severity: low}]\n", "{decision: require_approval, code: scan}", true,
			CaseOutcome{RequireApproval, []string{"small-charges", "charges-logged"}, CodeScan}, false},
		{"incomplete scan denies", charge("500"), "    scan_incomplete: true\n", "{decision: deny, code: scan}", true,
			CaseOutcome{Deny, []string{"small-charges", "charges-logged"}, CodeScan}, false},
		{"a deny rule and a secret: the rule decided", "{" + principal + ", action: {type: stripe.refunds.create}}", "    findings: [{category: secret.aws, severity: high}]\n",
			"{decision: deny, rules: [refunds], code: rule}", true, CaseOutcome{Deny, []string{"refunds"}, CodeRule}, false},
		{"a default deny and a secret: the default decided", "{" + principal + ", action: {type: other}}", "    findings: [{category: secret, severity: high}]\n",
			"{decision: deny, code: default}", true, CaseOutcome{Deny, []string{}, CodeDefault}, false},
		{"an evaluation error", "{" + principal + ", action: {type: stripe.charges.create}, args: {amount: usd}}", "", "{decision: deny, rules: [], code: error}", true,
			CaseOutcome{Deny, []string{}, CodeError}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "cases:\n  - name: c\n    request: " + tt.request + "\n" + tt.extra + "    expect: " + tt.expect + "\n"
			cases, err := ParseCases([]byte(doc))
			if err != nil {
				t.Fatalf("ParseCases = %v", err)
			}
			rep := RunCases(p, cases)
			if len(rep.Results) != 1 {
				t.Fatalf("RunCases gave %d results, want 1", len(rep.Results))
			}
			r := rep.Results[0]
			if r.Pass != tt.pass || !reflect.DeepEqual(r.Got, tt.got) || (r.Error != "") != tt.hasError {
				t.Errorf("RunCases = pass %v, got %s (error %q); want pass %v, got %s (error: %v)", r.Pass, r.Got, r.Error, tt.pass, tt.got, tt.hasError)
			}
			if wantPassed := map[bool]int{true: 1}[tt.pass]; rep.Passed != wantPassed || rep.Failed != 1-wantPassed {
				t.Errorf("RunCases counts = %d passed, %d failed; want %d, %d", rep.Passed, rep.Failed, wantPassed, 1-wantPassed)
			}
		})
	}
}

func TestRunCasesReport(t *testing.T) {
	p, err := ParseAndCompile([]byte(casesPolicy))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v", err)
	}
	cases, err := ParseCases([]byte(goodCases))
	if err != nil {
		t.Fatalf("ParseCases = %v", err)
	}
	rep := RunCases(p, cases)
	// The large charge asks for approval, but its incomplete scan denies.
	if rep.Policy != "payments" || rep.Digest != p.Digest || rep.Passed != 2 || rep.Failed != 1 || rep.Results[1].Pass {
		t.Errorf("RunCases = %s %d passed, %d failed, results %+v; want payments, 2 passed, the large charge failed", rep.Policy, rep.Passed, rep.Failed, rep.Results)
	}
	if want := []string{"refunds", "never-used"}; !reflect.DeepEqual(rep.Unexercised, want) {
		t.Errorf("Unexercised = %v, want %v (document order; a failing case's rules count)", rep.Unexercised, want)
	}
	if got, want := rep.Results[1].Want.String(), "require_approval"; got != want {
		t.Errorf("Want.String() = %q, want %q", got, want)
	}
	if got, want := rep.Results[1].Got.String(), "deny rules [charges-logged, large-charges] code scan"; got != want {
		t.Errorf("Got.String() = %q, want %q", got, want)
	}
	if got, want := cases[0].Expect.String(), "allow rules [charges-logged, small-charges] code rule"; got != want {
		t.Errorf("Expect.String() = %q, want %q", got, want)
	}

	// Every rule exercised: an empty list, never null, in JSON.
	all := RunCases(p, append(cases[:3:3], mustCases(t, `cases:
  - {name: refund, request: {principal: {id: a, type: agent}, action: {type: stripe.refunds.create}}, expect: {decision: deny}}
  - {name: payout, request: {principal: {id: a, type: agent}, action: {type: stripe.payouts.create}}, expect: {decision: deny}}
`)...))
	out, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"unexercised":[]`) || !strings.Contains(string(out), `"passed":4,"failed":1`) {
		t.Errorf("report JSON = %s, want unexercised [] and 4 passed, 1 failed", out)
	}
}

func mustCases(t *testing.T, doc string) []Case {
	t.Helper()
	cases, err := ParseCases([]byte(doc))
	if err != nil {
		t.Fatalf("ParseCases = %v", err)
	}
	return cases
}

// The request a case holds is the one the server would decode from the
// same request written as JSON.
func TestCaseRequestMatchesDecodeRequest(t *testing.T) {
	const asJSON = `{"principal": {"id": "p", "type": "service", "attributes": {"n": 3, "tags": ["a"]}},
		"action": {"type": "sql.query", "resource": "db://x", "operation": "read"},
		"args": {"sql": "select 1", "limit": 100, "ratio": 2.5e-3, "neg": -7, "null": null, "ok": true, "nested": {"a": [1, {"b": "c"}]}},
		"context": {"session_id": "s", "trace_id": "t", "parent_receipt_id": "r", "environment": "prod"}}`
	want, err := DecodeRequest([]byte(asJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, spelling := range []string{
		asJSON, // JSON is YAML
		`{principal: {id: p, type: service, attributes: {n: 3, tags: [a]}},
		  action: {type: sql.query, resource: "db://x", operation: read},
		  args: {sql: select 1, limit: 100, ratio: 2.5e-3, neg: -7, "null": ~, ok: true, nested: {a: [1, {b: c}]}},
		  context: {session_id: s, trace_id: t, parent_receipt_id: r, environment: prod}}`,
	} {
		doc := "cases:\n  - name: a\n    expect: {decision: allow}\n    request: " + strings.ReplaceAll(spelling, "\n", " ") + "\n"
		cases, err := ParseCases([]byte(doc))
		if err != nil {
			t.Fatalf("ParseCases(%s) = %v", spelling, err)
		}
		if !reflect.DeepEqual(cases[0].Request, want.Request) {
			t.Errorf("case request = %#v\nwant %#v", cases[0].Request, want.Request)
		}
	}
}

// FuzzParseCases checks that no case file makes the parser panic, that an
// accepted file's names are unique, and that running it never panics.
func FuzzParseCases(f *testing.F) {
	f.Add([]byte(goodCases))
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "policies", "*.cases.yaml"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	p, err := ParseAndCompile([]byte(casesPolicy))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := ParseCases(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidCases) {
				t.Fatalf("ParseCases = %v, want ErrInvalidCases", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range cases {
			if c.Name == "" || seen[c.Name] {
				t.Fatalf("accepted case name %q is empty or repeated", c.Name)
			}
			seen[c.Name] = true
		}
		rep := RunCases(p, cases)
		if rep.Passed+rep.Failed != len(cases) {
			t.Fatalf("RunCases counted %d+%d, want %d cases", rep.Passed, rep.Failed, len(cases))
		}
	})
}
