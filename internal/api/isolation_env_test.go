package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/scan"
)

// allowAll is default's policy (other's, otherPolicy, allows as well), so
// that evaluate answers allow and outcomes can be reported.
const allowAll = "name: allowall\nrules: [{id: all, effect: allow}, {id: ask, match: {action: \"pay.*\"}, effect: require_approval}]\n"

// Markers of tenant other: strings that only other's objects hold. They
// contain digits outside the base32 alphabet of key and receipt ids and
// are long enough not to turn up by chance in base64 hashes.
const (
	otherTenant    = "other"
	otherAgentOne  = "q9x0-agent-one"
	otherAgentTwo  = "q9x0-agent-two"
	otherAgentGlob = "q9x0-agent-*"
	otherPolicy    = "q9x0-policy"
	otherRuleA     = "q9x0-rule-alpha"
	otherRuleB     = "q9x0-rule-beta"
	otherKeyName   = "q9x0-key-name"
	otherAgentKey  = "q9x0-agent-key"
	otherGroup     = "q9x0-group"
	otherArg       = "q9x0-arg-secret"
	otherAction    = "q9x0-act.read"
	otherOutput    = "q9x0-output"
	// otherWatched is an agent the monitor has series for in other only.
	otherWatched  = "q9x0-agent-watched"
	otherIncident = "q9x0-incident-title"
	otherNote     = "q9x0-note-text"
)

// isoEnv is a stack with two tenants: default, where a key of every role
// acts, and other, whose objects carry markers that no answer to a key
// acting on default may ever contain.
type isoEnv struct {
	s     *stack
	clock *testClock
	// live, revoked and expired hold a presentable key of each role acting
	// on default. Owner keys belong to _system and name default with
	// ?tenant=default.
	live, revoked, expired map[access.Role]string
	receipt                string // a receipt of default for bot-1, which the agent key is bound to
	keyID                  string // a key of default (the auditor's)
	author                 string // a policy author's key that pushes versions for others to approve
	alert                  string // an alert of default
	incident               string // an open incident of default
	watched                string // an agent of default the monitor has series for
	other                  foreignTenant
	n                      int // makes fresh names
}

// foreignTenant is what tenant other holds.
type foreignTenant struct {
	admin    string   // presentable admin key of other
	receipts []string // the first has an outcome, the others none
	keyIDs   []string
	// approvals are pending approval requests of other.
	approvals []string
	// control is a kill switch of other.
	control string
	// alerts are alerts of other; incident is an open incident of other,
	// linked to the first alert, with a note.
	alerts   []string
	incident string
	versions int64 // of otherPolicy
	// seqFrom, seqTo bound entry seqs of other beyond default's log.
	seqFrom, seqTo int64
	// Cursors taken from other's own listings.
	entriesCursor, receiptsCursor, keysCursor string
	incidentsCursor, agentsCursor             string
	// markers are every string that belongs to other alone: names, agent
	// ids, args, key ids, receipt ids.
	markers []string
}

// leak returns the first of other's markers that body contains, or "".
func (f *foreignTenant) leak(body []byte) string {
	for _, m := range f.markers {
		if strings.Contains(string(body), m) {
			return m
		}
	}
	return ""
}

func keyBody(t *testing.T, role access.Role, name string, expires *time.Time, bindings ...string) string {
	t.Helper()
	v := map[string]any{"role": role, "name": name}
	if len(bindings) > 0 {
		v["bindings"] = bindings
	}
	if expires != nil {
		v["expires_at"] = expires.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// roleKeyBody is the body that makes a key of role in the matrix: agent
// keys are bound to bot-*.
func roleKeyBody(t *testing.T, role access.Role, name string, expires *time.Time) string {
	t.Helper()
	if role == access.RoleAgent {
		return keyBody(t, role, name, expires, "bot-*")
	}
	return keyBody(t, role, name, expires)
}

func (e *isoEnv) head(t *testing.T, tenant string) int64 {
	t.Helper()
	h, err := e.s.db.Head(context.Background(), tenant)
	if err != nil {
		t.Fatalf("Head(%q) = %v", tenant, err)
	}
	return h.Size
}

// newIsoEnv builds the two tenants over the API: keys of every role in
// default (live, revoked, and expired by moving the clock), other with a
// receipt, keys and policy versions of its own, and other's log longer
// than default's so that some seqs exist in other's log only.
func newIsoEnv(t *testing.T) *isoEnv {
	t.Helper()
	clock := &testClock{now: time.Now().UTC()}
	s := newStack(t, stackOptions{scanner: scan.New(scan.Limits{}, tokenDetector{}), clock: clock.Now})
	e := &isoEnv{s: s, clock: clock, live: map[access.Role]string{}, revoked: map[access.Role]string{}, expired: map[access.Role]string{}}
	s.pushAndActivate(t, allowAll)
	e.live[access.RoleOwner] = s.owner
	e.live[access.RoleAdmin] = s.admin
	for _, role := range matrixRoles[2:] {
		k := s.createKey(t, s.admin, roleKeyBody(t, role, "matrix "+string(role), nil))
		e.live[role] = k.Key
		if role == access.RoleAuditor {
			e.keyID = k.ID
		}
	}
	e.receipt = s.evaluate(t, s.admin, evalBody("bot-1", "fs.read", "{}"), http.StatusOK).ReceiptID
	e.alert = e.freshAlert(t)
	e.incident = e.freshIncident(t)
	e.watched = "bot-1"
	s.putSeries(t, "default", seriesPoint(t, e.watched, clock.Now().Add(-time.Minute), map[string]float64{"decisions": 1}))
	e.deadKeys(t)
	e.setUpOther(t)
	s.waitCheckpoint(t, "default")
	s.waitCheckpoint(t, otherTenant)
	return e
}

// canary is a request each role may make, to show a key works before it
// is revoked or expires.
func canary(role access.Role) string {
	switch role {
	case access.RoleOwner:
		return "/v1/tenants"
	case access.RoleAgent:
		return "/v1/receipts"
	}
	return "/v1/policies"
}

// deadKeys makes a revoked and an expired key of every role, each shown to
// work first, then revokes the one and moves the clock past the other's
// expiry.
func (e *isoEnv) deadKeys(t *testing.T) {
	t.Helper()
	expires := e.clock.Now().Add(time.Hour)
	for _, role := range matrixRoles {
		creator := e.s.admin
		if role == access.RoleOwner {
			creator = e.s.owner // an owner key is of _system, made by an owner
		}
		rk := e.s.createKey(t, creator, roleKeyBody(t, role, "revoked "+string(role), nil))
		xk := e.s.createKey(t, creator, roleKeyBody(t, role, "expiring "+string(role), &expires))
		for _, k := range []string{rk.Key, xk.Key} {
			e.s.get(t, canary(role), k, http.StatusOK)
		}
		if r := e.s.do(t, http.MethodDelete, "/v1/keys/"+rk.ID, creator, nil); r.status != http.StatusOK {
			t.Fatalf("DELETE /v1/keys/%s = %d %s, want 200", rk.ID, r.status, r.body)
		}
		e.revoked[role], e.expired[role] = rk.Key, xk.Key
	}
	e.clock.Advance(2 * time.Hour)
}

// setUpOther creates tenant other with the owner key and fills it as its
// own admin (and its monitor) would: policy versions, keys, receipts,
// approvals, a switch, alerts, series, an incident and entries.
func (e *isoEnv) setUpOther(t *testing.T) {
	t.Helper()
	s, o := e.s, &e.other
	r := s.do(t, http.MethodPost, "/v1/tenants", s.owner, strings.NewReader(`{"id":"`+otherTenant+`","name":"Other"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/tenants = %d %s, want 201", r.status, r.body)
	}
	var nt api.NewTenantJSON
	if err := json.Unmarshal(r.body, &nt); err != nil || nt.AdminKey.Key == "" {
		t.Fatalf("POST /v1/tenants answered %s (%v), want an admin key", r.body, err)
	}
	o.admin = nt.AdminKey.Key
	o.keyIDs = append(o.keyIDs, nt.AdminKey.ID)
	// other's admin works alone here: no second approver for its policies.
	if r := s.do(t, http.MethodPatch, "/v1/settings", o.admin, strings.NewReader(`{"policy_approvals":0}`)); r.status != http.StatusOK {
		t.Fatalf("PATCH other's settings = %d %s", r.status, r.body)
	}

	for i, doc := range []string{
		"name: " + otherPolicy + "\nrules: [{id: " + otherRuleA + ", effect: allow}]\n",
		"name: " + otherPolicy + "\nrules: [{id: " + otherRuleA + ", effect: allow}, {id: " + otherRuleB + ", match: {action: \"x.y\"}, effect: deny}]\n",
	} {
		r := s.do(t, http.MethodPost, "/v1/policies", o.admin, strings.NewReader(doc), "Content-Type", "application/yaml")
		if r.status != http.StatusCreated {
			t.Fatalf("push %s version %d in other = %d %s, want 201", otherPolicy, i+1, r.status, r.body)
		}
		o.versions++
	}
	path := fmt.Sprintf("/v1/policies/%s/versions/%d/activate", otherPolicy, o.versions)
	if r := s.do(t, http.MethodPost, path, o.admin, nil); r.status != http.StatusOK {
		t.Fatalf("POST %s = %d %s, want 200", path, r.status, r.body)
	}

	k := s.createKey(t, o.admin, `{"role":"auditor","name":"`+otherKeyName+`","groups":["`+otherGroup+`"]}`)
	o.keyIDs = append(o.keyIDs, k.ID)
	k = s.createKey(t, o.admin, keyBody(t, access.RoleAgent, otherAgentKey, nil, otherAgentGlob))
	o.keyIDs = append(o.keyIDs, k.ID)

	for _, agent := range []string{otherAgentOne, otherAgentTwo, otherAgentOne} {
		a := s.evaluate(t, o.admin, evalBody(agent, otherAction, `{"note":"`+otherArg+`"}`), http.StatusOK)
		if a.Decision != "allow" {
			t.Fatalf("evaluate in other = %+v, want allow", a)
		}
		o.receipts = append(o.receipts, a.ReceiptID)
	}
	s.outcome(t, o.admin, o.receipts[0], `{"status":"succeeded","output":{"said":"`+otherOutput+`"}}`, http.StatusCreated)
	// other's policy, made to ask for approval, opens a request.
	ask := "name: " + otherPolicy + "\nrules: [{id: " + otherRuleA + ", effect: allow}, {id: " + otherRuleB + ", match: {action: \"pay.*\"}, effect: require_approval}]\n"
	if r := s.do(t, http.MethodPost, "/v1/policies", o.admin, strings.NewReader(ask), "Content-Type", "application/yaml"); r.status != http.StatusCreated {
		t.Fatalf("push the asking policy in other = %d %s", r.status, r.body)
	}
	o.versions++
	path = fmt.Sprintf("/v1/policies/%s/versions/%d/activate", otherPolicy, o.versions)
	if r := s.do(t, http.MethodPost, path, o.admin, nil); r.status != http.StatusOK {
		t.Fatalf("POST %s = %d %s, want 200", path, r.status, r.body)
	}
	a := s.evaluate(t, o.admin, evalBody(otherAgentOne, "pay.out", `{"note":"`+otherArg+`"}`), http.StatusOK)
	if a.ApprovalID == "" {
		t.Fatalf("require_approval in other opened no approval: %+v", a)
	}
	o.approvals = append(o.approvals, a.ApprovalID)
	var ctl api.ControlJSON
	r = s.do(t, http.MethodPost, "/v1/controls", o.admin, strings.NewReader(`{"scope":{"agent":"`+otherAgentTwo+`"},"effect":"deny","reason":"q9x0-reason"}`))
	if err := json.Unmarshal(r.body, &ctl); err != nil || r.status != http.StatusCreated {
		t.Fatalf("a switch in other = %d %s", r.status, r.body)
	}
	o.control = ctl.ID
	// What the monitor saw in other: alerts, series, and an incident that
	// other's admin opened on the first alert, with a note.
	for _, agent := range []string{otherAgentOne, otherAgentTwo} {
		o.alerts = append(o.alerts, s.raise(t, otherTenant, deniesAlert(agent, e.clock.Now())).ID)
	}
	bucket := e.clock.Now().Truncate(time.Minute).Add(-time.Minute)
	s.putSeries(t, otherTenant, seriesPoint(t, otherAgentOne, bucket, map[string]float64{"decisions": 3}),
		seriesPoint(t, otherWatched, bucket, map[string]float64{"decisions": 2, "denies": 1}))
	o.incident = s.openIncident(t, o.admin, `{"title":"`+otherIncident+`","alerts":["`+o.alerts[0]+`"],"receipts":["`+o.receipts[0]+`"]}`).ID
	s.send(t, http.MethodPost, "/v1/incidents/"+o.incident+"/notes", o.admin, `{"text":"`+otherNote+`"}`, http.StatusOK)

	// Other's log runs well beyond default's, whose rows of the matrix
	// append a few hundred entries more: seqs in [seqFrom, seqTo) are
	// other's alone. TestIsolationMatrix checks that they stayed so.
	own := e.head(t, "default")
	s.appendN(t, otherTenant, int(own+1500-e.head(t, otherTenant)))
	o.seqTo = e.head(t, otherTenant)
	o.seqFrom = own + 1000

	o.entriesCursor = nextCursor(t, s, "/v1/log/entries?limit=1", o.admin)
	o.receiptsCursor = nextCursor(t, s, "/v1/receipts?limit=1", o.admin)
	o.keysCursor = nextCursor(t, s, "/v1/keys?limit=1", o.admin)
	o.incidentsCursor = nextCursor(t, s, "/v1/incidents?limit=1", o.admin)
	o.agentsCursor = nextCursor(t, s, "/v1/monitor/agents?limit=1", o.admin)

	o.markers = []string{otherAgentOne, otherAgentTwo, otherAgentGlob, otherPolicy, otherRuleA, otherRuleB,
		otherKeyName, otherAgentKey, otherGroup, otherArg, otherAction, otherOutput, keySecret(t, o.admin)}
	o.markers = append(o.markers, o.receipts...)
	o.markers = append(o.markers, o.keyIDs...)
	o.markers = append(o.markers, o.alerts...)
	o.markers = append(o.markers, o.incident, otherIncident, otherNote, otherWatched)
}

// nextCursor is the next_cursor of the first page of a listing.
func nextCursor(t *testing.T, s *stack, path, key string) string {
	t.Helper()
	r := s.get(t, path, key, http.StatusOK)
	var page struct {
		Next string `json:"next_cursor"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil || page.Next == "" {
		t.Fatalf("GET %s = %s (%v), want a next_cursor", path, r.body, err)
	}
	return page.Next
}

// fresh returns a name not used before in this test.
func (e *isoEnv) fresh(prefix string) string {
	e.n++
	return fmt.Sprintf("%s%d", prefix, e.n)
}

// throwawayKey is a key of default that a row may change or revoke.
func (e *isoEnv) throwawayKey(t *testing.T) string {
	t.Helper()
	return e.s.createKey(t, e.s.admin, keyBody(t, access.RoleAuditor, e.fresh("throwaway "), nil)).ID
}

// throwawayTenant is a tenant that a row may suspend.
func (e *isoEnv) throwawayTenant(t *testing.T) string {
	t.Helper()
	id := e.fresh("throwaway-")
	if r := e.s.do(t, http.MethodPost, "/v1/tenants", e.s.owner, strings.NewReader(`{"id":"`+id+`","name":"Throwaway"}`)); r.status != http.StatusCreated {
		t.Fatalf("POST /v1/tenants %s = %d %s, want 201", id, r.status, r.body)
	}
	return id
}

// freshAuthoredVersion pushes a new version of policy "authored" by a
// policy author of its own, so that any other key may approve it; it
// returns "authored/versions/N".
func (e *isoEnv) freshAuthoredVersion(t *testing.T) string {
	t.Helper()
	if e.author == "" {
		e.author = e.s.createKey(t, e.s.admin, `{"role":"policy_author","name":"matrix author"}`).Key
	}
	doc := fmt.Sprintf("name: authored\nrules: [{id: %s, effect: allow}]\n", e.fresh("r"))
	r := e.s.do(t, http.MethodPost, "/v1/policies", e.author, strings.NewReader(doc), "Content-Type", "application/yaml")
	var v struct{ Version int64 }
	if err := json.Unmarshal(r.body, &v); err != nil || r.status != http.StatusCreated {
		t.Fatalf("push by the author = %d %s", r.status, r.body)
	}
	return fmt.Sprintf("authored/versions/%d", v.Version)
}

// freshControl is a kill switch of default for an agent nobody is, for a
// row that clears it.
func (e *isoEnv) freshControl(t *testing.T) string {
	t.Helper()
	r := e.s.do(t, http.MethodPost, "/v1/controls", e.s.admin, strings.NewReader(`{"scope":{"agent":"`+e.fresh("nobody-")+`"},"effect":"deny","reason":"matrix"}`))
	var c api.ControlJSON
	if err := json.Unmarshal(r.body, &c); err != nil || r.status != http.StatusCreated {
		t.Fatalf("set a switch = %d %s", r.status, r.body)
	}
	return c.ID
}

// freshApproval is a pending approval request of default for bot-1,
// opened by the agent key, for a row that votes on it.
func (e *isoEnv) freshApproval(t *testing.T) string {
	t.Helper()
	a := e.s.evaluate(t, e.live[access.RoleAgent], evalBody("bot-1", "pay.out", `{"n":"`+e.fresh("")+`"}`), http.StatusOK)
	if a.ApprovalID == "" {
		t.Fatalf("require_approval opened no approval: %+v", a)
	}
	return a.ApprovalID
}

// freshAlert is an open alert of default, for a row that acknowledges or
// resolves it.
func (e *isoEnv) freshAlert(t *testing.T) string {
	t.Helper()
	return e.s.raise(t, "default", deniesAlert(e.fresh("bot-"), e.clock.Now())).ID
}

// freshIncident is an open incident of default, for a row that resolves
// it.
func (e *isoEnv) freshIncident(t *testing.T) string {
	t.Helper()
	return e.s.openIncident(t, e.s.admin, `{"title":"`+e.fresh("matrix incident ")+`"}`).ID
}

// freshReceipt is an allowed receipt of default without an outcome, for a
// principal the agent key is bound to.
func (e *isoEnv) freshReceipt(t *testing.T) string {
	t.Helper()
	return e.s.evaluate(t, e.s.admin, evalBody(e.fresh("bot-"), "fs.read", "{}"), http.StatusOK).ReceiptID
}
