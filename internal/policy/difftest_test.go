package policy

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"go.yaml.in/yaml/v3"
)

// The differential test checks Evaluate against refEvaluator, a second
// evaluator written from DESIGN.md section 5 that shares no matching code
// with the engine: globs become regular expressions, every rule is tried
// in document order (no index), CEL programs come from an environment of
// their own and the scan mapping is parsed here again.

var diffSeed = flag.Uint64("difftest.seed", 20240601, "seed of TestDifferential's random policies and requests")

// Sizes of the differential test.
const (
	diffPolicies      = 100
	diffRequests      = 100_000
	diffRequestsShort = 10_000
)

func TestDifferential(t *testing.T) {
	seed := *diffSeed
	t.Logf("seed %d (rerun with -difftest.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	total := diffRequests
	if testing.Short() {
		total = diffRequestsShort
	}
	ref := newRefEvaluator(t)
	start := time.Now()
	var compared, applied, errored, defaulted, mismatches int
	for pi := 0; pi < diffPolicies; pi++ {
		doc := diffGenDocument(rng, pi)
		// Through YAML, so that what the reference reads is what a user
		// would have written.
		data, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatalf("policy %d: yaml.Marshal = %v", pi, err)
		}
		p, err := ParseAndCompile(data)
		if err != nil {
			t.Fatalf("policy %d: ParseAndCompile = %v, want nil", pi, err)
		}
		// The reference has no deadline; the engine's wall-clock backstop
		// must not decide on a loaded machine.
		p = p.WithConditionTimeout(time.Minute)
		n := total / diffPolicies
		for range n {
			in := diffGenInput(rng, doc)
			got := p.Evaluate(in)
			want := ref.evaluate(t, doc, in)
			compared++
			switch {
			case want.err:
				errored++
			case want.def:
				defaulted++
			default:
				applied++
			}
			if got.Effect != want.effect || !slices.Equal(got.Rules, want.rules) || got.Default != want.def || (got.Err != nil) != want.err {
				mismatches++
				t.Errorf("policy %d (%d rules), input %s:\n Evaluate = %s, %d rules, default %t, err %v\n reference = %s, %d rules, default %t, err %t (%s)\n rules only in Evaluate %v, only in the reference %v",
					pi, len(doc.Rules), diffDescribe(in), got.Effect, len(got.Rules), got.Default, got.Err, want.effect, len(want.rules), want.def, want.err, want.why,
					diffMissing(got.Rules, want.rules), diffMissing(want.rules, got.Rules))
				if mismatches >= 10 {
					t.Fatalf("stopping after %d mismatches (seed %d)", mismatches, seed)
				}
			}
		}
	}
	t.Logf("%d requests over %d policies in %v: %d with rules applied, %d by default, %d errors",
		compared, diffPolicies, time.Since(start).Round(time.Millisecond), applied, defaulted, errored)
	// A generator that drifts into all-errors or all-defaults would make
	// the comparison vacuous.
	if applied < compared/4 || defaulted < compared/50 || errored < compared/200 {
		t.Errorf("unbalanced requests: %d applied, %d default, %d errors of %d", applied, defaulted, errored, compared)
	}
}

// refResult is the reference evaluator's decision.
type refResult struct {
	effect string
	rules  []string
	def    bool
	err    bool
	why    string
}

type refEvaluator struct {
	env   *cel.Env
	progs map[string]cel.Program
	globs map[string]*regexp.Regexp
}

func newRefEvaluator(t *testing.T) *refEvaluator {
	env, err := cel.NewEnv(
		cel.Variable("principal", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("action", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("context", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("findings", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
		cel.Variable("session", cel.MapType(cel.StringType, cel.DynType)),
		cel.CrossTypeNumericComparisons(true),
	)
	if err != nil {
		t.Fatalf("reference CEL environment: %v", err)
	}
	return &refEvaluator{env: env, progs: map[string]cel.Program{}, globs: map[string]*regexp.Regexp{}}
}

// refGlobMatch matches s against glob: '*' is any run of characters, '?'
// one character, everything else itself; an empty glob matches anything.
func (r *refEvaluator) refGlobMatch(glob, s string) bool {
	if glob == "" {
		return true
	}
	re, ok := r.globs[glob]
	if !ok {
		var b strings.Builder
		b.WriteString(`^(?s:`)
		for _, c := range glob {
			switch c {
			case '*':
				b.WriteString(`.*`)
			case '?':
				b.WriteString(`.`)
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		b.WriteString(`)$`)
		re = regexp.MustCompile(b.String())
		r.globs[glob] = re
	}
	return re.MatchString(s)
}

func (r *refEvaluator) program(t *testing.T, expr string) cel.Program {
	if prg, ok := r.progs[expr]; ok {
		return prg
	}
	ast, iss := r.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		t.Fatalf("reference: compile %q: %v", expr, iss.Err())
	}
	prg, err := r.env.Program(ast)
	if err != nil {
		t.Fatalf("reference: program %q: %v", expr, err)
	}
	r.progs[expr] = prg
	return prg
}

var refRank = map[string]int{Allow: 1, RequireApproval: 2, Deny: 3}

func (r *refEvaluator) evaluate(t *testing.T, doc *Document, in *Input) refResult {
	req := in.Request
	var res refResult
	best := 0
	consider := func(effect string) {
		if refRank[effect] > best {
			best, res.effect = refRank[effect], effect
		}
	}
	var vars map[string]any
	for _, rule := range doc.Rules {
		m := rule.Match
		if !r.refGlobMatch(m.Action, req.Action.Type) || !r.refGlobMatch(m.Agent, req.Principal.ID) ||
			!r.refGlobMatch(m.Resource, req.Action.Resource) || !r.refGlobMatch(m.PrincipalType, req.Principal.Type) ||
			!r.refGlobMatch(m.Environment, req.Context.Environment) {
			continue
		}
		if rule.When != "" {
			if vars == nil {
				vars = refActivation(in)
			}
			out, _, err := r.program(t, rule.When).Eval(vars)
			if err != nil {
				return refResult{effect: Deny, err: true, why: fmt.Sprintf("rule %s: %v", rule.ID, err)}
			}
			if out != types.True {
				continue
			}
		}
		res.rules = append(res.rules, rule.ID)
		consider(rule.Effect)
	}
	// The default stands for the missing rules; the scan mapping can
	// only make a decision stricter, the default's included.
	if len(res.rules) == 0 {
		res.def = true
		if doc.Default == "" {
			consider(Deny)
		} else {
			consider(doc.Default)
		}
	}
	if s := doc.Scan; s != nil || in.ScanIncomplete {
		if in.ScanIncomplete {
			if s == nil || s.OnIncomplete == "" {
				consider(Deny)
			} else {
				consider(s.OnIncomplete)
			}
		}
		if s != nil {
			for _, f := range in.Findings {
				if refSelects(s.Deny, f) {
					consider(Deny)
				}
				if refSelects(s.RequireApproval, f) {
					consider(RequireApproval)
				}
			}
		}
	}
	return res
}

// refSelects reports whether one of the "category[>=severity]" entries
// selects the finding.
func refSelects(list []string, f Finding) bool {
	order := []string{"low", "medium", "high", "critical"}
	for _, entry := range list {
		cat, min, _ := strings.Cut(entry, ">=")
		cat, min = strings.TrimSpace(cat), strings.TrimSpace(min)
		if f.Category != cat && !strings.HasPrefix(f.Category, cat+".") {
			continue
		}
		if min == "" || slices.Index(order, f.Severity) >= slices.Index(order, min) && slices.Contains(order, f.Severity) {
			return true
		}
	}
	return false
}

func refActivation(in *Input) map[string]any {
	req := in.Request
	findings := []any{}
	for _, f := range in.Findings {
		findings = append(findings, map[string]any{"category": f.Category, "rule": f.Rule,
			"severity": f.Severity, "confidence": f.Confidence, "path": f.Path})
	}
	args := map[string]any{}
	for k, v := range req.Args {
		args[k] = v
	}
	session := map[string]any{}
	for k, v := range in.Session {
		session[k] = v
	}
	return map[string]any{
		"principal": map[string]any{"id": req.Principal.ID, "type": req.Principal.Type, "attributes": map[string]any{}},
		"action":    map[string]any{"type": req.Action.Type, "resource": req.Action.Resource, "operation": req.Action.Operation},
		"args":      args,
		"context":   map[string]any{"environment": req.Context.Environment, "session_id": "", "trace_id": "", "parent_receipt_id": ""},
		"findings":  findings,
		"session":   session,
	}
}

// The generator draws policies and requests from one small vocabulary, so
// that rules share action prefixes and requests hit them.
var (
	diffGenResources = []string{"db", "files", "users", "charges", "queue"}
	diffGenVerbs     = []string{"read", "write", "delete", "create", "list", "get", "set"}
	diffGenEffects   = []string{Allow, Allow, Deny, RequireApproval}
	diffGenPTypes    = []string{"agent", "user", "service", "agent", "é"}
	diffGenEnvs      = []string{"prod", "staging", "dev", "prod-eu", ""}
	diffGenCats      = []string{"secret", "secret.aws", "pii", "pii.email", "injection", "unsafe_input", "secretive"}
	diffGenSevs      = []string{"low", "medium", "high", "critical"}
)

func diffPick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func diffGenAction(rng *rand.Rand) string {
	return fmt.Sprintf("svc%d.%s.%s", rng.IntN(30), diffPick(rng, diffGenResources), diffPick(rng, diffGenVerbs))
}

func diffGenActionGlob(rng *rand.Rand) string {
	n, res, verb := rng.IntN(30), diffPick(rng, diffGenResources), diffPick(rng, diffGenVerbs)
	switch rng.IntN(16) {
	case 0, 1, 2, 3:
		return fmt.Sprintf("svc%d.%s.%s", n, res, verb)
	case 4, 5:
		return fmt.Sprintf("svc%d.*", n)
	case 6, 7:
		return fmt.Sprintf("svc%d.%s.*", n, res)
	case 8:
		return fmt.Sprintf("svc%d*", rng.IntN(3))
	case 9:
		return "*." + verb
	case 10:
		return fmt.Sprintf("svc?.%s.*", res)
	case 11:
		return fmt.Sprintf("svc%d.%s.?e?", n, res)
	case 12:
		return fmt.Sprintf("svc%d.*.%s", n, verb)
	case 13:
		return "*"
	case 14:
		return fmt.Sprintf("svc%d.%s.%s*", n, res, verb[:1])
	default:
		return ""
	}
}

func diffGenAgent(rng *rand.Rand) string {
	switch rng.IntN(10) {
	case 0:
		return ""
	case 1:
		return "billing-" + diffPick(rng, []string{"eu", "us", "x"})
	case 2:
		return "ops-admin"
	case 3:
		return "bøt-1"
	default:
		return fmt.Sprintf("bot-%d", rng.IntN(200))
	}
}

func diffGenAgentGlob(rng *rand.Rand) string {
	switch rng.IntN(12) {
	case 0, 1, 2, 3, 4:
		return ""
	case 5:
		return fmt.Sprintf("bot-%d*", rng.IntN(20))
	case 6:
		return "bot-?"
	case 7:
		return fmt.Sprintf("bot-%d", rng.IntN(200))
	case 8:
		return "*-admin"
	case 9:
		return "billing-*"
	case 10:
		return "b?t-1*"
	default:
		return "*"
	}
}

func diffGenOther(rng *rand.Rand, globs []string) string {
	if rng.IntN(3) != 0 {
		return ""
	}
	return diffPick(rng, globs)
}

func diffGenCondition(rng *rand.Rand) string {
	k := rng.IntN(500)
	switch rng.IntN(14) {
	case 0, 1:
		return fmt.Sprintf("has(args.amount) && args.amount > %d", k)
	case 2:
		return fmt.Sprintf("args.amount <= %d", k) // errors without amount, or with a string amount
	case 3:
		return fmt.Sprintf(`has(args.currency) && args.currency == "%s"`, diffPick(rng, []string{"usd", "eur"}))
	case 4:
		return "!has(args.flag)"
	case 5:
		return "has(args.flag) && args.flag == true"
	case 6:
		return fmt.Sprintf("has(args.amount) && args.amount > %d.5", k)
	case 7:
		return fmt.Sprintf(`principal.type == "%s"`, diffPick(rng, diffGenPTypes))
	case 8:
		return `action.resource.startsWith("db/")`
	case 9:
		return fmt.Sprintf(`context.environment == "prod" || (has(args.count) && args.count == %d)`, k%5)
	case 10:
		return "size(findings) > 0"
	case 11:
		return fmt.Sprintf(`has(args.name) && args.name.startsWith("%c")`, 'a'+rune(rng.IntN(4)))
	case 12:
		return fmt.Sprintf(`has(session.risk) && session.risk >= %d`, k%100)
	default:
		return `action.type.endsWith(".read") && principal.id != ""`
	}
}

func diffGenDocument(rng *rand.Rand, i int) *Document {
	var n int
	switch {
	case i%25 == 0:
		n = 2000 + rng.IntN(3000)
	case i%10 == 0:
		n = 200 + rng.IntN(800)
	default:
		n = rng.IntN(60)
	}
	doc := &Document{Name: fmt.Sprintf("diff-%d", i), Default: diffPick(rng, []string{"", Allow, Deny, RequireApproval})}
	condRate := 4 + rng.IntN(12) // one rule in condRate has a condition
	for j := range n {
		r := Rule{
			ID:     fmt.Sprintf("r%d", j),
			Effect: diffPick(rng, diffGenEffects),
			Match: Match{
				Action:        diffGenActionGlob(rng),
				Agent:         diffGenAgentGlob(rng),
				Resource:      diffGenOther(rng, []string{"db/*", "db/customers", "*/secret", "files/??", "*"}),
				PrincipalType: diffGenOther(rng, []string{"agent", "user", "a*", "?ser", "é"}),
				Environment:   diffGenOther(rng, []string{"prod", "staging", "prod*", "*-eu"}),
			},
		}
		if rng.IntN(condRate) == 0 {
			r.When = diffGenCondition(rng)
		}
		doc.Rules = append(doc.Rules, r)
	}
	// Shuffle so that ids are not in document order.
	rng.Shuffle(len(doc.Rules), func(a, b int) { doc.Rules[a], doc.Rules[b] = doc.Rules[b], doc.Rules[a] })
	if rng.IntN(3) != 0 {
		s := &Scan{OnIncomplete: diffPick(rng, []string{"", Allow, Deny, RequireApproval})}
		sel := func() string {
			c := diffPick(rng, diffGenCats[:6])
			if rng.IntN(2) == 0 {
				c += diffPick(rng, []string{">=", " >= "}) + diffPick(rng, diffGenSevs)
			}
			return c
		}
		for range rng.IntN(3) {
			s.Deny = append(s.Deny, sel())
		}
		for range rng.IntN(3) {
			s.RequireApproval = append(s.RequireApproval, sel())
		}
		doc.Scan = s
	}
	return doc
}

// diffInstantiate turns a glob into a string it matches.
func diffInstantiate(rng *rand.Rand, glob string) string {
	var b strings.Builder
	for _, c := range glob {
		switch c {
		case '*':
			b.WriteString(diffPick(rng, []string{"", "x", ".db.read", "1", "7.files.get", "é"}))
		case '?':
			b.WriteRune(diffPick(rng, []rune{'a', '1', 'e', 'ø', '.'}))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func diffGenInput(rng *rand.Rand, doc *Document) *Input {
	req := &Request{
		Principal: Principal{ID: diffGenAgent(rng), Type: diffPick(rng, diffGenPTypes)},
		Action:    Action{Type: diffGenAction(rng), Resource: diffPick(rng, []string{"", "db/customers", "db/orders", "files/ab", "x/secret", "files/abc"})},
		Context:   Context{Environment: diffPick(rng, diffGenEnvs)},
	}
	if len(doc.Rules) > 0 && rng.IntN(3) == 0 {
		r := diffPick(rng, doc.Rules)
		req.Action.Type = diffInstantiate(rng, r.Match.Action)
		if r.Match.Agent != "" && rng.IntN(2) == 0 {
			req.Principal.ID = diffInstantiate(rng, r.Match.Agent)
		}
	}
	switch rng.IntN(20) {
	case 0:
		req.Action.Type = ""
	case 1:
		req.Action.Type = diffPick(rng, []string{"svc1", "svc17.db", "svc1.", "other.thing", "svc1é.db.read"})
	}
	args := map[string]any{}
	switch rng.IntN(10) {
	case 0, 1, 2, 3, 4:
		args["amount"] = rng.IntN(600)
	case 5, 6:
		args["amount"] = float64(rng.IntN(6000)) / 10
	case 7:
		args["amount"] = "12"
	}
	if rng.IntN(2) == 0 {
		args["currency"] = diffPick(rng, []string{"usd", "eur", "gbp"})
	}
	if rng.IntN(3) == 0 {
		args["flag"] = rng.IntN(2) == 0
	}
	if rng.IntN(3) == 0 {
		args["count"] = diffPick(rng, []any{1, 2, 3.0, int64(4)})
	}
	if rng.IntN(2) == 0 {
		args["name"] = diffPick(rng, []string{"alice", "bob", "carol", "dave", ""})
	}
	req.Args = args
	in := &Input{Request: req, ScanIncomplete: rng.IntN(25) == 0}
	nf := 0
	if rng.IntN(3) == 0 {
		nf = 1 + rng.IntN(2)
	}
	for range nf {
		in.Findings = append(in.Findings, Finding{Category: diffPick(rng, []string{"secret.aws-key", "pii.email", "pii", "injection", "injection.prompt", "secretive", "unsafe_input"}),
			Severity: diffPick(rng, append([]string{"bogus"}, diffGenSevs...)), Path: "args.x"})
	}
	if rng.IntN(4) == 0 {
		in.Session = map[string]any{"risk": rng.IntN(100)}
	}
	return in
}

func diffDescribe(in *Input) string {
	r := in.Request
	return fmt.Sprintf("action %q resource %q agent %q type %q env %q args %v findings %v incomplete %t session %v",
		r.Action.Type, r.Action.Resource, r.Principal.ID, r.Principal.Type, r.Context.Environment, r.Args, in.Findings, in.ScanIncomplete, in.Session)
}

// diffMissing lists the ids of a that are not in b, or the whole of a if
// both hold the same ids (in another order).
func diffMissing(a, b []string) []string {
	var out []string
	for _, id := range a {
		if !slices.Contains(b, id) {
			out = append(out, id)
		}
	}
	if out == nil && len(a) == len(b) && !slices.Equal(a, b) {
		return a
	}
	return out
}
