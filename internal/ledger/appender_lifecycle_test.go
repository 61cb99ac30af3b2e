package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
)

// Failure and life-cycle tests of the appender: a store that fails, Close,
// and the clock. The helpers are in appender_test.go.

var errDisk = errors.New("disk I/O error")

func TestAppendStoreFailure(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(s *fakeStore, failing *atomic.Bool)
	}{
		{name: "commit fails", break_: func(s *fakeStore, failing *atomic.Bool) {
			s.BeforeCommit = func(string, int) error {
				if failing.Load() {
					return errDisk
				}
				return nil
			}
		}},
		{name: "insert fails", break_: func(s *fakeStore, failing *atomic.Bool) {
			s.OnInsert = func(*ledger.Record) error {
				if failing.Load() {
					return errDisk
				}
				return nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const q, k = 4, 8
			s, g := newFakeStore(), &gate{}
			s.BeforeAppend = g.hook
			var failing atomic.Bool
			tt.break_(s, &failing)
			l := newTestLedger(t, s, func(c *ledger.Config) { c.QueueSize = q })
			ctx := context.Background()
			if ack, err := l.Append(ctx, tenant, plain("decision")(0)); err != nil || ack.Seq != 0 {
				t.Fatalf("Append = %+v, %v; want seq 0", ack, err)
			}

			failing.Store(true)
			// Half the queued entries carry work, so the failure is seen
			// both inside a savepoint and outside one.
			req := func(i int) ledger.Request {
				r := plain("decision")(i)
				if i%2 == 0 {
					r.Work = func(context.Context, ledger.Tx) error { return nil }
				}
				return r
			}
			first, queued := stall(t, l, g, q, k, req)
			g.open()
			for i := 0; i <= q; i++ {
				var o outcome
				if i == 0 {
					o = recv(t, first, "the stalled append")
				} else {
					o = recv(t, queued, "a queued append")
				}
				if !errors.Is(o.err, ledger.ErrStore) || !errors.Is(o.err, errDisk) || o.ack != nil {
					t.Errorf("Append(%d) in a failed batch = %+v, %v; want ErrStore wrapping the cause", o.i, o.ack, o.err)
				}
			}
			if got := len(s.records(tenant)); got != 1 {
				t.Errorf("store holds %d entries after the failed batches, want 1", got)
			}
			if err := l.Healthy(); !errors.Is(err, ledger.ErrStore) {
				t.Errorf("Healthy() after a store failure = %v, want ErrStore", err)
			}

			failing.Store(false)
			if ack, err := l.Append(ctx, tenant, plain("decision")(1)); err != nil || ack.Seq != 1 {
				t.Fatalf("Append after recovery = %+v, %v; want seq 1", ack, err)
			}
			if err := l.Healthy(); err != nil {
				t.Errorf("Healthy() after a later success = %v, want nil", err)
			}
			checkLog(t, l, s, 2)
		})
	}
}

func TestCloseDrainsQueue(t *testing.T) {
	const q, k = 5, 10
	s, g := newFakeStore(), &gate{}
	s.BeforeAppend = g.hook
	l := newTestLedger(t, s, func(c *ledger.Config) { c.QueueSize = q })
	ctx := context.Background()
	first, queued := stall(t, l, g, q, k, plain("decision"))

	closed := make(chan error, 1)
	go func() { closed <- l.Close(ctx) }()
	// While the queue is full an append is answered ErrPushback; once
	// Close has stopped intake it is answered ErrClosed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := l.Append(ctx, tenant, plain("decision")(99))
		if errors.Is(err, ledger.ErrClosed) {
			break
		}
		if !errors.Is(err, ledger.ErrPushback) || time.Now().After(deadline) {
			t.Fatalf("Append during Close = %v, want ErrPushback until ErrClosed", err)
		}
		runtime.Gosched()
	}
	select {
	case err := <-closed:
		t.Fatalf("Close = %v before the queue drained, want it to wait", err)
	default:
	}
	g.open()
	if err := recv(t, closed, "Close"); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	// Close returned: every queued append is already committed.
	if got := len(s.records(tenant)); got != q+1 {
		t.Fatalf("store holds %d entries when Close returned, want %d", got, q+1)
	}
	for i := 0; i <= q; i++ {
		var o outcome
		if i == 0 {
			o = recv(t, first, "the stalled append")
		} else {
			o = recv(t, queued, "a queued append")
		}
		if o.err != nil {
			t.Errorf("queued Append(%d) = %v, want nil: Close dropped it", o.i, o.err)
		}
	}
	if _, err := l.Append(ctx, tenant, plain("decision")(100)); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	cp, err := s.LatestCheckpoint(ctx, tenant)
	if err != nil || cp.Size != q+1 {
		t.Errorf("LatestCheckpoint after Close = %+v, %v; want size %d (Close signs a final checkpoint)", cp, err, q+1)
	}
	checkLog(t, l, s, q+1)
}

func TestCloseGivesUpWithContext(t *testing.T) {
	s, g := newFakeStore(), &gate{}
	s.BeforeAppend = g.hook
	l := newTestLedger(t, s, nil)
	first, _ := stall(t, l, g, 0, 0, plain("decision"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close(cancelled) with a stalled store = %v, want context.Canceled", err)
	}
	g.open()
	if o := recv(t, first, "the stalled append"); o.err != nil {
		t.Errorf("stalled Append = %v, want nil: giving up on Close must not drop it", o.err)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// TestTimeNeverGoesBackwards feeds a clock that jumps back and checks the
// stamped times: never before the previous entry's, also across a restart.
func TestTimeNeverGoesBackwards(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		clock time.Time
		want  time.Time
	}{
		{name: "first", clock: t0.Add(123456789 * time.Nanosecond), want: t0.Add(123456 * time.Microsecond)},
		{name: "forward", clock: t0.Add(5 * time.Second), want: t0.Add(5 * time.Second)},
		{name: "back an hour", clock: t0.Add(-time.Hour), want: t0.Add(5 * time.Second)},
		{name: "back a microsecond", clock: t0.Add(5*time.Second - time.Microsecond), want: t0.Add(5 * time.Second)},
		{name: "back in another zone", clock: t0.In(time.FixedZone("X", 3600)), want: t0.Add(5 * time.Second)},
		{name: "forward again", clock: t0.Add(10 * time.Second), want: t0.Add(10 * time.Second)},
		{name: "back after a restart", clock: t0, want: t0.Add(10 * time.Second)},
	}
	s := newFakeStore()
	var mu sync.Mutex
	var now time.Time
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	open := func() *ledger.Ledger {
		return newTestLedger(t, s, func(c *ledger.Config) { c.Clock = clock })
	}
	l := open()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "back after a restart" {
				if err := l.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				l = open()
			}
			mu.Lock()
			now = tt.clock
			mu.Unlock()
			ack, err := l.Append(context.Background(), tenant, ledger.Request{Kind: "decision", Actor: "system", ID: fmt.Sprintf("evt_%d", i)})
			if err != nil {
				t.Fatalf("Append = %v, want nil", err)
			}
			e, err := ledger.Parse(ack.Data)
			if err != nil {
				t.Fatalf("Parse(ack.Data) = %v, want nil", err)
			}
			if !ack.Time.Equal(tt.want) || e.Time != ledger.FormatTime(tt.want) {
				t.Errorf("Append at clock %v stamped %v (%s), want %v", tt.clock, ack.Time, e.Time, tt.want)
			}
		})
	}
}

// putBlocker stalls the first PutCheckpoint until released.
type putBlocker struct {
	*fakeStore
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (p *putBlocker) PutCheckpoint(ctx context.Context, tenant string, cp ledger.StoredCheckpoint) error {
	p.once.Do(func() { close(p.entered); <-p.release })
	return p.fakeStore.PutCheckpoint(ctx, tenant, cp)
}

// A Flush that starts while another is storing a checkpoint waits for it:
// otherwise the final flush of Close could return with the grown log
// already taken by the running signer and its checkpoint not yet stored.
func TestFlushWaitsForFlushInProgress(t *testing.T) {
	s := &putBlocker{fakeStore: newFakeStore(), entered: make(chan struct{}), release: make(chan struct{})}
	l := newTestLedger(t, s, nil)
	var released sync.Once
	unblock := func() { released.Do(func() { close(s.release) }) }
	t.Cleanup(unblock) // before the ledger's Close, which flushes, if the test fails early
	if _, err := l.Append(context.Background(), tenant, plain("test.event")(0)); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- l.Checkpointer().Flush(context.Background()) }()
	recv(t, s.entered, "the first flush storing its checkpoint")

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Checkpointer().Flush(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush during another flush = %v, want it to wait (and here give up: context canceled)", err)
	}
	unblock()
	if err := recv(t, first, "the first flush"); err != nil {
		t.Fatalf("first Flush = %v, want nil", err)
	}
	if err := l.Checkpointer().Flush(context.Background()); err != nil {
		t.Fatalf("Flush after = %v, want nil", err)
	}
	cp, err := s.LatestCheckpoint(context.Background(), tenant)
	if err != nil || cp.Size != 1 {
		t.Fatalf("LatestCheckpoint = %+v, %v; want size 1", cp, err)
	}
}

// An acknowledged entry is covered by the next Flush: the log is marked
// grown before the caller hears of its entry.
func TestFlushAfterAppendCovers(t *testing.T) {
	s := newFakeStore()
	l := newTestLedger(t, s, nil)
	for i := range 300 {
		if _, err := l.Append(context.Background(), tenant, plain("test.event")(i)); err != nil {
			t.Fatal(err)
		}
		if err := l.Checkpointer().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		cp, err := s.LatestCheckpoint(context.Background(), tenant)
		if err != nil || cp.Size != int64(i+1) {
			t.Fatalf("after append %d and a flush the latest checkpoint is %+v (%v), want size %d", i, cp, err, i+1)
		}
	}
}
