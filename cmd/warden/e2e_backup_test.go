package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestE2EBackupRestore backs up a running server's SQLite database and
// restores it: into a fresh data directory, over an existing database
// (refused, then moved aside with --force), and from a tampered backup
// (refused, nothing changed).
func TestE2EBackupRestore(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir) // killed at cleanup
	admin, owner := srv.keys["admin/default"], srv.keys["owner/_system"]
	if admin == "" || owner == "" {
		t.Fatalf("first start printed keys %v, want an admin and an owner", srv.keys)
	}
	// Both logs have a signed checkpoint before the backup: a log with
	// entries and no checkpoint would not verify.
	waitFor(t, srv.url+"/v1/log/checkpoint", admin)
	waitFor(t, srv.url+"/v1/log/checkpoint?tenant=_system", owner)
	pub := filepath.Join(dir, pubFile)
	backup := filepath.Join(t.TempDir(), "warden.backup")

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}

	step("backup while serving", func(t *testing.T) {
		r := warden(t, "backup", "--data-dir", dir, "--out", backup)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "backed up ") {
			t.Fatalf("warden backup --out (server running) = %s\nwant exit 0", r)
		}
		waitFor(t, srv.url+"/readyz", "") // the server is unharmed
		before := readFile(t, backup)
		r = warden(t, "backup", "--data-dir", dir, "--out", backup)
		if r.code != 2 || !strings.Contains(r.stderr, "exists") {
			t.Errorf("second warden backup --out to the same file = %s\nwant exit 2 naming the existing file", r)
		}
		if !bytes.Equal(readFile(t, backup), before) {
			t.Errorf("a refused backup changed the existing file")
		}
	})

	fresh := t.TempDir()
	db := filepath.Join(fresh, dbFile)
	step("restore into a fresh data directory", func(t *testing.T) {
		writeFile(t, filepath.Join(fresh, pubFile), readFile(t, pub))
		r := warden(t, "restore", "--from", backup, "--data-dir", fresh)
		if r.code != 0 || !strings.Contains(r.stdout, "ok    default ") || !strings.Contains(r.stdout, "restored ") {
			t.Fatalf("warden restore --from (fresh data dir) = %s\nwant exit 0 after verifying every log", r)
		}
		r = warden(t, "log", "verify", "--data-dir", fresh, "--trusted-key", pub)
		if r.code != 0 || !strings.Contains(r.stdout, "ok    _system ") || !strings.Contains(r.stdout, "ok    default ") {
			t.Fatalf("warden log verify of the restored data dir = %s\nwant exit 0 and ok for _system and default", r)
		}
	})

	step("restore over an existing database needs --force", func(t *testing.T) {
		before := readFile(t, db)
		r := warden(t, "restore", "--from", backup, "--data-dir", fresh)
		if r.code != 2 || !strings.Contains(r.stderr, "--force") {
			t.Fatalf("warden restore over an existing database = %s\nwant exit 2 naming --force", r)
		}
		if !bytes.Equal(readFile(t, db), before) || len(replaced(t, fresh)) != 0 {
			t.Fatalf("a refused restore changed the data directory: %v", dirNames(t, fresh))
		}

		r = warden(t, "restore", "--from", backup, "--data-dir", fresh, "--force")
		if r.code != 0 || !strings.Contains(r.stderr, "moved the old database aside") {
			t.Fatalf("warden restore --force = %s\nwant exit 0", r)
		}
		aside := replaced(t, fresh)
		if len(aside) != 1 {
			t.Fatalf("after restore --force, %s holds %v, want one %s.replaced-* file", fresh, dirNames(t, fresh), dbFile)
		}
		if !bytes.Equal(readFile(t, filepath.Join(fresh, aside[0])), before) {
			t.Errorf("%s is not the old database", aside[0])
		}
		r = warden(t, "log", "verify", "--data-dir", fresh, "--trusted-key", pub)
		if r.code != 0 {
			t.Errorf("warden log verify after restore --force = %s\nwant exit 0", r)
		}

		// Again at once (within the same second): the database moved
		// aside before MUST NOT be overwritten by the next one.
		if r := warden(t, "restore", "--from", backup, "--data-dir", fresh, "--force"); r.code != 0 {
			t.Fatalf("second warden restore --force = %s\nwant exit 0", r)
		}
		if got := replaced(t, fresh); len(got) != 2 {
			t.Fatalf("after two restores --force, %s holds %v, want two moved-aside databases", fresh, dirNames(t, fresh))
		}
		if !bytes.Equal(readFile(t, filepath.Join(fresh, aside[0])), before) {
			t.Errorf("the second restore --force overwrote the first moved-aside database %s", aside[0])
		}
	})

	step("a tampered backup is refused and nothing changes", func(t *testing.T) {
		tampered := filepath.Join(t.TempDir(), "tampered.backup")
		writeFile(t, tampered, readFile(t, backup))
		flipByte(t, tampered, "default", 1)
		before, names := readFile(t, db), dirNames(t, fresh)
		r := warden(t, "restore", "--from", tampered, "--data-dir", fresh, "--force")
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  default") || !strings.Contains(r.stderr, "nothing was changed") {
			t.Fatalf("warden restore --force of a tampered backup = %s\nwant exit 1 naming default", r)
		}
		if !bytes.Equal(readFile(t, db), before) || !slices.Equal(dirNames(t, fresh), names) {
			t.Errorf("a refused restore changed the data directory: %v, was %v", dirNames(t, fresh), names)
		}
	})

	step("a backup signed with another key is refused", func(t *testing.T) {
		other := t.TempDir()
		kg := warden(t, "keygen", "--out", filepath.Join(t.TempDir(), "other.key"))
		if kg.code != 0 {
			t.Fatalf("keygen = %s", kg)
		}
		writeFile(t, filepath.Join(other, pubFile), []byte(kg.stdout))
		r := warden(t, "restore", "--from", backup, "--data-dir", other)
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL") {
			t.Fatalf("warden restore verified with another key = %s\nwant exit 1", r)
		}
		if _, err := os.Stat(filepath.Join(other, dbFile)); err == nil {
			t.Errorf("a refused restore installed %s", dbFile)
		}
	})
}

func TestE2EBackupPostgresPrintsProcedure(t *testing.T) {
	for _, args := range [][]string{
		{"backup", "--database", "postgres://warden@db.example/warden", "--out", filepath.Join(t.TempDir(), "x")},
		{"backup", "--database", "postgresql://warden@db.example/warden"},
		{"restore", "--from", "warden.dump", "--database", "postgres://warden@db.example/warden"},
	} {
		r := warden(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "pg_dump --format=custom") || !strings.Contains(r.stderr, "pg_restore") {
			t.Errorf("warden %s = %s\nwant exit 2 and the pg_dump/pg_restore procedure", strings.Join(args, " "), r)
		}
	}
}

// replaced lists the databases restore --force moved aside in dir.
func replaced(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range dirNames(t, dir) {
		if strings.HasPrefix(n, dbFile+".replaced-") && !strings.HasSuffix(n, "-wal") && !strings.HasSuffix(n, "-shm") {
			out = append(out, n)
		}
	}
	return out
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
