package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxDrain is the most of a response body read, so that a connection can
// be reused without letting a receiver make Warden read without end.
const maxDrain = 4 << 10

const userAgent = "warden-notify/1"

func (d *Dispatcher) work() {
	for {
		select {
		case <-d.stop:
			return
		case dl := <-d.queue:
			d.handle(dl)
		}
	}
}

// handle makes one attempt of dl and finishes it or schedules its retry.
func (d *Dispatcher) handle(dl *delivery) {
	if d.ctx.Err() != nil {
		dl.err = "abandoned at shutdown before attempt " + strconv.Itoa(dl.attempts+1) + lastErr(dl.err)
		d.finish(dl, ReasonAbandoned)
		return
	}
	dl.attempts++
	out := d.attempt(dl)
	dl.status, dl.err = out.status, scrub(out.err, dl.r)
	switch {
	case out.delivered:
		d.finish(dl, ReasonDelivered)
	case d.ctx.Err() != nil:
		dl.err = "abandoned at shutdown during attempt " + strconv.Itoa(dl.attempts) + lastErr(dl.err)
		d.finish(dl, ReasonAbandoned)
	case !out.retry:
		d.finish(dl, ReasonRejected)
	case dl.attempts >= d.cfg.MaxAttempts:
		d.finish(dl, ReasonExhausted)
	default:
		wait := d.delay(dl.attempts, out.retryAfter)
		d.log.LogAttrs(d.ctx, slog.LevelInfo, "notify attempt failed, will retry",
			slog.String("receiver", dl.r.Name), slog.String("tenant", dl.m.Tenant),
			slog.String("message", dl.m.ID), slog.String("delivery", dl.id),
			slog.Int("attempt", dl.attempts), slog.Int("status", dl.status),
			slog.String("error", dl.err), slog.Duration("retry_in", wait))
		d.later(dl, wait)
	}
}

func lastErr(s string) string {
	if s == "" {
		return ""
	}
	return "; last error: " + s
}

// retry is a delivery waiting for its next attempt. It belongs to whoever
// removes it from Dispatcher.waiting: the timer that fires or Close.
type retry struct {
	dl    *delivery
	stop  func() bool
	fired bool
}

// later queues dl again after wait, without holding a worker meanwhile.
func (d *Dispatcher) later(dl *delivery, wait time.Duration) {
	rt := &retry{dl: dl}
	d.mu.Lock()
	if d.abandoned {
		d.mu.Unlock()
		dl.err = "abandoned at shutdown before retry " + strconv.Itoa(dl.attempts+1) + lastErr(dl.err)
		d.finish(dl, ReasonAbandoned)
		return
	}
	d.waiting[rt] = struct{}{}
	d.mu.Unlock()

	stop := d.cfg.AfterFunc(wait, func() { d.fire(rt) })

	d.mu.Lock()
	_, pending := d.waiting[rt]
	if pending {
		rt.stop = stop
	}
	fired := rt.fired
	d.mu.Unlock()
	if !pending && !fired {
		// Close took it before its timer was set: no timer may outlive Close.
		stop()
	}
}

func (d *Dispatcher) fire(rt *retry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.waiting[rt]; !ok {
		return
	}
	delete(d.waiting, rt)
	rt.fired = true
	// Never blocks: the queue has room for every outstanding delivery.
	d.queue <- rt.dl
}

// delay is the wait before retry number attempt (1 after the first
// attempt): exponential, capped, with jitter, and at least what the
// receiver asked for in Retry-After, up to MaxRetryAfter.
func (d *Dispatcher) delay(attempt int, retryAfter time.Duration) time.Duration {
	wait := d.cfg.BaseDelay
	for i := 1; i < attempt && wait < d.cfg.MaxDelay; i++ {
		wait *= 2
	}
	wait = min(wait, d.cfg.MaxDelay)
	wait -= time.Duration(float64(wait) * jitterFraction * d.cfg.Jitter())
	if retryAfter > 0 {
		wait = max(wait, min(retryAfter, d.cfg.MaxRetryAfter))
	}
	return wait
}

// outcome is what one attempt came to.
type outcome struct {
	delivered  bool
	retry      bool
	status     int
	retryAfter time.Duration
	err        string
}

// attempt POSTs dl once. Its error text is built here, from parts that
// hold no URL; handle scrubs it once more.
func (d *Dispatcher) attempt(dl *delivery) outcome {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.r.URL, bytes.NewReader(dl.body))
	if err != nil {
		return outcome{err: "cannot build the request"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderEvent, dl.m.Kind)
	req.Header.Set(HeaderDelivery, dl.id)
	// Validate let a secret through only for the kinds that sign: always
	// for webhooks, when one is set for Alertmanager receivers.
	if dl.r.Secret != "" {
		ts := strconv.FormatInt(d.cfg.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(dl.r.Secret, ts, dl.body))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return classifyError(err, d.cfg.AttemptTimeout)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return classifyStatus(resp, d.cfg.Now())
}

// classifyStatus: 2xx is delivered; 408, 429 and 5xx are worth a retry;
// anything else (a 4xx, or a redirect not followed) will fail again.
func classifyStatus(resp *http.Response, now time.Time) outcome {
	code := resp.StatusCode
	out := outcome{status: code}
	switch {
	case code >= 200 && code < 300:
		out.delivered = true
		return out
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		out.retry = true
		out.retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), now)
		out.err = fmt.Sprintf("receiver answered %d", code)
	case code >= 300 && code < 400:
		out.err = fmt.Sprintf("receiver answered %d; redirects are followed only to the same host with 307 or 308", code)
	default:
		out.err = fmt.Sprintf("receiver answered %d", code)
	}
	return out
}

// classifyError describes a failed round trip without the URL that
// *url.Error carries. Network failures and timeouts are worth a retry; a
// refused address is not.
func classifyError(err error, timeout time.Duration) outcome {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, errAddressRefused):
		return outcome{err: errAddressRefused.Error()}
	case errors.Is(err, context.Canceled):
		return outcome{retry: true, err: "cancelled"}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return outcome{retry: true, err: fmt.Sprintf("no answer within %s", timeout)}
	}
	return outcome{retry: true, err: err.Error()}
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110, section 10.2.3). A date in the past is no delay.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.TrimLeft(v, "0123456789") == "" {
		if len(v) > 9 { // beyond 30 years; any cap is below it
			v = "999999999"
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, t.Sub(now)), true
}

// scrub removes r's credentials from s: its secret, its URL and the parts
// of it that may be secret (query, and for Slack the path). Error texts are
// built without them; this is the second line.
func scrub(s string, r Receiver) string {
	if s == "" {
		return s
	}
	var olds []string
	if r.Secret != "" {
		olds = append(olds, r.Secret)
	}
	if r.URL != "" {
		olds = append(olds, r.URL)
	}
	if u, err := url.Parse(r.URL); err == nil {
		olds = append(olds, u.RawQuery)
		if q, err := url.QueryUnescape(u.RawQuery); err == nil {
			olds = append(olds, q)
		}
		if r.Kind == KindSlack && len(u.Path) > 1 {
			olds = append(olds, u.Path, u.EscapedPath())
		}
	}
	for _, o := range olds {
		if len(o) > 0 {
			s = strings.ReplaceAll(s, o, RedactedSecret)
		}
	}
	return s
}
