package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const diffFrom = `name: payments
default: deny
rules:
  - id: small-charges
    match: {action: "stripe.charges.create", agent: "billing-*"}
    when: args.amount <= 10000 && args.currency == "usd"
    effect: allow
  - id: read
    match: {action: "fs.read"}
    effect: allow
  - id: old
    match: {action: "legacy.*"}
    effect: allow
scan:
  deny: [secret, injection>=high]
limits:
  - {id: email-rate, match: {action: "email.send"}, per: agent, rate: 100/h}
  - {id: gone, match: {action: "x.y"}, per: agent, rate: 1/s}
`

const diffTo = `name: payments
default: require_approval
rules:
  - id: small-charges
    description: smaller now
    match: {action: "stripe.charges.create", agent: "billing-*"}
    when: args.amount <= 5000 && args.currency == "usd"
    effect: allow
  - id: read
    match: {action: "fs.read"}
    effect: allow
  - id: no-shell
    match: {action: "shell.*", principal_type: "a*"}
    effect: deny
scan:
  deny: [injection>=high, secret]
  on_incomplete: allow
limits:
  - {id: email-rate, match: {action: "email.send"}, per: agent, rate: 50/h}
  - {id: new, match: {action: "x.z"}, per: tenant, rate: 1/s}
sessions:
  max_actions: 10
`

func ruleIDs(rs []Rule) []string {
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func fieldNames(fs []FieldChange) []string {
	names := []string{}
	for _, f := range fs {
		names = append(names, f.Field)
	}
	return names
}

func TestDiffFields(t *testing.T) {
	d, err := Diff([]byte(diffFrom), []byte(diffTo))
	if err != nil {
		t.Fatalf("Diff = %v, want nil", err)
	}
	if d.Identical || d.From.Name != "payments" || d.From.Digest == d.To.Digest || len(d.To.Digest) != 64 {
		t.Errorf("Diff from/to = %+v %+v identical=%v", d.From, d.To, d.Identical)
	}
	var changed []string
	for _, c := range d.Changed {
		changed = append(changed, c.ID+":"+strings.Join(fieldNames(c.Fields), ","))
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"added", ruleIDs(d.Added), []string{"no-shell"}},
		{"removed", ruleIDs(d.Removed), []string{"old"}},
		{"changed", changed, []string{"small-charges:when,description"}},
		{"when before", d.Changed[0].Fields[0].Before, `args.amount <= 10000 && args.currency == "usd"`},
		{"when after", d.Changed[0].Fields[0].After, `args.amount <= 5000 && args.currency == "usd"`},
		{"reordered", d.Reordered, false},
		{"default", d.Default, &FieldChange{Field: "default", Before: Deny, After: RequireApproval}},
		// The scan lists are sets: only on_incomplete changed.
		{"scan", fieldNames(d.Scan), []string{"scan.on_incomplete"}},
		{"limits", fieldNames(d.Limits), []string{"limits[email-rate]", "limits[gone]", "limits[new]"}},
		{"removed limit", d.Limits[1].After, nil},
		{"added limit", d.Limits[2].Before, nil},
		{"sessions", fieldNames(d.Sessions), []string{"sessions.max_actions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("Diff %s = %#v, want %#v", tt.name, tt.got, tt.want)
			}
		})
	}
}

// checkExamples re-evaluates every example under both policies: each must
// be decided as recorded, and differently.
func checkExamples(t *testing.T, from, to string, d *PolicyDiff) {
	t.Helper()
	a, err := ParseAndCompile([]byte(from))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseAndCompile([]byte(to))
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range d.Examples {
		x, y := a.Evaluate(&Input{Request: &ex.Request}), b.Evaluate(&Input{Request: &ex.Request})
		if x.Effect != ex.From.Effect || !slices.Equal(x.Rules, ex.From.Rules) {
			t.Errorf("example %d: from decides %s %v, recorded %+v", i, x.Effect, x.Rules, ex.From)
		}
		if y.Effect != ex.To.Effect || !slices.Equal(y.Rules, ex.To.Rules) {
			t.Errorf("example %d: to decides %s %v, recorded %+v", i, y.Effect, y.Rules, ex.To)
		}
		if x.Effect == y.Effect && slices.Equal(x.Rules, y.Rules) {
			t.Errorf("example %d: %+v is decided alike (%s %v)", i, ex.Request, x.Effect, x.Rules)
		}
	}
}

func TestDiffExamples(t *testing.T) {
	d, err := Diff([]byte(diffFrom), []byte(diffTo))
	if err != nil {
		t.Fatalf("Diff = %v, want nil", err)
	}
	checkExamples(t, diffFrom, diffTo, d)
	// The changes the examples must show, as action, args and the two effects.
	want := []struct {
		name, action, args, from, to string
	}{
		{"default", "unmatched.action", `{}`, Deny, RequireApproval},
		{"charge between the limits", "stripe.charges.create", `{"amount":10000,"currency":"usd"}`, Allow, RequireApproval},
		{"removed rule", "legacy.x", `{}`, Allow, RequireApproval},
		// Denied either way, but by the new rule rather than the default.
		{"added rule", "shell.x", `{}`, Deny, Deny},
	}
	for _, w := range want {
		t.Run(w.name, func(t *testing.T) {
			for _, ex := range d.Examples {
				args, _ := json.Marshal(ex.Request.Args)
				if ex.Request.Action.Type == w.action && string(args) == w.args && ex.From.Effect == w.from && ex.To.Effect == w.to {
					return
				}
			}
			t.Errorf("Diff examples lack %s %s: %s → %s; have %+v", w.action, w.args, w.from, w.to, d.Examples)
		})
	}
	for _, ex := range d.Examples {
		if ex.Request.Action.Type == "fs.read" {
			t.Errorf("Diff example %+v: fs.read is decided alike by both", ex)
		}
	}
}

func TestDiffIdentical(t *testing.T) {
	// The same document in another style has the same digest.
	flow := strings.Replace(diffFrom, "  - id: read\n    match: {action: \"fs.read\"}\n    effect: allow\n",
		"  - {id: read, match: {action: fs.read}, effect: allow}\n", 1)
	if flow == diffFrom {
		t.Fatal("the restyled document is unchanged")
	}
	for _, to := range []string{diffFrom, flow} {
		d, err := Diff([]byte(diffFrom), []byte(to))
		if err != nil {
			t.Fatalf("Diff = %v, want nil", err)
		}
		empty := &PolicyDiff{From: d.From, To: d.From, Identical: true, Added: []Rule{}, Removed: []Rule{},
			Changed: []RuleChange{}, Scan: []FieldChange{}, Limits: []FieldChange{}, Sessions: []FieldChange{}, Examples: []DiffExample{}}
		if !reflect.DeepEqual(d, empty) {
			t.Errorf("Diff(same) = %+v, want %+v", d, empty)
		}
		raw, _ := json.Marshal(d)
		if strings.Contains(string(raw), "null") {
			t.Errorf("Diff(same) as JSON = %s, want empty lists rather than null", raw)
		}
	}
}

func TestDiffDeterministic(t *testing.T) {
	var first []byte
	for i := range 3 {
		d, err := Diff([]byte(diffFrom), []byte(diffTo))
		if err != nil {
			t.Fatalf("Diff = %v, want nil", err)
		}
		raw, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("json.Marshal = %v", err)
		}
		if i == 0 {
			first = raw
		} else if string(raw) != string(first) {
			t.Fatalf("Diff call %d = %s\nwant %s", i+1, raw, first)
		}
	}
}

func TestDiffMissingArgumentIsADecision(t *testing.T) {
	from := "name: p\nrules:\n  - {id: r, match: {action: fs.write}, effect: allow}\n"
	to := "name: p\nrules:\n  - {id: r, match: {action: fs.write}, when: 'args.size < 10', effect: allow}\n"
	d, err := Diff([]byte(from), []byte(to))
	if err != nil {
		t.Fatalf("Diff = %v, want nil", err)
	}
	checkExamples(t, from, to, d)
	var sawError, sawDefault bool
	for _, ex := range d.Examples {
		sawError = sawError || ex.To.Error != "" && len(ex.Request.Args) == 0
		sawDefault = sawDefault || ex.To.Default && fmt.Sprint(ex.Request.Args["size"]) == "10"
	}
	if !sawError || !sawDefault {
		t.Errorf("Diff examples = %+v, want one without args (error) and one with size 10 (default)", d.Examples)
	}
}

func TestDiffCapsExamples(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: many\nrules:\n")
	for i := range 2 * MaxDiffExamples {
		fmt.Fprintf(&b, "  - {id: r%d, match: {action: svc%d.get}, effect: allow}\n", i, i)
	}
	d, err := Diff([]byte(b.String()), []byte("name: many\n"))
	if err != nil {
		t.Fatalf("Diff = %v, want nil", err)
	}
	if len(d.Examples) != MaxDiffExamples || len(d.Removed) != 2*MaxDiffExamples {
		t.Errorf("Diff = %d examples, %d removed, want %d and %d", len(d.Examples), len(d.Removed), MaxDiffExamples, 2*MaxDiffExamples)
	}
}

func TestDiffInvalid(t *testing.T) {
	bad := []byte("name: x\nrules:\n  - {id: a, effect: alow}\n")
	for _, tt := range []struct {
		name     string
		from, to []byte
	}{{"from", bad, []byte(diffTo)}, {"to", []byte(diffFrom), bad}} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Diff(tt.from, tt.to); !errors.Is(err, ErrInvalid) {
				t.Errorf("Diff(invalid %s) = %v, want ErrInvalid", tt.name, err)
			}
		})
	}
}

func TestArgSets(t *testing.T) {
	tests := []struct {
		name, when string
		want       []string // JSON of each set, in order
	}{
		{"no condition", "", []string{`{}`}},
		{"comparisons", `args.amount <= 10000 && args.currency == "usd"`, []string{`{}`,
			`{"amount":10000,"currency":"usd"}`, `{"amount":9999,"currency":"usd"}`,
			`{"amount":10001,"currency":"usd"}`, `{"amount":10000,"currency":"usdx"}`}},
		{"literal on the left", `1.5 > args.f`, []string{`{}`, `{"f":1.5}`, `{"f":0.5}`, `{"f":2.5}`}},
		{"nested and indexed", `args.a.b == true && args["k"] != "v"`, []string{`{}`,
			`{"a":{"b":true},"k":"v"}`, `{"a":{"b":false},"k":"v"}`, `{"a":{"b":true},"k":"vx"}`}},
		{"in a list", `args.c in ["p", "q"]`, []string{`{}`, `{"c":"p"}`, `{"c":"q"}`}},
		{"no literal", `args.cmd.matches("rm")`, []string{`{}`, `{"cmd":"x"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range argSets(tt.when) {
				raw, _ := json.Marshal(s)
				got = append(got, string(raw))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("argSets(%q) = %q, want %q", tt.when, got, tt.want)
			}
		})
	}
}
