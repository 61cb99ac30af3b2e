package monitor

import (
	"math"
	"time"
)

// Point is one metric of one agent's closed bucket as the monitor saw
// it: what was observed, what the baseline expected and the band around
// it, and the CUSUMs after the bucket. It is what a dashboard draws; the
// monitor keeps none of it.
type Point struct {
	Tenant, Agent string
	// Start is the bucket's start.
	Start  time.Time
	Metric string
	// Observed is the metric's value in the bucket, in its unit (see
	// Alert).
	Observed float64
	// Scored is false during the warm-up, when the bucket only taught
	// the baseline: Baseline, Low, High, Up and Down are then 0.
	Scored bool
	// Baseline is what the baseline expected; Low and High bound two
	// standard deviations of the bucket's value around it.
	Baseline, Low, High float64
	// Up and Down are the slow CUSUMs after the bucket, in standard
	// deviations.
	Up, Down float64
}

// RecordSeries makes the monitor keep a Point for every metric of every
// agent whose closed bucket held an observation, until TakeSeries. It is
// off by default (a replay needs none) and not part of a snapshot.
func (m *Monitor) RecordSeries(on bool) {
	m.series = on
	if !on {
		m.points = nil
	}
}

// TakeSeries returns the points recorded since the last call.
func (m *Monitor) TakeSeries() []Point {
	p := m.points
	m.points = nil
	return p
}

// notePoint records a point of agent a's metric of bucket b (which ends
// at end), scored with prediction p when scored.
func (m *Monitor) notePoint(a *agent, metric Metric, s sample, p *prediction, d *detector, end time.Time) {
	k := metric.kind()
	pt := Point{Tenant: a.Tenant, Agent: a.Agent, Start: end.Add(-m.cfg.Bucket), Metric: metric.String(), Observed: observedOr0(k, s)}
	if p != nil {
		pt.Scored, pt.Baseline, pt.Up, pt.Down = true, p.baseline, d.Up, d.Down
		sd := math.Sqrt(max(p.variance, 0))
		switch k {
		case logNormalKind:
			pt.Low, pt.High = math.Exp(p.mean-2*sd), math.Exp(p.mean+2*sd)
		case countKind:
			pt.Low, pt.High = max(0, p.mean-2*sd), p.mean+2*sd
		default: // a count of an exposure: shown per unit of exposure
			pt.Low, pt.High = max(0, (p.mean-2*sd)/s.n), (p.mean+2*sd)/s.n
		}
	}
	m.points = append(m.points, pt)
}

// observedOr0 is observed, or 0 for a sample without exposure.
func observedOr0(k kind, s sample) float64 {
	if s.n == 0 {
		return 0
	}
	return observed(k, s)
}

// active reports whether the bucket held an observation.
func (b *bucket) active() bool { return b.Decisions > 0 || b.Outcomes > 0 || b.Entries > 0 }
