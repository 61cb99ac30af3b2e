package monitor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// t0 is the start of every hand-built series.
var t0 = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)

// minute is one bucket of one agent in a hand-built series.
type minute struct {
	decisions, denies int
	latencies         []float64
	secrets           int
}

// feed runs m over series (one entry per bucket) for agent, spreading the
// observations over each minute, closes the last bucket and returns the
// alerts with the bucket (0-based) that raised each.
func feed(t *testing.T, m *Monitor, agent string, series []minute) []Alert {
	t.Helper()
	return feedFrom(t, m, agent, 0, series)
}

// feedFrom is feed for a series whose first entry is bucket first.
func feedFrom(t *testing.T, m *Monitor, agent string, first int, series []minute) []Alert {
	t.Helper()
	var alerts []Alert
	for j, mn := range series {
		b := first + j
		n := max(mn.decisions, len(mn.latencies))
		for i := range n {
			o := Observation{Time: t0.Add(time.Duration(b)*time.Minute + time.Duration(i)*time.Minute/time.Duration(n+1)),
				Tenant: "acme", Agent: agent, Action: fmt.Sprintf("tool.%d", i%3), Decision: Allow}
			if i < mn.denies {
				o.Decision = Deny
			}
			if i < len(mn.latencies) {
				o.Outcome, o.LatencyMS, o.HasLatency = Succeeded, mn.latencies[i], true
			}
			if i < mn.secrets {
				o.Findings = []string{"secret.github-pat"}
			}
			as, err := m.Observe(&o)
			if err != nil {
				t.Fatalf("Observe(%+v) = %v", o, err)
			}
			alerts = append(alerts, as...)
		}
	}
	return append(alerts, m.Advance(t0.Add(time.Duration(first+len(series))*time.Minute))...)
}

// bucketOf is the 0-based bucket of the series that raised a.
func bucketOf(a Alert) int { return int(a.Time.Sub(t0)/time.Minute) - 1 }

func poissonDraw(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, r.Float64()
	for cum := l; p > cum && l > 0; cum += l {
		k++
		l *= lambda / float64(k)
	}
	return k
}

// counts returns n buckets of Poisson(mean) decisions, of which a
// fraction deny are denies.
func counts(r *rand.Rand, n int, mean, deny float64) []minute {
	out := make([]minute, n)
	for i := range out {
		out[i].decisions = poissonDraw(r, mean)
		for range out[i].decisions {
			if r.Float64() < deny {
				out[i].denies++
			}
		}
	}
	return out
}

func newMonitor(t *testing.T, edit func(*Config)) *Monitor {
	t.Helper()
	c := DefaultConfig()
	if edit != nil {
		edit(&c)
	}
	m, err := New(c)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return m
}

func only(alerts []Alert, metric string) []Alert {
	var out []Alert
	for _, a := range alerts {
		if a.Metric == metric {
			out = append(out, a)
		}
	}
	return out
}
