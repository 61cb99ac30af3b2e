package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// hookServer is a receiver on loopback: it records what it is sent and
// answers status (500: a failing receiver).
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	status int
}

func newHookServer(t *testing.T, status int) *hookServer {
	t.Helper()
	h := &hookServer{status: status}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) received() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

// callAPI sends one JSON request with key and decodes the answer into out.
func callAPI(t *testing.T, method, url, key string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Logf("%s %s = %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// eventually polls cond every 50 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestE2EAlertRoutes runs the real server with one-second buckets: an
// agent denied over and over trips the deny-rate rule; the tenant's route
// for critical alerts tells an Alertmanager receiver and a failing
// webhook (retried, its failure recorded in the log) and sets a kill
// switch on the agent, which stops the agent's very next decision while
// other agents go on.
func TestE2EAlertRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server for several seconds")
	}
	srv := startServer(t, t.TempDir(), "--monitor-bucket", "1s", "--monitor-heartbeat", "1s", "--monitor-poll", "50ms",
		"--notify-attempts", "3", "--notify-retry-delay", "50ms")
	waitFor(t, srv.url+"/readyz", "")
	admin := srv.keys["admin/default"]
	waitFor(t, srv.url+"/v1/log/checkpoint", admin)
	am := newHookServer(t, http.StatusOK)
	broken := newHookServer(t, http.StatusInternalServerError)
	settings := map[string]any{
		"receivers": []map[string]any{
			{"name": "am", "kind": "alertmanager", "url": am.URL + "/api/v2/alerts"},
			{"name": "broken", "kind": "webhook", "url": broken.URL, "secret": strings.Repeat("s", 40)},
		},
		"alert_routes": []map[string]any{
			{"name": "stop-on-critical", "match": map[string]any{"severity": []string{"critical"}},
				"receivers": []string{"am", "broken"}, "control": map[string]any{"effect": "deny", "for": "1h"}},
			{"name": "page-nobody", "match": map[string]any{"agent": "nobody-*"}, "receivers": []string{"am"}},
		},
	}
	if code := callAPI(t, http.MethodPatch, srv.url+"/v1/settings", admin, settings, &map[string]any{}); code != http.StatusOK {
		t.Fatalf("PATCH /v1/settings = %d", code)
	}
	file := filepath.Join(t.TempDir(), "open.yaml")
	writeFile(t, file, []byte("name: open\nrules: [{id: all, effect: allow}, {id: no-drop, match: {action: \"db.drop*\"}, effect: deny}]\n"))
	if r := warden(t, "policy", "push", file, "--activate", "--url", srv.url, "--key", admin); r.code != 0 {
		t.Fatalf("policy push = %s", r)
	}
	c, err := client.New(srv.url, admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eval := func(agent, action string) *client.Answer {
		t.Helper()
		a, err := c.Evaluate(ctx, []byte(fmt.Sprintf(`{"principal":{"id":%q,"type":"agent"},"action":{"type":%q},"args":{}}`, agent, action)))
		if err != nil {
			t.Fatalf("evaluate %s %s: %v", agent, action, err)
		}
		return a
	}
	if a := eval("rogue", "db.read"); a.Decision != "allow" {
		t.Fatalf("rogue before: %+v, want allow", a)
	}
	// Far more than 20 denies within a second or two: at least one
	// bucket holds 20 decisions, more than half of them denied.
	start := time.Now()
	for i := 0; i < 200 && time.Since(start) < 1500*time.Millisecond; i++ {
		eval("rogue", "db.drop_table")
	}

	var alert struct {
		Alerts []struct {
			ID, Agent, Metric, Severity, Detector, Rule string
			Controls                                    []string
			Routes                                      []string
		} `json:"alerts"`
	}
	eventually(t, 20*time.Second, "no critical alert on rogue", func() bool {
		callAPI(t, http.MethodGet, srv.url+"/v1/alerts?severity=critical&agent=rogue", admin, nil, &alert)
		return len(alert.Alerts) > 0
	})
	a := alert.Alerts[0]
	if a.Metric != "denies" || a.Detector != "threshold" || a.Rule != "deny_rate" {
		t.Errorf("alert = %+v, want the deny_rate threshold on denies", a)
	}
	if len(a.Routes) != 1 || a.Routes[0] != "stop-on-critical" || len(a.Controls) != 1 {
		t.Fatalf("alert routes %v controls %v, want stop-on-critical and its switch", a.Routes, a.Controls)
	}

	// The switch binds rogue's very next decision, and rogue's alone.
	ans := eval("rogue", "db.read")
	if ans.Decision != "deny" || len(ans.Reasons) == 0 || ans.Reasons[0].Code != "control" || ans.Reasons[0].Rule != a.Controls[0] {
		t.Errorf("rogue after the alert: %+v, want deny by control %s", ans, a.Controls[0])
	}
	if ans := eval("careful", "db.read"); ans.Decision != "allow" {
		t.Errorf("another agent after the alert: %+v, want allow", ans)
	}
	ctls, err := c.Controls(ctx)
	if err != nil || len(ctls) != 1 || ctls[0].Scope.Agent != "rogue" || ctls[0].CreatedBy != "monitor" || ctls[0].ExpiresAt == nil {
		t.Errorf("controls = %+v, %v; want one deny of rogue by the monitor, expiring", ctls, err)
	}

	// The Alertmanager receiver got the v4 payload of the alert.
	eventually(t, 10*time.Second, "the alertmanager receiver got nothing", func() bool { return len(am.received()) > 0 })
	var am4 struct {
		Version string `json:"version"`
		Status  string `json:"status"`
		Alerts  []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(am.received()[0], &am4); err != nil {
		t.Fatal(err)
	}
	if am4.Version != "4" || am4.Status != "firing" || len(am4.Alerts) != 1 || am4.Alerts[0].Labels["agent"] != "rogue" ||
		am4.Alerts[0].Labels["severity"] != "critical" || am4.Alerts[0].Labels["tenant"] != "default" {
		t.Errorf("alertmanager payload = %s", am.received()[0])
	}

	// The failing webhook was tried three times and its failure recorded.
	var failed event.NotificationResult
	eventually(t, 10*time.Second, "no recorded failure of the broken receiver", func() bool {
		for _, e := range entries(t, c) {
			if e.Kind != event.KindNotification {
				continue
			}
			var r event.NotificationResult
			if json.Unmarshal(e.Body, &r) == nil && r.Receiver == "broken" && r.MessageID == a.ID {
				failed = r
				return true
			}
		}
		return false
	})
	if failed.Delivered || failed.Attempts != 3 || failed.Status != http.StatusInternalServerError {
		t.Errorf("broken receiver's result = %+v, want 3 failed attempts ending in 500", failed)
	}
	if n := len(broken.received()); n != 3 {
		t.Errorf("the broken receiver was tried %d times, want 3", n)
	}

	// Resolving tells the receivers; the log verifies with every entry.
	var resolved map[string]any
	if code := callAPI(t, http.MethodPost, srv.url+"/v1/alerts/"+a.ID+"/resolve", admin, map[string]string{"comment": "rogue contained"}, &resolved); code != http.StatusOK {
		t.Fatalf("resolve = %d", code)
	}
	eventually(t, 10*time.Second, "no resolved notification", func() bool {
		for _, b := range am.received() {
			if bytes.Contains(b, []byte(`"status":"resolved"`)) {
				return true
			}
		}
		return false
	})
	kinds := map[string]int{}
	for _, e := range entries(t, c) {
		kinds[e.Kind]++
	}
	for _, k := range []string{event.KindAlertRaised, event.KindControlSet, event.KindAlertResolved, event.KindMonitorHeartbeat} {
		if kinds[k] == 0 {
			t.Errorf("no %s entry in the log: %v", k, kinds)
		}
	}
	if r := warden(t, "log", "verify", "--url", srv.url, "--key", admin); r.code != 0 {
		t.Errorf("log verify = %s", r)
	}
}

// entries reads the whole log of the client's tenant.
func entries(t *testing.T, c *client.Client) []ledger.Entry {
	t.Helper()
	var out []ledger.Entry
	cursor := ""
	for {
		p, err := c.Entries(context.Background(), 0, -1, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			var le ledger.Entry
			if err := json.Unmarshal(e.Entry, &le); err != nil {
				t.Fatal(err)
			}
			out = append(out, le)
		}
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
}
