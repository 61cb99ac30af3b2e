// Package policy is Warden's policy language (DESIGN.md section 5): strict
// parsing of YAML or JSON documents with line and column in every error,
// compilation (globs, CEL conditions with a cost limit, an index of rules),
// and evaluation of a request to a decision without any I/O.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxDocumentSize bounds a policy document.
const MaxDocumentSize = 4 << 20

// Effects of a rule and decisions of a policy.
const (
	Allow           = "allow"
	Deny            = "deny"
	RequireApproval = "require_approval"
	// RateLimited is a decision (never a rule's effect): a limit or budget
	// of the policy is exhausted.
	RateLimited = "rate_limited"
)

// Document is a parsed policy, exactly as written (before compilation).
// Its JSON form, canonicalized, is what the digest covers.
type Document struct {
	Name     string    `yaml:"name" json:"name"`
	Default  string    `yaml:"default,omitempty" json:"default,omitempty"`
	Rules    []Rule    `yaml:"rules,omitempty" json:"rules,omitempty"`
	Scan     *Scan     `yaml:"scan,omitempty" json:"scan,omitempty"`
	Limits   []Limit   `yaml:"limits,omitempty" json:"limits,omitempty"`
	Sessions *Sessions `yaml:"sessions,omitempty" json:"sessions,omitempty"`
}

// Rule is one rule: where it applies (match, when) and what it decides.
type Rule struct {
	ID          string    `yaml:"id" json:"id"`
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	Match       Match     `yaml:"match,omitempty" json:"match,omitempty"`
	When        string    `yaml:"when,omitempty" json:"when,omitempty"`
	Effect      string    `yaml:"effect" json:"effect"`
	Reason      string    `yaml:"reason,omitempty" json:"reason,omitempty"`
	Approval    *Approval `yaml:"approval,omitempty" json:"approval,omitempty"`
}

// Match holds a rule's globs; an empty key matches anything.
type Match struct {
	Action        string `yaml:"action,omitempty" json:"action,omitempty"`
	Resource      string `yaml:"resource,omitempty" json:"resource,omitempty"`
	Agent         string `yaml:"agent,omitempty" json:"agent,omitempty"`
	PrincipalType string `yaml:"principal_type,omitempty" json:"principal_type,omitempty"`
	Environment   string `yaml:"environment,omitempty" json:"environment,omitempty"`
}

// Approval says who must approve a require_approval decision.
type Approval struct {
	Groups  []string `yaml:"groups,omitempty" json:"groups,omitempty"`
	Keys    []string `yaml:"keys,omitempty" json:"keys,omitempty"`
	Count   int      `yaml:"count,omitempty" json:"count,omitempty"`
	Expires string   `yaml:"expires,omitempty" json:"expires,omitempty"`
}

// Scan maps findings to decisions and redactions.
type Scan struct {
	Deny            []string `yaml:"deny,omitempty" json:"deny,omitempty"`
	RequireApproval []string `yaml:"require_approval,omitempty" json:"require_approval,omitempty"`
	RedactArgs      []string `yaml:"redact_args,omitempty" json:"redact_args,omitempty"`
	RedactOutputs   []string `yaml:"redact_outputs,omitempty" json:"redact_outputs,omitempty"`
	OnIncomplete    string   `yaml:"on_incomplete,omitempty" json:"on_incomplete,omitempty"`
}

// Limit is a rate limit or a budget (counted by the limits package).
type Limit struct {
	ID     string  `yaml:"id" json:"id"`
	Match  Match   `yaml:"match,omitempty" json:"match,omitempty"`
	Per    string  `yaml:"per" json:"per"`
	Rate   string  `yaml:"rate,omitempty" json:"rate,omitempty"`
	Budget *Budget `yaml:"budget,omitempty" json:"budget,omitempty"`
}

// Budget sums an integer argument over a period.
type Budget struct {
	Field  string `yaml:"field" json:"field"`
	Max    int64  `yaml:"max" json:"max"`
	Period string `yaml:"period" json:"period"`
}

// Sessions are the session rules (enforced by the limits package).
type Sessions struct {
	ForbiddenSequences []Sequence `yaml:"forbidden_sequences,omitempty" json:"forbidden_sequences,omitempty"`
	MaxActions         int        `yaml:"max_actions,omitempty" json:"max_actions,omitempty"`
	Risk               *Risk      `yaml:"risk,omitempty" json:"risk,omitempty"`
}

// Sequence is a forbidden sequence of actions within a window of actions.
type Sequence struct {
	ID     string   `yaml:"id" json:"id"`
	Steps  []string `yaml:"steps" json:"steps"`
	Within int      `yaml:"within,omitempty" json:"within,omitempty"`
}

// Risk scores a session by the actions it takes.
type Risk struct {
	Weights           map[string]int `yaml:"weights" json:"weights"`
	RequireApprovalAt int            `yaml:"require_approval_at,omitempty" json:"require_approval_at,omitempty"`
	DenyAt            int            `yaml:"deny_at,omitempty" json:"deny_at,omitempty"`
}

// Error is one problem in a policy document, with its place.
type Error struct {
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Path   string `json:"path,omitempty"` // e.g. rules[2].when
	Msg    string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a document, in order of appearance.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// ErrInvalid is wrapped by every error that rejects a document.
var ErrInvalid = errors.New("invalid policy")

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse decodes a policy document, YAML or JSON (JSON is YAML), strictly:
// unknown fields, duplicate keys, several documents and wrong types are
// errors with their line. It does not check meaning; Compile does.
func Parse(data []byte) (*Document, *yaml.Node, error) {
	if len(data) > MaxDocumentSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalid, len(data), MaxDocumentSize)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, &Error{Msg: "empty document"})
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, yamlError(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, &Error{Line: extra.Line, Msg: "more than one document"})
	}
	var doc Document
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, yamlError(err))
	}
	return &doc, &root, nil
}

// yamlError turns the decoder's errors into Errors with lines.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var es Errors
		for _, msg := range te.Errors {
			es = append(es, lineError(msg))
		}
		return es
	}
	return lineError(err.Error())
}

func lineError(msg string) *Error {
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscanf(m[1], "%d", &line)
		return &Error{Line: line, Msg: m[2]}
	}
	return &Error{Msg: strings.TrimPrefix(msg, "yaml: ")}
}
