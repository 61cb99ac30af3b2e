package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// The shape of TestMultiProcessAppends: replicas, writers in each, and the
// tenants they append to (one picked at random per append).
const (
	multiChildren = 3
	multiWriters  = 32
	multiSeedEnv  = "WARDEN_MULTIPROC_SEED" // repeats a logged run
)

var multiTenants = []string{"acme", "globex", "initech"}

// TestMultiProcessChild is one replica of TestMultiProcessAppends. It
// appends its share (childArgEnv) of entries from several writers and
// prints "ack <tenant> <seq> <id>" for each acknowledgement, then "done".
func TestMultiProcessChild(t *testing.T) {
	env := asChild(t, "multiproc")
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
	defer db.Close()
	l, err := ledger.New(db, ledger.Config{Origin: storetest.Origin, Signer: signer,
		CheckpointInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Every replica signs checkpoints too, so that signers race each other
	// (and the kill) as well as the appends.
	cpCtx, stopCP := context.WithCancel(ctx)
	cpDone := make(chan struct{})
	go func() { defer close(cpDone); l.Checkpointer().Run(cpCtx) }()

	out := newLineWriter()
	share := int64(env.arg)
	var claimed atomic.Int64
	errs := make(chan error, multiWriters)
	var wg sync.WaitGroup
	for w := range multiWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(env.seed, uint64(env.id)<<32|uint64(w)))
			for i := 0; claimed.Add(1) <= share; i++ {
				tenant := multiTenants[rng.IntN(len(multiTenants))]
				ack, err := l.Append(ctx, tenant, ledger.Request{Kind: "test.entry", Actor: "system",
					Body: map[string]int{"child": env.id, "w": w, "i": i}})
				if err == nil {
					err = out.printf("ack %s %d %s", tenant, ack.Seq, ack.ID)
				}
				if err != nil {
					errs <- fmt.Errorf("child %d writer %d: append to %s: %w", env.id, w, tenant, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
	stopCP()
	<-cpDone
	out.printf("done %d", env.id)
}

// ackKey names one acknowledged position in one tenant's log.
type ackKey struct {
	tenant string
	seq    int64
}

// TestMultiProcessAppends runs three replicas appending to the same
// tenants' logs in one database, SIGKILLs one of them mid-run, and proves
// that the logs stayed linear: contiguous seq, every acknowledgement stored
// where it was given, no position acknowledged twice, heads in step with
// the rows, and every log (and every checkpoint any replica signed)
// verifies.
func TestMultiProcessAppends(t *testing.T) {
	total := 100_000
	if testing.Short() {
		total = 6_000
	}
	seed, rng := testSeed(t, multiSeedEnv)
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v, want nil", err)
	}
	skey, vkey, err := ledger.GenerateKey(storetest.Origin)
	if err != nil {
		t.Fatal(err)
	}

	shares := make([]int, multiChildren)
	for i := range shares {
		shares[i] = total / multiChildren
		if i < total%multiChildren {
			shares[i]++
		}
	}
	victim := rng.IntN(multiChildren)
	killAt := shares[victim]/10 + rng.IntN(shares[victim]*8/10) // after this many of its acks
	t.Logf("%d entries by %d processes x %d writers over %d tenants; child %d is killed after %d acks",
		total, multiChildren, multiWriters, len(multiTenants), victim, killAt)

	g := newProcGroup(t)
	start := time.Now()
	startChild := func(share int) {
		g.start("TestMultiProcessChild", "multiproc", childDSNEnv+"="+dsn, childKeyEnv+"="+skey,
			childSeedEnv+"="+strconv.FormatUint(seed, 10), childArgEnv+"="+strconv.Itoa(share))
	}
	for i := range multiChildren {
		startChild(shares[i])
	}
	acked := map[ackKey]string{}
	byID := map[string]ackKey{}
	counts := make([]int, multiChildren, multiChildren+1)
	var killedAt time.Duration
	deadline := start.Add(5 * time.Minute)
	open := multiChildren
	for open > 0 {
		ev, ok := g.next(deadline)
		if !ok {
			t.Fatalf("children still running after %v; acks so far %v", time.Since(start), counts)
		}
		if ev.eof {
			open--
			if ev.child == victim && killedAt > 0 {
				// A replacement replica joins and appends what the victim
				// did not get acknowledged (counted once its last ack is
				// read), so that exactly total entries are acknowledged.
				shares = append(shares, shares[victim]-counts[victim])
				counts = append(counts, 0)
				startChild(shares[len(shares)-1])
				open++
			}
			continue
		}
		var k ackKey
		var id string
		if _, err := fmt.Sscanf(ev.text, "ack %s %d %s", &k.tenant, &k.seq, &id); err != nil {
			continue // test framework output, "done"
		}
		if prev, ok := acked[k]; ok {
			t.Fatalf("%s seq %d acknowledged twice (a fork): %s and %s (child %d)", k.tenant, k.seq, prev, id, ev.child)
		}
		if prev, ok := byID[id]; ok {
			t.Fatalf("id %s acknowledged twice: %s/%d and %s/%d", id, prev.tenant, prev.seq, k.tenant, k.seq)
		}
		acked[k], byID[id] = id, k
		counts[ev.child]++
		if ev.child == victim && counts[victim] == killAt {
			g.procs[victim].kill(t)
			killedAt = time.Since(start)
		}
	}
	elapsed := time.Since(start)
	for i, p := range g.procs {
		err := p.wait(t, 30*time.Second)
		switch {
		case i == victim && !killedBySIGKILL(err):
			t.Fatalf("child %d ended with %v after %d acks, want killed by SIGKILL", i, err, counts[i])
		case i != victim && err != nil:
			t.Fatalf("child %d ended with %v after %d acks, want success", i, err, counts[i])
		case i != victim && counts[i] != shares[i]:
			t.Fatalf("child %d acknowledged %d entries, want its share %d", i, counts[i], shares[i])
		}
	}

	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	defer db.Close()
	stored := checkLinearLogs(t, db, acked)
	if len(acked) != total {
		t.Fatalf("%d entries acknowledged in all, want %d", len(acked), total)
	}
	// The victim's writers may each have had one entry committed but not
	// yet acknowledged when it died.
	if stored < total || stored > total+multiWriters {
		t.Fatalf("the logs hold %d entries in all; want between the %d acknowledged and %d more", stored, total, multiWriters)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range multiTenants {
		rep := storetest.Verify(t, db, signer, verifier, tenant)
		t.Logf("%s: %d entries, %d checkpoints verified", tenant, rep.Entries, rep.Checkpoints)
	}
	t.Logf("multiproc: %d entries acknowledged (%d stored) by %d processes (and a replacement) in %v: %.0f acks/s; child %d killed after %d acks at %v",
		len(acked), stored, multiChildren, elapsed.Round(time.Millisecond), float64(len(acked))/elapsed.Seconds(),
		victim, killAt, killedAt.Round(time.Millisecond))
}

// checkLinearLogs checks each tenant's rows and head against the
// acknowledgements and returns the number of entries stored in all.
func checkLinearLogs(t *testing.T, db *postgres.DB, acked map[ackKey]string) int {
	t.Helper()
	ctx := context.Background()
	var others int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM entries WHERE NOT tenant_id = ANY($1)", multiTenants).Scan(&others); err != nil {
		t.Fatal(err)
	}
	if others != 0 {
		t.Fatalf("%d entries belong to no tenant that was written", others)
	}
	ackedPer := map[string]int{}
	for k := range acked {
		ackedPer[k.tenant]++
	}
	stored := 0
	logs := map[string][]string{} // ids by seq
	for _, tenant := range multiTenants {
		rows, err := db.Pool().Query(ctx, "SELECT seq, id FROM entries WHERE tenant_id = $1 ORDER BY seq", tenant)
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
				t.Fatalf("%s: row %d has seq %d: seq is not contiguous", tenant, len(ids), seq)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		n := int64(len(ids))
		var head int64
		if err := db.Pool().QueryRow(ctx, "SELECT size FROM log_heads WHERE tenant_id = $1", tenant).Scan(&head); err != nil {
			t.Fatalf("%s: read head: %v", tenant, err)
		}
		if head != n {
			t.Fatalf("%s: head size %d, rows 0..%d: want equal", tenant, head, n-1)
		}
		if n == 0 || ackedPer[tenant] == 0 {
			t.Fatalf("%s: %d rows, %d acknowledged; want some of each", tenant, n, ackedPer[tenant])
		}
		stored += len(ids)
		logs[tenant] = ids
		t.Logf("%s: %d rows, %d acknowledged", tenant, n, ackedPer[tenant])
	}
	for k, id := range acked {
		ids := logs[k.tenant]
		if k.seq >= int64(len(ids)) {
			t.Fatalf("%s seq %d was acknowledged as %s; the log has %d entries", k.tenant, k.seq, id, len(ids))
		}
		if ids[k.seq] != id {
			t.Fatalf("%s seq %d was acknowledged as %s; stored %s", k.tenant, k.seq, id, ids[k.seq])
		}
	}
	return stored
}
