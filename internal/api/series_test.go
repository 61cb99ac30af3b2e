package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/api"
	"github.com/wardenhq/warden/internal/watch"
)

func (e *monEnv) series(t *testing.T, agent, query string) api.SeriesJSON {
	t.Helper()
	r := e.s.get(t, "/v1/monitor/agents/"+agent+"/series"+query, e.operator.Key, http.StatusOK)
	var out api.SeriesJSON
	if err := json.Unmarshal(r.body, &out); err != nil || out.Points == nil || out.Alerts == nil {
		t.Fatalf("GET series of %s%s = %s (%v), want points and alerts", agent, query, r.body, err)
	}
	return out
}

// span is the query of the time range [from, to).
func span(from, to time.Time) string {
	return "from=" + url.QueryEscape(from.Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339Nano))
}

// TestAgentSeries reads an agent's series: the points of one metric whose
// bucket starts in [from, to), and the agent's alerts of that metric
// raised by those buckets.
func TestAgentSeries(t *testing.T) {
	e := newMonEnv(t)
	s := e.s
	now := e.clock.Now()
	bucket := func(i int) time.Time { return now.Add(time.Duration(i-10) * time.Minute) } // bucket(9) ends now
	// bot-a: ten buckets up to now, denies in the even ones; one bucket
	// long ago. bot-q: quiet for days.
	var pts []watch.Point
	for i := range 10 {
		m := map[string]float64{"decisions": float64(10 + i)}
		if i%2 == 0 {
			m["denies"] = float64(i)
		}
		pts = append(pts, seriesPoint(t, "bot-a", bucket(i), m))
	}
	pts = append(pts, seriesPoint(t, "bot-a", now.Add(-7*time.Hour), map[string]float64{"decisions": 99}),
		seriesPoint(t, "bot-q", now.Add(-72*time.Hour), map[string]float64{"decisions": 1}))
	s.putSeries(t, "default", pts...)

	// Alerts end their bucket: the alert of bucket i has the time bucket(i+1).
	alertOf := func(agent, metric string, i int) *alerting.Alert {
		a := deniesAlert(agent, bucket(i+1))
		a.Metric = metric
		return s.raise(t, "default", a)
	}
	before := alertOf("bot-a", "denies", 1) // the bucket before the range below
	first := alertOf("bot-a", "denies", 2)  // the range's first bucket
	last := alertOf("bot-a", "denies", 7)   // its last
	after := alertOf("bot-a", "denies", 8)  // the bucket after it
	decisions := alertOf("bot-a", "decisions", 4)
	other := alertOf("bot-b", "denies", 4)

	// [bucket(2), bucket(8)): buckets 2 to 7.
	got := e.series(t, "bot-a", "?metric=denies&"+span(bucket(2), bucket(8)))
	if got.Agent != "bot-a" || got.Metric != "denies" || !got.From.Equal(bucket(2)) || !got.To.Equal(bucket(8)) {
		t.Errorf("series header = %s %s [%s, %s)", got.Agent, got.Metric, got.From, got.To)
	}
	var buckets []time.Time
	var observed []float64
	for _, p := range got.Points {
		buckets, observed = append(buckets, p.Bucket), append(observed, p.Observed)
		if !p.Scored || p.Baseline != 1 || p.Low != 0.5 || p.High != 2 || p.CUSUMUp != p.Observed/10 {
			t.Errorf("point %+v does not carry what was stored", p)
		}
	}
	if want := []time.Time{bucket(2), bucket(4), bucket(6)}; !slices.EqualFunc(buckets, want, time.Time.Equal) || !slices.Equal(observed, []float64{2, 4, 6}) {
		t.Errorf("denies of bot-a = %v %v, want buckets %v with 2, 4, 6", buckets, observed, want)
	}
	if ids, want := alertIDs(got.Alerts), []string{last.ID, first.ID}; !slices.Equal(ids, want) {
		t.Errorf("alerts of the denies series = %v, want %v (not %s before the range, %s after it, %s of decisions, %s of bot-b)",
			ids, want, before.ID, after.ID, decisions.ID, other.ID)
	}

	// The default metric is decisions; the default range the six hours
	// before now.
	got = e.series(t, "bot-a", "?"+span(bucket(2), bucket(8)))
	if got.Metric != "decisions" || len(got.Points) != 6 || got.Points[0].Observed != 12 || got.Points[5].Observed != 17 {
		t.Errorf("default metric: %s with %+v, want decisions 12 to 17", got.Metric, got.Points)
	}
	if ids := alertIDs(got.Alerts); !slices.Equal(ids, []string{decisions.ID}) {
		t.Errorf("alerts of the decisions series = %v, want %s", ids, decisions.ID)
	}
	got = e.series(t, "bot-a", "")
	if !got.To.Equal(now) || !got.From.Equal(now.Add(-api.DefaultSeriesRange)) || len(got.Points) != 10 || !got.Points[0].Bucket.Equal(bucket(0)) {
		t.Errorf("default range [%s, %s) with %d points, want the ten buckets of [%s, %s)", got.From, got.To, len(got.Points),
			now.Add(-api.DefaultSeriesRange), now)
	}
	if got := e.series(t, "bot-a", "?"+span(bucket(0), bucket(1))); len(got.Points) != 1 || !got.Points[0].Bucket.Equal(bucket(0)) {
		t.Errorf("one bucket's range = %+v, want bucket(0) alone", got.Points)
	}
	if got := e.series(t, "bot-a", "?metric=findings.pii"); len(got.Points) != 0 {
		t.Errorf("a metric without values = %+v, want no points", got.Points)
	}
	// An agent quiet in the range has an empty series, not a 404.
	if got := e.series(t, "bot-q", ""); len(got.Points) != 0 || len(got.Alerts) != 0 {
		t.Errorf("a quiet agent's series = %+v", got)
	}
	// A week is the longest range.
	e.series(t, "bot-a", "?"+span(now.Add(-api.MaxSeriesRange), now))

	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"unknown metric", "bot-a/series?metric=deny", http.StatusBadRequest},
		{"metric upper case", "bot-a/series?metric=DENIES", http.StatusBadRequest},
		{"over a week", "bot-a/series?" + span(now.Add(-api.MaxSeriesRange-time.Minute), now), http.StatusBadRequest},
		{"empty range", "bot-a/series?" + span(now, now), http.StatusBadRequest},
		{"backwards", "bot-a/series?" + span(now, now.Add(-time.Hour)), http.StatusBadRequest},
		{"from over a week before now", "bot-a/series?from=" + url.QueryEscape(now.Add(-8*24*time.Hour).Format(time.RFC3339)), http.StatusBadRequest},
		{"bad from", "bot-a/series?from=today", http.StatusBadRequest},
		{"bad to", "bot-a/series?to=1700000000", http.StatusBadRequest},
		{"control character", "bot%01a/series", http.StatusBadRequest},
		{"unknown agent", "bot-z/series", http.StatusNotFound},
		{"unknown agent, any metric", "bot-z/series?metric=denies", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, "/v1/monitor/agents/"+tc.path, e.operator.Key, tc.want)
			decodeProblem(t, tc.path, r)
		})
	}
}

// TestMonitorAgents lists the agents with series, by id, with their first
// and last bucket, a page at a time.
func TestMonitorAgents(t *testing.T) {
	e := newMonEnv(t)
	s := e.s
	list := func(t *testing.T, query string) ([]api.AgentJSON, string) {
		t.Helper()
		r := s.get(t, "/v1/monitor/agents"+query, e.operator.Key, http.StatusOK)
		var p struct {
			Agents     []api.AgentJSON `json:"agents"`
			NextCursor string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil || p.Agents == nil {
			t.Fatalf("GET /v1/monitor/agents%s = %s (%v), want a list", query, r.body, err)
		}
		return p.Agents, p.NextCursor
	}
	if got, next := list(t, ""); len(got) != 0 || next != "" {
		t.Fatalf("agents before any series = %+v %q, want none", got, next)
	}
	now := e.clock.Now()
	at := func(minutes int) time.Time { return now.Add(time.Duration(minutes) * time.Minute) }
	s.putSeries(t, "default",
		seriesPoint(t, "bot-b", at(-30), map[string]float64{"decisions": 1}),
		seriesPoint(t, "bot-a", at(-3), map[string]float64{"decisions": 1}),
		seriesPoint(t, "bot-a", at(-50), map[string]float64{"decisions": 1}),
		seriesPoint(t, "bot-a", at(-10), map[string]float64{"decisions": 1}),
		seriesPoint(t, "bot-c", at(-2), map[string]float64{"decisions": 1}),
		seriesPoint(t, "bot-c", at(-1), map[string]float64{"decisions": 1}),
	)
	s.putSeries(t, "default", seriesPoint(t, "bot-a", at(-3), map[string]float64{"decisions": 2})) // replaces, adds no bucket
	want := []api.AgentJSON{
		{Agent: "bot-a", FirstBucket: at(-50), LastBucket: at(-3), Buckets: 3},
		{Agent: "bot-b", FirstBucket: at(-30), LastBucket: at(-30), Buckets: 1},
		{Agent: "bot-c", FirstBucket: at(-2), LastBucket: at(-1), Buckets: 2},
	}
	same := func(a, b api.AgentJSON) bool {
		return a.Agent == b.Agent && a.FirstBucket.Equal(b.FirstBucket) && a.LastBucket.Equal(b.LastBucket) && a.Buckets == b.Buckets
	}
	if got, next := list(t, ""); !slices.EqualFunc(got, want, same) || next != "" {
		t.Errorf("agents = %+v (next %q), want %+v", got, next, want)
	}
	for _, limit := range []int{1, 2, 3} {
		var got []api.AgentJSON
		q := fmt.Sprintf("?limit=%d", limit)
		for range len(want) + 2 {
			page, next := list(t, q)
			if len(page) > limit {
				t.Fatalf("GET /v1/monitor/agents%s = %d agents", q, len(page))
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			q = fmt.Sprintf("?limit=%d&cursor=%s", limit, url.QueryEscape(next))
		}
		if !slices.EqualFunc(got, want, same) {
			t.Errorf("pages of %d agents = %+v, want %+v", limit, got, want)
		}
	}
	if got, _ := list(t, "?cursor=bot-a"); len(got) != 2 || got[0].Agent != "bot-b" {
		t.Errorf("agents after bot-a = %+v, want bot-b, bot-c", got)
	}
	for _, q := range []string{"limit=0", "limit=1001", "cursor=" + strings.Repeat("a", 257)} {
		decodeProblem(t, q, s.get(t, "/v1/monitor/agents?"+q, e.operator.Key, http.StatusBadRequest))
	}
}
