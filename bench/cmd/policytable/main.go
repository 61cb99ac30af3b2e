// Command policytable measures the policy engine against the goals of its
// issue and prints them as a Markdown table, with the machine they were
// measured on: for each policy size (10 to 10,000 rules, shaped as in
// bench.NewPolicyWorkload) the p50, p99 and max latency of policy.Evaluate
// on one goroutine, and decisions per second on one and on GOMAXPROCS
// goroutines. It exits 1 if a must is missed and 2 if the measurement
// itself fails.
//
//	go run ./bench/cmd/policytable [-evals 200000] [-warmup 20000] [-cpuprofile /tmp/pol.pprof]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/wardenhq/warden/bench"
)

// thresholds are the p99 limits for a policy size; zero means the
// issue names none.
type thresholds struct{ must, goal time.Duration }

var limits = map[int]thresholds{
	100:   {30 * time.Microsecond, 20 * time.Microsecond},
	10000: {100 * time.Microsecond, 50 * time.Microsecond},
}

// result is one row of the table.
type result struct {
	rules          int
	p50, p99, max  time.Duration
	single, shared float64 // decisions/s on 1 and on GOMAXPROCS goroutines
}

func main() {
	evals := flag.Int("evals", 200_000, "timed evaluations per policy size")
	warmup := flag.Int("warmup", 20_000, "untimed evaluations before each measurement")
	seed := flag.Uint64("seed", 1, "seed of the generated policies and requests")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measurements to `FILE`")
	flag.Parse()
	if *evals <= 0 || *warmup < 0 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	load := loadAverage()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "policytable: %v\n", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "policytable: %v\n", err)
			os.Exit(2)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	results, err := run(*evals, *warmup, *seed, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "policytable: %v\n", err)
		os.Exit(2)
	}
	fmt.Print(render(results, *evals, load))
	for _, r := range results {
		if l, ok := limits[r.rules]; ok && r.p99 >= l.must {
			pprof.StopCPUProfile()
			os.Exit(1)
		}
	}
}

func run(evals, warmup int, seed uint64, progress io.Writer) ([]result, error) {
	var out []result
	for _, rules := range bench.PolicySizes {
		w, err := bench.NewPolicyWorkload(rules, seed)
		if err != nil {
			return nil, err
		}
		if err := w.Check(); err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "rules=%d: warm-up %d, timing %d evaluations\n", rules, warmup, evals)
		w.Time(warmup)
		runtime.GC()
		st := w.Time(evals)
		r := result{rules: rules, p50: st.Quantile(0.50), p99: st.Quantile(0.99),
			max: st.Latencies[len(st.Latencies)-1], single: st.PerSecond()}
		runtime.GC()
		r.shared = w.Throughput(runtime.GOMAXPROCS(0), evals)
		out = append(out, r)
	}
	return out, nil
}

func render(results []result, evals int, load string) string {
	var b strings.Builder
	procs := runtime.GOMAXPROCS(0)
	fmt.Fprintf(&b, "| rules | p50 | p99 | max | decisions/s, 1 goroutine | decisions/s, %d goroutines | must (p99) | goal (p99) | status |\n", procs)
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range results {
		must, goal, status := "—", "—", "—"
		if l, ok := limits[r.rules]; ok {
			must, goal = "< "+micros(l.must), "< "+micros(l.goal)
			switch {
			case r.p99 >= l.must:
				status = "must missed"
			case r.p99 >= l.goal:
				status = "must met, goal missed"
			default:
				status = "goal met"
			}
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.rules, micros(r.p50), micros(r.p99), micros(r.max),
			thousands(r.single), thousands(r.shared), must, goal, status)
	}
	fmt.Fprintf(&b, "\nMachine: %s. Latencies of %d evaluations per size on one goroutine after a warm-up, each timed on its own; decisions/s over the same number of evaluations.\n",
		machine(load), evals)
	return b.String()
}

func micros(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// thousands prints a rate with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%d", int64(v+0.5))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "/s"
}

// machine describes where the figures were measured.
func machine(load string) string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (nproc), GOMAXPROCS %d, %s, %s %s/%s, 1-minute load average before the run %s",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), model, runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}

// loadAverage returns the 1-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
