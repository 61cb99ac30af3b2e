package monitor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// A trace is JSON Lines: one observation per line, in time order
// (docs/monitor.md):
//
//	{"time":"2025-01-01T09:30:00.250Z","tenant":"acme","agent":"billing-bot","action":"payments.send",
//	 "decision":"allow","findings":["pii.email"],"spend":0.0042,"outcome":"succeeded","latency_ms":182.5}
//
// time (RFC 3339), tenant and agent are required; action and decision go
// together; outcome and latency_ms are the outcome's (a line with an
// outcome and no decision is an outcome alone). Unknown fields, trailing
// data and lines over MaxLineBytes are rejected.

// MaxLineBytes bounds one line of a trace.
const MaxLineBytes = 64 << 10

// ErrTrace is returned (wrapped) for a line that is not an observation.
var ErrTrace = errors.New("invalid trace line")

// wireObservation is a trace line.
type wireObservation struct {
	Time      string   `json:"time"`
	Tenant    string   `json:"tenant"`
	Agent     string   `json:"agent"`
	Action    string   `json:"action,omitempty"`
	Decision  string   `json:"decision,omitempty"`
	Findings  []string `json:"findings,omitempty"`
	Spend     float64  `json:"spend,omitempty"`
	Outcome   string   `json:"outcome,omitempty"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
}

// ParseObservation decodes one trace line strictly.
func ParseObservation(line []byte) (Observation, error) {
	bad := func(format string, args ...any) (Observation, error) {
		return Observation{}, fmt.Errorf("%w: %s", ErrTrace, fmt.Sprintf(format, args...))
	}
	if len(line) > MaxLineBytes {
		return bad("line of %d bytes, limit %d", len(line), MaxLineBytes)
	}
	var w wireObservation
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return bad("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("trailing data after the observation")
	}
	if w.Time == "" {
		return bad("time is required")
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return bad("time %q is not RFC 3339", w.Time)
	}
	o := Observation{Time: t, Tenant: w.Tenant, Agent: w.Agent, Action: w.Action, Decision: w.Decision,
		Findings: w.Findings, Spend: w.Spend, Outcome: w.Outcome}
	if len(o.Findings) == 0 {
		o.Findings = nil
	}
	if w.LatencyMS != nil {
		o.LatencyMS, o.HasLatency = *w.LatencyMS, true
	}
	if o.Decision == "" && o.Action != "" {
		return bad("an action without a decision")
	}
	if err := o.Validate(); err != nil {
		return bad("%v", err)
	}
	return o, nil
}

// MarshalObservation encodes o as one trace line, without the newline.
func MarshalObservation(o *Observation) ([]byte, error) {
	w := wireObservation{Time: o.Time.UTC().Format(time.RFC3339Nano), Tenant: o.Tenant, Agent: o.Agent,
		Action: o.Action, Decision: o.Decision, Findings: o.Findings, Spend: o.Spend, Outcome: o.Outcome}
	if o.HasLatency {
		l := o.LatencyMS
		w.LatencyMS = &l
	}
	return json.Marshal(&w)
}

// TraceReader reads a trace line by line.
type TraceReader struct {
	r    *bufio.Reader
	line int
}

// NewTraceReader returns a reader of the trace in r.
func NewTraceReader(r io.Reader) *TraceReader {
	return &TraceReader{r: bufio.NewReaderSize(r, 1<<16)}
}

// Line is the number of the line Next read last.
func (t *TraceReader) Line() int { return t.line }

// Next returns the next observation, or io.EOF after the last. A final
// line without a newline is read; an empty line is an error. After an
// error the reader is not to be used again.
func (t *TraceReader) Next() (Observation, error) {
	var buf []byte
	for {
		chunk, err := t.r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineBytes+1 {
			t.line++
			return Observation{}, fmt.Errorf("line %d: %w: longer than %d bytes", t.line, ErrTrace, MaxLineBytes)
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Observation{}, err
		}
		if len(buf) == 0 {
			return Observation{}, io.EOF
		}
		break
	}
	t.line++
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	o, err := ParseObservation(buf)
	if err != nil {
		return o, fmt.Errorf("line %d: %w", t.line, err)
	}
	return o, nil
}
