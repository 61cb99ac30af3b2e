package postgres_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// signerJob is the singleton job the failover test runs; topicLedger
// tells its holder that a log grew (as cmd/warden does).
const (
	signerJob   = "checkpoint-signer"
	topicLedger = "ledger"
)

// TestFailoverChild is one replica of TestJobFailover: it runs the
// checkpoint signer as a singleton job and prints "holder <pid>" when it
// takes the job and "released <pid>" when the job's context ends.
func TestFailoverChild(t *testing.T) {
	env := asChild(t, "failover")
	exitWithParent()
	ctx := context.Background()
	signer, err := note.NewSigner(env.key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, env.dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	feed := postgres.NewFeed(db, postgres.FeedOptions{})
	l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer,
		CheckpointInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	out := newLineWriter()
	pid := os.Getpid()
	out.printf("ready %d", pid)
	postgres.NewJobs(db, postgres.JobsOptions{}).Run(ctx, signerJob, func(ctx context.Context) {
		out.printf("holder %d", pid)
		defer out.printf("released %d", pid)
		cp := l.Checkpointer()
		notices, cancel := feed.Subscribe(topicLedger)
		defer cancel()
		go func() {
			for n := range notices {
				if n.Resync {
					cp.Resync(ctx)
				} else if ledger.ValidTenant(n.Payload) {
					cp.Notify(n.Payload)
				}
			}
		}()
		cp.Run(ctx)
	})
}

// interval is one stretch during which a child claimed the job.
type interval struct {
	child      int
	start, end time.Time // end is zero while the claim stands
}

// jobWatch follows the children's claims on the job from their output.
type jobWatch struct {
	g      *procGroup
	pids   map[int]int
	claims []interval
}

func (w *jobWatch) handle(t *testing.T, ev event) {
	t.Helper()
	verb, arg, _ := strings.Cut(ev.text, " ")
	switch {
	case ev.eof:
		w.end(ev.child, ev.at)
	case verb == "ready":
		w.pids[ev.child], _ = strconv.Atoi(arg)
	case verb == "holder":
		if w.open(ev.child) >= 0 {
			t.Fatalf("child %d claims the job twice", ev.child)
		}
		w.claims = append(w.claims, interval{child: ev.child, start: ev.at})
	case verb == "released":
		w.end(ev.child, ev.at)
	}
}

// open returns the index of the child's standing claim, or -1.
func (w *jobWatch) open(child int) int {
	for i, c := range w.claims {
		if c.child == child && c.end.IsZero() {
			return i
		}
	}
	return -1
}

// end closes the child's standing claim, if any, at `at`.
func (w *jobWatch) end(child int, at time.Time) {
	if i := w.open(child); i >= 0 {
		w.claims[i].end = at
	}
}

// holders returns the children with a standing claim.
func (w *jobWatch) holders() []int {
	var hs []int
	for _, c := range w.claims {
		if c.end.IsZero() {
			hs = append(hs, c.child)
		}
	}
	return hs
}

// claimedAfter returns the first claim that started after t.
func (w *jobWatch) claimedAfter(t time.Time) (interval, bool) {
	for _, c := range w.claims {
		if c.start.After(t) {
			return c, true
		}
	}
	return interval{}, false
}

// maxOverlap returns the longest time two children claimed the job at once.
func (w *jobWatch) maxOverlap() time.Duration {
	var most time.Duration
	now := time.Now()
	for i, a := range w.claims {
		for _, b := range w.claims[i+1:] {
			if a.child == b.child {
				continue
			}
			aEnd, bEnd := a.end, b.end
			if aEnd.IsZero() {
				aEnd = now
			}
			if bEnd.IsZero() {
				bEnd = now
			}
			if d := earlier(aEnd, bEnd).Sub(later(a.start, b.start)); d > most {
				most = d
			}
		}
	}
	return most
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// await handles the children's output until cond holds, failing t after d.
func (w *jobWatch) await(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; claims %+v", what, d, w.claims)
		}
		select {
		case ev := <-w.g.events:
			w.handle(t, ev)
		case <-tick.C:
		}
	}
}

// TestJobFailover runs the checkpoint signer as a singleton job in three
// replicas, kills the holder with SIGKILL and measures how soon another
// takes the job and signs a checkpoint covering an entry appended at the
// kill; then it cuts the holder's lock connection while the holder lives
// and checks that it lets go within a heartbeat. At no time may two live
// replicas claim the job together for longer than one heartbeat.
func TestJobFailover(t *testing.T) {
	const limit = 10 * time.Second
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v, want nil", err)
	}
	skey, vkey, err := ledger.GenerateKey(storetest.Origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	defer db.Close()
	feed := postgres.NewFeed(db, postgres.FeedOptions{Resync: -1})
	defer feed.Close()
	// The parent appends; only the replicas sign (until Close, at the end).
	l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	const tenant = storetest.TenantA
	appendOne := func() int64 {
		t.Helper()
		ack, err := l.Append(ctx, tenant, storetest.Req(0))
		if err != nil {
			t.Fatalf("Append = %v, want nil", err)
		}
		if err := feed.Publish(ctx, topicLedger, tenant); err != nil {
			t.Fatalf("Publish = %v, want nil", err)
		}
		return ack.Seq + 1
	}
	covered := func(size int64) func() bool {
		return func() bool {
			// Notices are best effort: one published while the new holder
			// is still starting to listen is lost, and only the feed's
			// 30-second resync would cover it. A replica publishes with
			// every commit; so does the test, while it waits.
			if err := feed.Publish(ctx, topicLedger, tenant); err != nil {
				t.Fatalf("Publish = %v, want nil", err)
			}
			cp, err := db.LatestCheckpoint(ctx, tenant)
			if errors.Is(err, ledger.ErrNotFound) {
				return false
			}
			if err != nil {
				t.Fatalf("LatestCheckpoint = %v, want nil", err)
			}
			return cp.Size >= size
		}
	}

	g := newProcGroup(t)
	for range 3 {
		g.start("TestFailoverChild", "failover", childDSNEnv+"="+dsn, childKeyEnv+"="+skey)
	}
	w := &jobWatch{g: g, pids: map[int]int{}}
	w.await(t, 30*time.Second, "three replicas up, one holding the job", func() bool {
		return len(w.pids) == 3 && len(w.holders()) == 1
	})
	first := w.holders()[0]
	w.await(t, limit, "first holder signs a checkpoint", covered(appendOne()))

	// The holder dies.
	killed := g.procs[first].kill(t)
	w.end(first, killed) // a dead process claims nothing
	size := appendOne()
	w.await(t, limit, "another replica takes the job after the kill", func() bool {
		_, ok := w.claimedAfter(killed)
		return ok
	})
	next, _ := w.claimedAfter(killed)
	took := next.start.Sub(killed)
	w.await(t, limit, "a checkpoint covering the entry appended at the kill", covered(size))
	signedAfter := time.Since(killed)
	if err := g.procs[first].wait(t, limit); !killedBySIGKILL(err) {
		t.Fatalf("holder ended with %v, want killed by SIGKILL", err)
	}

	// The holder's lock connection dies while the holder lives.
	if hs := w.holders(); len(hs) != 1 || hs[0] != next.child {
		t.Fatalf("holders %v, want only child %d", hs, next.child)
	}
	held := w.open(next.child)
	var lockPID int
	err = db.Pool().QueryRow(ctx, `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`).Scan(&lockPID)
	if err != nil {
		t.Fatalf("find the lock connection: %v", err)
	}
	if err := db.Pool().QueryRow(ctx, "SELECT pg_terminate_backend($1)", lockPID).Scan(new(bool)); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	w.await(t, limit, "the holder lets go after losing its lock connection", func() bool {
		return !w.claims[held].end.IsZero()
	})
	letGo := w.claims[held].end.Sub(cut)
	w.await(t, limit, "a replica takes the job again", func() bool {
		_, ok := w.claimedAfter(cut)
		return ok
	})
	again, _ := w.claimedAfter(cut)
	w.await(t, limit, "a checkpoint after the lock connection was cut", covered(appendOne()))

	overlap := w.maxOverlap()
	t.Logf("failover: holder killed -> job taken in %v, entry appended at the kill signed in %v; "+
		"lock connection cut -> holder let go in %v, job taken again in %v (same replica: %v); "+
		"longest double claim by live replicas %v (heartbeat %v)",
		took.Round(time.Millisecond), signedAfter.Round(time.Millisecond), letGo.Round(time.Millisecond),
		again.start.Sub(cut).Round(time.Millisecond), again.child == next.child,
		overlap.Round(time.Millisecond), postgres.DefaultJobHeartbeat)
	if took >= limit || signedAfter >= limit {
		t.Errorf("failover took %v (signed after %v), want under %v", took, signedAfter, limit)
	}
	// Detection waits for the next heartbeat; allow for the ping and the
	// job's return on top.
	slack := postgres.DefaultJobHeartbeat + 500*time.Millisecond
	if letGo > slack {
		t.Errorf("the holder let go %v after losing its lock, want within a heartbeat (%v)", letGo, postgres.DefaultJobHeartbeat)
	}
	if overlap > slack {
		t.Errorf("two live replicas claimed the job together for %v, want at most a heartbeat (%v)", overlap, postgres.DefaultJobHeartbeat)
	}
	if hs := w.holders(); len(hs) != 1 {
		t.Errorf("holders at the end %v, want exactly one", hs)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.Verify(t, db, signer, verifier, tenant)
}
