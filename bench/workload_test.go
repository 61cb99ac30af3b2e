package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
)

// TestDecisionSize keeps benchmark entries the size of real ones, so that
// figures stay comparable from run to run.
func TestDecisionSize(t *testing.T) {
	for _, i := range []int64{0, 1, 999, 123_456, 999_999} {
		b, err := json.Marshal(NewDecision(i))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 300 || len(b) > 500 {
			t.Errorf("NewDecision(%d) body is %d bytes, want 300–500", i, len(b))
		}
	}
}

func TestQuantile(t *testing.T) {
	s := &AppendStats{}
	for i := 1; i <= 100; i++ {
		s.Latencies = append(s.Latencies, time.Duration(i))
	}
	tests := []struct {
		name string
		q    float64
		want time.Duration
	}{
		{"p50", 0.50, 50},
		{"p99", 0.99, 99},
		{"max", 1, 100},
		{"tiny", 0.001, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Quantile(tt.q); got != tt.want {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	if got := (&AppendStats{}).Quantile(0.5); got != 0 {
		t.Errorf("Quantile of nothing = %v, want 0", got)
	}
}

// TestHarness runs every measurement once on a tiny log, so that the
// benchmarks and the runner cannot rot between the runs that use them.
func TestHarness(t *testing.T) {
	ctx := context.Background()
	lg, err := Open(ctx, t.TempDir(), ledger.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Appends(ctx, lg.Ledger, 0, AppendRun{Writers: 4, Total: 40})
	if err != nil {
		t.Fatal(err)
	}
	if err := lg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Appends != 40 || len(st.Latencies) != 40 || st.PerSecond() <= 0 {
		t.Errorf("Appends = %d appends, %d latencies, %.0f/s; want 40, 40, > 0", st.Appends, len(st.Latencies), st.PerSecond())
	}

	dir := t.TempDir()
	const n = 300
	key, err := Build(ctx, dir, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := Verify(ctx, db, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != n {
		t.Errorf("Verify: %d entries, want %d", rep.Entries, n)
	}
	cp, err := Signed(ctx, db, key)
	if err != nil {
		t.Fatal(err)
	}
	seqs, leaves, err := Leaves(ctx, db, cp.Size, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Proofs(ctx, db, cp, seqs, leaves)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Proofs != 20 || ps.Size != n {
		t.Errorf("Proofs: %d proofs in a tree of %d, want 20 in %d", ps.Proofs, ps.Size, n)
	}
}
