package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", to read a stopped server's log
)

// answered is one decision a server answered in full; by says who or
// when, for failure messages ("cycle 3", "replica 2").
type answered struct {
	receipt string
	seq     int64
	by      string
}

// checkAnswered proves that every answered decision is in the log, whose
// entry ids by seq are ids, at the seq it named with the receipt it named,
// and that no seq or receipt was answered twice (a fork).
func checkAnswered(t *testing.T, ids []string, got []answered) {
	t.Helper()
	bySeq := make(map[int64]answered, len(got))
	byReceipt := make(map[string]answered, len(got))
	bad := 0
	for _, a := range got {
		if prev, ok := bySeq[a.seq]; ok {
			bad++
			t.Errorf("seq %d answered twice (a fork): %s (%s) and %s (%s)", a.seq, prev.receipt, prev.by, a.receipt, a.by)
		}
		if prev, ok := byReceipt[a.receipt]; ok {
			bad++
			t.Errorf("receipt %s answered twice: seq %d (%s) and seq %d (%s)", a.receipt, prev.seq, prev.by, a.seq, a.by)
		}
		bySeq[a.seq], byReceipt[a.receipt] = a, a
		switch {
		case a.seq < 0 || a.seq >= int64(len(ids)):
			bad++
			t.Errorf("answered receipt %s (%s) at seq %d is beyond the log's %d entries", a.receipt, a.by, a.seq, len(ids))
		case ids[a.seq] != a.receipt:
			bad++
			t.Errorf("answered receipt %s (%s) at seq %d: the log holds %s there", a.receipt, a.by, a.seq, ids[a.seq])
		}
		if bad > 20 {
			t.Fatalf("more than 20 answered decisions wrong in the log")
		}
	}
}

// TestE2EEvalCrash kills `warden serve` on SQLite with SIGKILL, again and
// again, while clients evaluate requests at full speed, and restarts it on
// the same data directory. Every decision the server answered must be in
// the log at the seq it named, with the receipt id it named; the log must
// be contiguous and verify with the installation's key.
//
// The seed is logged; WARDEN_TEST_SEED=<n> replays a run's kill points (as
// far as timing allows).
func TestE2EEvalCrash(t *testing.T) {
	const clients = 8
	cycles := 20
	if testing.Short() {
		cycles = 5
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WARDEN_TEST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WARDEN_TEST_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (WARDEN_TEST_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	dir := t.TempDir()
	srv := startServer(t, dir)
	admin := srv.keys["admin/default"]
	if admin == "" {
		t.Fatalf("first start printed keys %v, want an admin of default\nstdout:\n%s", srv.keys, srv.stdout)
	}

	var (
		mu          sync.Mutex
		got         []answered
		unanswered  atomic.Int64
		unavailable atomic.Int64 // 503: not recorded, so not answered
	)
	for cycle := range cycles {
		if cycle > 0 {
			srv = startServer(t, dir)
			if len(srv.keys) != 0 || strings.Contains(srv.stdout.String(), "wdn_") {
				t.Fatalf("restart %d printed keys %v\nstdout:\n%s", cycle, srv.keys, srv.stdout)
			}
		}
		waitFor(t, srv.url+"/readyz", "")

		// A client of its own per cycle: no connection survives a kill.
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: clients,
		}
		c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
		stop := make(chan struct{})
		var before atomic.Int64 // answers in this cycle
		var wg sync.WaitGroup
		errs := make(chan string, clients)
		for g := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					tc := builtinEvalCases[(g+i)%len(builtinEvalCases)]
					status, _, b, err := postEvaluate(c, srv.url, admin, tc.body)
					if err != nil {
						unanswered.Add(1) // refused or cut by the kill: not answered
						continue
					}
					switch status {
					case http.StatusOK:
					case http.StatusServiceUnavailable:
						unavailable.Add(1)
						continue
					default:
						errs <- fmt.Sprintf("cycle %d: POST /v1/evaluate (%s) = %d %s", cycle, tc.name, status, b)
						return
					}
					a, err := decodeAnswer(b)
					if err != nil {
						// A 200 whose body did not arrive in full: the
						// client never saw the answer.
						unanswered.Add(1)
						continue
					}
					if p := checkAnswer(tc, a); p != "" {
						errs <- fmt.Sprintf("cycle %d: %s: answer %s: %s", cycle, tc.name, b, p)
						return
					}
					before.Add(1)
					mu.Lock()
					got = append(got, answered{a.ReceiptID, *a.Seq, fmt.Sprintf("cycle %d", cycle)})
					mu.Unlock()
				}
			}()
		}

		// Let some decisions through, then crash at a random point.
		for before.Load() < 5 {
			time.Sleep(time.Millisecond) // polling; the clients' errors end the test below
			if len(errs) > 0 {
				break
			}
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		srv.kill(t)
		close(stop)
		wg.Wait()
		tr.CloseIdleConnections()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	// A last start, stopped gracefully: it signs what the crashes left
	// unsigned.
	srv = startServer(t, dir)
	if len(srv.keys) != 0 {
		t.Fatalf("last restart printed keys %v", srv.keys)
	}
	waitFor(t, srv.url+"/readyz", "")
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("warden serve after SIGTERM = %s\nwant exit 0", r)
	}
	t.Logf("%d cycles: %d answered, %d unanswered, %d unavailable (503)", cycles, len(got), unanswered.Load(), unavailable.Load())
	if len(got) < cycles*5 {
		t.Fatalf("only %d decisions answered in %d cycles", len(got), cycles)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), "SELECT seq, id FROM entries WHERE tenant_id = 'default' ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			t.Fatal(err)
		}
		if seq != int64(len(ids)) {
			t.Fatalf("the log of default has seq %d at position %d: not contiguous from 0", seq, len(ids))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	checkAnswered(t, ids, got)
	t.Logf("log of default: %d entries, %d of them answered decisions", len(ids), len(got))

	r := warden(t, "log", "verify", "--data-dir", dir, "--trusted-key", filepath.Join(dir, pubFile))
	if r.code != 0 || !strings.Contains(r.stdout, "ok    default ") {
		t.Fatalf("warden log verify --data-dir after %d crashes = %s\nwant exit 0 and ok for default", cycles, r)
	}
	if strings.Contains(r.stdout, "not yet covered") {
		t.Errorf("entries left unsigned after a graceful stop:\n%s", r.stdout)
	}
}
