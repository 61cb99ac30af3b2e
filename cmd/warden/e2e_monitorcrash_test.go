package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/watch"
)

// writeMonitorTrace appends to the tenant's log of the data directory
// two and a half hours of decisions of 20 agents, one every ten seconds
// each, stamped from an hour from now on; after two hours agent-7's
// denies jump. The server must not be running.
func writeMonitorTrace(t *testing.T, dir, tenant string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := loadSigningKey(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, err := ledger.New(db, ledger.Config{Origin: DefaultOrigin, Signer: key.signer, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for s := 0; s < 150*60; s += 10 {
		mu.Lock()
		now = now.Add(10 * time.Second)
		mu.Unlock()
		var wg sync.WaitGroup
		for a := range 20 {
			deny := 0.05
			if a == 7 && s >= 120*60 {
				deny = 0.9
			}
			d := "allow"
			if rng.Float64() < deny {
				d = "deny"
			}
			action := fmt.Sprintf("tool.%d", rng.IntN(4))
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := event.New(event.KindDecision, "trace", &event.Decision{Principal: event.DecisionPrincipal{ID: fmt.Sprintf("agent-%d", a), Type: "agent"},
					Action: event.DecisionAction{Type: action}, Args: map[string]any{}, Decision: d, ScanComplete: true})
				if err == nil {
					_, err = l.Append(ctx, tenant, req)
				}
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// recordingRaiser keeps the alerts a job raises, in memory.
type recordingRaiser struct{ alerts map[string]alerting.Alert }

func (r *recordingRaiser) Raise(_ context.Context, tenant string, a alerting.Alert, _ bool) (*alerting.Alert, bool, error) {
	if a.ID == "" {
		a.ID = alerting.AlertID(tenant, &a)
	}
	if _, ok := r.alerts[a.ID]; ok {
		return &a, false, nil
	}
	r.alerts[a.ID] = a
	return &a, true, nil
}

// prefixLog is a log cut at size: what a job had read when it stopped.
type prefixLog struct {
	ledger.Store
	size int64
}

func (p prefixLog) Head(ctx context.Context, tenant string) (ledger.Head, error) {
	h, err := p.Store.Head(ctx, tenant)
	h.Size = min(h.Size, p.size)
	return h, err
}

func (p prefixLog) Records(ctx context.Context, tenant string, from, to int64, limit int) ([]ledger.Record, error) {
	return p.Store.Records(ctx, tenant, from, min(to, p.size), limit)
}

func (p prefixLog) Tenants(context.Context) ([]string, error) { return []string{"default"}, nil }

// discard takes the heartbeats of a replay: they are not in the log.
type discard struct{}

func (discard) Append(context.Context, string, ledger.Request) (*ledger.Appended, error) {
	return &ledger.Appended{}, nil
}

// heartbeats counts the monitor.heartbeat entries of the default tenant,
// read from the data directory while the server may be running.
func heartbeats(t *testing.T, dir string) int {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, dbFile), sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, err := db.Records(ctx, "default", 0, math.MaxInt64, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Kind == event.KindMonitorHeartbeat {
			n++
		}
	}
	return n
}

// TestE2EMonitorCrash kills `warden serve` with SIGKILL, again and again,
// while its monitor works through a long log, and restarts it on the
// same data directory; live decisions arrive meanwhile. Then the alerts
// it recorded must be exactly those of one uninterrupted pass of the
// monitor over the same log, each recorded once.
func TestE2EMonitorCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a long log")
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
	rng := rand.New(rand.NewPCG(seed, seed))

	dir := t.TempDir()
	srv := startServer(t, dir, "--monitor=false")
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/readyz", "")
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("first start = %s", r)
	}
	writeMonitorTrace(t, dir, "default")

	// Small steps and frequent checkpoints, so that kills fall between
	// them and in the middle of them.
	args := []string{"--monitor-poll", "10ms", "--monitor-heartbeat", "1s"}
	kills, waited := 0, 0
	for cycle := range 12 {
		beatsBefore := heartbeats(t, dir)
		srv = startServer(t, dir, args...)
		waitFor(t, srv.url+"/readyz", "")
		if cycle%2 == 0 {
			// Every other start lives until its job has written its first
			// heartbeat (after catching up on what it found); the others
			// may die at any point, even before that.
			deadline := time.Now().Add(30 * time.Second)
			for heartbeats(t, dir) == beatsBefore {
				if time.Now().After(deadline) {
					t.Fatalf("start %d wrote no heartbeat in 30 s\n%s", cycle, srv.stderr)
				}
				time.Sleep(20 * time.Millisecond)
			}
			waited++
		}
		if cycle%3 == 1 {
			for i := range 5 {
				r := warden(t, "evaluate", "--principal", fmt.Sprintf("live-%d", i), "--action", "fs.read", "--url", srv.url, "--key", admin)
				if r.code > 1 {
					t.Fatalf("evaluate = %s", r)
				}
			}
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		srv.kill(t)
		kills++
	}
	// The last run finishes the log and stops in order.
	srv = startServer(t, dir, args...)
	waitFor(t, srv.url+"/readyz", "")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := db.MonitorState(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		head, err := db.Head(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		if st != nil && st.Next >= head.Size-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitor did not catch up in 60 s: %+v, head %d\n%s", st, head.Size, srv.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := srv.stop(t); r.code != 0 {
		t.Fatalf("stop = %s", r)
	}
	st, err := db.MonitorState(ctx, "default")
	if err != nil || st == nil {
		t.Fatalf("MonitorState = %v, %v", st, err)
	}

	got, err := db.Alerts(ctx, "default", alerting.AlertFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	// One pass, without a stop, over what the server had read.
	key, err := loadSigningKey(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(key.verifier)
	if err != nil {
		t.Fatal(err)
	}
	state, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "replay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	rec := &recordingRaiser{alerts: map[string]alerting.Alert{}}
	j := &watch.Job{Log: prefixLog{db, st.Next}, State: state, Ledger: discard{}, Alerts: rec, Origin: DefaultOrigin,
		Keys: []note.Verifier{v}, Logger: slog.New(slog.DiscardHandler), Options: watch.Options{Fresh: time.Nanosecond}}
	if err := j.Step(ctx); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		ID, Agent, Metric, Detector string
		Time                        time.Time
		Observed, Baseline          float64
	}
	var want, have []seen
	for _, a := range rec.alerts {
		want = append(want, seen{a.ID, a.Agent, a.Metric, a.Detector, a.Time.UTC(), a.Observed, a.Baseline})
	}
	for _, a := range got {
		have = append(have, seen{a.ID, a.Agent, a.Metric, a.Detector, a.Time.UTC(), a.Observed, a.Baseline})
	}
	byID := func(a, b seen) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	}
	slices.SortFunc(want, byID)
	slices.SortFunc(have, byID)
	if len(want) == 0 {
		t.Fatal("one pass raised no alert: the test would prove nothing")
	}
	if !slices.Equal(have, want) {
		t.Errorf("after %d kills the server recorded %d alerts, one pass raises %d\nhave %+v\nwant %+v", kills, len(have), len(want), have, want)
	}
	raised := 0
	recs, err := db.Records(ctx, "default", 0, st.Next+1000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	beats := 0
	for _, r := range recs {
		switch r.Kind {
		case event.KindAlertRaised:
			raised++
		case event.KindMonitorHeartbeat:
			beats++
		}
	}
	if raised != len(got) {
		t.Errorf("%d alert.raised entries for %d alerts: an alert was recorded twice", raised, len(got))
	}
	// Each start that lived to its first heartbeat, and the last one,
	// wrote one; a start killed early may not have.
	if beats < waited+1 {
		t.Errorf("%d heartbeats, want at least %d: one from each of the %d starts that lived to write one, and the last", beats, waited+1, waited)
	}
	if r := warden(t, "log", "verify", "--data-dir", dir); r.code != 0 {
		t.Errorf("log verify = %s", r)
	}
}
