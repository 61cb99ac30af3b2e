package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWebhookDeliverySigned(t *testing.T) {
	srv := newServer(t, status(http.StatusNoContent))
	h := newHarness(t, Config{}, nil)
	r := webhook("ops", srv.URL+"/hook")
	if err := h.d.Send(t.Context(), []Receiver{r}, testMessage("apr_01")); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	res := h.results.next(t)
	want := Result{
		Receiver: "ops", Kind: EventApprovalRequested, MessageID: "apr_01", Tenant: "acme",
		Delivery: "dlv_0001", Attempts: 1, Delivered: true, Reason: ReasonDelivered,
		Status: http.StatusNoContent, At: testNow,
	}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}

	req := srv.requests()[0]
	for k, v := range map[string]string{
		"Content-Type": "application/json", HeaderEvent: EventApprovalRequested,
		HeaderDelivery: "dlv_0001", HeaderTimestamp: strconv.FormatInt(testNow.Unix(), 10),
	} {
		if got := req.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	ts, sig := req.header.Get(HeaderTimestamp), req.header.Get(HeaderSignature)
	if err := Verify(testSecret, ts, req.body, sig, testNow.Add(time.Minute), DefaultTolerance); err != nil {
		t.Errorf("Verify(delivery) = %v, want nil", err)
	}
	if err := Verify(strings.Repeat("w", 40), ts, req.body, sig, testNow, DefaultTolerance); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(wrong secret) = %v, want ErrSignature", err)
	}
	if err := Verify(testSecret, ts, req.body, sig, testNow.Add(time.Hour), DefaultTolerance); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(an hour later) = %v, want ErrSignature", err)
	}
	var m Message
	if err := json.Unmarshal(req.body, &m); err != nil || m.ID != "apr_01" || m.Fields["agent"] != "billing-bot" {
		t.Errorf("body decodes to %+v, %v; want the message", m, err)
	}
}

func TestSlackDelivery(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	h := newHarness(t, Config{}, nil)
	r := Receiver{Name: "chat", Kind: KindSlack, URL: srv.URL + "/services/T0/B0/tok"}
	if err := h.d.Send(t.Context(), []Receiver{r}, testMessage("apr_01")); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	if res := h.results.next(t); !res.Delivered {
		t.Fatalf("Result = %+v, want delivered", res)
	}
	req := srv.requests()[0]
	if req.header.Get(HeaderSignature) != "" || req.header.Get(HeaderTimestamp) != "" {
		t.Error("a slack delivery carries a signature")
	}
	var got map[string]any
	if err := json.Unmarshal(req.body, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["text"].(string); !ok || len(got) != 2 {
		t.Errorf("slack body = %v, want exactly text and blocks", got)
	}
	if blocks, ok := got["blocks"].([]any); !ok || len(blocks) == 0 {
		t.Errorf("slack body blocks = %v, want a list", got["blocks"])
	}
}

func TestRetryThenSuccess(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h := newHarness(t, Config{BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second}, nil)
	if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	res := h.results.next(t)
	if !res.Delivered || res.Attempts != 3 || res.Status != 200 || res.Err != "" {
		t.Errorf("Result = %+v, want delivered at attempt 3", res)
	}
	if got, want := h.timers.recorded(), []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}; !reflect.DeepEqual(got, want) {
		t.Errorf("retry delays = %v, want %v", got, want)
	}
	reqs := srv.requests()
	for i, r := range reqs {
		if r.header.Get(HeaderDelivery) != reqs[0].header.Get(HeaderDelivery) {
			t.Errorf("attempt %d has delivery id %q, want the first attempt's", i+1, r.header.Get(HeaderDelivery))
		}
	}
}

func TestStatusClassification(t *testing.T) {
	tests := []struct {
		code     int
		attempts int
		reason   string
	}{
		{http.StatusOK, 1, ReasonDelivered},
		{http.StatusAccepted, 1, ReasonDelivered},
		{http.StatusBadRequest, 1, ReasonRejected},
		{http.StatusUnauthorized, 1, ReasonRejected},
		{http.StatusNotFound, 1, ReasonRejected},
		{http.StatusGone, 1, ReasonRejected},
		{http.StatusFound, 1, ReasonRejected},
		{http.StatusRequestTimeout, 3, ReasonExhausted},
		{http.StatusTooManyRequests, 3, ReasonExhausted},
		{http.StatusInternalServerError, 3, ReasonExhausted},
		{http.StatusBadGateway, 3, ReasonExhausted},
		{http.StatusServiceUnavailable, 3, ReasonExhausted},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tt.code == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.code)
			})
			h := newHarness(t, Config{MaxAttempts: 3}, nil)
			if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_01")); err != nil {
				t.Fatal(err)
			}
			res := h.results.next(t)
			if res.Attempts != tt.attempts || res.Reason != tt.reason || res.Status != tt.code {
				t.Errorf("Result = %+v, want %d attempts, reason %s, status %d", res, tt.attempts, tt.reason, tt.code)
			}
			if n := len(srv.requests()); n != tt.attempts {
				t.Errorf("receiver got %d requests, want %d", n, tt.attempts)
			}
			if want := tt.attempts - 1; len(h.timers.recorded()) != want {
				t.Errorf("retries scheduled = %v, want %d", h.timers.recorded(), want)
			}
			if !res.Delivered && !strings.Contains(res.Err, strconv.Itoa(tt.code)) {
				t.Errorf("Result.Err = %q, want the status", res.Err)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"date", testNow.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second},
		{"capped", "3600", 30 * time.Second},
		{"zero keeps the backoff", "0", time.Millisecond},
		{"past date keeps the backoff", testNow.Add(-time.Hour).Format(http.TimeFormat), time.Millisecond},
		{"garbage keeps the backoff", "soon", time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", tt.value)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			h := newHarness(t, Config{MaxRetryAfter: 30 * time.Second}, nil)
			if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_01")); err != nil {
				t.Fatal(err)
			}
			if res := h.results.next(t); !res.Delivered || res.Attempts != 2 {
				t.Fatalf("Result = %+v, want delivered at attempt 2", res)
			}
			if got := h.timers.recorded(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("retry delays = %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestDelaySchedule(t *testing.T) {
	d := &Dispatcher{cfg: Config{BaseDelay: time.Second, MaxDelay: 10 * time.Second, MaxRetryAfter: time.Minute, Jitter: func() float64 { return 0 }}}
	var got []time.Duration
	for a := 1; a <= 6; a++ {
		got = append(got, d.delay(a, 0))
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("delays = %v, want %v", got, want)
	}
	d.cfg.Jitter = func() float64 { return 0.5 }
	if got := d.delay(2, 0); got != 1800*time.Millisecond {
		t.Errorf("delay(2) with jitter 0.5 = %s, want 1.8s", got)
	}
	if got := d.delay(1, 5*time.Minute); got != time.Minute {
		t.Errorf("delay(1, Retry-After 5m) = %s, want the 1m cap", got)
	}
	d.cfg.Jitter = func() float64 { return 0 }
	if got := d.delay(100, 0); got != 10*time.Second {
		t.Errorf("delay(100) = %s, want the 10s cap", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"99999999999999999999999", 999999999 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{testNow.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{testNow.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.v, testNow)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v, want %s, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestQueueFullReportedNotBlocking(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	h := newHarness(t, Config{Workers: 1, QueueSize: 2}, nil)
	rs := []Receiver{webhook("a", srv.URL), webhook("b", srv.URL), webhook("c", srv.URL)}

	// The first delivery holds the only worker; the second waits in the
	// queue; the third finds it full. Send returns without waiting for any.
	err := h.d.Send(t.Context(), rs, testMessage("apr_01"))
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send() = %v, want ErrQueueFull", err)
	}
	res := h.results.next(t)
	if res.Receiver != "c" || res.Delivered || res.Reason != ReasonQueueFull || res.Attempts != 0 || res.Err != ErrQueueFull.Error() {
		t.Errorf("Result = %+v, want c refused as queue full", res)
	}
	srv.hit(t) // a is being delivered, and blocked.
	if err := h.d.Send(t.Context(), rs[:1], testMessage("apr_02")); !errors.Is(err, ErrQueueFull) {
		t.Errorf("Send(while full) = %v, want ErrQueueFull", err)
	}
	if res := h.results.next(t); res.MessageID != "apr_02" || res.Reason != ReasonQueueFull {
		t.Errorf("Result = %+v, want apr_02 refused as queue full", res)
	}

	release <- struct{}{}
	release <- struct{}{}
	got := map[string]bool{}
	for range 2 {
		res := h.results.next(t)
		got[res.Receiver] = res.Delivered
	}
	if !got["a"] || !got["b"] {
		t.Errorf("delivered = %v, want a and b", got)
	}
}

func TestCloseDrains(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			// The first request fails, to leave a retry waiting.
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	tm := newTimers(false)
	h := newHarness(t, Config{Workers: 2}, tm)
	if err := h.d.Send(t.Context(), []Receiver{webhook("retry", srv.URL)}, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	tm.waitSet(t)
	if err := h.d.Send(t.Context(), []Receiver{webhook("a", srv.URL), webhook("b", srv.URL)}, testMessage("apr_02")); err != nil {
		t.Fatal(err)
	}
	srv.hit(t)
	srv.hit(t)
	srv.hit(t) // a and b are in flight, and blocked

	closed := make(chan error, 1)
	go func() { closed <- h.d.Close(context.Background()) }()
	// Close waits for deliveries in flight and for the waiting retry.
	close(release)
	tm.fire()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close() = %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Close did not return")
	}
	got := map[string]Result{}
	for _, res := range h.results.list() {
		got[res.Receiver] = res
	}
	if len(got) != 3 || !got["a"].Delivered || !got["b"].Delivered || !got["retry"].Delivered || got["retry"].Attempts != 2 {
		t.Errorf("results after Close = %+v, want a, b and retry (2 attempts) delivered", got)
	}
	if err := h.d.Send(t.Context(), []Receiver{webhook("a", srv.URL)}, testMessage("apr_03")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send(after Close) = %v, want ErrClosed", err)
	}
	checkNoGoroutines(t)
}

func TestCloseAbandons(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		<-r.Context().Done() // never answers
	})
	tm := newTimers(false)
	h := newHarness(t, Config{Workers: 1}, tm)
	// "waiting" fails once and waits for a retry that never comes.
	if err := h.d.Send(t.Context(), []Receiver{webhook("waiting", srv.URL)}, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	tm.waitSet(t)
	// "inflight" holds the only worker; "queued" waits behind it.
	if err := h.d.Send(t.Context(), []Receiver{webhook("inflight", srv.URL), webhook("queued", srv.URL)}, testMessage("apr_02")); err != nil {
		t.Fatal(err)
	}
	srv.hit(t)
	srv.hit(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.d.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close(cancelled) = %v, want context.Canceled", err)
	}
	got := map[string]Result{}
	for _, res := range h.results.list() {
		got[res.Receiver] = res
	}
	want := map[string]int{"waiting": 1, "inflight": 1, "queued": 0}
	for name, attempts := range want {
		res, ok := got[name]
		if !ok || res.Delivered || res.Reason != ReasonAbandoned || res.Attempts != attempts || !strings.Contains(res.Err, "abandoned") {
			t.Errorf("result of %s = %+v, want abandoned after %d attempts", name, res, attempts)
		}
	}
	if len(got) != len(want) {
		t.Errorf("results = %+v, want one per delivery", got)
	}
	tm.mu.Lock()
	stopped := tm.stopped
	tm.mu.Unlock()
	if stopped != 1 {
		t.Errorf("timers stopped = %d, want the waiting retry's", stopped)
	}
	checkNoGoroutines(t)
	// The harness closes again at cleanup: Close is idempotent.
}

func TestSendSkipsAndRefuses(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	h := newHarness(t, Config{}, nil)
	bad := webhook("bad", srv.URL)
	bad.Secret = "short"
	alertsOnly := webhook("alerts", srv.URL)
	alertsOnly.Events = []string{EventAlertRaised}

	invalid := testMessage("apr_01")
	invalid.Title = ""
	if err := h.d.Send(t.Context(), []Receiver{webhook("ok", srv.URL)}, invalid); !errors.Is(err, ErrInvalid) {
		t.Errorf("Send(invalid message) = %v, want ErrInvalid", err)
	}

	if err := h.d.Send(t.Context(), []Receiver{bad, alertsOnly, webhook("ok", srv.URL)}, testMessage("apr_02")); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	got := map[string]Result{}
	for range 2 {
		res := h.results.next(t)
		got[res.Receiver] = res
	}
	if r := got["bad"]; r.Reason != ReasonInvalid || r.Attempts != 0 || !strings.Contains(r.Err, "secret") || strings.Contains(r.Err, "short") {
		t.Errorf("result of bad = %+v, want invalid, naming the field, not the value", r)
	}
	if !got["ok"].Delivered {
		t.Errorf("result of ok = %+v, want delivered", got["ok"])
	}
	if _, ok := got["alerts"]; ok || len(srv.requests()) != 1 {
		t.Errorf("a receiver not subscribed to %s was notified", EventApprovalRequested)
	}
}

func TestRedirects(t *testing.T) {
	other := newServer(t, status(http.StatusOK))
	redirect := func(code int, to string) func(int, http.ResponseWriter, *http.Request) {
		return func(_ int, w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/final" {
				w.WriteHeader(http.StatusOK)
				return
			}
			http.Redirect(w, r, to, code)
		}
	}
	tests := []struct {
		name      string
		code      int
		to        func(self string) string
		delivered bool
	}{
		{"307 same host", http.StatusTemporaryRedirect, func(string) string { return "/final" }, true},
		{"308 same host", http.StatusPermanentRedirect, func(string) string { return "/final" }, true},
		{"302 same host", http.StatusFound, func(string) string { return "/final" }, false},
		{"307 other host", http.StatusTemporaryRedirect, func(string) string { return other.URL + "/final" }, false},
		{"307 other port", http.StatusTemporaryRedirect, func(self string) string {
			return strings.Replace(self, "127.0.0.1", "localhost", 1) + "/final"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var self string
			srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				redirect(tt.code, tt.to(self))(n, w, r)
			})
			self = srv.URL
			h := newHarness(t, Config{}, nil)
			if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL+"/start")}, testMessage("apr_01")); err != nil {
				t.Fatal(err)
			}
			res := h.results.next(t)
			if res.Delivered != tt.delivered || res.Attempts != 1 {
				t.Fatalf("Result = %+v, want delivered=%v after one attempt", res, tt.delivered)
			}
			if tt.delivered {
				final := srv.requests()[1]
				if final.path != "/final" || Verify(testSecret, final.header.Get(HeaderTimestamp), final.body, final.header.Get(HeaderSignature), testNow, DefaultTolerance) != nil {
					t.Errorf("redirected request to %s does not verify", final.path)
				}
			} else if res.Reason != ReasonRejected {
				t.Errorf("Result.Reason = %s, want rejected", res.Reason)
			}
		})
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other host got %d requests, want 0", n)
	}
}

func TestBlockPrivate(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	h := newHarness(t, Config{BlockPrivate: true}, nil)
	if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	res := h.results.next(t)
	if res.Delivered || res.Reason != ReasonRejected || res.Attempts != 1 || !strings.Contains(res.Err, "not allowed") {
		t.Errorf("Result = %+v, want rejected at once: address not allowed", res)
	}
	if len(srv.requests()) != 0 {
		t.Error("the loopback receiver was reached")
	}
}

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		addr         string
		blockPrivate bool
		ok           bool
	}{
		{"93.184.216.34:443", true, true},
		{"127.0.0.1:80", false, true},
		{"10.1.2.3:443", false, true},
		{"169.254.169.254:80", false, false},
		{"[::ffff:169.254.169.254]:80", false, false},
		{"[fe80::1]:443", false, false},
		{"0.0.0.0:80", false, false},
		{"224.0.0.1:80", false, false},
		{"127.0.0.1:80", true, false},
		{"10.1.2.3:443", true, false},
		{"192.168.1.1:443", true, false},
		{"[fd00:ec2::254]:80", true, false},
		{"100.64.0.1:443", true, false},
		{"not an address", false, false},
	}
	for _, tt := range tests {
		if err := checkAddress(tt.addr, tt.blockPrivate); (err == nil) != tt.ok {
			t.Errorf("checkAddress(%s, blockPrivate=%v) = %v, want ok=%v", tt.addr, tt.blockPrivate, err, tt.ok)
		}
	}
}

func TestHTTPS(t *testing.T) {
	var got request
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.header = r.Header.Clone()
	}))
	defer srv.Close()
	h := newHarness(t, Config{RootCAs: certPool(srv)}, nil)
	if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	if res := h.results.next(t); !res.Delivered {
		t.Fatalf("Result = %+v, want delivered over TLS", res)
	}

	// Without the test CA the certificate does not verify.
	h2 := newHarness(t, Config{MaxAttempts: 1}, nil)
	if err := h2.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_02")); err != nil {
		t.Fatal(err)
	}
	if res := h2.results.next(t); res.Delivered || !strings.Contains(res.Err, "certificate") {
		t.Errorf("Result = %+v, want a certificate failure", res)
	}
}

func TestResponseBodyBounded(t *testing.T) {
	wrote := make(chan int64, 1)
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 32<<10)
		var n int64
		for n < 256<<20 {
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				break
			}
		}
		wrote <- n
	})
	h := newHarness(t, Config{}, nil)
	if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	if res := h.results.next(t); !res.Delivered {
		t.Fatalf("Result = %+v, want delivered", res)
	}
	select {
	case n := <-wrote:
		if n >= 256<<20 {
			t.Errorf("the dispatcher read a %d-byte answer to the end", n)
		}
	case <-time.After(waitLimit):
		t.Fatal("the receiver's write never failed: its answer is being read without bound")
	}
}

func TestAttemptTimeout(t *testing.T) {
	srv := newServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	h := newHarness(t, Config{AttemptTimeout: 50 * time.Millisecond, MaxAttempts: 2}, nil)
	if err := h.d.Send(t.Context(), []Receiver{webhook("ops", srv.URL)}, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	res := h.results.next(t)
	if res.Delivered || res.Reason != ReasonExhausted || res.Attempts != 2 || !strings.Contains(res.Err, "no answer within 50ms") {
		t.Errorf("Result = %+v, want exhausted after 2 timed-out attempts", res)
	}
}

// TestNoSecretsShown fails deliveries every way there is and searches every
// Result and log line for the credentials.
func TestNoSecretsShown(t *testing.T) {
	const queryToken, slackToken = "qtok-SENSITIVE-1", "slack-SENSITIVE-2"
	failing := newServer(t, status(http.StatusInternalServerError))
	refusing := newServer(t, status(http.StatusForbidden))
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	h := newHarness(t, Config{MaxAttempts: 2, QueueSize: 8}, nil)
	short := webhook("short", failing.URL)
	short.Secret = testSecret[:20]
	rs := []Receiver{
		webhook("exhausted", failing.URL+"/hook?token="+queryToken),
		webhook("rejected", refusing.URL+"/hook?token="+queryToken),
		webhook("unreachable", closed.URL+"/hook?token="+queryToken),
		{Name: "slack-unreachable", Kind: KindSlack, URL: closed.URL + "/services/T0/B0/" + slackToken},
		{Name: "slack-failing", Kind: KindSlack, URL: failing.URL + "/services/T0/B0/" + slackToken},
		{Name: "am-failing", Kind: KindAlertmanager, URL: failing.URL + "/hook?token=" + queryToken, Secret: testSecret},
		{Name: "am-unreachable", Kind: KindAlertmanager, URL: closed.URL + "/hook?token=" + queryToken},
		short,
	}
	if err := h.d.Send(t.Context(), rs, testMessage("apr_01")); err != nil {
		t.Fatal(err)
	}
	for range rs {
		h.results.next(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := h.d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, res := range h.results.list() {
		if res.Delivered || res.Err == "" {
			t.Errorf("Result = %+v, want a failure with an error", res)
		}
		js, _ := json.Marshal(res)
		for _, s := range []string{testSecret, testSecret[:20], queryToken, slackToken, "/hook", "/services"} {
			if strings.Contains(string(js), s) || strings.Contains(fmt.Sprint(res), s) {
				t.Errorf("Result %s shows %q", js, s)
			}
		}
	}
	logs := h.logs.String()
	for _, s := range []string{testSecret, testSecret[:20], queryToken, slackToken} {
		if strings.Contains(logs, s) {
			t.Errorf("logs show %q:\n%s", s, logs)
		}
	}
}

func TestConcurrentSends(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	const senders, each = 8, 25
	h := newHarness(t, Config{QueueSize: 2 * senders * each}, nil)
	rs := []Receiver{webhook("a", srv.URL), {Name: "b", Kind: KindSlack, URL: srv.URL}}
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				if err := h.d.Send(context.Background(), rs, testMessage(fmt.Sprintf("m-%d-%d", s, i))); err != nil {
					t.Errorf("Send() = %v", err)
				}
			}
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for range senders * each * len(rs) {
		res := h.results.next(t)
		if !res.Delivered {
			t.Errorf("Result = %+v, want delivered", res)
		}
		ids[res.Delivery] = true
	}
	if len(ids) != senders*each*len(rs) {
		t.Errorf("%d distinct delivery ids, want %d", len(ids), senders*each*len(rs))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero takes defaults", Config{}, true},
		{"negative workers", Config{Workers: -1}, false},
		{"too many attempts", Config{MaxAttempts: 21}, false},
		{"negative delay", Config{BaseDelay: -time.Second}, false},
		{"max below base", Config{BaseDelay: time.Minute, MaxDelay: time.Second}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.cfg; c.Workers != DefaultWorkers || c.QueueSize != DefaultQueueSize || c.MaxAttempts != DefaultMaxAttempts ||
		c.BaseDelay != DefaultBaseDelay || c.MaxDelay != DefaultMaxDelay || c.AttemptTimeout != DefaultAttemptTimeout {
		t.Errorf("New(Config{}) config = %+v, want the defaults", c)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Errorf("Close() = %v", err)
	}
	checkNoGoroutines(t)
}
