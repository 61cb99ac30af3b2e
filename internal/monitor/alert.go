package monitor

import "time"

// Directions of an alert.
const (
	Up   = "up"
	Down = "down"
)

// Alert is a detector's report that an agent's metric left its baseline,
// or that a threshold rule holds. One alert stands for a whole episode:
// no other alert of the same agent, metric, direction and detector
// family (CUSUM or the rule) is raised until the condition has ended.
type Alert struct {
	// Time is the end of the bucket that raised the alert.
	Time   time.Time `json:"time"`
	Tenant string    `json:"tenant"`
	Agent  string    `json:"agent"`
	Metric string    `json:"metric"`
	// Direction is up or down.
	Direction string `json:"direction"`
	Severity  string `json:"severity"`
	// Detector is cusum, cusum_fast or threshold; Rule names the
	// threshold rule.
	Detector string `json:"detector"`
	Rule     string `json:"rule,omitempty"`
	// Observed is the metric's value in the bucket, Baseline what the
	// baseline expected (for a threshold rule: the threshold), both in
	// the metric's unit: a count; a fraction of the exposure; a
	// geometric mean of spend or of latency in milliseconds.
	Observed float64 `json:"observed"`
	Baseline float64 `json:"baseline"`
	// Score is the CUSUM's statistic in standard deviations, or the
	// rule's exposure.
	Score float64 `json:"score"`
}
