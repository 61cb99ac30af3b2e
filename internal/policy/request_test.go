package policy

import (
	"errors"
	"strings"
	"testing"
)

const goodRequest = `{
  "principal": {"id": "billing-bot", "type": "agent", "attributes": {"team": "payments"}},
  "action":    {"type": "stripe.charges.create", "resource": "stripe://customers/cus_1", "operation": "create"},
  "args":      {"amount": 1200, "currency": "usd", "rate": 0.25, "tags": [1, 2.5], "deep": {"n": -7}},
  "context":   {"session_id": "s-42", "trace_id": "t-1", "parent_receipt_id": "", "environment": "production"}
}`

func TestDecodeRequest(t *testing.T) {
	r, err := DecodeRequest([]byte(goodRequest))
	if err != nil {
		t.Fatalf("DecodeRequest(good) = %v, want nil", err)
	}
	if r.Principal.ID != "billing-bot" || r.Action.Type != "stripe.charges.create" || r.Context.SessionID != "s-42" {
		t.Errorf("DecodeRequest(good) = %+v", r)
	}
	if v, ok := r.Args["amount"].(int64); !ok || v != 1200 {
		t.Errorf("args.amount = %#v, want int64 1200", r.Args["amount"])
	}
	if v, ok := r.Args["rate"].(float64); !ok || v != 0.25 {
		t.Errorf("args.rate = %#v, want float64 0.25", r.Args["rate"])
	}
	if v := r.Args["deep"].(map[string]any)["n"]; v != int64(-7) {
		t.Errorf("args.deep.n = %#v, want int64 -7", v)
	}
	if tags := r.Args["tags"].([]any); tags[0] != int64(1) || tags[1] != 2.5 {
		t.Errorf("args.tags = %#v", tags)
	}
	if r.Principal.Attributes["team"] != "payments" {
		t.Errorf("attributes = %#v", r.Principal.Attributes)
	}
}

func TestDecodeRequestRejects(t *testing.T) {
	base := func(args string) string {
		return `{"principal":{"id":"a","type":"agent"},"action":{"type":"x.y"},"args":` + args + `}`
	}
	tests := []struct{ name, body, want string }{
		{"unknown field", `{"principal":{"id":"a","type":"agent"},"action":{"type":"x"},"extra":1}`, "unknown field"},
		{"unknown nested field", `{"principal":{"id":"a","type":"agent","role":"x"},"action":{"type":"x"}}`, "unknown field"},
		{"trailing data", base(`{}`) + `{}`, "trailing"},
		{"not an object", `[]`, "cannot unmarshal"},
		{"no principal id", `{"principal":{"type":"agent"},"action":{"type":"x"}}`, "principal.id"},
		{"bad principal type", `{"principal":{"id":"a","type":"robot"},"action":{"type":"x"}}`, "principal.type"},
		{"upper-case action", `{"principal":{"id":"a","type":"agent"},"action":{"type":"Stripe.Charge"}}`, "action.type"},
		{"empty action", `{"principal":{"id":"a","type":"agent"},"action":{"type":""}}`, "action.type"},
		{"args not an object", base(`[1]`), "args must be an object"},
		{"integer beyond 2^53", base(`{"n": 9007199254740993}`), "±2^53"},
		{"integer beyond int64", base(`{"n": 99999999999999999999}`), "±2^53"},
		{"too precise decimal", base(`{"n": 0.12345678901234567}`), "precision"},
		{"overflowing float", base(`{"n": 1e400}`), "float64"},
		{"too deep", base(strings.Repeat(`{"a":`, MaxDepth+1) + `1` + strings.Repeat(`}`, MaxDepth+1)), "deeper"},
		{"too large", base(`{"s":"` + strings.Repeat("x", MaxRequestSize) + `"}`), "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRequest([]byte(tt.body))
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeRequest = %v, want ErrBadRequest containing %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(goodRequest))
	f.Add([]byte(`{"principal":{"id":"a","type":"user"},"action":{"type":"a"},"args":{"x":[1,{"y":1e2}]}}`))
	f.Add([]byte(`{"principal":{"id":"a","type":"service"},"action":{"type":"a"},"args":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("DecodeRequest error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if r.Principal.ID == "" || r.Args == nil || r.Principal.Attributes == nil {
			t.Fatalf("DecodeRequest accepted %q as %+v", b, r)
		}
		var check func(v any)
		check = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for _, e := range x {
					check(e)
				}
			case []any:
				for _, e := range x {
					check(e)
				}
			case int64, float64, string, bool, nil:
			default:
				t.Fatalf("DecodeRequest left a %T in args", v)
			}
		}
		check(r.Args)
	})
}
