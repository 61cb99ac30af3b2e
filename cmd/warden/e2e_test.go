package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", to tamper with a stopped server's data
)

// TestE2EServeAndVerify runs the life of one installation: first start,
// online reads and verification, shutdown, restart, offline verification,
// and tampering.
func TestE2EServeAndVerify(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, pubFile)
	// Started here, not in a step: a step's cleanup would kill it early.
	srv := startServer(t, dir)
	var admin, owner string

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}

	step("first start prints the keys once", func(t *testing.T) {
		admin, owner = srv.keys["admin/default"], srv.keys["owner/_system"]
		if admin == "" || owner == "" || len(srv.keys) != 2 {
			t.Fatalf("first start printed keys %v, want an admin of default and an owner of _system\nstdout:\n%s", srv.keys, srv.stdout)
		}
		waitFor(t, srv.url+"/readyz", "")
		waitFor(t, srv.url+"/v1/log/checkpoint", admin)
		waitFor(t, srv.url+"/v1/log/checkpoint?tenant=_system", owner)
	})

	step("online verify", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			args   []string
			tenant string
		}{
			{"admin", []string{"--key", admin}, "default"},
			{"owner names default", []string{"--key", owner, "--tenant", "default"}, "default"},
			{"owner own", []string{"--key", owner}, "_system"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				args := append([]string{"log", "verify", "--url", srv.url, "--trusted-key", pub}, tc.args...)
				r := warden(t, args...)
				if r.code != 0 || !strings.HasPrefix(r.stdout, "ok    "+tc.tenant+" ") {
					t.Fatalf("warden log verify --url (%s) = %s\nwant exit 0 and a line starting ok %s", tc.name, r, tc.tenant)
				}
				if strings.Contains(r.stderr, "warning") {
					t.Errorf("verify with --trusted-key warned: %s", r.stderr)
				}
			})
		}
		r := warden(t, "log", "verify", "--url", srv.url, "--key", admin)
		if r.code != 0 || !strings.Contains(r.stderr, "no --trusted-key") {
			t.Errorf("warden log verify --url without --trusted-key = %s\nwant exit 0 and a warning", r)
		}
	})

	step("online checkpoint and proofs", func(t *testing.T) {
		r := warden(t, "log", "checkpoint", "--url", srv.url, "--key", admin)
		if first, _, _ := strings.Cut(r.stdout, "\n"); r.code != 0 || first != "warden/default" {
			t.Fatalf("warden log checkpoint = %s\nwant exit 0 and a note for warden/default", r)
		}
		vkey, err := os.ReadFile(pub)
		if err != nil {
			t.Fatal(err)
		}
		v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
		if err != nil {
			t.Fatalf("%s: %v", pub, err)
		}
		if _, err := note.Open([]byte(r.stdout), note.VerifierList(v)); err != nil {
			t.Errorf("the printed checkpoint does not verify with %s: %v", pub, err)
		}

		for _, tc := range []struct {
			name string
			args []string
			want []string // JSON fields
		}{
			{"inclusion", []string{"--seq", "0"}, []string{"seq", "size", "proof"}},
			{"consistency", []string{"--from", "1"}, []string{"from", "to", "proof"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := warden(t, append([]string{"log", "proof", "--url", srv.url, "--key", admin}, tc.args...)...)
				var out map[string]any
				if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
					t.Fatalf("warden log proof %v = %s\nwant exit 0 and JSON", tc.args, r)
				}
				for _, f := range tc.want {
					if _, ok := out[f]; !ok {
						t.Errorf("warden log proof %v printed %s, want field %q", tc.args, r.stdout, f)
					}
				}
				if _, ok := out["proof"].([]any); !ok {
					t.Errorf("proof field is %T, want a list", out["proof"])
				}
			})
		}
	})

	step("SIGTERM stops cleanly without leaking keys", func(t *testing.T) {
		r := srv.stop(t)
		if r.code != 0 {
			t.Fatalf("warden serve after SIGTERM = %s\nwant exit 0", r)
		}
		for _, k := range []string{admin, owner} {
			_, secret, _ := strings.Cut(strings.TrimPrefix(k, "wdn_"), "_")
			if strings.Contains(r.stderr, secret) {
				t.Errorf("stderr carries a key's secret:\n%s", r.stderr)
			}
		}
		if !strings.Contains(r.stderr, "stopped") {
			t.Errorf("stderr lacks the final 'stopped' log line:\n%s", r.stderr)
		}
	})

	step("second start prints no keys", func(t *testing.T) {
		srv2 := startServer(t, dir) // stopped within this step
		waitFor(t, srv2.url+"/readyz", "")
		waitFor(t, srv2.url+"/v1/log/checkpoint", admin) // the old key still works
		r := srv2.stop(t)
		if r.code != 0 || strings.Contains(r.stdout, "wdn_") || strings.Contains(r.stdout, "New API keys") || len(srv2.keys) != 0 {
			t.Fatalf("second start = %s\nwant exit 0 and no keys", r)
		}
	})

	step("offline verify", func(t *testing.T) {
		r := warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", pub)
		if r.code != 0 || !strings.Contains(r.stdout, "ok    _system ") || !strings.Contains(r.stdout, "ok    default ") {
			t.Fatalf("warden log verify --data-dir = %s\nwant exit 0 and ok for _system and default", r)
		}
		r = warden(t, "log", "checkpoint", "--data-dir", dir, "--tenant", "_system")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "warden/_system\n") {
			t.Errorf("warden log checkpoint --data-dir --tenant _system = %s", r)
		}
	})

	step("usage and trust errors", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.pub")
		kg := warden(t, "keygen", "--out", filepath.Join(t.TempDir(), "other.key"))
		if kg.code != 0 || os.WriteFile(other, []byte(kg.stdout), 0o644) != nil {
			t.Fatalf("keygen = %s", kg)
		}
		for _, tc := range []struct {
			name string
			args []string
			code int
			want string // in stdout or stderr
		}{
			{"wrong trusted key", []string{"log", "verify", "--data-dir", dir, "--trusted-key", other}, 1, "FAIL"},
			{"missing trusted key file", []string{"log", "verify", "--data-dir", dir, "--trusted-key", filepath.Join(dir, "absent.pub")}, 2, "trusted key"},
			{"trusted key file that is no key", []string{"log", "verify", "--data-dir", dir, "--trusted-key", filepath.Join(dir, dbFile)}, 2, "trusted key"},
			{"no database", []string{"log", "verify", "--data-dir", t.TempDir(), "--trusted-key", pub}, 2, "database"},
			{"origin cannot change", []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--origin", "x"}, 2, `origin is "warden"`},
			{"expected origin differs", []string{"log", "verify", "--data-dir", dir, "--trusted-key", pub, "--origin", "x"}, 1, "origin"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := warden(t, tc.args...)
				if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
					t.Fatalf("warden %s = %s\nwant exit %d and output containing %q", strings.Join(tc.args, " "), r, tc.code, tc.want)
				}
			})
		}
	})

	step("offline verify finds a flipped byte", func(t *testing.T) {
		flipByte(t, filepath.Join(dir, dbFile), "default", 1)
		r := warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", pub)
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  default") || !strings.Contains(r.stdout, "seq 1") {
			t.Fatalf("warden log verify after tampering = %s\nwant exit 1 naming seq 1 of default", r)
		}
		if !strings.Contains(r.stdout, "ok    _system ") {
			t.Errorf("tampering with default failed _system too:\n%s", r.stdout)
		}
		r = warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", pub, "--tenant", "_system")
		if r.code != 0 {
			t.Errorf("warden log verify --tenant _system after tampering with default = %s\nwant exit 0", r)
		}
	})
}

// flipByte changes one byte of an entry's stored data (the case of one
// letter, so that it stays a well-formed, canonical entry whose hash no
// longer matches).
func flipByte(t *testing.T, dbPath, tenant string, seq int64) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var data []byte
	if err := db.QueryRowContext(ctx, "SELECT data FROM entries WHERE tenant_id = ? AND seq = ?", tenant, seq).Scan(&data); err != nil {
		t.Fatalf("read entry %d of %s: %v", seq, tenant, err)
	}
	i := bytes.Index(data, []byte(`"kind":"`))
	if i < 0 {
		t.Fatalf("entry %d of %s has no kind: %s", seq, tenant, data)
	}
	i += len(`"kind":"`)
	data[i] ^= 0x20 // key.created → Key.created
	res, err := db.ExecContext(ctx, "UPDATE entries SET data = ? WHERE tenant_id = ? AND seq = ?", data, tenant, seq)
	if err != nil {
		t.Fatalf("tamper with entry %d of %s: %v", seq, tenant, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tamper with entry %d of %s: %d rows changed, want 1", seq, tenant, n)
	}
}
