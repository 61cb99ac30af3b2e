package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A case file pins what a policy decides for requests its author cares
// about (`warden policy test`). It is parsed as strictly as a policy, and
// each request as strictly as the server decodes one: a case that the
// server would refuse could only ever test a request no agent can send.
//
//	cases:
//	  - name: small charge is allowed
//	    request: {principal: {id: billing-bot, type: agent}, action: {type: stripe.charges.create}, args: {amount: 500}}
//	    findings: [{category: pii.email, severity: low}]   # optional: as if the scanner reported them
//	    scan_incomplete: false                             # optional
//	    expect: {decision: allow, rules: [small-charges], code: rule}

// MaxCaseFileSize bounds a case file.
const MaxCaseFileSize = 16 << 20

// ErrInvalidCases is wrapped by every error that rejects a case file.
var ErrInvalidCases = errors.New("invalid case file")

// Case is one request and the decision expected for it.
type Case struct {
	Name string
	// Line is where the case starts in its file.
	Line           int
	Request        Request
	Findings       []Finding
	ScanIncomplete bool
	Expect         Expectation
}

// Expectation is what a case expects of a decision.
type Expectation struct {
	Decision string `json:"decision"`
	// Rules, when not nil, are the ids of exactly the rules that must
	// apply, in any order; an empty, non-nil list means none. Nil means
	// the rules are not checked.
	Rules []string `json:"rules"`
	// Code, when set, is the code of the reason that decided: see
	// CaseOutcome.Code.
	Code string `json:"code,omitempty"`
}

// CaseOutcome is what the policy decided for a case.
type CaseOutcome struct {
	Decision string   `json:"decision"`
	Rules    []string `json:"rules"` // in document order
	// Code is the code of the answer's first reason, the one that decided:
	// "rule" when an applied rule has the decision's effect, "default"
	// when no rule applied and the default stands, "scan" when the scan
	// mapping made the decision stricter than any rule (or the default),
	// "error" when the policy could not be evaluated.
	Code string `json:"code"`
}

// CaseResult is one case's outcome against its expectation.
type CaseResult struct {
	Name string      `json:"name"`
	Line int         `json:"line"`
	Pass bool        `json:"pass"`
	Want Expectation `json:"want"`
	Got  CaseOutcome `json:"got"`
	// Error is why the policy could not evaluate the request, if it could not.
	Error string `json:"error,omitempty"`
}

// CaseReport is the result of running a case file against a policy.
type CaseReport struct {
	Policy  string       `json:"policy"`
	Digest  string       `json:"digest"`
	Passed  int          `json:"passed"`
	Failed  int          `json:"failed"`
	Results []CaseResult `json:"cases"`
	// Unexercised are the ids of the rules that applied in no case's
	// decision (whether the case passed or not), in document order.
	Unexercised []string `json:"unexercised"`
}

// String reads "deny rules [a, b] code rule", leaving out what is not
// checked.
func (e Expectation) String() string {
	var b strings.Builder
	b.WriteString(e.Decision)
	if e.Rules != nil {
		fmt.Fprintf(&b, " rules [%s]", strings.Join(e.Rules, ", "))
	}
	if e.Code != "" {
		b.WriteString(" code " + e.Code)
	}
	return b.String()
}

// String reads "deny rules [a, b] code rule".
func (o CaseOutcome) String() string {
	return fmt.Sprintf("%s rules [%s] code %s", o.Decision, strings.Join(o.Rules, ", "), o.Code)
}

// RunCases evaluates every case against p and compares each decision
// with its expectation. Rules are compared as sets: the same ids, in any
// order.
func RunCases(p *Policy, cases []Case) *CaseReport {
	rep := &CaseReport{Policy: p.Name, Digest: p.Digest, Results: make([]CaseResult, 0, len(cases)), Unexercised: []string{}}
	applied := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		req := c.Request
		d := p.Evaluate(&Input{Request: &req, Findings: c.Findings, ScanIncomplete: c.ScanIncomplete})
		got := CaseOutcome{Decision: d.Effect, Rules: append([]string{}, d.Rules...), Code: decidingCode(d)}
		res := CaseResult{Name: c.Name, Line: c.Line, Want: c.Expect, Got: got}
		if d.Err != nil {
			res.Error = d.Err.Error()
		}
		for _, id := range d.Rules {
			applied[id] = true
		}
		res.Pass = got.Decision == c.Expect.Decision &&
			(c.Expect.Rules == nil || sameSet(got.Rules, c.Expect.Rules)) &&
			(c.Expect.Code == "" || got.Code == c.Expect.Code)
		if res.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Results = append(rep.Results, res)
	}
	for _, r := range p.rules {
		if !applied[r.id] {
			rep.Unexercised = append(rep.Unexercised, r.id)
		}
	}
	return rep
}

// decidingCode is the code of the answer's first reason: Evaluate puts
// the reasons that decided first, rules and the default before the scan
// mapping, which can only make a decision stricter.
func decidingCode(d *Decision) string {
	if d.Err != nil || len(d.Reasons) == 0 {
		return CodeError
	}
	return d.Reasons[0].Code
}

// sameSet reports whether two lists without repeats hold the same ids.
func sameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	in := make(map[string]bool, len(got))
	for _, g := range got {
		in[g] = true
	}
	for _, w := range want {
		if !in[w] {
			return false
		}
	}
	return true
}

// The case file as written; requests stay YAML until they are converted
// to the JSON the server would receive.
type caseFileDoc struct {
	Cases []caseDoc `yaml:"cases"`
}

type caseDoc struct {
	Name           string       `yaml:"name"`
	Request        yaml.Node    `yaml:"request"`
	Findings       []findingDoc `yaml:"findings"`
	ScanIncomplete bool         `yaml:"scan_incomplete"`
	Expect         *expectDoc   `yaml:"expect"`
}

// findingDoc is a Finding with YAML names; it converts to one.
type findingDoc struct {
	Category   string  `yaml:"category"`
	Rule       string  `yaml:"rule"`
	Severity   string  `yaml:"severity"`
	Confidence float64 `yaml:"confidence"`
	Path       string  `yaml:"path"`
}

type expectDoc struct {
	Decision string `yaml:"decision"`
	// A pointer tells "rules: []" (none may apply) from no rules key.
	Rules *[]string `yaml:"rules"`
	Code  string    `yaml:"code"`
}

// maxCaseNameLength bounds a case's name.
const maxCaseNameLength = 200

// ParseCases decodes a case file strictly: unknown fields, duplicate keys,
// wrong types, repeated case names and requests that POST /v1/evaluate
// would refuse are errors with their line. It reports every problem it
// finds, as Errors wrapped with ErrInvalidCases.
func ParseCases(data []byte) ([]Case, error) {
	if len(data) > MaxCaseFileSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidCases, len(data), MaxCaseFileSize)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCases, &Error{Msg: "empty document"})
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidCases, yamlError(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCases, &Error{Line: extra.Line, Msg: "more than one document"})
	}
	var doc caseFileDoc
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCases, yamlError(err))
	}

	loc := locator{root: &root}
	var errs Errors
	if len(doc.Cases) == 0 {
		errs = append(errs, loc.errorAt("no cases", "cases"))
	}
	cases := make([]Case, 0, len(doc.Cases))
	seen := map[string]int{}
	for i := range doc.Cases {
		cd := &doc.Cases[i]
		bad := func(msg string, path ...any) {
			if cd.Name != "" {
				msg = fmt.Sprintf("case %q: %s", cd.Name, msg)
			}
			errs = append(errs, loc.errorAt(msg, append([]any{"cases", i}, path...)...))
		}
		c := Case{Name: cd.Name, ScanIncomplete: cd.ScanIncomplete}
		if n := loc.at("cases", i); n != nil {
			c.Line = n.Line
		}
		switch first, dup := seen[cd.Name]; {
		case strings.TrimSpace(cd.Name) == "":
			bad("name is required", "name")
		case len(cd.Name) > maxCaseNameLength:
			bad(fmt.Sprintf("name of %d bytes, limit %d", len(cd.Name), maxCaseNameLength), "name")
		case dup:
			bad(fmt.Sprintf("repeats the name of cases[%d]", first), "name")
		default:
			seen[cd.Name] = i
		}
		if req, e := caseRequest(&cd.Request); e != nil {
			if e.Line == 0 {
				// Not placed more precisely: place it at the request.
				placed := loc.errorAt("", "cases", i, "request")
				e.Line, e.Column = placed.Line, placed.Column
			}
			if cd.Name != "" {
				e.Msg = fmt.Sprintf("case %q: %s", cd.Name, e.Msg)
			}
			e.Path = pathString([]any{"cases", i, "request"})
			errs = append(errs, e)
		} else {
			c.Request = *req
		}
		for j, f := range cd.Findings {
			if !categoryRE.MatchString(f.Category) {
				bad(fmt.Sprintf("category %q is not a finding category (like pii.email)", f.Category), "findings", j, "category")
			}
			if SeverityRank(f.Severity) == 0 {
				bad(fmt.Sprintf("severity %q must be low, medium, high or critical", f.Severity), "findings", j, "severity")
			}
			if f.Confidence < 0 || f.Confidence > 1 {
				bad(fmt.Sprintf("confidence %v must be between 0 and 1", f.Confidence), "findings", j, "confidence")
			}
			c.Findings = append(c.Findings, Finding(f))
		}
		c.Expect = checkExpectation(cd.Expect, bad)
		cases = append(cases, c)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCases, errs)
	}
	return cases, nil
}

func checkExpectation(e *expectDoc, bad func(string, ...any)) Expectation {
	if e == nil {
		bad("expect is required")
		return Expectation{}
	}
	x := Expectation{Decision: e.Decision, Code: e.Code}
	switch e.Decision {
	case Allow, Deny, RequireApproval:
	default:
		bad(fmt.Sprintf("decision %q must be allow, deny or require_approval", e.Decision), "expect", "decision")
	}
	switch e.Code {
	case "", CodeRule, CodeDefault, CodeScan, CodeError:
	default:
		bad(fmt.Sprintf("code %q must be rule, default, scan or error", e.Code), "expect", "code")
	}
	if e.Rules != nil {
		x.Rules = []string{}
		listed := map[string]bool{}
		for j, id := range *e.Rules {
			switch {
			case !ruleIDRE.MatchString(id):
				bad(fmt.Sprintf("rule id %q must match %s", id, ruleIDRE), "expect", "rules", j)
			case listed[id]:
				bad(fmt.Sprintf("rule id %q is listed twice", id), "expect", "rules", j)
			default:
				listed[id] = true
				x.Rules = append(x.Rules, id)
			}
		}
	}
	return x
}

// caseRequest converts a case's request to the JSON body the server would
// receive and decodes that with DecodeRequest, so that a case file cannot
// hold a request the server refuses. Numbers must be written as JSON
// writes them and are checked where they are written, for a precise line.
func caseRequest(n *yaml.Node) (*Request, *Error) {
	if n.Kind == 0 {
		return nil, &Error{Msg: "request is required"}
	}
	if n.Kind != yaml.MappingNode {
		return nil, &Error{Line: n.Line, Column: n.Column, Msg: "request must be a mapping"}
	}
	var b bytes.Buffer
	if e := writeJSON(&b, n, "", 0); e != nil {
		return nil, e
	}
	r, err := DecodeRequest(b.Bytes())
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), ErrBadRequest.Error()+": ")
		return nil, &Error{Line: n.Line, Column: n.Column, Msg: "POST /v1/evaluate would refuse this request: " + msg}
	}
	if r.Authorization != "" {
		return nil, &Error{Line: n.Line, Column: n.Column, Msg: "authorization is not part of a policy decision; leave it out"}
	}
	return &r.Request, nil
}

// jsonNumberRE is the grammar of a JSON number (RFC 8259).
var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// writeJSON writes n as JSON. path names n within the request, as the
// request decoder names values (args.items[2]).
func writeJSON(b *bytes.Buffer, n *yaml.Node, path string, depth int) *Error {
	fail := func(format string, args ...any) *Error {
		msg := fmt.Sprintf(format, args...)
		if path != "" {
			msg = path + ": " + msg
		}
		return &Error{Line: n.Line, Column: n.Column, Msg: msg}
	}
	// The decoder refuses anything nested this deep; stop before the
	// stack grows with it.
	if depth > MaxDepth+2 {
		return fail("nested deeper than %d levels", MaxDepth)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return fail("aliases are not allowed in a request; write the value out")
	case yaml.MappingNode:
		b.WriteByte('{')
		keys := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" || k.ShortTag() == "!!merge" {
				return &Error{Line: k.Line, Column: k.Column, Msg: "a key must be a string"}
			}
			if keys[k.Value] {
				return &Error{Line: k.Line, Column: k.Column, Msg: fmt.Sprintf("key %q is repeated", k.Value)}
			}
			keys[k.Value] = true
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k.Value)
			b.WriteByte(':')
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			if e := writeJSON(b, v, sub, depth+1); e != nil {
				return e
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, v := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if e := writeJSON(b, v, fmt.Sprintf("%s[%d]", path, i), depth+1); e != nil {
				return e
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str", "!!timestamp":
			// A date written without quotes is text to the server.
			writeString(b, n.Value)
		case "!!null":
			b.WriteString("null")
		case "!!bool":
			if strings.EqualFold(n.Value, "true") {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case "!!int", "!!float":
			if !jsonNumberRE.MatchString(n.Value) {
				return fail("number %s is not written as JSON writes numbers (write it in decimal, or quote it for text)", n.Value)
			}
			if _, err := number(n.Value, path); err != nil {
				return &Error{Line: n.Line, Column: n.Column, Msg: err.Error()}
			}
			b.WriteString(n.Value)
		default:
			return fail("a value tagged %s has no JSON form", tag)
		}
	default:
		return fail("unexpected YAML node")
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always encodes
	b.Write(enc)
}
