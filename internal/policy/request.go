package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Request decoding limits.
const (
	// MaxRequestSize bounds an evaluation request's JSON.
	MaxRequestSize = 1 << 20
	// MaxDepth bounds the nesting of args and attributes.
	MaxDepth = 32
	// maxSafeInteger is 2^53: integers beyond it do not survive a float64.
	maxSafeInteger = 1 << 53
	maxIDLength    = 256
)

// ErrBadRequest wraps every reason a request is refused.
var ErrBadRequest = errors.New("bad request")

var actionTypeRE = regexp.MustCompile(`^[a-z0-9_-]+(\.[a-z0-9_-]+)*$`)

// EvaluateRequest is the body of POST /v1/evaluate (DESIGN.md section 2).
type EvaluateRequest struct {
	Request
	// Authorization is the single-use token of an approved request.
	Authorization string `json:"authorization,omitempty"`
}

// wireRequest is decoded strictly; args stay raw until numbers are checked.
type wireRequest struct {
	Principal struct {
		ID         string          `json:"id"`
		Type       string          `json:"type"`
		Attributes json.RawMessage `json:"attributes"`
	} `json:"principal"`
	Action        Action          `json:"action"`
	Args          json.RawMessage `json:"args"`
	Context       Context         `json:"context"`
	Authorization string          `json:"authorization"`
}

// DecodeRequest decodes an evaluation request strictly: one JSON object,
// no unknown field, no trailing data, at most MaxRequestSize bytes and
// MaxDepth levels; numbers are integers within ±2^53 (int64) or decimals
// that a float64 holds exactly as written (float64).
func DecodeRequest(data []byte) (*EvaluateRequest, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
	}
	if len(data) > MaxRequestSize {
		return nil, bad("body of %d bytes, limit %d", len(data), MaxRequestSize)
	}
	var w wireRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, bad("%v", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, bad("trailing data after the request")
	}
	r := &EvaluateRequest{Authorization: w.Authorization}
	r.Principal.ID, r.Principal.Type = w.Principal.ID, w.Principal.Type
	r.Action, r.Context = w.Action, w.Context
	switch {
	case r.Principal.ID == "" || len(r.Principal.ID) > maxIDLength:
		return nil, bad("principal.id is required (at most %d bytes)", maxIDLength)
	case r.Principal.Type != "agent" && r.Principal.Type != "user" && r.Principal.Type != "service":
		return nil, bad("principal.type %q must be agent, user or service", r.Principal.Type)
	case len(r.Action.Type) > maxIDLength || !actionTypeRE.MatchString(r.Action.Type):
		return nil, bad("action.type %q must be dotted lower-case words", r.Action.Type)
	}
	for name, v := range map[string]string{"action.resource": r.Action.Resource, "action.operation": r.Action.Operation,
		"context.session_id": r.Context.SessionID, "context.trace_id": r.Context.TraceID,
		"context.parent_receipt_id": r.Context.ParentReceiptID, "context.environment": r.Context.Environment} {
		if len(v) > 4*maxIDLength {
			return nil, bad("%s is longer than %d bytes", name, 4*maxIDLength)
		}
	}
	var err error
	if r.Args, err = decodeObject(w.Args, "args"); err != nil {
		return nil, bad("%v", err)
	}
	if r.Principal.Attributes, err = decodeObject(w.Principal.Attributes, "principal.attributes"); err != nil {
		return nil, bad("%v", err)
	}
	return r, nil
}

// decodeObject decodes an optional JSON object with checked numbers.
func decodeObject(raw json.RawMessage, name string) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an object", name)
	}
	out, err := convert(m, name, 1)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// convert replaces json.Numbers with int64 or float64 and bounds depth.
func convert(v any, path string, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d levels", path, MaxDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			c, err := convert(e, path+"."+k, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	case []any:
		for i, e := range x {
			c, err := convert(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case json.Number:
		return number(string(x), path)
	}
	return v, nil
}

// number checks one JSON number.
func number(s, path string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxSafeInteger || n < -maxSafeInteger {
			return nil, fmt.Errorf("%s: integer %s is outside ±2^53 (send amounts as integer minor units)", path, s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%s: number %s does not fit a float64", path, s)
	}
	if significantDigits(s) > 15 {
		// Beyond 15 significant digits a decimal may not survive a
		// float64 as written; refuse rather than silently change it.
		return nil, fmt.Errorf("%s: number %s has more precision than a float64 holds exactly", path, s)
	}
	return f, nil
}

// significantDigits counts the digits of a JSON number's mantissa without
// leading or trailing zeros.
func significantDigits(s string) int {
	mant := s
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		mant = mant[:i]
	}
	mant = strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(mant, "-"), ".", ""), "0")
	return len(strings.TrimRight(mant, "0"))
}
