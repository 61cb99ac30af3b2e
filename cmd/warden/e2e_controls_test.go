package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wardenhq/warden/client"
)

// openPolicy allows everything: what a kill switch stops, it stops alone.
const openPolicy = `name: open
rules: [{id: all, effect: allow}]
`

// TestE2EControls drives a kill switch through the CLI against a real
// server: an operator sets it, the agent it names is denied with its
// reason, the list shows it, and clearing it lifts it.
func TestE2EControls(t *testing.T) {
	srv := startServer(t, t.TempDir())
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
	const reason = "incident 42: refunds paused"
	refund := []string{"evaluate", "--principal", "billing-7", "--action", "stripe.refunds.create", "--args", `{"amount": 120}`}
	var agent, operator, id string

	step("setup", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "open.yaml")
		writeFile(t, file, []byte(openPolicy))
		if r := cli(t, admin, "policy", "push", file, "--activate"); r.code != 0 || !strings.Contains(r.stdout, "activated open version 1") {
			t.Fatalf("policy push --activate = %s", r)
		}
		agent, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "agent", "--name", "billing bot", "--bind", "billing-*"))
		operator, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "operator", "--name", "on call"))
		if r := cli(t, agent, refund...); r.code != 0 || evaluated(t, r).Decision != "allow" {
			t.Fatalf("evaluate without a switch = %s, want allow", r)
		}
	})

	step("usage and refusals", func(t *testing.T) {
		for _, args := range [][]string{
			{"controls", "set", "--agent", "billing-*", "--effect", "stop", "--reason", reason},
			{"controls", "set", "--agent", "billing-*", "--effect", "deny"},
			{"controls", "set", "--agent", "billing-*", "--effect", "deny", "--reason", reason, "--expires", "tomorrow"},
			{"controls", "set", "extra", "--effect", "deny", "--reason", reason},
			{"controls", "clear"},
		} {
			if r := cli(t, operator, args...); r.code != 2 {
				t.Errorf("warden %s = %s, want exit 2", strings.Join(args, " "), r)
			}
		}
		r := cli(t, agent, "controls", "set", "--agent", "billing-*", "--effect", "deny", "--reason", reason)
		if r.code != 1 || !strings.Contains(r.stderr, "may not set kill switches") || !strings.Contains(r.stderr, "403") {
			t.Errorf("controls set by an agent key = %s, want exit 1 with a 403", r)
		}
	})

	step("set denies the agent with the switch's reason", func(t *testing.T) {
		r := cli(t, operator, "controls", "set", "--agent", "billing-*", "--effect", "deny", "--reason", reason, "--json")
		var ctl client.Control
		if err := json.Unmarshal([]byte(r.stdout), &ctl); r.code != 0 || err != nil || !strings.HasPrefix(ctl.ID, "ctl_") {
			t.Fatalf("controls set --json = %s (%v), want the switch", r, err)
		}
		if ctl.Scope != (client.ControlScope{Agent: "billing-*"}) || ctl.Effect != "deny" || ctl.Reason != reason || ctl.ExpiresAt != nil {
			t.Errorf("controls set --json = %+v, want deny of billing-* without expiry", ctl)
		}
		id = ctl.ID
		r = cli(t, agent, refund...)
		a := evaluated(t, r)
		if r.code != 1 || a.Decision != "deny" || len(a.Reasons) == 0 || a.Reasons[0].Code != "control" ||
			a.Reasons[0].Rule != id || a.Reasons[0].Message != reason {
			t.Fatalf("evaluate of a switched-off agent = %s\nwant exit 1, deny by %s with %q", r, id, reason)
		}
		// Only what the switch names is stopped.
		if r := cli(t, admin, "evaluate", "--principal", "support-1", "--action", "stripe.refunds.create"); r.code != 0 || evaluated(t, r).Decision != "allow" {
			t.Errorf("evaluate of another agent = %s, want allow", r)
		}
	})

	step("list shows it", func(t *testing.T) {
		r := cli(t, operator, "controls", "list")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "ID ") {
			t.Fatalf("controls list = %s", r)
		}
		row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + ` .*$`).FindString(r.stdout)
		for _, want := range []string{"deny", "billing-*", "never", reason} {
			if !strings.Contains(row, want) {
				t.Errorf("controls list row = %q, want %q in it\n%s", row, want, r)
			}
		}
		r = cli(t, operator, "controls", "list", "--json")
		var out struct {
			Controls []client.Control `json:"controls"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Controls) != 1 || out.Controls[0].ID != id {
			t.Errorf("controls list --json = %s (%v), want %s alone", r, err, id)
		}
	})

	step("a require_approval switch on an action, with an expiry", func(t *testing.T) {
		r := cli(t, operator, "controls", "set", "--action", "stripe.payouts.*", "--effect", "require_approval", "--reason", "payout review", "--expires", "1h")
		m := regexp.MustCompile(`^set control (ctl_\S+): require_approval action stripe\.payouts\.\* \("payout review"\), expires \d{4}-`).FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil {
			t.Fatalf("controls set = %s\nwant the switch described", r)
		}
		r = cli(t, admin, "evaluate", "--principal", "support-1", "--action", "stripe.payouts.create")
		if a := evaluated(t, r); r.code != 1 || a.Decision != "require_approval" || len(a.Reasons) == 0 || a.Reasons[0].Rule != m[1] {
			t.Errorf("evaluate under a require_approval switch = %s, want require_approval by %s", r, m[1])
		}
		if r := cli(t, operator, "controls", "clear", m[1]); r.code != 0 {
			t.Errorf("controls clear %s = %s", m[1], r)
		}
	})

	step("clear lifts it", func(t *testing.T) {
		if r := cli(t, agent, "controls", "clear", id); r.code != 1 || !strings.Contains(r.stderr, "403") {
			t.Errorf("controls clear by an agent key = %s, want exit 1 with a 403", r)
		}
		r := cli(t, operator, "controls", "clear", id)
		if r.code != 0 || r.stdout != "cleared control "+id+"\n" {
			t.Fatalf("controls clear = %s", r)
		}
		if r := cli(t, agent, refund...); r.code != 0 || evaluated(t, r).Decision != "allow" {
			t.Errorf("evaluate after clear = %s, want allow", r)
		}
		if r := cli(t, operator, "controls", "list"); r.code != 0 || strings.Contains(r.stdout, id) {
			t.Errorf("controls list after clear = %s, want %s gone", r, id)
		}
		for _, unknown := range []string{id, "ctl_nosuchswitch"} {
			if r := cli(t, operator, "controls", "clear", unknown); r.code != 1 || !strings.Contains(r.stderr, "no kill switch "+unknown) {
				t.Errorf("controls clear %s (not in force) = %s, want exit 1", unknown, r)
			}
		}
	})
}

// Every controls command explains itself.
func TestE2EControlsHelp(t *testing.T) {
	for _, args := range [][]string{{"controls"}, {"controls", "set"}, {"controls", "list"}, {"controls", "clear"}} {
		r := warden(t, append(args, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || strings.Count(r.stdout, "\n") < 8 {
			t.Errorf("warden %s --help = %s", strings.Join(args, " "), r)
		}
	}
	if r := warden(t, "controls", "set", "--help"); !strings.Contains(r.stdout, "--effect") || !strings.Contains(r.stdout, "--expires") {
		t.Errorf("controls set --help does not mention --effect and --expires:\n%s", r.stdout)
	}
}
