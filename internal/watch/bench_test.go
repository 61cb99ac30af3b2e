package watch_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/watch"
)

// benchEntries is the size of the log the read benchmark catches up on.
const benchEntries = 200_000

// benchDecision is a decision entry as the gate writes one: a principal,
// an action with a resource, a few arguments, reasons, rules, the policy,
// now and then a finding.
func benchDecision(rng *rand.Rand, agent int) *event.Decision {
	d := &event.Decision{
		Principal:    event.DecisionPrincipal{ID: fmt.Sprintf("agent-%03d", agent), Type: "agent"},
		Action:       event.DecisionAction{Type: fmt.Sprintf("crm.records.%d", rng.IntN(8)), Resource: fmt.Sprintf("records/%d", rng.IntN(100000)), Operation: "read"},
		Args:         map[string]any{"query": "status = open and owner = me", "limit": 50, "fields": []any{"id", "name", "email"}},
		Context:      map[string]string{"session_id": fmt.Sprintf("ses_%d", rng.IntN(1000)), "trace_id": fmt.Sprintf("%016x", rng.Uint64())},
		Decision:     "allow",
		Reasons:      []event.DecisionReason{{Code: "rule", Rule: "crm-read", Message: "reads of CRM records are allowed"}},
		Rules:        []string{"crm-read"},
		Policy:       &event.PolicyRef{Name: "support", Version: 7, Digest: "sha256:9f2c4e1b7a6d5c3e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"},
		ScanComplete: true,
	}
	if rng.IntN(10) == 0 {
		d.Decision = "deny"
	}
	if rng.IntN(20) == 0 {
		d.Findings = []event.DecisionFinding{{Category: "pii.email", Rule: "email", Severity: "medium", Path: "/args/query", Start: 3, End: 20, ValueHMAC: "hmac:0123456789abcdef"}}
	}
	return d
}

// fillLog appends benchEntries decisions of 200 agents to tenant's log,
// a second apart for every 50.
func fillLog(b *testing.B, st ledger.Store, tenant string) {
	b.Helper()
	skey, _, err := ledger.GenerateKey(testOrigin)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	l, err := ledger.New(st, ledger.Config{Origin: testOrigin, Signer: signer, Logger: slog.New(slog.DiscardHandler),
		Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.Background())
	const workers = 64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; i < benchEntries; i += workers {
				if i%50 == 0 {
					mu.Lock()
					now = now.Add(time.Second)
					mu.Unlock()
				}
				req, err := event.New(event.KindDecision, "key", benchDecision(rng, rng.IntN(200)))
				if err == nil {
					_, err = l.Append(context.Background(), tenant, req)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// countingRaiser drops alerts: the benchmark measures reading.
type countingRaiser struct{}

func (countingRaiser) Raise(_ context.Context, _ string, a alerting.Alert, _ bool) (*alerting.Alert, bool, error) {
	return &a, true, nil
}

// discardAppender takes heartbeats without writing them.
type discardAppender struct{}

func (discardAppender) Append(context.Context, string, ledger.Request) (*ledger.Appended, error) {
	return &ledger.Appended{}, nil
}

// benchCatchUp measures the monitor job's first pass over a log of
// benchEntries decisions: reading the records in batches, decoding what
// the monitor needs, and feeding the monitor. The checkpoint state lives
// in a store of its own, emptied before each pass; verification is off.
func benchCatchUp(b *testing.B, log ledger.Store, state func() watch.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		j := &watch.Job{Log: log, State: state(), Ledger: discardAppender{}, Alerts: countingRaiser{}, Origin: testOrigin,
			Logger: slog.New(slog.DiscardHandler), Options: watch.Options{Step: benchEntries * 2}}
		b.StartTimer()
		if err := j.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkCatchUpSQLite(b *testing.B) {
	dir := os.Getenv("WARDEN_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	ctx := context.Background()
	path := filepath.Join(dir, "bench-log.db")
	_, statErr := os.Stat(path)
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if statErr != nil {
		fillLog(b, db, "default")
	}
	n := 0
	benchCatchUp(b, db, func() watch.Store {
		n++
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("state-%d.db", n)), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	})
}

func BenchmarkCatchUpPostgres(b *testing.B) {
	url := pgtest.NewDatabase(b)
	ctx := context.Background()
	if _, _, err := postgres.Migrate(ctx, url); err != nil {
		b.Fatal(err)
	}
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fillLog(b, db, "default")
	benchCatchUp(b, db, func() watch.Store {
		if _, err := db.Pool().Exec(ctx, "DELETE FROM monitor_state; DELETE FROM monitor_series"); err != nil {
			b.Fatal(err)
		}
		return db
	})
}
