package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
)

const tenant = "acme"

// newTestLedger returns a ledger over s with a fixed key, seeded ids and a
// clock that advances a millisecond per reading; mod adjusts the config.
func newTestLedger(t *testing.T, s ledger.Store, mod func(*ledger.Config)) *ledger.Ledger {
	t.Helper()
	signer, _, err := fixtureKeys(fixtureOrigin, 1)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	cfg := ledger.Config{Origin: fixtureOrigin, Signer: signer, Clock: clock.Now,
		IDs: ledger.NewIDs(clock.Now, rand.New(rand.NewSource(1)))}
	if mod != nil {
		mod(&cfg)
	}
	l, err := ledger.New(s, cfg)
	if err != nil {
		t.Fatalf("New = err %v, want nil", err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// gate stalls the store: armed, the next store Append blocks in
// BeforeAppend until open is called.
type gate struct {
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
	once    *sync.Once
}

// arm makes the next store Append block. The gate opens at the latest when
// the test ends, before the ledger's cleanup drains it.
func (g *gate) arm(t *testing.T) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.entered, g.release, g.once = true, make(chan struct{}), make(chan struct{}), &sync.Once{}
	t.Cleanup(g.open)
}

func (g *gate) open() {
	g.mu.Lock()
	release, once := g.release, g.once
	g.mu.Unlock()
	once.Do(func() { close(release) })
}

func (g *gate) hook(string) error {
	g.mu.Lock()
	armed, entered, release := g.armed, g.entered, g.release
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(entered)
		<-release
	}
	return nil
}

type outcome struct {
	i   int
	ack *ledger.Appended
	err error
}

// recv takes one value from ch, failing the test rather than hanging if a
// bug leaves an append waiting forever.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// stall holds one append in the store and then starts k more; with a
// queue of q, exactly q of those wait behind the held batch and k-q are
// answered ErrPushback. stall returns once every pushback is in, so the
// next batch will hold exactly the q queued appends. The held append's
// outcome is sent on first, the queued ones' on queued.
func stall(t *testing.T, l *ledger.Ledger, g *gate, q, k int, req func(i int) ledger.Request) (first, queued <-chan outcome) {
	t.Helper()
	ctx := context.Background()
	g.arm(t)
	firstc := make(chan outcome, 1)
	go func() {
		ack, err := l.Append(ctx, tenant, req(-1))
		firstc <- outcome{-1, ack, err}
	}()
	recv(t, g.entered, "the store to be entered")
	all := make(chan outcome, k)
	for i := 0; i < k; i++ {
		go func() {
			ack, err := l.Append(ctx, tenant, req(i))
			all <- outcome{i, ack, err}
		}()
	}
	for pushed := 0; pushed < k-q; {
		o := recv(t, all, "pushback answers")
		if !errors.Is(o.err, ledger.ErrPushback) {
			t.Fatalf("Append(%d) with the store stalled = %v, want ErrPushback or waiting", o.i, o.err)
		}
		pushed++
	}
	return firstc, all
}

func plain(kind string) func(int) ledger.Request {
	return func(i int) ledger.Request {
		return ledger.Request{Kind: kind, Actor: "system", Body: map[string]int{"i": i}}
	}
}

// checkLog closes l, which signs a final checkpoint, and verifies the fake
// store's log end to end: it must hold n entries.
func checkLog(t *testing.T, l *ledger.Ledger, s *fakeStore, n int64) {
	t.Helper()
	if err := l.Close(context.Background()); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	_, v, _ := fixtureKeys(fixtureOrigin, 1)
	opts := ledger.VerifyOptions{Tenant: tenant, Origin: fixtureOrigin, Keys: []note.Verifier{v}}
	rep, err := ledger.VerifyStore(context.Background(), s, opts, nil)
	if err != nil || !rep.OK || rep.Entries != n {
		t.Fatalf("VerifyStore = %+v, %v; want OK with %d entries", rep, err, n)
	}
}

func TestAppendGroupCommit(t *testing.T) {
	tests := []struct {
		name                 string
		queue, batch         int
		writers, perWriter   int
		wantBatchAtLeast     int // the batch queued behind the stalled one
		wantBatchAtMostLimit int
	}{
		{name: "queue bounds the batch", queue: 16, batch: 1024, writers: 32, perWriter: 10, wantBatchAtLeast: 16, wantBatchAtMostLimit: 1024},
		{name: "max batch bounds the batch", queue: 16, batch: 4, writers: 32, perWriter: 10, wantBatchAtLeast: 4, wantBatchAtMostLimit: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, g := newFakeStore(), &gate{}
			s.BeforeAppend = g.hook
			var mu sync.Mutex
			var batches []int
			var sizes []int64
			l := newTestLedger(t, s, func(c *ledger.Config) {
				c.QueueSize, c.MaxBatch = tt.queue, tt.batch
				c.Observe = func(_ string, n int, _ time.Duration, err error) {
					mu.Lock()
					batches = append(batches, n)
					mu.Unlock()
				}
				c.OnCommit = func(_ string, size int64) {
					mu.Lock()
					sizes = append(sizes, size)
					mu.Unlock()
				}
			})
			// One append is held in the store, alone in its batch; the
			// writers then fill the queue behind it.
			n := tt.writers*tt.perWriter + 1
			seqs := make(chan int64, n)
			g.arm(t)
			first := make(chan error, 1)
			go func() {
				ack, err := l.Append(context.Background(), tenant, plain("decision")(-1))
				if err == nil {
					seqs <- ack.Seq
				}
				first <- err
			}()
			recv(t, g.entered, "the store to be entered")
			full := make(chan struct{})
			var fullOnce sync.Once
			var wg sync.WaitGroup
			for w := 0; w < tt.writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < tt.perWriter; {
						ack, err := l.Append(context.Background(), tenant, plain("decision")(w*1000+i))
						switch {
						case errors.Is(err, ledger.ErrPushback):
							fullOnce.Do(func() { close(full) })
							runtime.Gosched()
							continue
						case err != nil:
							t.Errorf("Append = %v, want nil or ErrPushback", err)
							return
						}
						seqs <- ack.Seq
						i++
					}
				}()
			}
			// Once the queue is full behind the held batch, the next batch
			// cannot be smaller than the queue (or the batch limit).
			recv(t, full, "the queue to fill")
			g.open()
			if err := recv(t, first, "the held append"); err != nil {
				t.Fatalf("held Append = %v, want nil", err)
			}
			wg.Wait()
			if err := l.Close(context.Background()); err != nil {
				t.Fatalf("Close = %v, want nil", err)
			}
			close(seqs)
			seen := map[int64]bool{}
			for seq := range seqs {
				if seen[seq] || seq < 0 || seq >= int64(n) {
					t.Errorf("seq %d acknowledged twice or out of [0, %d)", seq, n)
				}
				seen[seq] = true
			}
			mu.Lock()
			defer mu.Unlock()
			total, largest := 0, 0
			for _, b := range batches {
				total += b
				largest = max(largest, b)
			}
			if total != n || len(seen) != n {
				t.Errorf("batches %v hold %d entries and %d were acknowledged, want %d", batches, total, len(seen), n)
			}
			if len(sizes) != len(batches) || !slices.IsSorted(sizes) || sizes[len(sizes)-1] != int64(n) {
				t.Errorf("OnCommit sizes %v for batches %v, want one growing size per batch, ending at %d", sizes, batches, n)
			}
			if largest < tt.wantBatchAtLeast || largest > tt.wantBatchAtMostLimit {
				t.Errorf("largest batch = %d (batches %v), want in [%d, %d]", largest, batches, tt.wantBatchAtLeast, tt.wantBatchAtMostLimit)
			}
			checkLog(t, l, s, int64(n))
		})
	}
}

func TestAppendPushbackDropsNothing(t *testing.T) {
	const q, k = 4, 12
	s, g := newFakeStore(), &gate{}
	s.BeforeAppend = g.hook
	l := newTestLedger(t, s, func(c *ledger.Config) { c.QueueSize = q })
	first, queued := stall(t, l, g, q, k, plain("decision"))
	if got := len(s.records(tenant)); got != 0 {
		t.Fatalf("store holds %d entries while stalled, want 0", got)
	}
	g.open()
	seqs := map[int64]bool{}
	for i := 0; i <= q; i++ {
		var o outcome
		if i == 0 {
			o = recv(t, first, "the stalled append")
		} else {
			o = recv(t, queued, "a queued append")
		}
		if o.err != nil {
			t.Fatalf("Append(%d) = %v, want nil: an accepted entry was dropped", o.i, o.err)
		}
		seqs[o.ack.Seq] = true
	}
	if len(seqs) != q+1 {
		t.Errorf("acknowledged seqs %v, want %d distinct", seqs, q+1)
	}
	checkLog(t, l, s, q+1)
}

var errWork = errors.New("limit reached")

type noter interface{ Note(string) }

func TestAppendRejectsOnlyFailingWork(t *testing.T) {
	const q, k = 6, 12
	s, g := newFakeStore(), &gate{}
	s.BeforeAppend = g.hook
	var mu sync.Mutex
	var batches []int
	var batchErrs []error
	l := newTestLedger(t, s, func(c *ledger.Config) {
		c.QueueSize = q
		c.Observe = func(_ string, n int, _ time.Duration, err error) {
			mu.Lock()
			batches, batchErrs = append(batches, n), append(batchErrs, err)
			mu.Unlock()
		}
	})
	// Every second work call of the batch fails after writing: its write
	// must be undone and its entry rejected, the rest committed.
	var calls atomic.Int64
	failed := make([]atomic.Bool, k)
	req := func(i int) ledger.Request {
		r := plain("decision")(i)
		if i < 0 {
			return r
		}
		r.Work = func(ctx context.Context, tx ledger.Tx) error {
			if calls.Add(1)%2 == 0 {
				tx.(noter).Note(fmt.Sprintf("bad-%d", i))
				failed[i].Store(true)
				return errWork
			}
			tx.(noter).Note(fmt.Sprintf("ok-%d", i))
			return nil
		}
		return r
	}
	first, queued := stall(t, l, g, q, k, req)
	g.open()
	if o := recv(t, first, "the stalled append"); o.err != nil || o.ack.Seq != 0 {
		t.Fatalf("first Append = %+v, want seq 0", o)
	}
	var okNotes []string
	for i := 0; i < q; i++ {
		o := recv(t, queued, "a queued append")
		switch {
		case failed[o.i].Load():
			if !errors.Is(o.err, ledger.ErrRejected) || !errors.Is(o.err, errWork) || errors.Is(o.err, ledger.ErrStore) || o.ack != nil {
				t.Errorf("Append(%d) with failing work = %v, want ErrRejected wrapping the work's error", o.i, o.err)
			}
		case o.err != nil:
			t.Errorf("Append(%d) = %v, want nil: a sibling's failure leaked", o.i, o.err)
		default:
			okNotes = append(okNotes, fmt.Sprintf("ok-%d", o.i))
		}
	}
	if len(okNotes) != q/2 {
		t.Fatalf("%d of %d queued entries committed, want %d", len(okNotes), q, q/2)
	}
	notes := s.workNotes(tenant)
	sort.Strings(notes)
	sort.Strings(okNotes)
	if strings.Join(notes, ",") != strings.Join(okNotes, ",") {
		t.Errorf("work writes kept = %v, want only the committed entries' %v", notes, okNotes)
	}
	if err := l.Healthy(); err != nil {
		t.Errorf("Healthy() = %v, want nil: rejections are not store failures", err)
	}
	mu.Lock()
	if len(batches) != 2 || batches[1] != q || batchErrs[1] != nil {
		t.Errorf("batches %v with errors %v, want [1 %d] committed", batches, batchErrs, q)
	}
	mu.Unlock()
	checkLog(t, l, s, 1+q/2)
}

func TestAppendRejects(t *testing.T) {
	tests := []struct {
		name   string
		tenant string
		req    ledger.Request
	}{
		{name: "work fails", req: ledger.Request{Kind: "decision", Actor: "system",
			Work: func(context.Context, ledger.Tx) error { return errWork }}},
		{name: "body cannot be encoded", req: ledger.Request{Kind: "decision", Actor: "system", Body: func() {}}},
		{name: "body is not an object", req: ledger.Request{Kind: "decision", Actor: "system", Body: []int{1, 2}}},
		{name: "empty kind", req: ledger.Request{Actor: "system"}},
		{name: "empty actor", req: ledger.Request{Kind: "decision"}},
		{name: "id too long", req: ledger.Request{Kind: "decision", Actor: "system", ID: strings.Repeat("x", 129)}},
		{name: "oversize body", req: ledger.Request{Kind: "decision", Actor: "system",
			Body: map[string]string{"blob": strings.Repeat("a", ledger.MaxEntrySize)}}},
		{name: "bad tenant", tenant: "Acme", req: ledger.Request{Kind: "decision", Actor: "system"}},
	}
	s := newFakeStore()
	l := newTestLedger(t, s, nil)
	ctx := context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := tenant
			if tt.tenant != "" {
				tn = tt.tenant
			}
			if ack, err := l.Append(ctx, tn, tt.req); !errors.Is(err, ledger.ErrRejected) || ack != nil {
				t.Fatalf("Append(%s) = %v, %v; want ErrRejected", tt.name, ack, err)
			}
			// The rejection leaves no gap: the next entry takes the next seq.
			ack, err := l.Append(ctx, tenant, plain("decision")(i))
			if err != nil || ack.Seq != int64(i) {
				t.Fatalf("Append after a rejection = %+v, %v; want seq %d", ack, err, i)
			}
			if err := l.Healthy(); err != nil {
				t.Errorf("Healthy() = %v, want nil", err)
			}
		})
	}
}
