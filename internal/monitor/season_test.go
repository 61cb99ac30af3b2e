package monitor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// cycleForecastError feeds two days of a busy agent whose decisions
// follow a daily cycle (Poisson, mean 100 × (1 + 0.8 sin)) and returns
// the root mean square, over the second day, of the decisions forecast
// the bucket was scored with less the true mean, in standard deviations
// of the count.
func cycleForecastError(t *testing.T, edit func(*Config)) float64 {
	t.Helper()
	m := newMonitor(t, edit)
	r := rand.New(rand.NewPCG(21, 22))
	const day = 1440
	var sum float64
	for b := range 2 * day {
		mean := 100 * (1 + 0.8*math.Sin(2*math.Pi*float64(b)/day+1))
		feedFrom(t, m, "a", b, []minute{{decisions: poissonDraw(r, mean)}})
		if b < day {
			continue
		}
		a := m.agents["acme\x00a"]
		e := (a.Ring[b%m.cfg.Lag].Expect[0] - mean) / math.Sqrt(mean)
		sum += e * e
	}
	return math.Sqrt(sum / day)
}

func TestMonitorSeasonFollowsCycle(t *testing.T) {
	// A level that learns CountLag buckets late trails a daily ramp by
	// most of a standard deviation; the fitted cycle, evaluated at the
	// bucket scored, does not.
	with := cycleForecastError(t, nil)
	without := cycleForecastError(t, func(c *Config) { c.Season = 0 })
	t.Logf("forecast error %.2fσ with the season, %.2fσ without", with, without)
	if with > 0.35 || without < 2*with {
		t.Errorf("forecast error over a daily cycle = %.2fσ with the season, %.2fσ without; want at most 0.35σ, and half of without", with, without)
	}
}

func TestMonitorSeasonCoefficients(t *testing.T) {
	// An exact cycle is recovered (less the prior's shrinkage, a few per
	// cent after two days); no data, or a flat series, gives none.
	c := DefaultConfig()
	var s season
	for i := range int64(3000) {
		sn, cs := phase(i, &c)
		s.learn(i, 50+7*sn-3*cs, &c)
	}
	if b1, b2 := s.coef(c.SeasonPrior); math.Abs(b1-7) > 0.5 || math.Abs(b2+3) > 0.2 {
		t.Errorf("coef() of 50 + 7 sin - 3 cos = %.3f, %.3f, want about 7, -3", b1, b2)
	}
	var flat season
	for i := range int64(100) {
		flat.learn(i, 4, &c)
	}
	if b1, b2 := flat.coef(c.SeasonPrior); math.Abs(b1) > 1e-9 || math.Abs(b2) > 1e-9 {
		t.Errorf("coef() of a flat series = %v, %v, want 0, 0", b1, b2)
	}
	var none *season
	if got := none.cycle(5, &c); got != 0 {
		t.Errorf("cycle() without data = %v, want 0", got)
	}
}
