package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
)

// TestE2EThreeReplicasDecisions runs three `warden serve` replicas on one
// PostgreSQL database and has clients spread decisions over them, round
// robin, until 100,000 (10,000 with -short) have been answered. After a
// graceful stop, the log of default must be contiguous, hold every
// answered receipt at the seq it was answered with, never have answered
// one seq twice (no fork between replicas), and verify offline.
func TestE2EThreeReplicasDecisions(t *testing.T) {
	const (
		replicaCount = 3
		// Appends to one tenant serialize across replicas on its log head,
		// one fsynced commit at a time, so throughput comes from batching:
		// 24 clients give about 1,100-1,500 decisions/s on 2 cores (100,000
		// in about 80 s), 192 about 2,100-2,300.
		clients = 192
	)
	target := int64(100_000)
	if testing.Short() {
		target = 10_000
	}

	dsn := pgtest.NewDatabase(t)
	if r := warden(t, "migrate", "--database", dsn); r.code != 0 {
		t.Fatalf("warden migrate = %s\nwant exit 0", r)
	}
	keyPath := filepath.Join(t.TempDir(), "signing.key")
	kg := warden(t, "keygen", "--out", keyPath)
	if kg.code != 0 {
		t.Fatalf("keygen = %s", kg)
	}
	pub := filepath.Join(t.TempDir(), pubFile)
	writeFile(t, pub, []byte(kg.stdout))

	argLists := make([][]string, replicaCount)
	for i := range argLists {
		argLists[i] = []string{"serve", "--database", dsn, "--signing-key", keyPath, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}
	}
	replicas := startServers(t, argLists...)

	// Bootstrap makes each key exactly once across the replicas (which
	// replica makes which key depends on who wins each race).
	var admin string
	admins, owners, printed := 0, 0, 0
	for _, p := range replicas {
		if k := p.keys["admin/default"]; k != "" {
			admin = k
			admins++
		}
		if p.keys["owner/_system"] != "" {
			owners++
		}
		printed += len(p.keys)
	}
	if admins != 1 || owners != 1 || printed != 2 {
		var outs []string
		for i, p := range replicas {
			outs = append(outs, fmt.Sprintf("stdout %d:\n%s", i+1, p.stdout))
		}
		t.Fatalf("replicas printed %d admin keys of default, %d owner keys and %d keys in all; want one admin, one owner, two in all\n%s",
			admins, owners, printed, strings.Join(outs, "\n"))
	}
	for _, p := range replicas {
		waitFor(t, p.url+"/readyz", "")
	}

	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: clients,
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var (
		claimed  atomic.Int64 // requests handed out; stops at target
		answers  = make([][]answered, clients)
		perRepl  [replicaCount]atomic.Int64
		failed   atomic.Bool
		errMu    sync.Mutex
		errs     []string
		wg       sync.WaitGroup
		reportOf = func(format string, args ...any) {
			errMu.Lock()
			defer errMu.Unlock()
			if len(errs) < 20 {
				errs = append(errs, fmt.Sprintf(format, args...))
			}
			failed.Store(true)
		}
	)
	start := time.Now()
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]answered, 0, target/clients+1)
			defer func() { answers[g] = got }()
			for !failed.Load() {
				n := claimed.Add(1) - 1
				if n >= target {
					return
				}
				ri := int(n % replicaCount) // round robin over the replicas
				tc := builtinEvalCases[int(n/replicaCount)%len(builtinEvalCases)]
				status, _, b, err := postEvaluate(c, replicas[ri].url, admin, tc.body)
				if err != nil {
					reportOf("replica %d: POST /v1/evaluate (%s): %v", ri+1, tc.name, err)
					return
				}
				if status != http.StatusOK {
					reportOf("replica %d: POST /v1/evaluate (%s) = %d %s", ri+1, tc.name, status, b)
					return
				}
				a, err := decodeAnswer(b)
				if err != nil {
					reportOf("replica %d: %s: answer %s: %v", ri+1, tc.name, b, err)
					return
				}
				if p := checkAnswer(tc, a); p != "" {
					reportOf("replica %d: %s: answer %s: %s", ri+1, tc.name, b, p)
					return
				}
				perRepl[ri].Add(1)
				got = append(got, answered{receipt: a.ReceiptID, seq: *a.Seq, by: fmt.Sprintf("replica %d", ri+1)})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	tr.CloseIdleConnections()
	if failed.Load() {
		for _, e := range errs {
			t.Error(e)
		}
		t.FailNow()
	}
	var all []answered
	for _, got := range answers {
		all = append(all, got...)
	}
	if int64(len(all)) != target {
		t.Fatalf("%d decisions answered, want %d", len(all), target)
	}
	t.Logf("%d decisions over %d replicas (%d, %d, %d) by %d clients in %v: %.0f decisions/s",
		len(all), replicaCount, perRepl[0].Load(), perRepl[1].Load(), perRepl[2].Load(), clients,
		elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds())

	for i, p := range replicas {
		if r := p.stop(t); r.code != 0 {
			t.Errorf("replica %d: warden serve after SIGTERM = %s\nwant exit 0", i+1, r)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT seq, id FROM entries WHERE tenant_id = 'default' ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, target+16)
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			t.Fatal(err)
		}
		if seq != int64(len(ids)) {
			rows.Close()
			t.Fatalf("the log of default has seq %d at position %d: not contiguous from 0", seq, len(ids))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var count, size int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM entries WHERE tenant_id = 'default'").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT size FROM log_heads WHERE tenant_id = 'default'").Scan(&size); err != nil {
		t.Fatal(err)
	}
	if count != int64(len(ids)) || size != int64(len(ids)) {
		t.Fatalf("the log of default: %d rows read as seq 0..%d, count(*) %d, log head size %d; want all equal",
			len(ids), len(ids)-1, count, size)
	}
	if int64(len(ids)) < target {
		t.Fatalf("the log of default has %d entries, fewer than the %d decisions answered", len(ids), target)
	}

	checkAnswered(t, ids, all)
	t.Logf("log of default: %d entries, %d of them answered decisions", len(ids), len(all))

	r := warden(t, "log", "verify", "--database", dsn, "--trusted-key", pub)
	if r.code != 0 || !strings.Contains(r.stdout, "ok    default ") {
		t.Fatalf("warden log verify --database <postgres> = %s\nwant exit 0 and ok for default", r)
	}
	if strings.Contains(r.stdout, "not yet covered") {
		t.Errorf("entries left unsigned after a graceful stop:\n%s", r.stdout)
	}
}
