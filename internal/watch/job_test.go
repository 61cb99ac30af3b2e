package watch_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
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

const testOrigin = "warden"

// fakeClock is a settable clock, safe for the ledger's goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a store with a ledger whose entries are stamped by clock.
type env struct {
	db     *sqlite.DB
	path   string
	ledger *ledger.Ledger
	clock  *fakeClock
	keys   []note.Verifier
	alerts *alerting.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "warden.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	skey, vkey, err := ledger.GenerateKey(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	l, err := ledger.New(db, ledger.Config{Origin: testOrigin, Signer: signer, Clock: clock.Now,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	e := &env{db: db, path: path, ledger: l, clock: clock, keys: []note.Verifier{verifier}}
	e.alerts = &alerting.Service{Ledger: l, Store: db, IDs: ledger.NewIDs(clock.Now, nil), Clock: clock.Now}
	return e
}

// decision appends a decision entry of agent at the clock's time.
func (e *env) decision(t *testing.T, tenant, agent, action, decision string) {
	t.Helper()
	req, err := event.New(event.KindDecision, "key", &event.Decision{Principal: event.DecisionPrincipal{ID: agent, Type: "agent"},
		Action: event.DecisionAction{Type: action}, Args: map[string]any{}, Decision: decision, ScanComplete: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ledger.Append(context.Background(), tenant, req); err != nil {
		t.Fatal(err)
	}
}

// writeTrace appends four hours of two agents' decisions, one every ten
// seconds each, from the clock's time; from the third hour on agent
// "drifter" is denied most of the time. It leaves the clock at the end.
func (e *env) writeTrace(t *testing.T, tenant string, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	start := e.clock.Now()
	for s := 0; s < 4*3600; s += 10 {
		e.clock.Set(start.Add(time.Duration(s) * time.Second))
		for _, agent := range []string{"steady", "drifter"} {
			d := "allow"
			deny := 0.05
			if agent == "drifter" && s >= 3*3600 {
				deny = 0.9
			}
			if rng.Float64() < deny {
				d = "deny"
			}
			e.decision(t, tenant, agent, fmt.Sprintf("tool.%d", rng.IntN(3)), d)
		}
	}
	e.clock.Set(start.Add(4*time.Hour + time.Minute))
}

// job returns a monitor job over the env's store and ledger.
//
// Unless opts sets Poll, it is an hour: a step may then spend six minutes
// verifying, so a round completes in the step that starts it however slow
// the machine (the race detector), as the tests' frozen clocks expect; and
// unpaced, without rests (TestVerificationIsPaced sets Poll and rests).
func (e *env) job(opts watch.Options) *watch.Job {
	if opts.Poll == 0 {
		opts.Poll, opts.Unpaced = time.Hour, true
	}
	return &watch.Job{Log: e.db, State: e.db, Ledger: e.ledger, Alerts: e.alerts, Origin: testOrigin, Keys: e.keys,
		Clock: e.clock.Now, Logger: slog.New(slog.DiscardHandler), Options: opts}
}

// runToEnd steps j until it has fed the whole log of tenant.
func (e *env) runToEnd(t *testing.T, j *watch.Job, tenant string) {
	t.Helper()
	for range 1000 {
		if err := j.Step(context.Background()); err != nil {
			t.Fatalf("Step = %v", err)
		}
		if e.caughtUp(t, tenant) {
			return
		}
	}
	t.Fatal("the job did not catch up in 1000 steps")
}

// caughtUp reports whether the tenant's checkpoint covers its whole log.
func (e *env) caughtUp(t *testing.T, tenant string) bool {
	t.Helper()
	ctx := context.Background()
	st, err := e.db.MonitorState(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.db.Head(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return st != nil && st.Next == head.Size
}

// next is the seq the tenant's checkpoint resumes from (0: none).
func (e *env) next(t *testing.T, tenant string) int64 {
	t.Helper()
	st, err := e.db.MonitorState(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		return 0
	}
	return st.Next
}

func (e *env) alertList(t *testing.T, tenant string) []alerting.Alert {
	t.Helper()
	as, err := e.db.Alerts(context.Background(), tenant, alerting.AlertFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// kinds counts the tenant's entries by kind.
func (e *env) kinds(t *testing.T, tenant string) map[string]int {
	t.Helper()
	recs, err := e.db.Records(context.Background(), tenant, 0, 1<<62, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range recs {
		n[r.Kind]++
	}
	return n
}

// alertKey is what must agree between two runs: what the monitor saw.
type alertKey struct {
	ID, Agent, Metric, Detector, Severity string
	Time                                  time.Time
	Observed, Baseline                    float64
}

func keysOf(as []alerting.Alert) []alertKey {
	var out []alertKey
	for _, a := range as {
		out = append(out, alertKey{a.ID, a.Agent, a.Metric, a.Detector, a.Severity, a.Time.UTC(), a.Observed, a.Baseline})
	}
	slices.SortFunc(out, func(a, b alertKey) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// TestRestartsRaiseTheSameAlerts feeds the same log to a job that runs
// without interruption and to jobs that are dropped without a word
// (what a crash leaves) after a few steps of a random size, with and
// without checkpoints in between: the alerts recorded must be the same,
// each recorded once.
func TestRestartsRaiseTheSameAlerts(t *testing.T) {
	const tenant = "default"
	whole := newEnv(t)
	whole.writeTrace(t, tenant, 7)
	whole.runToEnd(t, whole.job(watch.Options{}), tenant)
	want := keysOf(whole.alertList(t, tenant))
	if len(want) == 0 {
		t.Fatal("the trace raised no alert: the test would prove nothing")
	}
	var sawDrifter bool
	for _, a := range want {
		sawDrifter = sawDrifter || (a.Agent == "drifter" && a.Metric == "denies")
	}
	if !sawDrifter {
		t.Fatalf("no denies alert on drifter among %+v", want)
	}

	for _, save := range []time.Duration{time.Nanosecond, time.Hour} {
		t.Run(fmt.Sprintf("save every %s", save), func(t *testing.T) {
			crashy := newEnv(t)
			crashy.writeTrace(t, tenant, 7)
			rng := rand.New(rand.NewPCG(1, uint64(save)))
			head, err := crashy.db.Head(context.Background(), tenant)
			if err != nil {
				t.Fatal(err)
			}
			restarts := 0
			// Crash until every decision is fed (each new job writes a
			// heartbeat at its first step), then let one job finish.
			for crashy.next(t, tenant) < head.Size {
				// Without checkpoints between heartbeats a job must read
				// the whole log to get anywhere: its steps are longer.
				step := 10 + rng.Int64N(200)
				if save > time.Minute {
					step = 500 + rng.Int64N(2500)
				}
				// Backlogs are read at full speed (-1), paced as a live
				// log's (0: the default bound), or either by their size.
				live := []int64{-1, 0, 100}[rng.IntN(3)]
				j := crashy.job(watch.Options{Step: step, Batch: 1 + rng.IntN(700), Save: save, LiveBacklog: live})
				for range 1 + rng.IntN(3) {
					// The clock moves on a little (saves are timed), never
					// into the next bucket: heartbeats close the same ones.
					crashy.clock.Set(crashy.clock.Now().Add(time.Millisecond))
					if err := j.Step(context.Background()); err != nil {
						t.Fatalf("Step = %v", err)
					}
				}
				restarts++
				if restarts > 2000 {
					t.Fatal("no progress after 2000 restarts")
				}
			}
			crashy.runToEnd(t, crashy.job(watch.Options{}), tenant)
			got := keysOf(crashy.alertList(t, tenant))
			if !slices.Equal(got, want) {
				t.Errorf("after %d restarts: %d alerts, want %d\n got %+v\nwant %+v", restarts, len(got), len(want), got, want)
			}
			if n := crashy.kinds(t, tenant)[event.KindAlertRaised]; n != len(want) {
				t.Errorf("%d alert.raised entries, want one per alert (%d)", n, len(want))
			}
			if min := map[bool]int{true: 10, false: 2}[save < time.Minute]; restarts < min {
				t.Errorf("only %d restarts: the job was hardly interrupted", restarts)
			}
		})
	}
}

// TestHeartbeatsCloseQuietBuckets checks that an agent that stops is
// judged on its empty buckets once heartbeats pass them, that every step
// writes its heartbeat on time, and that series are kept for the agents.
func TestHeartbeatsCloseQuietBuckets(t *testing.T) {
	const tenant = "default"
	e := newEnv(t)
	e.writeTrace(t, tenant, 3)
	j := e.job(watch.Options{Heartbeat: time.Minute})
	e.runToEnd(t, j, tenant)
	if n := e.kinds(t, tenant)[event.KindMonitorHeartbeat]; n != 1 {
		t.Fatalf("%d heartbeats after the first step, want 1", n)
	}
	// Thirty seconds on: no heartbeat due. A minute on: one more.
	e.clock.Set(e.clock.Now().Add(30 * time.Second))
	if err := j.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.kinds(t, tenant)[event.KindMonitorHeartbeat]; n != 1 {
		t.Fatalf("%d heartbeats 30 s later, want 1", n)
	}
	e.clock.Set(e.clock.Now().Add(31 * time.Second))
	if err := j.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.kinds(t, tenant)[event.KindMonitorHeartbeat]; n != 2 {
		t.Fatalf("%d heartbeats a minute later, want 2", n)
	}
	ctx := context.Background()
	agents, err := e.db.MonitorAgents(ctx, tenant, "", 10)
	if err != nil || len(agents) != 2 {
		t.Fatalf("MonitorAgents = %+v, %v; want drifter and steady", agents, err)
	}
	for _, a := range agents {
		if a.Buckets < 230 {
			t.Errorf("agent %s has %d buckets of series, want the 240 minutes of the trace", a.Agent, a.Buckets)
		}
	}
	pts, err := e.db.Series(ctx, tenant, "drifter", time.Date(2026, 3, 2, 3, 30, 0, 0, time.UTC), time.Date(2026, 3, 2, 3, 31, 0, 0, time.UTC), 10)
	if err != nil || len(pts) != 1 {
		t.Fatalf("Series = %d points, %v; want 1", len(pts), err)
	}
}

// tamper replaces old by new in the stored bytes of entry seq, behind the
// ledger's back.
func (e *env) tamper(t *testing.T, tenant string, seq int64, old, new string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	res, err := raw.Exec(`UPDATE entries SET data = replace(data, ?, ?) WHERE tenant_id = ? AND seq = ?`, old, new, tenant, seq)
	if err != nil {
		t.Fatalf("tamper with seq %d: %v", seq, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("tamper with seq %d: %d rows, %v", seq, n, err)
	}
}

// TestVerificationFailureRaisesOneAlert alters an entry's stored bytes
// behind the ledger's back: the job's verification must raise one
// critical alert, and only one however often it runs and restarts.
func TestVerificationFailureRaisesOneAlert(t *testing.T) {
	const tenant = "default"
	ctx := context.Background()
	e := newEnv(t)
	for i := range 50 {
		e.clock.Set(e.clock.Now().Add(time.Second))
		e.decision(t, tenant, "bot", "tool.read", []string{"allow", "deny"}[i%2])
	}
	if _, err := e.ledger.Checkpointer().Sign(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	j := e.job(watch.Options{Verify: time.Minute})
	e.runToEnd(t, j, tenant)
	if as := e.alertList(t, tenant); len(as) != 0 {
		t.Fatalf("alerts on an intact log: %+v", as)
	}

	e.tamper(t, tenant, 21, `"deny"`, `"allo"`)
	for round := range 3 {
		// A new job (a restart) verifies the whole log again.
		j := e.job(watch.Options{Verify: time.Minute})
		for range 2 {
			e.clock.Set(e.clock.Now().Add(2 * time.Minute))
			if err := j.Step(ctx); err != nil {
				t.Fatalf("round %d: Step = %v", round, err)
			}
		}
	}
	var integrity []alerting.Alert
	for _, a := range e.alertList(t, tenant) {
		if a.Metric == watch.MetricIntegrity {
			integrity = append(integrity, a)
		}
	}
	if len(integrity) != 1 {
		t.Fatalf("%d integrity alerts, want exactly 1: %+v", len(integrity), integrity)
	}
	a := integrity[0]
	if a.Severity != alerting.SeverityCritical || a.Detector != watch.DetectorVerify || a.Agent != "" {
		t.Errorf("integrity alert = %+v, want critical, detector verify, no agent", a)
	}
	if a.Observed != 21 {
		t.Errorf("integrity alert observed %v, want the altered seq 21 (message %q)", a.Observed, a.Message)
	}
}

// TestVerificationIsPaced gives the job no verification time (a poll of a
// nanosecond): each step still verifies one batch, so a round over the log
// completes in as many steps as it has batches, and a failure is found
// when the round reaches it.
func TestVerificationIsPaced(t *testing.T) {
	const tenant = "default"
	ctx := context.Background()
	e := newEnv(t)
	const n = 2500 // three batches of 1,024
	for i := range n {
		if i%100 == 0 {
			e.clock.Set(e.clock.Now().Add(time.Second))
		}
		e.decision(t, tenant, "bot", "tool.read", "allow")
	}
	if _, err := e.ledger.Checkpointer().Sign(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	e.tamper(t, tenant, 2100, `"allow"`, `"allo_"`)
	integrity := func() int {
		c := 0
		for _, a := range e.alertList(t, tenant) {
			if a.Metric == watch.MetricIntegrity {
				c++
			}
		}
		return c
	}
	j := e.job(watch.Options{Poll: time.Nanosecond, Verify: time.Minute})
	for step := 1; step <= 2; step++ {
		if err := j.Step(ctx); err != nil {
			t.Fatalf("Step %d = %v", step, err)
		}
		if c := integrity(); c != 0 {
			t.Fatalf("after step %d (at most %d entries verified) %d integrity alerts, want none yet", step, step*1024, c)
		}
	}
	if err := j.Step(ctx); err != nil {
		t.Fatalf("Step 3 = %v", err)
	}
	if c := integrity(); c != 1 {
		t.Fatalf("after step 3 %d integrity alerts, want the one of seq 2100", c)
	}
}
