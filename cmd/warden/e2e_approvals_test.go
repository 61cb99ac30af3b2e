package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
)

// approvalPolicy asks the finance group to approve every payment.
const approvalPolicy = `name: payments
default: deny
rules:
  - id: approve-pay
    match: {action: pay.send}
    effect: require_approval
    approval: {groups: [finance]}
`

var authorizationLine = regexp.MustCompile(`(?m)^(wat_\S+)$`)

// evaluated decodes the answer `warden evaluate` prints.
func evaluated(t *testing.T, r result) client.Answer {
	t.Helper()
	var a client.Answer
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
		t.Fatalf("evaluate printed no answer: %v\n%s", err, r)
	}
	return a
}

// TestE2EApprovals drives an approval through the CLI against a real
// server: an agent asks, an approver approves, the agent presents the
// authorization once.
func TestE2EApprovals(t *testing.T) {
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
	pay := []string{"evaluate", "--principal", "billing-7", "--action", "pay.send", "--args", `{"amount": 5000}`}
	var agent, approver, outsider, id, token string

	step("setup", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "payments.yaml")
		writeFile(t, file, []byte(approvalPolicy))
		// The bootstrap tenant needs no second approval of a policy.
		if r := cli(t, admin, "policy", "push", file, "--activate"); r.code != 0 || !strings.Contains(r.stdout, "activated payments version 1") {
			t.Fatalf("policy push --activate = %s", r)
		}
		agent, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "agent", "--name", "billing bot", "--bind", "billing-*"))
		approver, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "approver", "--name", "cfo", "--group", "finance"))
		outsider, _ = createdKey(t, cli(t, admin, "keys", "create", "--role", "approver", "--name", "ops lead"))
	})

	step("the agent is asked to wait for approval", func(t *testing.T) {
		r := cli(t, agent, pay...)
		a := evaluated(t, r)
		if r.code != 1 || a.Decision != "require_approval" || !strings.HasPrefix(a.ApprovalID, "apr_") {
			t.Fatalf("evaluate = %s\nwant exit 1, require_approval and an approval id", r)
		}
		id = a.ApprovalID
		if !strings.Contains(r.stderr, "warden approvals show "+id) {
			t.Errorf("evaluate stderr = %q, want how to get the authorization", r.stderr)
		}
	})

	step("approvals list and show", func(t *testing.T) {
		r := cli(t, approver, "approvals", "list", "--status", "pending")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "ID ") {
			t.Fatalf("approvals list --status pending = %s", r)
		}
		var row string
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(line, id+" ") {
				row = line
			}
		}
		for _, want := range []string{"pending", "billing-7", "pay.send", "approve-pay", "0/1"} {
			if !strings.Contains(row, want) {
				t.Errorf("approvals list row = %q, want %q in it\n%s", row, want, r)
			}
		}
		if r := cli(t, approver, "approvals", "list", "--status", "approved"); r.code != 0 || strings.Contains(r.stdout, id) {
			t.Errorf("approvals list --status approved = %s, want no pending request", r)
		}
		if r := cli(t, approver, "approvals", "list", "--status", "open"); r.code != 2 || !strings.Contains(r.stderr, "--status") {
			t.Errorf("approvals list --status open = %s, want exit 2", r)
		}
		r = cli(t, agent, "approvals", "show", id)
		if r.code != 0 || !strings.Contains(r.stdout, "status:") || !strings.Contains(r.stdout, "groups finance") || authorizationLine.MatchString(r.stdout) {
			t.Errorf("approvals show of a pending request = %s\nwant its details and no authorization", r)
		}
	})

	step("only an eligible approver votes", func(t *testing.T) {
		r := cli(t, outsider, "approvals", "approve", id)
		if r.code != 1 || !strings.Contains(r.stderr, "may not vote on approval "+id) || !strings.Contains(r.stderr, "403") || !strings.Contains(r.stderr, "finance") {
			t.Errorf("approvals approve by a key outside the group = %s\nwant exit 1 and why", r)
		}
		r = cli(t, approver, "approvals", "approve", id, "--comment", "invoice 42 checked")
		if r.code != 0 || !strings.Contains(r.stdout, "voted approve on "+id) || !strings.Contains(r.stdout, "1 of 1 approvals; status approved") {
			t.Fatalf("approvals approve = %s", r)
		}
		for _, verb := range []string{"approve", "reject"} {
			r := cli(t, approver, "approvals", verb, id)
			if r.code != 1 || !strings.Contains(r.stderr, "409") || !strings.Contains(r.stderr, "no longer open") {
				t.Errorf("approvals %s of an approved request = %s\nwant exit 1 with a 409", verb, r)
			}
		}
	})

	step("the agent reads its authorization", func(t *testing.T) {
		r := cli(t, approver, "approvals", "show", id)
		if r.code != 0 || !strings.Contains(r.stdout, "invoice 42 checked") || authorizationLine.MatchString(r.stdout) {
			t.Errorf("approvals show by the approver = %s\nwant the vote and no authorization", r)
		}
		r = cli(t, agent, "approvals", "show", id, "--wait", "5s")
		m := authorizationLine.FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil || !strings.Contains(r.stderr, "single-use") || !strings.HasSuffix(r.stdout, m[1]+"\n") {
			t.Fatalf("approvals show by the agent = %s\nwant the authorization alone on the last line and a note", r)
		}
		token = m[1]
		if r := cli(t, agent, "approvals", "show", id, "--wait", "2m"); r.code != 2 {
			t.Errorf("approvals show --wait 2m = %s, want exit 2", r)
		}
	})

	step("the authorization allows the request once", func(t *testing.T) {
		if r := cli(t, agent, "evaluate", "--principal", "billing-7", "--action", "pay.send", "--args", `{"amount": 5001}`, "--authorization", token); r.code != 1 || evaluated(t, r).Decision != "deny" {
			t.Errorf("evaluate of another request with the authorization = %s, want deny", r)
		}
		r := cli(t, agent, append(pay, "--authorization", token)...)
		if a := evaluated(t, r); r.code != 0 || a.Decision != "allow" || a.ApprovalID != id {
			t.Fatalf("evaluate --authorization = %s\nwant allow by approval %s", r, id)
		}
		if r := cli(t, agent, append(pay, "--authorization", token)...); r.code != 1 || evaluated(t, r).Decision != "deny" {
			t.Errorf("evaluate with a used authorization = %s, want deny", r)
		}
		r = cli(t, agent, "approvals", "show", id, "--json")
		var a client.Approval
		if err := json.Unmarshal([]byte(r.stdout), &a); r.code != 0 || err != nil || a.Authorization != "" || a.UsedByReceipt == "" {
			t.Errorf("approvals show --json after use = %s (%v)\nwant it used and no authorization", r, err)
		}
	})

	step("a rejection ends a waiting agent's wait", func(t *testing.T) {
		r := cli(t, agent, "evaluate", "--principal", "billing-7", "--action", "pay.send", "--args", `{"amount": 9000}`)
		second := evaluated(t, r).ApprovalID
		if second == "" || second == id {
			t.Fatalf("evaluate = %s, want a new approval", r)
		}
		cmd := exec.Command(wardenBinary(t), "approvals", "show", second, "--wait", "30s", "--json", "--url", srv.url, "--key", agent)
		cmd.Env = cleanEnv()
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		time.Sleep(500 * time.Millisecond) // let the long poll begin; the test holds either way
		if r := cli(t, approver, "approvals", "reject", second, "--comment", "no PO"); r.code != 0 || !strings.Contains(r.stdout, "status rejected") {
			t.Errorf("approvals reject = %s", r)
		}
		select {
		case err := <-done:
			var a client.Approval
			if jerr := json.Unmarshal(out.Bytes(), &a); err != nil || jerr != nil || a.Status != "rejected" || a.Authorization != "" {
				t.Errorf("approvals show --wait 30s = %v, %v: %s\nwant the rejected request", err, jerr, out.String())
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("approvals show --wait 30s returned after %s, want soon after the rejection", d)
			}
		case <-time.After(45 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("approvals show --wait 30s did not return")
		}
	})

	step("approvals list --json", func(t *testing.T) {
		r := cli(t, approver, "approvals", "list", "--json")
		var page client.ApprovalPage
		if err := json.Unmarshal([]byte(r.stdout), &page); r.code != 0 || err != nil || len(page.Approvals) != 2 {
			t.Fatalf("approvals list --json = %s (%v), want both requests", r, err)
		}
		if a := page.Approvals[0]; a.ID != id || a.Status != "approved" || len(a.Votes) != 1 || a.Votes[0].Comment != "invoice 42 checked" {
			t.Errorf("first listed approval = %+v", a)
		}
	})
}

// TestE2EPolicyChangeWorkflow drives the policy change workflow through
// the CLI on a tenant that requires one approval by another key.
func TestE2EPolicyChangeWorkflow(t *testing.T) {
	srv := startServer(t, t.TempDir())
	waitFor(t, srv.url+"/readyz", "")
	owner := srv.keys["owner/_system"]
	waitFor(t, srv.url+"/v1/log/checkpoint", srv.keys["admin/default"])
	cli := func(t *testing.T, key string, args ...string) result {
		t.Helper()
		return warden(t, append(args, "--url", srv.url, "--key", key)...)
	}
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "v1.yaml"), filepath.Join(dir, "v2.yaml")
	writeFile(t, v1, []byte("name: payments\nrules:\n  - {id: read, match: {action: fs.read}, effect: allow}\n"))
	writeFile(t, v2, []byte("name: payments\nrules:\n  - {id: no-read, match: {action: fs.read}, effect: deny}\n"))
	read := []string{"evaluate", "--principal", "coder", "--action", "fs.read", "--resource", "file:///workspace/a.go"}

	admin, adminID := createdKey(t, cli(t, owner, "tenants", "create", "acme", "--name", "Acme Corp"))
	author, authorID := createdKey(t, cli(t, admin, "keys", "create", "--role", "policy_author", "--name", "reviewer"))

	if r := cli(t, admin, "policy", "push", v1); r.code != 0 || !strings.Contains(r.stdout, "created payments version 1") {
		t.Fatalf("policy push = %s", r)
	}
	r := cli(t, admin, "policy", "activate", "payments", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "409") || !strings.Contains(r.stderr, "0 of the 1 approvals") || !strings.Contains(r.stderr, "warden policy approve payments 1") {
		t.Fatalf("policy activate without approval = %s\nwant exit 1 with the server's detail and what to do", r)
	}
	if r := cli(t, admin, "policy", "approve", "payments", "1"); r.code != 1 || !strings.Contains(r.stderr, "403") || !strings.Contains(r.stderr, "cannot approve") {
		t.Errorf("policy approve by its author = %s, want exit 1 with a 403", r)
	}
	r = cli(t, author, "policy", "approve", "payments", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "approved payments version 1: 1 approvals ("+authorID+")") {
		t.Fatalf("policy approve by another key = %s", r)
	}
	if r := cli(t, author, "policy", "approve", "payments", "1"); r.code != 1 || !strings.Contains(r.stderr, "409") || !strings.Contains(r.stderr, "already") {
		t.Errorf("policy approve twice = %s, want exit 1 with a 409", r)
	}
	if r := cli(t, admin, "policy", "activate", "payments", "1"); r.code != 0 || !strings.Contains(r.stdout, "activated payments version 1") {
		t.Fatalf("policy activate after approval = %s", r)
	}
	r = cli(t, admin, "policy", "activations")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) < 3 || !strings.HasPrefix(lines[0], "ACTIVATED") || !regexp.MustCompile(`\spayments\s+1\s+`+adminID+`$`).MatchString(lines[1]) {
		t.Fatalf("policy activations = %s\nwant payments 1 by %s first, then the built-in default", r, adminID)
	}

	// The candidate is evaluated in shadow and changes no answer.
	if r := cli(t, admin, "policy", "push", v2, "--activate"); r.code != 1 || !strings.Contains(r.stdout, "created payments version 2") || !strings.Contains(r.stderr, "409") {
		t.Errorf("policy push --activate of an unapproved version = %s, want it pushed and the activation refused", r)
	}
	if r := cli(t, admin, "policy", "candidate", "payments", "2"); r.code != 0 || !strings.Contains(r.stdout, "candidate payments version 2") {
		t.Fatalf("policy candidate = %s", r)
	}
	r = cli(t, admin, read...)
	if a := evaluated(t, r); r.code != 0 || a.Decision != "allow" || a.Shadow == nil || a.Shadow.Decision != "deny" || !strings.Contains(r.stdout, `"shadow"`) {
		t.Errorf("evaluate with a candidate = %s\nwant allow, and deny in shadow", r)
	}
	if r := cli(t, admin, "policy", "candidate"); r.code != 2 {
		t.Errorf("policy candidate without arguments = %s, want exit 2", r)
	}
	if r := cli(t, admin, "policy", "candidate", "--clear"); r.code != 0 || !strings.Contains(r.stdout, "no candidate") {
		t.Fatalf("policy candidate --clear = %s", r)
	}
	if r := cli(t, admin, read...); r.code != 0 || evaluated(t, r).Shadow != nil {
		t.Errorf("evaluate without a candidate = %s, want no shadow", r)
	}

	c, err := client.New(srv.url, admin)
	if err != nil {
		t.Fatal(err)
	}
	as, err := c.Activations(context.Background(), 1)
	if err != nil || len(as) != 1 || as[0].Name != "payments" || as[0].Version != 1 || as[0].ActivatedBy != adminID {
		t.Errorf("Activations(limit 1) = %+v, %v", as, err)
	}
}

// Every approvals and policy workflow command explains itself.
func TestE2EApprovalsHelp(t *testing.T) {
	for _, args := range [][]string{
		{"approvals"}, {"approvals", "list"}, {"approvals", "show"}, {"approvals", "approve"}, {"approvals", "reject"},
		{"policy", "approve"}, {"policy", "candidate"}, {"policy", "activations"}, {"policy", "activate"}, {"evaluate"},
	} {
		r := warden(t, append(args, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || strings.Count(r.stdout, "\n") < 8 {
			t.Errorf("warden %s --help = %s", strings.Join(args, " "), r)
		}
	}
	if r := warden(t, "evaluate", "--help"); !strings.Contains(r.stdout, "--authorization") {
		t.Errorf("evaluate --help does not mention --authorization:\n%s", r.stdout)
	}
}
