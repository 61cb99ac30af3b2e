package ledger_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
)

// lingerLedger is a ledger over a gated fake store whose batches are
// recorded, with Linger an hour: a batch that lingers waits until it is
// full, so what the test sees never depends on timing.
func lingerLedger(t *testing.T, queue, batch int) (*ledger.Ledger, *gate, func() []int) {
	t.Helper()
	s, g := newFakeStore(), &gate{}
	s.BeforeAppend = g.hook
	var mu sync.Mutex
	var batches []int
	l := newTestLedger(t, s, func(c *ledger.Config) {
		c.QueueSize, c.MaxBatch, c.Linger = queue, batch, time.Hour
		c.Observe = func(_ string, n int, _ time.Duration, _ error) {
			mu.Lock()
			batches = append(batches, n)
			mu.Unlock()
		}
	})
	return l, g, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(batches)
	}
}

// An entry that finds the appender idle is committed at once, however
// long Linger is.
func TestLingerIdleCommitsAtOnce(t *testing.T) {
	l, _, batches := lingerLedger(t, 16, 16)
	for i := range 3 {
		done := make(chan error, 1)
		go func() {
			_, err := l.Append(context.Background(), tenant, plain("decision")(i))
			done <- err
		}()
		if err := recv(t, done, "an append to an idle ledger"); err != nil {
			t.Fatalf("Append(%d) = %v, want nil", i, err)
		}
	}
	if got := batches(); !slices.Equal(got, []int{1, 1, 1}) {
		t.Errorf("batches %v, want three of one entry", got)
	}
}

// Entries that arrived while a batch was committing wait for more: the
// next batch lingers until it is full, instead of committing the entries
// that were queued.
func TestLingerGathersUnderLoad(t *testing.T) {
	l, g, batches := lingerLedger(t, 2, 3)
	// One append is held in the store; two more wait in the queue behind
	// it (a third was pushed back, so both are queued), so the appender is
	// busy.
	first, queued := stall(t, l, g, 2, 3, plain("decision"))
	g.open()
	if o := recv(t, first, "the held append"); o.err != nil {
		t.Fatalf("held Append = %v, want nil", o.err)
	}
	// The two queued entries are about to linger; one more fills their
	// batch. It is pushed back while they are still in the queue (the
	// appender may not have taken them yet), so it retries, as a client
	// would.
	more := make(chan error, 1)
	go func() {
		for {
			_, err := l.Append(context.Background(), tenant, plain("decision")(10))
			if !errors.Is(err, ledger.ErrPushback) {
				more <- err
				return
			}
			runtime.Gosched()
		}
	}()
	for range 2 {
		if o := recv(t, queued, "a queued append"); o.err != nil {
			t.Fatalf("queued Append(%d) = %v, want nil", o.i, o.err)
		}
	}
	if err := recv(t, more, "the append that joined the lingering batch"); err != nil {
		t.Fatalf("Append = %v, want nil", err)
	}
	if got := batches(); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("batches %v, want [1 3]: the held entry alone, then the two queued ones with the one that came while they lingered", got)
	}
}
