package evidence_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/evidence"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// benchEntries is the size of the period the benchmarks export.
const benchEntries = 1_000_000

// benchLog opens (and on first use fills) a log of benchEntries
// decisions of 200 agents over 30 days, checkpointed.
func benchLog(b *testing.B) (*sqlite.DB, *evidence.Exporter, time.Time, time.Time) {
	b.Helper()
	dir := os.Getenv("WARDEN_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	ctx := context.Background()
	path := filepath.Join(dir, "evidence-bench.db")
	_, statErr := os.Stat(path)
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	// A fixed key, so that a filled database is reused across runs.
	const skey = "PRIVATE+KEY+warden+eef813e3+Ad8z8BblQfnylMYZ2pLO4Ulc/oFI8CQZ8QK3NyVg6FkC" // a test key, for this benchmark only
	signer, verifier := fixedKey(b, skey)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := start
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, err := ledger.New(db, ledger.Config{Origin: origin, Signer: signer, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close(context.Background()) })
	step := 30 * 24 * time.Hour / benchEntries
	if statErr != nil {
		const workers = 64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 9))
				for i := w; i < benchEntries; i += workers {
					mu.Lock()
					now = now.Add(step)
					mu.Unlock()
					d := &event.Decision{Principal: event.DecisionPrincipal{ID: fmt.Sprintf("agent-%03d", rng.IntN(200)), Type: "agent"},
						Action: event.DecisionAction{Type: "crm.records.read", Resource: fmt.Sprintf("records/%d", rng.IntN(1e5))},
						Args:   map[string]any{"query": "status = open", "limit": 50}, Decision: "allow",
						Reasons: []event.DecisionReason{{Code: "rule", Rule: "crm-read", Message: "reads are allowed"}}, Rules: []string{"crm-read"},
						Policy: &event.PolicyRef{Name: "support", Version: 7, Digest: "9f2c4e1b7a6d5c3e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"}, ScanComplete: true}
					req, err := event.New(event.KindDecision, "key", d)
					if err == nil {
						_, err = l.Append(ctx, "default", req)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
		req, _ := event.New(event.KindEvidenceExported, "auditor", &event.EvidenceExported{})
		if _, err := l.Append(ctx, "default", req); err != nil {
			b.Fatal(err)
		}
		if _, err := l.Checkpointer().Sign(ctx, "default"); err != nil {
			b.Fatal(err)
		}
	}
	head, err := db.Head(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	x := &evidence.Exporter{Log: db, Origin: origin, Signer: signer, Keys: []note.Verifier{verifier}, Sign: l.Checkpointer().Sign,
		Generator: "bench", Clock: func() time.Time { return head.LastTime.Add(time.Hour) }}
	return db, x, start, head.LastTime
}

// BenchmarkExportMillion exports a period of a million entries.
func BenchmarkExportMillion(b *testing.B) {
	_, x, from, to := benchLog(b)
	b.ResetTimer()
	for range b.N {
		var buf bytes.Buffer
		s, err := x.Export(context.Background(), &buf, "default", from, to, evidence.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if s.Entries < benchEntries || !s.Verification.OK {
			b.Fatalf("exported %d entries, self-check %v", s.Entries, s.Verification.OK)
		}
		b.ReportMetric(float64(buf.Len())/1e6, "MB")
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkVerifyMillion verifies the archive of a million entries.
func BenchmarkVerifyMillion(b *testing.B) {
	_, x, from, to := benchLog(b)
	var buf bytes.Buffer
	if _, err := x.Export(context.Background(), &buf, "default", from, to, evidence.Options{}); err != nil {
		b.Fatal(err)
	}
	archive := buf.Bytes()
	b.ResetTimer()
	for range b.N {
		v, _, err := evidence.Verify(bytes.NewReader(archive), int64(len(archive)), evidence.VerifyOptions{Keys: x.Keys})
		if err != nil || !v.OK {
			b.Fatalf("Verify = %v, %v", v, err)
		}
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
