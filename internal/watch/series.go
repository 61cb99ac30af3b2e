package watch

import (
	"encoding/json"
	"time"

	"github.com/wardenhq/warden/internal/monitor"
)

// MetricPoint is one metric of a series point as stored and served.
type MetricPoint struct {
	Observed float64 `json:"observed"`
	// Scored is false during the baseline's warm-up.
	Scored   bool    `json:"scored"`
	Baseline float64 `json:"baseline,omitempty"`
	Low      float64 `json:"low,omitempty"`
	High     float64 `json:"high,omitempty"`
	CUSUMUp  float64 `json:"cusum_up,omitempty"`
	CUSUMDn  float64 `json:"cusum_down,omitempty"`
}

// PointData is the JSON of a stored Point: every metric of the bucket.
type PointData struct {
	Metrics map[string]MetricPoint `json:"metrics"`
}

// appendPoints groups the monitor's points by agent and bucket into
// stored points.
func appendPoints(out []Point, pts []monitor.Point) []Point {
	type key struct {
		agent string
		start time.Time
	}
	var order []key
	group := map[key]*PointData{}
	for _, p := range pts {
		k := key{p.Agent, p.Start}
		d := group[k]
		if d == nil {
			d = &PointData{Metrics: map[string]MetricPoint{}}
			group[k] = d
			order = append(order, k)
		}
		d.Metrics[p.Metric] = MetricPoint{Observed: finite(p.Observed), Scored: p.Scored, Baseline: finite(p.Baseline),
			Low: finite(p.Low), High: finite(p.High), CUSUMUp: finite(p.Up), CUSUMDn: finite(p.Down)}
	}
	for _, k := range order {
		data, err := json.Marshal(group[k])
		if err != nil {
			continue // finite numbers always marshal
		}
		out = append(out, Point{Agent: k.agent, Bucket: k.start, Data: data})
	}
	return out
}
