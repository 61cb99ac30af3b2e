package policy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzInput is one request every compiled document is asked about.
var fuzzInput = Input{
	Request: &Request{
		Principal: Principal{ID: "billing-bot", Type: "agent", Attributes: map[string]any{"team": "payments"}},
		Action:    Action{Type: "stripe.charges.create", Resource: "stripe://customers/cus_1", Operation: "create"},
		Args:      map[string]any{"amount": int64(1200), "currency": "usd", "note": 1.5, "items": []any{"a", int64(2)}},
		Context:   Context{SessionID: "s-42", Environment: "production"},
	},
	Findings: []Finding{{Category: "pii.email", Severity: "low", Path: "/args/note"}},
	Session:  map[string]any{"actions": int64(3)},
}

// FuzzParseAndCompile checks that no document makes parsing, compilation
// or evaluation panic, and that a compiled document's digest is stable.
func FuzzParseAndCompile(f *testing.F) {
	f.Add([]byte(examplePolicy))
	f.Add([]byte(`{"name": "j", "default": "allow", "rules": [{"id": "a", "effect": "deny", "match": {"action": "x.*"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseAndCompile(data)
		if err != nil {
			return
		}
		q, err := ParseAndCompile(data)
		if err != nil {
			t.Fatalf("second ParseAndCompile = %v, want nil like the first", err)
		}
		if p.Digest != q.Digest || len(p.Digest) != 64 {
			t.Fatalf("digests %q and %q of one document, want equal", p.Digest, q.Digest)
		}
		in := fuzzInput
		d := p.Evaluate(&in)
		switch d.Effect {
		case Allow, Deny, RequireApproval:
		default:
			t.Fatalf("Evaluate effect = %q, want allow, deny or require_approval", d.Effect)
		}
		if len(d.Reasons) == 0 || (d.Err != nil) != (d.Reasons[0].Code == CodeError) {
			t.Fatalf("Evaluate reasons = %+v (err %v), want some, code error exactly when it failed", d.Reasons, d.Err)
		}
		if d.Err != nil && d.Effect != Deny {
			t.Fatalf("Evaluate = %s with error %v, want deny", d.Effect, d.Err)
		}
	})
}

// globRegexp is an independent reading of the glob grammar: '*' is any
// run of characters, '?' one character, anything else itself.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)\z`)
	return regexp.MustCompile(b.String())
}

// FuzzGlob checks glob.match against globRegexp for every valid pattern.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"*", ""}, {"a.*", "a.b/c"}, {"?", "é"}, {"??", "é"}, {"a*b*c", "abcbc"},
		{"*a*a*a*a*b", strings.Repeat("a", 200)}, {"*.delete", "x.delete"}, {"ü?*", "üxy"},
		{"lit", "lit"}, {"x?", "x\xff"}, {"*?*", "\xc3"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		g, err := compileGlob(pattern)
		if err != nil {
			return
		}
		// An invalid byte reads as U+FFFD to the regexp but not to a
		// byte comparison; the grammar only defines matching of text.
		if !utf8.ValidString(s) && strings.ContainsRune(pattern, utf8.RuneError) {
			return
		}
		if got, want := g.match(s), globRegexp(pattern).MatchString(s); got != want {
			t.Fatalf("glob %q .match(%q) = %v, want %v (regexp)", pattern, s, got, want)
		}
	})
}
