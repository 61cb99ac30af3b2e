package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/evidence"
	"github.com/wardenhq/warden/internal/evidencesrc"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/limits"
	"github.com/wardenhq/warden/internal/notify"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/retention"
	"github.com/wardenhq/warden/internal/scan/detect"
	"github.com/wardenhq/warden/internal/scan/pii"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/watch"
	"golang.org/x/mod/sumdb/note"
)

// Defaults of warden serve.
const (
	DefaultListen          = "127.0.0.1:8470"
	DefaultDataDir         = "./warden-data"
	DefaultOrigin          = "warden"
	DefaultShutdownTimeout = 30 * time.Second
	dbFile                 = "warden.db" // the SQLite database in the data directory
	keyFile                = "signing.key"
	pubFile                = "log.pub"
	// DefaultRateLimit and DefaultRateBurst bound each key per replica:
	// far above what one agent needs, low enough that a leaked or looping
	// key cannot take the server's capacity alone.
	DefaultRateLimit = 1000
	DefaultRateBurst = 2000
	// DefaultAppendLinger lets a busy log gather a few more entries into
	// each commit (bench/README.md, "POST /v1/evaluate over HTTP").
	DefaultAppendLinger = time.Millisecond
	// serveGCPercent is the garbage collector's target in warden serve
	// unless GOGC is set: the live heap is small (tens of MB) and every
	// decision allocates, so at Go's default of 100 a collection ran
	// several times a second and its marking showed in the p99 of
	// POST /v1/evaluate (bench/README.md). The heap may grow to about five
	// times the live data instead of twice; GOMEMLIMIT still caps it.
	serveGCPercent = 400
)

type serveConfig struct {
	Listen     string
	DataDir    string
	Database   string
	SigningKey string
	Origin     string
	TLSCert    string
	TLSKey     string
	LogLevel   string
	LogFormat  string
	// Migrate migrates a PostgreSQL schema before serving (SQLite always
	// migrates itself).
	Migrate      bool
	PoolMaxConns int32
	// KeysFile, if set, receives the bootstrap keys instead of stdout
	// (for services whose stdout goes to a log).
	KeysFile string
	// PhoneRegion is the scanner's default region for phone numbers.
	PhoneRegion string
	// RateLimit and RateBurst bound each key's requests per second.
	RateLimit float64
	RateBurst int
	// Monitor runs the monitor job; MonitorHeartbeat, MonitorPoll and
	// MonitorBucket tune it (the bucket only for tests).
	Monitor          bool
	MonitorHeartbeat time.Duration
	MonitorPoll      time.Duration
	MonitorVerify    time.Duration
	MonitorBucket    time.Duration
	// NotifyAttempts and NotifyRetryDelay shape the retries of a
	// notification that a receiver refuses.
	NotifyAttempts   int
	NotifyRetryDelay time.Duration
	// RetentionInterval is the time between two runs of the retention job.
	RetentionInterval time.Duration
	// AppendLinger is how long a ledger batch waits for more entries
	// under load (ledger.Config.Linger).
	AppendLinger time.Duration
}

func (c *serveConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: %w", c.Listen, err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if err := (pii.Options{DefaultRegion: c.PhoneRegion}).Validate(); err != nil {
		return fmt.Errorf("--phone-region %q: %w", c.PhoneRegion, err)
	}
	if postgres.IsURL(c.Database) && c.SigningKey == "" {
		return errors.New("--signing-key is required with PostgreSQL: every replica must sign with the same key; " +
			"create one with 'warden keygen --out FILE' and pass --signing-key FILE to each replica")
	}
	if c.PoolMaxConns < 0 {
		return errors.New("--pool-max-conns must not be negative")
	}
	if c.Origin == "" || strings.ContainsAny(c.Origin, " \n+") {
		return fmt.Errorf("--origin %q: must be non-empty, without spaces or '+'", c.Origin)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	if c.AppendLinger < 0 || c.AppendLinger > 100*time.Millisecond {
		return errors.New("--append-linger must be from 0 to 100ms")
	}
	if c.RateLimit < 0 || c.RateBurst < 0 {
		return errors.New("--rate-limit and --rate-burst must not be negative")
	}
	if c.MonitorHeartbeat < time.Second || c.MonitorPoll < 10*time.Millisecond || c.MonitorVerify < time.Second {
		return errors.New("--monitor-heartbeat and --monitor-verify must be at least 1s, --monitor-poll at least 10ms")
	}
	if c.NotifyAttempts < 1 || c.NotifyAttempts > 20 || c.NotifyRetryDelay < 10*time.Millisecond || c.NotifyRetryDelay > time.Hour {
		return errors.New("--notify-attempts must be from 1 to 20 and --notify-retry-delay from 10ms to 1h")
	}
	if c.RetentionInterval < time.Second {
		return errors.New("--retention-interval must be at least 1s")
	}
	if c.MonitorBucket != 0 && (c.MonitorBucket < time.Second || c.MonitorBucket%time.Second != 0) {
		return errors.New("--monitor-bucket must be a whole number of seconds")
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func newServeCmd() *cobra.Command {
	c := &serveConfig{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Warden server",
		Long: `Run the Warden server. With no flags it keeps everything in ./warden-data:
an SQLite database, the checkpoint signing key (signing.key, mode 0600) and its
verifier key (log.pub). On first start it creates the tenant 'default' with an
admin key and an installation owner key, and prints both keys once.

With --database postgres://... several replicas share one database: run
'warden migrate --database ...' first (or pass --migrate), and give every
replica the same --signing-key file from 'warden keygen'. One replica at a
time signs checkpoints; it is replaced within seconds if it dies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.Validate(); err != nil {
				return &exitError{exitUsage, err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, c, cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Flags().Changed("origin"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Listen, "listen", DefaultListen, "address to listen on")
	f.StringVar(&c.DataDir, "data-dir", envOr("WARDEN_DATA_DIR", DefaultDataDir), "data directory (env WARDEN_DATA_DIR)")
	f.StringVar(&c.Database, "database", envOr("WARDEN_DATABASE", ""), "SQLite database file (default <data-dir>/warden.db) or a postgres:// URL for several replicas (env WARDEN_DATABASE)")
	f.BoolVar(&c.Migrate, "migrate", false, "PostgreSQL: migrate the schema before serving (like 'warden migrate')")
	f.StringVar(&c.KeysFile, "bootstrap-keys-file", "", "write the keys made on first start to this new file (mode 0600) instead of standard output")
	f.Int32Var(&c.PoolMaxConns, "pool-max-conns", 0, "PostgreSQL: connection pool size (default 16; pool_max_conns in the URL wins)")
	f.StringVar(&c.SigningKey, "signing-key", "", "checkpoint signing key file from 'warden keygen' (default <data-dir>/signing.key, generated on first start)")
	f.StringVar(&c.Origin, "origin", DefaultOrigin, "log origin, fixed at first start; checkpoints carry <origin>/<tenant>")
	f.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (serve HTTPS)")
	f.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file")
	f.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&c.PhoneRegion, "phone-region", detect.DefaultPhoneRegion, "region of phone numbers written without a country code (scanning)")
	f.Float64Var(&c.RateLimit, "rate-limit", DefaultRateLimit, "requests per second each API key may make to this replica (0: unlimited); more answer 429 with Retry-After")
	f.IntVar(&c.RateBurst, "rate-burst", DefaultRateBurst, "requests above --rate-limit a key may make in a burst")
	f.BoolVar(&c.Monitor, "monitor", true, "run the monitor (one replica at a time): baselines, alerts, heartbeats, log re-verification")
	f.DurationVar(&c.MonitorHeartbeat, "monitor-heartbeat", watch.DefaultHeartbeat, "how often the monitor writes a monitor.heartbeat entry per tenant (it also closes quiet buckets)")
	f.DurationVar(&c.MonitorPoll, "monitor-poll", watch.DefaultPoll, "how often the monitor reads new entries")
	f.DurationVar(&c.MonitorVerify, "monitor-verify", watch.DefaultVerify, "how often the monitor re-verifies each log (incrementally)")
	f.DurationVar(&c.MonitorBucket, "monitor-bucket", 0, "the monitor's bucket length (default one minute; for tests)")
	_ = f.MarkHidden("monitor-bucket")
	f.DurationVar(&c.AppendLinger, "append-linger", DefaultAppendLinger, "under load, how long a batch of log entries waits for more before its commit (0: never); fewer, larger commits for that much latency")
	f.IntVar(&c.NotifyAttempts, "notify-attempts", notify.DefaultMaxAttempts, "attempts of a notification a receiver refuses (the first included); the result is recorded in the log")
	f.DurationVar(&c.RetentionInterval, "retention-interval", retention.DefaultInterval, "how often the retention job (one replica at a time) prunes the data of entries older than each tenant's retention_days, unless legal_hold is set")
	f.DurationVar(&c.NotifyRetryDelay, "notify-retry-delay", notify.DefaultBaseDelay, "wait before the first retry of a notification; each further retry waits twice as long")
	return cmd
}

// serve runs the server until ctx ends, then drains it: HTTP first, then
// the appenders (every queued entry is committed), then final checkpoints.
func serve(ctx context.Context, c *serveConfig, stdout, stderr io.Writer, originSet bool) error {
	logger, err := newLogger(stderr, c.LogLevel, c.LogFormat)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if !postgres.IsURL(c.Database) {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return fmt.Errorf("create data directory %q: %w", c.DataDir, err)
		}
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	b, err := openBackend(ctx, c, logger)
	if err != nil {
		return err
	}
	defer b.close()
	db := b.store

	origin, err := db.SetMetaOnce(ctx, "origin", c.Origin)
	if err != nil {
		return err
	}
	if originSet && origin != c.Origin {
		return &exitError{exitUsage, fmt.Errorf("--origin %q: this installation's origin is %q and cannot change", c.Origin, origin)}
	}

	// The installation remembers the key it signs with: a missing or
	// different key file must not silently start a second key history.
	known, err := b.store.Meta(ctx, "verifier_key")
	if err != nil {
		return err
	}
	keyPath := c.SigningKey
	var key *signingKey
	if keyPath == "" {
		keyPath = filepath.Join(c.DataDir, keyFile)
		if _, statErr := os.Stat(keyPath); known != "" && errors.Is(statErr, fs.ErrNotExist) {
			return &exitError{exitUsage, fmt.Errorf("signing key %s is missing, but this installation signs with %s: "+
				"restore the key file or pass --signing-key", keyPath, known)}
		}
		var generated bool
		if key, generated, err = ensureSigningKey(keyPath, origin); err != nil {
			return err
		}
		if generated {
			logger.Warn("generated a checkpoint signing key in the data directory; in production keep it elsewhere (warden keygen, --signing-key)", "path", keyPath)
		}
	} else if key, err = loadSigningKey(keyPath); err != nil {
		return &exitError{exitUsage, err}
	}
	if known, err = db.SetMetaOnce(ctx, "verifier_key", key.verifier); err != nil {
		return err
	}
	keyHist, err := keyHistory(ctx, db)
	if err != nil {
		return err
	}
	if known != key.verifier {
		if slices.Contains(keyHist, key.verifier) {
			return &exitError{exitUsage, fmt.Errorf("signing key %s was retired by 'warden log rotate-key': this installation signs with %s now; pass its file with --signing-key", keyPath, known)}
		}
		return &exitError{exitUsage, fmt.Errorf("signing key %s is not this installation's key (%s); to change keys, stop the server and run 'warden log rotate-key --new-key FILE'", keyPath, known)}
	}
	if !b.postgres {
		// The whole key history, oldest first: what verifiers trust.
		if err := os.WriteFile(filepath.Join(c.DataDir, pubFile), []byte(strings.Join(keyHist, "\n")+"\n"), 0o644); err != nil {
			return fmt.Errorf("write verifier key: %w", err)
		}
	}

	metrics := api.NewMetrics(prometheus.NewRegistry())
	notifier := newCommitNotifier(b.feed, logger)
	lcfg := ledger.Config{Origin: origin, Signer: key.signer, Logger: logger, Observe: metrics.ObserveBatch, Linger: c.AppendLinger}
	if b.postgres {
		// The signer may run in another replica: tell it through the feed.
		lcfg.OnCommit = notifier.committed
	}
	l, err := ledger.New(db, lcfg)
	if err != nil {
		return err
	}
	bgCtx, stopBackground := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); runSigner(bgCtx, b, l, logger) }()
	go func() { defer bg.Done(); notifier.run(bgCtx) }()
	defer func() { stopBackground(); bg.Wait() }()

	made, err := access.Bootstrap(ctx, l, db, rand.Reader, time.Now)
	if err != nil {
		_ = l.Close(context.Background())
		return fmt.Errorf("first start: %w", err)
	}
	if err := showNewKeys(c.KeysFile, stdout, made); err != nil {
		_ = l.Close(context.Background())
		return err
	}
	policies := &policy.Manager{Ledger: l, Store: db, Required: func(ctx context.Context, tenant string) (int, error) {
		t, err := db.Tenant(ctx, tenant)
		if err != nil {
			return 0, err
		}
		return t.Settings.PolicyApprovals, nil
	}}
	// A new tenant starts with the built-in default policy (default deny).
	if err := policies.EnsureActive(ctx, access.DefaultTenant, event.ActorSystem, policy.BuiltinDefault()); err != nil {
		_ = l.Close(context.Background())
		return fmt.Errorf("first start: default policy: %w", err)
	}
	scanner, err := newScanner(c.PhoneRegion)
	if err != nil {
		_ = l.Close(context.Background())
		return err
	}
	decisions := &gate.Gate{Policies: gate.CurrentFunc(policies.Current), Ledger: l, IDs: ledger.NewIDs(time.Now, rand.Reader),
		Scanner: &gate.Content{Scanner: scanner, Secret: key.redaction}, Limits: limits.Counter{},
		Candidates: gate.CurrentFunc(policies.Candidate)}

	keys := &access.Service{Ledger: l, Store: db, Rand: rand.Reader, Clock: time.Now, Receivers: notify.SettingsRules{}}
	notices := &notify.Notifier{Ledger: l, Logger: logger, Receivers: func(ctx context.Context, tenant string) ([]notify.Receiver, error) {
		st, err := keys.Settings(ctx, tenant)
		if err != nil {
			return nil, err
		}
		return notify.Decode(st.Receivers)
	}}
	dispatcher, err := notify.New(notify.Config{OnResult: notices.Record, Logger: logger,
		MaxAttempts: c.NotifyAttempts, BaseDelay: c.NotifyRetryDelay, MaxDelay: max(notify.DefaultMaxDelay, c.NotifyRetryDelay)})
	if err != nil {
		_ = l.Close(context.Background())
		return err
	}
	notices.Dispatcher = dispatcher
	approvals := &approval.Service{Ledger: l, Store: db, Key: key.authorization, IDs: ledger.NewIDs(time.Now, rand.Reader),
		Current: currentPolicy(policies),
		Defaults: func(ctx context.Context, tenant string) (*policy.Approval, error) {
			st, err := keys.Settings(ctx, tenant)
			if err != nil {
				return nil, err
			}
			return &st.DefaultApproval, nil
		},
		OnOpen: notices.ApprovalOpened}
	decisions.Approvals = approvals
	kill := &controls.Service{Ledger: l, Store: db, IDs: ledger.NewIDs(time.Now, rand.Reader)}
	decisions.Controls = gate.ControlsOf{Service: kill}
	keys.Routes = alerting.SettingsRoutes{}
	alerts := &alerting.Service{Ledger: l, Store: db, Controls: kill, Sender: dispatcher, IDs: ledger.NewIDs(time.Now, rand.Reader),
		Logger: logger, Routing: func(ctx context.Context, tenant string) (json.RawMessage, []notify.Receiver, error) {
			st, err := keys.Settings(ctx, tenant)
			if err != nil {
				return nil, nil, err
			}
			rs, err := notify.Decode(st.Receivers)
			return st.AlertRoutes, rs, err
		}}
	var keyVerifiers []note.Verifier
	for _, k := range keyHist {
		v, err := note.NewVerifier(k)
		if err != nil {
			_ = l.Close(context.Background())
			return fmt.Errorf("key history: %w", err)
		}
		keyVerifiers = append(keyVerifiers, v)
	}
	exporter := &evidence.Exporter{Log: db, Origin: origin, Signer: key.signer, Keys: keyVerifiers, Sign: l.Checkpointer().Sign,
		Records: evidencesrc.FromStore(db, db, db, db), Generator: "warden " + buildVersion()}
	monCtx, stopMonitor := context.WithCancel(context.Background())
	var monWG sync.WaitGroup
	defer func() { stopMonitor(); monWG.Wait() }()
	if c.Monitor {
		job, err := newMonitorJob(c, b, l, alerts, keyHist, origin, logger)
		if err != nil {
			_ = l.Close(context.Background())
			return err
		}
		monWG.Add(1)
		go func() { defer monWG.Done(); runMonitor(monCtx, b, job, logger) }()
	}
	monWG.Add(1)
	go func() { defer monWG.Done(); runRetention(monCtx, b, l, c.RetentionInterval, logger) }()
	// A tenant made through the API starts, like the default one, with
	// the built-in default policy.
	onTenant := func(ctx context.Context, tenant string) error {
		return policies.EnsureActive(ctx, tenant, event.ActorSystem, policy.BuiltinDefault())
	}
	srv := api.New(api.Config{Store: db, Ledger: l, Origin: origin, VerifierKey: key.verifier, KeyHistory: keyHist, Logger: logger, Metrics: metrics,
		Gate: decisions, Policies: policies, Scanner: scanner, Access: keys, Approvals: approvals, Controls: kill, OnTenant: onTenant,
		Alerts: alerts, MonitorStore: db, Evidence: exporter,
		RateLimit: c.RateLimit, RateBurst: c.RateBurst})
	hs := &http.Server{
		Addr:              c.Listen,
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      10 * time.Minute, // a full verification of a large log streams for a while
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		_ = l.Close(context.Background())
		return &exitError{exitUsage, fmt.Errorf("listen on %s: %w", c.Listen, err)}
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "Warden %s listening on %s://%s (%s, origin %q)\n", buildVersion(), scheme, ln.Addr(), describeStore(b), origin)
	logger.Info("serving", "addr", ln.Addr().String(), "tls", c.TLSCert != "", "store", describeStore(b), "signing_key", key.path)

	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- hs.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	logger.Info("shutting down: draining requests and the ledger")
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		logger.Error("http shutdown", "err", err)
	}
	// The monitor checkpoints and stops before the ledger closes.
	stopMonitor()
	monWG.Wait()
	// Deliveries still queued get a few seconds, then are recorded as
	// abandoned, while the ledger still takes their results.
	nctx, ncancel := context.WithTimeout(sctx, 5*time.Second)
	if err := dispatcher.Close(nctx); err != nil {
		logger.Warn("notifications abandoned at shutdown", "err", err)
	}
	ncancel()
	if err := l.Close(sctx); err != nil {
		logger.Error("ledger drain", "err", err)
		return err
	}
	logger.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// showNewKeys shows keys made on first start once: on stdout, or in a new
// file of mode 0600 when a service's stdout would go to a log. They are
// never logged: only their hashes are stored.
func showNewKeys(path string, stdout io.Writer, keys []access.NewKeyInfo) error {
	if len(keys) == 0 {
		return nil
	}
	if path == "" {
		printNewKeys(stdout, keys)
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Never overwrite keys someone has not collected yet.
		path = fmt.Sprintf("%s.%d", path, time.Now().UnixNano())
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if err != nil {
		return fmt.Errorf("write bootstrap keys: %w", err)
	}
	printNewKeys(f, keys)
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write bootstrap keys: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write bootstrap keys: %w", err)
	}
	fmt.Fprintf(stdout, "New API keys were written to %s: store them, then delete the file.\n", path)
	return nil
}

func printNewKeys(w io.Writer, keys []access.NewKeyInfo) {
	if len(keys) == 0 {
		return
	}
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "New API keys. They are shown once and cannot be recovered; store them now:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-6s (tenant %s): %s\n", k.Role, k.Tenant, k.Secret)
	}
	fmt.Fprintln(w, "")
}

// currentPolicy evaluates a tenant's active policy, for the time-of-use
// check of approvals.
func currentPolicy(m *policy.Manager) approval.Evaluator {
	return func(ctx context.Context, tenant string, in *policy.Input) (*policy.Decision, error) {
		p, _, err := m.Current(ctx, tenant)
		if err != nil {
			return nil, err
		}
		return p.Evaluate(in), nil
	}
}
