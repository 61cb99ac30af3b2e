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
		v, err := DecodeValue(w.Output, "output")
		if err != nil {
			return nil, err
		}
		out.Output = v
	}
	return out, nil
}

// DecodeValue decodes one JSON value (any type) with the number and depth
// rules of DecodeRequest; name prefixes its errors.
func DecodeValue(raw json.RawMessage, name string) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadRequest, name, err)
	}
	c, err := convert(v, name, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return c, nil
}
