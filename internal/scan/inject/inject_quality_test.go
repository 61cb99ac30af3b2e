package inject

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/scan/scantest"
)

// row is one labelled line of the injection sets.
type row struct {
	ID          string `json:"id"`
	Text        string `json:"text"`
	Label       int    `json:"label"`
	Category    string `json:"category"`     // pib
	AttackClass string `json:"attack_class"` // agt
	BypassClass string `json:"bypass_class"` // agt
	SourceType  string `json:"source_type"`  // agt
}

func readRows(t *testing.T, name string) []row { return scantest.Rows[row](t, name) }

// readRowsOrNil reads rows for tests that also run without the data.
func readRowsOrNil(name string) []row {
	dir, err := scantest.Dir()
	if err != nil {
		return nil
	}
	rows, _ := scantest.ReadJSONL[row](filepath.Join(dir, name))
	return rows
}

// tally counts a confusion matrix.
type tally = scantest.Confusion

// detectedAt is the operating point: a row is detected when a match of
// category injection or jailbreak has severity medium or above.
func detectedAt(d *Detector, text string, prov scan.Provenance) bool {
	for _, m := range d.Detect(scan.Input{Text: text, Provenance: prov}, nil) {
		if (m.Category == scan.Injection || m.Category == scan.Jailbreak) && scan.SeverityRank(m.Severity) >= scan.SeverityRank(scan.Medium) {
			return true
		}
	}
	return false
}

// agtProvenance reads the agt source type as provenance: retrieved
// chunks, documents and tool results are what an agent reads.
func agtProvenance(source string) scan.Provenance {
	switch source {
	case "tool_result", "rag_chunk", "document":
		return scan.Output
	}
	return scan.Argument
}

// TestQuality measures the detector on the labelled injection sets and
// fails when its share of the combined target is not met: recall ≥ 0.85
// on the rows it owns (pib prompt-injection, jailbreak, memory-poisoning
// and every agt attack) and FPR ≤ 3% on every label-0 row of both files.
// Every row is scanned as scan.Argument (the conservative reading: no
// provenance boost); the agt rows are measured again with their
// source_type as provenance, for information.
func TestQuality(t *testing.T) {
	pib := readRows(t, filepath.Join("injection", "pib_v1.jsonl"))
	agt := readRows(t, filepath.Join("injection", "agt_pi_fixture_smoke_v1.jsonl"))
	d := New(Options{})

	var owned, benign tally
	var missed, falsePos []string
	groups := map[string]*tally{}
	group := func(key string, label int, hit bool) {
		if groups[key] == nil {
			groups[key] = &tally{}
		}
		groups[key].Add(label, hit)
	}
	for _, set := range []struct {
		name string
		rows []row
	}{{"pib_v1", pib}, {"agt_pi_fixture_smoke_v1", agt}} {
		var file, withProv tally
		for _, r := range set.rows {
			hit := detectedAt(d, r.Text, scan.Argument)
			file.Add(r.Label, hit)
			if set.name == "pib_v1" {
				group("pib category="+r.Category, r.Label, hit)
				if r.Label == 1 && (r.Category == "prompt-injection" || r.Category == "jailbreak" || r.Category == "memory-poisoning") {
					owned.Add(1, hit)
				}
			} else {
				group("agt attack_class="+r.AttackClass, r.Label, hit)
				group("agt bypass_class="+r.BypassClass, r.Label, hit)
				if r.Label == 1 {
					owned.Add(1, hit)
				}
				withProv.Add(r.Label, detectedAt(d, r.Text, agtProvenance(r.SourceType)))
			}
			if r.Label == 0 {
				benign.Add(0, hit)
				if hit {
					falsePos = append(falsePos, r.ID)
				}
			} else if !hit && (set.name != "pib_v1" || r.Category == "prompt-injection" || r.Category == "jailbreak" || r.Category == "memory-poisoning") {
				missed = append(missed, r.ID)
			}
		}
		t.Logf("%s (as arguments): %v", set.name, file)
		if set.name != "pib_v1" {
			t.Logf("%s (source_type as provenance): %v", set.name, withProv)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("  %-45s %v", k, *groups[k])
	}
	t.Logf("owned attack rows: recall=%.3f (%d/%d); missed: %s", owned.Recall(), owned.TP, owned.TP+owned.FN, strings.Join(missed, " "))
	t.Logf("label-0 rows of both files: fpr=%.3f (%d/%d); false positives: %s", benign.FPR(), benign.FP, benign.FP+benign.TN, strings.Join(falsePos, " "))
	if benign.FPR() > 0.03 {
		t.Errorf("FPR on label-0 rows = %.3f, want ≤ 0.03", benign.FPR())
	}
	if owned.Recall() < 0.85 {
		t.Errorf("recall on owned attack rows = %.3f, want ≥ 0.85", owned.Recall())
	}
}

// TestQualityOtherBenign measures false positives on the shared sets
// that hold no attacks at all (personal data, credentials, code and
// config samples, real MCP tool lists), read as a tool's output — the
// provenance that weighs most — and the tool lists as tool descriptions.
// A medium finding on them is a false positive; it fails above 1%.
func TestQualityOtherBenign(t *testing.T) {
	d := New(Options{})
	var all tally
	for _, name := range []string{"pii/presidio_synth_v2.jsonl", "pii/pib_pii.jsonl", "secrets/gitleaks_rule_cases.jsonl", "secrets/pib_credentials.jsonl"} {
		var c tally
		for _, r := range readRows(t, name) {
			hit := detectedAt(d, r.Text, scan.Output)
			c.Add(0, hit)
			all.Add(0, hit)
		}
		t.Logf("%s (as outputs): %d texts, fpr=%.4f", name, c.FP+c.TN, c.FPR())
	}
	for _, name := range []string{"mcp/server-everything-2026.8.31.tools-list.json", "mcp/server-filesystem-2026.8.31.tools-list.json"} {
		dir, err := scantest.Dir()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res := scan.New(scan.Limits{}, d).ScanValue(t.Context(), v, "", scan.ToolDescription)
		if res.Incomplete {
			t.Fatalf("%s: scan incomplete: %s", name, res.Why)
		}
		medium := 0
		for _, f := range res.Findings {
			if scan.SeverityRank(f.Severity) >= scan.SeverityRank(scan.Medium) {
				medium++
				t.Logf("%s: %s %s at %s", name, f.Rule, f.Severity, f.Path)
			}
		}
		t.Logf("%s (as tool descriptions): %d findings, %d medium or above", name, len(res.Findings), medium)
		all.Add(0, medium > 0)
	}
	t.Logf("all: fpr=%.4f (%d/%d)", all.FPR(), all.FP, all.FP+all.TN)
	if all.FPR() > 0.01 {
		t.Errorf("FPR on attack-free sets = %.4f, want ≤ 0.01", all.FPR())
	}
}
