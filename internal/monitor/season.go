package monitor

import (
	"math"
	"time"
)

// A count's level follows the time of day (most agents work for people),
// and a level that learns a lag behind its data trails a daily ramp: a
// busy agent's forecast, CountLag buckets old and resting on about 20
// more, runs up to a standard deviation low while its traffic rises and
// as much high while it falls. The noise estimate then widens to cover
// it, and a 1σ shift shows as 0.2σ half of the day. So each count also
// fits the first harmonic of a daily cycle, b1 sin θ + b2 cos θ, by
// exponentially weighted least squares over about a day of the buckets
// its baseline absorbed, and the level learns what the cycle does not
// explain. The cycle is evaluated at the bucket being scored, not at the
// ones learnt from, so the forecast carries no lag along it; its two
// coefficients rest on hundreds of buckets, so unlike a local trend
// (Holt's, tried: docs/monitor.md) it adds almost no noise. A ridge prior
// (SeasonPrior buckets of no cycle) holds the fit at zero until a part of
// the cycle has been seen.

// season is the weighted sums of one count's harmonic regression: of the
// weights (W), of sin θ (S), cos θ (C), their squares and product, and
// of the count times 1, sin θ and cos θ.
type season struct {
	W, S, C, SS, CC, SC, X, XS, XC float64
}

// phase is the sine and cosine of bucket i's time of day, for a
// detector's clock (buckets since its first) and the configuration's
// season in buckets.
func phase(i int64, c *Config) (sin, cos float64) {
	p := c.seasonBuckets()
	return math.Sincos(2 * math.Pi * float64((i%p+p)%p) / float64(p))
}

// seasonBuckets is the length of the cycle in buckets.
func (c *Config) seasonBuckets() int64 {
	return max(1, int64(c.Season/c.Bucket))
}

// cycle is the harmonic's value at bucket i (0 before any data, or
// without a season).
func (s *season) cycle(i int64, c *Config) float64 {
	if s == nil || c.Season == 0 {
		return 0
	}
	b1, b2 := s.coef(c.SeasonPrior)
	sn, cs := phase(i, c)
	return b1*sn + b2*cs
}

// coef solves the ridge regression of the counts on (1, sin θ, cos θ),
// with prior buckets of no cycle on the harmonic's coefficients, and
// returns them.
func (s *season) coef(prior float64) (b1, b2 float64) {
	// Centre on the weighted means, leaving a 2×2 system.
	if s.W <= 0 {
		return 0, 0
	}
	ms, mc, mx := s.S/s.W, s.C/s.W, s.X/s.W
	a11 := s.SS - s.W*ms*ms + prior
	a22 := s.CC - s.W*mc*mc + prior
	a12 := s.SC - s.W*ms*mc
	y1 := s.XS - s.W*mx*ms
	y2 := s.XC - s.W*mx*mc
	det := a11*a22 - a12*a12
	if !(det > 0) {
		return 0, 0
	}
	return (a22*y1 - a12*y2) / det, (a11*y2 - a12*y1) / det
}

// learn adds count x of bucket i with the weight 1, after discounting the
// older buckets by 1 - alpha.
func (s *season) learn(i int64, x float64, c *Config) {
	sn, cs := phase(i, c)
	f := 1 - c.SeasonAlpha
	s.W = f*s.W + 1
	s.S = f*s.S + sn
	s.C = f*s.C + cs
	s.SS = f*s.SS + sn*sn
	s.CC = f*s.CC + cs*cs
	s.SC = f*s.SC + sn*cs
	s.X = f*s.X + x
	s.XS = f*s.XS + x*sn
	s.XC = f*s.XC + x*cs
}

// DefaultSeason is the cycle a count's level follows: a day.
const DefaultSeason = 24 * time.Hour
