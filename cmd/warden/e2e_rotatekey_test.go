package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/event"
)

// TestE2ERotateKey serves, stops, rotates the signing key, serves with
// the new key and evaluates; the log then verifies with the key history
// (oldest first) and fails with either key alone.
func TestE2ERotateKey(t *testing.T) {
	dir := t.TempDir()
	keys := t.TempDir()
	oldKey, newKey := filepath.Join(keys, "old.key"), filepath.Join(keys, "new.key")
	oldPub, newPub := filepath.Join(keys, "old.pub"), filepath.Join(keys, "new.pub")
	for _, k := range []struct{ key, pub string }{{oldKey, oldPub}, {newKey, newPub}} {
		r := warden(t, "keygen", "--out", k.key)
		if r.code != 0 {
			t.Fatalf("keygen = %s", r)
		}
		if err := os.WriteFile(k.pub, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	evaluate := func(srv *serverProc, admin string) {
		t.Helper()
		body := `{"principal":{"id":"coder","type":"agent"},"action":{"type":"fs.read"},"args":{}}`
		status, _, b, err := postEvaluate(http.DefaultClient, srv.url, admin, body)
		if err != nil || status != http.StatusOK {
			t.Fatalf("POST /v1/evaluate = %d %s, %v; want 200", status, b, err)
		}
	}

	srv := startServer(t, dir, "--signing-key", oldKey)
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/readyz", "")
	evaluate(srv, admin)
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("serve = %s", r)
	}

	if r := warden(t, "log", "rotate-key", "--data-dir", dir, "--signing-key", oldKey, "--new-key", oldKey); r.code != 2 ||
		!strings.Contains(r.stderr, "is the current key") {
		t.Errorf("rotate-key --new-key <the current key> = %s\nwant exit 2", r)
	}
	r := warden(t, "log", "rotate-key", "--data-dir", dir, "--signing-key", oldKey, "--new-key", newKey, "--note", "yearly rotation")
	if r.code != 0 || !strings.Contains(r.stdout, "_system") || !strings.Contains(r.stdout, "default") {
		t.Fatalf("rotate-key = %s\nwant exit 0, announced in _system and default", r)
	}

	r = warden(t, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--signing-key", oldKey)
	if r.code != 2 || !strings.Contains(r.stderr, "retired") {
		t.Errorf("serve with the retired key = %s\nwant exit 2 naming it retired", r)
	}
	srv = startServer(t, dir, "--signing-key", newKey)
	waitFor(t, srv.url+"/readyz", "")
	evaluate(srv, admin)
	waitFor(t, srv.url+"/v1/log/checkpoint", admin)
	key := waitFor(t, srv.url+"/v1/log/key", admin)
	if want, _ := os.ReadFile(newPub); strings.TrimSpace(string(key)) != strings.TrimSpace(string(want)) {
		t.Errorf("GET /v1/log/key = %q, want the new key %q", key, want)
	}
	if r := warden(t, "log", "verify", "--url", srv.url, "--key", admin, "--trusted-key", oldPub, "--trusted-key", newPub); r.code != 0 {
		t.Errorf("online verify with the key history = %s\nwant exit 0", r)
	}
	// The monitor re-verifies the log with the history at its start: a
	// ledger.self_verified entry that passed, and no integrity alert.
	c, err := client.New(srv.url, admin)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the monitor recorded no verification round", func() bool {
		for _, e := range entries(t, c) {
			if e.Kind == event.KindSelfVerified {
				var v event.SelfVerified
				if err := json.Unmarshal(e.Body, &v); err != nil || !v.OK {
					t.Fatalf("the monitor's verification after the rotation: %s", e.Body)
				}
				return true
			}
		}
		return false
	})
	if page, err := c.Alerts(context.Background(), client.AlertQuery{}); err != nil || len(page.Alerts) != 0 {
		t.Errorf("alerts after the rotation = %+v, %v; want none", page, err)
	}
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("serve --signing-key new = %s", r)
	}

	r = warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", oldPub, "--trusted-key", newPub)
	if r.code != 0 || strings.Count(r.stdout, "ok ") != 2 {
		t.Errorf("verify --trusted-key old --trusted-key new = %s\nwant exit 0, both logs ok", r)
	}
	// log.pub holds the history, oldest first.
	if r := warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", filepath.Join(dir, pubFile)); r.code != 0 {
		t.Errorf("verify --trusted-key %s = %s\nwant exit 0", pubFile, r)
	}
	if r := warden(t, "log", "verify", "--data-dir", dir); r.code != 0 {
		t.Errorf("verify with the installation's recorded keys = %s\nwant exit 0", r)
	}
	r = warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", newPub)
	if r.code != 1 || !strings.Contains(r.stdout, "not signed by a trusted key") {
		t.Errorf("verify with the new key only = %s\nwant exit 1: the old key's checkpoints are not trusted", r)
	}
	r = warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", oldPub)
	if r.code != 1 || !strings.Contains(r.stdout, "not signed by a trusted key") {
		t.Errorf("verify with the old key only = %s\nwant exit 1 at the first checkpoint of the new key", r)
	}
}
