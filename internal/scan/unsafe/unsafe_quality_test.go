package unsafe

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan/scantest"

	"github.com/wardenhq/warden/internal/scan"
)

// The quality tests read the labelled sets of ../shared/testdata; run
// them, with their numbers, by
//
//	go test ./internal/scan/unsafe/ -run Quality -v
//
// A row counts as detected when any finding is at least medium: low
// findings are context for a reviewer, not a verdict (the policy's scan
// mapping usually acts from medium up).
const detectAt = 2 // scan.SeverityRank(scan.Medium)

// maxBenignFPR is this package's share of the scan's false-positive
// budget on benign text (3% with the injection detector).
const maxBenignFPR = 0.02

type tally = scantest.Confusion

// rulesOf lists the distinct rules of findings at or above detectAt.
func rulesOf(ms []scan.Match) string {
	var rs []string
	for _, m := range ms {
		if scan.SeverityRank(m.Severity) >= detectAt && !slices.Contains(rs, m.Rule) {
			rs = append(rs, m.Rule)
		}
	}
	sort.Strings(rs)
	return strings.Join(rs, ",")
}

// TestQualityPIB measures the unsafe-input and exfiltration detectors on
// the benchmark rows of their categories, as tool arguments (the stricter
// provenance: every rule applies at full severity).
func TestQualityPIB(t *testing.T) {
	rows := loadRows(t, "injection/pib_v1.jsonl")
	ui, ex := NewUnsafeInput(), NewExfiltration()
	sets := []struct {
		category string
		floor    float64 // recall below this fails: a regression guard, under what is measured
	}{
		{"code-safety", 0.85},
		{"exfiltration", 0.75},
	}
	for _, set := range sets {
		t.Run(set.category, func(t *testing.T) {
			var both, uOnly, eOnly tally
			for _, r := range rows {
				if r.Category != set.category {
					continue
				}
				mu := ui.Detect(scan.Input{Text: r.Text, Provenance: scan.Argument}, nil)
				me := ex.Detect(scan.Input{Text: r.Text, Provenance: scan.Argument}, nil)
				hu, he := maxSeverity(mu) >= detectAt, maxSeverity(me) >= detectAt
				both.Add(r.Label, hu || he)
				uOnly.Add(r.Label, hu)
				eOnly.Add(r.Label, he)
				if (r.Label == 1) != (hu || he) {
					t.Logf("miss: %s label=%d rules=%s", r.ID, r.Label, rulesOf(append(mu, me...)))
				}
			}
			t.Logf("%s unsafe_input+exfiltration: %v", set.category, both)
			t.Logf("%s unsafe_input alone:        %v", set.category, uOnly)
			t.Logf("%s exfiltration alone:        %v", set.category, eOnly)
			if r := scantest.Ratio(both.TP, both.TP+both.FN); r < set.floor {
				t.Errorf("%s recall = %.3f, want >= %.2f", set.category, r, set.floor)
			}
		})
	}
}

// TestQualityBenignFPR holds the detectors to their false-positive budget
// on every benign row of the injection sets, read as tool arguments.
func TestQualityBenignFPR(t *testing.T) {
	ds := []scan.Detector{NewUnsafeInput(), NewExfiltration(), NewToolPoisoning()}
	var all tally
	for _, file := range []string{"injection/pib_v1.jsonl", "injection/agt_pi_fixture_smoke_v1.jsonl"} {
		var c tally
		for _, r := range loadRows(t, file) {
			if r.Label != 0 {
				continue
			}
			ms := detectAll(r.Text, scan.Argument, ds...)
			hit := maxSeverity(ms) >= detectAt
			c.Add(0, hit)
			all.Add(0, hit)
			if hit {
				t.Logf("false positive: %s rules=%s", r.ID, rulesOf(ms))
			}
		}
		t.Logf("%s benign rows: %v", file, c)
	}
	t.Logf("combined benign rows: %v", all)
	if fpr := scantest.Ratio(all.FP, all.FP+all.TN); fpr > maxBenignFPR {
		t.Errorf("benign FPR = %.3f (%d/%d), want <= %.2f", fpr, all.FP, all.FP+all.TN, maxBenignFPR)
	}
}

// TestQualityPresidioProse checks that URLs and IP addresses written in
// prose (presidio's synthetic records: web sites, "blocked address
// 41.173.96.26") are not reported as SSRF targets: they are public, and a
// bare address counts only where the text uses it as a target.
func TestQualityPresidioProse(t *testing.T) {
	rows := loadRows(t, "pii/presidio_synth_v2.jsonl")
	ds := []scan.Detector{NewUnsafeInput(), NewExfiltration()}
	byRule := map[string]int{}
	var benign tally
	for _, r := range rows {
		ms := detectAll(r.Text, scan.Argument, ds...)
		for _, m := range ms {
			byRule[m.Rule+"/"+m.Severity]++
			if strings.HasPrefix(m.Rule, "ssrf-") && scan.SeverityRank(m.Severity) >= detectAt {
				t.Errorf("%s (label %d): %s %s at [%d,%d)", r.ID, r.Label, m.Rule, m.Severity, m.Start, m.End)
			}
		}
		if r.Label == 0 {
			hit := maxSeverity(ms) >= detectAt
			benign.Add(0, hit)
			if hit {
				t.Logf("finding on benign row %s: %s", r.ID, rulesOf(ms))
			}
		}
	}
	t.Logf("presidio benign rows: %v", benign)
	t.Logf("presidio findings by rule/severity (all rows): %v", byRule)
}
