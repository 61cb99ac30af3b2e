package alerting

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRouteMatches(t *testing.T) {
	routes, err := compileRoutes(json.RawMessage(`[
		{"name": "crit", "match": {"severity": ["critical"]}, "receivers": ["pager"]},
		{"name": "billing-findings", "match": {"agent": "billing-*", "metric": "findings.*"}, "receivers": ["pager"]},
		{"name": "stop", "match": {"agent": "rogue"}, "control": {"effect": "deny", "for": "1h"}}]`), []string{"pager"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		a    Alert
		want []string
	}{
		{Alert{Severity: SeverityCritical, Agent: "x", Metric: "denies"}, []string{"crit"}},
		{Alert{Severity: SeverityWarning, Agent: "billing-7", Metric: "findings.secret"}, []string{"billing-findings"}},
		{Alert{Severity: SeverityWarning, Agent: "billing-7", Metric: "denies"}, nil},
		{Alert{Severity: SeverityCritical, Agent: "rogue", Metric: "denies"}, []string{"crit", "stop"}},
		// An alert about the log itself has no agent: agent globs never match it.
		{Alert{Severity: SeverityCritical, Metric: "ledger.integrity"}, []string{"crit"}},
	}
	for _, c := range cases {
		var got []string
		for i := range routes {
			if routes[i].matches(&c.a) {
				got = append(got, routes[i].Name)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%+v matched %v, want %v", c.a, got, c.want)
		}
	}
	if routes[2].hold != time.Hour {
		t.Errorf("control for 1h held %v", routes[2].hold)
	}
}

func TestRoutesRefused(t *testing.T) {
	for _, list := range []string{
		`[{"name": "a", "match": {}}]`,             // neither receivers nor control
		`[{"name": "a", "receivers": ["nobody"]}]`, // unknown receiver
		`[{"name": "a", "receivers": ["pager"]}, {"name": "a", "receivers": ["pager"]}]`,
		`[{"name": "a", "match": {"severity": ["fatal"]}, "receivers": ["pager"]}]`,
		`[{"name": "a", "match": {"agent": "[x]"}, "receivers": ["pager"]}]`,
		`[{"name": "a", "control": {"effect": "allow"}}]`,
		`[{"name": "a", "control": {"effect": "deny", "for": "10s"}}]`,
		`[{"name": "a", "receivers": ["pager"], "extra": 1}]`,
		`[{"name": "A b", "receivers": ["pager"]}]`,
	} {
		if _, err := compileRoutes(json.RawMessage(list), []string{"pager"}); err == nil {
			t.Errorf("compileRoutes(%s) = nil, want an error", list)
		}
	}
}

func TestClipKeepsUTF8(t *testing.T) {
	s := strings.Repeat("é", 10) // 20 bytes
	for n := 0; n <= 21; n++ {
		got := clip(s, n)
		if !utf8.ValidString(got) || len(got) > n {
			t.Errorf("clip(%d) = %q (%d bytes)", n, got, len(got))
		}
	}
}

func TestAlertIDStable(t *testing.T) {
	a := Alert{Time: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Agent: "bot", Metric: "denies", Direction: "up", Detector: "cusum"}
	b := a
	if AlertID("t", &a) != AlertID("t", &b) {
		t.Error("the same condition of the same bucket has two ids")
	}
	for _, other := range []Alert{
		func() Alert { x := a; x.Time = x.Time.Add(time.Minute); return x }(),
		func() Alert { x := a; x.Agent = "bot2"; return x }(),
		func() Alert { x := a; x.Detector = "cusum_fast"; return x }(),
	} {
		if AlertID("t", &other) == AlertID("t", &a) {
			t.Errorf("%+v has the id of %+v", other, a)
		}
	}
	if AlertID("t", &a) == AlertID("u", &a) {
		t.Error("two tenants' alerts share an id")
	}
}
