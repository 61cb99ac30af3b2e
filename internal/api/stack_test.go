package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "warden"

// stackOptions shape newStack; zero values are the defaults.
type stackOptions struct {
	maxBody      int64 // api.Config.MaxBody
	maxPageCount int64 // sqlite.Options.MaxPageCount
	scanner      *scan.Scanner
	rateLimit    float64 // api.Config.RateLimit, RateBurst
	rateBurst    int
	clock        func() time.Time // api.Config.Clock and the access service's
}

// stack is a whole Warden server in the test process: SQLite in a temp
// dir, a ledger with a running checkpoint signer, the bootstrap keys, the
// API on a loopback HTTP server, and every log line captured.
type stack struct {
	db     *sqlite.DB
	ledger *ledger.Ledger
	srv    *api.Server
	hs     *httptest.Server
	url    string
	vkey   string // checkpoint verifier key, sumdb/note text form
	owner  string // presentable owner key of _system
	admin  string // presentable admin key of default
	logs   *syncBuffer

	policies  *policy.Manager
	access    *access.Service
	approvals *approval.Service
	controls  *controls.Service
	alerts    *alerting.Service
}

// syncBuffer is a bytes.Buffer the server's goroutines may log into.
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

func newStack(t *testing.T, opt stackOptions) *stack {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"), sqlite.Options{MaxPageCount: opt.maxPageCount})
	if err != nil {
		t.Fatalf("sqlite.Open = %v, want nil", err)
	}
	t.Cleanup(func() { db.Close() })

	skey, _, err := ledger.GenerateKey(testOrigin)
	if err != nil {
		t.Fatalf("GenerateKey = %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatalf("note.NewSigner = %v", err)
	}
	vkey, err := ledger.VerifierKey(skey)
	if err != nil {
		t.Fatalf("VerifierKey = %v", err)
	}

	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	metrics := api.NewMetrics(prometheus.NewRegistry())
	l, err := ledger.New(db, ledger.Config{Origin: testOrigin, Signer: signer, Logger: logger,
		Observe: metrics.ObserveBatch, CheckpointInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatalf("ledger.New = %v", err)
	}
	cpCtx, stopCP := context.WithCancel(context.Background())
	cpDone := make(chan struct{})
	go func() { defer close(cpDone); l.Checkpointer().Run(cpCtx) }()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Close(cctx); err != nil && opt.maxPageCount == 0 {
			t.Errorf("ledger Close = %v, want nil", err)
		}
		stopCP()
		<-cpDone
	})

	made, err := access.Bootstrap(ctx, l, db, rand.Reader, time.Now)
	if err != nil {
		t.Fatalf("Bootstrap = %v, want nil", err)
	}
	s := &stack{db: db, ledger: l, vkey: vkey, logs: logs}
	for _, k := range made {
		switch {
		case k.Role == access.RoleOwner && k.Tenant == ledger.SystemTenant:
			s.owner = k.Secret
		case k.Role == access.RoleAdmin && k.Tenant == access.DefaultTenant:
			s.admin = k.Secret
		}
	}
	if s.owner == "" || s.admin == "" {
		t.Fatalf("Bootstrap made %d keys, want an owner of _system and an admin of default", len(made))
	}
	s.policies = &policy.Manager{Ledger: l, Store: db, Required: func(ctx context.Context, tenant string) (int, error) {
		t, err := db.Tenant(ctx, tenant)
		if err != nil {
			return 0, err
		}
		return t.Settings.PolicyApprovals, nil
	}}
	g := &gate.Gate{Policies: gate.CurrentFunc(s.policies.Current), Ledger: l, IDs: ledger.NewIDs(time.Now, rand.Reader),
		Limits: limits.Counter{}, Clock: opt.clock, Candidates: gate.CurrentFunc(s.policies.Candidate)}
	s.access = &access.Service{Ledger: l, Store: db, Rand: rand.Reader, Clock: opt.clock, Receivers: notify.SettingsRules{}}
	notices := &notify.Notifier{Ledger: l, Logger: logger, Receivers: func(ctx context.Context, tenant string) ([]notify.Receiver, error) {
		st, err := s.access.Settings(ctx, tenant)
		if err != nil {
			return nil, err
		}
		return notify.Decode(st.Receivers)
	}}
	// Retries come fast here: a failing receiver's failure is recorded
	// within the test.
	dispatcher, err := notify.New(notify.Config{OnResult: notices.Record, Logger: logger,
		MaxAttempts: 3, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	notices.Dispatcher = dispatcher
	// Registered after the ledger's cleanup, so it runs first: results
	// are recorded while the ledger takes them.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = dispatcher.Close(ctx)
	})
	authKey := make([]byte, 32)
	if _, err := rand.Read(authKey); err != nil {
		t.Fatal(err)
	}
	s.approvals = &approval.Service{Ledger: l, Store: db, Key: authKey, IDs: ledger.NewIDs(time.Now, rand.Reader), Clock: opt.clock,
		Current: func(ctx context.Context, tenant string, in *policy.Input) (*policy.Decision, error) {
			p, _, err := s.policies.Current(ctx, tenant)
			if err != nil {
				return nil, err
			}
			return p.Evaluate(in), nil
		},
		Defaults: func(ctx context.Context, tenant string) (*policy.Approval, error) {
			st, err := s.access.Settings(ctx, tenant)
			if err != nil {
				return nil, err
			}
			return &st.DefaultApproval, nil
		},
		OnOpen: notices.ApprovalOpened}
	g.Approvals = s.approvals
	s.controls = &controls.Service{Ledger: l, Store: db, IDs: ledger.NewIDs(time.Now, rand.Reader), Clock: opt.clock}
	g.Controls = gate.ControlsOf{Service: s.controls}
	s.access.Routes = alerting.SettingsRoutes{}
	s.alerts = &alerting.Service{Ledger: l, Store: db, Controls: s.controls, Sender: dispatcher, IDs: ledger.NewIDs(time.Now, rand.Reader),
		Clock: opt.clock, Logger: logger, Routing: func(ctx context.Context, tenant string) (json.RawMessage, []notify.Receiver, error) {
			st, err := s.access.Settings(ctx, tenant)
			if err != nil {
				return nil, nil, err
			}
			rs, err := notify.Decode(st.Receivers)
			return st.AlertRoutes, rs, err
		}}
	onTenant := func(ctx context.Context, tenant string) error {
		return s.policies.EnsureActive(ctx, tenant, event.ActorSystem, policy.BuiltinDefault())
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	exporter := &evidence.Exporter{Log: db, Origin: testOrigin, Signer: signer, Keys: []note.Verifier{verifier}, Sign: l.Checkpointer().Sign,
		Records: evidencesrc.FromStore(db, db, db, db), Generator: "warden test", Clock: opt.clock}
	s.srv = api.New(api.Config{Alerts: s.alerts, MonitorStore: db, Evidence: exporter, Store: db, Ledger: l, Origin: testOrigin, VerifierKey: vkey,
		Logger: logger, Metrics: metrics, MaxBody: opt.maxBody, Gate: g, Policies: s.policies, Scanner: opt.scanner,
		Access: s.access, Approvals: s.approvals, Controls: s.controls, OnTenant: onTenant, RateLimit: opt.rateLimit, RateBurst: opt.rateBurst, Clock: opt.clock})
	s.hs = httptest.NewServer(s.srv.Handler())
	t.Cleanup(s.hs.Close)
	s.url = s.hs.URL
	return s
}

// response is a fully read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) contentType() string { return r.header.Get("Content-Type") }

// do sends one request with key as bearer (none if empty) and reads the
// answer. Extra headers come in name, value pairs.
func (s *stack) do(t *testing.T, method, path, key string, body io.Reader, headers ...string) *response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatalf("NewRequest(%s %s) = %v", method, path, err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.hs.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// get is do for a GET without body that must answer want.
func (s *stack) get(t *testing.T, path, key string, want int) *response {
	t.Helper()
	r := s.do(t, http.MethodGet, path, key, nil)
	if r.status != want {
		t.Fatalf("GET %s = %d, want %d; body %s", path, r.status, want, r.body)
	}
	return r
}

// appendN appends n filler entries to tenant's log, concurrently so that
// the appender batches them, and fails the test on any error.
func (s *stack) appendN(t *testing.T, tenant string, n int) {
	t.Helper()
	if err := s.tryAppendN(tenant, n, 64); err != nil {
		t.Fatalf("append %d entries to %q: %v", n, tenant, err)
	}
}

// tryAppendN appends n filler entries with bodies of about pad bytes.
func (s *stack) tryAppendN(tenant string, n, pad int) error {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := map[string]any{"n": i, "pad": strings.Repeat("x", pad)}
			_, err := s.ledger.Append(context.Background(), tenant, ledger.Request{Kind: "test.note", Actor: "system", Body: body})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// waitCheckpoint polls until a signed checkpoint covers the whole log of
// tenant, and returns its note.
func (s *stack) waitCheckpoint(t *testing.T, tenant string) []byte {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		head, err := s.db.Head(ctx, tenant)
		if err != nil {
			t.Fatalf("Head(%q) = %v", tenant, err)
		}
		cp, err := s.db.LatestCheckpoint(ctx, tenant)
		if err == nil && cp.Size == head.Size {
			return cp.Note
		}
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("LatestCheckpoint(%q) = %v", tenant, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of %q covers size %d after 10s (latest: %v)", tenant, head.Size, cp)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline, not hiding a race
	}
}

// addKey creates a key of role in tenant the way the API will: through a
// key.created entry whose work inserts the key in the same transaction.
func (s *stack) addKey(t *testing.T, tenant string, role access.Role) string {
	t.Helper()
	k, secret, err := access.NewKey(rand.Reader, tenant, role, "test "+string(role), time.Now())
	if err != nil {
		t.Fatalf("NewKey(%s) = %v", role, err)
	}
	req, err := event.New(event.KindKeyCreated, event.ActorSystem,
		&event.KeyCreated{KeyID: k.ID, TenantID: tenant, Role: string(role), Name: k.Name})
	if err != nil {
		t.Fatalf("event.New = %v", err)
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(access.KeyWriter)
		if !ok {
			return fmt.Errorf("append transaction %T cannot write keys", tx)
		}
		return w.InsertKey(k)
	}
	if _, err := s.ledger.Append(context.Background(), tenant, req); err != nil {
		t.Fatalf("append key.created(%s) = %v", role, err)
	}
	return secret
}

// keySecret is the secret part of a presentable key wdn_<id>_<secret>.
func keySecret(t *testing.T, key string) string {
	t.Helper()
	_, secret, err := access.ParseKey(key)
	if err != nil {
		t.Fatalf("ParseKey(%q) = %v", key, err)
	}
	return secret
}

// pushAndActivate pushes a policy to the default tenant and activates it.
func (s *stack) pushAndActivate(t *testing.T, doc string) {
	t.Helper()
	ctx := context.Background()
	v, _, err := s.policies.Push(ctx, "default", "test", []byte(doc))
	if err != nil {
		t.Fatalf("Push = %v", err)
	}
	if _, err := s.policies.Activate(ctx, "default", "test", v.Name, v.Version); err != nil {
		t.Fatalf("Activate = %v", err)
	}
}

// createKey creates a key with the JSON body as key and returns it with
// its secret; the answer must be 201.
func (s *stack) createKey(t *testing.T, key, body string) *api.NewKeyJSON {
	t.Helper()
	r := s.do(t, http.MethodPost, "/v1/keys", key, strings.NewReader(body))
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/keys %s = %d, want 201; body %s", body, r.status, r.body)
	}
	var out api.NewKeyJSON
	if err := json.Unmarshal(r.body, &out); err != nil || out.Key == "" || out.ID == "" {
		t.Fatalf("POST /v1/keys answered %s (%v), want a key with its secret", r.body, err)
	}
	return &out
}
