package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The policy commands and warden evaluate against the real server.
func TestE2EPolicyCommands(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	waitFor(t, srv.url+"/readyz", "")
	admin := srv.keys["admin/default"]
	remote := []string{"--url", srv.url, "--key", admin}

	good := filepath.Join(t.TempDir(), "payments.yaml")
	if err := os.WriteFile(good, []byte("name: payments\nrules:\n  - id: small\n    match: {action: \"stripe.charges.create\"}\n    when: args.amount <= 10000\n    effect: allow\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nrules:\n  - id: a\n    effect: alow\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := warden(t, "policy", "lint", good); r.code != 0 || !strings.Contains(r.stdout, `policy "payments" is valid`) {
		t.Errorf("policy lint good = %s", r)
	}
	if r := warden(t, "policy", "lint", bad); r.code != 1 || !strings.Contains(r.stdout, "line 4, column 13") {
		t.Errorf("policy lint bad = %s\nwant exit 1 naming line 4, column 13", r)
	}
	if r := warden(t, "policy", "lint", filepath.Join(dir, "missing.yaml")); r.code != 2 {
		t.Errorf("policy lint of a missing file = %s, want exit 2", r)
	}
	if r := warden(t, append([]string{"policy", "push", bad}, remote...)...); r.code != 2 {
		t.Errorf("policy push of an invalid file = %s, want exit 2 before any request", r)
	}

	// Before anything is pushed, the built-in default decides.
	r := warden(t, append([]string{"evaluate", "--principal", "bot", "--action", "fs.read", "--resource", "file:///workspace/a.go"}, remote...)...)
	if r.code != 0 || !strings.Contains(r.stdout, `"rule": "read-workspace-files"`) {
		t.Fatalf("evaluate under the built-in default = %s\nwant allow by read-workspace-files", r)
	}
	if r := warden(t, append([]string{"policy", "push", good, "--activate"}, remote...)...); r.code != 0 ||
		!strings.Contains(r.stdout, "created payments version 1") || !strings.Contains(r.stdout, "activated payments version 1") {
		t.Fatalf("policy push --activate = %s", r)
	}
	if r := warden(t, append([]string{"policy", "push", good}, remote...)...); r.code != 0 || !strings.Contains(r.stdout, "unchanged: identical to payments version 1") {
		t.Errorf("second push = %s", r)
	}
	if r := warden(t, append([]string{"policy", "history"}, remote...)...); r.code != 0 ||
		!strings.Contains(r.stdout, "builtin-default") || !strings.Contains(r.stdout, "payments         1        *") {
		t.Errorf("policy history = %s\nwant both policies, payments active", r)
	}
	if r := warden(t, append([]string{"policy", "show"}, remote...)...); r.code != 0 || !strings.HasPrefix(r.stdout, "name: payments") {
		t.Errorf("policy show = %s", r)
	}
	if r := warden(t, append([]string{"policy", "show", "builtin-default", "1"}, remote...)...); r.code != 0 || !strings.Contains(r.stdout, "name: builtin-default") {
		t.Errorf("policy show builtin-default 1 = %s", r)
	}
	if r := warden(t, append([]string{"policy", "activate", "payments", "7"}, remote...)...); r.code != 2 || !strings.Contains(r.stderr, "404") {
		t.Errorf("activate a missing version = %s, want exit 2 with a 404", r)
	}
	if r := warden(t, append([]string{"evaluate", "--principal", "bot", "--action", "stripe.charges.create", "--args", `{"amount": 5}`}, remote...)...); r.code != 0 || !strings.Contains(r.stdout, `"decision": "allow"`) {
		t.Errorf("evaluate small charge = %s, want allow", r)
	}
	if r := warden(t, append([]string{"evaluate", "--principal", "bot", "--action", "stripe.charges.create", "--args", `{"amount": 50000}`}, remote...)...); r.code != 1 || !strings.Contains(r.stdout, `"decision": "deny"`) {
		t.Errorf("evaluate large charge = %s, want deny with exit 1", r)
	}
	if r := warden(t, append([]string{"evaluate", "--principal", "bot"}, remote...)...); r.code != 2 {
		t.Errorf("evaluate without --action = %s, want exit 2", r)
	}
	waitFor(t, srv.url+"/v1/log/checkpoint", admin) // the log's first checkpoint follows its first entries
	if r := warden(t, "log", "verify", "--url", srv.url, "--key", admin, "--trusted-key", filepath.Join(dir, pubFile)); r.code != 0 {
		t.Errorf("log verify after policy changes and decisions = %s", r)
	}
}
