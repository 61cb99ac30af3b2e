// Package bench measures the ledger against the figures its issue names:
// durable appends per second and their latency, full verification of a
// stored log, and inclusion proofs. The Go benchmarks in this package and
// the runner in bench/cmd/benchtable share the workload defined here, so
// both measure the same thing: the real SQLite store (WAL,
// synchronous=FULL) behind the real group-commit appender.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// Defaults of the workload.
const (
	// Tenant is the tenant whose log every measurement writes.
	Tenant = "bench"
	// Origin is the installation origin of the measured logs.
	Origin = "warden.bench"
	// DBName is the database file created in the measurement's directory.
	DBName = "warden.db"
)

// Decision is the body of a benchmark entry, shaped like a decision record
// (principal, action, redacted args, policy and reasons) so that an entry
// is about as large as a real one: a body of about 480 bytes of canonical
// JSON in an entry of about 700.
type Decision struct {
	Principal Principal      `json:"principal"`
	Action    string         `json:"action"`
	Args      map[string]any `json:"args"`
	Effect    string         `json:"effect"`
	Policy    PolicyRef      `json:"policy"`
	Reasons   []string       `json:"reasons"`
	Redacted  []Redaction    `json:"redacted"`
	LatencyUS int64          `json:"latency_us"`
}

// Principal names who asked.
type Principal struct {
	Kind  string `json:"kind"`
	ID    string `json:"id"`
	KeyID string `json:"key_id"`
}

// PolicyRef names the policy version that decided.
type PolicyRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// Redaction records a finding removed from args (never the value).
type Redaction struct {
	Category string `json:"category"`
	Rule     string `json:"rule"`
	Path     string `json:"path"`
	HMAC     string `json:"hmac"`
}

var (
	actions = []string{"tool.call", "http.request", "file.write", "db.query"}
	effects = []string{"allow", "deny", "require_approval"}
)

// NewDecision returns the i-th benchmark decision body. Bodies differ in
// their numbers and strings, as real ones do, but stay within a few bytes
// of each other in size.
func NewDecision(i int64) *Decision {
	return &Decision{
		Principal: Principal{Kind: "agent", ID: fmt.Sprintf("agent-%04d", i%1000), KeyID: fmt.Sprintf("key_01jd8x%08d", i%50)},
		Action:    actions[i%int64(len(actions))],
		Args: map[string]any{
			"method": "POST",
			"url":    fmt.Sprintf("https://api.example.com/v2/accounts/%d/notes", i%10007),
			"body":   "Reschedule the renewal call; [REDACTED:email]",
			"limit":  i%100 + 1,
		},
		Effect:  effects[i%int64(len(effects))],
		Policy:  PolicyRef{ID: "pol_crm_writes", Version: int(i%7) + 1},
		Reasons: []string{"rule crm-notes-allow matched"},
		Redacted: []Redaction{{Category: "pii", Rule: "email", Path: "$.body",
			HMAC: "q1Xh0m3bY0cN2tq2mM7m3J8t8m0b1c2d3e4f5a6b7c8="}},
		LatencyUS: 180 + i%900,
	}
}

// Request returns the append request for the i-th benchmark entry.
func Request(i int64) ledger.Request {
	return ledger.Request{Kind: "decision", Actor: "key_01jd8x00000042", Body: NewDecision(i)}
}

// Keys returns a fresh checkpoint signer and its verifier for Origin.
func Keys() (note.Signer, note.Verifier, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, Origin)
	if err != nil {
		return nil, nil, fmt.Errorf("generate bench key: %w", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

// Log is an open store with a ledger writing to it and a checkpoint signer
// running, as in warden serve.
type Log struct {
	DB       *sqlite.DB
	Ledger   *ledger.Ledger
	Verifier note.Verifier

	stop context.CancelFunc
	done chan struct{}
}

// Open creates (or opens) the database in dir and starts a ledger over it.
// cfg's Origin and Signer are filled in; its other zero fields take the
// ledger's defaults.
func Open(ctx context.Context, dir string, cfg ledger.Config) (*Log, error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, DBName), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	s, v, err := Keys()
	if err != nil {
		db.Close()
		return nil, err
	}
	cfg.Origin, cfg.Signer = Origin, s
	l, err := ledger.New(db, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	lg := &Log{DB: db, Ledger: l, Verifier: v, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(lg.done)
		l.Checkpointer().Run(runCtx)
	}()
	return lg, nil
}

// Close drains the ledger (whose final flush leaves a checkpoint covering
// every entry), stops the checkpoint signer and closes the store.
func (lg *Log) Close(ctx context.Context) error {
	err := lg.Ledger.Close(ctx)
	lg.stop()
	<-lg.done
	if cerr := lg.DB.Close(); err == nil {
		err = cerr
	}
	return err
}

// VerifyOptions are the options that verify the benchmark tenant's log
// with this log's key.
func (lg *Log) VerifyOptions() ledger.VerifyOptions {
	return VerifyOptions(lg.Verifier)
}

// VerifyOptions are the options that verify the benchmark tenant's log
// with key v.
func VerifyOptions(v note.Verifier) ledger.VerifyOptions {
	return ledger.VerifyOptions{Tenant: Tenant, Origin: Origin, Keys: []note.Verifier{v}}
}
