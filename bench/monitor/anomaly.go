package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/wardenhq/warden/internal/monitor"
)

// An anomaly changes one agent's traffic for a while. Shifts are sized in
// standard deviations of the bucket value the metric's detector watches,
// recomputed each minute (the daily cycle moves them): of the decisions
// count (negative binomial); of the denies or failures count given the
// expected exposure (binomial with the between-bucket variation of the
// rate); of the bucket's mean log spend or log latency (within and
// between variances). A σ-sized shift of a proportion or a log-normal
// metric is injected only where the agent has at least one observation
// of it per bucket on average at the onset, and a rate shift only where
// the shifted rate stays at most 0.9. Nothing in the generator knows the
// monitor's model: σ is the generator's own.

type anomaly struct {
	p      *profile
	kind   string  // the label: rate_spike, deny_jump, ..., slow_drift
	effect string  // what it does (slow_drift: the shift it ramps)
	label  string  // size label: 1σ, 3σ, 2/min, ...
	size   float64 // σ, or events per minute
	ramp   int     // minutes to reach size (slow drifts)
	start  int     // first minute
	end    int     // minute after the last
	tools  []string
}

// cell is one (type, size) of the table. A σ-sized shift is injected
// either where the metric expects at least denseEvents events (or
// values) per bucket (dense: close to normal, where the musts
// apply) or below that (sparse: a count that is mostly 0 or 1 carries
// less information per bucket than a normal value, a log-normal metric
// has empty buckets, and no detector can match the normal delays there
// at the same false alarm rate).
type cell struct {
	kind, effect, label string
	size                float64
	ramp, minutes       int
	density             int // any, dense or sparse
}

const (
	anyDensity = iota
	dense
	sparse
)

// denseEvents is the expected events per bucket from which a count is
// treated as close to normal.
const denseEvents = 10

// cells are the anomalies injected, in table order.
var cells = func() []cell {
	var out []cell
	for _, k := range []string{"rate_spike", "deny_jump", "failure_burst", "spend_surge", "latency_shift"} {
		for _, size := range []float64{1, 3} {
			out = append(out,
				cell{kind: k, effect: k, label: fmt.Sprintf("%gσ, ≥ %d/bucket", size, denseEvents), size: size, minutes: 60, density: dense},
				cell{kind: k, effect: k, label: fmt.Sprintf("%gσ, < %d/bucket", size, denseEvents), size: size, minutes: 60, density: sparse})
		}
	}
	return append(out,
		cell{kind: "fanout", effect: "fanout", label: "2 new tools/min", size: 2, minutes: 60},
		cell{kind: "fanout", effect: "fanout", label: "6 new tools/min", size: 6, minutes: 60},
		cell{kind: "secrets", effect: "secrets", label: "0.5 findings/min", size: 0.5, minutes: 60},
		cell{kind: "secrets", effect: "secrets", label: "2 findings/min", size: 2, minutes: 60},
		cell{kind: "slow_drift", effect: "spend_surge", label: "spend 0→3σ in 2 h", size: 3, ramp: 120, minutes: 180},
		cell{kind: "slow_drift", effect: "deny_jump", label: "denies 0→3σ in 2 h", size: 3, ramp: 120, minutes: 180},
		cell{kind: "slow_drift", effect: "latency_shift", label: "latency 0→3σ in 2 h", size: 3, ramp: 120, minutes: 180},
		cell{kind: "slow_drift", effect: "failure_burst", label: "failures 0→3σ in 2 h", size: 3, ramp: 120, minutes: 180},
	)
}()

// must is the must of the cell's row: a median delay of at most
// 3 buckets for a 3σ shift, 15 for a 1σ shift, where the metric is close
// to normal; 0 for none.
func (c cell) must() float64 {
	if c.ramp > 0 || c.density == sparse || c.kind == "fanout" || c.kind == "secrets" {
		return 0
	}
	switch c.size {
	case 1:
		return 15
	case 3:
		return 3
	}
	return 0
}

// sigmas is the shift in minute t.
func (a *anomaly) sigmas(t int) float64 {
	if a.ramp == 0 {
		return a.size
	}
	return a.size * min(1, float64(t-a.start+1)/float64(a.ramp))
}

// metrics are the monitor metrics an alert must be on to count as
// finding the anomaly.
func (a *anomaly) metrics() []string {
	switch a.effect {
	case "rate_spike":
		return []string{monitor.Decisions.String(), monitor.DistinctActions.String()}
	case "deny_jump":
		return []string{monitor.Denies.String()}
	case "failure_burst":
		return []string{monitor.Failures.String()}
	case "spend_surge":
		return []string{monitor.Spend.String()}
	case "latency_shift":
		return []string{monitor.Latency.String()}
	case "fanout":
		return []string{monitor.NewActions.String(), monitor.DistinctActions.String(), monitor.Decisions.String()}
	case "secrets":
		return []string{monitor.FindingsSecret.String()}
	}
	return nil
}

// feasible reports whether cell c can be injected into p at minute t.
func feasible(p *profile, c cell, t int) bool {
	mu := p.mean(t)
	shifted := func(n, q float64) bool { return q+c.size*rateSD(n, q, p.pShape)/n <= 0.9 }
	var events float64
	switch c.effect {
	case "rate_spike":
		events = mu
	case "deny_jump":
		if mu < 1 || !shifted(mu, p.pDeny) {
			return false
		}
		events = mu * p.pDeny
	case "failure_burst":
		m := p.outcomes(t)
		if m < 1 || !shifted(m, p.pFail) {
			return false
		}
		events = m * p.pFail
	case "spend_surge":
		if events = p.spends(t); events < 1 {
			return false
		}
	case "latency_shift":
		if events = p.outcomes(t); events < 1 {
			return false
		}
	}
	switch c.density {
	case dense:
		return events >= denseEvents
	case sparse:
		return events < denseEvents
	}
	return true
}

// An anomalous agent's anomalies start anomalyFirst hours into the trace
// and every anomalyEvery hours after (plus up to two hours), so that
// each starts from a settled baseline.
const anomalyEvery, anomalyFirst = 8, 6

// schedule picks the anomalous agents and their anomalies: each slot
// gets, of the cells that fit the agent then, the one injected least so
// far, so that every row gets its share.
func (g *generator) schedule(r *rand.Rand, frac float64) {
	count := make([]int, len(cells))
	for _, p := range g.agents {
		if r.Float64() >= frac {
			continue
		}
		for h := anomalyFirst; ; h += anomalyEvery {
			start := h*60 + r.IntN(120)
			if start+180 > g.minutes {
				break
			}
			// A second anomaly of a kind on one agent would test whether
			// the baseline forgot the first (it learns a lasting change),
			// not detection: each kind at most once per agent, if it can.
			used := map[string]bool{}
			for _, a := range p.anomalies {
				used[a.kind] = true
			}
			best := -1
			for i, c := range cells {
				if !feasible(p, c, start) {
					continue
				}
				if best < 0 || used[cells[best].kind] && !used[c.kind] || used[cells[best].kind] == used[c.kind] && count[i] < count[best] {
					best = i
				}
			}
			c := cells[best]
			count[best]++
			a := &anomaly{p: p, kind: c.kind, effect: c.effect, label: c.label, size: c.size, ramp: c.ramp,
				start: start, end: start + c.minutes}
			if c.effect == "fanout" {
				a.tools = newTools(r, p, 40)
			}
			p.anomalies = append(p.anomalies, a)
			g.labels = append(g.labels, a)
		}
	}
}

// newTools picks n tools the agent does not use.
func newTools(r *rand.Rand, p *profile, n int) []string {
	used := map[string]bool{}
	for _, t := range p.tools {
		used[t] = true
	}
	var out []string
	for _, i := range r.Perm(len(vocabulary)) {
		if !used[vocabulary[i]] && len(out) < n {
			out = append(out, vocabulary[i])
		}
	}
	return out
}

// label is an anomaly as the labels file holds it.
type label struct {
	Tenant  string    `json:"tenant"`
	Agent   string    `json:"agent"`
	Type    string    `json:"type"`
	Size    string    `json:"size"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Metrics []string  `json:"metrics"`
}

func (a *anomaly) toLabel() label {
	return label{Tenant: a.p.tenant, Agent: a.p.name, Type: a.kind, Size: a.label,
		Start: genStart.Add(time.Duration(a.start) * time.Minute), End: genStart.Add(time.Duration(a.end) * time.Minute),
		Metrics: a.metrics()}
}
