package event

import (
	"slices"
	"testing"
)

func TestNewChecksBodyType(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		body    any
		wantErr bool
	}{
		{"pointer body", KindTenantCreated, &TenantCreated{TenantID: "a", Name: "A"}, false},
		{"value body", KindKeyCreated, KeyCreated{KeyID: "k"}, false},
		{"wrong body", KindTenantCreated, &KeyCreated{}, true},
		{"map body", KindKeyCreated, map[string]any{"key_id": "k"}, true},
		{"unknown kind", "tenant.exploded", &TenantCreated{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := New(tt.kind, ActorSystem, tt.body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%s, %T) = %v, wantErr %v", tt.kind, tt.body, err, tt.wantErr)
			}
			if err == nil && (req.Kind != tt.kind || req.Actor != ActorSystem) {
				t.Errorf("New(%s) = %+v, want kind and actor set", tt.kind, req)
			}
		})
	}
}

func TestDecodeIsStrict(t *testing.T) {
	v, err := Decode(KindKeyCreated, []byte(`{"key_id":"k1","tenant_id":"default","role":"admin","name":"n"}`))
	if err != nil {
		t.Fatalf("Decode(valid) = %v, want nil", err)
	}
	if k := v.(*KeyCreated); k.KeyID != "k1" || k.Role != "admin" {
		t.Errorf("Decode(valid) = %+v", k)
	}
	for name, body := range map[string]string{
		"unknown field": `{"key_id":"k1","secret":"s"}`,
		"trailing":      `{"key_id":"k1"} {}`,
		"not object":    `[]`,
	} {
		if _, err := Decode(KindKeyCreated, []byte(body)); err == nil {
			t.Errorf("Decode(%s) = nil, want error", name)
		}
	}
	if _, err := Decode("nope", []byte(`{}`)); err == nil {
		t.Error("Decode(unknown kind) = nil, want error")
	}
}

func TestKindsRegistered(t *testing.T) {
	got := Kinds()
	for _, k := range []string{KindTenantCreated, KindKeyCreated} {
		if !slices.Contains(got, k) {
			t.Errorf("Kinds() = %v, missing %s", got, k)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("Kinds() = %v, not sorted", got)
	}
}
