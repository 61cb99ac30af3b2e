package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Statuses of an alert: open until an operator acknowledges it (someone
// is on it), then resolved with a note of why.
const (
	AlertOpen         = "open"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// Severities of alerts and incidents.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Statuses of an incident.
const (
	IncidentOpen     = "open"
	IncidentResolved = "resolved"
)

// Alert is one alert the monitor raised, with what operators did about
// it. Every change is an entry in the tenant's log.
type Alert struct {
	// ID is derived from what raised the alert, so the same condition of
	// the same bucket is one alert.
	ID string `json:"id"`
	// Seq is the seq of the alert.raised entry.
	Seq int64 `json:"seq"`
	// Time is the end of the bucket that raised it; Raised is when it was
	// recorded.
	Time   time.Time `json:"time"`
	Raised time.Time `json:"raised"`
	// Agent is empty for an alert about the tenant's log itself.
	Agent     string `json:"agent,omitempty"`
	Metric    string `json:"metric"`
	Direction string `json:"direction,omitempty"`
	Severity  string `json:"severity"`
	// Detector is cusum, cusum_fast, threshold (Rule names the rule) or
	// verify (Message says what failed).
	Detector string  `json:"detector"`
	Rule     string  `json:"rule,omitempty"`
	Observed float64 `json:"observed"`
	Baseline float64 `json:"baseline"`
	Score    float64 `json:"score"`
	Message  string  `json:"message,omitempty"`

	Status     string     `json:"status"`
	AckedBy    string     `json:"acked_by,omitempty"`
	AckedAt    *time.Time `json:"acked_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Resolution string     `json:"resolution,omitempty"`
	// Incident is the incident the alert is linked to, if any.
	Incident string `json:"incident,omitempty"`
	// Routes are the tenant's alert routes that matched it; Controls the
	// kill switches they set.
	Routes   []string `json:"routes,omitempty"`
	Controls []string `json:"controls,omitempty"`
}

// AlertQuery selects alerts: each non-empty field must equal the
// alert's, and From and To (when not zero) bound its Time to [From, To).
// Cursor continues a listing at its NextCursor; Limit <= 0 is the
// server's default page size.
type AlertQuery struct {
	Status   string
	Severity string
	Agent    string
	Metric   string
	From, To time.Time
	Cursor   string
	Limit    int
}

// AlertPage is one page of alerts, newest first; NextCursor is empty on
// the last.
type AlertPage struct {
	Alerts     []Alert `json:"alerts"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Incident is an operator's record of something that went wrong, with
// the alerts and receipts it concerns, its notes, and how it was
// resolved. Every step is an entry in the tenant's log.
type Incident struct {
	ID string `json:"id"`
	// Seq is the seq of the incident.opened entry.
	Seq        int64          `json:"seq"`
	Title      string         `json:"title"`
	Severity   string         `json:"severity"`
	Status     string         `json:"status"`
	Opened     time.Time      `json:"opened"`
	OpenedBy   string         `json:"opened_by"`
	Updated    time.Time      `json:"updated"`
	Alerts     []string       `json:"alerts"`
	Receipts   []string       `json:"receipts"`
	Notes      []IncidentNote `json:"notes"`
	ResolvedBy string         `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time     `json:"resolved_at,omitempty"`
	Resolution string         `json:"resolution,omitempty"`
}

// IncidentNote is one note on an incident; Seq is its incident.noted
// entry.
type IncidentNote struct {
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// IncidentSpec is an incident to open. Title (1 to 200 bytes) is
// required; Severity defaults to warning; Alerts and Receipts name
// existing alerts and receipts of the tenant to link. The title is
// recorded in the log for good: it MUST NOT hold secrets.
type IncidentSpec struct {
	Title    string   `json:"title"`
	Severity string   `json:"severity,omitempty"`
	Alerts   []string `json:"alerts,omitempty"`
	Receipts []string `json:"receipts,omitempty"`
}

// IncidentQuery selects incidents of one status (all when empty).
// Cursor and Limit page as in AlertQuery.
type IncidentQuery struct {
	Status string
	Cursor string
	Limit  int
}

// IncidentPage is one page of incidents, newest first; NextCursor is
// empty on the last.
type IncidentPage struct {
	Incidents  []Incident `json:"incidents"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// MonitorAgent is one agent the monitor keeps a series for: the first
// and latest bucket kept, and how many.
type MonitorAgent struct {
	Agent       string    `json:"agent"`
	FirstBucket time.Time `json:"first_bucket"`
	LastBucket  time.Time `json:"last_bucket"`
	Buckets     int64     `json:"buckets"`
}

// MonitorAgentPage is one page of agents, by id; NextCursor is empty on
// the last.
type MonitorAgentPage struct {
	Agents     []MonitorAgent `json:"agents"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// SeriesPoint is one bucket of a metric: what was observed, and, once
// the baseline has warmed up (Scored), what it expected, its band and
// the CUSUMs in standard deviations.
type SeriesPoint struct {
	// Bucket is the bucket's start.
	Bucket    time.Time `json:"bucket"`
	Observed  float64   `json:"observed"`
	Scored    bool      `json:"scored"`
	Baseline  float64   `json:"baseline,omitempty"`
	Low       float64   `json:"low,omitempty"`
	High      float64   `json:"high,omitempty"`
	CUSUMUp   float64   `json:"cusum_up,omitempty"`
	CUSUMDown float64   `json:"cusum_down,omitempty"`
}

// Series is an agent's series of one metric over [From, To): the
// buckets with activity, oldest first, and the agent's alerts of the
// metric in that range.
type Series struct {
	Agent  string        `json:"agent"`
	Metric string        `json:"metric"`
	From   time.Time     `json:"from"`
	To     time.Time     `json:"to"`
	Points []SeriesPoint `json:"points"`
	Alerts []Alert       `json:"alerts"`
}

// SeriesQuery selects a series. Metric defaults to decisions; a zero To
// is now and a zero From six hours before To; the range is at most a
// week.
type SeriesQuery struct {
	Metric   string
	From, To time.Time
}

// Alerts lists one page of the tenant's alerts that q selects, newest
// first. A malformed query is an *Error with status 400.
func (c *Client) Alerts(ctx context.Context, q AlertQuery) (*AlertPage, error) {
	v := pageQuery(q.Cursor, q.Limit)
	setNonEmpty(v, "status", q.Status)
	setNonEmpty(v, "severity", q.Severity)
	setNonEmpty(v, "agent", q.Agent)
	setNonEmpty(v, "metric", q.Metric)
	setTime(v, "from", q.From)
	setTime(v, "to", q.To)
	var p AlertPage
	if err := c.getJSON(ctx, "/v1/alerts", v, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Alert reads one alert. An unknown alert is an *Error with status 404.
func (c *Client) Alert(ctx context.Context, id string) (*Alert, error) {
	cc, path := c.at("v1", "alerts", id)
	var a Alert
	if err := cc.getJSON(ctx, path, nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// AckAlert acknowledges an open alert, with an optional comment, and
// returns it. An unknown alert is an *Error with status 404; one
// acknowledged or resolved already, status 409.
func (c *Client) AckAlert(ctx context.Context, id, comment string) (*Alert, error) {
	return c.changeAlert(ctx, id, "ack", comment)
}

// ResolveAlert resolves an alert with a comment (required) that says why
// it is dealt with, tells the receivers that were told of it, and returns
// it. Errors are as for AckAlert; a resolved alert is status 409.
func (c *Client) ResolveAlert(ctx context.Context, id, comment string) (*Alert, error) {
	return c.changeAlert(ctx, id, "resolve", comment)
}

func (c *Client) changeAlert(ctx context.Context, id, verb, comment string) (*Alert, error) {
	in := struct {
		Comment string `json:"comment,omitempty"`
	}{comment}
	cc, path := c.at("v1", "alerts", id, verb)
	var a Alert
	if err := cc.sendJSON(ctx, http.MethodPost, path, nil, in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// OpenIncident opens an incident and returns it. A malformed spec, or
// one naming an alert or receipt the tenant does not have, is an *Error
// with status 400 whose Detail says why.
func (c *Client) OpenIncident(ctx context.Context, spec IncidentSpec) (*Incident, error) {
	var inc Incident
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/incidents", nil, spec, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// Incidents lists one page of the tenant's incidents that q selects,
// newest first.
func (c *Client) Incidents(ctx context.Context, q IncidentQuery) (*IncidentPage, error) {
	v := pageQuery(q.Cursor, q.Limit)
	setNonEmpty(v, "status", q.Status)
	var p IncidentPage
	if err := c.getJSON(ctx, "/v1/incidents", v, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Incident reads one incident with its notes and links. An unknown
// incident is an *Error with status 404.
func (c *Client) Incident(ctx context.Context, id string) (*Incident, error) {
	cc, path := c.at("v1", "incidents", id)
	var inc Incident
	if err := cc.getJSON(ctx, path, nil, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// NoteIncident adds a note to an open incident and returns the incident.
// The note is recorded in the log for good: it MUST NOT hold secrets. An
// unknown incident is an *Error with status 404; a resolved one, 409.
func (c *Client) NoteIncident(ctx context.Context, id, text string) (*Incident, error) {
	in := struct {
		Text string `json:"text"`
	}{text}
	return c.updateIncident(ctx, id, "notes", in)
}

// LinkIncident links more alerts and receipts (at least one) to an open
// incident and returns it. Errors are as for NoteIncident; an alert or
// receipt the tenant does not have is status 400.
func (c *Client) LinkIncident(ctx context.Context, id string, alerts, receipts []string) (*Incident, error) {
	in := struct {
		Alerts   []string `json:"alerts,omitempty"`
		Receipts []string `json:"receipts,omitempty"`
	}{alerts, receipts}
	return c.updateIncident(ctx, id, "links", in)
}

// ResolveIncident closes an open incident with its resolution (required)
// and returns it. Errors are as for NoteIncident.
func (c *Client) ResolveIncident(ctx context.Context, id, resolution string) (*Incident, error) {
	in := struct {
		Resolution string `json:"resolution"`
	}{resolution}
	return c.updateIncident(ctx, id, "resolve", in)
}

func (c *Client) updateIncident(ctx context.Context, id, verb string, in any) (*Incident, error) {
	cc, path := c.at("v1", "incidents", id, verb)
	var inc Incident
	if err := cc.sendJSON(ctx, http.MethodPost, path, nil, in, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// MonitorAgents lists one page of the agents the monitor keeps series
// for, by id, continuing at cursor if it is not empty (limit <= 0: the
// server's default).
func (c *Client) MonitorAgents(ctx context.Context, cursor string, limit int) (*MonitorAgentPage, error) {
	var p MonitorAgentPage
	if err := c.getJSON(ctx, "/v1/monitor/agents", pageQuery(cursor, limit), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AgentSeries reads an agent's series of one metric. An agent without
// activity in the range has no points; one the monitor never saw is an
// *Error with status 404; an unknown metric or a range longer than a
// week is an *Error with status 400.
func (c *Client) AgentSeries(ctx context.Context, agent string, q SeriesQuery) (*Series, error) {
	v := url.Values{}
	setNonEmpty(v, "metric", q.Metric)
	setTime(v, "from", q.From)
	setTime(v, "to", q.To)
	cc, path := c.at("v1", "monitor", "agents", agent, "series")
	var s Series
	if err := cc.getJSON(ctx, path, v, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// at returns the client and the escaped path of the segments: each is
// path-escaped, and "." and ".." are escaped too so that no segment is
// read as a step up the path.
func (c *Client) at(segments ...string) (*Client, string) {
	var raw strings.Builder
	for _, s := range segments {
		e := url.PathEscape(s)
		if s == "." || s == ".." {
			e = strings.Repeat("%2E", len(s))
		}
		raw.WriteString("/" + e)
	}
	return c, raw.String()
}

func setNonEmpty(v url.Values, name, value string) {
	if value != "" {
		v.Set(name, value)
	}
}

func setTime(v url.Values, name string, t time.Time) {
	if !t.IsZero() {
		v.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
}
