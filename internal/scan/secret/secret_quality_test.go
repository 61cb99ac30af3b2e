package secret_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan/scantest"

	"github.com/wardenhq/warden/internal/scan"
)

// confusion counts rows: a row is detected when any finding occurs.
type confusion = scantest.Confusion

// covers reports whether some match's span holds an occurrence of value.
func covers(text string, ms []scan.Match, value string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], value)
		if i < 0 {
			return false
		}
		i += from
		for _, m := range ms {
			if m.Start <= i && i+len(value) <= m.End {
				return true
			}
		}
		from = i + 1
	}
}

// TestQuality measures the detector on the labelled sets of
// shared/testdata and holds it to the floors the product needs.
func TestQuality(t *testing.T) {
	d := detector(t)
	detect := func(text string) []scan.Match { return d.Detect(scan.Input{Text: text}, nil) }
	var table strings.Builder

	t.Run("gitleaks_rule_cases", func(t *testing.T) {
		rows := loadRows(t, "secrets/gitleaks_rule_cases.jsonl")
		var c confusion
		detectedTP, covered := 0, 0
		for _, r := range rows {
			ms := detect(r.Text)
			c.Add(r.Label, len(ms) > 0)
			if r.Label == 1 && len(ms) > 0 && len(r.Secrets) > 0 {
				detectedTP++
				all := true
				for _, s := range r.Secrets {
					all = all && covers(r.Text, ms, s)
				}
				if all {
					covered++
				}
			}
		}
		fmt.Fprintf(&table, "%-28s %s  spans=%.3f (%d/%d)\n", "gitleaks_rule_cases", c, scantest.Ratio(covered, detectedTP), covered, detectedTP)
		if c.Recall() < 0.95 || c.Precision() < 0.90 {
			t.Errorf("gitleaks_rule_cases: %s; want recall >= 0.95 and precision >= 0.90", c)
		}
		if scantest.Ratio(covered, detectedTP) < 0.95 {
			t.Errorf("gitleaks_rule_cases: spans cover the labelled secrets on %d of %d detected rows, want >= 0.95", covered, detectedTP)
		}
	})

	t.Run("pib_credentials", func(t *testing.T) {
		rows := loadRows(t, "secrets/pib_credentials.jsonl")
		var c confusion
		for _, r := range rows {
			ms := detect(r.Text)
			c.Add(r.Label, len(ms) > 0)
			if r.Label == 0 && len(ms) > 0 {
				// A placeholder or a discussion of formats: the
				// rows a secret detector must leave alone.
				t.Errorf("benign row %s (%s): %d findings, want none", r.ID, r.Sub, len(ms))
			}
		}
		fmt.Fprintf(&table, "%-28s %s\n", "pib_credentials", c)
		if c.Recall() < 0.85 {
			t.Errorf("pib_credentials: %s; want recall >= 0.85", c)
		}
	})

	// Text with no secret in it: prompts ending in "Trace <32 hex>", and
	// records full of names, addresses, cards and phone numbers.
	for _, set := range []struct {
		name, file    string
		labelZeroOnly bool
	}{
		{"agt_pi_fixture (label 0)", "injection/agt_pi_fixture_smoke_v1.jsonl", true},
		{"presidio_synth_v2 (all)", "pii/presidio_synth_v2.jsonl", false},
	} {
		t.Run(set.name, func(t *testing.T) {
			rows := loadRows(t, set.file)
			n, hit, findings := 0, 0, 0
			for _, r := range rows {
				if set.labelZeroOnly && r.Label != 0 {
					continue
				}
				n++
				if ms := detect(r.Text); len(ms) > 0 {
					hit++
					findings += len(ms)
				}
			}
			fmt.Fprintf(&table, "%-28s rows=%4d with findings=%d (%.3f) findings=%d\n", set.name, n, hit, scantest.Ratio(hit, n), findings)
			if scantest.Ratio(hit, n) > 0.01 {
				t.Errorf("%s: findings on %d of %d rows with no secret, want <= 1%%", set.name, hit, n)
			}
		})
	}
	t.Logf("secret detector quality (go test ./internal/scan/secret -run TestQuality -v)\n%s", table.String())
}
