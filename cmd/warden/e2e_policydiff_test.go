package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/policy"
)

// writePolicyFiles writes each name → content into a new directory and
// returns the paths by name.
func writePolicyFiles(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, content := range files {
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

func TestE2EPolicyDiff(t *testing.T) {
	f := writePolicyFiles(t, map[string]string{
		"from.yaml": "name: payments\nrules:\n  - id: small\n    match: {action: \"stripe.charges.create\"}\n    when: args.amount <= 10000\n    effect: allow\n" +
			"  - id: read\n    match: {action: fs.read}\n    effect: allow\n",
		// The same document in flow style: same digest.
		"same.yaml": "{name: payments, rules: [{id: small, match: {action: stripe.charges.create}, when: 'args.amount <= 10000', effect: allow}," +
			" {id: read, match: {action: fs.read}, effect: allow}]}\n",
		"to.yaml": "name: payments\nrules:\n  - id: small\n    match: {action: \"stripe.charges.create\"}\n    when: args.amount <= 5000\n    effect: allow\n" +
			"  - id: no-shell\n    match: {action: \"shell.*\"}\n    effect: deny\n",
		"bad.yaml": "name: x\nrules:\n  - id: a\n    effect: alow\n",
	})
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"changes", []string{f["from.yaml"], f["to.yaml"]}, 0, []string{
			"rules added (1):\n  + no-shell: ",
			"rules removed (1):\n  - read: ",
			"rules changed (1):\n  ~ small\n      when: \"args.amount <= 10000\" → \"args.amount <= 5000\"\n",
			`{"principal":{"id":"agent-1","type":"agent"},"action":{"type":"stripe.charges.create"},"args":{"amount":10000},"context":{}}` +
				"\n      from: allow [small]  →  to: deny [] (default)\n",
			"from: allow [read]  →  to: deny [] (default)",
			"from: deny [] (default)  →  to: deny [no-shell]",
		}},
		{"identical content", []string{f["from.yaml"], f["same.yaml"]}, 0, []string{"are identical: policy \"payments\""}},
		{"invalid policy", []string{f["from.yaml"], f["bad.yaml"]}, 1, []string{"bad.yaml: line 4, column 13"}},
		{"unreadable file", []string{missing, f["to.yaml"]}, 2, nil},
		{"one file", []string{f["from.yaml"]}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := warden(t, append([]string{"policy", "diff"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("policy diff = %s\nwant exit %d", r, tt.code)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("policy diff = %s\nwant it to contain %q", r, s)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		r := warden(t, "policy", "diff", "--json", f["from.yaml"], f["to.yaml"])
		if r.code != 0 {
			t.Fatalf("policy diff --json = %s", r)
		}
		var d policy.PolicyDiff
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("policy diff --json output does not decode: %v\n%s", err, r.stdout)
		}
		if len(d.Changed) != 1 || d.Changed[0].ID != "small" || len(d.Added) != 1 || len(d.Removed) != 1 || len(d.Examples) == 0 {
			t.Errorf("policy diff --json = %+v, want small changed, one added, one removed, examples", d)
		}
		for _, ex := range d.Examples {
			if ex.From.Effect == ex.To.Effect && slices.Equal(ex.From.Rules, ex.To.Rules) {
				t.Errorf("policy diff --json example %+v is decided alike", ex)
			}
		}
	})
}

func TestE2EPolicyLintStrict(t *testing.T) {
	f := writePolicyFiles(t, map[string]string{
		"warned.yaml": "name: warned\nrules:\n  - id: no-fs\n    match: {action: \"fs.*\"}\n    effect: deny\n" +
			"  - id: read\n    match: {action: fs.read}\n    effect: allow\n" +
			"  - id: wipe\n    match: {action: disk.wipe}\n    effect: allow\n",
		"clean.yaml": "name: clean\nrules:\n  - id: read\n    match: {action: fs.read}\n    effect: allow\n",
		"bad.yaml":   "name: x\nrules:\n  - id: a\n    effect: alow\n",
	})
	warned := []string{
		f["warned.yaml"] + `:6:5: warning: [shadowed] rule "read": the unconditioned deny rule "no-fs"`,
		f["warned.yaml"] + `:9:5: warning: [unconditioned-destructive-allow] rule "wipe": action glob "disk.wipe"`,
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"warnings", []string{f["warned.yaml"]}, 0, append([]string{`policy "warned" is valid`}, warned...)},
		{"warnings in strict mode", []string{"--strict", f["warned.yaml"]}, 1, warned},
		{"clean in strict mode", []string{"--strict", f["clean.yaml"]}, 0, []string{`policy "clean" is valid`}},
		{"invalid in strict mode", []string{"--strict", f["bad.yaml"]}, 1, []string{"line 4, column 13"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := warden(t, append([]string{"policy", "lint"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("policy lint = %s\nwant exit %d", r, tt.code)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("policy lint = %s\nwant it to contain %q", r, s)
				}
			}
			if tt.name == "clean in strict mode" && strings.Contains(r.stdout, "warning") {
				t.Errorf("policy lint of a clean policy = %s, want no warning", r)
			}
		})
	}
}
