package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EEvidence exports an archive through the real server with the
// CLI, verifies it offline with the installation's verifier key, and
// checks that an edited archive and another key are refused.
func TestE2EEvidence(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/readyz", "")
	from := time.Now().UTC().Add(-time.Hour)
	for _, action := range []string{"fs.read", "db.drop", "fs.read"} {
		if r := warden(t, "evaluate", "--principal", "bot-1", "--action", action, "--url", srv.url, "--key", admin); r.code > 1 {
			t.Fatalf("evaluate = %s", r)
		}
	}
	time.Sleep(10 * time.Millisecond) // the period ends before now, on the server's clock too
	to := time.Now().UTC()
	out := filepath.Join(t.TempDir(), "q.zip")
	r := warden(t, "evidence", "export", "--from", from.Format(time.RFC3339Nano), "--to", to.Format(time.RFC3339Nano),
		"--out", out, "--format", "oscal", "--url", srv.url, "--key", admin)
	if r.code != 0 || !strings.Contains(r.stdout, "wrote "+out) {
		t.Fatalf("evidence export = %s", r)
	}
	if b, err := os.ReadFile(strings.TrimSuffix(out, ".zip") + ".oscal.json"); err != nil || !bytes.Contains(b, []byte(`"assessment-results"`)) {
		t.Errorf("the OSCAL file beside the archive: %v, %.200s", err, b)
	}
	pub := filepath.Join(dir, pubFile)
	r = warden(t, "evidence", "verify", out, "--trusted-key", pub)
	if r.code != 0 || !strings.Contains(r.stdout, "verdict: the archive verifies") || !strings.Contains(r.stdout, "ok   inclusion") {
		t.Fatalf("evidence verify = %s", r)
	}

	// An entry edited: exit 1, the checks named.
	edited := filepath.Join(t.TempDir(), "edited.zip")
	editZip(t, out, edited, "entries.ndjson", func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"bot-1"`), []byte(`"bot-2"`), 1)
	})
	r = warden(t, "evidence", "verify", edited, "--trusted-key", pub)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL file_hashes") || !strings.Contains(r.stdout, "does NOT verify") {
		t.Errorf("evidence verify of an edited archive = %s, want exit 1 naming file_hashes", r)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.pub")
	writeFile(t, wrong, []byte("warden+00000001+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij\n"))
	if r := warden(t, "evidence", "verify", out, "--trusted-key", wrong); r.code != 2 {
		t.Errorf("evidence verify with a malformed key = %s, want exit 2", r)
	}
	if r := warden(t, "evidence", "verify", out); r.code != 2 || !strings.Contains(r.stderr, "--trusted-key is required") {
		t.Errorf("evidence verify without a key = %s, want exit 2", r)
	}
	// A period not yet over is refused.
	r = warden(t, "evidence", "export", "--from", from.Format(time.RFC3339), "--to", time.Now().Add(time.Hour).Format(time.RFC3339),
		"--out", filepath.Join(t.TempDir(), "x.zip"), "--url", srv.url, "--key", admin)
	if r.code != 2 || !strings.Contains(r.stderr, "future") {
		t.Errorf("export of a period not over = %s, want exit 2 saying so", r)
	}
}

// editZip copies archive src to dst with file name changed by edit.
func editZip(t *testing.T, src, dst, name string, edit func([]byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if zf.Name == name {
			b = edit(b)
		}
		w, _ := zw.Create(zf.Name)
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
