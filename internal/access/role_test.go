package access

import (
	"testing"
	"time"
)

// The grant rule as DESIGN.md section 8 states it: only owner and admin
// create keys, never of a role above their own (owner > admin > the rest).
func TestCanGrant(t *testing.T) {
	others := []Role{RolePolicyAuthor, RoleApprover, RoleOperator, RoleAuditor, RoleAgent}
	for _, actor := range Roles {
		for _, target := range Roles {
			want := false
			switch actor {
			case RoleOwner:
				want = true
			case RoleAdmin:
				want = target != RoleOwner
			}
			if got := CanGrant(actor, target); got != want {
				t.Errorf("CanGrant(%s, %s) = %v, want %v", actor, target, got, want)
			}
		}
		if CanGrant(actor, "root") {
			t.Errorf("CanGrant(%s, root) = true for an unknown role", actor)
		}
	}
	for _, r := range others {
		if r.rank() >= RoleAdmin.rank() {
			t.Errorf("%s ranks with admin", r)
		}
	}
}

func TestSpeaksFor(t *testing.T) {
	agent := &Key{Role: RoleAgent, Bindings: []string{"bot-*", "exact"}}
	for principal, want := range map[string]bool{"bot-1": true, "bot-": true, "exact": true, "exact2": false, "robot-1": false, "": false} {
		if got := agent.SpeaksFor(principal); got != want {
			t.Errorf("agent bound to %v SpeaksFor(%q) = %v, want %v", agent.Bindings, principal, got, want)
		}
	}
	if (&Key{Role: RoleAgent}).SpeaksFor("anyone") {
		t.Error("an agent key without bindings speaks for someone")
	}
	if !(&Key{Role: RoleAdmin}).SpeaksFor("anyone") {
		t.Error("an admin key does not speak for any principal")
	}
}

func TestValidateKey(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	for _, tc := range []struct {
		name     string
		tenant   string
		role     Role
		keyName  string
		groups   []string
		bindings []string
		expires  *time.Time
		ok       bool
	}{
		{"admin", "acme", RoleAdmin, "ci", []string{"sre", "eu.payments"}, nil, &future, true},
		{"agent bound", "acme", RoleAgent, "bot", nil, []string{"bot-*"}, nil, true},
		{"agent unbound", "acme", RoleAgent, "bot", nil, nil, nil, false},
		{"bindings on admin", "acme", RoleAdmin, "ci", nil, []string{"x"}, nil, false},
		{"bad binding", "acme", RoleAgent, "bot", nil, []string{"bot[1]"}, nil, false},
		{"bad group", "acme", RoleAuditor, "a", []string{"Ops Team"}, nil, nil, false},
		{"owner in a tenant", "acme", RoleOwner, "o", nil, nil, nil, false},
		{"admin in _system", "_system", RoleAdmin, "o", nil, nil, nil, false},
		{"owner in _system", "_system", RoleOwner, "o", nil, nil, nil, true},
		{"unknown role", "acme", "root", "r", nil, nil, nil, false},
		{"empty name", "acme", RoleAuditor, "", nil, nil, nil, false},
		{"expired", "acme", RoleAuditor, "a", nil, nil, &past, false},
	} {
		err := validateKey(tc.tenant, tc.role, tc.keyName, tc.groups, tc.bindings, tc.expires, now)
		if (err == nil) != tc.ok {
			t.Errorf("%s: validateKey = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestSettingsPatch(t *testing.T) {
	days, approvals, same := 30, 2, DefaultSettings.RetentionDays
	next, cs := SettingsPatch{RetentionDays: &days, PolicyApprovals: &approvals}.apply(DefaultSettings)
	if next.RetentionDays != 30 || next.PolicyApprovals != 2 || len(cs) != 2 {
		t.Fatalf("apply = %+v with %d changes, want both changed", next, len(cs))
	}
	if _, cs := (SettingsPatch{RetentionDays: &same}).apply(DefaultSettings); len(cs) != 0 {
		t.Fatalf("a patch to the current value changes %v", cs)
	}
	zero, many := 0, MaxPolicyApprovals+1
	for _, s := range []Settings{{RetentionDays: zero}, {RetentionDays: 30, PolicyApprovals: many}, {RetentionDays: MaxRetentionDays + 1}} {
		if s.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", s)
		}
	}
	if err := DefaultSettings.Validate(); err != nil {
		t.Errorf("the default settings are invalid: %v", err)
	}
}
