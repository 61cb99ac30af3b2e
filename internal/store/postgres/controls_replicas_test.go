package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/controls"
	evt "github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// allowAll is the fixed policy of the kill switch replicas: without a
// switch, every request is allowed.
const allowAll = `name: allow-all
rules: [{id: all, effect: allow}]
`

const (
	controlTrials = 100
	controlReason = "incident 42: agent suspended"
)

// controlReplica is one `warden serve` with kill switches: its own pool,
// ledger, controls service and gate over the shared database.
type controlReplica struct {
	db       *postgres.DB
	controls *controls.Service
	gate     *gate.Gate
	// rechecked counts decisions that a switch reached only in their
	// append transaction: set after the decision's first check.
	rechecked *atomic.Int64
}

// recheckCounter is gate.ControlsOf that counts the switches its
// Recheck finds; the gate sees the same Check and Recheck.
type recheckCounter struct {
	gate.ControlsOf
	hits *atomic.Int64
}

func (c recheckCounter) Recheck(tx ledger.Tx, req *policy.Request, seen int64) (*gate.ControlHit, int64, error) {
	hit, v, err := c.ControlsOf.Recheck(tx, req, seen)
	if hit != nil {
		c.hits.Add(1)
	}
	return hit, v, err
}

// newControlReplicas opens n replicas of one freshly migrated database,
// all committing up to maxBatch entries a transaction (0: the default)
// and deciding with the allow-all policy.
func newControlReplicas(t *testing.T, n, maxBatch int, signer note.Signer) []*controlReplica {
	t.Helper()
	ctx := context.Background()
	p, err := policy.ParseAndCompile([]byte(allowAll))
	if err != nil {
		t.Fatalf("ParseAndCompile = %v, want nil", err)
	}
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v, want nil", err)
	}
	out := make([]*controlReplica, n)
	for i := range out {
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatalf("Open(replica %d) = %v, want nil", i, err)
		}
		t.Cleanup(func() { db.Close() })
		// Each replica draws its ids from its own seed, so receipts and
		// switches never collide across replicas.
		ids := ledger.NewIDs(time.Now, rand.NewChaCha8([32]byte{byte(i + 1)}))
		l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer, IDs: ids, MaxBatch: maxBatch})
		if err != nil {
			t.Fatalf("ledger.New(replica %d) = %v, want nil", i, err)
		}
		t.Cleanup(func() { l.Close(context.Background()) })
		svc := &controls.Service{Ledger: l, Store: db, IDs: ids}
		r := &controlReplica{db: db, controls: svc, rechecked: &atomic.Int64{}}
		r.gate = &gate.Gate{
			Policies: gate.CurrentFunc(func(context.Context, string) (*policy.Policy, int64, error) { return p, 1, nil }),
			Controls: recheckCounter{ControlsOf: gate.ControlsOf{Service: svc}, hits: r.rechecked},
			Ledger:   l,
			IDs:      ids,
		}
		out[i] = r
	}
	return out
}

// controlDecision is one decision a trial asked for and what it got.
type controlDecision struct {
	replica   string
	immediate bool // asked right after the switch was set
	answer    *gate.Answer
	err       error
}

// loggedEntry is an entry of the log as the trial checks it: a decision
// or a control.set.
type loggedEntry struct {
	seq      int64
	id       string
	decision *evt.Decision
	set      *evt.ControlSet
}

// readEntries reads the tenant's log from seq from on, in seq order.
func readEntries(t *testing.T, db *postgres.DB, from int64) []loggedEntry {
	t.Helper()
	recs, err := db.Records(context.Background(), replicaTenant, from, 1<<62, 1<<30)
	if err != nil {
		t.Fatalf("Records(%s, from %d) = %v, want nil", replicaTenant, from, err)
	}
	out := make([]loggedEntry, 0, len(recs))
	for _, rec := range recs {
		e, _, err := ledger.ParseObject(rec.Data)
		if err != nil {
			t.Fatalf("ParseObject(seq %d) = %v, want nil", rec.Seq, err)
		}
		b, err := evt.Decode(e.Kind, e.Body)
		if err != nil {
			t.Fatalf("event.Decode(seq %d, %s) = %v, want nil", rec.Seq, e.Kind, err)
		}
		le := loggedEntry{seq: rec.Seq, id: rec.ID}
		switch b := b.(type) {
		case *evt.Decision:
			le.decision = b
		case *evt.ControlSet:
			le.set = b
		default:
			t.Fatalf("seq %d is a %s, want a decision or a control.set", rec.Seq, e.Kind)
		}
		out = append(out, le)
	}
	return out
}

// TestControlsBindNextDecisionAcrossReplicas is the kill switch must of
// issue 8: with three replicas on one database, a switch set through
// replica A denies the very next decision on replicas B and C, in every
// one of 100 trials. While the switch is set, B and C keep deciding for
// the same agent; the log, read in seq order, holds no decision after the
// control.set entry that the switch did not deny. It runs with the
// appender's group commit and with one entry per transaction.
func TestControlsBindNextDecisionAcrossReplicas(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBatch int
	}{
		{"batched", 0},
		{"one per transaction", 1},
	} {
		t.Run(tc.name, func(t *testing.T) { testControlsAcrossReplicas(t, tc.maxBatch) })
	}
}

func testControlsAcrossReplicas(t *testing.T, maxBatch int) {
	signer, verifier := storetest.NewKey(t)
	rs := newControlReplicas(t, replicaCount, maxBatch, signer)
	a, b, c := rs[0], rs[1], rs[2]
	deciders := []struct {
		name string
		r    *controlReplica
	}{{"B", b}, {"C", c}}
	ctx := context.Background()

	var (
		misses              []string
		after, inFlight     int // loop decisions after the switch; of those, asked before Set returned
		immediate, loopSeen int
		from                int64
	)
	for trial := range controlTrials {
		agent := fmt.Sprintf("agent-%03d", trial)
		req := &policy.Request{}
		req.Principal.ID, req.Principal.Type = agent, "agent"
		req.Action.Type = "stripe.charges.create"

		// B and C decide for the agent in a loop, before, while and after
		// the switch is set.
		var (
			mu      sync.Mutex
			ds      []controlDecision
			started []time.Time
			wg      sync.WaitGroup
		)
		stop := make(chan struct{})
		running := make(chan struct{}, len(deciders))
		var setDone atomic.Value // time.Time: when Set returned
		afterSet := make([]atomic.Int64, len(deciders))
		for i, d := range deciders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					asked := time.Now()
					ans, err := d.r.gate.Decide(ctx, replicaTenant, "key1", req)
					mu.Lock()
					ds = append(ds, controlDecision{replica: d.name, answer: ans, err: err})
					started = append(started, asked)
					mu.Unlock()
					if n == 0 {
						running <- struct{}{}
					}
					if s, ok := setDone.Load().(time.Time); ok && asked.After(s) {
						afterSet[i].Add(1)
					}
				}
			}()
		}
		for range deciders {
			<-running
		}

		ctl, err := a.controls.Set(ctx, replicaTenant, "key_ops", controls.Spec{Scope: controls.Scope{Agent: agent},
			Effect: controls.Deny, Reason: controlReason})
		setAt := time.Now()
		setDone.Store(setAt)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("trial %d: Set(deny %s) on replica A = %v, want nil", trial, agent, err)
		}
		// The very next decision on B and on C, with no pause.
		next := make([]controlDecision, len(deciders))
		var nwg sync.WaitGroup
		for i, d := range deciders {
			nwg.Add(1)
			go func() {
				defer nwg.Done()
				ans, err := d.r.gate.Decide(ctx, replicaTenant, "key1", req)
				next[i] = controlDecision{replica: d.name, immediate: true, answer: ans, err: err}
			}()
		}
		nwg.Wait()
		// Let each loop make a decision asked after the switch too.
		for i := range deciders {
			for afterSet[i].Load() == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		close(stop)
		wg.Wait()

		// Find the switch in the log; every decision after it is denied by
		// it, and none before it is.
		log := readEntries(t, a.db, from)
		setSeq := int64(-1)
		bySeq := map[int64]*evt.Decision{}
		for _, e := range log {
			if e.set != nil && e.set.ControlID == ctl.ID {
				setSeq = e.seq
			}
			if e.decision != nil {
				bySeq[e.seq] = e.decision
			}
		}
		if setSeq < 0 {
			t.Fatalf("trial %d: the log from seq %d holds no control.set of %s", trial, from, ctl.ID)
		}
		for _, e := range log {
			d := e.decision
			if d == nil || d.Principal.ID != agent {
				continue
			}
			denied := d.Decision == policy.Deny && len(d.Reasons) == 1 && d.Reasons[0].Code == "control" &&
				d.Reasons[0].Rule == ctl.ID && d.Reasons[0].Message == controlReason
			switch {
			case e.seq > setSeq && !denied:
				misses = append(misses, fmt.Sprintf("trial %d: logged decision seq %d after control.set seq %d is %s %+v (controls_version %d)",
					trial, e.seq, setSeq, d.Decision, d.Reasons, d.ControlsSeen))
			case e.seq < setSeq && d.Decision != policy.Allow:
				t.Errorf("trial %d: logged decision seq %d before control.set seq %d is %s %+v, want allow",
					trial, e.seq, setSeq, d.Decision, d.Reasons)
			}
		}

		// Every answer is what the log records; the very next ones, and
		// every one after the switch, are the switch's deny.
		for i, d := range append(ds, next...) {
			if d.err != nil {
				t.Errorf("trial %d: Decide(%s on replica %s) = %v, want an answer", trial, agent, d.replica, d.err)
				continue
			}
			ans := d.answer
			logged, ok := bySeq[ans.Seq]
			if !ok || logged.Decision != ans.Decision {
				t.Errorf("trial %d: replica %s answered %s at seq %d; the log does not record that", trial, d.replica, ans.Decision, ans.Seq)
			}
			denied := ans.Decision == policy.Deny && len(ans.Reasons) > 0 && ans.Reasons[0].Code == "control" &&
				ans.Reasons[0].Rule == ctl.ID && ans.Reasons[0].Message == controlReason
			switch {
			case d.immediate:
				immediate++
				if !denied || ans.Seq < setSeq {
					misses = append(misses, fmt.Sprintf("trial %d: the next decision on replica %s after the switch was set on A is %s %+v at seq %d (control.set at %d)",
						trial, d.replica, ans.Decision, ans.Reasons, ans.Seq, setSeq))
				}
			case ans.Seq > setSeq:
				loopSeen++
				after++
				if started[i].Before(setAt) {
					inFlight++
				}
				if !denied {
					misses = append(misses, fmt.Sprintf("trial %d: replica %s answered %s %+v at seq %d, after control.set at %d",
						trial, d.replica, ans.Decision, ans.Reasons, ans.Seq, setSeq))
				}
			default:
				loopSeen++
			}
		}
		from = log[len(log)-1].seq + 1
	}
	rechecked := b.rechecked.Load() + c.rechecked.Load()
	t.Logf("%d trials: %d next decisions on B and C, %d loop decisions (%d after the switch, %d of them asked before Set returned); "+
		"%d decisions reached by the switch only in their append transaction", controlTrials, immediate, loopSeen, after, inFlight, rechecked)
	for _, m := range misses {
		t.Error(m)
	}
	if len(misses) > 0 {
		t.Errorf("%d misses in %d trials, want none: a switch set on one replica binds the very next decision on every replica",
			len(misses), controlTrials)
	}
	storetest.Verify(t, a.db, signer, verifier, replicaTenant)
}
