package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
)

// matrixRoles are the roles of the isolation matrix, in the order of the
// columns of byRole.
var matrixRoles = [...]access.Role{access.RoleOwner, access.RoleAdmin, access.RolePolicyAuthor,
	access.RoleApprover, access.RoleOperator, access.RoleAuditor, access.RoleAgent}

// byRole is one expected status per role, in the order of matrixRoles:
// owner, admin, policy_author, approver, operator, auditor, agent.
type byRole [len(matrixRoles)]int

// expectation is what one route answers, written out from DESIGN.md
// section 8 and never computed from the permission table under test.
//
//   - own: the route acting on the caller's tenant (default; the owner
//     names it with ?tenant=default), on an object of that tenant.
//   - foreign: the route on tenant other's object. When the path names an
//     object (receipt, key, policy by name, entry seq, tenant, alert,
//     incident, agent) the path names other's, in the caller's own
//     tenant. When it names none, a key of default names tenant other
//     with ?tenant=other (404 for every role: the tenant is resolved
//     before the role is checked); the owner, which may name any tenant,
//     stays in default and names other's objects in the query or body
//     instead (a cursor of other's listing, a filter on other's agent, a
//     link to other's alert), which must find nothing of them.
//   - dead: no key, a malformed key, an unknown key, a revoked key or an
//     expired key, whatever its role.
//
// A role without the route's permission gets 403 before anything is
// looked up, so it gets 403 for a foreign object too: a 403 says what the
// role may do, never whether the object exists. Only a caller that holds
// the permission must see 404 for another tenant's object, never 403 or
// 200, and no answer ever carries one of other's markers.
type expectation struct {
	own, foreign byRole
	dead         int
}

// isolationTable has one row per served route; TestIsolationMatrix fails
// for a route without a row and for a row without a route. Each byRole
// lists owner, admin, policy_author, approver, operator, auditor, agent.
var isolationTable = map[string]expectation{
	// Public routes answer anyone, with or without a key.
	"GET /healthz":         {own: byRole{200, 200, 200, 200, 200, 200, 200}, foreign: byRole{200, 200, 200, 200, 200, 200, 200}, dead: 200},
	"GET /readyz":          {own: byRole{200, 200, 200, 200, 200, 200, 200}, foreign: byRole{200, 200, 200, 200, 200, 200, 200}, dead: 200},
	"GET /metrics":         {own: byRole{200, 200, 200, 200, 200, 200, 200}, foreign: byRole{200, 200, 200, 200, 200, 200, 200}, dead: 200},
	"GET /v1/openapi.json": {own: byRole{200, 200, 200, 200, 200, 200, 200}, foreign: byRole{200, 200, 200, 200, 200, 200, 200}, dead: 200},

	// The ledger: auditor (and admin, owner).
	"GET /v1/log/checkpoint":        {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/log/key":               {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/log/entries":           {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/log/entries/{seq}":     {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{404, 404, 403, 403, 403, 404, 403}, dead: 401},
	"GET /v1/log/proof/inclusion":   {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/log/proof/consistency": {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"POST /v1/log/verify":           {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},

	// Decisions, scans and outcomes: agent (bound), admin, owner.
	"POST /v1/evaluate":              {own: byRole{200, 200, 403, 403, 403, 403, 200}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"POST /v1/scan":                  {own: byRole{200, 200, 403, 403, 403, 403, 200}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"POST /v1/receipts/{id}/outcome": {own: byRole{201, 201, 403, 403, 403, 403, 201}, foreign: byRole{404, 404, 403, 403, 403, 403, 404}, dead: 401},

	// Receipts: auditor, agent (its own principals'), admin, owner.
	"GET /v1/receipts":      {own: byRole{200, 200, 403, 403, 403, 200, 200}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/receipts/{id}": {own: byRole{200, 200, 403, 403, 403, 200, 200}, foreign: byRole{404, 404, 403, 403, 403, 404, 404}, dead: 401},

	// Policies: policy_author writes; every role but agent reads.
	"POST /v1/policies":                              {own: byRole{201, 201, 201, 403, 403, 403, 403}, foreign: byRole{201, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/policies":                               {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/policies/active":                        {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/policies/{name}/versions":               {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{404, 404, 404, 404, 404, 404, 403}, dead: 401},
	"GET /v1/policies/{name}/versions/{n}":           {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{404, 404, 404, 404, 404, 404, 403}, dead: 401},
	"GET /v1/policies/{name}/diff":                   {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{404, 404, 404, 404, 404, 404, 403}, dead: 401},
	"POST /v1/policies/{name}/versions/{n}/activate": {own: byRole{200, 200, 200, 403, 403, 403, 403}, foreign: byRole{404, 404, 404, 403, 403, 403, 403}, dead: 401},
	// Approving a version someone else pushed: policy authors, admin, owner.
	"POST /v1/policies/{name}/versions/{n}/approve":   {own: byRole{200, 200, 200, 403, 403, 403, 403}, foreign: byRole{404, 404, 404, 403, 403, 403, 403}, dead: 401},
	"POST /v1/policies/{name}/versions/{n}/candidate": {own: byRole{200, 200, 200, 403, 403, 403, 403}, foreign: byRole{404, 404, 404, 403, 403, 403, 403}, dead: 401},
	"DELETE /v1/policies/candidate":                   {own: byRole{204, 204, 204, 403, 403, 403, 403}, foreign: byRole{204, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/policies/activations":                    {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/policies/shadow/report":                  {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	// The owner's foreign replay names other's policy in default: not found.
	"POST /v1/policies/replay": {own: byRole{200, 200, 200, 200, 200, 200, 403}, foreign: byRole{404, 404, 404, 404, 404, 404, 404}, dead: 401},

	// Keys and the access review: admin writes, auditor reads.
	"POST /v1/keys":               {own: byRole{201, 201, 403, 403, 403, 403, 403}, foreign: byRole{201, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/keys":                {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/keys/{id}":           {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{404, 404, 403, 403, 403, 404, 403}, dead: 401},
	"PATCH /v1/keys/{id}":         {own: byRole{200, 200, 403, 403, 403, 403, 403}, foreign: byRole{404, 404, 403, 403, 403, 403, 403}, dead: 401},
	"DELETE /v1/keys/{id}":        {own: byRole{200, 200, 403, 403, 403, 403, 403}, foreign: byRole{404, 404, 403, 403, 403, 403, 403}, dead: 401},
	"GET /v1/access/review":       {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"POST /v1/access/review/sign": {own: byRole{201, 201, 403, 403, 403, 403, 403}, foreign: byRole{201, 404, 404, 404, 404, 404, 404}, dead: 401},

	// Settings: admin writes, auditor reads.
	"GET /v1/settings":   {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"PATCH /v1/settings": {own: byRole{200, 200, 403, 403, 403, 403, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},

	// Tenants: the owner alone; an admin is 403 like every other role. A
	// tenant is the owner's object whichever it is, so its "foreign"
	// suspension is of another throwaway tenant; a key of default asks to
	// suspend default (own) or other (foreign).
	"POST /v1/tenants":              {own: byRole{201, 403, 403, 403, 403, 403, 403}, foreign: byRole{201, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/tenants":               {own: byRole{200, 403, 403, 403, 403, 403, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"POST /v1/tenants/{id}/suspend": {own: byRole{200, 403, 403, 403, 403, 403, 403}, foreign: byRole{200, 403, 403, 403, 403, 403, 403}, dead: 401},

	// Kill switches: operators (and admin, owner) set and clear; auditors read.
	"POST /v1/controls":        {own: byRole{201, 201, 403, 403, 201, 403, 403}, foreign: byRole{201, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/controls":         {own: byRole{200, 200, 403, 403, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"DELETE /v1/controls/{id}": {own: byRole{204, 204, 403, 403, 204, 403, 403}, foreign: byRole{404, 404, 403, 403, 404, 403, 403}, dead: 401},

	// Approvals: approvers (and admin, owner) vote; auditors read; an agent
	// reads its own principals' requests. The requests of default are
	// opened by the agent key, so every voter here is eligible.
	"GET /v1/approvals":               {own: byRole{200, 200, 403, 200, 403, 200, 200}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/approvals/{id}":          {own: byRole{200, 200, 403, 200, 403, 200, 200}, foreign: byRole{404, 404, 403, 404, 403, 404, 404}, dead: 401},
	"POST /v1/approvals/{id}/approve": {own: byRole{200, 200, 403, 200, 403, 403, 403}, foreign: byRole{404, 404, 403, 404, 403, 403, 403}, dead: 401},
	"POST /v1/approvals/{id}/reject":  {own: byRole{200, 200, 403, 200, 403, 403, 403}, foreign: byRole{404, 404, 403, 404, 403, 403, 403}, dead: 401},

	// Monitoring: operators (and admin, owner) act on alerts and
	// incidents; auditors read them and the monitor's series.
	"GET /v1/alerts":                  {own: byRole{200, 200, 403, 403, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/alerts/{id}":             {own: byRole{200, 200, 403, 403, 200, 200, 403}, foreign: byRole{404, 404, 403, 403, 404, 404, 403}, dead: 401},
	"POST /v1/alerts/{id}/ack":        {own: byRole{200, 200, 403, 403, 200, 403, 403}, foreign: byRole{404, 404, 403, 403, 404, 403, 403}, dead: 401},
	"POST /v1/alerts/{id}/resolve":    {own: byRole{200, 200, 403, 403, 200, 403, 403}, foreign: byRole{404, 404, 403, 403, 404, 403, 403}, dead: 401},
	"GET /v1/incidents":               {own: byRole{200, 200, 403, 403, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/incidents/{id}":          {own: byRole{200, 200, 403, 403, 200, 200, 403}, foreign: byRole{404, 404, 403, 403, 404, 404, 403}, dead: 401},
	"POST /v1/incidents/{id}/notes":   {own: byRole{200, 200, 403, 403, 200, 403, 403}, foreign: byRole{404, 404, 403, 403, 404, 403, 403}, dead: 401},
	"POST /v1/incidents/{id}/links":   {own: byRole{200, 200, 403, 403, 200, 403, 403}, foreign: byRole{404, 404, 403, 403, 404, 403, 403}, dead: 401},
	"POST /v1/incidents/{id}/resolve": {own: byRole{200, 200, 403, 403, 200, 403, 403}, foreign: byRole{404, 404, 403, 403, 404, 403, 403}, dead: 401},
	// Evidence: the ledger's readers (auditor, admin, owner). The owner's
	// foreign export stays in default.
	"GET /v1/evidence":       {own: byRole{200, 200, 403, 403, 403, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	"GET /v1/monitor/agents": {own: byRole{200, 200, 403, 403, 200, 200, 403}, foreign: byRole{200, 404, 404, 404, 404, 404, 404}, dead: 401},
	// The owner's foreign incident is opened in default and links other's
	// alert, which default does not hold: refused as a bad link.
	"POST /v1/incidents": {own: byRole{201, 201, 403, 403, 201, 403, 403}, foreign: byRole{400, 404, 404, 404, 404, 404, 404}, dead: 401},
	// The series of an agent the monitor saw in other only is not found.
	"GET /v1/monitor/agents/{id}/series": {own: byRole{200, 200, 403, 403, 200, 200, 403}, foreign: byRole{404, 404, 403, 403, 404, 404, 403}, dead: 401},
}

// query is the query string of a request by role: the owner names default
// (its key is of _system); a key of default names other when otherTenant.
func query(role access.Role, otherTenant bool, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	switch {
	case role == access.RoleOwner:
		v.Set("tenant", "default")
	case otherTenant:
		v.Set("tenant", "other")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// call is one request of the matrix.
type call struct {
	method, path, body string
	headers            []string
	// echo are markers of other's that the request itself names and that
	// a refusal may repeat: a caller learns nothing from its own words.
	echo []string
}

// request is the request of route for role, on default's object or, when
// foreign, on other's (see expectation). It makes what the request
// consumes (a receipt without outcome, a key to change or revoke, a
// tenant to suspend, an alert or incident to close) so that no row
// changes what a later row relies on.
// It reports false for a route it does not know.
func (e *isoEnv) request(t *testing.T, route string, role access.Role, foreign bool) (call, bool) {
	t.Helper()
	o := &e.other
	method, path, _ := strings.Cut(route, " ")
	// plain is a route with no object in its path; ownerKV is what the
	// owner's foreign request names of other's in the query.
	plain := func(body string, ownerKV ...string) (call, bool) {
		var kv []string
		if foreign {
			kv = ownerKV
		}
		return call{method: method, path: path + query(role, foreign, kv...), body: body}, true
	}
	// object is a route with an object in its path: the foreign object is
	// named there, never with ?tenant=.
	object := func(p, body string, kv ...string) (call, bool) {
		return call{method: method, path: p + query(role, false, kv...), body: body}, true
	}
	pick := func(own, other string) string {
		if foreign {
			return other
		}
		return own
	}
	switch route {
	case "GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/openapi.json",
		"GET /v1/log/checkpoint", "GET /v1/log/key", "GET /v1/policies", "GET /v1/policies/active",
		"GET /v1/access/review", "GET /v1/settings", "GET /v1/tenants":
		return plain("")
	case "GET /v1/log/entries":
		return plain("", "cursor", o.entriesCursor)
	case "GET /v1/log/proof/inclusion":
		return call{method: method, path: path + query(role, foreign, "seq", "0")}, true
	case "GET /v1/log/proof/consistency":
		return call{method: method, path: path + query(role, foreign, "from", "1")}, true
	case "POST /v1/log/verify":
		return plain("{}")
	case "POST /v1/evaluate":
		c, ok := plain(evalBody("bot-1", "fs.read", "{}"))
		c.headers = []string{"Content-Type", "application/json"}
		return c, ok
	case "POST /v1/scan":
		return plain(`{"text":"hello"}`)
	case "GET /v1/receipts":
		return plain("", "agent", otherAgentOne)
	case "GET /v1/keys":
		return plain("", "cursor", o.keysCursor)
	case "POST /v1/policies":
		c, ok := plain(fmt.Sprintf("name: scratch\nrules: [{id: %s, effect: allow}]\n", e.fresh("r")))
		c.headers = []string{"Content-Type", "application/yaml"}
		return c, ok
	case "POST /v1/keys":
		return plain(keyBody(t, access.RoleAuditor, e.fresh("matrix new "), nil))
	case "POST /v1/access/review/sign":
		return plain(`{"comment":"matrix"}`)
	case "PATCH /v1/settings":
		e.fresh("")
		return plain(fmt.Sprintf(`{"retention_days":%d}`, 100+e.n%100))
	case "POST /v1/tenants":
		id := e.fresh("matrix-")
		return plain(`{"id":"` + id + `","name":"Matrix"}`)

	case "GET /v1/log/entries/{seq}":
		seq := int64(0)
		if foreign {
			seq = o.seqFrom
		}
		return object(fmt.Sprintf("/v1/log/entries/%d", seq), "")
	case "POST /v1/receipts/{id}/outcome":
		id := o.receipts[len(o.receipts)-1]
		if !foreign {
			id = e.freshReceipt(t)
		}
		c, ok := object("/v1/receipts/"+id+"/outcome", `{"status":"succeeded"}`)
		c.headers = []string{"Content-Type", "application/json"}
		return c, ok
	case "GET /v1/receipts/{id}":
		return object("/v1/receipts/"+pick(e.receipt, o.receipts[0]), "")
	case "POST /v1/controls":
		// A switch for an agent nobody is, so the rows after it decide as before.
		c, ok := plain(`{"scope":{"agent":"` + e.fresh("nobody-") + `"},"effect":"deny","reason":"matrix"}`)
		c.headers = []string{"Content-Type", "application/json"}
		return c, ok
	case "GET /v1/controls":
		return plain("")
	case "DELETE /v1/controls/{id}":
		id := o.control
		if !foreign {
			id = e.freshControl(t)
		}
		return object("/v1/controls/"+id, "")
	case "GET /v1/approvals":
		return plain("", "cursor", "apr_0")
	case "GET /v1/approvals/{id}":
		id := o.approvals[0]
		if !foreign {
			id = e.freshApproval(t)
		}
		return object("/v1/approvals/"+id, "")
	case "POST /v1/approvals/{id}/approve", "POST /v1/approvals/{id}/reject":
		id := o.approvals[0]
		if !foreign {
			id = e.freshApproval(t)
		}
		verb := strings.TrimPrefix(path, "/v1/approvals/{id}/")
		c, ok := object("/v1/approvals/"+id+"/"+verb, `{"comment":"matrix"}`)
		c.headers = []string{"Content-Type", "application/json"}
		return c, ok
	case "GET /v1/policies/{name}/versions":
		return object("/v1/policies/"+pick("allowall", otherPolicy)+"/versions", "")
	case "GET /v1/policies/{name}/versions/{n}":
		return object("/v1/policies/"+pick("allowall", otherPolicy)+"/versions/1", "")
	case "GET /v1/policies/{name}/diff":
		return object("/v1/policies/"+pick("allowall", otherPolicy)+"/diff", "", "from", "1", "to", pick("1", "2"))
	case "POST /v1/policies/{name}/versions/{n}/activate":
		return object("/v1/policies/"+pick("allowall/versions/1", otherPolicy+"/versions/2")+"/activate", "")
	case "POST /v1/policies/{name}/versions/{n}/approve":
		v := otherPolicy + "/versions/2"
		if !foreign {
			v = e.freshAuthoredVersion(t)
		}
		return object("/v1/policies/"+v+"/approve", "")
	case "POST /v1/policies/{name}/versions/{n}/candidate":
		return object("/v1/policies/"+pick("allowall/versions/1", otherPolicy+"/versions/2")+"/candidate", "")
	case "DELETE /v1/policies/candidate":
		return plain("")
	case "GET /v1/policies/shadow/report":
		// The report needs a candidate; the admin sets one first.
		if r := e.s.do(t, http.MethodPost, "/v1/policies/allowall/versions/1/candidate", e.s.admin, nil); r.status != http.StatusOK {
			t.Fatalf("set a candidate = %d %s", r.status, r.body)
		}
		return plain("")
	case "POST /v1/policies/replay":
		c, ok := plain(`{"name":"` + pick("allowall", otherPolicy) + `","version":1}`)
		c.headers = []string{"Content-Type", "application/json"}
		return c, ok
	case "GET /v1/policies/activations":
		return plain("")
	case "GET /v1/keys/{id}":
		return object("/v1/keys/"+pick(e.keyID, o.keyIDs[1]), "")
	case "PATCH /v1/keys/{id}", "DELETE /v1/keys/{id}":
		id := o.keyIDs[1]
		if !foreign {
			id = e.throwawayKey(t)
		}
		body := ""
		if method == http.MethodPatch {
			body = `{"name":"renamed"}`
		}
		return object("/v1/keys/"+id, body)
	case "GET /v1/alerts":
		return plain("", "agent", otherAgentOne)
	case "GET /v1/alerts/{id}":
		return object("/v1/alerts/"+pick(e.alert, o.alerts[0]), "")
	case "POST /v1/alerts/{id}/ack", "POST /v1/alerts/{id}/resolve":
		id := o.alerts[0]
		if !foreign {
			id = e.freshAlert(t)
		}
		verb := strings.TrimPrefix(path, "/v1/alerts/{id}/")
		return object("/v1/alerts/"+id+"/"+verb, `{"comment":"matrix"}`)
	case "POST /v1/incidents":
		if !foreign {
			// An alert belongs to one incident: each request links its own.
			return plain(`{"title":"matrix","alerts":["` + e.freshAlert(t) + `"],"receipts":["` + e.receipt + `"]}`)
		}
		// The owner's link to other's alert is refused with a detail that
		// names the alert it sent ("alert … does not exist").
		c, ok := plain(`{"title":"matrix","alerts":["` + o.alerts[1] + `"]}`)
		c.echo = o.alerts[1:2]
		return c, ok
	case "GET /v1/evidence":
		return call{method: method, path: path + query(role, foreign, "from", "2000-01-01T00:00:00Z", "to", "2001-01-01T00:00:00Z")}, true
	case "GET /v1/incidents":
		return plain("", "cursor", o.incidentsCursor)
	case "GET /v1/incidents/{id}":
		return object("/v1/incidents/"+pick(e.incident, o.incident), "")
	case "POST /v1/incidents/{id}/notes":
		return object("/v1/incidents/"+pick(e.incident, o.incident)+"/notes", `{"text":"matrix"}`)
	case "POST /v1/incidents/{id}/links":
		// Other's incident is asked to take other's own alert, which it
		// would, were it found.
		// Each request links something new: a link that adds nothing is a
		// conflict.
		body := `{"alerts":["` + e.freshAlert(t) + `"],"receipts":["` + e.freshReceipt(t) + `"]}`
		if foreign {
			body = `{"alerts":["` + o.alerts[1] + `"]}`
		}
		return object("/v1/incidents/"+pick(e.incident, o.incident)+"/links", body)
	case "POST /v1/incidents/{id}/resolve":
		id := o.incident
		if !foreign {
			id = e.freshIncident(t)
		}
		return object("/v1/incidents/"+id+"/resolve", `{"resolution":"matrix"}`)
	case "GET /v1/monitor/agents":
		return plain("", "cursor", o.agentsCursor)
	case "GET /v1/monitor/agents/{id}/series":
		return object("/v1/monitor/agents/"+pick(e.watched, otherWatched)+"/series", "")
	case "POST /v1/tenants/{id}/suspend":
		id := pick("default", otherTenant)
		if role == access.RoleOwner {
			id = e.throwawayTenant(t)
		}
		return object("/v1/tenants/"+id+"/suspend", `{"reason":"matrix"}`)
	}
	return call{}, false
}

// servedRoutes reads every (method, path) the server documents.
func servedRoutes(t *testing.T, s *stack) []string {
	t.Helper()
	r := s.get(t, "/v1/openapi.json", "", http.StatusOK)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || len(doc.Paths) == 0 {
		t.Fatalf("GET /v1/openapi.json = %s (%v), want paths", r.body, err)
	}
	var routes []string
	for path, ops := range doc.Paths {
		for method := range ops {
			routes = append(routes, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(routes)
	return routes
}

// send makes one request of the matrix and checks its status, that its
// body carries none of other's markers, and that refusals are problems.
func (e *isoEnv) send(t *testing.T, c call, key string, want int) {
	t.Helper()
	r := e.s.do(t, c.method, c.path, key, strings.NewReader(c.body), c.headers...)
	if r.status != want {
		t.Errorf("%s %s = %d, want %d; body %s", c.method, c.path, r.status, want, r.body)
	}
	body := r.body
	if r.status >= 400 {
		for _, m := range c.echo {
			body = bytes.ReplaceAll(body, []byte(m), nil)
		}
	}
	if m := e.other.leak(body); m != "" {
		t.Errorf("%s %s = %d carries %q of tenant other: %s", c.method, c.path, r.status, m, r.body)
	}
	if r.status >= 400 {
		decodeProblem(t, c.method+" "+c.path, r)
	}
}

// TestIsolationMatrix asks every served route as every role, on its own
// tenant and on another's, and with keys that must not work, and
// compares each answer with isolationTable.
func TestIsolationMatrix(t *testing.T) {
	e := newIsoEnv(t)
	otherHead := e.head(t, otherTenant)

	routes := servedRoutes(t, e.s)
	for _, rt := range routes {
		if _, ok := isolationTable[rt]; !ok {
			t.Errorf("the server serves %s, which has no row in isolationTable", rt)
		}
	}
	for rt := range isolationTable {
		if !slices.Contains(routes, rt) {
			t.Errorf("isolationTable has a row for %s, which the server does not serve", rt)
		}
	}

	_, unknown, err := access.NewKey(rand.Reader, "default", access.RoleAdmin, "never stored", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range routes {
		want, ok := isolationTable[rt]
		if !ok {
			continue
		}
		t.Run(rt, func(t *testing.T) {
			if _, ok := e.request(t, rt, access.RoleAdmin, false); !ok {
				t.Fatalf("no request is written for %s in isoEnv.request", rt)
			}
			for i, role := range matrixRoles {
				t.Run(string(role), func(t *testing.T) {
					for _, tc := range []struct {
						name    string
						foreign bool
						key     string
						want    int
					}{
						{"own", false, e.live[role], want.own[i]},
						{"foreign", true, e.live[role], want.foreign[i]},
						{"revoked", false, e.revoked[role], want.dead},
						{"expired", false, e.expired[role], want.dead},
					} {
						t.Run(tc.name, func(t *testing.T) {
							c, _ := e.request(t, rt, role, tc.foreign)
							e.send(t, c, tc.key, tc.want)
						})
					}
				})
			}
			t.Run("anonymous", func(t *testing.T) {
				for _, tc := range []struct{ name, key string }{
					{"nokey", ""},
					{"malformed", "wdn_not-a-key"},
					{"unknown", unknown},
				} {
					t.Run(tc.name, func(t *testing.T) {
						c, _ := e.request(t, rt, access.RoleAdmin, false)
						e.send(t, c, tc.key, want.dead)
					})
				}
			})
		})
	}

	t.Run("agent bindings", func(t *testing.T) {
		agent := e.live[access.RoleAgent]
		// A principal of default the agent key is not bound to: its
		// receipts are not found for the agent, as another tenant's are.
		unbound := e.s.evaluate(t, e.s.admin, evalBody("carol", "fs.read", "{}"), http.StatusOK).ReceiptID
		e.send(t, call{method: "GET", path: "/v1/receipts/" + unbound}, agent, http.StatusNotFound)
		e.send(t, call{method: "GET", path: "/v1/receipts/" + unbound}, e.live[access.RoleAuditor], http.StatusOK)
		e.send(t, call{method: "POST", path: "/v1/receipts/" + unbound + "/outcome", body: `{"status":"succeeded"}`}, agent, http.StatusNotFound)
		e.send(t, call{method: "POST", path: "/v1/evaluate", body: evalBody("carol", "fs.read", "{}")}, agent, http.StatusForbidden)
		r := e.s.get(t, "/v1/receipts?agent=carol", agent, http.StatusOK)
		if strings.Contains(string(r.body), unbound) {
			t.Errorf("GET /v1/receipts?agent=carol as an agent bound to bot-* lists %s: %s", unbound, r.body)
		}
	})

	// The foreign entry rows asked for seqs beyond default's log: had it
	// grown into them, they would have proved nothing.
	h := e.head(t, "default")
	t.Logf("default's log holds %d entries; the foreign rows took seqs from %d", h, e.other.seqFrom)
	if h >= e.other.seqFrom {
		t.Errorf("default's log grew to %d entries, into the seqs [%d, %d) the foreign rows took for other's alone", h, e.other.seqFrom, e.other.seqTo)
	}
	// Nothing a key of default did reached other's log.
	if h := e.head(t, otherTenant); h != otherHead {
		t.Errorf("other's log grew from %d to %d entries during the matrix, want no change", otherHead, h)
	}
}
