package gate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/limits"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

const testPolicy = `name: payments
rules:
  - id: small-charges
    match: {action: "stripe.charges.create"}
    when: args.amount <= 10000
    effect: allow
scan:
  deny: [secret]
`

// Hand-written fakes with function fields.
type policiesFunc func(ctx context.Context, tenant string) (*gate.ActivePolicy, error)

func (f policiesFunc) Active(ctx context.Context, tenant string) (*gate.ActivePolicy, error) {
	return f(ctx, tenant)
}

type controlsFunc func(ctx context.Context, tenant string, req *policy.Request) (*gate.ControlHit, int64, error)

func (f controlsFunc) Check(ctx context.Context, tenant string, req *policy.Request) (*gate.ControlHit, int64, error) {
	return f(ctx, tenant, req)
}

type scannerFunc func(ctx context.Context, tenant string, req *policy.Request) (*gate.ScanResult, error)

func (f scannerFunc) ScanArgs(ctx context.Context, tenant string, req *policy.Request) (*gate.ScanResult, error) {
	return f(ctx, tenant, req)
}

type appenderFunc func(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)

func (f appenderFunc) Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error) {
	return f(ctx, tenant, req)
}

// stack is a gate over a real ledger on SQLite with the test policy active.
func stack(t *testing.T) (*gate.Gate, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	skey, _, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	ids := ledger.NewIDs(time.Now, rand.NewChaCha8([32]byte{1}))
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(ctx) })
	p, err := policy.ParseAndCompile([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	g := &gate.Gate{Ledger: l, IDs: ids,
		Policies: policiesFunc(func(context.Context, string) (*gate.ActivePolicy, error) {
			return &gate.ActivePolicy{Policy: p, Version: 3}, nil
		})}
	return g, db
}

func charge(amount int64) *policy.Request {
	return &policy.Request{Principal: policy.Principal{ID: "billing-bot", Type: "agent"},
		Action: policy.Action{Type: "stripe.charges.create"}, Args: map[string]any{"amount": amount}}
}

// recorded reads back the decision entry of an answer.
func recorded(t *testing.T, db *sqlite.DB, a *gate.Answer) *event.Decision {
	t.Helper()
	r, err := db.RecordByID(context.Background(), "acme", a.ReceiptID)
	if err != nil {
		t.Fatalf("RecordByID(%s) = %v", a.ReceiptID, err)
	}
	e, err := ledger.Parse(r.Data)
	if err != nil || e.Kind != event.KindDecision || e.Seq != a.Seq || e.Actor != "key1" {
		t.Fatalf("entry %s = %+v, %v; want a decision at seq %d by key1", a.ReceiptID, e, err, a.Seq)
	}
	var d event.Decision
	if err := json.Unmarshal(e.Body, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestDecideRecordsEveryAnswer(t *testing.T) {
	g, db := stack(t)
	for _, tt := range []struct {
		name   string
		req    *policy.Request
		effect string
		code   string
	}{
		{"allowed", charge(100), policy.Allow, policy.CodeRule},
		{"condition false: default deny", charge(50000), policy.Deny, policy.CodeDefault},
		{"unmatched action: default deny", &policy.Request{Principal: policy.Principal{ID: "x", Type: "agent"}, Action: policy.Action{Type: "files.read"}}, policy.Deny, policy.CodeDefault},
		{"evaluation error fails closed", &policy.Request{Principal: policy.Principal{ID: "x", Type: "agent"}, Action: policy.Action{Type: "stripe.charges.create"}, Args: map[string]any{}}, policy.Deny, policy.CodeError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := g.Decide(context.Background(), "acme", "key1", tt.req)
			if err != nil {
				t.Fatalf("Decide = %v, want nil", err)
			}
			if a.Decision != tt.effect || a.Reasons[0].Code != tt.code || a.ReceiptID == "" {
				t.Fatalf("Decide = %+v, want %s with code %s", a, tt.effect, tt.code)
			}
			d := recorded(t, db, a)
			if d.Decision != tt.effect || d.Reasons[0].Code != tt.code || d.Policy == nil || d.Policy.Version != 3 || d.Policy.Name != "payments" {
				t.Errorf("recorded %+v, want %s with code %s by payments v3", d, tt.effect, tt.code)
			}
		})
	}
}

func TestNoActivePolicyDenies(t *testing.T) {
	g, db := stack(t)
	for name, f := range map[string]policiesFunc{
		"none":   func(context.Context, string) (*gate.ActivePolicy, error) { return nil, ledger.ErrNotFound },
		"broken": func(context.Context, string) (*gate.ActivePolicy, error) { return nil, errors.New("disk on fire") },
	} {
		g.Policies = f
		a, err := g.Decide(context.Background(), "acme", "key1", charge(1))
		if err != nil || a.Decision != policy.Deny || a.Reasons[0].Code != policy.CodeError {
			t.Errorf("%s: Decide = %+v, %v; want deny with code error", name, a, err)
			continue
		}
		if d := recorded(t, db, a); d.Decision != policy.Deny || d.Policy != nil {
			t.Errorf("%s: recorded %+v, want a deny with no policy", name, d)
		}
	}
}

func TestKillSwitchChangesTheDecision(t *testing.T) {
	g, db := stack(t)
	var hit *gate.ControlHit
	var checkErr error
	g.Controls = controlsFunc(func(context.Context, string, *policy.Request) (*gate.ControlHit, int64, error) {
		return hit, 7, checkErr
	})
	tests := []struct {
		name   string
		hit    *gate.ControlHit
		err    error
		effect string
		code   string
	}{
		{"no switch", nil, nil, policy.Allow, policy.CodeRule},
		{"deny switch", &gate.ControlHit{ID: "ctl_1", Effect: policy.Deny, Reason: "incident 12"}, nil, policy.Deny, "control"},
		{"approval switch", &gate.ControlHit{ID: "ctl_2", Effect: policy.RequireApproval, Reason: "review"}, nil, policy.RequireApproval, "control"},
		{"unknown effect denies", &gate.ControlHit{ID: "ctl_3", Effect: "pause"}, nil, policy.Deny, "control"},
		{"controls unavailable", nil, errors.New("store down"), policy.Deny, policy.CodeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hit, checkErr = tt.hit, tt.err
			a, err := g.Decide(context.Background(), "acme", "key1", charge(100))
			if err != nil || a.Decision != tt.effect || a.Reasons[0].Code != tt.code {
				t.Fatalf("Decide = %+v, %v; want %s with code %s", a, err, tt.effect, tt.code)
			}
			if d := recorded(t, db, a); d.ControlsSeen != 7 {
				t.Errorf("recorded controls version %d, want 7", d.ControlsSeen)
			}
		})
	}
}

func TestFindingsChangeTheDecisionAndAreRedacted(t *testing.T) {
	g, db := stack(t)
	var res *gate.ScanResult
	var scanErr error
	g.Scanner = scannerFunc(func(context.Context, string, *policy.Request) (*gate.ScanResult, error) { return res, scanErr })

	res = &gate.ScanResult{
		Findings: []event.DecisionFinding{{Category: "secret.aws-access-token", Rule: "aws", Severity: "high", Path: "/args/note", Start: 0, End: 20}},
		Redacted: map[string]any{"amount": int64(100), "note": "[REDACTED:secret.aws-access-token]"},
	}
	req := charge(100)
	req.Args["note"] = "AKIAIOSFODNN7EXAMPLE"
	a, err := g.Decide(context.Background(), "acme", "key1", req)
	if err != nil || a.Decision != policy.Deny || len(a.Findings) != 1 {
		t.Fatalf("Decide(secret) = %+v, %v; want deny with the finding", a, err)
	}
	r, _ := db.RecordByID(context.Background(), "acme", a.ReceiptID)
	if d := recorded(t, db, a); d.Args["note"] != "[REDACTED:secret.aws-access-token]" || len(d.Findings) != 1 {
		t.Errorf("recorded args %v, findings %v; want the redacted args", d.Args, d.Findings)
	}
	if bytes.Contains(r.Data, []byte("AKIAIOSFODNN7EXAMPLE")) {
		t.Error("the ledger entry holds the secret")
	}

	res, scanErr = nil, errors.New("scanner crashed")
	a, err = g.Decide(context.Background(), "acme", "key1", charge(100))
	if err != nil || a.Decision != policy.Deny || a.Reasons[0].Code != policy.CodeError {
		t.Fatalf("Decide(scanner error) = %+v, %v; want deny with code error", a, err)
	}
	if d := recorded(t, db, a); d.ScanComplete {
		t.Error("recorded scan_complete after a scanner error")
	}
}

func TestAppendFailureIsNotAnswered(t *testing.T) {
	g, _ := stack(t)
	g.Ledger = appenderFunc(func(context.Context, string, ledger.Request) (*ledger.Appended, error) {
		return nil, fmt.Errorf("%w: disk full", ledger.ErrStore)
	})
	a, err := g.Decide(context.Background(), "acme", "key1", charge(100))
	if a != nil || !errors.Is(err, gate.ErrUnrecorded) || !errors.Is(err, ledger.ErrStore) {
		t.Fatalf("Decide with a failing ledger = %+v, %v; want no answer and ErrUnrecorded wrapping ErrStore", a, err)
	}
}

// approvalsFake accepts every authorization; it records what it was asked.
type approvalsFake struct{ authorized, consumed int }

func (f *approvalsFake) Prepare(context.Context, string, string, *policy.Request, *policy.Approval, string) (*approval.Approval, error) {
	return &approval.Approval{ID: "apr_1"}, nil
}
func (f *approvalsFake) Open(ledger.Tx, *approval.Approval) error           { return nil }
func (f *approvalsFake) Opened(context.Context, *approval.Approval)         {}
func (f *approvalsFake) Usable(ledger.Tx, string) error                     { return nil }
func (f *approvalsFake) Consume(ledger.Tx, string, string, time.Time) error { f.consumed++; return nil }
func (f *approvalsFake) Authorize(context.Context, string, string, *policy.Request) (string, error) {
	f.authorized++
	return "apr_1", nil
}

// A kill switch wins over the authorization of an approved request; the
// authorization is not even looked at, and nothing is used up.
func TestKillSwitchWinsOverAuthorization(t *testing.T) {
	g, db := stack(t)
	f := &approvalsFake{}
	g.Approvals = f
	big := charge(50_000) // the test policy has no rule for it: default deny
	p, err := policy.ParseAndCompile([]byte("name: ask\nrules: [{id: ask, effect: require_approval}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	g.Policies = policiesFunc(func(context.Context, string) (*gate.ActivePolicy, error) {
		return &gate.ActivePolicy{Policy: p, Version: 1}, nil
	})
	a, err := g.DecideWith(context.Background(), "acme", "key1", big, "wat_apr_1_x")
	if err != nil || a.Decision != policy.Allow || a.Reasons[0].Code != gate.CodeApproval || f.consumed != 1 {
		t.Fatalf("without a kill switch: %+v, %v (consumed %d); want allow by approval", a, err, f.consumed)
	}
	g.Controls = controlsFunc(func(context.Context, string, *policy.Request) (*gate.ControlHit, int64, error) {
		return &gate.ControlHit{ID: "ctl_1", Effect: policy.Deny, Reason: "agent suspended"}, 7, nil
	})
	a, err = g.DecideWith(context.Background(), "acme", "key1", big, "wat_apr_1_x")
	if err != nil || a.Decision != policy.Deny || a.Reasons[0].Code != "control" {
		t.Fatalf("with a kill switch: %+v, %v; want deny by the control", a, err)
	}
	if f.authorized != 1 || f.consumed != 1 || recorded(t, db, a).ApprovalID != "" {
		t.Errorf("the kill switch's decision looked at (%d) or used (%d) the authorization", f.authorized-1, f.consumed-1)
	}
}

// staleControls checks once as if no switch were set (a replica that
// looked before another set one), then as the switches are.
type staleControls struct {
	gate.ControlsOf
	checks int
}

func (c *staleControls) Check(ctx context.Context, tenant string, req *policy.Request) (*gate.ControlHit, int64, error) {
	c.checks++
	if c.checks == 1 {
		return nil, 0, nil
	}
	return c.ControlsOf.Check(ctx, tenant, req)
}

// A switch set after a decision's check, before its append, still binds
// it: the append transaction sees the controls version moved, and the
// decision is made again with the switches as they are.
func TestSwitchSetDuringDecisionBinds(t *testing.T) {
	g, db := stack(t)
	svc := &controls.Service{Ledger: g.Ledger, Store: db, IDs: ledger.NewIDs(time.Now, rand.NewChaCha8([32]byte{2}))}
	if _, err := svc.Set(context.Background(), "acme", "key9", controls.Spec{Scope: controls.Scope{Agent: "billing-*"}, Effect: controls.Deny,
		Reason: "stop billing"}); err != nil {
		t.Fatal(err)
	}
	stale := &staleControls{ControlsOf: gate.ControlsOf{Service: svc}}
	g.Controls = stale
	a, err := g.Decide(context.Background(), "acme", "key1", charge(100))
	if err != nil || a.Decision != policy.Deny || a.Reasons[0].Code != "control" || a.Reasons[0].Message != "stop billing" {
		t.Fatalf("Decide = %+v, %v; want deny by the switch set after the check", a, err)
	}
	if d := recorded(t, db, a); d.ControlsSeen != 1 || d.Decision != policy.Deny || stale.checks != 2 {
		t.Errorf("the entry records controls version %d, decision %s after %d checks; want 1, deny, 2", d.ControlsSeen, d.Decision, stale.checks)
	}
	// A decision that counts limits is settled in the transaction's work:
	// there the switch is found without deciding again.
	counted, err := policy.ParseAndCompile([]byte("name: c\nrules: [{id: all, effect: allow}]\nlimits: [{id: r, per: agent, rate: 100/h}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	g.Policies = policiesFunc(func(context.Context, string) (*gate.ActivePolicy, error) {
		return &gate.ActivePolicy{Policy: counted, Version: 1}, nil
	})
	g.Limits = limits.Counter{}
	stale.checks = 0
	a, err = g.Decide(context.Background(), "acme", "key1", charge(100))
	if err != nil || a.Decision != policy.Deny || a.Reasons[0].Code != "control" || stale.checks != 1 {
		t.Fatalf("with limits: %+v, %v after %d checks; want deny by the switch, found in the transaction", a, err, stale.checks)
	}
}
