package monitor

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/policy"
)

func TestMonitorParseObservation(t *testing.T) {
	good := `{"time":"2025-01-06T09:30:00.25Z","tenant":"acme","agent":"bot","action":"payments.send","decision":"allow","findings":["pii.email"],"spend":0.0042,"outcome":"succeeded","latency_ms":182.5}`
	o, err := ParseObservation([]byte(good))
	if err != nil {
		t.Fatalf("ParseObservation(good) = %v", err)
	}
	want := Observation{Time: time.Date(2025, 1, 6, 9, 30, 0, 250e6, time.UTC), Tenant: "acme", Agent: "bot",
		Action: "payments.send", Decision: Allow, Findings: []string{"pii.email"}, Spend: 0.0042,
		Outcome: Succeeded, LatencyMS: 182.5, HasLatency: true}
	if !o.Time.Equal(want.Time) {
		t.Fatalf("time = %v, want %v", o.Time, want.Time)
	}
	o.Time = want.Time
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("ParseObservation(good) = %+v, want %+v", o, want)
	}
	if o, err := ParseObservation([]byte(`{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","outcome":"failed","latency_ms":0}`)); err != nil || o.Decision != "" || !o.HasLatency {
		t.Errorf("an outcome alone = %+v, %v; want it accepted", o, err)
	}

	bad := []struct {
		name, line string
	}{
		{"empty", ``},
		{"not an object", `[1]`},
		{"unknown field", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow","cost":1}`},
		{"trailing data", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow"} {}`},
		{"no time", `{"tenant":"a","agent":"b","action":"x","decision":"allow"}`},
		{"bad time", `{"time":"yesterday","tenant":"a","agent":"b","action":"x","decision":"allow"}`},
		{"time out of range", `{"time":"1970-01-01T00:00:00Z","tenant":"a","agent":"b","action":"x","decision":"allow"}`},
		{"no tenant", `{"time":"2025-01-06T09:30:00Z","agent":"b","action":"x","decision":"allow"}`},
		{"no agent", `{"time":"2025-01-06T09:30:00Z","tenant":"a","action":"x","decision":"allow"}`},
		{"unknown decision", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"maybe"}`},
		{"decision without action", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","decision":"deny"}`},
		{"action without decision", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","outcome":"failed"}`},
		{"neither", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b"}`},
		{"unknown outcome", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","outcome":"meh"}`},
		{"latency without outcome", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow","latency_ms":3}`},
		{"negative latency", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","outcome":"failed","latency_ms":-3}`},
		{"negative spend", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow","spend":-1}`},
		{"huge spend", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow","spend":1e400}`},
		{"empty category", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow","findings":[""]}`},
		{"long agent", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"` + strings.Repeat("b", MaxIDBytes+1) + `","action":"x","decision":"allow"}`},
		{"long line", `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow","findings":["` + strings.Repeat("x", MaxLineBytes) + `"]}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if o, err := ParseObservation([]byte(tt.line)); !errors.Is(err, ErrTrace) {
				t.Errorf("ParseObservation() = %+v, %v; want ErrTrace", o, err)
			}
		})
	}
}

func TestMonitorTraceReader(t *testing.T) {
	line := `{"time":"2025-01-06T09:30:00Z","tenant":"a","agent":"b","action":"x","decision":"allow"}`
	tests := []struct {
		name    string
		in      string
		n       int
		errLine int // 0: ends with io.EOF
	}{
		{"empty", "", 0, 0},
		{"one, newline", line + "\n", 1, 0},
		{"one, no newline", line, 1, 0},
		{"two", line + "\n" + line + "\n", 2, 0},
		{"blank line", line + "\n\n" + line + "\n", 1, 2},
		{"bad second line", line + "\n{}\n", 1, 2},
		{"long line", line + "\n" + strings.Repeat(" ", MaxLineBytes+10) + "\n", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTraceReader(strings.NewReader(tt.in))
			n := 0
			for {
				_, err := tr.Next()
				if errors.Is(err, io.EOF) {
					if tt.errLine != 0 {
						t.Fatalf("read %d lines to the end, want an error on line %d", n, tt.errLine)
					}
					break
				}
				if err != nil {
					if !errors.Is(err, ErrTrace) || tr.Line() != tt.errLine {
						t.Fatalf("error %v on line %d, want ErrTrace on line %d", err, tr.Line(), tt.errLine)
					}
					break
				}
				n++
			}
			if n != tt.n {
				t.Errorf("read %d observations, want %d", n, tt.n)
			}
		})
	}
}

func TestMonitorMarshalRoundTrip(t *testing.T) {
	for _, o := range snapshotTrace(20) {
		b, err := MarshalObservation(&o)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseObservation(b)
		if err != nil {
			t.Fatalf("ParseObservation(MarshalObservation(%+v)) = %v", o, err)
		}
		if !back.Time.Equal(o.Time) {
			t.Fatalf("time %v came back as %v", o.Time, back.Time)
		}
		back.Time = o.Time
		if !reflect.DeepEqual(back, o) {
			t.Fatalf("round trip of %+v gave %+v", o, back)
		}
	}
}

func TestMonitorValuesMatchLedger(t *testing.T) {
	for _, p := range [][2]string{
		{Allow, policy.Allow}, {Deny, policy.Deny}, {RequireApproval, policy.RequireApproval}, {RateLimited, policy.RateLimited},
		{Succeeded, event.OutcomeSucceeded}, {Failed, event.OutcomeFailed},
	} {
		if p[0] != p[1] {
			t.Errorf("monitor value %q, ledger value %q", p[0], p[1])
		}
	}
}

// Seeds are under testdata/fuzz/FuzzMonitorTraceLine.
func FuzzMonitorTraceLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		o, err := ParseObservation(line)
		if err != nil {
			if !errors.Is(err, ErrTrace) {
				t.Fatalf("ParseObservation(%q) = %v, not ErrTrace", line, err)
			}
			return
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("ParseObservation accepted %q, which Validate rejects: %v", line, err)
		}
		b, err := MarshalObservation(&o)
		if err != nil {
			t.Fatalf("MarshalObservation(%+v) = %v", o, err)
		}
		back, err := ParseObservation(b)
		if err != nil || !back.Time.Equal(o.Time) {
			t.Fatalf("re-parse of %q = %+v, %v", b, back, err)
		}
		back.Time = o.Time
		if !reflect.DeepEqual(back, o) {
			t.Fatalf("round trip of %q: %+v, want %+v", line, back, o)
		}
		m, err := New(DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Observe(&o); err != nil {
			t.Fatalf("Observe(%+v) = %v after the decoder accepted it", o, err)
		}
		m.Advance(o.Time.Add(time.Hour))
	})
}
