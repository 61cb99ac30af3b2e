package ledger_test

import (
	"context"
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
// next batch lingers until it is full, instead of committing the one
// entry that was queued.
func TestLingerGathersUnderLoad(t *testing.T) {
	l, g, batches := lingerLedger(t, 1, 3)
	// One append is held in the store; one more waits in the queue behind
	// it (the other is pushed back), so the appender is busy.
	first, queued := stall(t, l, g, 1, 2, plain("decision"))
	g.open()
	if o := recv(t, first, "the held append"); o.err != nil {
		t.Fatalf("held Append = %v, want nil", o.err)
	}
	// The queued entry is now lingering; two more fill its batch.
	more := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := l.Append(context.Background(), tenant, plain("decision")(10+i))
			more <- err
		}()
	}
	if o := recv(t, queued, "the queued append"); o.err != nil {
		t.Fatalf("queued Append = %v, want nil", o.err)
	}
	for range 2 {
		if err := recv(t, more, "an append that joined the lingering batch"); err != nil {
			t.Fatalf("Append = %v, want nil", err)
		}
	}
	if got := batches(); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("batches %v, want [1 3]: the held entry alone, then the queued one with the two that came while it lingered", got)
	}
}
