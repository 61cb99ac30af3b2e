package watch

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// slowDecision decodes with encoding/json what decodeDecision reads.
func slowDecision(data []byte) (fastDecision, error) {
	var v decisionView
	if err := json.Unmarshal(data, &v); err != nil {
		return fastDecision{}, err
	}
	d := fastDecision{agent: v.Body.Principal.ID, action: v.Body.Action.Type, decision: v.Body.Decision, spend: v.Body.Spend}
	for _, f := range v.Body.Findings {
		d.findings = append(d.findings, f.Category)
	}
	return d, nil
}

// checkSame fails t when the walk answers where encoding/json errs, or
// answers otherwise.
func checkSame(t *testing.T, data []byte) (walked bool) {
	t.Helper()
	fast, ok := decodeDecision(data)
	if !ok {
		return false
	}
	slow, err := slowDecision(data)
	if err != nil {
		t.Fatalf("the walk read %q, encoding/json refuses it: %v", data, err)
	}
	if len(slow.findings) == 0 && len(fast.findings) == 0 {
		slow.findings, fast.findings = nil, nil
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("the walk read %+v, encoding/json %+v, of %q", fast, slow, data)
	}
	return true
}

// entryBytes is a decision entry as the ledger stores it.
func entryBytes(t testing.TB, d *event.Decision) []byte {
	t.Helper()
	body, err := ledger.CanonicalBody(d)
	if err != nil {
		t.Fatal(err)
	}
	data, err := ledger.Encode(&ledger.Entry{V: ledger.FormatVersion, Tenant: "acme", Seq: 3, ID: "rcpt_01", Time: ledger.FormatTime(time.Unix(1e9, 0)),
		Kind: event.KindDecision, Actor: "key", Prev: ledger.EncodeHash(tlog.Hash{}), Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDecodeDecision walks entries as the gate writes them, and shapes
// that must send the walk back to encoding/json.
func TestDecodeDecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		d := &event.Decision{Principal: event.DecisionPrincipal{ID: []string{"bot", "é\"quoted\"", "tab\there", "a\\b"}[i%4], Type: "agent",
			Attributes: map[string]any{"team": "x", "decision": "nested"}},
			Action:   event.DecisionAction{Type: "crm.read", Resource: "r/1"},
			Args:     map[string]any{"body": map[string]any{"decision": "fake", "principal": map[string]any{"id": "spoof"}}, "n": rng.Float64() * 1e6, "neg": -3},
			Decision: []string{"allow", "deny", "require_approval"}[i%3], Reasons: []event.DecisionReason{{Code: "rule", Message: "a } ] \" message"}},
			Spend: int64(rng.IntN(1000)), ScanComplete: true}
		if i%5 == 0 {
			d.Findings = []event.DecisionFinding{{Category: "pii.email", Rule: "e"}, {Category: "secret.aws", Rule: "s"}}
		}
		data := entryBytes(t, d)
		if !checkSame(t, data) {
			t.Fatalf("the walk gave up on an entry the gate writes: %s", data)
		}
	}
	// Shapes encoding/json reads its own way: the walk must give up or agree.
	for _, s := range []string{
		`{"body":{"decision":"allow","Decision":"deny"}}`,
		`{"body":{"decision":"allow","decision":"deny"}}`,
		`{"BODY":{"decision":"deny"}}`,
		`{"body":{"decision":null}}`,
		`{"body":null}`,
		`{"body":{"spend":1.5}}`,
		`{"body":{"spend":01}}`,
		`{"body":{"findings":[null]}}`,
		`{"body":{"principal":{"id":"a","ID":"b"}}}`,
		`{"body":{"decision":"\ud800"}}`,
		"{\"body\":{\"decision\":\"\xff\"}}",
		`{"body":{"args":{"x":tru}}}`,
		`{"body":{"args":{"x":"\q"}}}`,
		`{"body":{}} trailing`,
		`{"body":{"decision":"allow"}}`,
	} {
		checkSame(t, []byte(s))
	}
}

func FuzzFastDecision(f *testing.F) {
	f.Add(entryBytes(f, &event.Decision{Principal: event.DecisionPrincipal{ID: "bot"}, Action: event.DecisionAction{Type: "a"},
		Decision: "deny", Findings: []event.DecisionFinding{{Category: "pii.email"}}, Spend: 7}))
	f.Add([]byte(`{"body":{"decision":"allow","Decision":"deny"}}`))
	f.Add([]byte(`{"body":{"findings":[{"category":"x","Category":"y"}],"spend":-0}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSame(t, data)
	})
}
