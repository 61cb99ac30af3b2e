package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

var (
	// ErrQueueFull marks a delivery refused because the dispatcher already
	// holds QueueSize unfinished deliveries.
	ErrQueueFull = errors.New("notification queue is full")
	// ErrClosed means the dispatcher is closed and takes no new messages.
	ErrClosed = errors.New("notification dispatcher is closed")
)

// Why a delivery failed, in Result.Reason.
const (
	ReasonDelivered = "delivered"
	ReasonQueueFull = "queue_full" // refused by Send: the queue was full
	ReasonInvalid   = "invalid"    // the receiver or its payload is invalid
	ReasonRejected  = "rejected"   // the receiver answered a permanent failure (4xx, 3xx)
	ReasonExhausted = "exhausted"  // every attempt failed with a retryable error
	ReasonAbandoned = "abandoned"  // Close gave up before the delivery finished
)

// Result is the outcome of one delivery of a message to a receiver. Err
// and every other field MUST NOT hold the receiver's secret or more of its
// URL than the host; callers may enter a Result in the ledger as it is.
type Result struct {
	Receiver  string    `json:"receiver"`   // the receiver's name
	Kind      string    `json:"kind"`       // the message's kind
	MessageID string    `json:"message_id"` // the message's ID
	Tenant    string    `json:"tenant"`
	Delivery  string    `json:"delivery"`         // the X-Warden-Delivery id
	Attempts  int       `json:"attempts"`         // 0 if refused before any
	Delivered bool      `json:"delivered"`        // a 2xx answer
	Reason    string    `json:"reason"`           // one of the Reason* constants
	Status    int       `json:"status,omitempty"` // the last HTTP status, 0 if none
	Err       string    `json:"error,omitempty"`  // why it failed
	At        time.Time `json:"at"`               // when it finished
}

// Dispatcher delivers messages to receivers with a bounded queue, a pool
// of workers and retries. It owns its goroutines: Close stops them.
type Dispatcher struct {
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	ctx     context.Context // cancelled when Close abandons deliveries
	cancel  context.CancelFunc
	queue   chan *delivery
	results chan Result
	stop    chan struct{}
	idle    chan struct{} // closed once closed and nothing is outstanding
	workers sync.WaitGroup
	report  sync.WaitGroup
	done    sync.Once

	mu          sync.Mutex
	closed      bool
	abandoned   bool
	outstanding int // deliveries accepted and not finished
	waiting     map[*retry]struct{}
}

// delivery is one message on its way to one receiver.
type delivery struct {
	r        Receiver
	m        Message
	id       string
	body     []byte
	attempts int
	status   int
	err      string
}

// New starts a dispatcher with cfg.
func New(cfg Config) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{
		cfg:    cfg,
		client: newClient(cfg),
		log:    cfg.Logger,
		ctx:    ctx,
		cancel: cancel,
		// Both channels hold every delivery that may be outstanding, so
		// that neither Send nor a retry ever blocks on them.
		queue:   make(chan *delivery, cfg.QueueSize),
		results: make(chan Result, cfg.QueueSize),
		stop:    make(chan struct{}),
		idle:    make(chan struct{}),
		waiting: make(map[*retry]struct{}),
	}
	for range cfg.Workers {
		d.workers.Go(d.work)
	}
	d.report.Go(d.reportResults)
	return d, nil
}

// Send queues m for every receiver that wants its kind and returns at
// once. It never blocks: a delivery that finds the queue full fails at
// once. Every delivery accepted or refused (queue full, invalid receiver)
// ends in one Result given to OnResult; Send then also returns an error
// wrapping ErrQueueFull, for the caller's log, not to be recorded twice.
// Send returns ErrClosed after Close, and an error wrapping ErrInvalid for
// an invalid message; neither reports a Result.
func (d *Dispatcher) Send(ctx context.Context, receivers []Receiver, m Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("notify %s %q: %w", clip(m.Kind, 64), clip(m.ID, 64), err)
	}
	var ds []*delivery
	var failed []Result
	bodies := map[string][]byte{} // by bodyKey
	for _, r := range receivers {
		if !r.Wants(m.Kind) {
			continue
		}
		dl := &delivery{r: r, m: m, id: d.cfg.NewID()}
		err := r.Validate()
		if err == nil {
			if dl.body = bodies[bodyKey(r)]; dl.body == nil {
				dl.body, err = body(r, m)
				bodies[bodyKey(r)] = dl.body
			}
		}
		if err != nil {
			dl.err = scrub(err.Error(), r)
			failed = append(failed, d.result(dl, ReasonInvalid))
			continue
		}
		ds = append(ds, dl)
	}

	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	full := 0
	for _, dl := range ds {
		if d.outstanding >= d.cfg.QueueSize {
			full++
			dl.err = ErrQueueFull.Error()
			failed = append(failed, d.result(dl, ReasonQueueFull))
			continue
		}
		d.outstanding++
		d.queue <- dl
	}
	// Under d.mu, so that Close cannot have closed d.results yet.
	lost := failed[:0:0]
	for _, res := range failed {
		select {
		case d.results <- res:
		default:
			// OnResult has fallen QueueSize results behind; blocking
			// here would block the request path.
			lost = append(lost, res)
		}
	}
	d.mu.Unlock()

	for _, res := range failed {
		d.log.LogAttrs(ctx, slog.LevelWarn, "notify delivery refused", resultAttrs(res)...)
	}
	for _, res := range lost {
		d.log.LogAttrs(ctx, slog.LevelError, "notify result lost: OnResult is too slow", resultAttrs(res)...)
	}
	if full > 0 {
		return fmt.Errorf("notify %s %s: %d of %d deliveries refused: %w", m.Kind, m.ID, full, len(ds), ErrQueueFull)
	}
	return nil
}

// Close stops taking messages and waits until every accepted delivery has
// finished, retries included, and its Result has been handed to OnResult.
// If ctx ends first, Close abandons what is left: attempts in flight are
// cancelled and every unfinished delivery is reported with
// ReasonAbandoned; Close then returns ctx's error. Either way, no goroutine
// of the dispatcher is left when Close returns.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		if d.outstanding == 0 {
			close(d.idle)
		}
	}
	d.mu.Unlock()

	var err error
	select {
	case <-d.idle:
	case <-ctx.Done():
		select {
		case <-d.idle:
		default:
			err = ctx.Err()
			d.abandon()
			<-d.idle
		}
	}
	d.done.Do(func() {
		close(d.stop)
		d.workers.Wait()
		d.cancel()
		close(d.results)
		d.report.Wait()
		d.client.CloseIdleConnections()
	})
	return err
}

// abandon cancels attempts in flight and finishes the deliveries waiting
// for a retry; workers finish the queued ones as they take them.
func (d *Dispatcher) abandon() {
	d.mu.Lock()
	d.abandoned = true
	var left []*delivery
	for rt := range d.waiting {
		delete(d.waiting, rt)
		if rt.stop != nil {
			rt.stop()
		}
		left = append(left, rt.dl)
	}
	d.mu.Unlock()
	d.cancel()
	for _, dl := range left {
		dl.err = "abandoned at shutdown before retry " + fmt.Sprint(dl.attempts+1) + "; last error: " + dl.err
		d.finish(dl, ReasonAbandoned)
	}
}

// finish reports dl's outcome and releases its place in the queue.
func (d *Dispatcher) finish(dl *delivery, reason string) {
	res := d.result(dl, reason)
	level := slog.LevelDebug
	if !res.Delivered {
		level = slog.LevelWarn
	}
	d.log.LogAttrs(d.ctx, level, "notify delivery "+reason, resultAttrs(res)...)
	d.results <- res
	d.mu.Lock()
	d.outstanding--
	if d.closed && d.outstanding == 0 {
		close(d.idle)
	}
	d.mu.Unlock()
}

func (d *Dispatcher) result(dl *delivery, reason string) Result {
	return Result{
		Receiver: dl.r.Name, Kind: dl.m.Kind, MessageID: dl.m.ID, Tenant: dl.m.Tenant,
		Delivery: dl.id, Attempts: dl.attempts, Delivered: reason == ReasonDelivered,
		Reason: reason, Status: dl.status, Err: dl.err, At: d.cfg.Now().UTC(),
	}
}

func (d *Dispatcher) reportResults() {
	for res := range d.results {
		if d.cfg.OnResult != nil {
			d.cfg.OnResult(res)
		}
	}
}

func resultAttrs(res Result) []slog.Attr {
	return []slog.Attr{
		slog.String("receiver", res.Receiver), slog.String("kind", res.Kind),
		slog.String("tenant", res.Tenant), slog.String("message", res.MessageID),
		slog.String("delivery", res.Delivery), slog.Int("attempts", res.Attempts),
		slog.Int("status", res.Status), slog.String("error", res.Err),
	}
}
