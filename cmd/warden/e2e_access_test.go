package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
)

var printedKey = regexp.MustCompile(`^wdn_([a-z2-7]{16})_[a-z2-7]+$`)

// createdKey checks that a create command printed one key, alone on
// standard output, with the shown-once warning on standard error, and
// returns the key and its id.
func createdKey(t *testing.T, r result) (key, id string) {
	t.Helper()
	key = strings.TrimSuffix(r.stdout, "\n")
	m := printedKey.FindStringSubmatch(key)
	if r.code != 0 || m == nil || !strings.Contains(r.stderr, "shown only once") {
		t.Fatalf("create = %s\nwant exit 0, one key alone on stdout and the shown-once warning on stderr", r)
	}
	return key, m[1]
}

// TestE2EAccessKeysTenants drives the access model through the CLI against
// a real server: keys, tenants, the access review and its sign-off.
func TestE2EAccessKeysTenants(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	waitFor(t, srv.url+"/readyz", "")
	admin, owner := srv.keys["admin/default"], srv.keys["owner/_system"]
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
	ctx := context.Background()
	var agent, agentID, auditor, acmeAdmin, acmeAdminID, digest string
	var secrets []string // every key created, none of which may appear anywhere else

	step("keys create", func(t *testing.T) {
		r := cli(t, admin, "keys", "create", "--role", "agent", "--name", "no bindings")
		if r.code != 2 || !strings.Contains(r.stderr, "400") || !strings.Contains(r.stderr, "needs bindings") {
			t.Errorf("keys create of an unbound agent key = %s\nwant exit 2 with the server's detail", r)
		}
		r = cli(t, admin, "keys", "create", "--role", "agent", "--name", "x", "--bind", "a", "--expires", "soon")
		if r.code != 2 || !strings.Contains(r.stderr, "--expires") {
			t.Errorf("keys create --expires soon = %s\nwant exit 2 naming --expires", r)
		}
		r = cli(t, admin, "keys", "create", "--role", "agent", "--name", "billing bot", "--bind", "billing-*", "--group", "payments", "--expires", "720h")
		agent, agentID = createdKey(t, r)
		if !strings.Contains(r.stderr, agentID) || !strings.Contains(r.stderr, "bound to billing-*") {
			t.Errorf("keys create stderr = %q, want the id and the bindings", r.stderr)
		}
		r = cli(t, admin, "keys", "create", "--role", "auditor", "--name", "Q3 audit", "--json")
		var nk client.NewKey
		if err := json.Unmarshal([]byte(r.stdout), &nk); r.code != 0 || err != nil || nk.Role != "auditor" || !printedKey.MatchString(nk.Secret) {
			t.Fatalf("keys create --json = %s (%v)\nwant exit 0 and the new auditor key as JSON", r, err)
		}
		auditor = nk.Secret
		secrets = append(secrets, agent, auditor)
	})

	step("the agent key speaks for its bindings only", func(t *testing.T) {
		r := cli(t, agent, "evaluate", "--principal", "billing-7", "--action", "fs.read", "--resource", "file:///workspace/a.go")
		if r.code != 0 {
			t.Errorf("evaluate for a bound principal = %s, want exit 0", r)
		}
		r = cli(t, agent, "evaluate", "--principal", "payroll-1", "--action", "fs.read", "--resource", "file:///workspace/a.go")
		if r.code != 2 || !strings.Contains(r.stderr, "403") {
			t.Errorf("evaluate for an unbound principal = %s, want exit 2 with a 403", r)
		}
		if r := cli(t, agent, "log", "checkpoint"); r.code != 2 || !strings.Contains(r.stderr, "403") {
			t.Errorf("log checkpoint with an agent key = %s, want exit 2 with a 403", r)
		}
	})

	step("keys list and show", func(t *testing.T) {
		r := cli(t, admin, "keys", "list")
		var row string
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(line, agentID+" ") {
				row = line
			}
		}
		if r.code != 0 || !strings.HasPrefix(r.stdout, "ID ") || strings.Contains(r.stdout+r.stderr, "wdn_") {
			t.Fatalf("keys list = %s\nwant exit 0, a table and no key", r)
		}
		for _, want := range []string{"agent", "billing bot", "payments", "billing-*", "active"} {
			if !strings.Contains(row, want) {
				t.Errorf("keys list row of the agent key = %q, want %q in it", row, want)
			}
		}
		r = cli(t, admin, "keys", "list", "--json")
		var page client.KeyPage
		if err := json.Unmarshal([]byte(r.stdout), &page); r.code != 0 || err != nil || len(page.Keys) != 3 {
			t.Fatalf("keys list --json = %s (%v)\nwant the bootstrap admin, the agent and the auditor", r, err)
		}
		for _, k := range page.Keys {
			if k.ID == agentID && (k.LastUsedAt == nil || k.ExpiresAt == nil) {
				t.Errorf("listed agent key = %+v, want its last use and expiry", k)
			}
		}
		r = cli(t, admin, "keys", "show", agentID)
		if r.code != 0 || !strings.Contains(r.stdout, "role:") || !strings.Contains(r.stdout, "billing-*") || strings.Contains(r.stdout+r.stderr, "wdn_") {
			t.Errorf("keys show = %s", r)
		}
		if r := cli(t, admin, "keys", "show", "aaaaaaaaaaaaaaaa"); r.code != 2 || !strings.Contains(r.stderr, "404") {
			t.Errorf("keys show of an unknown key = %s, want exit 2 with a 404", r)
		}
	})

	step("keys update", func(t *testing.T) {
		var k client.Key
		r := cli(t, admin, "keys", "update", agentID, "--role", "auditor", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &k); r.code != 0 || err != nil || k.Role != "auditor" || len(k.Bindings) != 0 {
			t.Fatalf("keys update --role auditor = %s (%v)\nwant an auditor key without bindings", r, err)
		}
		if r := cli(t, agent, "log", "checkpoint"); r.code != 0 {
			t.Errorf("log checkpoint with the key made auditor = %s, want exit 0", r)
		}
		expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		r = cli(t, admin, "keys", "update", agentID, "--expires", expires.Format(time.RFC3339), "--json")
		if err := json.Unmarshal([]byte(r.stdout), &k); r.code != 0 || err != nil || k.ExpiresAt == nil || !k.ExpiresAt.Equal(expires) {
			t.Fatalf("keys update --expires %s = %s (%v)", expires.Format(time.RFC3339), r, err)
		}
		r = cli(t, admin, "keys", "update", agentID, "--no-expiry", "--json")
		k = client.Key{}
		if err := json.Unmarshal([]byte(r.stdout), &k); r.code != 0 || err != nil || k.ID != agentID || k.ExpiresAt != nil {
			t.Fatalf("keys update --no-expiry = %s (%v), want no expiry", r, err)
		}
		if r := cli(t, admin, "keys", "update", agentID); r.code != 2 || !strings.Contains(r.stderr, "nothing to change") {
			t.Errorf("keys update without changes = %s, want exit 2", r)
		}
		if r := cli(t, admin, "keys", "update", agentID, "--expires", "1h", "--no-expiry"); r.code != 2 {
			t.Errorf("keys update --expires --no-expiry = %s, want exit 2", r)
		}
	})

	step("keys revoke", func(t *testing.T) {
		r := cli(t, admin, "keys", "revoke", agentID)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "revoked auditor key "+agentID) {
			t.Fatalf("keys revoke = %s", r)
		}
		if r := cli(t, agent, "log", "checkpoint"); r.code != 2 || !strings.Contains(r.stderr, "401") {
			t.Errorf("log checkpoint with the revoked key = %s, want exit 2 with a 401", r)
		}
		if r := cli(t, admin, "keys", "show", agentID); r.code != 0 || !strings.Contains(r.stdout, "revoked") {
			t.Errorf("keys show of the revoked key = %s", r)
		}
		if r := cli(t, admin, "keys", "update", agentID, "--name", "again"); r.code != 2 || !strings.Contains(r.stderr, "is revoked") {
			t.Errorf("keys update of a revoked key = %s, want exit 2 with the server's detail", r)
		}
	})

	step("tenants", func(t *testing.T) {
		if r := cli(t, admin, "tenants", "create", "acme", "--name", "Acme Corp"); r.code != 2 || !strings.Contains(r.stderr, "403") {
			t.Errorf("tenants create with an admin key = %s, want exit 2 with a 403", r)
		}
		r := cli(t, owner, "tenants", "create", "acme", "--name", "Acme Corp")
		acmeAdmin, acmeAdminID = createdKey(t, r)
		secrets = append(secrets, acmeAdmin)
		if !strings.Contains(r.stderr, "acme") {
			t.Errorf("tenants create stderr = %q, want the tenant", r.stderr)
		}
		if r := cli(t, owner, "tenants", "create", "acme", "--name", "Again"); r.code != 2 || !strings.Contains(r.stderr, "409") {
			t.Errorf("tenants create of an existing id = %s, want exit 2 with a 409", r)
		}
		r = cli(t, owner, "tenants", "list")
		if r.code != 0 || !strings.Contains(r.stdout, "Acme Corp") || !strings.Contains(r.stdout, "default") {
			t.Errorf("tenants list = %s", r)
		}
		if r := cli(t, acmeAdmin, "keys", "list"); r.code != 0 || !strings.Contains(r.stdout, acmeAdminID) {
			t.Errorf("keys list with acme's admin key = %s", r)
		}
		if r := cli(t, owner, "keys", "list", "--tenant", "acme"); r.code != 0 || !strings.Contains(r.stdout, acmeAdminID) {
			t.Errorf("keys list --tenant acme with the owner key = %s", r)
		}
		r = cli(t, owner, "tenants", "suspend", "acme", "--reason", "contract ended")
		if r.code != 0 || !strings.Contains(r.stdout, "suspended") {
			t.Fatalf("tenants suspend = %s", r)
		}
		r = cli(t, owner, "tenants", "list", "--json")
		var page client.TenantPage
		if err := json.Unmarshal([]byte(r.stdout), &page); r.code != 0 || err != nil {
			t.Fatalf("tenants list --json = %s (%v)", r, err)
		}
		for _, tn := range page.Tenants {
			if tn.ID == "acme" && tn.Status != "suspended" {
				t.Errorf("listed acme = %+v, want suspended", tn)
			}
		}
		if r := cli(t, acmeAdmin, "keys", "list"); r.code != 2 || !strings.Contains(r.stderr, "403") || !strings.Contains(r.stderr, "suspended") {
			t.Errorf("keys list with the suspended tenant's admin key = %s, want exit 2: tenant suspended", r)
		}
	})

	step("access review", func(t *testing.T) {
		r := cli(t, admin, "access", "review")
		m := regexp.MustCompile(`(?m)^digest: ([0-9a-f]{64})$`).FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil || !strings.Contains(r.stdout, agentID) || !strings.Contains(r.stdout, "revoked") || strings.Contains(r.stdout+r.stderr, "wdn_") {
			t.Fatalf("access review = %s\nwant exit 0, the revoked key and a digest", r)
		}
		digest = m[1]
		r = cli(t, auditor, "access", "review", "--json")
		var rv client.AccessReview
		if err := json.Unmarshal([]byte(r.stdout), &rv); r.code != 0 || err != nil || rv.Digest != digest || len(rv.Keys) != 3 {
			t.Fatalf("access review --json (auditor) = %s (%v)\nwant the same review, digest %s", r, err, digest)
		}
		if r := cli(t, admin, "access", "review", "--comment", "x"); r.code != 2 || !strings.Contains(r.stderr, "--sign") {
			t.Errorf("access review --comment without --sign = %s, want exit 2", r)
		}
		if r := cli(t, auditor, "access", "review", "--sign"); r.code != 2 || !strings.Contains(r.stderr, "403") {
			t.Errorf("access review --sign with an auditor key = %s, want exit 2 with a 403", r)
		}
		c, err := client.New(srv.url, admin)
		if err != nil {
			t.Fatal(err)
		}
		var ce *client.Error
		if _, err := c.SignAccessReview(ctx, strings.Repeat("0", 64), ""); !errors.As(err, &ce) || ce.Status != http.StatusConflict {
			t.Errorf("SignAccessReview(stale digest) = %v, want a 409", err)
		}
		r = cli(t, admin, "access", "review", "--sign", "--comment", "Q3 review")
		if r.code != 0 || !strings.Contains(r.stdout, "access.review_signed") || !strings.Contains(r.stdout, "digest "+digest) {
			t.Fatalf("access review --sign = %s", r)
		}
	})

	step("the log records the sign-off", func(t *testing.T) {
		c, err := client.New(srv.url, admin)
		if err != nil {
			t.Fatal(err)
		}
		var signed []string
		for cursor := ""; ; {
			p, err := c.Entries(ctx, 0, -1, cursor, 0)
			if err != nil {
				t.Fatalf("Entries = %v", err)
			}
			for _, e := range p.Entries {
				var ent struct {
					Kind string `json:"kind"`
					Body struct {
						Digest  string `json:"digest"`
						Comment string `json:"comment"`
					} `json:"body"`
				}
				if err := json.Unmarshal(e.Entry, &ent); err != nil {
					t.Fatalf("entry %d: %v", e.Seq, err)
				}
				if ent.Kind == "access.review_signed" {
					signed = append(signed, ent.Body.Digest+" "+ent.Body.Comment)
				}
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if want := digest + " Q3 review"; len(signed) != 1 || signed[0] != want {
			t.Errorf("access.review_signed entries = %q, want one: %q", signed, want)
		}
	})

	step("settings through the client", func(t *testing.T) {
		c, err := client.New(srv.url, admin)
		if err != nil {
			t.Fatal(err)
		}
		two := 2
		if s, err := c.UpdateSettings(ctx, client.SettingsUpdate{PolicyApprovals: &two}); err != nil || s.PolicyApprovals != 2 {
			t.Fatalf("UpdateSettings(policy_approvals=2) = %+v, %v", s, err)
		}
		if s, err := c.Settings(ctx); err != nil || s.PolicyApprovals != 2 || s.RetentionDays == 0 {
			t.Errorf("Settings = %+v, %v; want policy_approvals 2", s, err)
		}
		now := time.Now()
		if _, err := c.UpdateKey(ctx, acmeAdminID, client.KeyUpdate{ExpiresAt: &now, ClearExpiry: true}); err == nil {
			t.Error("UpdateKey with an expiry both set and cleared succeeded")
		}
	})

	step("secrets are shown once and never logged", func(t *testing.T) {
		r := srv.stop(t)
		if r.code != 0 {
			t.Errorf("warden serve after SIGTERM = %s, want exit 0", r)
		}
		for _, k := range secrets {
			_, secret, _ := strings.Cut(strings.TrimPrefix(k, "wdn_"), "_")
			if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
				t.Errorf("the server printed the secret of a key created by the CLI")
			}
		}
	})
}

// Every access command explains itself.
func TestE2EAccessHelp(t *testing.T) {
	for _, args := range [][]string{
		{"keys"}, {"keys", "create"}, {"keys", "list"}, {"keys", "show"}, {"keys", "update"}, {"keys", "revoke"},
		{"tenants"}, {"tenants", "create"}, {"tenants", "list"}, {"tenants", "suspend"},
		{"access"}, {"access", "review"},
	} {
		r := warden(t, append(args, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || strings.Count(r.stdout, "\n") < 5 {
			t.Errorf("warden %s --help = %s", strings.Join(args, " "), r)
		}
	}
	if r := warden(t, "keys", "create", "--help"); !strings.Contains(r.stdout, "shown this once") {
		t.Errorf("keys create --help does not say the key is shown once:\n%s", r.stdout)
	}
}
