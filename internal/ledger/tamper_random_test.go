package ledger_test

import (
	"flag"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

var tamperSeed = flag.Int64("tamper.seed", 20251125, "seed of TestTamperRandom")

// randomTamperLogSize bounds the log that TestTamperRandom mutates: 1,000
// entries, 200 under -short (which CI runs with -race). Every mutation is
// verified from the start, and VerifyStore parses a whole read batch
// before it checks it, so each one costs a walk of the entire log; these
// sizes keep the test near 30 s on two cores, and 10 s under -race -short.
func randomTamperLogSize() int64 {
	if testing.Short() {
		return 200
	}
	return 1000
}

// TestTamperRandom applies random tampering of every kind TestTamper
// knows, each to a fresh copy of the log, and requires every one to be
// detected at the seq and by the check that kind of change calls for.
func TestTamperRandom(t *testing.T) {
	count := 1000
	if testing.Short() {
		count = 100
	}
	f := logFixture(t, randomTamperLogSize())
	seed := *tamperSeed
	t.Logf("seed %d (-tamper.seed), log of %d entries with checkpoints at %v", seed, f.n, cpSizes(f.cps))
	rng := rand.New(rand.NewSource(seed))
	seq := func() int64 { return rng.Int63n(f.n) }
	// above picks a genuine checkpoint larger than size.
	above := func(size int64) *ledger.StoredCheckpoint {
		var c []int
		for i, cp := range f.cps {
			if cp.Size > size {
				c = append(c, i)
			}
		}
		return &f.cps[c[rng.Intn(len(c))]]
	}
	kinds := []struct {
		name string
		make func() tamper
	}{
		{"flip", func() tamper { return f.flip(seq(), rng.Int(), byte(1+rng.Intn(255))) }},
		{"flip hash", func() tamper { return f.flipHash(seq(), rng.Int(), byte(1+rng.Intn(255))) }},
		{"delete", func() tamper { return f.deleteEntry(seq()) }},
		{"swap", func() tamper {
			i, j := seq(), seq()
			for i == j {
				j = seq()
			}
			return f.swap(i, j)
		}},
		{"truncate", func() tamper { return f.truncate(seq()) }},
		{"insert", func() tamper { return f.insert(t, seq()) }},
		{"checkpoint by another key", func() tamper { return f.otherKeyCheckpoint(t, rng.Intn(len(f.cps))) }},
		{"checkpoint over another root", func() tamper {
			var root tlog.Hash
			rng.Read(root[:])
			return f.wrongRootCheckpoint(t, rng.Intn(len(f.cps)), root)
		}},
		{"rewrite", func() tamper { k := seq(); return f.rewrite(t, k, above(k)) }},
		{"rollback", func() tamper { s := 1 + rng.Int63n(f.n-1); return f.rollback(t, s, above(s)) }},
	}
	start := time.Now()
	path := filepath.Join(t.TempDir(), "warden.db")
	perKind := map[string]int{}
	missed := 0
	for i := 0; i < count && missed < 10; i++ {
		k := kinds[rng.Intn(len(kinds))]
		tm := k.make()
		tm.name = fmt.Sprintf("mutation %d: %s", i, tm.name)
		perKind[k.name]++
		f.copyTo(t, path)
		mutate(t, path, tm.apply)
		if tm.ok {
			t.Fatalf("%s is expected to pass verification", tm.name)
		}
		if !tm.check(t, f, path) {
			missed++
		}
	}
	t.Logf("%d mutations %v, %d not reported as expected, in %v", count, perKind, missed, time.Since(start).Round(time.Millisecond))
}
