package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
	"golang.org/x/mod/sumdb/note"
)

// Log lines of the replica that runs the checkpoint signer.
const (
	signerLock    = `msg="singleton job: took the lock" job=checkpoint-signer`
	signerRunning = `msg="checkpoint signer running"`
)

// TestE2EPostgresReplicas runs an installation of two replicas on one
// PostgreSQL database: serve refuses an unprepared database, migrate
// prepares it, both replicas start at once and bootstrap exactly once, and
// when the one that signs checkpoints dies the other takes over.
func TestE2EPostgresReplicas(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	kg := warden(t, "keygen", "--out", keyPath)
	if kg.code != 0 {
		t.Fatalf("keygen = %s", kg)
	}
	pub := filepath.Join(t.TempDir(), pubFile)
	writeFile(t, pub, []byte(kg.stdout))
	serveArgs := func(extra ...string) []string {
		return append([]string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--database", dsn}, extra...)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"serve refuses an unmigrated database", serveArgs("--signing-key", keyPath), "warden migrate"},
		{"serve needs --signing-key", serveArgs(), "--signing-key"},
	} {
		if r := warden(t, tc.args...); r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Fatalf("%s: warden %s = %s\nwant exit 2 and stderr containing %q", tc.name, strings.Join(tc.args, " "), r, tc.want)
		}
	}
	if r := warden(t, "migrate", "--database", dsn); r.code != 0 || !strings.Contains(r.stdout, "migrated schema from version 0") {
		t.Fatalf("warden migrate (fresh) = %s\nwant exit 0", r)
	}
	if r := warden(t, "migrate", "--database", dsn); r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
		t.Fatalf("warden migrate (again) = %s\nwant exit 0 and nothing to do", r)
	}

	// Started here, not in a step: a step's cleanup would kill them early.
	// Without the monitor: its heartbeats would append entries of their
	// own while the last step checks that every entry is signed.
	replicas := startServers(t, serveArgs("--signing-key", keyPath, "--monitor=false"), serveArgs("--signing-key", keyPath, "--monitor=false"))
	keys := map[string]string{}
	printed := 0
	for _, p := range replicas {
		printed += strings.Count(p.stdout.String(), "wdn_")
		for k, v := range p.keys {
			keys[k] = v
		}
	}
	admin, owner := keys["admin/default"], keys["owner/_system"]
	if printed != 2 || admin == "" || owner == "" {
		t.Fatalf("two replicas starting at once printed %d keys %v, want one admin of default and one owner of _system in all\nstdout 1:\n%s\nstdout 2:\n%s",
			printed, keys, replicas[0].stdout, replicas[1].stdout)
	}

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	step("both replicas serve and verify", func(t *testing.T) {
		for i, p := range replicas {
			waitFor(t, p.url+"/readyz", "")
			waitFor(t, p.url+"/v1/log/checkpoint", admin)
			waitFor(t, p.url+"/v1/log/checkpoint?tenant=_system", owner)
			for _, key := range []string{admin, owner} {
				r := warden(t, "log", "verify", "--url", p.url, "--key", key, "--trusted-key", pub)
				if r.code != 0 || !strings.HasPrefix(r.stdout, "ok    ") {
					t.Errorf("warden log verify --url <replica %d> = %s\nwant exit 0", i+1, r)
				}
			}
		}
		// Offline, straight from the database, every tenant's log; without
		// --trusted-key the key the installation recorded is used.
		r := warden(t, "log", "verify", "--database", dsn, "--trusted-key", pub)
		if r.code != 0 || strings.Count(r.stdout, "ok    ") != 2 {
			t.Errorf("warden log verify --database <postgres> = %s\nwant exit 0 for _system and default", r)
		}
		r = warden(t, "log", "verify", "--database", dsn)
		if r.code != 0 || !strings.Contains(r.stderr, "trusting the key the database names") {
			t.Errorf("warden log verify --database <postgres> without --trusted-key = %s\nwant exit 0 with a warning", r)
		}
	})

	var holder, survivor *serverProc
	step("one replica signs checkpoints", func(t *testing.T) {
		deadline := time.Now().Add(20 * time.Second)
		for holder == nil {
			var signing []*serverProc
			for _, p := range replicas {
				if strings.Contains(p.stderr.String(), signerRunning) {
					signing = append(signing, p)
				}
			}
			switch {
			case len(signing) > 1:
				t.Fatalf("both replicas run the checkpoint signer:\nstderr 1:\n%s\nstderr 2:\n%s", replicas[0].stderr, replicas[1].stderr)
			case len(signing) == 1:
				holder = signing[0]
			case time.Now().After(deadline):
				t.Fatalf("no replica ran the checkpoint signer within 20s:\nstderr 1:\n%s\nstderr 2:\n%s", replicas[0].stderr, replicas[1].stderr)
			default:
				time.Sleep(50 * time.Millisecond) // polling with a deadline
			}
		}
		if !strings.Contains(holder.stderr.String(), signerLock) {
			t.Errorf("the signing replica did not log %q:\n%s", signerLock, holder.stderr)
		}
		survivor = replicas[0]
		if survivor == holder {
			survivor = replicas[1]
		}
	})

	// A checkpoint from before the failover, which the log must extend.
	kept := filepath.Join(t.TempDir(), "kept-checkpoint")
	if r := warden(t, "log", "checkpoint", "--url", survivor.url, "--key", admin); r.code != 0 {
		t.Fatalf("warden log checkpoint = %s", r)
	} else {
		writeFile(t, kept, []byte(r.stdout))
	}

	step("the other replica takes over within 10s of a SIGKILL", func(t *testing.T) {
		holder.kill(t)
		killed := time.Now()
		for !strings.Contains(survivor.stderr.String(), signerRunning) {
			if time.Since(killed) > 10*time.Second {
				t.Fatalf("the surviving replica did not take the checkpoint signer within 10s of the kill:\n%s", survivor.stderr)
			}
			time.Sleep(50 * time.Millisecond) // polling with a deadline
		}
		t.Logf("signer taken over %v after the kill", time.Since(killed).Round(time.Millisecond))
	})

	step("the new signer signs what another replica appends", func(t *testing.T) {
		ctx := context.Background()
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// Appended as a third replica would: its commits are announced on
		// the feed, and it runs no signer (a ledger signs only when closed).
		l, err := ledger.New(db, ledger.Config{Origin: DefaultOrigin, Signer: readSigner(t, keyPath)})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close(ctx)
		acks := storetest.AppendN(t, l, access.DefaultTenant, 5)
		size := acks[len(acks)-1].Seq + 1
		feed := postgres.NewFeed(db, postgres.FeedOptions{Resync: -1})
		defer feed.Close()
		if err := feed.Publish(ctx, topicLedger, access.DefaultTenant); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			cp, err := db.LatestCheckpoint(ctx, access.DefaultTenant)
			if err == nil && cp.Size >= size {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint of default covering %d entries within 10s (latest %+v, %v)", size, cp, err)
			}
			time.Sleep(50 * time.Millisecond) // polling with a deadline
		}
		r := warden(t, "log", "verify", "--url", survivor.url, "--key", admin, "--trusted-key", pub, "--trusted-checkpoint", kept)
		if r.code != 0 || !strings.Contains(r.stdout, "extends the trusted checkpoint") || strings.Contains(r.stdout, "not yet covered") {
			t.Fatalf("warden log verify --url <survivor> --trusted-checkpoint = %s\nwant exit 0, every entry signed", r)
		}
	})
}

func readSigner(t *testing.T, path string) note.Signer {
	t.Helper()
	k, err := loadSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return k.signer
}

// kill ends the server with SIGKILL, as a crash would, and reaps it.
func (p *serverProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	<-p.done
	_ = p.cmd.Wait()
	p.exited = &result{code: -1, stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// TestE2EPostgresDumpRestore backs PostgreSQL up with pg_dump while a
// replica appends and signs, restores the dump into a new database with
// pg_restore, and verifies that the restored logs extend every checkpoint
// signed before the dump began.
func TestE2EPostgresDumpRestore(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v", err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	signer, verifier := storetest.NewKey(t)
	load := startPostgresLoad(t, db, signer)
	before := load.waitSigned(t, 40)

	dump := filepath.Join(t.TempDir(), "warden.dump")
	acked := load.acked.Load()
	runTool(t, "pg_dump", "--format=custom", "--file="+dump, dsn)
	if load.acked.Load() == acked {
		t.Errorf("no append was acknowledged while pg_dump ran: the dump was not taken under load")
	}
	load.stop(t)

	restored := pgtest.NewDatabase(t)
	runTool(t, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+restored, dump)
	rdb, err := postgres.Open(ctx, restored, postgres.Options{})
	if err != nil {
		t.Fatalf("postgres.Open(restored) = %v, want nil (the schema version travels with the dump)", err)
	}
	defer rdb.Close()
	tenants, err := rdb.Tenants(ctx)
	slices.Sort(tenants) // the database's collation may order them otherwise
	if err != nil || !slices.Equal(tenants, pgLoadTenants) {
		t.Fatalf("restored Tenants() = %v, %v; want %v", tenants, err, pgLoadTenants)
	}
	keys := []note.Verifier{verifier}
	for _, tenant := range tenants {
		opts := ledger.VerifyOptions{Tenant: tenant, Origin: storetest.Origin, Keys: keys}
		full, err := ledger.VerifyStore(ctx, rdb, opts, nil)
		if err != nil || !full.OK {
			t.Fatalf("VerifyStore(restored, %s) = %+v, %v; want OK", tenant, full, err)
		}
		for _, cp := range before[tenant] {
			opts.Trusted = cp.Note
			rep, err := ledger.VerifyStore(ctx, rdb, opts, nil)
			if err != nil || !rep.OK || rep.Trusted != cp.Size {
				t.Fatalf("VerifyStore(restored, %s, trusted size %d) = %+v, %v; want OK extending it", tenant, cp.Size, rep, err)
			}
		}
		// The check has teeth: the live log's final checkpoint, signed
		// after the dump, is beyond the restored log.
		latest, err := db.LatestCheckpoint(ctx, tenant)
		if err != nil || latest.Size <= full.Entries {
			t.Fatalf("live LatestCheckpoint(%s) = %+v, %v; want one beyond the %d restored entries", tenant, latest, err, full.Entries)
		}
		opts.Trusted = latest.Note
		if rep, err := ledger.VerifyStore(ctx, rdb, opts, nil); err != nil || rep.OK {
			t.Errorf("VerifyStore(restored, %s, trusted size %d > %d entries) = %+v, %v; want a failure", tenant, latest.Size, full.Entries, rep, err)
		}
	}
}

// runTool runs a PostgreSQL client tool, which the tests need wherever
// WARDEN_TEST_POSTGRES is set.
func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (postgresql-client): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
