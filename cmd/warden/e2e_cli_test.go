package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func TestE2EVersion(t *testing.T) {
	r := warden(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "warden ") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("warden version = %s\nwant exit 0 and one line starting 'warden '", r)
	}
}

func TestE2EKeygen(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "keys", "signing.key")
	r := warden(t, "keygen", "--out", out)
	if r.code != 0 {
		t.Fatalf("warden keygen --out %s = %s\nwant exit 0", out, r)
	}
	vkey := strings.TrimSpace(r.stdout)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("keygen printed %q: not a verifier key: %v", r.stdout, err)
	}
	if v.Name() != "warden" {
		t.Errorf("verifier key name = %q, want warden", v.Name())
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", st.Mode().Perm())
	}
	skey, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil || signer.KeyHash() != v.KeyHash() {
		t.Fatalf("key file does not hold the signer of the printed verifier key (%v)", err)
	}
	if strings.Contains(r.stdout+r.stderr, strings.TrimSpace(string(skey))) {
		t.Error("keygen printed the signer key")
	}

	r = warden(t, "keygen", "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("second warden keygen --out %s = %s\nwant exit 2: it must not overwrite", out, r)
	}
	if again, _ := os.ReadFile(out); string(again) != string(skey) {
		t.Error("second keygen changed the key file")
	}
	r = warden(t, "keygen", "--out", filepath.Join(dir, "named.key"), "--name", "acme")
	if v, err := note.NewVerifier(strings.TrimSpace(r.stdout)); r.code != 0 || err != nil || v.Name() != "acme" {
		t.Errorf("warden keygen --name acme = %s (%v), want a verifier key named acme", r, err)
	}
}

// TestE2ESigningKeyFile serves with a key from keygen: the data directory
// then holds no signing key, log.pub is keygen's verifier key, and a key
// file that others can read is refused.
func TestE2ESigningKeyFile(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	kg := warden(t, "keygen", "--out", keyPath)
	if kg.code != 0 {
		t.Fatalf("keygen = %s", kg)
	}
	dir := t.TempDir()
	srv := startServer(t, dir, "--signing-key", keyPath)
	waitFor(t, srv.url+"/readyz", "")
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("serve --signing-key = %s\nwant exit 0", r)
	}
	pub, err := os.ReadFile(filepath.Join(dir, pubFile))
	if err != nil || strings.TrimSpace(string(pub)) != strings.TrimSpace(kg.stdout) {
		t.Fatalf("%s = %q (%v), want keygen's verifier key %q", pubFile, pub, err, kg.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFile)); !os.IsNotExist(err) {
		t.Errorf("serve --signing-key wrote a key into the data directory (stat: %v)", err)
	}
	r := warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", filepath.Join(dir, pubFile))
	if r.code != 0 {
		t.Errorf("offline verify of a server with --signing-key = %s", r)
	}

	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	r = warden(t, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--signing-key", keyPath)
	if r.code != 2 || !strings.Contains(r.stderr, "readable by others") {
		t.Errorf("serve with a 0644 signing key = %s\nwant exit 2", r)
	}
}

func TestE2EUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"tls cert without key", []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key"},
		{"tls key without cert", []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--tls-key", "k.pem"}, "--tls-cert and --tls-key"},
		{"listen without port", []string{"serve", "--data-dir", dir, "--listen", "localhost"}, "--listen"},
		{"origin with a space", []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--origin", "a b"}, "--origin"},
		{"postgres", []string{"serve", "--data-dir", dir, "--database", "postgres://x"}, "PostgreSQL"},
		{"bad log format", []string{"serve", "--data-dir", dir, "--log-format", "xml"}, "--log-format"},
		{"serve takes no args", []string{"serve", "extra"}, "unknown command"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"version", "--frob"}, "unknown flag"},
		{"keygen without out", []string{"keygen"}, "--out"},
		{"proof without seq or from", []string{"log", "proof", "--data-dir", dir}, "--seq"},
		{"proof with both", []string{"log", "proof", "--data-dir", dir, "--seq", "0", "--from", "1"}, "--seq"},
		{"online without key", []string{"log", "checkpoint", "--url", "http://127.0.0.1:1"}, "--key"},
		{"online bad url", []string{"log", "checkpoint", "--url", "ftp://x", "--key", "k"}, "not an http(s) URL"},
		{"trusted checkpoint without tenant", []string{"log", "verify", "--data-dir", dir, "--trusted-checkpoint", "cp"}, "--tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := warden(t, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("warden %s = %s\nwant exit 2 and stderr containing %q", strings.Join(tc.args, " "), r, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused commands left %d files in the data directory", len(entries))
	}
}

// An installation keeps the key it first signed with: another key file, or
// a missing one that serve would otherwise generate anew, is refused.
func TestE2ESigningKeyPinned(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	waitFor(t, srv.url+"/readyz", "")
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("first serve = %s", r)
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if kg := warden(t, "keygen", "--out", other); kg.code != 0 {
		t.Fatalf("keygen = %s", kg)
	}
	r := warden(t, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--signing-key", other)
	if r.code != 2 || !strings.Contains(r.stderr, "not this installation's key") {
		t.Errorf("serve with another signing key = %s\nwant exit 2", r)
	}
	if err := os.Rename(filepath.Join(dir, keyFile), filepath.Join(dir, "moved.key")); err != nil {
		t.Fatal(err)
	}
	r = warden(t, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "is missing") {
		t.Errorf("serve with the key file gone = %s\nwant exit 2", r)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFile)); !os.IsNotExist(err) {
		t.Errorf("serve generated a new key over a missing one (stat: %v)", err)
	}
}

// --bootstrap-keys-file puts the first start's keys in a new 0600 file and
// not on standard output.
func TestE2EBootstrapKeysFile(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(t.TempDir(), "bootstrap-keys")
	srv := startServer(t, dir, "--bootstrap-keys-file", keys)
	waitFor(t, srv.url+"/readyz", "")
	r := srv.stop(t)
	if r.code != 0 || strings.Contains(r.stdout, "wdn_") || strings.Contains(r.stderr, "wdn_") {
		t.Fatalf("serve --bootstrap-keys-file = %s\nwant exit 0 and no key printed", r)
	}
	st, err := os.Stat(keys)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s = %v, %v; want mode 0600", keys, st, err)
	}
	b, _ := os.ReadFile(keys)
	if strings.Count(string(b), "wdn_") != 2 {
		t.Errorf("%s holds %d keys, want 2:\n%s", keys, strings.Count(string(b), "wdn_"), b)
	}
}
