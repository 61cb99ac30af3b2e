// Package storetest is the conformance suite every ledger store passes
// (SQLite always, PostgreSQL when WARDEN_TEST_POSTGRES is set). It drives a
// store through a real ledger.Ledger and through ledger.Store directly, and
// checks what the ledger relies on: contiguous seq, a chain that verifies,
// bounded reads, proofs, checkpoints, tenant isolation, the Tx contract and
// reopening.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
)

// Origin is the installation origin the suite signs checkpoints with.
const Origin = "warden"

// Tenants the suite writes to.
const (
	TenantA = "acme"
	TenantB = "globex"
)

// Store is what the suite needs of a store: the ledger store, key lookups
// (keys are written through the append Tx's access.KeyWriter) and Close.
type Store interface {
	ledger.Store
	access.KeyReader
	Close() error
}

// Factory creates a fresh, empty database for one subtest and returns a
// function that opens it. open may be called again after the store it
// returned was closed, and MUST then reopen the same database.
type Factory func(t *testing.T) (open func(t *testing.T) Store)

// Run runs the conformance suite. Every subtest gets its own database.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"AppendOrderAndChain", testAppendOrderAndChain},
		{"ConcurrentAppendsContiguous", testConcurrentAppends},
		{"Records", testRecords},
		{"RecordByID", testRecordByID},
		{"SeqAtTime", testSeqAtTime},
		{"TimeNeverDecreases", testTimeNeverDecreases},
		{"Head", testHead},
		{"ReadHashes", testReadHashes},
		{"InclusionProofs", testInclusionProofs},
		{"ConsistencyProofs", testConsistencyProofs},
		{"ProofRange", testProofRange},
		{"Checkpoints", testCheckpoints},
		{"CheckpointerSign", testCheckpointerSign},
		{"TenantIsolation", testTenantIsolation},
		{"TxReadsOwnInserts", testTxReadsOwnInserts},
		{"TxIsolate", testTxIsolate},
		{"TxFnErrorKeepsNothing", testTxFnError},
		{"WorkRejectedAlone", testWorkRejectedAlone},
		{"Reopen", testReopen},
		{"PolicyVersions", testPolicyVersions},
		{"PolicyChange", testPolicyChange},
		{"Receipts", testReceipts},
		{"Access", testAccess},
		{"Limits", testLimits},
		{"Approvals", testApprovals},
		{"Controls", testControls},
		{"Alerts", testAlerts},
		{"AlertFilters", testAlertFilters},
		{"Incidents", testIncidents},
		{"MonitorState", testMonitorState},
		{"MonitorSeries", testMonitorSeries},
		{"PruneData", testPruneData},
		{"PruneUndeclared", testPruneUndeclared},
		{"RetentionJob", testRetentionJob},
		{"KeyRotation", testKeyRotation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newHarness(t, f))
		})
	}
}

// harness holds one subtest's store, its signing key and its ledgers.
type harness struct {
	open     func(*testing.T) Store
	Store    Store
	Signer   note.Signer
	Verifier note.Verifier

	seed uint64 // for the id sources of successive ledgers
}

// newHarness creates a fresh database with f, opens it and makes a
// checkpoint key. The store is closed at cleanup.
func newHarness(t *testing.T, f Factory) *harness {
	t.Helper()
	h := &harness{open: f(t)}
	h.Signer, h.Verifier = NewKey(t)
	h.Store = h.open(t)
	t.Cleanup(func() {
		if h.Store != nil {
			h.Store.Close()
		}
	})
	return h
}

// Reopen closes the store and opens the same database again.
func (h *harness) Reopen(t *testing.T) {
	t.Helper()
	s := h.Store
	h.Store = nil
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	h.Store = h.open(t)
}

// NewKey returns a fresh checkpoint signer named Origin and its verifier.
func NewKey(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := ledger.GenerateKey(Origin)
	if err != nil {
		t.Fatalf("GenerateKey(%q) = %v, want nil", Origin, err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatalf("note.NewSigner() = %v, want nil", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("note.NewVerifier() = %v, want nil", err)
	}
	return s, v
}

// Ledger returns a ledger over the harness's store with cfg's Origin,
// Signer and (unless set) IDs filled in. It is closed at cleanup.
func (h *harness) Ledger(t *testing.T, cfg ledger.Config) *ledger.Ledger {
	t.Helper()
	cfg.Origin, cfg.Signer = Origin, h.Signer
	if cfg.IDs == nil {
		clock := cfg.Clock
		if clock == nil {
			clock = time.Now
		}
		h.seed++
		var seed [32]byte
		seed[0] = byte(h.seed)
		cfg.IDs = ledger.NewIDs(clock, rand.NewChaCha8(seed))
	}
	l, err := ledger.New(h.Store, cfg)
	if err != nil {
		t.Fatalf("ledger.New() = %v, want nil", err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// Req returns a plain request whose body carries n.
func Req(n int) ledger.Request {
	return ledger.Request{Kind: "test.entry", Actor: "system", Body: map[string]int{"n": n}}
}

// AppendN appends n entries to tenant one after the other and returns
// their acknowledgements.
func AppendN(t *testing.T, l *ledger.Ledger, tenant string, n int) []*ledger.Appended {
	t.Helper()
	acks := make([]*ledger.Appended, n)
	for i := range acks {
		ack, err := l.Append(context.Background(), tenant, Req(i))
		if err != nil {
			t.Fatalf("Append(%s, n=%d) = %v, want nil", tenant, i, err)
		}
		acks[i] = ack
	}
	return acks
}

// AllRecords reads every record of tenant.
func AllRecords(t *testing.T, s ledger.Store, tenant string) []ledger.Record {
	t.Helper()
	recs, err := s.Records(context.Background(), tenant, 0, 1<<62, 1<<30)
	if err != nil {
		t.Fatalf("Records(%s, from=0) = %v, want nil", tenant, err)
	}
	return recs
}

// Verify signs a checkpoint covering tenant's whole log (the log may have
// grown without one) and walks the log with ledger.VerifyStore, failing t
// unless the report is OK and covers the whole log.
func Verify(t *testing.T, s ledger.Store, signer note.Signer, verifier note.Verifier, tenant string) *ledger.Report {
	t.Helper()
	ctx := context.Background()
	head, err := s.Head(ctx, tenant)
	if err != nil {
		t.Fatalf("Head(%s) = %v, want nil", tenant, err)
	}
	if head.Size > 0 {
		l, err := ledger.New(s, ledger.Config{Origin: Origin, Signer: signer})
		if err != nil {
			t.Fatalf("ledger.New() = %v, want nil", err)
		}
		if _, err := l.Checkpointer().Sign(ctx, tenant); err != nil {
			t.Fatalf("Checkpointer().Sign(%s) = %v, want nil", tenant, err)
		}
	}
	rep, err := ledger.VerifyStore(ctx, s, ledger.VerifyOptions{Tenant: tenant, Origin: Origin,
		Keys: []note.Verifier{verifier}}, nil)
	if err != nil {
		t.Fatalf("VerifyStore(%s) = %v, want nil", tenant, err)
	}
	if !rep.OK || rep.Entries != head.Size || rep.SignedSize != head.Size {
		t.Fatalf("VerifyStore(%s) = ok %v, entries %d, signed %d, failure %v; want ok over %d entries",
			tenant, rep.OK, rep.Entries, rep.SignedSize, rep.Failure, head.Size)
	}
	return rep
}

// Verify is Verify with the harness's store and key.
func (h *harness) Verify(t *testing.T, tenant string) *ledger.Report {
	t.Helper()
	return Verify(t, h.Store, h.Signer, h.Verifier, tenant)
}

// Clock is a settable fake clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to now, backwards if need be.
func (c *Clock) Set(now time.Time) {
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
}

// memHashes is an in-memory tlog.HashReader of hashes computed by the
// test itself, to hold a store's hashes against.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d of %d: %w", x, len(m), ledger.ErrNotFound)
		}
		out[i] = m[x]
	}
	return out, nil
}

// expectHashes computes, from entry bytes alone, the stored hashes of a log.
func expectHashes(t *testing.T, recs []ledger.Record) memHashes {
	t.Helper()
	var m memHashes
	for i := range recs {
		hs, err := tlog.StoredHashes(int64(i), recs[i].Data, m)
		if err != nil {
			t.Fatalf("tlog.StoredHashes(%d) = %v, want nil", i, err)
		}
		m = append(m, hs...)
	}
	return m
}

var errBoom = errors.New("boom")
