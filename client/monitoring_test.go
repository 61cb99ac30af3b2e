package client_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/client"
	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/watch"
	"golang.org/x/mod/sumdb/note"
)

// monitoringServer is a real Warden API over SQLite that keeps alerts,
// incidents and the monitor's series; the test raises alerts and stores
// points itself, as the monitor job would.
type monitoringServer struct {
	url, admin string
	alerts     *alerting.Service
	db         *sqlite.DB
}

func newMonitoringServer(t *testing.T) *monitoringServer {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	skey, vkey, err := ledger.GenerateKey("warden")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.New(db, ledger.Config{Origin: "warden", Signer: signer, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	made, err := access.Bootstrap(ctx, l, db, rand.Reader, time.Now)
	if err != nil {
		t.Fatalf("Bootstrap = %v", err)
	}
	s := &monitoringServer{db: db, alerts: &alerting.Service{Ledger: l, Store: db, IDs: ledger.NewIDs(time.Now, rand.Reader), Logger: logger}}
	for _, k := range made {
		if k.Role == access.RoleAdmin {
			s.admin = k.Secret
		}
	}
	hs := httptest.NewServer(api.New(api.Config{Store: db, Ledger: l, Origin: "warden", VerifierKey: vkey, Logger: logger,
		Alerts: s.alerts, MonitorStore: db}).Handler())
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

// raise records an alert of the default tenant as the monitor would.
func (s *monitoringServer) raise(t *testing.T, a alerting.Alert) string {
	t.Helper()
	got, created, err := s.alerts.Raise(context.Background(), "default", a, false)
	if err != nil || !created {
		t.Fatalf("Raise(%s %s) = %v, %v", a.Agent, a.Metric, created, err)
	}
	return got.ID
}

var t0 = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// wantStatus fails unless err is a *client.Error with status.
func wantStatus(t *testing.T, call string, err error, status int) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != status {
		t.Fatalf("%s = %v, want a *client.Error with status %d", call, err, status)
	}
	return ce
}

func alertIDs(as []client.Alert) []string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestClientAlerts(t *testing.T) {
	s := newMonitoringServer(t)
	ctx := context.Background()
	c := mustClient(t, s.url, s.admin)
	// Raised oldest first: the listing answers newest first.
	bot1 := s.raise(t, alerting.Alert{Agent: "billing-bot", Metric: "decisions", Direction: "up", Severity: alerting.SeverityCritical,
		Detector: "cusum_fast", Time: t0.Add(time.Minute), Observed: 41, Baseline: 7.9, Score: 3.6})
	bot2 := s.raise(t, alerting.Alert{Agent: "billing-bot", Metric: "denies", Direction: "up", Severity: alerting.SeverityWarning,
		Detector: "cusum", Time: t0.Add(2 * time.Minute), Observed: 0.4, Baseline: 0.05, Score: 5.1})
	other := s.raise(t, alerting.Alert{Agent: "support bot/1", Metric: "decisions", Direction: "down", Severity: alerting.SeverityInfo,
		Detector: "cusum", Time: t0.Add(3 * time.Minute), Observed: 0, Baseline: 6, Score: 4})

	for _, tc := range []struct {
		name string
		q    client.AlertQuery
		want []string
	}{
		{"all", client.AlertQuery{}, []string{other, bot2, bot1}},
		{"agent", client.AlertQuery{Agent: "billing-bot"}, []string{bot2, bot1}},
		{"agent with a space and a slash", client.AlertQuery{Agent: "support bot/1"}, []string{other}},
		{"severity", client.AlertQuery{Severity: client.SeverityCritical}, []string{bot1}},
		{"metric", client.AlertQuery{Metric: "decisions"}, []string{other, bot1}},
		{"status", client.AlertQuery{Status: client.AlertOpen}, []string{other, bot2, bot1}},
		{"from and to, half-open", client.AlertQuery{From: t0.Add(2 * time.Minute), To: t0.Add(3 * time.Minute)}, []string{bot2}},
		{"nothing", client.AlertQuery{Agent: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := c.Alerts(ctx, tc.q)
			if err != nil || p.NextCursor != "" || !slices.Equal(alertIDs(p.Alerts), tc.want) {
				t.Fatalf("Alerts(%+v) = %+v, %v; want %v on one page", tc.q, p, err, tc.want)
			}
		})
	}

	var walked []string
	q := client.AlertQuery{Limit: 2}
	for pages := 0; pages < 5; pages++ {
		p, err := c.Alerts(ctx, q)
		if err != nil {
			t.Fatalf("Alerts(%+v) = %v", q, err)
		}
		walked = append(walked, alertIDs(p.Alerts)...)
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	if !slices.Equal(walked, []string{other, bot2, bot1}) {
		t.Fatalf("Alerts walked two at a time = %v, want %v", walked, []string{other, bot2, bot1})
	}
	if _, err := c.Alerts(ctx, client.AlertQuery{Status: "closed"}); err == nil {
		t.Fatal("Alerts(status closed) = nil error, want 400")
	} else {
		wantStatus(t, "Alerts(status closed)", err, http.StatusBadRequest)
	}

	a, err := c.Alert(ctx, bot1)
	if err != nil || a.ID != bot1 || a.Agent != "billing-bot" || a.Severity != "critical" || a.Observed != 41 || a.Status != "open" || !a.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Alert(%s) = %+v, %v", bot1, a, err)
	}

	a, err = c.AckAlert(ctx, bot1, "")
	if err != nil || a.Status != client.AlertAcknowledged || a.AckedBy == "" || a.AckedAt == nil {
		t.Fatalf("AckAlert(%s) = %+v, %v; want acknowledged", bot1, a, err)
	}
	_, err = c.AckAlert(ctx, bot1, "again")
	if ce := wantStatus(t, "AckAlert(acknowledged)", err, http.StatusConflict); !strings.Contains(ce.Detail, "acknowledged already") {
		t.Errorf("AckAlert(acknowledged) detail = %q", ce.Detail)
	}
	_, err = c.ResolveAlert(ctx, bot1, "")
	wantStatus(t, "ResolveAlert without a comment", err, http.StatusBadRequest)
	a, err = c.ResolveAlert(ctx, bot1, "a batch of refunds, expected")
	if err != nil || a.Status != client.AlertResolved || a.Resolution != "a batch of refunds, expected" || a.ResolvedAt == nil {
		t.Fatalf("ResolveAlert(%s) = %+v, %v; want resolved", bot1, a, err)
	}
	for _, call := range []func() error{
		func() error { _, err := c.ResolveAlert(ctx, bot1, "twice"); return err },
		func() error { _, err := c.AckAlert(ctx, bot1, ""); return err },
	} {
		wantStatus(t, "a change of a resolved alert", call(), http.StatusConflict)
	}
	// An open alert resolves without an acknowledgement first.
	if a, err := c.ResolveAlert(ctx, other, "the bot was retired"); err != nil || a.Status != client.AlertResolved {
		t.Fatalf("ResolveAlert(open %s) = %+v, %v", other, a, err)
	}
	if p, err := c.Alerts(ctx, client.AlertQuery{Status: client.AlertResolved}); err != nil || !slices.Equal(alertIDs(p.Alerts), []string{other, bot1}) {
		t.Fatalf("Alerts(resolved) = %+v, %v", p, err)
	}

	const unknown = "alr_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	for name, call := range map[string]func() error{
		"Alert":          func() error { _, err := c.Alert(ctx, unknown); return err },
		"AckAlert":       func() error { _, err := c.AckAlert(ctx, unknown, ""); return err },
		"ResolveAlert":   func() error { _, err := c.ResolveAlert(ctx, unknown, "x"); return err },
		"Alert(not id)":  func() error { _, err := c.Alert(ctx, "../controls"); return err },
		"Alert(with /)":  func() error { _, err := c.Alert(ctx, "alr_a/b"); return err },
		"AckAlert(junk)": func() error { _, err := c.AckAlert(ctx, "nope?x=1", ""); return err },
	} {
		ce := wantStatus(t, name, call(), http.StatusNotFound)
		if ce.Type != "urn:warden:problem:not-found" {
			t.Errorf("%s: type %q, want not-found", name, ce.Type)
		}
	}
}

func TestClientIncidents(t *testing.T) {
	s := newMonitoringServer(t)
	ctx := context.Background()
	c := mustClient(t, s.url, s.admin)
	alert1 := s.raise(t, alerting.Alert{Agent: "billing-bot", Metric: "spend", Direction: "up", Severity: alerting.SeverityCritical,
		Detector: "threshold", Rule: "spend-cap", Time: t0, Observed: 120, Baseline: 100, Score: 1.2})
	alert2 := s.raise(t, alerting.Alert{Agent: "billing-bot", Metric: "denies", Direction: "up", Severity: alerting.SeverityWarning,
		Detector: "cusum", Time: t0.Add(time.Minute), Observed: 0.5, Baseline: 0.1, Score: 4.2})

	for _, tc := range []struct {
		name string
		spec client.IncidentSpec
	}{
		{"no title", client.IncidentSpec{Severity: "critical"}},
		{"bad severity", client.IncidentSpec{Title: "x", Severity: "urgent"}},
		{"unknown alert", client.IncidentSpec{Title: "x", Alerts: []string{"alr_aaaaaaaaaaaaaaaaaaaaaaaaaa"}}},
		{"unknown receipt", client.IncidentSpec{Title: "x", Receipts: []string{"rcpt_nosuchreceipt"}}},
		{"not a receipt id", client.IncidentSpec{Title: "x", Receipts: []string{alert1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.OpenIncident(ctx, tc.spec)
			wantStatus(t, "OpenIncident", err, http.StatusBadRequest)
		})
	}

	inc, err := c.OpenIncident(ctx, client.IncidentSpec{Title: "refunds over the cap", Alerts: []string{alert1}})
	if err != nil || !strings.HasPrefix(inc.ID, "inc_") || inc.Status != client.IncidentOpen || inc.Severity != client.SeverityWarning ||
		!slices.Equal(inc.Alerts, []string{alert1}) || len(inc.Receipts) != 0 || len(inc.Notes) != 0 || inc.OpenedBy == "" || inc.Seq <= 0 {
		t.Fatalf("OpenIncident = %+v, %v; want an open warning incident with %s", inc, err, alert1)
	}
	if a, err := c.Alert(ctx, alert1); err != nil || a.Incident != inc.ID {
		t.Errorf("Alert(%s) after linking = %+v, %v; want incident %s", alert1, a, err, inc.ID)
	}
	second, err := c.OpenIncident(ctx, client.IncidentSpec{Title: "noisy denies", Severity: client.SeverityInfo})
	if err != nil || second.Severity != client.SeverityInfo {
		t.Fatalf("OpenIncident(info) = %+v, %v", second, err)
	}

	got, err := c.NoteIncident(ctx, inc.ID, "paused refunds with a kill switch")
	if err != nil || len(got.Notes) != 1 || got.Notes[0].Text != "paused refunds with a kill switch" || got.Notes[0].By == "" || got.Notes[0].Seq <= inc.Seq {
		t.Fatalf("NoteIncident = %+v, %v", got, err)
	}
	_, err = c.NoteIncident(ctx, inc.ID, "  ")
	wantStatus(t, "NoteIncident(blank)", err, http.StatusBadRequest)
	_, err = c.LinkIncident(ctx, inc.ID, nil, nil)
	wantStatus(t, "LinkIncident(nothing)", err, http.StatusBadRequest)
	got, err = c.LinkIncident(ctx, inc.ID, []string{alert2, alert1}, nil)
	if err != nil || !slices.Equal(got.Alerts, []string{alert1, alert2}) {
		t.Fatalf("LinkIncident = %+v, %v; want %s and %s linked once each", got, err, alert1, alert2)
	}

	shown, err := c.Incident(ctx, inc.ID)
	if err != nil || shown.Title != inc.Title || len(shown.Notes) != 1 || len(shown.Alerts) != 2 || shown.Updated.Before(inc.Opened) {
		t.Fatalf("Incident(%s) = %+v, %v", inc.ID, shown, err)
	}

	p, err := c.Incidents(ctx, client.IncidentQuery{})
	if err != nil || len(p.Incidents) != 2 || p.Incidents[0].ID != second.ID || p.Incidents[1].ID != inc.ID || p.NextCursor != "" {
		t.Fatalf("Incidents() = %+v, %v; want %s then %s", p, err, second.ID, inc.ID)
	}
	p, err = c.Incidents(ctx, client.IncidentQuery{Limit: 1})
	if err != nil || len(p.Incidents) != 1 || p.NextCursor == "" {
		t.Fatalf("Incidents(limit 1) = %+v, %v; want one and a cursor", p, err)
	}
	if p, err = c.Incidents(ctx, client.IncidentQuery{Limit: 1, Cursor: p.NextCursor}); err != nil || len(p.Incidents) != 1 || p.Incidents[0].ID != inc.ID {
		t.Fatalf("Incidents(the next page) = %+v, %v; want %s", p, err, inc.ID)
	}

	got, err = c.ResolveIncident(ctx, inc.ID, "refund cap raised after review")
	if err != nil || got.Status != client.IncidentResolved || got.Resolution != "refund cap raised after review" || got.ResolvedAt == nil || got.ResolvedBy == "" {
		t.Fatalf("ResolveIncident = %+v, %v", got, err)
	}
	for name, call := range map[string]func() error{
		"ResolveIncident": func() error { _, err := c.ResolveIncident(ctx, inc.ID, "again"); return err },
		"NoteIncident":    func() error { _, err := c.NoteIncident(ctx, inc.ID, "late"); return err },
		"LinkIncident":    func() error { _, err := c.LinkIncident(ctx, inc.ID, []string{alert2}, nil); return err },
	} {
		ce := wantStatus(t, name+" of a resolved incident", call(), http.StatusConflict)
		if !strings.Contains(ce.Detail, "is resolved") {
			t.Errorf("%s detail = %q, want it to say the incident is resolved", name, ce.Detail)
		}
	}
	if p, err := c.Incidents(ctx, client.IncidentQuery{Status: client.IncidentOpen}); err != nil || len(p.Incidents) != 1 || p.Incidents[0].ID != second.ID {
		t.Fatalf("Incidents(open) = %+v, %v; want %s alone", p, err, second.ID)
	}
	for name, call := range map[string]func() error{
		"Incident":        func() error { _, err := c.Incident(ctx, "inc_nosuchincident"); return err },
		"NoteIncident":    func() error { _, err := c.NoteIncident(ctx, "inc_nosuchincident", "x"); return err },
		"LinkIncident":    func() error { _, err := c.LinkIncident(ctx, "inc_nosuchincident", []string{alert2}, nil); return err },
		"ResolveIncident": func() error { _, err := c.ResolveIncident(ctx, "inc_nosuchincident", "x"); return err },
		"Incident(junk)":  func() error { _, err := c.Incident(ctx, "INC 1/2"); return err },
	} {
		wantStatus(t, name+" of an unknown incident", call(), http.StatusNotFound)
	}
}

func TestClientMonitorSeries(t *testing.T) {
	s := newMonitoringServer(t)
	ctx := context.Background()
	c := mustClient(t, s.url, s.admin)
	// Agent ids are principal ids: any printable character.
	odd := "team/bot 1%?#"
	point := func(agent string, bucket time.Time, metrics map[string]watch.MetricPoint) watch.Point {
		b, err := json.Marshal(watch.PointData{Metrics: metrics})
		if err != nil {
			t.Fatal(err)
		}
		return watch.Point{Agent: agent, Bucket: bucket, Data: b}
	}
	pts := []watch.Point{
		point(odd, t0, map[string]watch.MetricPoint{"decisions": {Observed: 3}}),
		point(odd, t0.Add(time.Minute), map[string]watch.MetricPoint{
			"decisions": {Observed: 41, Scored: true, Baseline: 7.9, Low: 2, High: 14, CUSUMUp: 3.6},
			"denies":    {Observed: 0.1, Scored: true, Baseline: 0.1, Low: 0, High: 0.3}}),
		point(odd, t0.Add(2*time.Minute), map[string]watch.MetricPoint{"denies": {Observed: 0.2}}),
		point("..", t0, map[string]watch.MetricPoint{"decisions": {Observed: 1}}),
		point("billing-bot", t0, map[string]watch.MetricPoint{"decisions": {Observed: 1}}),
	}
	if err := s.db.PutSeries(ctx, "default", pts); err != nil {
		t.Fatalf("PutSeries = %v", err)
	}
	id := s.raise(t, alerting.Alert{Agent: odd, Metric: "decisions", Direction: "up", Severity: alerting.SeverityCritical,
		Detector: "cusum_fast", Time: t0.Add(2 * time.Minute), Observed: 41, Baseline: 7.9, Score: 3.6})
	s.raise(t, alerting.Alert{Agent: odd, Metric: "denies", Direction: "up", Severity: alerting.SeverityWarning,
		Detector: "cusum", Time: t0.Add(2 * time.Minute), Observed: 0.2, Baseline: 0.1, Score: 4})

	var agents []client.MonitorAgent
	for cursor, pages := "", 0; pages < 5; pages++ {
		p, err := c.MonitorAgents(ctx, cursor, 2)
		if err != nil {
			t.Fatalf("MonitorAgents(%q, 2) = %v", cursor, err)
		}
		agents = append(agents, p.Agents...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	var names []string
	for _, a := range agents {
		names = append(names, a.Agent)
	}
	if !slices.Equal(names, []string{"..", "billing-bot", odd}) {
		t.Fatalf("MonitorAgents walked two at a time = %q", names)
	}
	if a := agents[2]; a.Buckets != 3 || !a.FirstBucket.Equal(t0) || !a.LastBucket.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("MonitorAgents: %q = %+v, want 3 buckets from %s", odd, a, t0)
	}

	sr, err := c.AgentSeries(ctx, odd, client.SeriesQuery{From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatalf("AgentSeries(%q) = %v", odd, err)
	}
	want := []client.SeriesPoint{
		{Bucket: t0, Observed: 3},
		{Bucket: t0.Add(time.Minute), Observed: 41, Scored: true, Baseline: 7.9, Low: 2, High: 14, CUSUMUp: 3.6},
	}
	if sr.Agent != odd || sr.Metric != "decisions" || !sr.From.Equal(t0) || !sr.To.Equal(t0.Add(time.Hour)) || !slices.EqualFunc(sr.Points, want, func(a, b client.SeriesPoint) bool {
		return a.Bucket.Equal(b.Bucket) && a.Observed == b.Observed && a.Scored == b.Scored && a.Baseline == b.Baseline &&
			a.Low == b.Low && a.High == b.High && a.CUSUMUp == b.CUSUMUp && a.CUSUMDown == b.CUSUMDown
	}) || len(sr.Alerts) != 1 || sr.Alerts[0].ID != id {
		t.Fatalf("AgentSeries(%q, decisions) = %+v\nwant points %+v and alert %s", odd, sr, want, id)
	}
	sr, err = c.AgentSeries(ctx, odd, client.SeriesQuery{Metric: "denies", From: t0, To: t0.Add(time.Hour)})
	if err != nil || sr.Metric != "denies" || len(sr.Points) != 2 || len(sr.Alerts) != 1 || sr.Alerts[0].Metric != "denies" {
		t.Fatalf("AgentSeries(%q, denies) = %+v, %v; want 2 points and 1 alert", odd, sr, err)
	}
	sr, err = c.AgentSeries(ctx, "..", client.SeriesQuery{From: t0, To: t0.Add(time.Hour)})
	if err != nil || sr.Agent != ".." || len(sr.Points) != 1 {
		t.Fatalf(`AgentSeries("..") = %+v, %v; want its one point`, sr, err)
	}
	// Quiet in the range: an empty series, by default of the last six
	// hours.
	sr, err = c.AgentSeries(ctx, "billing-bot", client.SeriesQuery{})
	if err != nil || len(sr.Points) != 0 || len(sr.Alerts) != 0 || sr.Points == nil || sr.To.Sub(sr.From) != 6*time.Hour {
		t.Fatalf("AgentSeries(billing-bot, default range) = %+v, %v; want no points over six hours", sr, err)
	}
	_, err = c.AgentSeries(ctx, "nobody", client.SeriesQuery{})
	wantStatus(t, "AgentSeries(an agent never seen)", err, http.StatusNotFound)
	for name, q := range map[string]client.SeriesQuery{
		"unknown metric":      {Metric: "latency_ms"},
		"more than a week":    {From: t0, To: t0.Add(8 * 24 * time.Hour)},
		"from not before to:": {From: t0, To: t0},
	} {
		_, err := c.AgentSeries(ctx, odd, q)
		wantStatus(t, "AgentSeries("+name+")", err, http.StatusBadRequest)
	}
}

// TestClientMonitoringRequests checks what the monitoring methods put on
// the wire: method, escaped path, query and body.
func TestClientMonitoringRequests(t *testing.T) {
	type seen struct{ method, uri, body string }
	got := make(chan seen, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.RequestURI(), string(b)}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	}))
	defer hs.Close()
	ctx := context.Background()
	from := time.Date(2025, 1, 6, 10, 0, 0, 500, time.FixedZone("CET", 3600))
	to := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name           string
		call           func(c *client.Client) error
		method, uri    string
		body           string
		base, tenantID string
	}{
		{"alerts, every filter", func(c *client.Client) error {
			_, err := c.Alerts(ctx, client.AlertQuery{Status: "open", Severity: "critical", Agent: "team/bot 1", Metric: "findings.pii",
				From: from, To: to, Cursor: "42", Limit: 10})
			return err
		}, "GET", "/v1/alerts?agent=team%2Fbot+1&cursor=42&from=2025-01-06T09%3A00%3A00.0000005Z&limit=10&metric=findings.pii&severity=critical&status=open&to=2025-01-06T12%3A00%3A00Z", "", "", ""},
		{"alerts, no filter", func(c *client.Client) error { _, err := c.Alerts(ctx, client.AlertQuery{}); return err },
			"GET", "/v1/alerts", "", "", ""},
		{"alert", func(c *client.Client) error { _, err := c.Alert(ctx, "alr_x"); return err },
			"GET", "/v1/alerts/alr_x", "", "", ""},
		{"ack without a comment", func(c *client.Client) error { _, err := c.AckAlert(ctx, "alr_x", ""); return err },
			"POST", "/v1/alerts/alr_x/ack", `{}`, "", ""},
		{"ack with a comment, under a base path and a tenant", func(c *client.Client) error { _, err := c.AckAlert(ctx, "alr_x", "on it"); return err },
			"POST", "/warden/v1/alerts/alr_x/ack?tenant=acme", `{"comment":"on it"}`, "/warden/", "acme"},
		{"resolve", func(c *client.Client) error { _, err := c.ResolveAlert(ctx, "alr_x", "done"); return err },
			"POST", "/v1/alerts/alr_x/resolve", `{"comment":"done"}`, "", ""},
		{"open incident", func(c *client.Client) error {
			_, err := c.OpenIncident(ctx, client.IncidentSpec{Title: "t", Alerts: []string{"alr_x"}, Receipts: []string{"rcpt_y"}})
			return err
		}, "POST", "/v1/incidents", `{"title":"t","alerts":["alr_x"],"receipts":["rcpt_y"]}`, "", ""},
		{"open incident, title and severity", func(c *client.Client) error {
			_, err := c.OpenIncident(ctx, client.IncidentSpec{Title: "t", Severity: "critical"})
			return err
		}, "POST", "/v1/incidents", `{"title":"t","severity":"critical"}`, "", ""},
		{"incidents", func(c *client.Client) error {
			_, err := c.Incidents(ctx, client.IncidentQuery{Status: "resolved", Cursor: "7", Limit: 3})
			return err
		}, "GET", "/v1/incidents?cursor=7&limit=3&status=resolved", "", "", ""},
		{"incident", func(c *client.Client) error { _, err := c.Incident(ctx, "inc_1"); return err },
			"GET", "/v1/incidents/inc_1", "", "", ""},
		{"note", func(c *client.Client) error { _, err := c.NoteIncident(ctx, "inc_1", "n"); return err },
			"POST", "/v1/incidents/inc_1/notes", `{"text":"n"}`, "", ""},
		{"link", func(c *client.Client) error {
			_, err := c.LinkIncident(ctx, "inc_1", nil, []string{"rcpt_y"})
			return err
		},
			"POST", "/v1/incidents/inc_1/links", `{"receipts":["rcpt_y"]}`, "", ""},
		{"resolve incident", func(c *client.Client) error { _, err := c.ResolveIncident(ctx, "inc_1", "r"); return err },
			"POST", "/v1/incidents/inc_1/resolve", `{"resolution":"r"}`, "", ""},
		{"monitor agents", func(c *client.Client) error { _, err := c.MonitorAgents(ctx, "team/bot", 5); return err },
			"GET", "/v1/monitor/agents?cursor=team%2Fbot&limit=5", "", "", ""},
		{"series of an odd agent", func(c *client.Client) error {
			_, err := c.AgentSeries(ctx, "team/bot 1%?#", client.SeriesQuery{Metric: "spend", From: to.Add(-time.Hour), To: to})
			return err
		}, "GET", "/v1/monitor/agents/team%2Fbot%201%25%3F%23/series?from=2025-01-06T11%3A00%3A00Z&metric=spend&to=2025-01-06T12%3A00%3A00Z", "", "", ""},
		{"series of a dot-dot agent under a base path", func(c *client.Client) error {
			_, err := c.AgentSeries(ctx, "..", client.SeriesQuery{})
			return err
		}, "GET", "/w/v1/monitor/agents/%2E%2E/series", "", "/w", ""},
		{"an id with a slash stays one segment", func(c *client.Client) error { _, err := c.NoteIncident(ctx, "inc_1/../x", "n"); return err },
			"POST", "/v1/incidents/inc_1%2F..%2Fx/notes", `{"text":"n"}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []client.Option
			if tc.tenantID != "" {
				opts = append(opts, client.WithTenant(tc.tenantID))
			}
			if err := tc.call(mustClient(t, hs.URL+tc.base, "wdn_k", opts...)); err != nil {
				t.Fatalf("call = %v", err)
			}
			req := <-got
			if req.method != tc.method || req.uri != tc.uri || req.body != tc.body {
				t.Errorf("request = %s %s %s\nwant      %s %s %s", req.method, req.uri, req.body, tc.method, tc.uri, tc.body)
			}
		})
	}
}
