package gate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/gate"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/scan"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// wordDetector flags every occurrence of a word, as a stand-in for the
// real detectors (tested in their own packages).
type wordDetector struct{ word, category, severity string }

func (d wordDetector) Name() string { return "word" }
func (d wordDetector) Detect(in scan.Input, out []scan.Match) []scan.Match {
	for i := 0; ; {
		j := strings.Index(in.Text[i:], d.word)
		if j < 0 {
			return out
		}
		out = append(out, scan.Match{Category: d.category, Rule: "word", Severity: d.severity, Confidence: 1, Start: i + j, End: i + j + len(d.word)})
		i += j + len(d.word)
	}
}

const contentPolicy = `name: content
rules:
  - {id: allow-notes, match: {action: "notes.*"}, effect: allow}
scan:
  deny: [secret]
  require_approval: [pii]
  redact_args: [pii]
  redact_outputs: [secret]
  on_incomplete: deny
`

func contentGate(t *testing.T, limits scan.Limits) (*gate.Gate, func(a *gate.Answer) *event.Decision, *sqlite.DB) {
	t.Helper()
	g, db := stack(t)
	p, err := policy.ParseAndCompile([]byte(contentPolicy))
	if err != nil {
		t.Fatal(err)
	}
	g.Policies = policiesFunc(func(context.Context, string) (*gate.ActivePolicy, error) {
		return &gate.ActivePolicy{Policy: p, Version: 1}, nil
	})
	g.Scanner = &gate.Content{Secret: []byte("test redaction secret"), Scanner: scan.New(limits,
		wordDetector{"SECRET123", "secret.test", scan.High}, wordDetector{"bob@example.com", "pii.email", scan.Low})}
	return g, func(a *gate.Answer) *event.Decision { return recorded(t, db, a) }, db
}

func notes(args map[string]any) *policy.Request {
	return &policy.Request{Principal: policy.Principal{ID: "bot", Type: "agent"}, Action: policy.Action{Type: "notes.write"}, Args: args}
}

func TestContentScanningInTheDecision(t *testing.T) {
	g, rec, _ := contentGate(t, scan.Limits{})
	ctx := context.Background()

	// A secret denies; the ledger holds the args redacted with an HMAC of
	// the value under the tenant's key; the answer has no HMAC.
	a, err := g.Decide(ctx, "acme", "key1", notes(map[string]any{"text": "token SECRET123 here", "n": int64(1)}))
	if err != nil || a.Decision != policy.Deny || a.Reasons[0].Code != policy.CodeScan || len(a.Findings) != 1 {
		t.Fatalf("Decide(secret) = %+v, %v; want deny by the scan with one finding", a, err)
	}
	if f := a.Findings[0]; f.Path != "/args/text" || f.Start != 6 || f.End != 15 || f.ValueHMAC != "" {
		t.Fatalf("answered finding = %+v, want /args/text 6-15 without an HMAC", f)
	}
	d := rec(a)
	if d.Args["text"] != "token [REDACTED:secret.test] here" || d.Args["n"] != float64(1) {
		t.Fatalf("recorded args = %v", d.Args)
	}
	want := scan.ValueHMAC(gate.RedactionKey([]byte("test redaction secret"), "acme"), "SECRET123")
	if len(d.Findings) != 1 || d.Findings[0].ValueHMAC != want {
		t.Fatalf("recorded findings = %+v, want the HMAC %s", d.Findings, want)
	}
	if other := scan.ValueHMAC(gate.RedactionKey([]byte("test redaction secret"), "globex"), "SECRET123"); other == want {
		t.Fatal("two tenants' redaction keys give the same HMAC")
	}
	if a.ArgsRedacted != nil {
		t.Fatalf("args_redacted = %v; the policy does not redact secrets in answers", a.ArgsRedacted)
	}

	// PII needs approval and is redacted in the answer (redact_args).
	a, err = g.Decide(ctx, "acme", "key1", notes(map[string]any{"to": "bob@example.com"}))
	if err != nil || a.Decision != policy.RequireApproval {
		t.Fatalf("Decide(pii) = %+v, %v; want require_approval", a, err)
	}
	if m, ok := a.ArgsRedacted.(map[string]any); !ok || m["to"] != "[REDACTED:pii.email]" {
		t.Fatalf("args_redacted = %#v, want the email redacted", a.ArgsRedacted)
	}
	if d := rec(a); d.Args["to"] != "[REDACTED:pii.email]" {
		t.Fatalf("recorded args = %v", d.Args)
	}

	// A finding in a key is redacted in the key.
	a, err = g.Decide(ctx, "acme", "key1", notes(map[string]any{"SECRET123": "v"}))
	if err != nil || a.Decision != policy.Deny || !a.Findings[0].InKey {
		t.Fatalf("Decide(secret in key) = %+v, %v", a, err)
	}
	if d := rec(a); d.Args["[REDACTED:secret.test]"] != "v" || len(d.Args) != 1 {
		t.Fatalf("recorded args = %v, want the key redacted", d.Args)
	}
}

func TestIncompleteScanRecordsNoArgs(t *testing.T) {
	g, rec, _ := contentGate(t, scan.Limits{MaxBytes: 8})
	a, err := g.Decide(context.Background(), "acme", "key1", notes(map[string]any{"a": "short", "b": "a longer text, past the limit"}))
	if err != nil || a.Decision != policy.Deny || a.Reasons[0].Rule != "on_incomplete" {
		t.Fatalf("Decide(over the limit) = %+v, %v; want deny by on_incomplete", a, err)
	}
	if d := rec(a); len(d.Args) != 0 || d.ScanComplete {
		t.Fatalf("recorded args = %v, scan_complete %v; want none recorded", d.Args, d.ScanComplete)
	}
}

func TestOutcomeOutputIsScanned(t *testing.T) {
	g, rec, db := contentGate(t, scan.Limits{})
	ctx := context.Background()
	a, err := g.Decide(ctx, "acme", "key1", notes(map[string]any{"text": "hello"}))
	if err != nil || a.Decision != policy.Allow {
		t.Fatalf("Decide = %+v, %v", a, err)
	}
	rec(a)
	out := map[string]any{"content": []any{map[string]any{"type": "text", "text": "key SECRET123 and bob@example.com"}}}
	o, err := g.Outcome(ctx, "acme", "key1", a.ReceiptID, &policy.Outcome{Status: policy.OutcomeSucceeded, Output: out,
		Error: "retried after SECRET123 was refused"})
	if err != nil || len(o.Findings) != 3 || !o.ScanComplete {
		t.Fatalf("Outcome = %+v, %v; want two findings", o, err)
	}
	// The answer redacts what redact_outputs names (secrets), not the email.
	text := o.Output.(map[string]any)["content"].([]any)[0].(map[string]any)["text"]
	if text != "key [REDACTED:secret.test] and bob@example.com" {
		t.Fatalf("answered output text = %q", text)
	}
	if o.Findings[0].Path != "/output/content/0/text" {
		t.Fatalf("finding path = %s", o.Findings[0].Path)
	}
	// The ledger redacts every finding and keeps their HMACs.
	recs, err := db.Records(ctx, "acme", o.Seq, o.Seq+1, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Records(%d) = %v, %v", o.Seq, recs, err)
	}
	e := outcomeEntry(t, recs[0].Data)
	got := e.Output.(map[string]any)["content"].([]any)[0].(map[string]any)["text"]
	if got != "key [REDACTED:secret.test] and [REDACTED:pii.email]" || len(e.Findings) != 3 || e.Findings[1].ValueHMAC == "" || !e.ScanComplete ||
		e.Error != "retried after [REDACTED:secret.test] was refused" || e.Findings[2].Path != "/error" {
		t.Fatalf("recorded outcome = %+v (text %q)", e, got)
	}

	// An output too large to scan is not recorded, and says so.
	a, err = g.Decide(ctx, "acme", "key1", notes(map[string]any{"text": "again"}))
	if err != nil || a.Decision != policy.Allow {
		t.Fatalf("Decide = %+v, %v", a, err)
	}
	big := strings.Repeat("x", scan.DefaultMaxBytes+1)
	o, err = g.Outcome(ctx, "acme", "key1", a.ReceiptID, &policy.Outcome{Status: policy.OutcomeFailed, Output: big})
	if err != nil || o.ScanComplete || o.Output != nil {
		t.Fatalf("Outcome(huge) = %+v, %v; want recorded without output", o, err)
	}
	recs, _ = db.Records(ctx, "acme", o.Seq, o.Seq+1, 1)
	if e := outcomeEntry(t, recs[0].Data); e.Output != nil || e.ScanComplete {
		t.Fatalf("recorded huge outcome = %+v, want no output", e)
	}
}

// outcomeEntry reads the outcome entry at seq.
func outcomeEntry(t *testing.T, data []byte) *event.Outcome {
	t.Helper()
	e, err := ledger.Parse(data)
	if err != nil || e.Kind != event.KindOutcome {
		t.Fatalf("entry = %+v, %v; want an outcome", e, err)
	}
	var o event.Outcome
	if err := json.Unmarshal(e.Body, &o); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("SECRET123")) || bytes.Contains(data, []byte("bob@example.com")) {
		t.Fatal("the outcome entry holds a scanned value")
	}
	return &o
}
