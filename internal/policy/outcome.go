package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Outcome statuses a caller may report.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// maxOutcomeError bounds the error text of an outcome.
const maxOutcomeError = 4096

// Outcome is the body of POST /v1/receipts/{id}/outcome: what happened
// when an allowed action ran.
type Outcome struct {
	Status     string `json:"status"`
	Output     any    `json:"output,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	Error      string `json:"error,omitempty"`
}

// DecodeOutcome decodes an outcome report with the strictness of
// DecodeRequest: one object, no unknown field, no trailing data, at most
// MaxRequestSize bytes, output nested at most MaxDepth levels with checked
// numbers.
func DecodeOutcome(data []byte) (*Outcome, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
	}
	if len(data) > MaxRequestSize {
		return nil, bad("body of %d bytes, limit %d", len(data), MaxRequestSize)
	}
	var w struct {
		Status     string          `json:"status"`
		Output     json.RawMessage `json:"output"`
		DurationMS *int64          `json:"duration_ms"`
		Error      string          `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, bad("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("trailing data after the outcome")
	}
	switch w.Status {
	case OutcomeSucceeded, OutcomeFailed:
	case "":
		return nil, bad("status is required (succeeded or failed)")
	default:
		return nil, bad("status %q is not succeeded or failed", w.Status)
	}
	if w.DurationMS != nil && (*w.DurationMS < 0 || *w.DurationMS > maxSafeInteger) {
		return nil, bad("duration_ms must be a non-negative integer")
	}
	if len(w.Error) > maxOutcomeError {
		return nil, bad("error of %d bytes, limit %d", len(w.Error), maxOutcomeError)
	}
	out := &Outcome{Status: w.Status, DurationMS: w.DurationMS, Error: w.Error}
	if len(w.Output) > 0 && string(w.Output) != "null" {
		d := json.NewDecoder(bytes.NewReader(w.Output))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, bad("output: %v", err)
		}
		c, err := convert(v, "output", 1)
		if err != nil {
			return nil, bad("%v", err)
		}
		out.Output = c
	}
	return out, nil
}
