// Command replaytable measures policy replay and shadow evaluation
// against the goals of their issue (issue 7) and prints them as a
// Markdown table, with the machine they were measured on: the replay of
// 1,000,000 recorded decisions (canonical JSON bodies in memory, decoded
// strictly with event.Decode as the server reads them) against a
// candidate of 100 rules, on one and on GOMAXPROCS goroutines, and the
// time a shadow evaluation adds to one live decision, each timed on its
// own. It exits 1 if a must is missed and 2 if the measurement itself
// fails.
//
//	go run ./bench/cmd/replaytable [-decisions 1000000] [-shadow 100000] [-cpuprofile /tmp/replay.pprof]
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

// The thresholds.
const (
	replayMust, replayGoal = 30 * time.Second, 10 * time.Second
	shadowMust, shadowGoal = 30 * time.Microsecond, 10 * time.Microsecond
)

type results struct {
	w         *bench.ReplayWorkload
	build     time.Duration
	runs      []*bench.ReplayRun
	procs     []int
	decode    [2]time.Duration // wall and CPU of decoding alone
	shadow    *bench.ShadowStats
	shadowN   int
	decisions int
}

func main() {
	decisions := flag.Int("decisions", bench.ReplayDecisions, "recorded decisions to replay")
	rules := flag.Int("rules", bench.ReplayRules, "rules of the active and the candidate policy")
	shadow := flag.Int("shadow", 100_000, "timed shadow evaluations")
	warmup := flag.Int("warmup", 10_000, "untimed shadow evaluations before the timed ones")
	seed := flag.Uint64("seed", 1, "seed of the generated policies and decisions")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measurements (not of building the workload) to `FILE`")
	flag.Parse()
	if *decisions <= 0 || *rules < 10 || *shadow <= 0 || *warmup < 0 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	load := bench.LoadAverage()
	res, err := run(*decisions, *rules, *shadow, *warmup, *seed, *cpuProfile, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "replaytable: %v\n", err)
		os.Exit(2)
	}
	table, missed := render(res, *rules, load)
	fmt.Print(table)
	if missed {
		os.Exit(1)
	}
}

func run(decisions, rules, shadowN, warmup int, seed uint64, cpuProfile string, progress io.Writer) (*results, error) {
	fmt.Fprintf(progress, "recording %d decisions of a %d-rule policy (not timed)\n", decisions, rules)
	start := time.Now()
	w, err := bench.NewReplayWorkload(rules, decisions, seed)
	if err != nil {
		return nil, err
	}
	res := &results{w: w, build: time.Since(start), shadowN: shadowN, decisions: decisions}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	for _, g := range []int{1, runtime.GOMAXPROCS(0)} {
		runtime.GC()
		fmt.Fprintf(progress, "replaying on %d goroutine(s)\n", g)
		r, err := w.Replay(g)
		if err != nil {
			return nil, err
		}
		res.runs, res.procs = append(res.runs, r), append(res.procs, g)
	}
	runtime.GC()
	fmt.Fprintf(progress, "decoding alone on 1 goroutine\n")
	if res.decode[0], res.decode[1], err = w.DecodeOnly(); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "shadow: warm-up %d, timing %d decisions\n", warmup, shadowN)
	w.TimeShadow(warmup)
	runtime.GC()
	res.shadow = w.TimeShadow(shadowN)
	return res, nil
}

func status(v, must, goal time.Duration) (string, bool) {
	switch {
	case v >= must:
		return "must missed", true
	case v >= goal:
		return "must met, goal missed", false
	}
	return "goal met", false
}

func render(res *results, rules int, load string) (string, bool) {
	var b strings.Builder
	missed := false
	b.WriteString("| measure | must | goal | measured | status |\n|---|---:|---:|---|---|\n")
	// The thresholds are for 1,000,000 decisions and 100 rules.
	judged := res.decisions == bench.ReplayDecisions && rules == bench.ReplayRules
	for i, r := range res.runs {
		must, goal, st := "—", "—", "—"
		if judged {
			var miss bool
			must, goal = fmt.Sprintf("< %.0f s", replayMust.Seconds()), fmt.Sprintf("< %.0f s", replayGoal.Seconds())
			st, miss = status(r.Elapsed, replayMust, replayGoal)
			missed = missed || miss
		}
		fmt.Fprintf(&b, "| replay of %s recorded decisions, candidate of %d rules, %d goroutine(s) | %s | %s | %.2f s (%s decisions/s; %.1f µs CPU per decision) | %s |\n",
			thousands(res.decisions), rules, res.procs[i], must, goal, r.Elapsed.Seconds(), thousands(int(r.PerSecond()+0.5)),
			float64(r.CPU)/float64(time.Microsecond)/float64(r.Report.Decisions), st)
	}
	fmt.Fprintf(&b, "| of which decoding the bodies (event.Decode alone, 1 goroutine) | — | — | %.2f s (%.1f µs CPU per decision) | — |\n",
		res.decode[0].Seconds(), float64(res.decode[1])/float64(time.Microsecond)/float64(len(res.w.Bodies)))
	sh := res.shadow.Shadow
	p99 := sh.Quantile(0.99)
	must, goal, st := "—", "—", "—"
	if rules == bench.ReplayRules {
		var miss bool
		must, goal = "< "+micros(shadowMust), "< "+micros(shadowGoal)
		st, miss = status(p99, shadowMust, shadowGoal)
		missed = missed || miss
	}
	fmt.Fprintf(&b, "| shadow overhead per decision, %d rules, p99 of %s | %s | %s | p99 %s (p50 %s, p99.9 %s, max %s) | %s |\n",
		rules, thousands(res.shadowN), must, goal, micros(p99), micros(sh.Quantile(0.5)),
		micros(sh.Quantile(0.999)), micros(sh.Latencies[len(sh.Latencies)-1]), st)

	rep := res.runs[0].Report
	fmt.Fprintf(&b, "\nWorkload: %s decision bodies of %d bytes on average (canonical JSON, in memory; recorded in %.1f s, not timed); "+
		"%s compared, %s changed (%.1f%%, %s of them with redacted args), %s skipped %v, %d errors, %d invalid. "+
		"Active evaluation alone on the same inputs: p50 %s, p99 %s; the shadow differed on %d of %d.\n",
		thousands(len(res.w.Bodies)), res.w.MeanBodySize(), res.build.Seconds(), thousands(rep.Compared), thousands(rep.Changed),
		100*float64(rep.Changed)/float64(max(1, rep.Compared)), thousands(rep.ChangedRedacted), thousands(rep.Skipped), rep.SkippedBy,
		rep.Errors, rep.Invalid, micros(res.shadow.Active.Quantile(0.5)), micros(res.shadow.Active.Quantile(0.99)), res.shadow.Differs, res.shadowN)
	fmt.Fprintf(&b, "\nMachine: %s.\n", machine(load))
	return b.String(), missed
}

func micros(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// thousands prints n with thousands separators.
func thousands(n int) string {
	s := fmt.Sprintf("%d", n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
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
	return fmt.Sprintf("%d CPUs (nproc), GOMAXPROCS %d, %s, %s %s/%s, 1-minute load average before the run %s (after it %s)",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), model, runtime.Version(), runtime.GOOS, runtime.GOARCH, load, bench.LoadAverage())
}
