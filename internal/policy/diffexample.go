package policy

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// A diff's examples are requests derived from the rules themselves, so
// that they land where the two policies may disagree: each glob with its
// wildcards filled in, each condition with argument values taken from its
// literals.

// Values that stand in for a glob's wildcards and for what a rule does
// not match on in example requests.
const (
	sampleWord   = "x"
	sampleChar   = "a"
	sampleAgent  = "agent-1"
	sampleAction = "example.action"
	maxArgSets   = 16 // argument sets tried per rule
)

// diffExamples evaluates requests derived from every rule of both
// policies, and one that no rule is meant for, under both, and keeps those
// decided differently (effect or rules that applied), in generation order.
func diffExamples(a, b *Policy) []DiffExample {
	out := []DiffExample{}
	seen := map[string]bool{}
	try := func(req Request) bool {
		key, err := json.Marshal(req)
		if err != nil || seen[string(key)] {
			return true
		}
		seen[string(key)] = true
		x, y := a.Evaluate(&Input{Request: &req}), b.Evaluate(&Input{Request: &req})
		if x.Effect == y.Effect && slices.Equal(sortedCopy(x.Rules), sortedCopy(y.Rules)) {
			return true
		}
		out = append(out, DiffExample{Request: req, From: outcome(x), To: outcome(y)})
		return len(out) < MaxDiffExamples
	}
	if !try(Request{Principal: Principal{ID: sampleAgent, Type: "agent"}, Action: Action{Type: "unmatched.action"}, Args: map[string]any{}}) {
		return out
	}
	for _, p := range []*Policy{a, b} {
		for i := range p.Doc.Rules {
			for _, req := range ruleRequests(&p.Doc.Rules[i]) {
				if !try(req) {
					return out
				}
			}
		}
	}
	return out
}

func outcome(d *Decision) DiffOutcome {
	o := DiffOutcome{Effect: d.Effect, Rules: slices.Clone(d.Rules), Default: d.Default}
	if o.Rules == nil {
		o.Rules = []string{}
	}
	if d.Err != nil {
		o.Error = d.Err.Error()
	}
	return o
}

// ruleRequests derives requests that a rule's match keys select, one per
// argument set its condition suggests; none if its globs admit no valid
// request.
func ruleRequests(r *Rule) []Request {
	fill := func(glob, otherwise string) string {
		if glob == "" {
			return otherwise
		}
		return strings.NewReplacer("*", sampleWord, "?", sampleChar).Replace(glob)
	}
	base := Request{
		Principal: Principal{ID: fill(r.Match.Agent, sampleAgent), Type: "agent"},
		Action:    Action{Type: fill(r.Match.Action, sampleAction), Resource: fill(r.Match.Resource, "")},
		Context:   Context{Environment: fill(r.Match.Environment, "")},
	}
	if !actionTypeRE.MatchString(base.Action.Type) || len(base.Action.Type) > maxIDLength || len(base.Principal.ID) > maxIDLength {
		return nil
	}
	if r.Match.PrincipalType != "" {
		g, err := compileGlob(r.Match.PrincipalType)
		if err != nil {
			return nil
		}
		base.Principal.Type = ""
		for _, t := range principalTypes {
			if g.match(t) {
				base.Principal.Type = t
				break
			}
		}
		if base.Principal.Type == "" {
			return nil
		}
	}
	var reqs []Request
	for _, args := range argSets(r.When) {
		req := base
		req.Args = args
		reqs = append(reqs, req)
	}
	return reqs
}

// argSets suggests arguments for a condition: none at all (a missing
// argument is an error, and so a deny), then every argument it reads set
// to the first value its literals suggest, then each argument in turn set
// to each of its other values.
func argSets(when string) []map[string]any {
	sets := []map[string]any{{}}
	if when == "" {
		return sets
	}
	parsed, iss := celEnv.Parse(when)
	if iss != nil && iss.Err() != nil {
		return sets
	}
	cands := map[string][]any{} // by path joined with "\x00"
	note := func(path []string, vals ...any) {
		k := strings.Join(path, "\x00")
		for _, v := range vals {
			if !slices.Contains(cands[k], v) {
				cands[k] = append(cands[k], v)
			}
		}
		if _, ok := cands[k]; !ok {
			cands[k] = nil
		}
	}
	celast.PreOrderVisit(parsed.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if path, ok := argsPath(e); ok {
			note(path)
			return
		}
		if e.Kind() != celast.CallKind {
			return
		}
		call := e.AsCall()
		switch call.FunctionName() {
		case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		case operators.In:
			if path, ok := argsPath(call.Args()[0]); ok && call.Args()[1].Kind() == celast.ListKind {
				for _, el := range call.Args()[1].AsList().Elements() {
					if el.Kind() == celast.LiteralKind {
						note(path, literalValues(el.AsLiteral())[:1]...)
					}
				}
			}
			return
		default:
			return
		}
		for i, arg := range call.Args() {
			other := call.Args()[1-i]
			if path, ok := argsPath(arg); ok && other.Kind() == celast.LiteralKind {
				note(path, literalValues(other.AsLiteral())...)
			}
		}
	}))
	// args.a.b is visited as args.a too: only the longest paths count.
	for k := range cands {
		for other := range cands {
			if strings.HasPrefix(other, k+"\x00") {
				delete(cands, k)
				break
			}
		}
	}
	keys := slices.Sorted(maps.Keys(cands))
	first := map[string]any{}
	for _, k := range keys {
		if len(cands[k]) == 0 {
			cands[k] = []any{sampleWord}
		}
		first[k] = cands[k][0]
	}
	build := func(vals map[string]any) map[string]any {
		args := map[string]any{}
		for _, k := range keys {
			setPath(args, strings.Split(k, "\x00"), vals[k])
		}
		return args
	}
	sets = append(sets, build(first))
	for _, k := range keys {
		for _, v := range cands[k][1:] {
			if len(sets) >= maxArgSets {
				return sets
			}
			vals := maps.Clone(first)
			vals[k] = v
			sets = append(sets, build(vals))
		}
	}
	return sets
}

// argsPath recognizes args.a.b and args["a"]["b"].
func argsPath(e celast.Expr) ([]string, bool) {
	var path []string
	for {
		switch e.Kind() {
		case celast.SelectKind:
			path = append(path, e.AsSelect().FieldName())
			e = e.AsSelect().Operand()
			continue
		case celast.CallKind:
			c := e.AsCall()
			if c.FunctionName() == operators.Index && len(c.Args()) == 2 && c.Args()[1].Kind() == celast.LiteralKind {
				if s, ok := c.Args()[1].AsLiteral().Value().(string); ok {
					path = append(path, s)
					e = c.Args()[0]
					continue
				}
			}
		case celast.IdentKind:
			if e.AsIdent() == "args" && len(path) > 0 {
				slices.Reverse(path)
				return path, true
			}
		}
		return nil, false
	}
}

// literalValues are the values worth trying against a literal: itself
// first, then its neighbours (numbers) or a different value.
func literalValues(v ref.Val) []any {
	switch x := v.Value().(type) {
	case int64:
		vals := []any{x}
		if x > -maxSafeInteger {
			vals = append(vals, x-1)
		}
		if x < maxSafeInteger {
			vals = append(vals, x+1)
		}
		return vals
	case uint64:
		if x <= maxSafeInteger {
			return literalValues(types.Int(int64(x)))
		}
	case float64:
		return []any{x, x - 1, x + 1}
	case string:
		return []any{x, x + sampleWord}
	case bool:
		return []any{x, !x}
	}
	return []any{sampleWord}
}

// setPath sets args[path[0]]...[path[n-1]] = v, making maps on the way;
// a path through a value that is not a map is left alone.
func setPath(args map[string]any, path []string, v any) {
	for _, step := range path[:len(path)-1] {
		next, ok := args[step].(map[string]any)
		if !ok {
			if _, taken := args[step]; taken {
				return
			}
			next = map[string]any{}
			args[step] = next
		}
		args = next
	}
	if _, isMap := args[path[len(path)-1]].(map[string]any); !isMap {
		args[path[len(path)-1]] = v
	}
}
