// Command monitor generates synthetic agent traffic and measures how well
// Warden's monitor (internal/monitor) finds the anomalies injected into
// it, printing Markdown tables beside the musts.
//
//	go run ./bench/monitor gen -seed 1 -agents 600 -hours 48 -out trace.jsonl -labels labels.jsonl
//	go run ./bench/monitor detect [-seed 1 -agents 600 -hours 48 | -trace trace.jsonl -labels labels.jsonl]
//
// gen writes a trace in the format 'warden monitor replay' reads and the
// injected anomalies as JSON Lines. detect runs the monitor over the same
// traffic (generated in memory unless -trace is given), and prints per
// anomaly type and size the detection rate and the median delay, the
// false alarms per 10,000 clean agent-buckets, and the memory the monitor
// takes for 10,000 agents. It exits 1 if a must is missed and 2 if the
// measurement fails.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/wardenhq/warden/internal/monitor"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = genMain(os.Args[2:])
	case "detect":
		var ok bool
		ok, err = detectMain(os.Args[2:])
		if err == nil && !ok {
			os.Exit(1)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "monitor:", err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: monitor gen|detect [flags]; -h for the flags")
	os.Exit(2)
}

func genFlags(fs *flag.FlagSet) *genConfig {
	c := &genConfig{}
	fs.Uint64Var(&c.seed, "seed", 1, "random seed")
	fs.IntVar(&c.agents, "agents", 600, "agents")
	fs.IntVar(&c.tenants, "tenants", 6, "tenants (agents are spread over them)")
	fs.IntVar(&c.hours, "hours", 48, "hours of traffic")
	fs.Float64Var(&c.anomalous, "anomalous", 0.4, "fraction of agents with injected anomalies")
	return c
}

func genMain(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	c := genFlags(fs)
	out := fs.String("out", "", "trace file to write (JSON Lines)")
	labels := fs.String("labels", "", "file to write the injected anomalies to (JSON Lines)")
	_ = fs.Parse(args)
	if *out == "" {
		return errors.New("-out is required")
	}
	g := newGenerator(*c)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var n int64
	for t := range g.minutes {
		for i := range g.minute(t) {
			b, err := monitor.MarshalObservation(&g.buf[i])
			if err != nil {
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
			n++
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d observations of %d agents over %d hours to %s\n", n, c.agents, c.hours, *out)
	if *labels != "" {
		if err := writeLabels(*labels, g); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %d anomalies to %s\n", len(g.labels), *labels)
	}
	return nil
}

func writeLabels(path string, g *generator) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, a := range g.labels {
		if err := enc.Encode(a.toLabel()); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func readLabels(path string) ([]label, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []label
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	for {
		var l label
		if err := dec.Decode(&l); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("labels %s: %w", path, err)
		}
		out = append(out, l)
	}
}

// configFlags binds the monitor's parameters, for tuning.
func configFlags(fs *flag.FlagSet) *monitor.Config {
	c := monitor.DefaultConfig()
	fs.Float64Var(&c.Alpha, "alpha", c.Alpha, "EWMA weight of a count's level")
	fs.Float64Var(&c.MemoryEvents, "memory-events", c.MemoryEvents, "least events a count's level rests on")
	fs.Float64Var(&c.RateAlpha, "rate-alpha", c.RateAlpha, "EWMA weight of a rate's or log-normal metric's level")
	fs.Float64Var(&c.DispersionAlpha, "dispersion-alpha", c.DispersionAlpha, "EWMA weight of the variance estimates")
	fs.Float64Var(&c.K, "k", c.K, "slow CUSUM reference value")
	fs.Float64Var(&c.H, "h", c.H, "slow CUSUM decision interval")
	fs.Float64Var(&c.FastK, "fast-k", c.FastK, "fast CUSUM reference value")
	fs.Float64Var(&c.FastH, "fast-h", c.FastH, "fast CUSUM decision interval")
	fs.Float64Var(&c.MaxZ, "max-z", c.MaxZ, "bound of one bucket's score")
	fs.Float64Var(&c.CountFactor, "count-factor", c.CountFactor, "factor of both intervals for the counts")
	fs.Float64Var(&c.DownFactor, "down", c.DownFactor, "factor of both intervals on the lower side")
	fs.Float64Var(&c.DenseEvents, "dense-events", c.DenseEvents, "events a bucket must expect for the slow CUSUM to use -dense-h")
	fs.Float64Var(&c.DenseH, "dense-h", c.DenseH, "slow CUSUM decision interval where a bucket holds -dense-events")
	fs.DurationVar(&c.Season, "season", c.Season, "cycle a count's level follows (0: none)")
	fs.Float64Var(&c.SeasonAlpha, "season-alpha", c.SeasonAlpha, "weight of a count's cycle fit")
	fs.Float64Var(&c.SeasonPrior, "season-prior", c.SeasonPrior, "buckets of no cycle a count's cycle fit starts from")
	fs.IntVar(&c.WarmUp, "warmup", c.WarmUp, "warm-up buckets")
	fs.IntVar(&c.Lag, "lag", c.Lag, "most buckets a baseline is held back")
	fs.IntVar(&c.CountLag, "count-lag", c.CountLag, "most buckets a count's baseline is held back")
	fs.IntVar(&c.MinRun, "min-run", c.MinRun, "buckets a detector must be above zero to alert")
	fs.Float64Var(&c.MinExcess, "min-excess", c.MinExcess, "events beyond the expectation an alert needs")
	return &c
}

func detectMain(args []string) (bool, error) {
	fs := flag.NewFlagSet("detect", flag.ExitOnError)
	gc := genFlags(fs)
	cfg := configFlags(fs)
	tracePath := fs.String("trace", "", "score this trace (with -labels) instead of generated traffic")
	labelsPath := fs.String("labels", "", "the trace's anomalies (JSON Lines, as gen writes them)")
	memAgents := fs.Int("memory-agents", 10_000, "agents of the memory measurement (0: skip)")
	split := fs.Bool("split", false, "also print the false alarms of clean agents below and from 10 decisions a minute (generated traffic)")
	_ = fs.Parse(args)

	var (
		next   func() (*monitor.Observation, error)
		labels []label
		source string
		rates  map[string]float64 // agent key -> mean decisions a minute (generated traffic)
	)
	if *tracePath != "" {
		f, err := os.Open(*tracePath)
		if err != nil {
			return false, err
		}
		defer f.Close()
		tr := monitor.NewTraceReader(f)
		next = func() (*monitor.Observation, error) {
			o, err := tr.Next()
			return &o, err
		}
		if *labelsPath != "" {
			if labels, err = readLabels(*labelsPath); err != nil {
				return false, err
			}
		}
		source = "trace " + *tracePath
	} else {
		g := newGenerator(*gc)
		rates = map[string]float64{}
		for _, p := range g.agents {
			rates[agentKey(p.tenant, p.name)] = p.rate
		}
		for _, a := range g.labels {
			labels = append(labels, a.toLabel())
		}
		t, i := 0, 0
		var cur []monitor.Observation
		next = func() (*monitor.Observation, error) {
			for i >= len(cur) {
				if t >= g.minutes {
					return nil, io.EOF
				}
				cur, i = g.minute(t), 0
				t++
			}
			i++
			return &cur[i-1], nil
		}
		source = fmt.Sprintf("generated: seed %d, %d agents (%d tenants), %d hours, %.0f%% with anomalies",
			gc.seed, gc.agents, gc.tenants, gc.hours, gc.anomalous*100)
	}
	fmt.Fprintf(os.Stderr, "monitor: running over %s\n", source)
	r, err := feed(*cfg, next)
	if err != nil {
		return false, err
	}
	s := evaluate(r, labels, *cfg)
	fmt.Printf("Traffic: %s; %d observations, %d agents (%d with anomalies), %d anomalies; replayed in %.1f s (%.0f observations/s).\n\n",
		source, r.obs, len(r.first), s.anomalyAgents, len(labels), r.elapsed.Seconds(), float64(r.obs)/r.elapsed.Seconds())
	fmt.Printf("Monitor: alpha %g, memory events %g, rate alpha %g, dispersion alpha %g, k %g, h %g, fast k %g, fast h %g, max z %g, down factor %g, count factor %g, dense events %g, dense h %g, season %s, season alpha %.3g, season prior %g, warm-up %d, lag %d, count lag %d, min run %d, min excess %g.\n\n",
		cfg.Alpha, cfg.MemoryEvents, cfg.RateAlpha, cfg.DispersionAlpha, cfg.K, cfg.H, cfg.FastK, cfg.FastH, cfg.MaxZ, cfg.DownFactor, cfg.CountFactor,
		cfg.DenseEvents, cfg.DenseH, cfg.Season, cfg.SeasonAlpha, cfg.SeasonPrior, cfg.WarmUp, cfg.Lag, cfg.CountLag, cfg.MinRun, cfg.MinExcess)
	ok := s.print(os.Stdout)
	if *split && rates != nil {
		printDensitySplit(os.Stdout, r, labels, rates, *cfg)
	}
	if *memAgents > 0 {
		mem, err := measureMemory(*cfg, *memAgents, gc.seed)
		if err != nil {
			return false, err
		}
		if !mem.print(os.Stdout) {
			ok = false
		}
	}
	return ok, nil
}

// memoryMust is the bound for 10,000 agents.
const memoryMust = 200 << 20

type memory struct {
	agents   int
	heap     uint64
	snapshot int
	minutes  int
}

// measureMemory runs agents agents for two hours (past every warm-up and
// the held-back buckets) and measures the monitor's live heap.
func measureMemory(c monitor.Config, agents int, seed uint64) (*memory, error) {
	const minutes = 120
	g := newGenerator(genConfig{seed: seed + 1, agents: agents, tenants: 20, hours: minutes / 60})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := monitor.New(c)
	if err != nil {
		return nil, err
	}
	// Every agent is followed, the sparsest included.
	for _, p := range g.agents {
		o := monitor.Observation{Time: genStart, Tenant: p.tenant, Agent: p.name, Action: p.tools[0], Decision: monitor.Allow}
		if _, err := m.Observe(&o); err != nil {
			return nil, err
		}
	}
	for t := range minutes {
		obs := g.minute(t)
		for i := range obs {
			if _, err := m.Observe(&obs[i]); err != nil {
				return nil, err
			}
		}
	}
	m.Advance(genStart.Add(minutes * time.Minute))
	g.buf = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	snap, err := m.Snapshot()
	if err != nil {
		return nil, err
	}
	if got := m.Stats().Agents; got != agents {
		return nil, fmt.Errorf("memory: the monitor follows %d agents, want %d", got, agents)
	}
	return &memory{agents: agents, heap: after.HeapAlloc - before.HeapAlloc, snapshot: len(snap), minutes: minutes}, nil
}

func (mem *memory) print(w io.Writer) bool {
	mb := func(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	status, ok := "—", true
	limit := uint64(memoryMust) * uint64(mem.agents) / 10_000
	if mem.heap <= limit {
		status = "must met"
	} else {
		status, ok = "MUST MISSED", false
	}
	fmt.Fprintf(w, "\n| memory | agents | live heap | per agent | snapshot | must | status |\n")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---|")
	fmt.Fprintf(w, "| after %d minutes of traffic | %d | %s | %.1f KB | %s | < %s | %s |\n", mem.minutes, mem.agents,
		mb(mem.heap), float64(mem.heap)/float64(mem.agents)/1024, mb(uint64(mem.snapshot)), mb(limit), status)
	return ok
}
