package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// benchLogSize is the size of the shared log that BenchmarkVerify and the
// proof benchmarks read: large enough for realistic tree depth, small
// enough to build in a few seconds. The runner verifies 1,000,000.
const benchLogSize = 100_000

// BenchmarkAppend measures durable appends through the group-commit
// appender with 1, 16 and 64 concurrent writers. Each op is one
// acknowledged append; appends/s and latency quantiles are reported.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			lg, err := Open(ctx, b.TempDir(), ledger.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := lg.Close(ctx); err != nil {
					b.Errorf("close: %v", err)
				}
			}()
			b.ResetTimer()
			st, err := Appends(ctx, lg.Ledger, 0, AppendRun{Writers: writers, Total: int64(b.N)})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(st.PerSecond(), "appends/s")
			b.ReportMetric(ms(st.Quantile(0.50)), "p50_ms")
			b.ReportMetric(ms(st.Quantile(0.99)), "p99_ms")
			b.ReportMetric(float64(st.CPUPerAppend())/float64(time.Microsecond), "cpu_µs/append")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// shared is a closed log of benchLogSize entries built once per test
// binary and removed by TestMain.
type shared struct {
	dir string
	key note.Verifier
}

var (
	sharedOnce sync.Once
	theShared  *shared
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theShared != nil {
		os.RemoveAll(theShared.dir)
	}
	os.Exit(code)
}

func sharedLog(b *testing.B) *shared {
	b.Helper()
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "warden-bench-")
		if err != nil {
			sharedErr = err
			return
		}
		theShared = &shared{dir: dir}
		start := time.Now()
		theShared.key, sharedErr = Build(context.Background(), dir, benchLogSize, nil)
		b.Logf("built a log of %d entries in %v", benchLogSize, time.Since(start).Round(time.Millisecond))
	})
	if sharedErr != nil {
		b.Fatalf("build shared log: %v", sharedErr)
	}
	return theShared
}

func openShared(b *testing.B) (*shared, *sqlite.DB) {
	b.Helper()
	sh := sharedLog(b)
	db, err := OpenReadOnly(context.Background(), sh.dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return sh, db
}

// BenchmarkVerify measures ledger.VerifyStore over the whole shared log,
// from the stored bytes of a read-only store. One op is one full
// verification; entries/s is reported.
func BenchmarkVerify(b *testing.B) {
	sh, db := openShared(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		rep, err := Verify(ctx, db, sh.key, nil)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Entries != benchLogSize {
			b.Fatalf("verified %d entries, want %d", rep.Entries, benchLogSize)
		}
	}
	b.ReportMetric(float64(benchLogSize)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// proofSetup returns the shared log's signed checkpoint and a cycle of
// random seqs with their leaf hashes.
func proofSetup(b *testing.B) (*sqlite.DB, *ledger.Checkpoint, []int64, []tlog.Hash) {
	sh, db := openShared(b)
	ctx := context.Background()
	cp, err := Signed(ctx, db, sh.key)
	if err != nil {
		b.Fatal(err)
	}
	seqs, leaves, err := Leaves(ctx, db, cp.Size, 1024, 1)
	if err != nil {
		b.Fatal(err)
	}
	return db, cp, seqs, leaves
}

// BenchmarkInclusionProof measures ledger.InclusionProof: one proof of a
// random entry in the signed tree, read from the store.
func BenchmarkInclusionProof(b *testing.B) {
	db, cp, seqs, _ := proofSetup(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := ledger.InclusionProof(ctx, db, Tenant, seqs[i%len(seqs)], cp.Size); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkInclusionVerify measures tlog.CheckRecord of one inclusion
// proof against the signed root, as any client does.
func BenchmarkInclusionVerify(b *testing.B) {
	db, cp, seqs, leaves := proofSetup(b)
	ctx := context.Background()
	proofs := make([]tlog.RecordProof, len(seqs))
	for i, seq := range seqs {
		p, err := ledger.InclusionProof(ctx, db, Tenant, seq, cp.Size)
		if err != nil {
			b.Fatal(err)
		}
		proofs[i] = p
	}
	i := 0
	for b.Loop() {
		k := i % len(seqs)
		if err := tlog.CheckRecord(proofs[k], cp.Size, cp.Root, seqs[k], leaves[k]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
