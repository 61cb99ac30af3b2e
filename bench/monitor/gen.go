package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/wardenhq/warden/internal/monitor"
)

// The generator makes agents whose traffic is what production traffic
// is like in the ways that matter to a detector: volumes spread over four
// orders of magnitude, a daily cycle, counts more variable than Poisson
// (a gamma-mixed Poisson, i.e. negative binomial, per bucket), rates that
// themselves vary between buckets, lognormal spend and latency with a
// bucket-level random effect, a skewed mix of tools, rare findings. Every
// agent draws from its own random stream, so a run is fixed by the seed.

// genStart is the trace's first minute.
var genStart = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)

// vocabulary is the tools agents draw from.
var vocabulary = func() []string {
	var out []string
	for _, d := range []string{"fs", "http", "db", "email", "payments", "search", "calendar", "crm", "git", "shell",
		"slack", "docs", "billing", "storage", "vault"} {
		for _, op := range []string{"read", "write", "list", "send", "query", "delete", "update", "create", "fetch", "exec"} {
			out = append(out, d+"."+op, d+"."+op+"_batch")
		}
	}
	return out
}()

// pipelines is the fraction of agents that are batch pipelines.
const pipelines = 0.03

// categories are the finding category of each family, in the order of
// the monitor's families.
var categories = []string{"secret.github-pat", "pii.email", "injection", "jailbreak", "unsafe_input", "exfiltration", "tool_poisoning"}

type profile struct {
	idx          int
	tenant, name string
	rng          *rand.Rand

	rate, amp, phase, shape float64
	tools                   []string
	cum                     []float64
	pDeny, pApprove, pLimit float64
	pShape                  float64 // gamma shape of a rate's variation between buckets
	pOutcome, pFail         float64
	latMu, latSigma, latTau float64
	spendFrac               float64
	spendMu, spendSigma     float64
	spendTau                float64
	find                    []float64 // findings per decision, by family

	anomalies []*anomaly
}

func logit(r *rand.Rand, mean, sd float64) float64 {
	return 1 / (1 + math.Exp(-(mean + sd*r.NormFloat64())))
}

// sometimes is 0 with probability zero, else a log-uniform draw.
func sometimes(r *rand.Rand, zero, lo, hi float64) float64 {
	if r.Float64() < zero {
		return 0
	}
	return logUniform(r, lo, hi)
}

func newProfile(seed uint64, idx, tenants int, tenantPhase []float64) *profile {
	r := rand.New(rand.NewPCG(seed, uint64(idx)+1))
	p := &profile{idx: idx, rng: r, tenant: fmt.Sprintf("tenant-%d", idx%tenants), name: fmt.Sprintf("agent-%05d", idx)}
	// Most agents are interactive (median 2 decisions a minute, some far
	// fewer); a few are pipelines.
	p.rate = min(200, max(0.02, 2*math.Exp(1.2*r.NormFloat64())))
	if r.Float64() < pipelines {
		p.rate = logUniform(r, 30, 300)
	}
	p.amp = uniform(r, 0.2, 0.9)
	p.phase = tenantPhase[idx%tenants] + 0.3*r.NormFloat64()
	p.shape = logUniform(r, 3, 50)
	k := min(40, 2+poisson(r, 6))
	perm := r.Perm(len(vocabulary))
	total := 0.0
	for i := range k {
		p.tools = append(p.tools, vocabulary[perm[i]])
		total += 1 / math.Pow(float64(i+1), 1.1)
		p.cum = append(p.cum, total)
	}
	for i := range p.cum {
		p.cum[i] /= total
	}
	p.pDeny = logit(r, -3.5, 1)
	if r.Float64() < 0.5 {
		p.pApprove = logit(r, -4, 1)
	}
	if r.Float64() < 0.3 {
		p.pLimit = logit(r, -5, 1)
	}
	p.pShape = logUniform(r, 5, 100)
	p.pOutcome = uniform(r, 0.5, 1)
	p.pFail = logit(r, -3.5, 0.8)
	p.latMu = math.Log(300) + r.NormFloat64()
	p.latSigma = uniform(r, 0.3, 1.0)
	p.latTau = uniform(r, 0, 0.2)
	p.spendFrac = uniform(r, 0.2, 1)
	p.spendMu = math.Log(0.002) + 1.5*r.NormFloat64()
	p.spendSigma = uniform(r, 0.4, 1.2)
	p.spendTau = uniform(r, 0, 0.2)
	p.find = []float64{
		sometimes(r, 0.8, 0.0005, 0.005), sometimes(r, 0.5, 0.002, 0.05), sometimes(r, 0.7, 0.0005, 0.01),
		sometimes(r, 0.9, 0.0005, 0.003), sometimes(r, 0.85, 0.001, 0.01), sometimes(r, 0.95, 0.0005, 0.002),
		sometimes(r, 0.97, 0.0002, 0.001),
	}
	return p
}

// mean is the expected decisions in minute t.
func (p *profile) mean(t int) float64 {
	return p.rate * (1 + p.amp*math.Sin(2*math.Pi*float64(t)/1440+p.phase))
}

// pAllow is the probability that a decision is an allow.
func (p *profile) pAllow() float64 { return 1 - p.pDeny - p.pApprove - p.pLimit }

// sds are the standard deviations of the metrics the anomalies shift, in
// minute t: of the denies and failures counts given the expected
// exposure (binomial with the between-bucket variation), and of the
// bucket's mean log spend and log latency.
func (p *profile) sdDecisions(t int) float64 {
	mu := p.mean(t)
	return math.Sqrt(mu + mu*mu/p.shape)
}

func rateSD(n, q, shape float64) float64 { return math.Sqrt(n*q*(1-q) + n*n*q*q/shape) }

func (p *profile) outcomes(t int) float64 { return p.mean(t) * p.pAllow() * p.pOutcome }
func (p *profile) spends(t int) float64   { return p.mean(t) * p.pAllow() * p.spendFrac }

func (p *profile) tool(u float64) string {
	return p.tools[min(len(p.tools)-1, sort.SearchFloat64s(p.cum, u))]
}

// minute appends agent p's observations of minute t.
func (p *profile) minute(t int, out []monitor.Observation) []monitor.Observation {
	r := p.rng
	var an *anomaly
	for _, a := range p.anomalies {
		if t >= a.start && t < a.end {
			an = a
		}
	}
	mu := p.mean(t)
	n := negBinomial(r, mu, p.shape)
	pDeny := min(0.99, p.pDeny*gamma(r, p.pShape)/p.pShape)
	pApprove := min(0.5, p.pApprove*gamma(r, p.pShape)/p.pShape)
	pLimit := min(0.5, p.pLimit*gamma(r, p.pShape)/p.pShape)
	pFail := min(0.99, p.pFail*gamma(r, p.pShape)/p.pShape)
	spendLoc := p.spendMu + p.spendTau*r.NormFloat64()
	latLoc := p.latMu + p.latTau*r.NormFloat64()
	extraTools, secrets := 0, 0
	if an != nil {
		s := an.sigmas(t)
		switch an.effect {
		case "rate_spike":
			n += poisson(r, s*p.sdDecisions(t))
		case "deny_jump":
			pDeny = min(0.95, pDeny+s*rateSD(mu, p.pDeny, p.pShape)/mu)
		case "failure_burst":
			pFail = min(0.95, pFail+s*rateSD(p.outcomes(t), p.pFail, p.pShape)/p.outcomes(t))
		case "spend_surge":
			spendLoc += s * math.Sqrt(p.spendSigma*p.spendSigma/max(1, p.spends(t))+p.spendTau*p.spendTau)
		case "latency_shift":
			latLoc += s * math.Sqrt(p.latSigma*p.latSigma/max(1, p.outcomes(t))+p.latTau*p.latTau)
		case "fanout":
			extraTools = poisson(r, an.size)
		case "secrets":
			secrets = poisson(r, an.size)
		}
	}
	if secrets > 0 && n == 0 {
		n = 1
	}
	first := len(out)
	base := genStart.Add(time.Duration(t) * time.Minute)
	for i := range n + extraTools {
		o := monitor.Observation{Time: base.Add(time.Duration(r.Int64N(int64(time.Minute)))), Tenant: p.tenant, Agent: p.name}
		if i < n {
			o.Action = p.tool(r.Float64())
		} else {
			o.Action = an.tools[r.IntN(len(an.tools))]
		}
		switch u := r.Float64(); {
		case u < pDeny:
			o.Decision = monitor.Deny
		case u < pDeny+pApprove:
			o.Decision = monitor.RequireApproval
		case u < pDeny+pApprove+pLimit:
			o.Decision = monitor.RateLimited
		default:
			o.Decision = monitor.Allow
		}
		for f, rate := range p.find {
			if rate > 0 {
				for range poisson(r, rate) {
					o.Findings = append(o.Findings, categories[f])
				}
			}
		}
		if o.Decision == monitor.Allow {
			if r.Float64() < p.spendFrac {
				o.Spend = math.Exp(spendLoc + p.spendSigma*r.NormFloat64())
			}
			if r.Float64() < p.pOutcome {
				o.Outcome = monitor.Succeeded
				if r.Float64() < pFail {
					o.Outcome = monitor.Failed
				}
				o.LatencyMS, o.HasLatency = math.Round(math.Exp(latLoc+p.latSigma*r.NormFloat64())*10)/10, true
			}
		}
		out = append(out, o)
	}
	for range secrets {
		o := &out[first+r.IntN(n)]
		o.Findings = append(o.Findings, categories[0])
	}
	return out
}

// generator makes the trace minute by minute.
type generator struct {
	agents  []*profile
	minutes int
	labels  []*anomaly
	buf     []monitor.Observation
}

type genConfig struct {
	seed      uint64
	agents    int
	tenants   int
	hours     int
	anomalous float64 // fraction of agents with anomalies
}

func newGenerator(c genConfig) *generator {
	r := rand.New(rand.NewPCG(c.seed, 0))
	phases := make([]float64, c.tenants)
	for i := range phases {
		phases[i] = uniform(r, 0, 2*math.Pi)
	}
	g := &generator{minutes: c.hours * 60}
	for i := range c.agents {
		g.agents = append(g.agents, newProfile(c.seed, i, c.tenants, phases))
	}
	g.schedule(r, c.anomalous)
	return g
}

// minute returns every observation of minute t, in time order. The
// slice is reused by the next call.
func (g *generator) minute(t int) []monitor.Observation {
	g.buf = g.buf[:0]
	for _, p := range g.agents {
		g.buf = p.minute(t, g.buf)
	}
	slices.SortStableFunc(g.buf, func(a, b monitor.Observation) int { return a.Time.Compare(b.Time) })
	return g.buf
}
