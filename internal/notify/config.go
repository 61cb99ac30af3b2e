package notify

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
)

// Defaults of a Dispatcher. With them a delivery is tried at most six
// times over about half a minute: 1 s, 2 s, 4 s, 8 s and 16 s apart, less
// jitter, each attempt limited to 10 s.
const (
	DefaultWorkers        = 4
	DefaultQueueSize      = 1024
	DefaultMaxAttempts    = 6
	DefaultBaseDelay      = time.Second
	DefaultMaxDelay       = 30 * time.Second
	DefaultMaxRetryAfter  = time.Minute
	DefaultAttemptTimeout = 10 * time.Second
)

// Upper bounds of a Config.
const (
	maxWorkers     = 256
	maxQueueSize   = 1 << 20
	maxMaxAttempts = 20
)

// jitterFraction is the most a retry's delay is shortened at random, so
// that deliveries failed by one outage do not come back all at once.
const jitterFraction = 0.2

// Config configures a Dispatcher. Zero fields take the Default* values.
type Config struct {
	// Workers is how many deliveries are attempted at once.
	Workers int
	// QueueSize bounds the deliveries not yet finished: queued, being
	// attempted or waiting to be retried. Send refuses deliveries beyond it.
	QueueSize int
	// MaxAttempts is the most attempts of one delivery, the first included.
	MaxAttempts int
	// BaseDelay is the wait before the first retry; each further retry
	// waits twice as long, up to MaxDelay, less up to a fifth of jitter.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter caps how long a receiver's Retry-After may make a
	// retry wait.
	MaxRetryAfter time.Duration
	// AttemptTimeout limits one attempt, response headers included.
	AttemptTimeout time.Duration
	// BlockPrivate refuses connections to loopback, private (RFC 1918,
	// unique local) and shared addresses, for installations whose tenant
	// admins must not reach the internal network. Link-local addresses
	// (cloud metadata services) are always refused.
	BlockPrivate bool
	// RootCAs verifies receivers' TLS certificates; nil means the system
	// roots.
	RootCAs *x509.CertPool

	// OnResult receives the outcome of every delivery, one call at a
	// time, in the dispatcher's own goroutine. It MUST return (it may call
	// Send, never Close). Nil means outcomes are only logged.
	OnResult func(Result)
	// Logger logs failed attempts and deliveries; nil means slog.Default().
	Logger *slog.Logger

	// Now reads the clock (default time.Now).
	Now func() time.Time
	// NewID returns a unique delivery id (default "dlv_" and a ULID).
	NewID func() string
	// Jitter returns a number in [0, 1) (default math/rand/v2). Tests pass
	// a constant.
	Jitter func() float64
	// AfterFunc calls f in its own goroutine after d, and returns a
	// function that stops it (default time.AfterFunc). Tests pass one
	// that records d and calls f at once.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("notify config: "+format, args...)
	}
	switch {
	case c.Workers < 0 || c.Workers > maxWorkers:
		return bad("workers must be from 1 to %d", maxWorkers)
	case c.QueueSize < 0 || c.QueueSize > maxQueueSize:
		return bad("queue size must be from 1 to %d", maxQueueSize)
	case c.MaxAttempts < 0 || c.MaxAttempts > maxMaxAttempts:
		return bad("max attempts must be from 1 to %d", maxMaxAttempts)
	case c.BaseDelay < 0 || c.MaxDelay < 0 || c.MaxRetryAfter < 0 || c.AttemptTimeout < 0:
		return bad("durations must not be negative")
	case c.MaxDelay != 0 && c.MaxDelay < c.BaseDelay:
		return bad("max delay %s is below base delay %s", c.MaxDelay, c.BaseDelay)
	}
	return nil
}

func (c Config) withDefaults() Config {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	set(&c.Workers, DefaultWorkers)
	set(&c.QueueSize, DefaultQueueSize)
	set(&c.MaxAttempts, DefaultMaxAttempts)
	setD(&c.BaseDelay, DefaultBaseDelay)
	setD(&c.MaxDelay, max(DefaultMaxDelay, c.BaseDelay))
	setD(&c.MaxRetryAfter, DefaultMaxRetryAfter)
	setD(&c.AttemptTimeout, DefaultAttemptTimeout)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewID == nil {
		ids := ledger.NewIDs(c.Now, rand.Reader)
		c.NewID = func() string { return ids.New("dlv") }
	}
	if c.Jitter == nil {
		c.Jitter = mrand.Float64
	}
	if c.AfterFunc == nil {
		c.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return c
}
