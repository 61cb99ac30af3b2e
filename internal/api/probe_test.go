package api_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/ledger"
)

var probeSeed = flag.Uint64("probe.seed", 0, "seed of TestCrossTenantProbes (0: a new seed each run, printed on failure)")

// probeKind says what an answer to a probe of another tenant may be.
type probeKind int

const (
	// probeObject names one of B's objects by id in A: 403 (the role may
	// not use the route) or 404, never 2xx.
	probeObject probeKind = iota
	// probeTenant names tenant B with ?tenant= on a key of A that is not
	// the owner's: 404 on every authenticated route.
	probeTenant
	// probeRange asks for a proof over seqs or sizes that only B's log
	// has: a refusal (4xx), never 2xx.
	probeRange
	// probeListing is one of A's own listings with B's cursor or filter:
	// it may answer (200, or 403 for the role), but with A's data only.
	probeListing
)

func (k probeKind) String() string {
	return [...]string{"object", "tenant", "range", "listing"}[k]
}

// probe is one request of a key of A aimed at tenant B. An object probe
// has a ghost: the same request on an object of the same shape that exists
// in no tenant, which must be answered alike, so that no answer tells
// whether B's object exists.
type probe struct {
	kind  probeKind
	role  access.Role
	ghost call
	call
}

// prober makes random probes from a seeded source.
type prober struct {
	rng *rand.Rand
	e   *isoEnv
	// authed are B-agnostic templates of every authenticated route the
	// server serves, from its OpenAPI document.
	authed []string
}

func (p *prober) pick(xs ...string) string { return xs[p.rng.IntN(len(xs))] }

// seq is an entry seq that B's log has and A's does not.
func (p *prober) seq() int64 {
	o := &p.e.other
	return o.seqFrom + p.rng.Int64N(o.seqTo-o.seqFrom)
}

// query is the query of a probe acting in A: an owner key names default or
// its own _system (neither is B); a key of default names its own tenant
// now and then, which changes nothing.
func (p *prober) query(role access.Role, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	switch {
	case role == access.RoleOwner:
		v.Set("tenant", p.pick("default", ledger.SystemTenant))
	case p.rng.IntN(4) == 0:
		v.Set("tenant", "default")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// ghostID is an id of the same shape as id (a receipt or key id) that
// names nothing in any tenant.
func (p *prober) ghostID(id string) string {
	const b32 = "abcdefghijklmnopqrstuvwxyz234567"
	prefix, rest, ok := strings.Cut(id, "_")
	if !ok {
		prefix, rest = "", id
	} else {
		prefix += "_"
	}
	b := []byte(rest)
	for i := range b {
		b[i] = b32[p.rng.IntN(len(b32))]
	}
	return prefix + string(b)
}

// next makes one probe by a key of role.
func (p *prober) next(role access.Role) probe {
	o := &p.e.other
	// obj fills path (a format with one %s) with one of B's objects, and
	// its ghost with an object of the same shape that exists nowhere.
	obj := func(method, path, id, ghost, body string, kv ...string) probe {
		q := p.query(role, kv...)
		return probe{kind: probeObject, role: role,
			call:  call{method: method, path: fmt.Sprintf(path, id) + q, body: body},
			ghost: call{method: method, path: fmt.Sprintf(path, ghost) + q, body: body}}
	}
	receipt := func() (string, string) { id := p.pick(o.receipts...); return id, p.ghostID(id) }
	key := func() (string, string) { id := p.pick(o.keyIDs...); return id, p.ghostID(id) }
	for {
		switch p.rng.IntN(16) {
		case 0:
			id, ghost := receipt()
			return obj("GET", "/v1/receipts/%s", id, ghost, "")
		case 1:
			id, ghost := receipt()
			return obj("POST", "/v1/receipts/%s/outcome", id, ghost,
				p.pick(`{"status":"succeeded"}`, `{"status":"failed","error":"probe"}`, `{"status":"succeeded","output":{"x":1}}`))
		case 2:
			id, ghost := key()
			return obj("GET", "/v1/keys/%s", id, ghost, "")
		case 3:
			id, ghost := key()
			return obj("PATCH", "/v1/keys/%s", id, ghost,
				p.pick(`{"name":"probe"}`, `{"role":"admin"}`, `{"expires_at":null}`, `{"groups":["probe"]}`))
		case 4:
			id, ghost := key()
			return obj("DELETE", "/v1/keys/%s", id, ghost, "")
		case 5:
			return obj("GET", "/v1/log/entries/%s", fmt.Sprint(p.seq()), fmt.Sprint(o.seqTo+1000+p.rng.Int64N(1000)), "")
		case 6:
			n := 1 + p.rng.Int64N(o.versions)
			const ghost = "ghost-policy"
			switch p.rng.IntN(4) {
			case 0:
				return obj("GET", "/v1/policies/%s/versions", otherPolicy, ghost, "")
			case 1:
				return obj("GET", "/v1/policies/%s/versions/"+fmt.Sprint(n), otherPolicy, ghost, "")
			case 2:
				return obj("GET", "/v1/policies/%s/diff", otherPolicy, ghost, "", "from", "1", "to", fmt.Sprint(n))
			default:
				return obj("POST", "/v1/policies/%s/versions/"+fmt.Sprint(n)+"/activate", otherPolicy, ghost, "")
			}
		case 7:
			if role == access.RoleOwner {
				continue // the owner may suspend any tenant
			}
			return obj("POST", "/v1/tenants/%s/suspend", otherTenant, "ghost-tenant", p.pick("", `{"reason":"probe"}`))
		case 8, 9, 10:
			if role == access.RoleOwner {
				continue // the owner may name any tenant
			}
			return p.tenantProbe(role)
		case 11:
			var c call
			if p.rng.IntN(2) == 0 {
				kv := []string{"seq", fmt.Sprint(p.seq())}
				if p.rng.IntN(2) == 0 {
					kv = append(kv, "size", fmt.Sprint(o.seqTo))
				}
				c = call{method: "GET", path: "/v1/log/proof/inclusion" + p.query(role, kv...)}
			} else {
				kv := []string{"from", fmt.Sprint(p.seq())}
				if p.rng.IntN(2) == 0 {
					kv = []string{"from", "1", "to", fmt.Sprint(p.seq())}
				}
				c = call{method: "GET", path: "/v1/log/proof/consistency" + p.query(role, kv...)}
			}
			return probe{kind: probeRange, role: role, call: c}
		default:
			return probe{kind: probeListing, role: role, call: p.listing(role)}
		}
	}
}

// listing is one of A's listings given B's cursors and filters.
func (p *prober) listing(role access.Role) call {
	o := &p.e.other
	get := func(path string, kv ...string) call {
		return call{method: "GET", path: path + p.query(role, kv...)}
	}
	switch p.rng.IntN(8) {
	case 0:
		return get("/v1/log/entries", "cursor", o.entriesCursor)
	case 1:
		return get("/v1/log/entries", "from", fmt.Sprint(p.seq()), "to", fmt.Sprint(o.seqTo))
	case 2:
		kv := []string{"agent", p.pick(otherAgentOne, otherAgentTwo)}
		if p.rng.IntN(2) == 0 {
			kv = append(kv, "cursor", o.receiptsCursor)
		}
		if p.rng.IntN(2) == 0 {
			kv = append(kv, "action", otherAction)
		}
		return get("/v1/receipts", kv...)
	case 3:
		return get("/v1/receipts", "cursor", o.receiptsCursor)
	case 4:
		return get("/v1/keys", "cursor", p.pick(append([]string{o.keysCursor}, o.keyIDs...)...))
	case 5:
		return get(p.pick("/v1/policies", "/v1/policies/active"))
	case 6:
		return get(p.pick("/v1/access/review", "/v1/settings", "/v1/keys"))
	default:
		return get(p.pick("/v1/log/checkpoint", "/v1/receipts", "/v1/log/entries"))
	}
}

// tenantProbe is any authenticated route with ?tenant= naming B, its path
// filled with B's ids or A's.
func (p *prober) tenantProbe(role access.Role) probe {
	o := &p.e.other
	route := p.pick(p.authed...)
	method, path, _ := strings.Cut(route, " ")
	id := p.pick(o.receipts...)
	switch {
	case strings.HasPrefix(path, "/v1/keys/"):
		id = p.pick(append([]string{p.e.keyID}, o.keyIDs...)...)
	case strings.HasPrefix(path, "/v1/tenants/"):
		id = p.pick(otherTenant, "default")
	case p.rng.IntN(3) == 0:
		id = p.e.receipt
	}
	path = strings.NewReplacer("{id}", id, "{seq}", fmt.Sprint(p.seq()), "{name}", p.pick(otherPolicy, "allowall"),
		"{n}", "1").Replace(path)
	v := url.Values{"tenant": {otherTenant}}
	if p.rng.IntN(3) == 0 {
		v.Set("agent", otherAgentOne)
	}
	body := p.pick("", "{}", `{"status":"succeeded"}`, evalBody("bot-1", "fs.read", "{}"), `{"role":"auditor","name":"probe"}`)
	return probe{kind: probeTenant, role: role, call: call{method: method, path: path + "?" + v.Encode(), body: body}}
}

// authedRoutes are the routes of the OpenAPI document that take a key.
func authedRoutes(t *testing.T, s *stack) []string {
	t.Helper()
	r := s.get(t, "/v1/openapi.json", "", http.StatusOK)
	var doc struct {
		Paths map[string]map[string]struct {
			Security []any `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("GET /v1/openapi.json: %v", err)
	}
	var routes []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if len(op.Security) > 0 {
				routes = append(routes, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(routes) // the same seed makes the same probes
	if len(routes) == 0 {
		t.Fatal("the OpenAPI document has no authenticated route")
	}
	return routes
}

// fault says what is wrong with an answer r to a probe, or "". ghost is
// the answer to the probe's ghost (object probes only).
func (p *prober) fault(pr probe, r, ghost *response) string {
	if m := p.e.other.leak(r.body); m != "" {
		return fmt.Sprintf("the answer carries %q of tenant B", m)
	}
	ok := false
	switch pr.kind {
	case probeObject:
		if ghost.status != r.status || problemType(ghost) != problemType(r) {
			return fmt.Sprintf("an object that exists nowhere (%s) is answered %d %s, B's %d %s: the answer tells B's object exists",
				pr.ghost.path, ghost.status, problemType(ghost), r.status, problemType(r))
		}
		ok = r.status == http.StatusForbidden || r.status == http.StatusNotFound
	case probeTenant:
		ok = r.status == http.StatusNotFound
	case probeRange:
		ok = r.status >= 400 && r.status < 500
	case probeListing:
		// _system, which an owner key may act on, has no active policy.
		noPolicy := r.status == http.StatusNotFound && strings.HasPrefix(pr.path, "/v1/policies/active")
		ok = r.status == http.StatusOK || r.status == http.StatusForbidden || noPolicy
	}
	if !ok {
		return fmt.Sprintf("status %d is not what a %s probe may get", r.status, pr.kind)
	}
	return ""
}

// problemType is the type of a problem answer, or "".
func problemType(r *response) string {
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(r.body, &p) // not a problem: no type
	return p.Type
}

// TestCrossTenantProbes sends random requests from keys of every role of
// tenant A (default) at tenant B's (other's) objects: receipt ids, key
// ids, entry seqs, policy names and versions, B's cursors and agents as
// filters, and ?tenant=B. No answer may be a success on B's object or
// differ from the answer for an object that exists nowhere, none may carry
// any of B's markers, and B's log must not change.
func TestCrossTenantProbes(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	seed := *probeSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d: rerun with go test ./internal/api/ -run TestCrossTenantProbes -probe.seed=%d", seed, seed)
		}
	})

	e := newIsoEnv(t)
	p := &prober{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), e: e, authed: authedRoutes(t, e.s)}
	headA, headB := e.head(t, "default"), e.head(t, otherTenant)

	kinds := map[probeKind]int{}
	failures := 0
	for i := range n {
		role := matrixRoles[p.rng.IntN(len(matrixRoles))]
		pr := p.next(role)
		kinds[pr.kind]++
		r := e.s.do(t, pr.method, pr.path, e.live[role], strings.NewReader(pr.body), "Content-Type", "application/json")
		var ghost *response
		if pr.kind == probeObject {
			ghost = e.s.do(t, pr.ghost.method, pr.ghost.path, e.live[role], strings.NewReader(pr.ghost.body), "Content-Type", "application/json")
		}
		if f := p.fault(pr, r, ghost); f != "" {
			failures++
			t.Errorf("probe %d of seed %d, %s as %s: %s %s = %d: %s; body %s",
				i, seed, pr.kind, role, pr.method, pr.path, r.status, f, r.body)
			if failures == 20 {
				t.Fatalf("stopping after %d faulty answers", failures)
			}
		}
	}
	t.Logf("%d probes of seed %d: %v", n, seed, kinds)

	// Not one probe changed B, nor wrote anything to A.
	if h := e.head(t, otherTenant); h != headB {
		t.Errorf("B's log went from %d to %d entries under the probes, want no change", headB, h)
	}
	if h := e.head(t, "default"); h != headA {
		t.Errorf("A's log went from %d to %d entries under the probes, want no change", headA, h)
	}
	e.s.get(t, "/v1/settings", e.other.admin, http.StatusOK) // B is not suspended
	r := e.s.get(t, "/v1/keys/"+e.other.keyIDs[1], e.other.admin, http.StatusOK)
	var k struct {
		Name      string     `json:"name"`
		Role      string     `json:"role"`
		RevokedAt *time.Time `json:"revoked_at"`
	}
	if err := json.Unmarshal(r.body, &k); err != nil || k.Name != otherKeyName || k.Role != "auditor" || k.RevokedAt != nil {
		t.Errorf("B's key after the probes = %s (%v), want it unchanged", r.body, err)
	}
}
