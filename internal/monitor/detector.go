package monitor

import "math"

// A detector follows one metric of one agent: a baseline (the level, and
// slower estimates of the noise around it) and four CUSUMs: a slow one
// (k, h) and a fast one (fast k, fast h) on each side.
//
// The baseline must not learn the shift it is meant to find, so it is
// lagged: it absorbs a closed bucket only Lag buckets later (CountLag for
// the counts, whose level must follow the time of day). A detector thus
// measures the last Lag buckets against a baseline that has seen none of
// them, whether or not it has noticed anything yet, and after a lasting
// change has been reported the baseline follows it, Lag buckets late, and
// the alert ends. Freezing the baseline only while a CUSUM is above zero,
// and absorbing the held buckets when it returns to zero, was tried
// first: the moment of return selects a low bucket, the baseline ran low
// (z averaged +0.1 on clean traffic), and it froze during every rise of
// the daily cycle; false alarms were two to three times as many
// (docs/monitor.md).

// priorEvents is the pseudo-count every rate and count starts from: half
// an event over the baseline's memory. A metric that has never seen an
// event still expects a little, so that its first event is unusual but
// not impossible.
const priorEvents = 0.5

// minLogVar is the least variance of a log value (a 1% spread): a price
// that never changed must still give a finite score when it does.
const minLogVar = 1e-4

// capFactor bounds a CUSUM at capFactor times its decision interval, so
// that it drains in bounded time once a shift ends or is absorbed.
const capFactor = 2

// minCycleRatio is the least fraction of a count's level its forecast
// keeps at the trough of a fitted cycle.
const minCycleRatio = 0.1

type detector struct {
	Warm int32 // buckets with exposure absorbed into the baseline
	// Next is the first bucket the baseline has not absorbed: after the
	// warm-up, the bucket closed a lag ago.
	Next int64

	// Level: a count's EWMA mean (A); a proportion's or rate's
	// exponentially weighted events (A) and exposure (B); a log-normal
	// metric's weighted sum of logs (A) and number of values (B).
	A, B float64
	// Noise, updated with weight DispersionAlpha. Count: E[(x-mu)^2]
	// (D1), E[mu] (D2) and E[mu^2] (D3) of the forecasts, giving kappa
	// of var = mu + kappa mu^2 (negative binomial). Proportion and rate:
	// E[(x-pn)^2] (D1) and E[model variance] (D2), giving phi >= 1.
	// Log-normal: the weighted within-bucket sum of squares (D1) and
	// degrees of freedom (D2), E[(mean-mu)^2] (D3) and E[1/n] (D4),
	// giving the within and between variances.
	D1, D2, D3, D4 float64

	Up, Down, FastUp, FastDown float64
	Runs                       [2]run // up, down

	// Clock counts the buckets a count's detector has been shown, learnt
	// in the warm-up or scored: its cycle's time (season.go). Every
	// bucket of a count has exposure, so the clock misses none.
	Clock int64
	// Season is a count's daily cycle, nil until it learns a bucket.
	Season *season
}

// run is one side's current excursion above zero.
type run struct {
	Len      int32
	Obs, Exp float64 // events observed and expected over the run (counts)
	N        float64 // exposure over the run
	Active   bool    // alerted; the condition persists
}

const (
	sideUp = iota
	sideDown
)

// prediction is what the baseline expects of a bucket: a count model, or
// the mean and variance of the mean log value (log-normal), and the
// baseline in the metric's natural unit for the alert.
type prediction struct {
	count          countModel
	mean, variance float64
	baseline       float64
}

// countAlpha is the weight of a count's level: Alpha, or less for a
// sparse count, so that the level always rests on about MemoryEvents
// events. A mean of 0.3 learnt from ten buckets (three events) would be
// off by 40%, and every underestimate would be an alarm.
func (d *detector) countAlpha(c *Config) float64 {
	return min(c.Alpha, max(d.A, priorEvents*c.Alpha)/c.MemoryEvents)
}

// rate is a proportion's or rate's current estimate, with the prior.
func (d *detector) rate() float64 { return (d.A + priorEvents) / (d.B + 1) }

func (d *detector) predict(k kind, s sample, c *Config) prediction {
	switch k {
	case countKind:
		a := d.countAlpha(c)
		kappa := 0.0
		if d.D3 > 0 {
			kappa = max(0, (d.D1-d.D2)/d.D3)
		}
		level := d.A + priorEvents*a
		// The cycle may take the forecast down to a tenth of the level,
		// not to nothing: a fitted trough is not a certainty of silence.
		mu := max(level+d.Season.cycle(d.Clock, c), level*minCycleRatio)
		v := mu + kappa*mu*mu
		return prediction{count: newCountModel(mu, v), mean: mu, variance: v, baseline: mu}
	case proportionKind, rateKind:
		p := d.rate()
		if k == proportionKind {
			p = min(p, 1-1e-9)
		}
		base := d.modelVar(k, s.n, p, c)
		phi := 1.0
		if d.D2 > 0 {
			phi = max(1, d.D1/d.D2)
		}
		return prediction{count: newCountModel(p*s.n, phi*base), mean: p * s.n, variance: phi * base, baseline: p}
	}
	mu, sw2, tau2, varMu := d.logParams(c)
	return prediction{mean: mu, variance: sw2/s.n + tau2 + varMu, baseline: math.Exp(mu)}
}

// modelVar is the variance of a proportion's or rate's count of exposure
// n under the binomial or Poisson model, plus the uncertainty of p.
func (d *detector) modelVar(k kind, n, p float64, c *Config) float64 {
	unit := p
	if k == proportionKind {
		unit = p * (1 - p)
	}
	return unit * (n + n*n/((d.B+1)*(2-c.RateAlpha)))
}

// logParams returns a log-normal metric's mean, within-bucket variance
// of one value, between-bucket variance of the mean, and the variance of
// the mean's estimate.
func (d *detector) logParams(c *Config) (mu, sw2, tau2, varMu float64) {
	mu = d.A / d.B
	sw2 = d.D3
	if d.D2 >= 1 {
		sw2 = d.D1 / d.D2
	}
	sw2 = max(sw2, minLogVar)
	varMu = sw2 / (d.B * (2 - c.RateAlpha))
	tau2 = max(0, d.D3-sw2*d.D4-varMu)
	varMu += tau2 * c.RateAlpha / (2 - c.RateAlpha)
	return mu, sw2, tau2, varMu
}

// absorb moves one closed bucket into the baseline.
func (d *detector) absorb(k kind, s sample, c *Config) {
	if s.n == 0 {
		return // no exposure: nothing learnt, nothing forgotten
	}
	switch k {
	case countKind:
		// The bucket's time: in the warm-up the bucket just closed, after
		// it the one closed CountLag buckets ago.
		i := d.Clock - int64(c.CountLag)
		if int(d.Warm) < c.WarmUp {
			i = d.Clock
			d.Clock++
		}
		cyc := d.Season.cycle(i, c)
		if c.Season > 0 {
			if d.Season == nil {
				d.Season = &season{}
			}
			d.Season.learn(i, s.x, c)
		}
		if d.Warm == 0 {
			d.A = max(0, s.x-cyc)
			break
		}
		a := max(d.countAlpha(c), 1/float64(d.Warm+1))
		ad := max(c.DispersionAlpha, 1/float64(d.Warm))
		// The noise is that of the forecast the bucket was scored
		// with, a lag ahead; in the warm-up, of the next-bucket one.
		center := max(d.A+cyc, d.A*minCycleRatio)
		if s.expect > 0 {
			center = s.expect
		}
		e := s.x - center
		d.D1 += ad * (e*e - d.D1)
		d.D2 += ad * (center - d.D2)
		d.D3 += ad * (center*center - d.D3)
		// The level learns what the cycle does not explain.
		d.A = max(0, d.A+a*(s.x-cyc-d.A))
	case proportionKind, rateKind:
		if d.Warm > 0 {
			ad := max(c.DispersionAlpha, 1/float64(d.Warm))
			p := d.rate()
			if k == proportionKind {
				p = min(p, 1-1e-9)
			}
			r := s.x - p*s.n
			d.D1 += ad * (r*r - d.D1)
			d.D2 += ad * (d.modelVar(k, s.n, p, c) - d.D2)
		}
		d.A = (1-c.RateAlpha)*d.A + s.x
		d.B = (1-c.RateAlpha)*d.B + s.n
	case logNormalKind:
		if d.Warm > 0 {
			ad := max(c.DispersionAlpha, 1/float64(d.Warm))
			r := s.x/s.n - d.A/d.B
			d.D3 += ad * (r*r - d.D3)
			d.D4 += ad * (1/s.n - d.D4)
		}
		ss := 0.0
		if s.n >= 2 {
			ss = max(0, s.sq-s.x*s.x/s.n)
		}
		d.D1 = (1-c.RateAlpha)*d.D1 + ss
		d.D2 = (1-c.RateAlpha)*d.D2 + s.n - 1
		d.A = (1-c.RateAlpha)*d.A + s.x
		d.B = (1-c.RateAlpha)*d.B + s.n
	}
	d.Warm++
}

// increment is what a bucket adds to a CUSUM tuned to a shift of delta
// standard deviations (negative: a drop), in the units of z - k, and at
// most limit.
func increment(k kind, s sample, p prediction, delta, limit float64) float64 {
	if k == logNormalKind {
		z := (s.x/s.n - p.mean) / math.Sqrt(p.variance)
		if delta < 0 {
			z = -z
		}
		return min(limit, z-math.Abs(delta)/2)
	}
	return min(limit, p.count.increment(s.x, delta))
}

// firing says what a detector's bucket raised on one side.
type firing struct {
	side     int
	detector string // "cusum" or "cusum_fast"
	score    float64
}

// Detector names of alerts.
const (
	DetectorCUSUM     = "cusum"
	DetectorFastCUSUM = "cusum_fast"
	DetectorThreshold = "threshold"
)

// step runs the CUSUMs on a bucket's score and returns what alerts. It
// does not touch the baseline.
func (d *detector) step(k kind, s sample, p prediction, c *Config) []firing {
	if k == countKind {
		d.Clock++
	}
	h, fh := c.H, c.FastH
	hcap := max(c.H, c.DenseH)
	// Where a bucket holds DenseEvents events (or values) the slow
	// CUSUM decides at DenseH: there the metric is close to normal and
	// a 1σ shift can be found in the 15 buckets, which h = H
	// (17 on average) cannot; a sparser bucket keeps H, since there no
	// h the false alarms allow finds a 1σ shift that soon.
	events := p.mean
	if k == logNormalKind {
		events = s.n
	}
	if events >= c.DenseEvents {
		h = c.DenseH
	}
	if k == countKind {
		h *= c.CountFactor
		hcap *= c.CountFactor
	}
	// One bucket adds at most what a score of MaxZ adds to the slow
	// CUSUM, to either.
	limit := c.MaxZ - c.K
	down := c.DownFactor
	d.Up = min(capFactor*hcap, max(0, d.Up+increment(k, s, p, 2*c.K, limit)))
	d.FastUp = min(capFactor*fh, max(0, d.FastUp+increment(k, s, p, 2*c.FastK, limit)))
	d.Down = min(capFactor*hcap*down, max(0, d.Down+increment(k, s, p, -2*c.K, limit)))
	d.FastDown = min(capFactor*fh*down, max(0, d.FastDown+increment(k, s, p, -2*c.FastK, limit)))

	var out []firing
	sides := [2]struct{ slow, fast, h, fh float64 }{
		{d.Up, d.FastUp, h, fh},
		{d.Down, d.FastDown, h * down, fh * down},
	}
	for side, st := range sides {
		r := &d.Runs[side]
		if st.slow == 0 && st.fast == 0 {
			*r = run{}
			continue
		}
		r.Len++
		r.N += s.n
		if k != logNormalKind {
			r.Obs += s.x
			r.Exp += p.mean
		}
		if r.Active || int(r.Len) < c.MinRun || (st.slow < st.h && st.fast < st.fh) {
			continue
		}
		if !d.evidence(k, side, r, c) {
			continue
		}
		r.Active = true
		f := firing{side: side, detector: DetectorCUSUM, score: st.slow}
		if st.fast >= st.fh {
			f.detector, f.score = DetectorFastCUSUM, st.fast
		}
		out = append(out, f)
	}
	return out
}

// evidence reports whether a run holds enough events to alert on.
func (d *detector) evidence(k kind, side int, r *run, c *Config) bool {
	if k == logNormalKind {
		return r.N >= c.MinExcess
	}
	if side == sideUp {
		return r.Obs-r.Exp >= c.MinExcess
	}
	return r.Exp-r.Obs >= c.MinExcess
}

// observed is a bucket's value in the metric's natural unit.
func observed(k kind, s sample) float64 {
	switch k {
	case countKind:
		return s.x
	case logNormalKind:
		return math.Exp(s.x / s.n)
	}
	return s.x / s.n
}
