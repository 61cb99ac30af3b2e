package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
)

// TestE2EIncidents drives an incident through the CLI against a real
// server: an operator opens it with a real receipt linked, notes it,
// links another, lists, shows and resolves it; every step is an entry of
// the tenant's log, which still verifies.
func TestE2EIncidents(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	waitFor(t, srv.url+"/readyz", "")
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/v1/log/checkpoint", admin)
	cli := func(t *testing.T, key string, args ...string) result {
		t.Helper()
		return warden(t, append(args, "--url", srv.url, "--key", key)...)
	}
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}
	const title = "refunds over the cap"
	refund := []string{"evaluate", "--principal", "billing-7", "--action", "stripe.refunds.create", "--args", `{"amount": 120}`}
	var operator, auditor, agent, receipt1, receipt2, id string

	step("setup", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "open.yaml")
		writeFile(t, file, []byte(openPolicy))
		if r := cli(t, admin, "policy", "push", file, "--activate"); r.code != 0 {
			t.Fatalf("policy push --activate = %s", r)
		}
		operator, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "operator", "--name", "on call"))
		auditor, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "auditor", "--name", "audit"))
		agent, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "agent", "--name", "billing bot", "--bind", "billing-*"))
		for _, rc := range []*string{&receipt1, &receipt2} {
			r := cli(t, agent, refund...)
			if a := evaluated(t, r); r.code != 0 || !strings.HasPrefix(a.ReceiptID, "rcpt_") {
				t.Fatalf("evaluate = %s, want an allow with a receipt", r)
			} else {
				*rc = a.ReceiptID
			}
		}
	})

	step("a fresh server has no alerts", func(t *testing.T) {
		r := cli(t, operator, "alerts", "list")
		if r.code != 0 || r.stdout == "" || strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, "ID ") || r.stderr != "" {
			t.Errorf("alerts list = %s\nwant exit 0 and the header alone", r)
		}
		r = cli(t, auditor, "alerts", "list", "--json", "--status", "open")
		var page client.AlertPage
		if err := json.Unmarshal([]byte(r.stdout), &page); r.code != 0 || err != nil || page.Alerts == nil || len(page.Alerts) != 0 {
			t.Errorf("alerts list --json = %s (%v), want an empty list", r, err)
		}
		const unknown = "alr_aaaaaaaaaaaaaaaaaaaaaaaaaa"
		for _, args := range [][]string{{"alerts", "ack", unknown}, {"alerts", "resolve", unknown, "--comment", "x"}, {"alerts", "show", unknown}} {
			r := cli(t, operator, args...)
			if r.code != 1 || !strings.Contains(r.stderr, "alert "+unknown+" not found") || r.stdout != "" {
				t.Errorf("warden %s = %s\nwant exit 1, not found", strings.Join(args, " "), r)
			}
		}
	})

	step("usage and refusals", func(t *testing.T) {
		for _, args := range [][]string{
			{"alerts", "list", "--status", "closed"},
			{"alerts", "list", "--severity", "urgent"},
			{"alerts", "list", "--from", "yesterday"},
			{"alerts", "list", "--from", "1h", "--to", "2h"},
			{"alerts", "list", "--limit", "5000"},
			{"alerts", "resolve", "alr_aaaaaaaaaaaaaaaaaaaaaaaaaa"},
			{"alerts", "ack"},
			{"incidents", "open"},
			{"incidents", "open", "--title", title, "--severity", "urgent"},
			{"incidents", "open", "--title", title, "--receipt", "rcpt_nosuchreceipt"},
			{"incidents", "list", "--status", "closed"},
			{"incidents", "note", "inc_x"},
			{"incidents", "link", "inc_x"},
			{"incidents", "resolve", "inc_x"},
		} {
			if r := cli(t, operator, args...); r.code != 2 {
				t.Errorf("warden %s = %s, want exit 2", strings.Join(args, " "), r)
			}
		}
		if r := cli(t, operator, "incidents", "open", "--title", title, "--receipt", "rcpt_nosuchreceipt"); !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("incidents open with an unknown receipt = %s, want the server's reason", r)
		}
		for _, key := range []string{auditor, agent} {
			r := cli(t, key, "incidents", "open", "--title", title)
			if r.code != 1 || !strings.Contains(r.stderr, "may not open incidents") || !strings.Contains(r.stderr, "403") {
				t.Errorf("incidents open by a key that may not = %s, want exit 1 with a 403", r)
			}
		}
		if r := cli(t, agent, "incidents", "list"); r.code != 1 || !strings.Contains(r.stderr, "may not read incidents") {
			t.Errorf("incidents list by an agent key = %s, want exit 1 with a 403", r)
		}
	})

	step("open with a receipt", func(t *testing.T) {
		r := cli(t, operator, "incidents", "open", "--title", title, "--severity", "critical", "--receipt", receipt1)
		m := regexp.MustCompile(`^opened incident (inc_[0-9a-z]+) \(critical\): ` + title + `; 0 alerts, 1 receipt, 0 notes\n$`).FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil {
			t.Fatalf("incidents open = %s\nwant the incident described", r)
		}
		id = m[1]
	})

	step("note and link", func(t *testing.T) {
		r := cli(t, operator, "incidents", "note", id, "--text", "paused refunds with a kill switch")
		if r.code != 0 || r.stdout != "noted incident "+id+"; it has 0 alerts, 1 receipt, 1 note\n" {
			t.Errorf("incidents note = %s", r)
		}
		r = cli(t, operator, "incidents", "link", id, "--receipt", receipt2, "--receipt", receipt1, "--json")
		var inc client.Incident
		if err := json.Unmarshal([]byte(r.stdout), &inc); r.code != 0 || err != nil || !slices.Equal(inc.Receipts, []string{receipt1, receipt2}) {
			t.Errorf("incidents link --json = %s (%v), want receipts %s and %s", r, err, receipt1, receipt2)
		}
		if r := cli(t, operator, "incidents", "link", id, "--alert", "alr_aaaaaaaaaaaaaaaaaaaaaaaaaa"); r.code != 2 || !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("incidents link of an unknown alert = %s, want exit 2 with the server's reason", r)
		}
	})

	step("list and show", func(t *testing.T) {
		r := cli(t, auditor, "incidents", "list")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "ID ") {
			t.Fatalf("incidents list = %s", r)
		}
		row := regexp.MustCompile(`(?m)^` + id + ` .*$`).FindString(r.stdout)
		if f := strings.Fields(row); len(f) < 9 || f[1] != "open" || f[2] != "critical" || f[6] != "0" || f[7] != "2" || f[8] != "1" ||
			!strings.HasSuffix(row, title) {
			t.Errorf("incidents list row = %q, want open, critical, 0 alerts, 2 receipts, 1 note and the title\n%s", row, r)
		}
		if r := cli(t, auditor, "incidents", "list", "--status", "resolved"); r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("incidents list --status resolved = %s, want the header alone", r)
		}
		r = cli(t, operator, "incidents", "show", id)
		for _, want := range []string{"id:         " + id, "status:     open", "severity:   critical", "title:      " + title,
			"receipts:   " + receipt1 + ", " + receipt2, "paused refunds with a kill switch", "resolved:   -"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("incidents show = %s\nwant %q in it", r, want)
			}
		}
		if r.code != 0 {
			t.Errorf("incidents show = %s", r)
		}
		r = cli(t, operator, "incidents", "show", "inc_nosuchincident")
		if r.code != 1 || !strings.Contains(r.stderr, "incident inc_nosuchincident not found") {
			t.Errorf("incidents show of an unknown incident = %s, want exit 1, not found", r)
		}
	})

	step("resolve once", func(t *testing.T) {
		r := cli(t, operator, "incidents", "resolve", id, "--resolution", "refund cap raised after review")
		if r.code != 0 || r.stdout != "resolved incident "+id+": refund cap raised after review\n" {
			t.Fatalf("incidents resolve = %s", r)
		}
		r = cli(t, operator, "incidents", "resolve", id, "--resolution", "again")
		if r.code != 1 || !strings.Contains(r.stderr, "incident "+id+" cannot be resolved (409): incident "+id+" is resolved") || r.stdout != "" {
			t.Errorf("a second incidents resolve = %s\nwant exit 1 saying it is resolved", r)
		}
		if r := cli(t, operator, "incidents", "note", id, "--text", "late"); r.code != 1 || !strings.Contains(r.stderr, "409") {
			t.Errorf("incidents note of a resolved incident = %s, want exit 1 with a 409", r)
		}
		r = cli(t, operator, "incidents", "show", id, "--json")
		var inc client.Incident
		if err := json.Unmarshal([]byte(r.stdout), &inc); r.code != 0 || err != nil || inc.Status != client.IncidentResolved ||
			inc.Resolution != "refund cap raised after review" || inc.ResolvedAt == nil || len(inc.Notes) != 1 {
			t.Errorf("incidents show --json after resolve = %s (%v)", r, err)
		}
	})

	step("every step is in the log, which verifies", func(t *testing.T) {
		c, err := client.New(srv.url, auditor)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, e := range entries(t, c) {
			if strings.HasPrefix(e.Kind, "incident.") && !strings.Contains(string(e.Body), id) {
				t.Errorf("entry %d (%s) = %s, want incident %s in it", e.Seq, e.Kind, e.Body, id)
			}
			kinds[e.Kind]++
		}
		// Refused steps (a second resolve, a late note, a bad link) leave
		// no entry.
		for _, k := range []string{"incident.opened", "incident.noted", "incident.linked", "incident.resolved"} {
			if kinds[k] != 1 {
				t.Errorf("the log has %d %s entries, want 1 (kinds: %v)", kinds[k], k, kinds)
			}
		}
		r := cli(t, admin, "log", "verify", "--trusted-key", filepath.Join(dir, pubFile))
		if r.code != 0 || !strings.HasPrefix(r.stdout, "ok    default ") {
			t.Errorf("log verify = %s\nwant exit 0", r)
		}
	})
}

// TestE2EMonitorSeries reads what a running monitor keeps (with
// one-second buckets) through the CLI: the agents, and one agent's
// series, for an agent id with a slash and a space.
func TestE2EMonitorSeries(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--monitor-bucket", "1s", "--monitor-heartbeat", "1s", "--monitor-poll", "50ms")
	waitFor(t, srv.url+"/readyz", "")
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/v1/log/checkpoint", admin)
	cli := func(t *testing.T, key string, args ...string) result {
		t.Helper()
		return warden(t, append(args, "--url", srv.url, "--key", key)...)
	}
	const bot = "team/bot 1"
	if r := cli(t, admin, "monitor", "agents"); r.code != 0 || r.stdout != "AGENT  FIRST BUCKET  LAST BUCKET  BUCKETS\n" {
		t.Errorf("monitor agents on a fresh server = %s, want the header alone", r)
	}
	if r := cli(t, admin, "monitor", "series", bot); r.code != 1 || !strings.Contains(r.stderr, `agent "team/bot 1" not found`) {
		t.Errorf("monitor series of an agent never seen = %s, want exit 1, not found", r)
	}
	for range 3 {
		if r := cli(t, admin, "evaluate", "--principal", bot, "--action", "stripe.refunds.create"); r.code > 1 {
			t.Fatalf("evaluate = %s", r)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	var agents struct {
		Agents []client.MonitorAgent `json:"agents"`
	}
	for {
		r := cli(t, admin, "monitor", "agents", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &agents); r.code != 0 || err != nil {
			t.Fatalf("monitor agents --json = %s (%v)", r, err)
		}
		if len(agents.Agents) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor agents listed nobody within 30s of three decisions")
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
	if a := agents.Agents[0]; len(agents.Agents) != 1 || a.Agent != bot || a.Buckets < 1 {
		t.Fatalf("monitor agents --json = %+v, want %q alone", agents.Agents, bot)
	}
	r := cli(t, admin, "monitor", "agents")
	if r.code != 0 || !regexp.MustCompile(`(?m)^team/bot 1  +\d{4}-.*  \d+$`).MatchString(r.stdout) {
		t.Errorf("monitor agents = %s, want a row of %q", r, bot)
	}

	// An auditor reads the series too.
	auditor, _ := createdKey(t, cli(t, admin, "keys", "create", "--role", "auditor", "--name", "audit"))
	r = cli(t, auditor, "monitor", "series", bot, "--from", "1h")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "agent team/bot 1, metric decisions, ") ||
		!regexp.MustCompile(`(?m)^BUCKET +OBSERVED +BASELINE +LOW +HIGH +CUSUM UP +CUSUM DOWN\n\d{4}-\S+ \S+ +\d`).MatchString(r.stdout) {
		t.Errorf("monitor series = %s\nwant a header and at least one bucket", r)
	}
	r = cli(t, auditor, "monitor", "series", bot, "--metric", "denies", "--json")
	var s client.Series
	if err := json.Unmarshal([]byte(r.stdout), &s); r.code != 0 || err != nil || s.Agent != bot || s.Metric != "denies" || len(s.Points) == 0 || s.To.Sub(s.From) != 6*time.Hour {
		t.Errorf("monitor series --metric denies --json = %s (%v), want points over the last six hours", r, err)
	}
	for _, args := range [][]string{
		{"monitor", "series", bot, "--metric", "latency_ms"},
		{"monitor", "series", bot, "--from", "2h", "--to", "3h"},
		{"monitor", "series"},
	} {
		if r := cli(t, auditor, args...); r.code != 2 {
			t.Errorf("warden %s = %s, want exit 2", strings.Join(args, " "), r)
		}
	}
	if r := cli(t, auditor, "monitor", "series", bot, "--from", "200h"); r.code != 2 || !strings.Contains(r.stderr, "at most") {
		t.Errorf("monitor series over more than a week = %s, want exit 2 with the server's reason", r)
	}
	agent, _ := createdKey(t, cli(t, admin, "keys", "create", "--role", "agent", "--name", "bot", "--bind", "billing-*"))
	for _, args := range [][]string{{"monitor", "agents"}, {"monitor", "series", bot}, {"alerts", "list"}} {
		if r := cli(t, agent, args...); r.code != 1 || !strings.Contains(r.stderr, "403") {
			t.Errorf("warden %s by an agent key = %s, want exit 1 with a 403", strings.Join(args, " "), r)
		}
	}
}

// Every alerts, incidents and monitor command explains itself.
func TestE2EAlertsIncidentsMonitorHelp(t *testing.T) {
	for _, args := range [][]string{
		{"alerts"}, {"alerts", "list"}, {"alerts", "show"}, {"alerts", "ack"}, {"alerts", "resolve"},
		{"incidents"}, {"incidents", "open"}, {"incidents", "list"}, {"incidents", "show"}, {"incidents", "note"},
		{"incidents", "link"}, {"incidents", "resolve"}, {"monitor", "agents"}, {"monitor", "series"},
	} {
		r := warden(t, append(args, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || strings.Count(r.stdout, "\n") < 8 {
			t.Errorf("warden %s --help = %s", strings.Join(args, " "), r)
		}
		if len(args) == 2 && !strings.Contains(r.stdout, "Exit status: 0") {
			t.Errorf("warden %s --help says nothing of its exit status:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	if r := warden(t, "alerts", "list", "--help"); !strings.Contains(r.stdout, "--all") || !strings.Contains(r.stdout, "--cursor") {
		t.Errorf("alerts list --help does not mention --all and --cursor:\n%s", r.stdout)
	}
}
