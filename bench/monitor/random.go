package main

import (
	"math"
	"math/rand/v2"
)

// Samplers the generator needs beyond math/rand/v2. They are exact (no
// normal approximation of counts): the monitor's false alarms live in the
// tails, and an approximate generator would flatter or wrong it.

// poisson draws from Poisson(lambda): inversion for small means, and
// Hörmann's transformed rejection (PTRS) for large ones.
func poisson(r *rand.Rand, lambda float64) int {
	switch {
	case lambda <= 0:
		return 0
	case lambda < 10:
		l, k, p := math.Exp(-lambda), 0, r.Float64()
		for cum := l; p > cum; cum += l {
			k++
			l *= lambda / float64(k)
			if l == 0 {
				break
			}
		}
		return k
	}
	slam, loglam := math.Sqrt(lambda), math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int(k)
		}
	}
}

// gamma draws from Gamma(shape, 1) (Marsaglia and Tsang).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// negBinomial draws a count of mean mu and shape k (variance mu +
// mu^2/k) as a gamma mixture of Poissons.
func negBinomial(r *rand.Rand, mu, k float64) int {
	if mu <= 0 {
		return 0
	}
	return poisson(r, mu*gamma(r, k)/k)
}

// logUniform draws from [lo, hi) uniformly on the log scale.
func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

// uniform draws from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }
