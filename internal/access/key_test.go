package access

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// seeded returns a deterministic random reader for tests.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

func TestNewKeyFormat(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k, presented, err := NewKey(seeded(1), "default", RoleAdmin, "ci", now)
	if err != nil {
		t.Fatalf("NewKey = %v, want nil", err)
	}
	id, secret, err := ParseKey(presented)
	if err != nil {
		t.Fatalf("ParseKey(%q) = %v, want nil", presented, err)
	}
	if id != k.ID {
		t.Errorf("ParseKey id = %q, want %q", id, k.ID)
	}
	if len(secret) < 52 { // 256 bits in base32
		t.Errorf("secret has %d characters, want >= 52", len(secret))
	}
	if strings.ToLower(presented) != presented || strings.Count(presented, "_") != 2 {
		t.Errorf("key %q is not wdn_<id>_<secret> in lower case", presented)
	}
	if bytes.Contains(k.Hash[:], []byte(secret)) || strings.Contains(k.String(), secret) {
		t.Error("stored key holds the secret")
	}
	if !k.Matches(secret) {
		t.Error("Matches(own secret) = false, want true")
	}
	if k.Matches(strings.Repeat("a", len(secret))) {
		t.Error("Matches(other secret) = true, want false")
	}
	if !k.Created.Equal(now) {
		t.Errorf("Created = %v, want %v", k.Created, now)
	}
	_, other, _ := NewKey(seeded(2), "default", RoleAdmin, "ci", now)
	if other == presented {
		t.Error("two keys from different randomness are equal")
	}
}

func TestNewKeyRejectsUnknownRole(t *testing.T) {
	if _, _, err := NewKey(seeded(1), "default", Role("root"), "x", time.Now()); err == nil {
		t.Error("NewKey(role root) = nil, want error")
	}
}

func TestParseKeyRejects(t *testing.T) {
	_, good, _ := NewKey(seeded(3), "default", RoleAuditor, "x", time.Now())
	id, secret, _ := ParseKey(good)
	tests := []struct{ name, key string }{
		{"empty", ""},
		{"no prefix", id + "_" + secret},
		{"other prefix", "wdx_" + id + "_" + secret},
		{"no secret", "wdn_" + id},
		{"short secret", "wdn_" + id + "_" + secret[:20]},
		{"upper case", "wdn_" + strings.ToUpper(id) + "_" + secret},
		{"not base32", "wdn_" + id + "_" + strings.Repeat("1", len(secret))},
		{"extra part", good + "_x"},
		{"short id", "wdn_" + id[:8] + "_" + secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ParseKey(tt.key); !errors.Is(err, ErrBadKey) {
				t.Errorf("ParseKey(%q) = %v, want ErrBadKey", tt.key, err)
			}
		})
	}
}

type keyMap map[string]*Key

func (m keyMap) KeyByID(_ context.Context, id string) (*Key, error) {
	if k, ok := m[id]; ok {
		return k, nil
	}
	return nil, ErrNotFound
}

func TestAuthenticate(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	k, presented, _ := NewKey(seeded(4), "default", RoleAdmin, "x", now)
	revoked, revokedKey, _ := NewKey(seeded(5), "default", RoleAdmin, "x", now)
	rt := now.Add(-time.Minute)
	revoked.Revoked = &rt
	expired, expiredKey, _ := NewKey(seeded(6), "default", RoleAdmin, "x", now)
	et := now.Add(-time.Second)
	expired.Expires = &et
	store := keyMap{k.ID: k, revoked.ID: revoked, expired.ID: expired}
	_, unknownKey, _ := NewKey(seeded(7), "default", RoleAdmin, "x", now)
	id, _, _ := ParseKey(presented)
	_, otherSecret, _ := ParseKey(unknownKey)

	if got, err := Authenticate(context.Background(), store, presented, now); err != nil || got.ID != k.ID {
		t.Fatalf("Authenticate(valid) = %v, %v; want key %s", got, err, k.ID)
	}
	for name, key := range map[string]string{
		"unknown id":   unknownKey,
		"wrong secret": "wdn_" + id + "_" + otherSecret,
		"revoked":      revokedKey,
		"expired":      expiredKey,
		"malformed":    "Bearer nonsense",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Authenticate(context.Background(), store, key, now); !errors.Is(err, ErrBadKey) {
				t.Errorf("Authenticate(%s) = %v, want ErrBadKey", name, err)
			}
		})
	}
}

func TestRolePermissions(t *testing.T) {
	for _, r := range []Role{RoleOwner, RoleAdmin, RoleAuditor} {
		if !r.Allows(PermLedgerRead) {
			t.Errorf("%s.Allows(ledger.read) = false, want true", r)
		}
	}
	for _, r := range []Role{RoleAgent, RoleApprover, RoleOperator, RolePolicyAuthor, Role("nobody")} {
		if r.Allows(PermLedgerRead) {
			t.Errorf("%s.Allows(ledger.read) = true, want false", r)
		}
	}
	if Role("nobody").Valid() {
		t.Error(`Role("nobody").Valid() = true`)
	}
}

func FuzzParseKey(f *testing.F) {
	_, good, _ := NewKey(seeded(8), "default", RoleAdmin, "x", time.Now())
	f.Add(good)
	f.Add("wdn__")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := ParseKey(s)
		if err != nil {
			return
		}
		if "wdn_"+id+"_"+secret != s {
			t.Fatalf("ParseKey(%q) accepted a key that does not round-trip", s)
		}
	})
}

func TestHoldsKey(t *testing.T) {
	_, presented, err := NewKey(seeded(3), "acme", RoleAuditor, "x", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{
		presented:                         true,
		"ci key " + presented + " (prod)": true,
		"wdn_" + presented:                true,
		presented[:len(presented)-1]:      false,
		"wdn_ and more wdn_":              false,
		"":                                false,
	} {
		if got := HoldsKey(s); got != want {
			t.Errorf("HoldsKey(%.30q…) = %v, want %v", s, got, want)
		}
	}
}
