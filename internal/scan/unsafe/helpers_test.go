package unsafe

import (
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

// ruleCase is one text and what a detector must report on it: rule at
// severity min or more, or (rule == "") nothing at medium or more.
type ruleCase struct {
	name string
	text string
	rule string
	min  string
}

// runRuleCases checks each case against d in provenance prov.
func runRuleCases(t *testing.T, d scan.Detector, prov scan.Provenance, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms := d.Detect(scan.Input{Text: c.text, Provenance: prov}, nil)
			checkSpans(t, c.text, ms)
			if c.rule == "" {
				for _, m := range ms {
					if scan.SeverityRank(m.Severity) >= detectAt {
						t.Errorf("Detect(%q) reported %s %s on %q, want nothing at medium or more", c.text, m.Rule, m.Severity, c.text[m.Start:m.End])
					}
				}
				return
			}
			best := ""
			for _, m := range ms {
				if m.Rule == c.rule && scan.SeverityRank(m.Severity) > scan.SeverityRank(best) {
					best = m.Severity
				}
			}
			if scan.SeverityRank(best) < scan.SeverityRank(c.min) {
				t.Errorf("Detect(%q) = %s at %q, want %s at least %s (all: %v)", c.text, c.rule, best, c.rule, c.min, ms)
			}
		})
	}
}

// checkSpans fails on a span outside the text or off a rune boundary.
func checkSpans(t testing.TB, text string, ms []scan.Match) {
	t.Helper()
	for _, m := range ms {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			t.Fatalf("span [%d,%d) outside text of %d bytes (%s)", m.Start, m.End, len(text), m.Rule)
		}
		if !runeStart(text, m.Start) || !runeStart(text, m.End) {
			t.Fatalf("span [%d,%d) not on rune boundaries (%s)", m.Start, m.End, m.Rule)
		}
		if scan.SeverityRank(m.Severity) == 0 || m.Confidence <= 0 || m.Confidence > 1 || m.Category == "" || m.Rule == "" {
			t.Fatalf("malformed match %+v", m)
		}
	}
}

func runeStart(s string, i int) bool { return i == len(s) || s[i]&0xC0 != 0x80 }
