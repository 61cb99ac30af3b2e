package alerting

import "time"

// Alert statuses: an alert is open until an operator acknowledges it
// (someone is on it) and then resolves it (with a note of why).
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Severities, as the monitor raises them.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Alert is one alert as recorded: what the monitor saw and what people
// did about it. Every change is a ledger entry (alert.raised,
// alert.acknowledged, alert.resolved).
type Alert struct {
	// ID is derived from what raised the alert (tenant, agent, metric,
	// direction, detector, rule and the bucket), so raising it again
	// finds it recorded.
	ID string `json:"id"`
	// Seq is the seq of the alert.raised entry.
	Seq int64 `json:"seq"`
	// Time is the end of the bucket that raised it.
	Time time.Time `json:"time"`
	// Raised is when it was recorded.
	Raised time.Time `json:"raised"`
	// Agent is empty for an alert about the tenant's log itself.
	Agent     string `json:"agent,omitempty"`
	Metric    string `json:"metric"`
	Direction string `json:"direction,omitempty"`
	Severity  string `json:"severity"`
	// Detector is cusum, cusum_fast, threshold or verify.
	Detector string  `json:"detector"`
	Rule     string  `json:"rule,omitempty"`
	Observed float64 `json:"observed"`
	Baseline float64 `json:"baseline"`
	Score    float64 `json:"score"`
	// Message explains an alert that is not a number (a failed
	// verification).
	Message string `json:"message,omitempty"`

	Status     string     `json:"status"`
	AckedBy    string     `json:"acked_by,omitempty"`
	AckedAt    *time.Time `json:"acked_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Resolution string     `json:"resolution,omitempty"`
	Incident   string     `json:"incident,omitempty"`
	// Routes are the names of the routes that matched; Controls the kill
	// switches they set.
	Routes   []string `json:"routes,omitempty"`
	Controls []string `json:"controls,omitempty"`
}

// Incident statuses.
const (
	IncidentOpen     = "open"
	IncidentResolved = "resolved"
)

// Incident is an operator's record of something that went wrong: opened
// from an alert or by hand, with notes, the receipts and alerts it
// concerns, and how it was resolved. Every step is a ledger entry.
type Incident struct {
	ID       string    `json:"id"`
	Seq      int64     `json:"seq"` // of the incident.opened entry
	Title    string    `json:"title"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"`
	Opened   time.Time `json:"opened"`
	OpenedBy string    `json:"opened_by"`
	Updated  time.Time `json:"updated"`
	Alerts   []string  `json:"alerts"`
	Receipts []string  `json:"receipts"`
	Notes    []Note    `json:"notes"`

	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Resolution string     `json:"resolution,omitempty"`
}

// Note is one note on an incident.
type Note struct {
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}
