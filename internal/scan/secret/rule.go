package secret

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Rule recognises one kind of secret by its format. Its fields follow
// gitleaks' rule of the same name, less the file-path and commit parts,
// which have no meaning for a string an agent sends.
type Rule struct {
	// ID names the rule; findings carry the category "secret.<ID>".
	ID          string
	Description string
	// Regex finds candidates. It MUST come from Go's regexp (RE2), so a
	// match costs time linear in the text.
	Regex *regexp.Regexp
	// SecretGroup is the capture group that holds the secret; 0 takes the
	// first non-empty group, or the whole match when there is none.
	SecretGroup int
	// Entropy, when not 0, is the Shannon entropy (bits per character)
	// the secret must exceed.
	Entropy float64
	// Keywords gate the rule: it runs only on text that contains one of
	// them, compared without ASCII case. A rule without keywords runs on
	// every text.
	Keywords []string
	// Allowlists drop candidates that one of them allows.
	Allowlists []Allowlist

	// Severity of a finding; empty means high.
	Severity string
	// Confidence of a finding, 0..1; 0 means DefaultConfidence.
	Confidence float64
	// Generic marks a rule that recognises a secret by its context (a
	// name like "api_key") rather than by a provider's format. Its
	// finding gives way to a specific rule's finding that covers it, as
	// gitleaks does for its generic rule.
	Generic bool
}

// DefaultConfidence is the confidence of a rule that does not set one.
const DefaultConfidence = 0.8

// Allowlist targets, as in gitleaks' RegexTarget.
const (
	TargetSecret = ""      // the secret (the rule's secret group)
	TargetMatch  = "match" // the rule's whole match
	TargetLine   = "line"  // the line that holds the match
)

// Allowlist conditions, as in gitleaks: with OR a candidate is allowed
// when any regex or any stop word applies; with AND when every kind of
// check present applies (a regex matches and a stop word occurs).
const (
	ConditionOR  = "OR"
	ConditionAND = "AND"
)

// Allowlist lets a rule's candidate through as not a secret. Its
// semantics are gitleaks' (config.Allowlist) without paths and commits:
// Regexes are tested against the target that RegexTarget names; StopWords
// are searched, without ASCII case, in the secret whatever RegexTarget
// says.
type Allowlist struct {
	Regexes     []*regexp.Regexp
	RegexTarget string // TargetSecret ("" or "secret"), TargetMatch or TargetLine
	StopWords   []string
	Condition   string // ConditionOR ("" too) or ConditionAND
}

// ErrInvalidRule is wrapped by New for a rule it cannot use.
var ErrInvalidRule = errors.New("invalid secret rule")

// compiledAllowlist is an Allowlist ready to apply.
type compiledAllowlist struct {
	// regexes are tried one by one: joined with | (as gitleaks joins
	// them), one unanchored branch would make every anchored one scan
	// the whole target.
	regexes []*regexp.Regexp
	target  string
	stop    *automaton // nil when no stop words
	and     bool
}

func compileAllowlist(a Allowlist) (compiledAllowlist, error) {
	c := compiledAllowlist{}
	switch strings.ToUpper(a.Condition) {
	case "", ConditionOR, "||":
	case ConditionAND, "&&":
		c.and = true
	default:
		return c, fmt.Errorf("allowlist condition %q (want OR or AND)", a.Condition)
	}
	switch a.RegexTarget {
	case TargetSecret, "secret":
		c.target = TargetSecret
	case TargetMatch, TargetLine:
		c.target = a.RegexTarget
	default:
		return c, fmt.Errorf("allowlist regex target %q (want secret, match or line)", a.RegexTarget)
	}
	if len(a.Regexes) == 0 && len(a.StopWords) == 0 {
		return c, errors.New("empty allowlist")
	}
	for _, re := range a.Regexes {
		if re == nil {
			return c, errors.New("nil allowlist regex")
		}
		c.regexes = append(c.regexes, re)
	}
	if len(a.StopWords) > 0 {
		c.stop = newAutomaton(a.StopWords)
	}
	return c, nil
}

// allows reports whether the allowlist lets the candidate through.
func (a *compiledAllowlist) allows(secret, match, line string) bool {
	target := secret
	switch a.target {
	case TargetMatch:
		target = match
	case TargetLine:
		target = line
	}
	// Stop words first: one automaton pass over a short string is
	// cheaper than a regex, and settles an OR.
	stopHit := a.stop != nil && a.stop.contains(secret)
	if a.and {
		if a.stop != nil && !stopHit {
			return false
		}
		return len(a.regexes) == 0 || a.regexHit(target)
	}
	return stopHit || a.regexHit(target)
}

func (a *compiledAllowlist) regexHit(target string) bool {
	if target == "" {
		return false
	}
	for _, re := range a.regexes {
		if re.MatchString(target) {
			return true
		}
	}
	return false
}
