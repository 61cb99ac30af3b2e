package policy

import (
	"encoding/json"
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
)

// Codes of lint warnings. They are stable: scripts and editors key on them.
const (
	// LintNeverApplies: the rule cannot apply to any request the request
	// grammar admits (its condition is the constant false, or a match glob
	// matches nothing a request may carry).
	LintNeverApplies = "never-applies"
	// LintDuplicate: the rule repeats an earlier rule's match, condition,
	// effect and approval, so it adds nothing to any decision.
	LintDuplicate = "duplicate"
	// LintShadowed: an unconditioned deny matches every request this
	// allow or require_approval rule matches, so its effect never wins.
	LintShadowed = "shadowed"
	// LintDestructiveAllow: an allow without a condition covers actions
	// that destroy data, run code, move money or send messages.
	LintDestructiveAllow = "unconditioned-destructive-allow"
)

// Warning is a likely mistake in a valid policy. Warnings never make a
// policy invalid.
type Warning struct {
	Rule    string `json:"rule"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// maxShadowChecks bounds the glob comparisons of the shadowing check, so
// that linting a policy near MaxRules stays fast; past it the check stops
// and warns no more (a missed warning, never a false one).
const maxShadowChecks = 1_000_000

// Lint parses and compiles source as ParseAndCompile does (returning its
// error for an invalid policy) and lists the warnings of every rule, in
// document order, each placed at its rule's line and column. It takes the
// source rather than a compiled Policy because a Policy keeps no positions.
func Lint(source []byte) ([]Warning, error) {
	doc, root, err := Parse(source)
	if err != nil {
		return nil, err
	}
	p, err := Compile(doc, root)
	if err != nil {
		return nil, err
	}
	loc := locator{root: root}
	var ws []Warning
	warn := func(i int, code, msg string) {
		w := Warning{Rule: p.rules[i].id, Code: code, Message: msg}
		if n := loc.at("rules", i); n != nil {
			w.Line, w.Column = n.Line, n.Column
		}
		ws = append(ws, w)
	}

	never := make([][]string, len(p.rules)) // why each rule can never apply
	var denies []int                        // unconditioned deny rules that can apply
	for i := range p.rules {
		r := &p.rules[i]
		if never[i] = neverApplies(&doc.Rules[i], r); len(never[i]) == 0 && r.effect == Deny && r.when == nil {
			denies = append(denies, i)
		}
	}
	seen := map[string]int{}
	checks := 0
	for i := range p.rules {
		r, dr := &p.rules[i], &doc.Rules[i]
		if len(never[i]) > 0 {
			warn(i, LintNeverApplies, "it can never apply: "+strings.Join(never[i], "; "))
		}
		if key := ruleSemantics(dr); key != "" {
			if first, dup := seen[key]; dup {
				warn(i, LintDuplicate, fmt.Sprintf("same match, condition, effect and approval as rule %q", p.rules[first].id))
			} else {
				seen[key] = i
			}
		}
		if len(never[i]) > 0 || r.effect == Deny {
			continue
		}
		shadowed := false
		for _, d := range denies {
			if checks++; checks > maxShadowChecks {
				break
			}
			if d != i && covers(&p.rules[d], r) {
				warn(i, LintShadowed, fmt.Sprintf("the unconditioned deny rule %q matches every request this rule matches, so this %s never wins", p.rules[d].id, r.effect))
				shadowed = true
				break
			}
		}
		if !shadowed && r.effect == Allow && r.when == nil {
			if why := destructive(r); why != "" {
				warn(i, LintDestructiveAllow, why+": give it a when condition, or make it require_approval")
			}
		}
	}
	return ws, nil
}

// ruleSemantics is the part of a rule that decisions depend on, encoded
// as a map key.
func ruleSemantics(r *Rule) string {
	b, err := json.Marshal(struct {
		M Match
		W string
		E string
		A *Approval
	}{r.Match, r.When, r.Effect, r.Approval})
	if err != nil {
		return ""
	}
	return string(b)
}

var principalTypes = []string{"agent", "user", "service"}

// neverApplies lists the reasons a rule can apply to no valid request.
func neverApplies(dr *Rule, r *compiledRule) []string {
	var why []string
	if dr.When != "" && alwaysFalse(dr.When) {
		why = append(why, "its condition is always false")
	}
	if r.has[mAction] && !globMeetsActionGrammar(r.match[mAction].pattern) {
		why = append(why, fmt.Sprintf("action glob %q matches no action type (dotted words of a-z, 0-9, _ and -, at most %d bytes)",
			r.match[mAction].pattern, maxIDLength))
	}
	if r.has[mPrincipalType] && typeSet(r) == 0 {
		why = append(why, fmt.Sprintf("principal_type glob %q matches none of agent, user, service", r.match[mPrincipalType].pattern))
	}
	if r.has[mAgent] && minLength(r.match[mAgent].pattern) > maxIDLength {
		why = append(why, fmt.Sprintf("agent glob %q is longer than any principal id (%d bytes)", r.match[mAgent].pattern, maxIDLength))
	}
	return why
}

// alwaysFalse reports whether a condition folds to the constant false.
func alwaysFalse(expr string) bool {
	checked, iss := celEnv.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return false
	}
	folder, err := cel.NewConstantFoldingOptimizer()
	if err != nil {
		return false
	}
	opt, err := cel.NewStaticOptimizer(folder)
	if err != nil {
		return false
	}
	folded, iss := opt.Optimize(celEnv, checked)
	if iss != nil && iss.Err() != nil {
		return false
	}
	e := folded.NativeRep().Expr()
	return e.Kind() == celast.LiteralKind && e.AsLiteral() == types.False
}

// States of the action grammar's automaton, as bits of a set.
const (
	actStart = 1 << iota // nothing read yet
	actWord              // inside a word: the only accepting state
	actDot               // just after a dot
)

func isActionWordChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// stepAction moves a set of automaton states over one character; c < 0
// stands for any character (a '?').
func stepAction(states uint8, c rune) uint8 {
	var next uint8
	if states != 0 && (c < 0 || isActionWordChar(c)) {
		next |= actWord
	}
	if states&actWord != 0 && (c < 0 || c == '.') {
		next |= actDot
	}
	return next
}

// globMeetsActionGrammar reports whether some action type the request
// grammar admits matches the glob: it runs the glob over the grammar's
// automaton, with '*' as the closure of any-character steps. It is exact
// but for the length bound, which it applies only to the characters the
// glob forces, so it errs towards "yes".
func globMeetsActionGrammar(pattern string) bool {
	if minLength(pattern) > maxIDLength {
		return false
	}
	states := uint8(actStart)
	for _, c := range pattern {
		switch c {
		case '*':
			for {
				next := states | stepAction(states, -1)
				if next == states {
					break
				}
				states = next
			}
		case '?':
			states = stepAction(states, -1)
		default:
			states = stepAction(states, c)
		}
		if states == 0 {
			return false
		}
	}
	return states&actWord != 0
}

// minLength is the number of bytes every string matching a glob has at
// least (a '?' counts one byte).
func minLength(pattern string) int {
	n := 0
	for _, c := range pattern {
		switch c {
		case '*':
		case '?':
			n++
		default:
			n += len(string(c))
		}
	}
	return n
}

// typeSet is the set (one bit per principalTypes entry) of principal
// types a rule matches.
func typeSet(r *compiledRule) uint8 {
	var set uint8
	for i, t := range principalTypes {
		if !r.has[mPrincipalType] || r.match[mPrincipalType].match(t) {
			set |= 1 << i
		}
	}
	return set
}

// covers reports whether rule d matches every request rule r matches, as
// far as their match keys tell (conditions are the caller's business).
func covers(d, r *compiledRule) bool {
	for k := range d.match {
		if !d.has[k] {
			continue
		}
		if k == mPrincipalType {
			if rs := typeSet(r); rs&typeSet(d) != rs {
				return false
			}
			continue
		}
		sub := "*" // a missing key matches anything
		if r.has[k] {
			sub = r.match[k].pattern
		}
		if !globSubsumes(d.match[k].pattern, sub) {
			return false
		}
	}
	return true
}

// globSubsumes reports whether every string that matches glob sub also
// matches glob super. It is sound (true only when certain) and matches
// the two globs symbolically: a '*' of super takes any run of sub's
// tokens, its '?' one '?' or character of sub, and a character only the
// same character. Runs of wildcards are first normalized ('*?' and '?*'
// both become '?*') so that equal languages written differently compare.
func globSubsumes(super, sub string) bool {
	g, h := globTokens(super), globTokens(sub)
	// next[j] is whether g[i+1:] matches h[j:]; cur the same for g[i:].
	next := make([]bool, len(h)+1)
	cur := make([]bool, len(h)+1)
	next[len(h)] = true
	for i := len(g) - 1; i >= 0; i-- {
		for j := len(h); j >= 0; j-- {
			switch {
			case g[i] == '*':
				cur[j] = next[j] || j < len(h) && cur[j+1]
			case j == len(h):
				cur[j] = false
			case g[i] == '?':
				cur[j] = h[j] != '*' && next[j+1]
			default:
				cur[j] = h[j] == g[i] && next[j+1]
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

// globTokens splits a glob into runes, rewriting each run of wildcards
// as its '?'s followed by one '*' if it had any.
func globTokens(pattern string) []rune {
	var out []rune
	qs, star := 0, false
	flush := func() {
		for ; qs > 0; qs-- {
			out = append(out, '?')
		}
		if star {
			out = append(out, '*')
		}
		star = false
	}
	for _, c := range pattern {
		switch c {
		case '*':
			star = true
		case '?':
			qs++
		default:
			flush()
			out = append(out, c)
		}
	}
	flush()
	return out
}

// destructiveWords are the words of an action type that mark it as one
// an agent should not take unchecked: destroying data (delete … wipe),
// stopping things (kill, terminate, shutdown), running arbitrary code
// (exec, shell, eval, sudo), moving money (transfer … withdraw) and
// sending messages out (send). A word also counts in its plural form
// ("charges"). Whole words only: "format" or "run" would flag too much.
var destructiveWords = map[string]bool{
	"delete": true, "del": true, "remove": true, "rm": true, "rmdir": true, "unlink": true,
	"drop": true, "destroy": true, "truncate": true, "purge": true, "wipe": true, "erase": true,
	"kill": true, "terminate": true, "shutdown": true,
	"exec": true, "execute": true, "shell": true, "eval": true, "sudo": true,
	"transfer": true, "charge": true, "refund": true, "payout": true, "pay": true, "withdraw": true,
	"send": true,
}

// readOnlyVerbs, as an action type's last segment, make it harmless
// whatever it names: "stripe.charges.list" moves no money.
var readOnlyVerbs = map[string]bool{"get": true, "list": true, "read": true, "search": true,
	"describe": true, "show": true, "view": true}

// destructive says why an allow rule's action glob covers destructive
// actions, or returns "" if it does not look that way.
func destructive(r *compiledRule) string {
	if !r.has[mAction] {
		return "it matches every action, destructive ones included"
	}
	pat := r.match[mAction].pattern
	if strings.Trim(pat, "*?") == "" {
		return fmt.Sprintf("action glob %q matches every action, destructive ones included", pat)
	}
	segs := strings.Split(pat, ".")
	if last := segs[len(segs)-1]; readOnlyVerbs[last] {
		return ""
	}
	for _, w := range strings.FieldsFunc(pat, func(c rune) bool { return strings.ContainsRune(".-_*?", c) }) {
		if destructiveWords[w] || destructiveWords[strings.TrimSuffix(w, "s")] {
			return fmt.Sprintf("action glob %q names a destructive operation (%s)", pat, w)
		}
	}
	return ""
}
