package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Severities, from least to most severe.
var severities = map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4}

// SeverityRank orders severities; an unknown severity ranks 0.
func SeverityRank(s string) int { return severities[s] }

var categoryRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_-]*)*$`)

// selector is one entry of a scan mapping: a category (matching its
// sub-categories too) with an optional minimum severity.
type selector struct {
	text     string
	category string
	min      int
}

func parseSelector(s string) (selector, error) {
	cat, sev, hasSev := strings.Cut(s, ">=")
	cat, sev = strings.TrimSpace(cat), strings.TrimSpace(sev)
	if !categoryRE.MatchString(cat) {
		return selector{}, fmt.Errorf("%q is not a finding category (like secret, pii.email or injection>=high)", s)
	}
	sel := selector{text: s, category: cat}
	if hasSev {
		rank, ok := severities[sev]
		if !ok {
			return selector{}, fmt.Errorf("%q: severity %q is not one of low, medium, high, critical", s, sev)
		}
		sel.min = rank
	}
	return sel, nil
}

// matches reports whether a finding of category and severity is selected.
func (s selector) matches(category, severity string) bool {
	if category != s.category && !strings.HasPrefix(category, s.category+".") {
		return false
	}
	return SeverityRank(severity) >= s.min
}

// Finding is what the policy sees of a scanner finding.
type Finding struct {
	Category   string  `json:"category"`
	Rule       string  `json:"rule"`
	Severity   string  `json:"severity"`
	Confidence float64 `json:"confidence,omitempty"`
	Path       string  `json:"path,omitempty"`
}
