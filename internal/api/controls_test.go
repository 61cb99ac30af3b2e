package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/event"
)

// A kill switch wins over the policy from the next decision on: deny for
// its scope, require_approval holding what the policy allows; clearing it
// lifts it; each change is an entry with its actor.
func TestKillSwitch(t *testing.T) {
	clk := &testClock{now: time.Now().UTC()}
	s := newStack(t, stackOptions{clock: clk.Now})
	s.pushAndActivate(t, "name: open\nrules: [{id: all, effect: allow}]\n")
	op := s.createKey(t, s.admin, `{"role":"operator","name":"on call"}`)
	eval := func(agent, action string) *answer {
		return s.evaluate(t, s.admin, `{"principal":{"id":"`+agent+`","type":"agent"},"action":{"type":"`+action+`"},"context":{"session_id":"s1"}}`, http.StatusOK)
	}
	r := s.send(t, "POST", "/v1/controls", op.Key, `{"scope":{"agent":"bot-*","action":"shell.*"},"effect":"deny","reason":"incident 42"}`, http.StatusCreated)
	var c api.ControlJSON
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatal(err)
	}
	if a := eval("bot-1", "shell.exec"); a.Decision != "deny" || a.Reasons[0].Code != "control" || a.Reasons[0].Rule != c.ID ||
		a.Reasons[0].Message != "incident 42" {
		t.Fatalf("in scope: %+v, want deny by the control", a)
	}
	if a := eval("bot-1", "fs.read"); a.Decision != "allow" {
		t.Fatalf("another action: %+v", a)
	}
	if a := eval("other", "shell.exec"); a.Decision != "allow" {
		t.Fatalf("another agent: %+v", a)
	}
	hold := s.send(t, "POST", "/v1/controls", s.admin, `{"scope":{"session":"s1"},"effect":"require_approval","reason":"review the session","expires_at":"`+
		clk.Now().Add(time.Hour).Format(time.RFC3339)+`"}`, http.StatusCreated)
	if a := eval("other", "fs.read"); a.Decision != "require_approval" || a.Reasons[0].Code != "control" || a.ApprovalID == "" {
		t.Fatalf("the session held: %+v, want require_approval by the control with an approval request", a)
	}
	clk.Advance(2 * time.Hour) // the hold expires
	if a := eval("other", "fs.read"); a.Decision != "allow" {
		t.Fatalf("after the hold expired: %+v", a)
	}
	list := s.get(t, "/v1/controls", s.admin, http.StatusOK)
	if !strings.Contains(string(list.body), c.ID) || strings.Contains(string(list.body), "review the session") {
		t.Errorf("GET /v1/controls = %s, want the deny only (the hold expired)", list.body)
	}
	s.send(t, "DELETE", "/v1/controls/"+c.ID, op.Key, "", http.StatusNoContent)
	if a := eval("bot-1", "shell.exec"); a.Decision != "allow" {
		t.Fatalf("after clearing: %+v", a)
	}
	s.send(t, "DELETE", "/v1/controls/"+c.ID, op.Key, "", http.StatusNotFound)
	set, actors := s.entriesOf(t, "default", event.KindControlSet)
	cleared, _ := s.entriesOf(t, "default", event.KindControlCleared)
	if len(set) != 2 || actors[0] != op.ID || len(cleared) != 1 {
		t.Errorf("control entries: %d set (by %v), %d cleared", len(set), actors, len(cleared))
	}
	_ = hold
	// Refused: a bad effect, no reason, a bad glob; an auditor may read
	// but not set.
	for _, body := range []string{`{"effect":"allow","reason":"x"}`, `{"effect":"deny","reason":""}`, `{"scope":{"agent":"a[b"},"effect":"deny","reason":"x"}`} {
		s.send(t, "POST", "/v1/controls", s.admin, body, http.StatusBadRequest)
	}
	aud := s.createKey(t, s.admin, `{"role":"auditor","name":"aud"}`)
	s.get(t, "/v1/controls", aud.Key, http.StatusOK)
	s.send(t, "POST", "/v1/controls", aud.Key, `{"effect":"deny","reason":"x"}`, http.StatusForbidden)
}

// setControl sets a switch as the admin and returns its id.
func (s *stack) setControl(t *testing.T, body string) string {
	t.Helper()
	r := s.send(t, "POST", "/v1/controls", s.admin, body, http.StatusCreated)
	var c api.ControlJSON
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}
