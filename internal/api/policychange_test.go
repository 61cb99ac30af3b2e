package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/event"
)

// A tenant made through the API needs one approval by a key other than
// the author before a version can be activated: activating one's own
// version alone, or approving it oneself, is refused and recorded.
func TestPolicyActivationNeedsApproval(t *testing.T) {
	s := newStack(t, stackOptions{})
	r := s.send(t, "POST", "/v1/tenants", s.owner, `{"id":"acme","name":"Acme"}`, http.StatusCreated)
	var made api.NewTenantJSON
	if err := json.Unmarshal(r.body, &made); err != nil {
		t.Fatal(err)
	}
	admin := made.AdminKey.Key
	author := s.createKey(t, admin, `{"role":"policy_author","name":"reviewer"}`)
	doc := "name: pay\nrules: [{id: all, effect: allow}]\n"
	if r := s.do(t, "POST", "/v1/policies", admin, strings.NewReader(doc), "Content-Type", "application/yaml"); r.status != http.StatusCreated {
		t.Fatalf("push = %d %s", r.status, r.body)
	}
	r = s.send(t, "POST", "/v1/policies/pay/versions/1/activate", admin, "", http.StatusConflict)
	if !strings.Contains(problemDetail(t, r), "0 of the 1 approvals") {
		t.Errorf("activation without approval refused with %q", problemDetail(t, r))
	}
	s.send(t, "POST", "/v1/policies/pay/versions/1/approve", admin, "", http.StatusForbidden)
	refused, _ := s.entriesOf(t, "acme", event.KindPolicyRefused)
	if len(refused) != 2 || refused[0].(*event.PolicyRefused).Step != "activate" || refused[1].(*event.PolicyRefused).Step != "approve" {
		t.Fatalf("policy.refused entries %+v, want the activation and the self-approval", refused)
	}
	s.send(t, "POST", "/v1/policies/pay/versions/1/approve", author.Key, "", http.StatusOK)
	s.send(t, "POST", "/v1/policies/pay/versions/1/approve", author.Key, "", http.StatusConflict)
	s.send(t, "POST", "/v1/policies/pay/versions/1/activate", admin, "", http.StatusOK)
	activated, actors := s.entriesOf(t, "acme", event.KindPolicyActive)
	last := activated[len(activated)-1].(*event.PolicyActivated)
	if last.Name != "pay" || len(last.Approvals) != 1 || last.Approvals[0] != author.ID || actors[len(actors)-1] != made.AdminKey.ID {
		t.Errorf("the activation records %+v by %s", last, actors[len(actors)-1])
	}
	var hist struct{ Activations []api.ActivationJSON }
	if err := json.Unmarshal(s.get(t, "/v1/policies/activations", admin, http.StatusOK).body, &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist.Activations) != 2 || hist.Activations[0].Name != "pay" || hist.Activations[0].ActivatedBy != made.AdminKey.ID ||
		hist.Activations[1].ActivatedBy != "system" {
		t.Errorf("activation history %+v, want pay by the admin after the built-in default by system", hist.Activations)
	}
}

// A candidate is evaluated in shadow on every decision: its decision is
// in the answer and the entry, and never changes the answer.
func TestShadowCandidate(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, "name: live\nrules: [{id: all, effect: allow}]\n")
	if r := s.do(t, "POST", "/v1/policies", s.admin, strings.NewReader("name: next\nrules: [{id: all, effect: allow}, {id: no-shell, match: {action: \"shell.*\"}, effect: deny}]\n"),
		"Content-Type", "application/yaml"); r.status != http.StatusCreated {
		t.Fatalf("push = %d %s", r.status, r.body)
	}
	s.send(t, "POST", "/v1/policies/next/versions/1/candidate", s.admin, "", http.StatusOK)
	body := `{"principal":{"id":"bot","type":"agent"},"action":{"type":"shell.exec"}}`
	r := s.send(t, "POST", "/v1/evaluate", s.admin, body, http.StatusOK)
	var a struct {
		Decision string
		Shadow   *struct {
			Decision string
			Reasons  []struct{ Code, Rule string }
		}
	}
	if err := json.Unmarshal(r.body, &a); err != nil || a.Decision != "allow" || a.Shadow == nil || a.Shadow.Decision != "deny" ||
		a.Shadow.Reasons[0].Rule != "no-shell" {
		t.Fatalf("evaluate with a candidate = %s (%v), want allow with a shadow deny by no-shell", r.body, err)
	}
	decisions, _ := s.entriesOf(t, "default", event.KindDecision)
	last := decisions[len(decisions)-1].(*event.Decision)
	if last.Decision != "allow" || last.Shadow == nil || !last.Shadow.Differs || last.Shadow.Policy.Name != "next" {
		t.Errorf("the entry records %+v, shadow %+v", last.Decision, last.Shadow)
	}
	s.send(t, "DELETE", "/v1/policies/candidate", s.admin, "", http.StatusNoContent)
	r = s.send(t, "POST", "/v1/evaluate", s.admin, body, http.StatusOK)
	if strings.Contains(string(r.body), `"shadow"`) {
		t.Errorf("after the candidate was cleared: %s", r.body)
	}
}

// Replay evaluates a version against recorded decisions and reports the
// flips; the shadow report tallies what the candidate recorded live.
func TestReplayAndShadowReport(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.pushAndActivate(t, "name: live\nrules: [{id: all, effect: allow}]\n")
	stricter := "name: next\nrules: [{id: all, effect: allow}, {id: no-shell, match: {action: \"shell.*\"}, effect: deny}]\n"
	if r := s.do(t, "POST", "/v1/policies", s.admin, strings.NewReader(stricter), "Content-Type", "application/yaml"); r.status != http.StatusCreated {
		t.Fatalf("push = %d %s", r.status, r.body)
	}
	eval := func(agent, action string) {
		s.evaluate(t, s.admin, `{"principal":{"id":"`+agent+`","type":"agent"},"action":{"type":"`+action+`"}}`, http.StatusOK)
	}
	for _, a := range []string{"shell.exec", "fs.read", "shell.exec", "docs.search"} {
		eval("bot", a)
	}
	r := s.send(t, "POST", "/v1/policies/replay", s.admin, `{"name":"next","version":1,"examples":1}`, http.StatusOK)
	var rep api.ReplayJSON
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Report.Compared != 4 || rep.Report.Changed != 2 || rep.Report.ByTransition["allow->deny"] != 2 ||
		rep.Report.ByRule["no-shell"] != 2 || rep.Report.ByAction["shell.exec"] != 2 || len(rep.Report.Examples) != 1 {
		t.Fatalf("replay report %s", r.body)
	}
	s.send(t, "GET", "/v1/policies/shadow/report", s.admin, "", http.StatusNotFound) // no candidate yet
	s.send(t, "POST", "/v1/policies/next/versions/1/candidate", s.admin, "", http.StatusOK)
	eval("bot-2", "shell.run")
	eval("bot-2", "fs.read")
	r = s.send(t, "GET", "/v1/policies/shadow/report", s.admin, "", http.StatusOK)
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Report.Compared != 2 || rep.Report.Changed != 1 || rep.Report.ByAgent["bot-2"] != 1 || rep.Policy.Name != "next" {
		t.Fatalf("shadow report %s, want the one flip recorded in shadow", r.body)
	}
	s.send(t, "POST", "/v1/policies/replay", s.admin, `{"name":"nope","version":1}`, http.StatusNotFound)
	s.send(t, "POST", "/v1/policies/replay", s.admin, `{"name":"next","version":1,"from":"yesterday"}`, http.StatusBadRequest)
}
