package monitor

import "time"

// Threshold rules need no baseline, so they hold from an agent's first
// bucket: a new agent that is denied most of the time is caught before
// any detector has warmed up.

// ruleState is one rule's episode for one agent.
type ruleState struct {
	Active bool
	Quiet  int32 // buckets since the rule last held, while Active
}

func (m *Monitor) applyRules(a *agent, rec *bucket, end time.Time, alerts []Alert) []Alert {
	for i, metric := range m.rules {
		r := &m.cfg.Rules[i]
		st := &a.Rules[i]
		s := rec.sample(metric)
		k := metric.kind()
		exposure := s.n
		if k == countKind {
			exposure = float64(rec.Decisions)
		}
		if s.n > 0 && exposure >= r.MinExposure && observed(k, s) > r.Above {
			st.Quiet = 0
			if !st.Active {
				st.Active = true
				alerts = append(alerts, Alert{Time: end, Tenant: a.Tenant, Agent: a.Agent, Metric: metric.String(),
					Direction: Up, Severity: r.Severity, Detector: DetectorThreshold, Rule: r.Name,
					Observed: observed(k, s), Baseline: r.Above, Score: exposure})
			}
			continue
		}
		if st.Active {
			st.Quiet++
			if int(st.Quiet) >= m.cfg.RuleClear {
				*st = ruleState{}
			}
		}
	}
	return alerts
}
