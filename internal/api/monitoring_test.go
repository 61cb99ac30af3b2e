package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/watch"
)

// deniesAlert is an alert of the kind the monitor raises: agent's denies
// rose in the bucket that ended at end. The id is derived from agent and
// end, so alerts that differ in either are distinct.
func deniesAlert(agent string, end time.Time) alerting.Alert {
	return alerting.Alert{Time: end, Agent: agent, Metric: "denies", Direction: "up", Severity: alerting.SeverityWarning,
		Detector: "cusum", Observed: 12, Baseline: 1.5}
}

// raise records a as the monitor would, without routing it, and returns
// it as recorded; it must be new.
func (s *stack) raise(t *testing.T, tenant string, a alerting.Alert) *alerting.Alert {
	t.Helper()
	got, made, err := s.alerts.Raise(context.Background(), tenant, a, false)
	if err != nil || !made {
		t.Fatalf("Raise(%s, %s %s at %s) = %v, %v; want a new alert", tenant, a.Agent, a.Metric, a.Time, made, err)
	}
	return got
}

// seriesPoint is agent's bucket starting at bucket, as the monitor job
// stores it: each metric's observed value, scored against a baseline.
func seriesPoint(t *testing.T, agent string, bucket time.Time, observed map[string]float64) watch.Point {
	t.Helper()
	d := watch.PointData{Metrics: map[string]watch.MetricPoint{}}
	for m, v := range observed {
		d.Metrics[m] = watch.MetricPoint{Observed: v, Scored: true, Baseline: 1, Low: 0.5, High: 2, CUSUMUp: v / 10}
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return watch.Point{Agent: agent, Bucket: bucket, Data: data}
}

// putSeries writes points to tenant's series as the monitor job does.
func (s *stack) putSeries(t *testing.T, tenant string, points ...watch.Point) {
	t.Helper()
	if err := s.db.PutSeries(context.Background(), tenant, points); err != nil {
		t.Fatalf("PutSeries(%s, %d points) = %v", tenant, len(points), err)
	}
}

// openIncident opens an incident with key; the answer must be 201.
func (s *stack) openIncident(t *testing.T, key, body string) *alerting.Incident {
	t.Helper()
	r := s.send(t, http.MethodPost, "/v1/incidents", key, body, http.StatusCreated)
	var inc alerting.Incident
	if err := json.Unmarshal(r.body, &inc); err != nil || inc.ID == "" {
		t.Fatalf("POST /v1/incidents answered %s (%v), want an incident", r.body, err)
	}
	return &inc
}

// logEntry is an entry of the log as GET /v1/log/entries serves it.
type logEntry struct {
	Seq   int64           `json:"seq"`
	Kind  string          `json:"kind"`
	Actor string          `json:"actor"`
	Body  json.RawMessage `json:"body"`
}

// monEnv is a stack whose clock stands still on a whole minute, with an
// operator key, and a mark in default's log: the entries after it are
// those the test's last steps appended.
type monEnv struct {
	s        *stack
	clock    *testClock
	operator *api.NewKeyJSON
	mark     int64
}

func newMonEnv(t *testing.T) *monEnv {
	t.Helper()
	clock := &testClock{now: time.Now().UTC().Truncate(time.Minute)}
	s := newStack(t, stackOptions{clock: clock.Now})
	e := &monEnv{s: s, clock: clock}
	e.operator = s.createKey(t, s.admin, `{"role":"operator","name":"on call"}`)
	e.appended(t)
	return e
}

// appended returns the entries of default appended since the mark, read
// with GET /v1/log/entries, and moves the mark past them.
func (e *monEnv) appended(t *testing.T) []logEntry {
	t.Helper()
	var out []logEntry
	path := fmt.Sprintf("/v1/log/entries?from=%d", e.mark)
	for {
		r := e.s.get(t, path, e.s.admin, http.StatusOK)
		var page struct {
			Entries    []api.EntryJSON `json:"entries"`
			NextCursor string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatalf("GET %s = %s: %v", path, r.body, err)
		}
		for _, en := range page.Entries {
			var le logEntry
			if err := json.Unmarshal(en.Entry, &le); err != nil {
				t.Fatalf("entry %d: %v", en.Seq, err)
			}
			out = append(out, le)
			e.mark = en.Seq + 1
		}
		if page.NextCursor == "" {
			return out
		}
		path = "/v1/log/entries?cursor=" + url.QueryEscape(page.NextCursor)
	}
}

// recorded checks that the steps since the mark appended exactly one
// entry, of kind and by actor, and decodes its body into body.
func (e *monEnv) recorded(t *testing.T, kind, actor string, body any) {
	t.Helper()
	got := e.appended(t)
	if len(got) != 1 || got[0].Kind != kind || got[0].Actor != actor {
		t.Fatalf("appended %s, want one %s entry by %s", kindsOf(got), kind, actor)
	}
	if err := json.Unmarshal(got[0].Body, body); err != nil {
		t.Fatalf("%s body %s: %v", kind, got[0].Body, err)
	}
}

// nothingRecorded checks that the steps since the mark appended nothing.
func (e *monEnv) nothingRecorded(t *testing.T, what string) {
	t.Helper()
	if got := e.appended(t); len(got) > 0 {
		t.Errorf("%s appended %s, want nothing", what, kindsOf(got))
	}
}

func kindsOf(es []logEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

// alertPage is a page of GET /v1/alerts.
type alertPage struct {
	Alerts     []alerting.Alert `json:"alerts"`
	NextCursor string           `json:"next_cursor"`
}

func (e *monEnv) alerts(t *testing.T, query string) alertPage {
	t.Helper()
	r := e.s.get(t, "/v1/alerts"+query, e.operator.Key, http.StatusOK)
	var p alertPage
	if err := json.Unmarshal(r.body, &p); err != nil || p.Alerts == nil {
		t.Fatalf("GET /v1/alerts%s = %s (%v), want a list", query, r.body, err)
	}
	return p
}

func (e *monEnv) alert(t *testing.T, id string) *alerting.Alert {
	t.Helper()
	r := e.s.get(t, "/v1/alerts/"+id, e.operator.Key, http.StatusOK)
	var a alerting.Alert
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

func alertIDs(as []alerting.Alert) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// TestAlertListing filters alerts on each field and pages through them,
// newest first.
func TestAlertListing(t *testing.T) {
	e := newMonEnv(t)
	t0 := e.clock.Now().Add(-time.Hour)
	specs := []struct{ agent, metric, severity string }{
		{"bot-a", "denies", "warning"},
		{"bot-b", "denies", "critical"},
		{"bot-a", "decisions", "info"},
		{"bot-b", "decisions", "warning"},
		{"bot-a", "denies", "critical"},
		{"bot-c", "outcome_failures", "warning"},
		{"bot-a", "denies", "warning"},
	}
	var raised []*alerting.Alert // in the order raised: oldest first
	for i, sp := range specs {
		a := deniesAlert(sp.agent, t0.Add(time.Duration(i)*time.Minute))
		a.Metric, a.Severity = sp.metric, sp.severity
		raised = append(raised, e.s.raise(t, "default", a))
	}
	e.s.send(t, "POST", "/v1/alerts/"+raised[1].ID+"/ack", e.operator.Key, "", http.StatusOK)
	e.s.send(t, "POST", "/v1/alerts/"+raised[4].ID+"/resolve", e.operator.Key, `{"comment":"noise"}`, http.StatusOK)

	// want lists the indexes of raised that a query selects, newest first.
	for _, tc := range []struct {
		name, query string
		want        []int
	}{
		{"all", "", []int{6, 5, 4, 3, 2, 1, 0}},
		{"open", "?status=open", []int{6, 5, 3, 2, 0}},
		{"acknowledged", "?status=acknowledged", []int{1}},
		{"resolved", "?status=resolved", []int{4}},
		{"critical", "?severity=critical", []int{4, 1}},
		{"agent", "?agent=bot-a", []int{6, 4, 2, 0}},
		{"metric", "?metric=decisions", []int{3, 2}},
		{"agent and metric", "?agent=bot-a&metric=denies", []int{6, 4, 0}},
		{"open criticals", "?status=open&severity=critical", []int{}},
		{"from", "?from=" + url.QueryEscape(t0.Add(5*time.Minute).Format(time.RFC3339)), []int{6, 5}},
		{"to excluded", "?to=" + url.QueryEscape(t0.Add(2*time.Minute).Format(time.RFC3339)), []int{1, 0}},
		{"from to", "?from=" + url.QueryEscape(t0.Add(2*time.Minute).Format(time.RFC3339)) +
			"&to=" + url.QueryEscape(t0.Add(5*time.Minute).Format(time.RFC3339Nano)), []int{4, 3, 2}},
		{"unknown agent", "?agent=bot-z", []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, i := range tc.want {
				want = append(want, raised[i].ID)
			}
			if got := alertIDs(e.alerts(t, tc.query).Alerts); !slices.Equal(got, want) {
				t.Errorf("GET /v1/alerts%s = %v, want %v", tc.query, got, want)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			limit int
			want  []int
		}{
			{"", 2, []int{6, 5, 4, 3, 2, 1, 0}},
			{"", 7, []int{6, 5, 4, 3, 2, 1, 0}},
			{"agent=bot-a&", 1, []int{6, 4, 2, 0}},
			{"status=open&", 3, []int{6, 5, 3, 2, 0}},
		} {
			var got []string
			q := fmt.Sprintf("?%slimit=%d", tc.query, tc.limit)
			for pages := 0; ; pages++ {
				if pages > len(raised) {
					t.Fatalf("GET /v1/alerts?%s: more pages than alerts", tc.query)
				}
				p := e.alerts(t, q)
				if len(p.Alerts) > tc.limit {
					t.Fatalf("GET /v1/alerts%s = %d alerts", q, len(p.Alerts))
				}
				got = append(got, alertIDs(p.Alerts)...)
				if p.NextCursor == "" {
					break
				}
				q = fmt.Sprintf("?%slimit=%d&cursor=%s", tc.query, tc.limit, p.NextCursor)
			}
			var want []string
			for _, i := range tc.want {
				want = append(want, raised[i].ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages of GET /v1/alerts?%slimit=%d = %v, want %v", tc.query, tc.limit, got, want)
			}
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"status=closed", "severity=high", "from=yesterday", "to=2024-13-01T00:00:00Z",
			"cursor=abc", "cursor=0", "cursor=-3", "limit=0", "limit=1001", "limit=x",
			"agent=" + strings.Repeat("a", 257), "metric=" + strings.Repeat("m", 65)} {
			r := e.s.get(t, "/v1/alerts?"+q, e.operator.Key, http.StatusBadRequest)
			decodeProblem(t, "GET /v1/alerts?"+q, r)
		}
	})
}

// TestAlertLifecycle acknowledges and resolves alerts: each change is one
// entry, a change the alert's state does not allow is 409, and a comment
// that is missing, too long or holds a key is 400 and recorded nowhere.
func TestAlertLifecycle(t *testing.T) {
	e := newMonEnv(t)
	s, op := e.s, e.operator
	a := s.raise(t, "default", deniesAlert("bot-a", e.clock.Now()))
	b := s.raise(t, "default", deniesAlert("bot-b", e.clock.Now()))
	if raised := e.appended(t); len(raised) != 2 || raised[0].Kind != event.KindAlertRaised {
		t.Fatalf("raising two alerts appended %v, want two alert.raised", kindsOf(raised))
	}
	if got := e.alert(t, a.ID); got.Status != alerting.StatusOpen || got.Seq != a.Seq || !got.Time.Equal(a.Time) {
		t.Fatalf("GET /v1/alerts/%s = %+v, want it open as raised", a.ID, got)
	}

	// Refused comments, before anything changed.
	secret := keySecret(t, s.admin)
	for _, tc := range []struct{ verb, body string }{
		{"ack", `{"comment":"leaked ` + s.admin + `"}`},
		{"resolve", `{"comment":"` + s.admin + `"}`},
		{"resolve", ""},
		{"resolve", `{}`},
		{"resolve", `{"comment":"   "}`},
		{"resolve", `{"comment":"` + strings.Repeat("x", alerting.MaxCommentBytes+1) + `"}`},
		{"ack", `{"comment":"x","extra":1}`},
		{"ack", `{"comment":"x"} {}`},
	} {
		r := s.send(t, "POST", "/v1/alerts/"+a.ID+"/"+tc.verb, op.Key, tc.body, http.StatusBadRequest)
		if strings.Contains(string(r.body), secret) {
			t.Errorf("POST %s with a key in the comment answered %s, which repeats the key", tc.verb, r.body)
		}
	}
	e.nothingRecorded(t, "refused comments")
	if got := e.alert(t, a.ID); got.Status != alerting.StatusOpen || got.AckedBy != "" {
		t.Fatalf("after refused changes, alert = %+v, want it open", got)
	}

	// Acknowledged once.
	r := s.send(t, "POST", "/v1/alerts/"+a.ID+"/ack", op.Key, `{"comment":"looking"}`, http.StatusOK)
	var acked alerting.Alert
	if err := json.Unmarshal(r.body, &acked); err != nil {
		t.Fatal(err)
	}
	if acked.Status != alerting.StatusAcknowledged || acked.AckedBy != op.ID || acked.AckedAt == nil || !acked.AckedAt.Equal(e.clock.Now()) {
		t.Errorf("ack answered %+v, want acknowledged by %s at %s", acked, op.ID, e.clock.Now())
	}
	var changed event.AlertChanged
	e.recorded(t, event.KindAlertAcknowledged, op.ID, &changed)
	if changed != (event.AlertChanged{AlertID: a.ID, Status: alerting.StatusAcknowledged, Comment: "looking"}) {
		t.Errorf("alert.acknowledged body %+v", changed)
	}
	if got := e.alert(t, a.ID); got.Status != alerting.StatusAcknowledged || got.AckedBy != op.ID {
		t.Errorf("GET after ack = %+v", got)
	}
	r = s.send(t, "POST", "/v1/alerts/"+a.ID+"/ack", s.admin, "", http.StatusConflict)
	decodeProblem(t, "second ack", r)
	e.nothingRecorded(t, "a second ack")

	// Resolved, with its comment; then nothing more.
	e.clock.Advance(time.Minute)
	r = s.send(t, "POST", "/v1/alerts/"+a.ID+"/resolve", op.Key, `{"comment":"a deploy, expected"}`, http.StatusOK)
	var resolved alerting.Alert
	if err := json.Unmarshal(r.body, &resolved); err != nil {
		t.Fatal(err)
	}
	if resolved.Status != alerting.StatusResolved || resolved.ResolvedBy != op.ID || resolved.Resolution != "a deploy, expected" ||
		resolved.ResolvedAt == nil || !resolved.ResolvedAt.Equal(e.clock.Now()) || resolved.AckedBy != op.ID {
		t.Errorf("resolve answered %+v", resolved)
	}
	e.recorded(t, event.KindAlertResolved, op.ID, &changed)
	if changed != (event.AlertChanged{AlertID: a.ID, Status: alerting.StatusResolved, Comment: "a deploy, expected"}) {
		t.Errorf("alert.resolved body %+v", changed)
	}
	for _, verb := range []string{"ack", "resolve"} {
		s.send(t, "POST", "/v1/alerts/"+a.ID+"/"+verb, op.Key, `{"comment":"again"}`, http.StatusConflict)
	}
	e.nothingRecorded(t, "changes to a resolved alert")

	// An open alert may be resolved without an acknowledgement.
	s.send(t, "POST", "/v1/alerts/"+b.ID+"/resolve", s.admin, `{"comment":"duplicate"}`, http.StatusOK)
	e.recorded(t, event.KindAlertResolved, keyIDOf(t, s.admin), &changed)
	if changed.AlertID != b.ID || changed.Status != alerting.StatusResolved {
		t.Errorf("alert.resolved body %+v, want %s resolved", changed, b.ID)
	}
}

// keyIDOf is the id part of a presentable key, which entries name as
// their actor.
func keyIDOf(t *testing.T, key string) string {
	t.Helper()
	id, _, err := access.ParseKey(key)
	if err != nil {
		t.Fatalf("ParseKey(%q) = %v", key, err)
	}
	return id
}

// Unknown and malformed alert and incident ids are not found, whatever
// the route; no such request is recorded.
func TestMonitoringUnknownIDs(t *testing.T) {
	e := newMonEnv(t)
	s, op := e.s, e.operator.Key
	a := s.raise(t, "default", deniesAlert("bot-a", e.clock.Now()))
	inc := s.openIncident(t, op, `{"title":"real"}`)
	e.appended(t)
	unknownAlert := "alr_" + strings.Repeat("a", 26)
	unknownIncident := "inc_" + strings.Repeat("0", 26)
	for _, id := range []string{unknownAlert, "alr_" + strings.Repeat("a", 25), strings.ToUpper(a.ID), "alr_" + strings.Repeat("1", 26),
		"rcpt_" + strings.Repeat("a", 26), "x", a.ID + "a", url.PathEscape(a.ID + "\n")} {
		for _, c := range []struct{ method, suffix, body string }{
			{"GET", "", ""}, {"POST", "/ack", "{}"}, {"POST", "/resolve", `{"comment":"x"}`},
		} {
			r := s.send(t, c.method, "/v1/alerts/"+id+c.suffix, op, c.body, http.StatusNotFound)
			decodeProblem(t, c.method+" /v1/alerts/"+id+c.suffix, r)
		}
	}
	for _, id := range []string{unknownIncident, "INC_1", "inc_", "inc_" + strings.Repeat("a", 65), "inc_a-b", a.ID} {
		for _, c := range []struct{ method, suffix, body string }{
			{"GET", "", ""}, {"POST", "/notes", `{"text":"x"}`}, {"POST", "/links", `{"alerts":["` + a.ID + `"]}`},
			{"POST", "/resolve", `{"resolution":"x"}`},
		} {
			r := s.send(t, c.method, "/v1/incidents/"+id+c.suffix, op, c.body, http.StatusNotFound)
			decodeProblem(t, c.method+" /v1/incidents/"+id+c.suffix, r)
		}
	}
	e.nothingRecorded(t, "requests on unknown ids")
	s.get(t, "/v1/incidents/"+inc.ID, op, http.StatusOK)
	if got := e.alert(t, a.ID); got.Status != alerting.StatusOpen {
		t.Errorf("alert after requests on unknown ids = %+v", got)
	}
}
