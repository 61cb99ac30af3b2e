package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/gowebpki/jcs"
	"go.yaml.in/yaml/v3"
)

// Compilation limits.
const (
	// DefaultCostLimit bounds the CEL cost of one condition's evaluation;
	// a condition that exceeds it fails, and the decision with it (deny).
	DefaultCostLimit = 100_000
	// MaxExpressionLength bounds the text of one condition.
	MaxExpressionLength = 4096
	// MaxRules bounds the rules of one policy.
	MaxRules = 100_000
)

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	ruleIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	rateRE   = regexp.MustCompile(`^([1-9][0-9]{0,8})/(s|m|h|d)$`)
)

// Policy is a compiled policy, ready to evaluate. It is immutable and safe
// for concurrent use.
type Policy struct {
	Name   string
	Digest string // hex SHA-256 of the document's canonical JSON
	Doc    *Document
	def    string
	rules  []compiledRule
	index  *actionIndex
	scan   compiledScan

	limits   []compiledLimit
	sessions *SessionRules
	// timeout bounds the conditions of one evaluation in time
	// (DefaultConditionTimeout unless WithConditionTimeout says otherwise).
	timeout time.Duration
}

// WithConditionTimeout returns a copy of p whose evaluations give their
// conditions d in all instead of DefaultConditionTimeout. The deadline is
// a wall-clock backstop to the cost limit; tests of what conditions decide
// use a long one, so that a loaded machine (the race detector, packages
// tested in parallel) cannot decide for them. The server keeps the default.
// A d of zero or less means the default.
func (p *Policy) WithConditionTimeout(d time.Duration) *Policy {
	q := *p
	q.timeout = d
	return &q
}

type compiledRule struct {
	pos      int
	id       string
	match    [5]glob // action, resource, agent, principal_type, environment
	has      [5]bool
	when     cel.Program
	effect   string
	message  string
	approval *Approval
}

type compiledScan struct {
	deny, approve, redactArgs, redactOutputs []selector
	onIncomplete                             string
}

// celEnv declares what conditions see.
var celEnv = func() *cel.Env {
	env, err := cel.NewEnv(
		cel.Variable("principal", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("action", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("context", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("findings", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
		cel.Variable("session", cel.MapType(cel.StringType, cel.DynType)),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxExpressionLength),
		cel.ParserRecursionLimit(64),
	)
	if err != nil {
		panic("policy: CEL environment: " + err.Error())
	}
	return env
}()

// ComputeDigest returns the hex SHA-256 of the document's canonical JSON
// (RFC 8785): the identity of a policy's content.
func ComputeDigest(doc *Document) (string, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("digest policy %q: %w", doc.Name, err)
	}
	canon, err := jcs.Transform(raw)
	if err != nil {
		return "", fmt.Errorf("digest policy %q: %w", doc.Name, err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// ParseAndCompile parses and compiles a document.
func ParseAndCompile(data []byte) (*Policy, error) {
	doc, root, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Compile(doc, root)
}

// Compile checks a parsed document's meaning and compiles it. root, the
// parsed YAML tree from Parse, places errors; it may be nil.
func Compile(doc *Document, root *yaml.Node) (*Policy, error) {
	loc := locator{root: root}
	var errs Errors
	bad := func(msg string, path ...any) { errs = append(errs, loc.errorAt(msg, path...)) }

	if !nameRE.MatchString(doc.Name) {
		bad(fmt.Sprintf("name %q must match %s", doc.Name, nameRE), "name")
	}
	p := &Policy{Name: doc.Name, Doc: doc, def: Deny, timeout: DefaultConditionTimeout}
	switch doc.Default {
	case "", Deny:
	case Allow, RequireApproval:
		p.def = doc.Default
	default:
		bad(fmt.Sprintf("default %q must be allow, deny or require_approval", doc.Default), "default")
	}
	if len(doc.Rules) > MaxRules {
		bad(fmt.Sprintf("%d rules, limit %d", len(doc.Rules), MaxRules), "rules")
	}
	seen := map[string]int{}
	for i := range doc.Rules {
		r := &doc.Rules[i]
		cr := compiledRule{pos: i, id: r.ID, effect: r.Effect, approval: r.Approval}
		if !ruleIDRE.MatchString(r.ID) {
			bad(fmt.Sprintf("rule id %q must match %s", r.ID, ruleIDRE), "rules", i, "id")
		} else if first, dup := seen[r.ID]; dup {
			bad(fmt.Sprintf("duplicate rule id %q (first at rules[%d])", r.ID, first), "rules", i, "id")
		} else {
			seen[r.ID] = i
		}
		switch r.Effect {
		case Allow, Deny, RequireApproval:
		default:
			bad(fmt.Sprintf("effect %q must be allow, deny or require_approval", r.Effect), "rules", i, "effect")
		}
		if r.Approval != nil {
			if r.Effect != RequireApproval {
				bad("approval is only for effect require_approval", "rules", i, "approval")
			}
			checkApproval(r.Approval, func(msg string, path ...any) { bad(msg, append([]any{"rules", i, "approval"}, path...)...) })
		}
		for k, g := range matchGlobs(&r.Match) {
			if g.text == "" {
				continue
			}
			gl, err := compileGlob(g.text)
			if err != nil {
				bad(err.Error(), "rules", i, "match", g.key)
				continue
			}
			cr.match[k], cr.has[k] = gl, true
		}
		if r.When != "" {
			prg, e := compileCondition(r.When, loc, "rules", i, "when")
			if e != nil {
				errs = append(errs, e)
			}
			cr.when = prg
		}
		cr.message = r.Reason
		if cr.message == "" {
			cr.message = r.Description
		}
		p.rules = append(p.rules, cr)
	}
	if doc.Scan != nil {
		p.scan = compileScan(doc.Scan, func(msg string, path ...any) { bad(msg, append([]any{"scan"}, path...)...) })
	} else {
		p.scan.onIncomplete = Deny
	}
	checkLimits(doc, bad)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, errs)
	}
	digest, err := ComputeDigest(doc)
	if err != nil {
		return nil, err
	}
	p.Digest = digest
	p.index = buildIndex(p.rules)
	if p.limits, err = compileLimits(doc); err != nil {
		return nil, fmt.Errorf("%w: limits: %w", ErrInvalid, err)
	}
	if p.sessions, err = compileSessions(doc.Sessions); err != nil {
		return nil, fmt.Errorf("%w: sessions: %w", ErrInvalid, err)
	}
	return p, nil
}

type namedGlob struct{ key, text string }

// matchGlobs lists a match's keys in the order compiledRule.match uses.
func matchGlobs(m *Match) []namedGlob {
	return []namedGlob{{"action", m.Action}, {"resource", m.Resource}, {"agent", m.Agent},
		{"principal_type", m.PrincipalType}, {"environment", m.Environment}}
}

// Indexes into compiledRule.match.
const (
	mAction = iota
	mResource
	mAgent
	mPrincipalType
	mEnvironment
)

func compileCondition(expr string, loc locator, path ...any) (cel.Program, *Error) {
	node := loc.at(path...)
	place := func(line, col int, msg string) *Error {
		e := loc.errorAt(msg, path...)
		if node != nil && line > 0 {
			// CEL counts within the expression; a plain or quoted scalar
			// starts on its node's line (a block scalar on the next).
			e.Line = node.Line + line - 1
			if node.Style == yaml.LiteralStyle || node.Style == yaml.FoldedStyle {
				e.Line++
			}
			if line == 1 && node.Style != yaml.LiteralStyle && node.Style != yaml.FoldedStyle {
				e.Column = node.Column + col
				if node.Style == yaml.DoubleQuotedStyle || node.Style == yaml.SingleQuotedStyle {
					e.Column++
				}
			} else {
				e.Column = col + 1
			}
		}
		return e
	}
	if len(expr) > MaxExpressionLength {
		return nil, place(0, 0, fmt.Sprintf("condition of %d bytes, limit %d", len(expr), MaxExpressionLength))
	}
	ast, iss := celEnv.Compile(expr)
	if iss != nil && iss.Err() != nil {
		first := iss.Errors()[0]
		return nil, place(first.Location.Line(), first.Location.Column(), "condition does not compile: "+first.Message)
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, place(0, 0, fmt.Sprintf("condition must be boolean, it is %s (compare it, e.g. == true)", ast.OutputType()))
	}
	prg, err := celEnv.Program(ast, cel.CostLimit(DefaultCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, place(0, 0, "condition: "+err.Error())
	}
	return prg, nil
}

func checkApproval(a *Approval, bad func(string, ...any)) {
	if a.Count < 0 || a.Count > 10 {
		bad(fmt.Sprintf("count %d must be between 1 and 10", a.Count), "count")
	}
	if a.Expires != "" {
		if d, err := ParseDuration(a.Expires); err != nil || d < time.Minute || d > 30*24*time.Hour {
			bad(fmt.Sprintf("expires %q must be a duration between 1m and 30d", a.Expires), "expires")
		}
	}
	for i, g := range a.Groups {
		if strings.TrimSpace(g) == "" {
			bad("empty group", "groups", i)
		}
	}
}

func compileScan(s *Scan, bad func(string, ...any)) compiledScan {
	var cs compiledScan
	lists := []struct {
		key  string
		in   []string
		into *[]selector
	}{
		{"deny", s.Deny, &cs.deny}, {"require_approval", s.RequireApproval, &cs.approve},
		{"redact_args", s.RedactArgs, &cs.redactArgs}, {"redact_outputs", s.RedactOutputs, &cs.redactOutputs},
	}
	for _, l := range lists {
		for i, text := range l.in {
			sel, err := parseSelector(text)
			if err != nil {
				bad(err.Error(), l.key, i)
				continue
			}
			*l.into = append(*l.into, sel)
		}
	}
	switch s.OnIncomplete {
	case "":
		cs.onIncomplete = Deny
	case Allow, Deny, RequireApproval:
		cs.onIncomplete = s.OnIncomplete
	default:
		bad(fmt.Sprintf("on_incomplete %q must be allow, deny or require_approval", s.OnIncomplete), "on_incomplete")
	}
	return cs
}

func checkLimits(doc *Document, bad func(string, ...any)) {
	ids := map[string]bool{}
	for i, l := range doc.Limits {
		if !ruleIDRE.MatchString(l.ID) || ids[l.ID] {
			bad(fmt.Sprintf("limit id %q is missing, malformed or repeated", l.ID), "limits", i, "id")
		}
		ids[l.ID] = true
		switch l.Per {
		case "agent", "session", "tenant", "action":
		default:
			bad(fmt.Sprintf("per %q must be agent, session, tenant or action", l.Per), "limits", i, "per")
		}
		if (l.Rate == "") == (l.Budget == nil) {
			bad("a limit has either a rate or a budget", "limits", i)
		}
		if l.Rate != "" && !rateRE.MatchString(l.Rate) {
			bad(fmt.Sprintf("rate %q must look like 100/h (per s, m, h or d)", l.Rate), "limits", i, "rate")
		}
		if b := l.Budget; b != nil {
			if !strings.HasPrefix(b.Field, "args.") || len(b.Field) < 6 {
				bad(fmt.Sprintf("budget field %q must name an argument (args.x)", b.Field), "limits", i, "budget", "field")
			}
			if b.Max <= 0 {
				bad("budget max must be positive", "limits", i, "budget", "max")
			}
			if d, err := ParseDuration(b.Period); err != nil || d < time.Second {
				bad(fmt.Sprintf("budget period %q must be a duration of at least 1s", b.Period), "limits", i, "budget", "period")
			}
		}
		for _, g := range matchGlobs(&l.Match) {
			if g.text != "" {
				if _, err := compileGlob(g.text); err != nil {
					bad(err.Error(), "limits", i, "match", g.key)
				}
			}
		}
	}
	if s := doc.Sessions; s != nil {
		for i, q := range s.ForbiddenSequences {
			if !ruleIDRE.MatchString(q.ID) || len(q.Steps) < 2 || q.Within < 0 || q.Within > MaxSequenceWindow ||
				(q.Within > 0 && q.Within < len(q.Steps)) {
				bad(fmt.Sprintf("a forbidden sequence needs an id, at least two steps, and a window (within) of 0 or from its steps to %d actions",
					MaxSequenceWindow), "sessions", "forbidden_sequences", i)
			}
			for j, st := range q.Steps {
				if _, err := compileGlob(st); err != nil {
					bad(err.Error(), "sessions", "forbidden_sequences", i, "steps", j)
				}
			}
		}
		if s.MaxActions < 0 {
			bad("max_actions must not be negative", "sessions", "max_actions")
		}
		if r := s.Risk; r != nil {
			for g := range r.Weights {
				if _, err := compileGlob(g); err != nil {
					bad(err.Error(), "sessions", "risk", "weights")
				}
			}
			if r.DenyAt < 0 || r.RequireApprovalAt < 0 {
				bad("risk thresholds must not be negative", "sessions", "risk")
			}
		}
	}
}

// ParseDuration parses a Go duration, plus whole days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
