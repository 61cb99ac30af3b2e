// Command benchtable measures the ledger's figures against the goals of
// its issue and prints them as a Markdown table, with the machine they
// were measured on:
//
//   - durable appends/s and latency with 1, 16 and 64 concurrent writers,
//     each writer looping Append for a fixed time;
//   - full verification (ledger.VerifyStore) of a log of -verify-entries
//     entries from the stored bytes of a read-only store;
//   - inclusion proof generation (ledger.InclusionProof) and verification
//     (tlog.CheckRecord) for random entries of that log.
//
// Everything runs against the real SQLite store (WAL, synchronous=FULL) in
// a temporary directory that is removed at the end. It exits 1 if a must
// is missed and 2 if the measurement itself fails.
//
//	go run ./bench/cmd/benchtable [-verify-entries 1000000] [-duration 5s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/bench"
	"github.com/wardenhq/warden/internal/ledger"
)

// options are the runner's flags.
type options struct {
	verifyEntries int64
	duration      time.Duration
	proofs        int
	dir           string
	cpuProfile    string
	// loadBefore is the 1-minute load average when the run started:
	// figures measured while other work shared the CPUs read low.
	loadBefore string
}

func main() {
	var o options
	flag.Int64Var(&o.verifyEntries, "verify-entries", 1_000_000, "entries in the log that is verified and proved")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long each append measurement runs")
	flag.IntVar(&o.proofs, "proofs", 10_000, "inclusion proofs generated and verified")
	flag.StringVar(&o.dir, "dir", "", "parent of the temporary database directory (default: the system's)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of each measured phase to `PREFIX`.<phase>.pprof")
	flag.Parse()
	o.loadBefore = bench.LoadAverage()
	if o.verifyEntries <= 0 || o.duration <= 0 || o.proofs <= 0 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	// An interrupt ends the run through ctx, so that the temporary
	// database is still removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	rows, err := run(ctx, o, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: %v\n", err)
		os.Exit(2)
	}
	fmt.Print(render(rows, o))
	for _, r := range rows {
		if r.mustMissed() {
			os.Exit(1)
		}
	}
}

// row is one figure of the table. A zero must or goal means the issue
// sets none for that figure.
type row struct {
	figure   string
	measured float64
	unit     string
	must     float64
	goal     float64
	lower    bool // lower is better (times); else higher is better (rates)
}

func (r row) meets(limit float64) bool {
	if r.lower {
		return r.measured < limit
	}
	return r.measured >= limit
}

func (r row) mustMissed() bool { return r.must != 0 && !r.meets(r.must) }

func (r row) status() string {
	switch {
	case r.must == 0 && r.goal == 0:
		return "—"
	case r.mustMissed():
		return "**MUST MISSED**"
	case r.goal != 0 && r.meets(r.goal):
		return "must met, goal met"
	case r.goal != 0:
		return "must met, goal missed"
	default:
		return "must met"
	}
}

// measuredText formats the figure, with more digits where the usual ones
// would read the same as a threshold it is compared with.
func (r row) measuredText() string {
	m := format(r.measured, r.unit)
	if r.unit == "ms" && (r.must != 0 && m == format(r.must, r.unit) || r.goal != 0 && m == format(r.goal, r.unit)) {
		return fmt.Sprintf("%.4f ms", r.measured)
	}
	return m
}

func (r row) limit(v float64) string {
	if v == 0 {
		return "—"
	}
	if r.lower {
		return "< " + format(v, r.unit)
	}
	return "≥ " + format(v, r.unit)
}

func format(v float64, unit string) string {
	switch unit {
	case "/s":
		return fmt.Sprintf("%s/s", thousands(int64(v+0.5)))
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	case "µs":
		return fmt.Sprintf("%.1f µs", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func µs(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Thresholds of the issue. Never lower one to make a run pass.
const (
	mustAppends64 = 10_000
	goalAppends64 = 20_000
	mustP99ms64   = 20
	goalP99ms64   = 10
	mustVerify1M  = 10 // seconds, for 1,000,000 entries
	goalVerify1M  = 5
	thresholdSize = 1_000_000
)

func run(ctx context.Context, o options, log io.Writer) ([]row, error) {
	dir, err := os.MkdirTemp(o.dir, "warden-benchtable-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(log, "benchtable: working in %s\n", dir)

	var rows []row
	for _, writers := range []int{1, 16, 64} {
		st, err := measureAppends(ctx, filepath.Join(dir, fmt.Sprintf("append-%d", writers)), writers, o, log)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%d writer", writers)
		if writers > 1 {
			name += "s"
		}
		r := []row{
			{figure: "appends/s, " + name, measured: st.PerSecond(), unit: "/s", lower: false},
			{figure: "append p50, " + name, measured: ms(st.Quantile(0.50)), unit: "ms", lower: true},
			{figure: "append p99, " + name, measured: ms(st.Quantile(0.99)), unit: "ms", lower: true},
			{figure: "append max, " + name, measured: ms(st.Max()), unit: "ms", lower: true},
			{figure: "CPU per append, " + name, measured: µs(st.CPUPerAppend()), unit: "µs", lower: true},
		}
		if writers == 64 {
			r[0].must, r[0].goal = mustAppends64, goalAppends64
			r[2].must, r[2].goal = mustP99ms64, goalP99ms64
		}
		rows = append(rows, r...)
	}

	logDir := filepath.Join(dir, "verify")
	if err := os.Mkdir(logDir, 0o700); err != nil {
		return nil, err
	}
	key, err := build(ctx, logDir, o.verifyEntries, log)
	if err != nil {
		return nil, err
	}
	db, err := bench.OpenReadOnly(ctx, logDir)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	stop, err := profile(o, "verify")
	if err != nil {
		return nil, err
	}
	cpu0 := bench.ProcessCPU()
	start := time.Now()
	lastShown := start
	rep, err := bench.Verify(ctx, db, key, func(done, total int64) {
		if time.Since(lastShown) >= time.Second {
			lastShown = time.Now()
			fmt.Fprintf(log, "verify: %d/%d entries (%.0f/s)\n", done, total, float64(done)/time.Since(start).Seconds())
		}
	})
	took := time.Since(start)
	cpu := bench.ProcessCPU() - cpu0
	stop()
	if err != nil {
		return nil, err
	}
	if rep.Entries != o.verifyEntries {
		return nil, fmt.Errorf("verified %d entries, built %d", rep.Entries, o.verifyEntries)
	}
	fmt.Fprintf(log, "verify: %d entries OK in %v (%d checkpoints)\n", rep.Entries, took.Round(time.Millisecond), rep.Checkpoints)
	vr := row{figure: fmt.Sprintf("full verification, %s entries", thousands(o.verifyEntries)),
		measured: took.Seconds(), unit: "s", lower: true}
	if o.verifyEntries == thresholdSize {
		vr.must, vr.goal = mustVerify1M, goalVerify1M
	}
	rows = append(rows, vr,
		row{figure: "verification rate", measured: float64(rep.Entries) / took.Seconds(), unit: "/s"},
		row{figure: "verification CPU per entry", measured: µs(cpu / time.Duration(rep.Entries)), unit: "µs", lower: true})

	ps, err := measureProofs(ctx, db, key, o)
	if err != nil {
		return nil, err
	}
	in := fmt.Sprintf(" (tree of %s, %d hashes)", thousands(ps.Size), ps.ProofLen)
	rows = append(rows,
		row{figure: "inclusion proof generation, per proof" + in, measured: µs(ps.GeneratePer()), unit: "µs", lower: true},
		row{figure: "inclusion proof verification, per proof", measured: µs(ps.CheckPer()), unit: "µs", lower: true})
	return rows, nil
}

// measureAppends runs writers for o.duration against a fresh log in dir
// with the ledger's default configuration, after an untimed warm-up.
func measureAppends(ctx context.Context, dir string, writers int, o options, log io.Writer) (*bench.AppendStats, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	lg, err := bench.Open(ctx, dir, ledger.Config{})
	if err != nil {
		return nil, err
	}
	warm, err := bench.Appends(ctx, lg.Ledger, 0, bench.AppendRun{Writers: writers, Duration: min(o.duration/5, time.Second)})
	if err != nil {
		lg.Close(ctx)
		return nil, err
	}
	stop, err := profile(o, fmt.Sprintf("append-%d", writers))
	if err != nil {
		lg.Close(ctx)
		return nil, err
	}
	st, err := bench.Appends(ctx, lg.Ledger, warm.Appends, bench.AppendRun{Writers: writers, Duration: o.duration})
	stop()
	if cerr := lg.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("appends with %d writers: %w", writers, err)
	}
	fmt.Fprintf(log, "append: %d writers: %d appends in %v\n", writers, st.Appends, st.Elapsed.Round(time.Millisecond))
	return st, nil
}

func build(ctx context.Context, dir string, n int64, log io.Writer) (note.Verifier, error) {
	start := time.Now()
	v, err := bench.Build(ctx, dir, n, func(done int64) {
		rate := float64(done) / time.Since(start).Seconds()
		eta := time.Duration(float64(n-done) / max(rate, 1) * float64(time.Second))
		fmt.Fprintf(log, "build: %d/%d entries (%.0f/s, %v left)\n", done, n, rate, eta.Round(time.Second))
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "build: %d entries in %v\n", n, time.Since(start).Round(time.Millisecond))
	return v, nil
}

// measureProofs proves o.proofs random entries in the latest signed tree
// and checks each proof against the signed root.
func measureProofs(ctx context.Context, db ledger.Store, key note.Verifier, o options) (*bench.ProofStats, error) {
	cp, err := bench.Signed(ctx, db, key)
	if err != nil {
		return nil, err
	}
	seqs, leaves, err := bench.Leaves(ctx, db, cp.Size, o.proofs, 1)
	if err != nil {
		return nil, err
	}
	stop, err := profile(o, "proofs")
	if err != nil {
		return nil, err
	}
	defer stop()
	return bench.Proofs(ctx, db, cp, seqs, leaves)
}

// profile starts a CPU profile of one phase if -cpuprofile is set and
// returns the function that ends it.
func profile(o options, phase string) (func(), error) {
	if o.cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(o.cpuProfile + "." + phase + ".pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func render(rows []row, o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| figure | measured | must | goal | status |\n|---|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.figure, r.measuredText(), r.limit(r.must), r.limit(r.goal), r.status())
	}
	fmt.Fprintf(&b, "\nMachine: %s. Each append figure is %v of writers looping Append after a warm-up; default ledger config (MaxBatch %d, queue %d).\n",
		bench.Machine(o.dir, o.loadBefore), o.duration, ledger.DefaultMaxBatch, ledger.DefaultQueueSize)
	return b.String()
}
