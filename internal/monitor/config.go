package monitor

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config. docs/monitor.md gives the benchmark figures they
// were chosen from (bench/monitor).
const (
	DefaultBucket = time.Minute
	// DefaultAlpha is the EWMA weight of a count's level (decisions,
	// distinct and new actions): about a twenty-bucket memory, short
	// enough to follow a daily cycle of volume (0.03 and 0.1 gave no
	// fewer false alarms).
	DefaultAlpha = 0.05
	// DefaultMemoryEvents is how many events a count's level rests on at
	// least: a sparse count's level learns more slowly than Alpha.
	DefaultMemoryEvents = 30.0
	// DefaultRateAlpha is the weight of a proportion's, a rate's and a
	// log-normal metric's level: these do not follow the time of day, so
	// a longer memory gives a steadier baseline and lets slow drifts show.
	DefaultRateAlpha = 0.02
	// DefaultDispersionAlpha is the weight of the variance estimates
	// (overdispersion, between-bucket variance).
	DefaultDispersionAlpha = 0.01
	// DefaultK and DefaultH are the slow CUSUM's reference value and
	// decision interval, in standard deviations: k suits a 1σ shift, h is
	// what keeps false alarms under 5 per 10,000 agent-buckets (a 1σ
	// shift then takes 17 buckets on average).
	DefaultK = 0.5
	DefaultH = 8.5
	// DefaultFastK and DefaultFastH are the fast CUSUM's: tuned to a 3σ
	// shift, which it finds in two or three buckets.
	DefaultFastK = 1.5
	DefaultFastH = 3.0
	// DefaultMaxZ bounds what one bucket adds to any CUSUM: what a normal
	// score of MaxZ adds to the slow one, MaxZ - k. One extreme bucket is
	// not a shift (the threshold rules are for those), and heavy-tailed
	// noise (bursty minutes, a rare huge price) must not reach h in a
	// bucket or two.
	DefaultMaxZ = 3.0
	// DefaultDownFactor multiplies both decision intervals on the lower
	// side: a drop (fewer decisions, fewer denies) is less urgent than a
	// rise and needs more evidence.
	DefaultDownFactor = 1.5
	// DefaultCountFactor multiplies the slow CUSUM's decision interval for
	// the counts (decisions, distinct and new actions): their baselines
	// follow the time of day, so a forecast a lag ahead is less certain
	// than a rate's, and small deviations that last are worth less. The
	// fast CUSUM, for large shifts, is left alone.
	DefaultCountFactor = 1.25
	// DefaultDenseEvents is how many events (or values) a bucket must be
	// expected to hold for the slow CUSUM to decide at DenseH: from
	// there a metric is close to normal, and the 1σ must applies.
	DefaultDenseEvents = 10.0
	// DefaultDenseH is the slow CUSUM's decision interval where a bucket
	// holds DenseEvents: a 1σ shift of a normal value then takes about
	// 13 buckets on average instead of 17. 6 broke the false alarm must
	// on two seeds of three; 7 left more 1σ shifts late.
	DefaultDenseH = 6.5
	// DefaultSeasonAlpha is the weight of a count's daily cycle fit: a
	// memory of about a day (season.go).
	DefaultSeasonAlpha = 1.0 / 1440
	// DefaultSeasonPrior is how many buckets of no cycle the fit starts
	// from: it holds the cycle near zero until a part of it has been
	// seen.
	DefaultSeasonPrior = 30.0
	// DefaultWarmUp is how many buckets with exposure a metric's baseline
	// learns from before its detectors run.
	DefaultWarmUp = 30
	// DefaultLag is how many buckets behind its data a baseline is: long
	// enough for the slow CUSUM to cross on a 1σ shift before the shift
	// is absorbed, short enough to learn a lasting change after it was
	// reported. It is also the ring of closed buckets each agent keeps.
	DefaultLag = 30
	// DefaultCountLag is the lag of the counts' baselines (decisions,
	// distinct and new actions), which must follow the time of day: a
	// longer lag makes a daily ramp look like a shift.
	DefaultCountLag = 15
	// DefaultMinRun is how many buckets a detector must have been above
	// zero to alert: one extreme bucket is not a shift (threshold rules
	// catch those).
	DefaultMinRun = 2
	// DefaultMinExcess is how many events beyond (or short of) the
	// baseline's expectation, over the detector's run, an alert on a
	// count needs; for a log-normal metric, how many observations.
	DefaultMinExcess = 3.0
	// DefaultRuleClear is how many buckets a threshold rule must be quiet
	// before it may alert again: an agent whose deny rate hovers around
	// the threshold is one condition, not one alert per crossing.
	DefaultRuleClear = 60
	// DefaultSeenRotate is the age, in buckets, after which an action an
	// agent has not used again counts as new (it is kept between one and
	// two of these).
	DefaultSeenRotate = 1440
	// DefaultIdleEvict is how long, in buckets, an agent without an
	// observation is kept.
	DefaultIdleEvict = 7 * 1440
	// DefaultMaxAgents bounds the agents followed at once (each takes
	// about 8 KB).
	DefaultMaxAgents = 50_000
)

// Severities of alerts.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Rule is a threshold rule: it alerts when a bucket's value of the metric
// is above Above with at least MinExposure of exposure (decisions for
// denies, outcomes for failures). The value of a proportion or a rate is
// the fraction; of a count the count; of spend and latency the
// geometric mean.
type Rule struct {
	Name        string  `json:"name"`
	Metric      string  `json:"metric"`
	Above       float64 `json:"above"`
	MinExposure float64 `json:"min_exposure"`
	Severity    string  `json:"severity"`
}

// DefaultRules are the threshold rules.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "deny_rate", Metric: Denies.String(), Above: 0.5, MinExposure: 20, Severity: SeverityCritical},
		{Name: "failure_rate", Metric: Failures.String(), Above: 0.5, MinExposure: 20, Severity: SeverityWarning},
	}
}

// Config holds the monitor's parameters. The zero value is not valid;
// start from DefaultConfig.
type Config struct {
	Bucket          time.Duration
	Alpha           float64
	MemoryEvents    float64
	RateAlpha       float64
	DispersionAlpha float64
	K, H            float64
	FastK, FastH    float64
	MaxZ            float64
	DownFactor      float64
	CountFactor     float64
	DenseEvents     float64
	DenseH          float64
	// Season is the cycle a count's level follows (0: none), in whole
	// buckets.
	Season      time.Duration
	SeasonAlpha float64
	SeasonPrior float64
	WarmUp      int
	Lag         int
	CountLag    int
	MinRun      int
	MinExcess   float64
	Rules       []Rule
	RuleClear   int
	SeenRotate  int
	IdleEvict   int
	MaxAgents   int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Bucket: DefaultBucket, Alpha: DefaultAlpha, MemoryEvents: DefaultMemoryEvents, RateAlpha: DefaultRateAlpha, DispersionAlpha: DefaultDispersionAlpha,
		K: DefaultK, H: DefaultH, FastK: DefaultFastK, FastH: DefaultFastH, MaxZ: DefaultMaxZ, DownFactor: DefaultDownFactor, CountFactor: DefaultCountFactor,
		DenseEvents: DefaultDenseEvents, DenseH: DefaultDenseH, Season: DefaultSeason, SeasonAlpha: DefaultSeasonAlpha, SeasonPrior: DefaultSeasonPrior,
		WarmUp: DefaultWarmUp, Lag: DefaultLag, CountLag: DefaultCountLag, MinRun: DefaultMinRun, MinExcess: DefaultMinExcess,
		Rules: DefaultRules(), RuleClear: DefaultRuleClear, SeenRotate: DefaultSeenRotate,
		IdleEvict: DefaultIdleEvict, MaxAgents: DefaultMaxAgents,
	}
}

// lag is how many buckets behind the baseline of a metric of kind k is.
func (c *Config) lag(k kind) int64 {
	if k == countKind {
		return int64(c.CountLag)
	}
	return int64(c.Lag)
}

// ErrConfig is returned (wrapped) by Validate.
var ErrConfig = errors.New("invalid monitor config")

// Validate checks every field's range.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if c.Bucket < time.Second {
		return bad("bucket %s is shorter than a second", c.Bucket)
	}
	for _, a := range []struct {
		name string
		v    float64
	}{{"alpha", c.Alpha}, {"rate alpha", c.RateAlpha}, {"dispersion alpha", c.DispersionAlpha}, {"season alpha", c.SeasonAlpha}} {
		if !(a.v > 0 && a.v < 1) {
			return bad("%s %v is not in (0, 1)", a.name, a.v)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"k", c.K}, {"h", c.H}, {"dense h", c.DenseH}, {"fast k", c.FastK}, {"fast h", c.FastH}} {
		if !(p.v > 0 && p.v < 100) {
			return bad("%s %v is not in (0, 100)", p.name, p.v)
		}
	}
	if !(c.DenseEvents >= 0 && c.DenseEvents <= 1e6) {
		return bad("dense events %v is not in [0, 1e6]", c.DenseEvents)
	}
	if c.Season != 0 && (c.Season < 4*c.Bucket || c.Season%c.Bucket != 0) {
		return bad("season %s is not 0 or a whole number of buckets, at least 4", c.Season)
	}
	if !(c.SeasonPrior > 0 && c.SeasonPrior <= 1e6) {
		return bad("season prior %v is not in (0, 1e6]", c.SeasonPrior)
	}
	if !(c.MemoryEvents >= 1 && c.MemoryEvents <= 1e6) {
		return bad("memory events %v is not in [1, 1e6]", c.MemoryEvents)
	}
	if !(c.MaxZ > c.FastK && c.MaxZ > c.K && c.MaxZ <= 100) {
		return bad("max z %v is not above k and fast k (at most 100)", c.MaxZ)
	}
	if !(c.DownFactor >= 1 && c.DownFactor <= 10) {
		return bad("down factor %v is not in [1, 10]", c.DownFactor)
	}
	if !(c.CountFactor >= 1 && c.CountFactor <= 10) {
		return bad("count factor %v is not in [1, 10]", c.CountFactor)
	}
	if !(c.MinExcess >= 0 && c.MinExcess <= 1e6) {
		return bad("min excess %v is not in [0, 1e6]", c.MinExcess)
	}
	for _, n := range []struct {
		name      string
		v, lo, hi int
	}{
		{"warm-up", c.WarmUp, 1, 100_000}, {"lag", c.Lag, 1, 1000}, {"count lag", c.CountLag, 1, c.Lag}, {"min run", c.MinRun, 1, 1000},
		{"rule clear", c.RuleClear, 1, 100_000}, {"seen rotate", c.SeenRotate, 1, 1_000_000},
		{"idle evict", c.IdleEvict, 1, 10_000_000}, {"max agents", c.MaxAgents, 1, 100_000_000},
	} {
		if n.v < n.lo || n.v > n.hi {
			return bad("%s %d is not in [%d, %d]", n.name, n.v, n.lo, n.hi)
		}
	}
	names := map[string]bool{}
	for _, r := range c.Rules {
		if r.Name == "" || names[r.Name] {
			return bad("rule name %q is empty or repeated", r.Name)
		}
		names[r.Name] = true
		if _, err := ParseMetric(r.Metric); err != nil {
			return bad("rule %q: %v", r.Name, err)
		}
		if !(r.Above >= 0) || !(r.MinExposure >= 0) {
			return bad("rule %q: above and min_exposure must be numbers at least 0", r.Name)
		}
		switch r.Severity {
		case SeverityInfo, SeverityWarning, SeverityCritical:
		default:
			return bad("rule %q: severity %q is not info, warning or critical", r.Name, r.Severity)
		}
	}
	return nil
}
