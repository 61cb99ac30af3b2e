package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/monitor"
	"github.com/wardenhq/warden/internal/watch"
)

// Limits of the monitoring listings.
const (
	DefaultAlertLimit  = 100
	MaxAlertLimit      = 1000
	DefaultAgentLimit  = 100
	MaxAgentLimit      = 1000
	MaxSeriesPoints    = 10080 // a week of one-minute buckets
	DefaultSeriesRange = 6 * time.Hour
	MaxSeriesRange     = 7 * 24 * time.Hour
)

var (
	alertIDRE    = regexp.MustCompile(`^alr_[a-z2-7]{26}$`)
	incidentIDRE = regexp.MustCompile(`^inc_[0-9a-z]{1,64}$`)
	// agentIDRE bounds an agent id in a path: what a principal id may be.
	agentIDRE = regexp.MustCompile(`^[^\x00-\x1f\x7f]{1,256}$`)
)

func (s *Server) alerting() (*alerting.Service, error) {
	if s.cfg.Alerts == nil {
		return nil, errBad("this server keeps no alerts")
	}
	return s.cfg.Alerts, nil
}

func (s *Server) monitorStore() (watch.Store, error) {
	if s.cfg.MonitorStore == nil {
		return nil, errBad("this server runs no monitor")
	}
	return s.cfg.MonitorStore, nil
}

// queryTime parses an optional RFC 3339 query parameter.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errBad(name + " must be an RFC 3339 time")
	}
	return t, nil
}

// seqCursor parses a listing's seq cursor.
func seqCursor(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("cursor")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, errBad("cursor is not a cursor of this listing")
	}
	return n, nil
}

// listAlerts answers GET /v1/alerts?status=&severity=&agent=&metric=&from=&to=&cursor=&limit=,
// newest first.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, err := s.alerting()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := alerting.AlertFilter{Status: q.Get("status"), Severity: q.Get("severity"), Agent: q.Get("agent"), Metric: q.Get("metric")}
	switch f.Status {
	case "", alerting.StatusOpen, alerting.StatusAcknowledged, alerting.StatusResolved:
	default:
		s.fail(w, r, errBad("status must be open, acknowledged or resolved"))
		return
	}
	switch f.Severity {
	case "", alerting.SeverityInfo, alerting.SeverityWarning, alerting.SeverityCritical:
	default:
		s.fail(w, r, errBad("severity must be info, warning or critical"))
		return
	}
	if len(f.Agent) > 256 || len(f.Metric) > 64 {
		s.fail(w, r, errBad("agent or metric is too long"))
		return
	}
	if f.From, err = queryTime(r, "from"); err == nil {
		f.To, err = queryTime(r, "to")
	}
	if err == nil {
		f.BeforeSeq, err = seqCursor(r)
	}
	if err == nil {
		f.Limit, err = queryLimit(r, DefaultAlertLimit, MaxAlertLimit)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	as, err := svc.Store.Alerts(r.Context(), p.tenant, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Alerts     []alerting.Alert `json:"alerts"`
		NextCursor string           `json:"next_cursor,omitempty"`
	}{Alerts: as}
	if out.Alerts == nil {
		out.Alerts = []alerting.Alert{}
	}
	if len(as) == f.Limit {
		out.NextCursor = strconv.FormatInt(as[len(as)-1].Seq, 10)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) alertFrom(r *http.Request) (*alerting.Service, string, error) {
	svc, err := s.alerting()
	if err != nil {
		return nil, "", err
	}
	id := r.PathValue("id")
	if !alertIDRE.MatchString(id) {
		return nil, "", fmt.Errorf("alert %q: %w", id, alerting.ErrNotFound)
	}
	return svc, id, nil
}

// getAlert answers GET /v1/alerts/{id}.
func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	svc, id, err := s.alertFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := svc.Store.Alert(r.Context(), principalFrom(r.Context()).tenant, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}

type commentRequest struct {
	Comment string `json:"comment"`
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request)     { s.changeAlert(w, r, false) }
func (s *Server) resolveAlert(w http.ResponseWriter, r *http.Request) { s.changeAlert(w, r, true) }

// changeAlert answers POST /v1/alerts/{id}/ack ({comment?}) and
// /resolve ({comment}, required).
func (s *Server) changeAlert(w http.ResponseWriter, r *http.Request, resolve bool) {
	p := principalFrom(r.Context())
	svc, id, err := s.alertFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req commentRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var a *alerting.Alert
	if resolve {
		a, err = svc.Resolve(r.Context(), p.tenant, p.key.ID, id, req.Comment)
	} else {
		a, err = svc.Acknowledge(r.Context(), p.tenant, p.key.ID, id, req.Comment)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}

type openIncidentRequest struct {
	Title    string   `json:"title"`
	Severity string   `json:"severity"`
	Alerts   []string `json:"alerts"`
	Receipts []string `json:"receipts"`
}

// openIncident answers POST /v1/incidents: 201 with the incident.
func (s *Server) openIncident(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, err := s.alerting()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req openIncidentRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := svc.OpenIncident(r.Context(), p.tenant, p.key.ID, alerting.IncidentSpec{Title: req.Title, Severity: req.Severity,
		Alerts: req.Alerts, Receipts: req.Receipts})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, inc)
}

// listIncidents answers GET /v1/incidents?status=&cursor=&limit=, newest
// first.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, err := s.alerting()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := alerting.IncidentFilter{Status: r.URL.Query().Get("status")}
	switch f.Status {
	case "", alerting.IncidentOpen, alerting.IncidentResolved:
	default:
		s.fail(w, r, errBad("status must be open or resolved"))
		return
	}
	if f.BeforeSeq, err = seqCursor(r); err == nil {
		f.Limit, err = queryLimit(r, DefaultAlertLimit, MaxAlertLimit)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	is, err := svc.Store.Incidents(r.Context(), p.tenant, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Incidents  []alerting.Incident `json:"incidents"`
		NextCursor string              `json:"next_cursor,omitempty"`
	}{Incidents: is}
	if out.Incidents == nil {
		out.Incidents = []alerting.Incident{}
	}
	if len(is) == f.Limit {
		out.NextCursor = strconv.FormatInt(is[len(is)-1].Seq, 10)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) incidentFrom(r *http.Request) (*alerting.Service, string, error) {
	svc, err := s.alerting()
	if err != nil {
		return nil, "", err
	}
	id := r.PathValue("id")
	if !incidentIDRE.MatchString(id) {
		return nil, "", fmt.Errorf("incident %q: %w", id, alerting.ErrNotFound)
	}
	return svc, id, nil
}

// getIncident answers GET /v1/incidents/{id}.
func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	svc, id, err := s.incidentFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := svc.Store.Incident(r.Context(), principalFrom(r.Context()).tenant, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, inc)
}

type noteRequest struct {
	Text string `json:"text"`
}

// noteIncident answers POST /v1/incidents/{id}/notes ({text}).
func (s *Server) noteIncident(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, id, err := s.incidentFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req noteRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := svc.NoteIncident(r.Context(), p.tenant, p.key.ID, id, req.Text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, inc)
}

type linkRequest struct {
	Alerts   []string `json:"alerts"`
	Receipts []string `json:"receipts"`
}

// linkIncident answers POST /v1/incidents/{id}/links ({alerts?, receipts?}).
func (s *Server) linkIncident(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, id, err := s.incidentFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req linkRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := svc.LinkIncident(r.Context(), p.tenant, p.key.ID, id, req.Alerts, req.Receipts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, inc)
}

type resolveIncidentRequest struct {
	Resolution string `json:"resolution"`
}

// resolveIncident answers POST /v1/incidents/{id}/resolve ({resolution}).
func (s *Server) resolveIncident(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	svc, id, err := s.incidentFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req resolveIncidentRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := svc.ResolveIncident(r.Context(), p.tenant, p.key.ID, id, req.Resolution)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, inc)
}

// AgentJSON is one agent the monitor follows, as served.
type AgentJSON struct {
	Agent       string    `json:"agent"`
	FirstBucket time.Time `json:"first_bucket"`
	LastBucket  time.Time `json:"last_bucket"`
	Buckets     int64     `json:"buckets"`
}

// listMonitorAgents answers GET /v1/monitor/agents?cursor=&limit=: the
// agents with series, by id.
func (s *Server) listMonitorAgents(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	st, err := s.monitorStore()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := queryLimit(r, DefaultAgentLimit, MaxAgentLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after := r.URL.Query().Get("cursor")
	if len(after) > 256 {
		s.fail(w, r, errBad("cursor is not a cursor of this listing"))
		return
	}
	as, err := st.MonitorAgents(r.Context(), p.tenant, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Agents     []AgentJSON `json:"agents"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}{Agents: []AgentJSON{}}
	for _, a := range as {
		out.Agents = append(out.Agents, AgentJSON{Agent: a.Agent, FirstBucket: a.First.UTC(), LastBucket: a.Last.UTC(), Buckets: a.Buckets})
	}
	if len(as) == limit {
		out.NextCursor = as[len(as)-1].Agent
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// SeriesPointJSON is one bucket of a metric's series.
type SeriesPointJSON struct {
	Bucket time.Time `json:"bucket"`
	watch.MetricPoint
}

// SeriesJSON is an agent's series of one metric, with its alerts.
type SeriesJSON struct {
	Agent  string            `json:"agent"`
	Metric string            `json:"metric"`
	From   time.Time         `json:"from"`
	To     time.Time         `json:"to"`
	Points []SeriesPointJSON `json:"points"`
	Alerts []alerting.Alert  `json:"alerts"`
}

// agentSeries answers GET /v1/monitor/agents/{id}/series?metric=&from=&to=:
// for each bucket with activity, the observed value, the baseline and its
// band, the CUSUMs, and the agent's alerts of the metric in the range.
func (s *Server) agentSeries(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	st, err := s.monitorStore()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	agent := r.PathValue("id")
	if !agentIDRE.MatchString(agent) {
		s.fail(w, r, errBad("agent id is empty, too long or holds control characters"))
		return
	}
	metric := r.URL.Query().Get("metric")
	if metric == "" {
		metric = monitor.Decisions.String()
	}
	if _, err := monitor.ParseMetric(metric); err != nil {
		s.fail(w, r, errBad(err.Error()))
		return
	}
	from, err := queryTime(r, "from")
	var to time.Time
	if err == nil {
		to, err = queryTime(r, "to")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if to.IsZero() {
		to = s.cfg.Clock().UTC()
	}
	if from.IsZero() {
		from = to.Add(-DefaultSeriesRange)
	}
	if !from.Before(to) || to.Sub(from) > MaxSeriesRange {
		s.fail(w, r, errBad(fmt.Sprintf("from must be before to, at most %s apart", MaxSeriesRange)))
		return
	}
	pts, err := st.Series(r.Context(), p.tenant, agent, from, to, MaxSeriesPoints)
	if err == nil && len(pts) == 0 {
		// An agent the monitor never saw in this tenant is not found; one
		// quiet in the range has an empty series.
		var ever []watch.Point
		ever, err = st.Series(r.Context(), p.tenant, agent, time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1)
		if err == nil && len(ever) == 0 {
			err = fmt.Errorf("agent %q: %w", agent, alerting.ErrNotFound)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := SeriesJSON{Agent: agent, Metric: metric, From: from.UTC(), To: to.UTC(), Points: []SeriesPointJSON{}, Alerts: []alerting.Alert{}}
	for _, pt := range pts {
		var d watch.PointData
		if err := json.Unmarshal(pt.Data, &d); err != nil {
			s.fail(w, r, fmt.Errorf("series point of %s at %s: %w", agent, pt.Bucket, err))
			return
		}
		if mp, ok := d.Metrics[metric]; ok {
			out.Points = append(out.Points, SeriesPointJSON{Bucket: pt.Bucket.UTC(), MetricPoint: mp})
		}
	}
	if svc := s.cfg.Alerts; svc != nil {
		// An alert's time is the end of the bucket that raised it: those of
		// the buckets that start in [from, to) end in [from+1m, to+1m).
		as, err := svc.Store.Alerts(r.Context(), p.tenant, alerting.AlertFilter{Agent: agent, Metric: metric,
			From: from.Add(time.Minute), To: to.Add(time.Minute), Limit: MaxAlertLimit})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if as != nil {
			out.Alerts = as
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
