package secret_test

import (
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/scan/secret"
)

// TestPlansMatchWholeText checks that running each format rule by its
// plan (anchored at keywords, or in windows) finds exactly what FindAll
// over the whole text finds, as gitleaks runs it: on every labelled row,
// on benign text, and on texts built to probe the plans' edges.
func TestPlansMatchWholeText(t *testing.T) {
	d := detector(t)
	texts := map[string]string{
		"benign":            benignText(64<<10, 11),
		"keyword at start":  "key=" + fake(70, 32, alnum),
		"keyword at end":    "the value " + fake(71, 32, alnum) + " is the key",
		"adjacent matches":  strings.Repeat("api_key="+fake(72, 24, alnum)+";", 5),
		"prefix across":     strings.Repeat("x", 60) + "_secret_token = \"" + fake(73, 30, alnum) + "\"",
		"non-ascii context": "é" + "ghp_" + fake(74, 36, alnum) + "ü token: " + fake(75, 20, alnum) + "ſecret=" + fake(76, 20, alnum),
		"overlapping names": "access_token_secret_key: " + fake(77, 40, alnum) + " auth token: " + fake(78, 40, alnum),
		"long value":        "api_key=" + fake(79, 700, b64chars) + "\n",
		"invalid utf-8":     "tok\xffen=" + fake(80, 30, alnum) + " \xe2\x84 key: " + fake(81, 30, alnum),
	}
	for _, file := range []string{"secrets/gitleaks_rule_cases.jsonl", "secrets/pib_credentials.jsonl"} {
		rows, path, ok := readRows(t, file)
		if !ok {
			t.Logf("labelled data %s not found: checking built texts only", path)
		}
		for i, r := range rows {
			texts[file+" row "+itoa(i)] = r.Text
		}
	}
	var plans [3]int
	for name, text := range texts {
		diffs, p := secret.PlanMismatches(d, text)
		plans = p
		for _, diff := range diffs {
			t.Errorf("%s: %s", name, diff)
		}
	}
	t.Logf("rules by plan: whole text %d, windowed %d, keyword-led %d", plans[0], plans[1], plans[2])
	if plans[2] < plans[0]+plans[1] {
		t.Errorf("keyword-led rules %d, want most of the %d", plans[2], plans[0]+plans[1]+plans[2])
	}
}
