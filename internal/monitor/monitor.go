// Package monitor watches what each agent does, bucket by bucket, and
// alerts when it changes (DESIGN.md section 7). It consumes observations
// (what the ledger's decision and outcome entries say) in time order,
// keeps per tenant and agent one-minute buckets of decisions, denies,
// approvals required, rate limited answers, outcome failures, distinct
// and new actions, findings by family, spend and outcome latency, and
// runs on each metric a baseline with CUSUM detectors and, on some,
// threshold rules.
//
// The package is pure: time comes from the observations and from
// Advance, so a trace replays with a simulated clock exactly as it ran.
// Its whole state serializes (Snapshot, Restore), so a caller can
// checkpoint it with the last ledger sequence it consumed and resume
// without a gap or a double count.
package monitor

import "time"

// Monitor follows every agent it is shown. It is not safe for
// concurrent use.
type Monitor struct {
	cfg   Config
	rules []Metric // metric of each cfg.Rules entry

	started bool
	cur     int64 // index of the open bucket
	agents  map[string]*agent
	order   []*agent // first-seen order: alerts of a bucket follow it
	stats   Stats

	series bool    // RecordSeries
	points []Point // recorded since TakeSeries
}

// Stats counts what the monitor took in.
type Stats struct {
	Observations int64 `json:"observations"`
	// Late observations were older than the open bucket and were counted
	// in it.
	Late int64 `json:"late"`
	// Untracked observations were of agents beyond MaxAgents.
	Untracked int64 `json:"untracked"`
	Evicted   int64 `json:"evicted"`
	Agents    int   `json:"agents"`
}

// agent is one agent's state: a fixed size, whatever its traffic.
type agent struct {
	Tenant, Agent string
	Last          int64 // bucket of the last observation
	Open          bucket
	OpenSet       distinctSet
	Seen          seen
	Ring          []bucket // the last Lag closed buckets, at index mod Lag
	Det           [numMetrics]detector
	Rules         []ruleState
}

// New returns a monitor with the configuration c.
func New(c Config) (*Monitor, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &Monitor{cfg: c, agents: map[string]*agent{}}
	m.cfg.Rules = append([]Rule(nil), c.Rules...)
	for _, r := range c.Rules {
		mt, _ := ParseMetric(r.Metric)
		m.rules = append(m.rules, mt)
	}
	return m, nil
}

// Config returns the monitor's configuration.
func (m *Monitor) Config() Config {
	c := m.cfg
	c.Rules = append([]Rule(nil), c.Rules...)
	return c
}

// Stats returns the counts so far.
func (m *Monitor) Stats() Stats {
	s := m.stats
	s.Agents = len(m.order)
	return s
}

func (m *Monitor) index(t time.Time) int64 {
	n, d := t.UnixNano(), int64(m.cfg.Bucket)
	q := n / d
	if n%d < 0 {
		q--
	}
	return q
}

func (m *Monitor) bucketEnd(i int64) time.Time {
	return time.Unix(0, (i+1)*int64(m.cfg.Bucket)).UTC()
}

// Observe closes every bucket that ended at or before o.Time, then counts
// o, and returns the alerts the closed buckets raised. An observation
// older than the open bucket is counted in it (Stats.Late).
func (m *Monitor) Observe(o *Observation) ([]Alert, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	i := m.index(o.Time)
	if !m.started {
		m.started, m.cur = true, i
	}
	alerts := m.advance(i)
	m.stats.Observations++
	if i < m.cur {
		m.stats.Late++
	}
	key := o.Tenant + "\x00" + o.Agent
	a := m.agents[key]
	if a == nil {
		if len(m.order) >= m.cfg.MaxAgents {
			m.stats.Untracked++
			return alerts, nil
		}
		a = &agent{Tenant: o.Tenant, Agent: o.Agent, Ring: make([]bucket, m.cfg.Lag), Rules: make([]ruleState, len(m.rules))}
		m.agents[key] = a
		m.order = append(m.order, a)
	}
	a.Last = m.cur
	distinct, isNew := false, false
	if o.Decision != "" {
		h := actionHash(o.Action)
		distinct = a.OpenSet.add(h)
		isNew = a.Seen.visit(h)
	}
	a.Open.add(o, distinct, isNew)
	return alerts, nil
}

// Advance closes every bucket that ended at or before now and returns
// the alerts they raised. A live monitor calls it on a clock tick (with
// a grace for entries still being appended); a replay calls it at the
// end of the trace.
func (m *Monitor) Advance(now time.Time) []Alert {
	if !m.started {
		return nil
	}
	return m.advance(m.index(now))
}

// advance closes the buckets before i.
func (m *Monitor) advance(i int64) []Alert {
	var alerts []Alert
	for m.cur < i {
		if len(m.order) == 0 {
			m.cur = i // nothing to close: jump
			break
		}
		alerts = m.closeBucket(m.cur, alerts)
		m.cur++
	}
	return alerts
}

// closeBucket closes bucket b of every agent, evicts the idle ones and
// rotates the action generations.
func (m *Monitor) closeBucket(b int64, alerts []Alert) []Alert {
	evict := false
	for _, a := range m.order {
		alerts = m.closeAgent(a, b, alerts)
		if b-a.Last >= int64(m.cfg.IdleEvict) {
			evict = true
		}
	}
	if evict {
		kept := m.order[:0]
		for _, a := range m.order {
			if b-a.Last >= int64(m.cfg.IdleEvict) {
				delete(m.agents, a.Tenant+"\x00"+a.Agent)
				m.stats.Evicted++
				continue
			}
			kept = append(kept, a)
		}
		clear(m.order[len(kept):])
		m.order = kept
	}
	if (b+1)%int64(m.cfg.SeenRotate) == 0 {
		for _, a := range m.order {
			a.Seen.rotate()
		}
	}
	return alerts
}

// closeAgent closes agent a's bucket b.
func (m *Monitor) closeAgent(a *agent, b int64, alerts []Alert) []Alert {
	c := &m.cfg
	rec := a.Open
	a.Open = bucket{}
	if cap(a.OpenSet) > 64 {
		a.OpenSet = nil // a burst of actions does not hold memory
	}
	a.OpenSet = a.OpenSet[:0]

	ring := int64(c.Lag)
	slotOf := func(i int64) int { return int((i%ring + ring) % ring) }
	// A baseline past its warm-up is always its lag behind: it absorbs
	// bucket b-lag now, before the slot of b-Lag is reused for b.
	for mt := range a.Det {
		d := &a.Det[mt]
		k := Metric(mt).kind()
		if i := b - c.lag(k); int(d.Warm) >= c.WarmUp && d.Next <= i {
			d.absorb(k, a.Ring[slotOf(i)].sample(Metric(mt)), c)
			d.Next = i + 1
		}
	}
	a.Ring[slotOf(b)] = rec
	held := &a.Ring[slotOf(b)]
	end := m.bucketEnd(b)

	for mt := range a.Det {
		metric := Metric(mt)
		d := &a.Det[mt]
		s := rec.sample(metric)
		if int(d.Warm) < c.WarmUp {
			d.absorb(metric.kind(), s, c)
			d.Next = b + 1
			if m.series && rec.active() {
				m.notePoint(a, metric, s, nil, d, end)
			}
			continue
		}
		if s.n > 0 {
			alerts = m.score(a, d, metric, s, held, end, alerts, m.series && rec.active())
		}
	}
	return m.applyRules(a, &rec, end, alerts)
}

// score runs the detectors of agent a's metric on the bucket that ends
// at end (s), noting the counts' forecasts in held, its ring entry.
func (m *Monitor) score(a *agent, d *detector, metric Metric, s sample, held *bucket, end time.Time, alerts []Alert, point bool) []Alert {
	c := &m.cfg
	k := metric.kind()
	p := d.predict(k, s, c)
	if k == countKind {
		held.Expect[countIndex(metric)] = p.mean
	}
	fired := d.step(k, s, p, c)
	if point {
		m.notePoint(a, metric, s, &p, d, end)
	}
	for _, f := range fired {
		al := Alert{Time: end, Tenant: a.Tenant, Agent: a.Agent, Metric: metric.String(),
			Direction: Up, Severity: SeverityWarning, Detector: f.detector,
			Observed: observed(k, s), Baseline: p.baseline, Score: f.score}
		switch {
		case f.side == sideDown:
			al.Direction, al.Severity = Down, SeverityInfo
		case f.detector == DetectorFastCUSUM:
			al.Severity = SeverityCritical
		}
		alerts = append(alerts, al)
	}
	return alerts
}
