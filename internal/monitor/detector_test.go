package monitor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// stepDelay runs a clean Poisson(mean) series of pre buckets, then the
// same shifted by sigmas standard deviations, and returns the buckets
// from the shift to the first up alert on decisions (0: none).
func stepDelay(t *testing.T, seed uint64, mean, sigmas float64, pre, post int) int {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	series := append(counts(r, pre, mean, 0), counts(r, post, mean+sigmas*math.Sqrt(mean), 0)...)
	for _, a := range only(feed(t, newMonitor(t, nil), "a", series), Decisions.String()) {
		if b := bucketOf(a); b >= pre && a.Direction == Up {
			return b - pre + 1
		}
	}
	return 0
}

func TestMonitorStepCaughtQuickly(t *testing.T) {
	tests := []struct {
		name      string
		sigmas    float64
		maxMedian int
	}{
		{"3σ", 3, 3},
		{"5σ", 5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var delays []int
			for seed := range uint64(15) {
				d := stepDelay(t, seed, 40, tt.sigmas, 240, 40)
				if d == 0 {
					t.Fatalf("seed %d: a %s step of Poisson(40) was not caught in 40 buckets", seed, tt.name)
				}
				delays = append(delays, d)
			}
			slices.Sort(delays)
			if med := delays[len(delays)/2]; med > tt.maxMedian {
				t.Errorf("median delay of a %s step = %d buckets (%v), want <= %d", tt.name, med, delays, tt.maxMedian)
			}
		})
	}
}

func TestMonitorSmallStepCaught(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Config)
		maxMedian int
	}{
		// 20 values a bucket are dense: the slow CUSUM decides at
		// DenseH (6.5), about 13 buckets on average.
		{"dense", nil, 15},
		// Had every bucket the sparse h (8.5), 17 on average.
		{"sparse h", func(c *Config) { c.DenseEvents = 1000 }, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			delays := smallStepDelays(t, tt.edit)
			slices.Sort(delays)
			if med := delays[len(delays)/2]; med > tt.maxMedian {
				t.Errorf("median delay of a 1σ step = %d buckets (%v), want <= %d", med, delays, tt.maxMedian)
			}
			if delays[len(delays)-3] > 60 {
				t.Errorf("1σ step delays %v: more than two of 11 missed", delays)
			}
		})
	}
	if dense, sparse := smallStepDelays(t, nil), smallStepDelays(t, tests[1].edit); median(dense) >= median(sparse) {
		t.Errorf("median delay at DenseH = %d, not below the %d of the sparse h", median(dense), median(sparse))
	}
}

func median(d []int) int {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// smallStepDelays returns, for 11 seeds, the buckets from a 1σ step of
// a normal metric (log latency of 20 outcomes a bucket, sd 0.5/√20 of
// the bucket's mean) to its first up alert (MaxInt: missed).
func smallStepDelays(t *testing.T, edit func(*Config)) []int {
	t.Helper()
	var delays []int
	for seed := range uint64(11) {
		r := rand.New(rand.NewPCG(seed, 2))
		sd := 0.5
		series := make([]minute, 320)
		for b := range series {
			loc := math.Log(200)
			if b >= 240 {
				loc += sd / math.Sqrt(20)
			}
			for range 20 {
				series[b].latencies = append(series[b].latencies, math.Exp(loc+sd*r.NormFloat64()))
			}
		}
		d := math.MaxInt // missed
		for _, a := range only(feed(t, newMonitor(t, edit), "a", series), Latency.String()) {
			if b := bucketOf(a); b >= 240 && a.Direction == Up {
				d = b - 240 + 1
				break
			}
		}
		delays = append(delays, d)
	}
	return delays
}

func TestMonitorCleanSeriesSilent(t *testing.T) {
	// A busy agent's buckets are dense: its slow CUSUMs decide at DenseH
	// and raise about two false alarms per 10,000 buckets (measured over
	// 60,000), so one in 3,000 is allowed there.
	tests := []struct {
		name       string
		mean, deny float64
		maxAlerts  int
	}{
		{"busy", 40, 0.05, 1},
		{"moderate", 5, 0.02, 0},
		{"sparse", 0.3, 0.01, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buckets := 3000
			if testing.Short() {
				buckets = 800
			}
			r := rand.New(rand.NewPCG(7, 7))
			if alerts := feed(t, newMonitor(t, nil), "a", counts(r, buckets, tt.mean, tt.deny)); len(alerts) > tt.maxAlerts {
				t.Errorf("%d buckets of clean traffic raised %d alerts, want at most %d: %+v", buckets, len(alerts), tt.maxAlerts, alerts[0])
			}
		})
	}
}

func TestMonitorSmallCountsNoAlarmOnNoise(t *testing.T) {
	// An agent that is denied about once an hour has its denies in
	// bursts of one or two; neither a lone deny nor a pair is a shift.
	r := rand.New(rand.NewPCG(3, 3))
	series := counts(r, 2000, 1, 1.0/60)
	series[1000].denies = 2
	series[1500].denies = 1
	series[1501].denies = 1
	if alerts := feed(t, newMonitor(t, nil), "a", series); len(alerts) != 0 {
		t.Errorf("sparse denies raised %d alerts, want 0: %+v", len(alerts), alerts[0])
	}
}

func TestMonitorBaselineDoesNotAbsorbShift(t *testing.T) {
	m := newMonitor(t, nil)
	r := rand.New(rand.NewPCG(5, 5))
	const pre = 240
	feed(t, m, "a", counts(r, pre, 20, 0))
	d := &m.agents["acme\x00a"].Det[Decisions]
	level := d.A
	// A lasting step of +8σ: for CountLag buckets the baseline must not
	// move, whatever the detectors do meanwhile.
	step := make([]minute, m.cfg.CountLag)
	for i := range step {
		step[i].decisions = 56
	}
	var alerts []Alert
	for i := range step {
		alerts = append(alerts, feedFrom(t, m, "a", pre+i, step[i:i+1])...)
		if d.A > level*1.1 {
			t.Fatalf("bucket %d after the step: baseline %.2f, was %.2f before it: it absorbed the shift", i+1, d.A, level)
		}
	}
	ups := only(alerts, Decisions.String())
	if len(ups) != 1 || ups[0].Direction != Up || math.Abs(ups[0].Baseline-level) > 2 {
		t.Fatalf("alerts on the step = %+v, want one up alert with a baseline near %.1f", ups, level)
	}
}

func TestMonitorDedup(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	// 300 clean buckets, a +6σ shift lasting 120 buckets, 300 clean
	// buckets, the same shift again.
	series := counts(r, 300, 30, 0)
	shifted := 30 + 6*math.Sqrt(30)
	series = append(series, counts(r, 120, shifted, 0)...)
	series = append(series, counts(r, 300, 30, 0)...)
	series = append(series, counts(r, 60, shifted, 0)...)
	var starts []int
	for _, a := range only(feed(t, newMonitor(t, nil), "a", series), Decisions.String()) {
		if a.Direction == Up {
			starts = append(starts, bucketOf(a))
		}
	}
	if len(starts) != 2 || starts[0] < 300 || starts[0] > 305 || starts[1] < 720 || starts[1] > 725 {
		t.Fatalf("up alerts at buckets %v, want one at the start of each shift (300, 720)", starts)
	}
}

func TestMonitorThresholdRule(t *testing.T) {
	m := newMonitor(t, nil)
	series := make([]minute, 120)
	for i := range series {
		series[i] = minute{decisions: 30, denies: 3}
	}
	series[5] = minute{decisions: 30, denies: 20}   // 67% of 30: alerts
	series[6] = minute{decisions: 30, denies: 25}   // still the same condition
	series[7] = minute{decisions: 10, denies: 10}   // too few decisions to count
	series[100] = minute{decisions: 40, denies: 30} // quiet for 93 buckets: a new episode
	var got []int
	for _, a := range feed(t, m, "a", series) {
		if a.Detector == DetectorThreshold {
			if a.Rule != "deny_rate" || a.Metric != Denies.String() || a.Severity != SeverityCritical || a.Baseline != 0.5 {
				t.Errorf("rule alert = %+v", a)
			}
			got = append(got, bucketOf(a))
		}
	}
	if !slices.Equal(got, []int{5, 100}) {
		t.Errorf("threshold alerts at buckets %v, want [5 100]", got)
	}
}

func TestMonitorCountModelLLR(t *testing.T) {
	logPMF := func(c countModel, x float64) float64 {
		lg := func(v float64) float64 { l, _ := math.Lgamma(v); return l }
		switch c.family {
		case negBinFamily:
			p := c.r / (c.r + c.m)
			return lg(x+c.r) - lg(c.r) - lg(x+1) + c.r*math.Log(p) + x*math.Log1p(-p)
		case binomialFamily:
			q := c.m / c.n
			return lg(c.n+1) - lg(x+1) - lg(c.n-x+1) + x*math.Log(q) + (c.n-x)*math.Log1p(-q)
		}
		return x*math.Log(c.m) - c.m - lg(x+1)
	}
	for _, tt := range []struct {
		name string
		m, v float64
	}{
		{"poisson", 3, 3}, {"negative binomial", 3, 7}, {"binomial", 6, 4.2}, {"sparse", 0.05, 0.05},
	} {
		c := newCountModel(tt.m, tt.v)
		for _, delta := range []float64{1, 3, -1, -3} {
			alt, _ := c.shifted(delta)
			for i := range 12 {
				x := float64(i)
				if c.family == binomialFamily && x > c.n {
					continue
				}
				want := logPMF(alt, x) - logPMF(c, x)
				if got := llr(x, c, alt); math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
					t.Errorf("%s: llr(%v, δ=%v) = %v, want %v", tt.name, x, delta, got, want)
				}
			}
		}
	}
}

func TestMonitorIncrementNormalLimit(t *testing.T) {
	// A count with a large mean is nearly normal: its increment is z - k.
	c := newCountModel(1e6, 1e6)
	for _, z := range []float64{-2, 0, 1, 3} {
		x := math.Round(1e6 + z*1000)
		zz := (x - 1e6) / 1000
		for _, delta := range []float64{1, 3} {
			if got, want := c.increment(x, delta), zz-delta/2; math.Abs(got-want) > 0.02 {
				t.Errorf("increment(z=%v, δ=%v) = %v, want about %v", zz, delta, got, want)
			}
		}
	}
}
