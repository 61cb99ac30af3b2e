package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/scan"
)

var securityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":         "no-referrer",
	"Cache-Control":           "no-store",
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestEveryResponseHeaders(t *testing.T) {
	s := newStack(t, stackOptions{maxBody: 64})
	s.waitCheckpoint(t, "default")
	for _, tc := range []struct {
		name, method, path, key, body string
		want                          int
	}{
		{"healthz", "GET", "/healthz", "", "", 200},
		{"readyz", "GET", "/readyz", "", "", 200},
		{"openapi", "GET", "/v1/openapi.json", "", "", 200},
		{"metrics", "GET", "/metrics", "", "", 200},
		{"checkpoint", "GET", "/v1/log/checkpoint", s.admin, "", 200},
		{"entries", "GET", "/v1/log/entries", s.admin, "", 200},
		{"verify", "POST", "/v1/log/verify", s.admin, "{}", 200},
		{"unauthorized", "GET", "/v1/log/entries", "", "", 401},
		{"bad request", "GET", "/v1/log/entries?limit=0", s.admin, "", 400},
		{"not found", "GET", "/nope", "", "", 404},
		{"method not allowed", "DELETE", "/v1/log/checkpoint", s.admin, "", 405},
		{"too large", "POST", "/v1/log/verify", s.admin, strings.Repeat(" ", 100), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, tc.key, strings.NewReader(tc.body))
			what := tc.method + " " + tc.path
			if r.status != tc.want {
				t.Fatalf("%s = %d, want %d; body %s", what, r.status, tc.want, r.body)
			}
			if id := r.header.Get("X-Request-Id"); !generatedID.MatchString(id) {
				t.Errorf("%s: X-Request-Id = %q, want 24 hex digits", what, id)
			}
			for name, want := range securityHeaders {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s: %s = %q, want %q", what, name, got, want)
				}
			}
			if tc.want >= 400 {
				decodeProblem(t, what, r)
			}
		})
	}
}

func TestRequestIDEcho(t *testing.T) {
	s := newStack(t, stackOptions{})
	for _, tc := range []struct {
		name, sent string
		echoed     bool
	}{
		{"simple", "req-123", true},
		{"all allowed characters", "A.b_C-9", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"space", "a b", false},
		{"slash", "a/b", false},
		{"quote", `a"b`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/healthz", "/v1/log/entries"} { // a success and a 401
				r := s.do(t, http.MethodGet, path, "", nil, "X-Request-Id", tc.sent)
				got := r.header.Get("X-Request-Id")
				if tc.echoed && got != tc.sent {
					t.Errorf("GET %s with X-Request-Id %q: answered %q, want it echoed", path, tc.sent, got)
				}
				if !tc.echoed && !generatedID.MatchString(got) {
					t.Errorf("GET %s with X-Request-Id %q: answered %q, want a fresh id", path, tc.sent, got)
				}
				if !strings.Contains(s.logs.String(), `"request_id":"`+got+`"`) {
					t.Errorf("GET %s: no log line carries request_id %q", path, got)
				}
			}
		})
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.waitCheckpoint(t, "default")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		t.Run(scheme, func(t *testing.T) {
			r := s.do(t, http.MethodGet, "/v1/log/checkpoint", "", nil, "Authorization", scheme+" "+s.admin)
			if r.status != http.StatusOK {
				t.Fatalf("GET /v1/log/checkpoint with %q scheme = %d, want 200", scheme, r.status)
			}
		})
	}
}

// TestSecretsNeverLeak sends the admin key, right and wrong, in every way
// a client might and checks that no answer and no log line carries it.
func TestSecretsNeverLeak(t *testing.T) {
	s := newStack(t, stackOptions{maxBody: 128})
	s.appendN(t, "default", 3)
	s.waitCheckpoint(t, "default")
	secret := keySecret(t, s.admin)
	var answers []*response
	send := func(method, path, authz, body string) {
		answers = append(answers, s.do(t, method, path, "", strings.NewReader(body), "Authorization", authz))
	}
	for _, rt := range logRoutes {
		send(rt.method, rt.path, "Bearer "+s.admin, rt.body)
		send(rt.method, rt.path, "Bearer "+s.admin+"x", rt.body)                            // malformed
		send(rt.method, rt.path, "Bearer wdn_"+strings.Repeat("b", 16)+"_"+secret, rt.body) // unknown id
		send(rt.method, rt.path, "Bearer "+s.admin, rt.body+" ")                            // verify with a body
	}
	send("GET", "/v1/log/entries/"+secret, "Bearer "+s.admin, "")
	send("GET", "/v1/log/entries?cursor="+secret, "Bearer "+s.admin, "")
	send("GET", "/v1/log/checkpoint?tenant="+secret, "Bearer "+s.admin, "")
	send("GET", "/v1/log/checkpoint?tenant="+secret, "Bearer "+s.owner, "")
	send("GET", "/"+s.admin, "Bearer "+s.admin, "")
	send("POST", "/v1/log/verify", "Bearer "+s.admin, `{"key":"`+s.admin+`"}`)
	send("POST", "/v1/log/verify", "Bearer "+s.admin, strings.Repeat(s.admin, 4))
	send("GET", "/metrics", "Bearer "+s.admin, "")

	for i, r := range answers {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("answer %d (%d) carries the admin key's secret: %s", i, r.status, r.body)
		}
		for name, vals := range r.header {
			if strings.Contains(strings.Join(vals, " "), secret) {
				t.Errorf("answer %d: header %s carries the admin key's secret", i, name)
			}
		}
	}
	logs := s.logs.String()
	if n := strings.Count(logs, `"msg":"http"`); n < len(answers) {
		t.Fatalf("captured %d access log lines for %d requests: the capture does not work", n, len(answers))
	}
	if strings.Contains(logs, secret) {
		t.Errorf("a log line carries the admin key's secret")
	}
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	s := newStack(t, stackOptions{scanner: scan.New(scan.Limits{}, tokenDetector{})})
	s.pushAndActivate(t, "name: probe\nrules: [{id: all, effect: allow}]\n")
	s.waitCheckpoint(t, "default")
	evalBody := `{"principal":{"id":"bot","type":"agent"},"action":{"type":"fs.read"}}`
	rcpt := s.evaluate(t, s.admin, evalBody, http.StatusOK).ReceiptID
	keyID := s.createKey(t, s.admin, `{"role":"auditor","name":"probe"}`).ID
	ctl := s.setControl(t, `{"scope":{"agent":"nobody"},"effect":"deny","reason":"probe"}`)
	// A version pushed by a policy author, for the admin to approve.
	author := s.createKey(t, s.admin, `{"role":"policy_author","name":"author"}`)
	if r := s.do(t, "POST", "/v1/policies", author.Key, strings.NewReader("name: authored\nrules: []\n"), "Content-Type", "application/yaml"); r.status != http.StatusCreated {
		t.Fatalf("push by the author = %d %s", r.status, r.body)
	}
	// Two approval requests, opened by an agent key for the admin to vote on.
	s.pushAndActivate(t, "name: probe\nrules: [{id: all, effect: allow}, {id: ask, match: {action: pay}, effect: require_approval}]\n")
	bot := s.createKey(t, s.admin, `{"role":"agent","name":"bot","bindings":["bot"]}`)
	apr := s.evaluate(t, bot.Key, `{"principal":{"id":"bot","type":"agent"},"action":{"type":"pay"}}`, http.StatusOK).ApprovalID
	apr2 := s.evaluate(t, bot.Key, `{"principal":{"id":"bot","type":"agent"},"action":{"type":"pay"},"args":{"n":2}}`, http.StatusOK).ApprovalID
	if apr == "" || apr2 == "" {
		t.Fatal("require_approval opened no approval request")
	}
	// Two alerts (one to acknowledge, one to resolve), an incident, and a
	// bucket of bot's series, as the monitor would have left them.
	now := time.Now().UTC()
	alr := s.raise(t, "default", deniesAlert("bot", now.Truncate(time.Minute))).ID
	alr2 := s.raise(t, "default", deniesAlert("bot", now.Truncate(time.Minute).Add(-time.Minute))).ID
	inc := s.openIncident(t, s.admin, `{"title":"probe"}`).ID
	s.putSeries(t, "default", seriesPoint(t, "bot", now.Truncate(time.Minute).Add(-time.Minute), map[string]float64{"decisions": 1}))
	// What the server serves, as a request that succeeds for an admin
	// (for the tenant routes, the owner).
	served := []struct{ method, path, probe string }{
		{"GET", "/healthz", "/healthz"},
		{"GET", "/readyz", "/readyz"},
		{"GET", "/metrics", "/metrics"},
		{"GET", "/v1/openapi.json", "/v1/openapi.json"},
		{"GET", "/v1/log/checkpoint", "/v1/log/checkpoint"},
		{"GET", "/v1/log/key", "/v1/log/key"},
		{"GET", "/v1/log/entries", "/v1/log/entries"},
		{"GET", "/v1/log/entries/{seq}", "/v1/log/entries/1"},
		{"GET", "/v1/log/proof/inclusion", "/v1/log/proof/inclusion?seq=0"},
		{"GET", "/v1/log/proof/consistency", "/v1/log/proof/consistency?from=1"},
		{"POST", "/v1/log/verify", "/v1/log/verify"},
		{"POST", "/v1/evaluate", "/v1/evaluate"},
		{"POST", "/v1/policies", "/v1/policies"},
		{"GET", "/v1/policies", "/v1/policies"},
		{"GET", "/v1/policies/active", "/v1/policies/active"},
		{"GET", "/v1/policies/{name}/versions", "/v1/policies/probe/versions"},
		{"GET", "/v1/policies/{name}/versions/{n}", "/v1/policies/probe/versions/1"},
		{"POST", "/v1/policies/{name}/versions/{n}/activate", "/v1/policies/probe/versions/1/activate"},
		{"GET", "/v1/policies/{name}/diff", "/v1/policies/probe/diff?from=1&to=1"},
		{"POST", "/v1/receipts/{id}/outcome", "/v1/receipts/" + rcpt + "/outcome"},
		{"POST", "/v1/scan", "/v1/scan"},
		{"GET", "/v1/receipts", "/v1/receipts"},
		{"GET", "/v1/receipts/{id}", "/v1/receipts/" + rcpt},
		{"POST", "/v1/keys", "/v1/keys"},
		{"GET", "/v1/keys", "/v1/keys"},
		{"GET", "/v1/keys/{id}", "/v1/keys/" + keyID},
		{"PATCH", "/v1/keys/{id}", "/v1/keys/" + keyID},
		{"DELETE", "/v1/keys/{id}", "/v1/keys/" + keyID},
		{"GET", "/v1/access/review", "/v1/access/review"},
		{"POST", "/v1/access/review/sign", "/v1/access/review/sign"},
		{"GET", "/v1/settings", "/v1/settings"},
		{"PATCH", "/v1/settings", "/v1/settings"},
		{"POST", "/v1/tenants", "/v1/tenants"},
		{"GET", "/v1/tenants", "/v1/tenants"},
		{"POST", "/v1/tenants/{id}/suspend", "/v1/tenants/probe/suspend"},
		{"POST", "/v1/policies/{name}/versions/{n}/approve", "/v1/policies/authored/versions/1/approve"},
		{"POST", "/v1/policies/{name}/versions/{n}/candidate", "/v1/policies/probe/versions/1/candidate"},
		{"GET", "/v1/policies/shadow/report", "/v1/policies/shadow/report"},
		{"DELETE", "/v1/policies/candidate", "/v1/policies/candidate"},
		{"GET", "/v1/policies/activations", "/v1/policies/activations"},
		{"POST", "/v1/policies/replay", "/v1/policies/replay"},
		{"POST", "/v1/controls", "/v1/controls"},
		{"GET", "/v1/controls", "/v1/controls"},
		{"DELETE", "/v1/controls/{id}", "/v1/controls/" + ctl},
		{"GET", "/v1/evidence", "/v1/evidence?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z"},
		{"GET", "/v1/approvals", "/v1/approvals"},
		{"GET", "/v1/approvals/{id}", "/v1/approvals/" + apr},
		{"POST", "/v1/approvals/{id}/approve", "/v1/approvals/" + apr + "/approve"},
		{"POST", "/v1/approvals/{id}/reject", "/v1/approvals/" + apr2 + "/reject"},
		{"GET", "/v1/alerts", "/v1/alerts"},
		{"GET", "/v1/alerts/{id}", "/v1/alerts/" + alr},
		{"POST", "/v1/alerts/{id}/ack", "/v1/alerts/" + alr + "/ack"},
		{"POST", "/v1/alerts/{id}/resolve", "/v1/alerts/" + alr2 + "/resolve"},
		{"POST", "/v1/incidents", "/v1/incidents"},
		{"GET", "/v1/incidents", "/v1/incidents"},
		{"GET", "/v1/incidents/{id}", "/v1/incidents/" + inc},
		{"POST", "/v1/incidents/{id}/notes", "/v1/incidents/" + inc + "/notes"},
		{"POST", "/v1/incidents/{id}/links", "/v1/incidents/" + inc + "/links"},
		{"POST", "/v1/incidents/{id}/resolve", "/v1/incidents/" + inc + "/resolve"},
		{"GET", "/v1/monitor/agents", "/v1/monitor/agents"},
		{"GET", "/v1/monitor/agents/{id}/series", "/v1/monitor/agents/bot/series"},
	}
	public := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/v1/openapi.json": true}
	r := s.get(t, "/v1/openapi.json", "", http.StatusOK)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("GET /v1/openapi.json = %s (%v), want an OpenAPI 3 document", r.body, err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			_, secured := op["security"]
			_, perm := op["x-warden-permission"]
			if public := public[path]; secured == public || perm == public {
				t.Errorf("%s %s: security %v, x-warden-permission %v; want both exactly on authenticated routes", method, path, secured, perm)
			}
		}
	}
	var want []string
	for _, rt := range served {
		want = append(want, rt.method+" "+rt.path)
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			body, headers := "", []string(nil)
			switch {
			case rt.path == "/v1/evaluate":
				body = evalBody
			case rt.path == "/v1/scan":
				body = `{"text":"hello"}`
			case rt.path == "/v1/receipts/{id}/outcome":
				body = `{"status":"succeeded"}`
			case rt.method == "POST" && rt.path == "/v1/keys":
				body = `{"role":"agent","name":"probe agent","bindings":["bot-*"]}`
			case rt.method == "POST" && rt.path == "/v1/tenants":
				body = `{"id":"probe","name":"Probe"}`
			case rt.method == "PATCH" && rt.path == "/v1/settings":
				body = `{"retention_days":30}`
			case rt.method == "PATCH":
				body = `{"name":"renamed"}`
			case rt.path == "/v1/policies/replay":
				body = `{"name":"probe","version":1}`
			case rt.method == "POST" && rt.path == "/v1/controls":
				body = `{"scope":{"agent":"nobody-2"},"effect":"deny","reason":"probe"}`
			case rt.path == "/v1/alerts/{id}/resolve":
				body = `{"comment":"probe"}`
			case rt.method == "POST" && rt.path == "/v1/incidents":
				body = `{"title":"probe","alerts":["` + alr + `"],"receipts":["` + rcpt + `"]}`
			case rt.path == "/v1/incidents/{id}/notes":
				body = `{"text":"probe"}`
			case rt.path == "/v1/incidents/{id}/links":
				body = `{"alerts":["` + alr2 + `"]}`
			case rt.path == "/v1/incidents/{id}/resolve":
				body = `{"resolution":"probe"}`
			case rt.method == "POST" && rt.path == "/v1/policies":
				body, headers = "name: probe\nrules: [{id: all, effect: allow}]\n", []string{"Content-Type", "application/yaml"}
			case rt.method == "POST":
				body = "{}"
			}
			key := s.admin
			if strings.HasPrefix(rt.path, "/v1/tenants") {
				key = s.owner
			}
			r := s.do(t, rt.method, rt.probe, key, strings.NewReader(body), headers...)
			if r.status != http.StatusOK && !(r.status == http.StatusCreated && rt.method == "POST") &&
				!(r.status == http.StatusNoContent && rt.method == "DELETE") {
				t.Fatalf("%s %s = %d, want 200", rt.method, rt.probe, r.status)
			}
		})
	}
	slices.Sort(documented)
	slices.Sort(want)
	if !slices.Equal(documented, want) {
		t.Fatalf("OpenAPI documents\n  %v\nthe server serves\n  %v", documented, want)
	}
	// Every documented operation is served by a route, not the fallback.
	for _, op := range documented {
		method, path, _ := strings.Cut(op, " ")
		if path == "/v1/policies/shadow/report" {
			s.do(t, "POST", "/v1/policies/probe/versions/1/candidate", s.admin, nil) // it needs a candidate
		}
		id := rcpt
		switch {
		case strings.HasPrefix(path, "/v1/keys/"):
			id = keyID
		case strings.HasPrefix(path, "/v1/approvals/"):
			id = apr
		case strings.HasPrefix(path, "/v1/controls/"):
			id = s.setControl(t, `{"scope":{"agent":"nobody-3"},"effect":"deny","reason":"probe"}`)
		case strings.HasPrefix(path, "/v1/alerts/"):
			id = alr
		case strings.HasPrefix(path, "/v1/incidents/"):
			id = inc
		case strings.HasPrefix(path, "/v1/monitor/agents/"):
			id = "bot"
		}
		probe := strings.NewReplacer("{seq}", "0", "{name}", "probe", "{n}", "1", "{id}", id).Replace(path)
		r := s.do(t, method, probe, s.admin, strings.NewReader(""))
		if r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed {
			t.Errorf("documented %s answers %d", op, r.status)
		}
	}
}

func TestMetrics(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.appendN(t, "default", 10)
	s.waitCheckpoint(t, "default")
	s.get(t, "/v1/log/checkpoint", s.admin, http.StatusOK)
	s.get(t, "/v1/log/entries", "", http.StatusUnauthorized)
	s.get(t, "/metrics", "", http.StatusOK) // counted in the next scrape
	r := s.get(t, "/metrics", "", http.StatusOK)
	text := string(r.body)
	for _, want := range []string{
		`warden_http_requests_total{code="200",route="GET /v1/log/checkpoint"} 1`,
		`warden_http_requests_total{code="401",route="GET /v1/log/entries"} 1`,
		`warden_http_requests_total{code="200",route="GET /metrics"} 1`,
		"# TYPE warden_ledger_batch_entries histogram",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	// Bootstrap's 4 entries and the 10 appended are all observed.
	if n := metricValue(t, text, "warden_ledger_batch_entries_sum"); n != 14 {
		t.Errorf("warden_ledger_batch_entries_sum = %v, want 14", n)
	}
	if n := metricValue(t, text, "warden_ledger_batch_entries_count"); n < 4 || n > 14 {
		t.Errorf("warden_ledger_batch_entries_count = %v, want between 4 and 14 batches", n)
	}
}

func metricValue(t *testing.T, text, name string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
