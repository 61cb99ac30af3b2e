package monitor

import "math"

// The CUSUMs add up log-likelihood ratios. For a normal score z and a
// shift of δ = 2k standard deviations, the ratio divided by δ is z - k:
// the textbook standardized CUSUM. A count with a small mean is not
// normal (a mean-0.1 count is 0 nine times in ten, and a normal score
// would call its every event a 1.6σ excursion), so a count adds the
// ratio of its own model, shifted by the same δ standard deviations and
// divided by δ: the same scale, so one h means about the same false alarm
// rate on every metric, and the test is the most powerful for the shift
// it is tuned to, whatever the mean.

// Count model families.
const (
	poissonFamily = iota
	negBinFamily
	binomialFamily
)

// countModel is a count distribution of mean m and variance v: Poisson
// when v = m, negative binomial of shape r when v > m (extra variation
// between buckets), binomial of n trials when v < m (a proportion of a
// known exposure; n is real).
type countModel struct {
	family int
	m, v   float64
	r, n   float64
}

// minDownMean is the least expected count of a bucket that can show a
// drop: a sparse count that stays at zero says little, and a baseline's
// prior would otherwise read years of zeros as a fall.
const minDownMean = 1.0

// minDownRatio bounds a downward alternative: the test of a drop compares
// the baseline with at least a tenth of it.
const minDownRatio = 0.1

func newCountModel(m, v float64) countModel {
	switch {
	case v > m*(1+1e-9):
		if r := m * m / (v - m); r < 1e8 {
			return countModel{family: negBinFamily, m: m, v: v, r: r}
		}
	case v < m*(1-1e-9):
		return countModel{family: binomialFamily, m: m, v: v, n: m * m / (m - v)}
	}
	return countModel{family: poissonFamily, m: m, v: m}
}

// shifted is the model whose mean is delta standard deviations away,
// with the same shape (Poisson, the negative binomial's r, the
// binomial's n), and the shift in standard deviations it really has (a
// drop is bounded by minDownRatio, a binomial by n). Keeping the shape
// makes a busier bucket as variable as the model says busier buckets
// are; a test against an alternative that kept the variance instead was
// more sensitive to the heavy upper tail of bursty counts (more false
// alarms for the same delays in bench/monitor).
func (c countModel) shifted(delta float64) (countModel, float64) {
	sd := math.Sqrt(c.v)
	m1 := c.m + delta*sd
	if delta < 0 {
		m1 = max(m1, c.m*minDownRatio)
	}
	out := c
	out.m = m1
	switch c.family {
	case negBinFamily:
		out.v = m1 + m1*m1/c.r
	case binomialFamily:
		m1 = min(m1, c.n*(1-1e-9))
		out.m, out.v = m1, m1*(1-m1/c.n)
	default:
		out.v = m1
	}
	return out, math.Abs(m1-c.m) / sd
}

// llr is log P1(x) / P0(x) for two models of one family and shape.
func llr(x float64, p0, p1 countModel) float64 {
	switch p0.family {
	case negBinFamily:
		r := p0.r
		return x*math.Log(p1.m*(r+p0.m)/(p0.m*(r+p1.m))) + r*math.Log((r+p0.m)/(r+p1.m))
	case binomialFamily:
		n := p0.n
		q0, q1 := p0.m/n, p1.m/n
		return x*math.Log(q1/q0) + (n-x)*math.Log((1-q1)/(1-q0))
	}
	return x*math.Log(p1.m/p0.m) - (p1.m - p0.m)
}

// increment is what count x adds to a CUSUM tuned to a shift of delta
// standard deviations (negative: a drop): the log-likelihood ratio over
// |delta|, in the units of z - k. It is divided by the nominal shift even
// where the alternative had to be bounded, so that h stays a threshold
// on the likelihood ratio of the same height on every metric.
func (c countModel) increment(x, delta float64) float64 {
	if delta < 0 && c.m < minDownMean {
		return delta / 2
	}
	alt, d := c.shifted(delta)
	if d == 0 {
		return 0
	}
	return llr(x, c, alt) / math.Abs(delta)
}
