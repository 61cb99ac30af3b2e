package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const policyTestPolicy = `name: payments
rules:
  - id: small-charges
    description: charges up to 100.00
    match: {action: stripe.charges.create}
    when: args.amount <= 10000
    effect: allow
  - id: no-payouts
    description: payouts leave the platform
    match: {action: stripe.payouts.create}
    effect: deny
scan:
  deny: [secret]
`

// warden policy test, offline, against files written here and against
// a starting policy from policies/.
func TestE2EPolicyTest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pol := write("payments.yaml", policyTestPolicy)
	passing := write("pass.cases.yaml", `cases:
  - name: small charge
    request: {principal: {id: billing-bot, type: agent}, action: {type: stripe.charges.create}, args: {amount: 500}}
    expect: {decision: allow, rules: [small-charges], code: rule}
  - name: large charge
    request: {principal: {id: billing-bot, type: agent}, action: {type: stripe.charges.create}, args: {amount: 50000}}
    expect: {decision: deny, rules: [], code: default}
`)
	failing := write("fail.cases.yaml", `cases:
  - name: small charge
    request: {principal: {id: billing-bot, type: agent}, action: {type: stripe.charges.create}, args: {amount: 500}}
    expect: {decision: allow}
  - name: a secret in a small charge
    request: {principal: {id: billing-bot, type: agent}, action: {type: stripe.charges.create}, args: {amount: 500, note: x}}
    findings: [{category: secret.stripe, severity: high}]
    expect: {decision: allow, rules: [small-charges]}
`)
	invalidCases := write("invalid.cases.yaml", `cases:
  - name: bad principal
    request: {principal: {id: billing-bot, type: robot}, action: {type: stripe.charges.create}}
    expect: {decision: allow}
`)
	invalidPolicy := write("invalid.yaml", "name: x\nrules:\n  - id: a\n    effect: alow\n")
	missing := filepath.Join(dir, "missing.yaml")

	tests := []struct {
		name string
		args []string
		code int
		// stdout must contain every want and none of the wantNot.
		want, wantNot []string
	}{
		{"every case passes", []string{pol, "--cases", passing}, 0,
			[]string{"2 passed, 0 failed\n", "rules no case exercised: no-payouts\n"}, []string{"FAIL"}},
		{"a wrong expectation names the case", []string{pol, "--cases", failing}, 1,
			[]string{`FAIL ` + failing + `:5 "a secret in a small charge": want allow rules [small-charges], got deny rules [small-charges] code scan`,
				"1 passed, 1 failed\n", "rules no case exercised: no-payouts\n"}, []string{`"small charge"`}},
		{"a request the server would refuse", []string{pol, "--cases", invalidCases}, 1,
			[]string{invalidCases + `: line 3, column 14: cases[0].request: case "bad principal": POST /v1/evaluate would refuse this request: principal.type "robot"`}, nil},
		{"an invalid policy", []string{invalidPolicy, "--cases", passing}, 1, []string{invalidPolicy + ": line 4, column 13: rules[0].effect"}, nil},
		{"a missing policy", []string{missing, "--cases", passing}, 2, nil, nil},
		{"a missing case file", []string{pol, "--cases", missing}, 2, nil, nil},
		{"no case file", []string{pol}, 2, nil, nil},
		{"both from standard input", []string{"-", "--cases", "-"}, 2, nil, nil},
		{"a starting policy passes its cases", []string{filepath.Join("..", "..", "policies", "payments.yaml"),
			"--cases", filepath.Join("..", "..", "policies", "payments.cases.yaml")}, 0,
			[]string{" passed, 0 failed\n", "rules no case exercised: none\n"}, []string{"FAIL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := warden(t, append([]string{"policy", "test"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("warden policy test %s = %s\nwant exit %d", strings.Join(tt.args, " "), r, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("warden policy test %s = %s\nwant stdout containing %q", strings.Join(tt.args, " "), r, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(r.stdout, w) {
					t.Errorf("warden policy test %s = %s\nwant stdout without %q", strings.Join(tt.args, " "), r, w)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		r := warden(t, "policy", "test", pol, "--cases", failing, "--json")
		if r.code != 1 {
			t.Fatalf("warden policy test --json = %s\nwant exit 1", r)
		}
		var rep struct {
			File      string `json:"file"`
			CasesFile string `json:"cases_file"`
			Policy    string `json:"policy"`
			Digest    string `json:"digest"`
			Passed    int    `json:"passed"`
			Failed    int    `json:"failed"`
			Cases     []struct {
				Name string `json:"name"`
				Line int    `json:"line"`
				Pass bool   `json:"pass"`
				Want struct {
					Decision string   `json:"decision"`
					Rules    []string `json:"rules"`
				} `json:"want"`
				Got struct {
					Decision string   `json:"decision"`
					Rules    []string `json:"rules"`
					Code     string   `json:"code"`
				} `json:"got"`
			} `json:"cases"`
			Unexercised []string `json:"unexercised"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("--json output is not the report: %v\n%s", err, r)
		}
		if rep.File != pol || rep.CasesFile != failing || rep.Policy != "payments" || len(rep.Digest) != 64 ||
			rep.Passed != 1 || rep.Failed != 1 || len(rep.Cases) != 2 {
			t.Fatalf("report = %+v, want payments, 1 passed, 1 failed, 2 cases", rep)
		}
		c := rep.Cases[1]
		if c.Name != "a secret in a small charge" || c.Line != 5 || c.Pass || c.Want.Decision != "allow" ||
			c.Got.Decision != "deny" || c.Got.Code != "scan" || strings.Join(c.Got.Rules, ",") != "small-charges" {
			t.Errorf("failing case = %+v", c)
		}
		if strings.Join(rep.Unexercised, ",") != "no-payouts" {
			t.Errorf("unexercised = %v, want [no-payouts]", rep.Unexercised)
		}
	})

	t.Run("json for an invalid case file", func(t *testing.T) {
		r := warden(t, "policy", "test", pol, "--cases", invalidCases, "--json")
		var out struct {
			File   string `json:"file"`
			Errors []struct {
				Line    int    `json:"line"`
				Path    string `json:"path"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if r.code != 1 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.File != invalidCases ||
			len(out.Errors) != 1 || out.Errors[0].Line != 3 || out.Errors[0].Path != "cases[0].request" {
			t.Errorf("warden policy test --json with an invalid case file = %s\nwant exit 1 and one error at line 3", r)
		}
	})
}
