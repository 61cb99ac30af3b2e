package notify

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testSecret is long enough, and unusual enough to be searched for.
const testSecret = "whsec-0123456789-abcdefghij-SECRET-klmnop"

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// waitLimit bounds every wait of a test for the code under test; it is a
// failure, never a pause.
const waitLimit = 10 * time.Second

func testMessage(id string) Message {
	return Message{
		Kind: EventApprovalRequested, Tenant: "acme", ID: id,
		Title: "Approval needed: stripe.charges.create",
		Text:  "billing-bot wants to charge 120000 cents",
		Fields: map[string]string{
			"agent": "billing-bot", "action": "stripe.charges.create", "rule": "large-charges",
		},
		Link: "https://warden.example/approvals/" + id,
		At:   testNow,
	}
}

// testAlert is a message of the monitor's: kind EventAlertRaised or
// EventAlertResolved.
func testAlert(kind, id string) Message {
	return Message{
		Kind: kind, Tenant: "acme", ID: id,
		Title: "Error rate of billing-bot above 5%",
		Text:  "7.2% of billing-bot's actions failed in the last 10 minutes",
		Fields: map[string]string{
			"agent": "billing-bot", "metric": "error_rate", "severity": "critical", "detector": "threshold",
		},
		Link: "https://warden.example/alerts/" + id,
		At:   testNow,
	}
}

func webhook(name, url string) Receiver {
	return Receiver{Name: name, Kind: KindWebhook, URL: url, Secret: testSecret}
}

// alertmanager is an alertmanager receiver without a secret.
func alertmanager(name, url string) Receiver {
	return Receiver{Name: name, Kind: KindAlertmanager, URL: url}
}

// timers replaces time.AfterFunc. In immediate mode it records the delay
// and fires at once; otherwise it holds every timer until fire is called.
type timers struct {
	immediate bool

	mu      sync.Mutex
	delays  []time.Duration
	held    []func()
	stopped int
	set     chan time.Duration // every delay, as it is set
}

func newTimers(immediate bool) *timers {
	return &timers{immediate: immediate, set: make(chan time.Duration, 1000)}
}

func (tm *timers) afterFunc(d time.Duration, f func()) func() bool {
	tm.mu.Lock()
	tm.delays = append(tm.delays, d)
	if !tm.immediate {
		tm.held = append(tm.held, f)
	}
	tm.mu.Unlock()
	tm.set <- d
	if tm.immediate {
		f()
		return func() bool { return false }
	}
	return func() bool {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		tm.stopped++
		return true
	}
}

// fire runs every held timer.
func (tm *timers) fire() {
	tm.mu.Lock()
	held := tm.held
	tm.held = nil
	tm.mu.Unlock()
	for _, f := range held {
		f()
	}
}

func (tm *timers) recorded() []time.Duration {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return append([]time.Duration(nil), tm.delays...)
}

// waitSet waits until a timer has been set and returns its delay.
func (tm *timers) waitSet(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-tm.set:
		return d
	case <-time.After(waitLimit):
		t.Fatal("no retry was scheduled")
		return 0
	}
}

// results collects what OnResult receives.
type results struct {
	mu  sync.Mutex
	all []Result
	ch  chan Result
}

func newResults() *results { return &results{ch: make(chan Result, 1000)} }

func (r *results) add(res Result) {
	r.mu.Lock()
	r.all = append(r.all, res)
	r.mu.Unlock()
	r.ch <- res
}

// next waits for the next result.
func (r *results) next(t *testing.T) Result {
	t.Helper()
	select {
	case res := <-r.ch:
		return res
	case <-time.After(waitLimit):
		t.Fatal("no result was reported")
		return Result{}
	}
}

func (r *results) list() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.all...)
}

// harness is a dispatcher wired to fakes, closed and checked for leaked
// goroutines when the test ends.
type harness struct {
	d       *Dispatcher
	timers  *timers
	results *results
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness starts a dispatcher. cfg's zero fields get test values: one
// millisecond base delay, no jitter, fixed clock and ids, immediate timers.
func newHarness(t *testing.T, cfg Config, tm *timers) *harness {
	t.Helper()
	if tm == nil {
		tm = newTimers(true)
	}
	h := &harness{timers: tm, results: newResults(), logs: &syncBuffer{}}
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay = time.Millisecond
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 100 * time.Millisecond
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = waitLimit
	}
	cfg.OnResult = h.results.add
	cfg.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Now = func() time.Time { return testNow }
	var mu sync.Mutex
	n := 0
	cfg.NewID = func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("dlv_%04d", n)
	}
	cfg.Jitter = func() float64 { return 0 }
	cfg.AfterFunc = tm.afterFunc
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	h.d = d
	liveHarnesses.Add(1)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
		// Tests do not run in parallel; a test may run several harnesses.
		if liveHarnesses.Add(-1) == 0 {
			checkNoGoroutines(t)
		}
	})
	return h
}

// liveHarnesses counts the harnesses not yet closed.
var liveHarnesses atomic.Int32

// checkNoGoroutines fails if any goroutine is running the dispatcher's
// code. Close waits for all of them, so only one that has signalled its
// end and not yet returned may be seen, briefly.
func checkNoGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		leaked := dispatcherGoroutines()
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Close:\n%s", strings.Join(leaked, "\n\n"))
		}
		runtime.Gosched()
	}
}

func dispatcherGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaked []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		for line := range strings.SplitSeq(g, "\n") {
			if strings.HasPrefix(line, "github.com/wardenhq/warden/internal/notify.(*Dispatcher)") {
				leaked = append(leaked, g)
				break
			}
		}
	}
	return leaked
}

// server is a loopback receiver answering with the handler's status and
// recording every request.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
	hits chan request
}

type request struct {
	header http.Header
	body   []byte
	path   string
}

func newServer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{hits: make(chan request, 1000)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := request{header: r.Header.Clone(), body: b, path: r.URL.Path}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		n := len(s.reqs)
		s.mu.Unlock()
		s.hits <- req
		answer(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

// hit waits for the server's next request.
func (s *server) hit(t *testing.T) request {
	t.Helper()
	select {
	case r := <-s.hits:
		return r
	case <-time.After(waitLimit):
		t.Fatal("the receiver got no request")
		return request{}
	}
}

func certPool(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}
