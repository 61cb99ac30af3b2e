package monitor

import (
	"fmt"
	"math"
)

// Metric is one quantity the monitor follows per agent and bucket.
type Metric uint8

// Metrics. Their names (String) are what alerts and rules carry.
const (
	Decisions       Metric = iota // decisions in the bucket
	Denies                        // denies, of the decisions
	Approvals                     // approvals required, of the decisions
	RateLimits                    // rate_limited answers, of the decisions
	Failures                      // failed outcomes, of the outcomes
	DistinctActions               // distinct action types in the bucket
	NewActions                    // action types the agent was not seen using (SeenRotate)
	Spend                         // spend per observation that cost something (geometric mean)
	Latency                       // outcome latency (geometric mean, ms)
	FindingsSecret                // findings of the family, per observation; the
	FindingsPII                   // families follow the order of families
	FindingsInjection
	FindingsJailbreak
	FindingsUnsafeInput
	FindingsExfiltration
	FindingsToolPoisoning
	FindingsOther
	numMetrics
)

var metricNames = [numMetrics]string{
	"decisions", "denies", "approvals_required", "rate_limited", "outcome_failures",
	"distinct_actions", "new_actions", "spend", "latency",
	"findings.secret", "findings.pii", "findings.injection", "findings.jailbreak",
	"findings.unsafe_input", "findings.exfiltration", "findings.tool_poisoning", "findings.other",
}

// String is the metric's name.
func (m Metric) String() string {
	if m < numMetrics {
		return metricNames[m]
	}
	return fmt.Sprintf("metric(%d)", m)
}

// ParseMetric returns the metric of a name.
func ParseMetric(name string) (Metric, error) {
	for i, n := range metricNames {
		if n == name {
			return Metric(i), nil
		}
	}
	return 0, fmt.Errorf("unknown metric %q", name)
}

// Metrics returns every metric, in order.
func Metrics() []Metric {
	out := make([]Metric, numMetrics)
	for i := range out {
		out[i] = Metric(i)
	}
	return out
}

// kind is how a metric is modelled.
type kind uint8

const (
	// count: events per bucket, exposure 1: mean and dispersion
	// (negative binomial: var = mean + kappa mean^2) track the agent's
	// level, which moves with the time of day.
	countKind kind = iota
	// proportion: events of an exposure (denies of decisions): the rate
	// is a property of the agent, not of its volume, so a daily cycle of
	// volume moves nothing; var = phi n p (1-p), phi >= 1.
	proportionKind
	// rate: events per unit of exposure that may exceed one (findings per
	// decision): var = phi n p.
	rateKind
	// logNormal: the mean of log values of the bucket's observations
	// (spend, latency): var = within/n + between.
	logNormalKind
)

// countIndex is the index of a count metric in bucket.Expect.
func countIndex(m Metric) int {
	switch m {
	case DistinctActions:
		return 1
	case NewActions:
		return 2
	}
	return 0
}

func (m Metric) kind() kind {
	switch {
	case m == Decisions || m == DistinctActions || m == NewActions:
		return countKind
	case m == Denies || m == Approvals || m == RateLimits || m == Failures:
		return proportionKind
	case m == Spend || m == Latency:
		return logNormalKind
	}
	return rateKind
}

// bucket is what one agent did in one bucket: the sufficient statistics
// of every metric, a fixed size whatever the traffic.
type bucket struct {
	Decisions, Denies, Approvals, RateLimits uint32
	Outcomes, Failures                       uint32
	Distinct, New                            uint32
	Entries                                  uint32 // observations: the exposure of findings
	Findings                                 [numFamilies]uint32
	SpendN, LatN                             uint32
	SpendSum, SpendSq                        float64 // of log(spend)
	LatSum, LatSq                            float64 // of log(latency in ms)
	// Expect is what the baselines of the counts (decisions, distinct
	// and new actions) expected of the bucket when it was scored, 0
	// before: their noise is learnt from the errors of those forecasts,
	// made a lag ahead, so that it includes what a daily cycle adds.
	Expect [3]float64
}

// sample is one metric's statistics in a bucket: x events (or the sum of
// log values) of an exposure n (1 for counts; the number of values for
// log-normal metrics, with sq their sum of squares).
type sample struct{ x, n, sq, expect float64 }

func (b *bucket) sample(m Metric) sample {
	switch m {
	case Decisions:
		return sample{x: float64(b.Decisions), n: 1, expect: b.Expect[0]}
	case DistinctActions:
		return sample{x: float64(b.Distinct), n: 1, expect: b.Expect[1]}
	case NewActions:
		return sample{x: float64(b.New), n: 1, expect: b.Expect[2]}
	case Denies:
		return sample{x: float64(b.Denies), n: float64(b.Decisions)}
	case Approvals:
		return sample{x: float64(b.Approvals), n: float64(b.Decisions)}
	case RateLimits:
		return sample{x: float64(b.RateLimits), n: float64(b.Decisions)}
	case Failures:
		return sample{x: float64(b.Failures), n: float64(b.Outcomes)}
	case Spend:
		return sample{x: b.SpendSum, n: float64(b.SpendN), sq: b.SpendSq}
	case Latency:
		return sample{x: b.LatSum, n: float64(b.LatN), sq: b.LatSq}
	}
	return sample{x: float64(b.Findings[m-FindingsSecret]), n: float64(b.Entries)}
}

// minLatencyMS is the latency a zero is counted as (its log must exist).
const minLatencyMS = 0.01

// add counts o into b; newAction says whether o's action is new to the
// agent and distinct whether it is new to the bucket.
func (b *bucket) add(o *Observation, distinct, newAction bool) {
	b.Entries++
	if o.Spend > 0 {
		y := math.Log(o.Spend)
		b.SpendN++
		b.SpendSum += y
		b.SpendSq += y * y
	}
	if o.Decision != "" {
		b.Decisions++
		switch o.Decision {
		case Deny:
			b.Denies++
		case RequireApproval:
			b.Approvals++
		case RateLimited:
			b.RateLimits++
		}
		if distinct {
			b.Distinct++
		}
		if newAction {
			b.New++
		}
	}
	if o.Outcome != "" {
		b.Outcomes++
		if o.Outcome == Failed {
			b.Failures++
		}
		if o.HasLatency {
			y := math.Log(max(o.LatencyMS, minLatencyMS))
			b.LatN++
			b.LatSum += y
			b.LatSq += y * y
		}
	}
	for _, c := range o.Findings {
		b.Findings[family(c)]++
	}
}
