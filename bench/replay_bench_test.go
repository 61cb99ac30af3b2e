package bench

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

var replayWorkload = sync.OnceValues(func() (*ReplayWorkload, error) {
	return NewReplayWorkload(ReplayRules, ReplayDecisions, 1)
})

// BenchmarkReplay replays 1,000,000 recorded decision bodies (canonical
// JSON in memory) against a candidate of 100 rules: each op is the whole
// replay, decoding included, on one and on GOMAXPROCS goroutines. Run it
// with -benchtime 1x; building the workload (not timed) takes a while.
func BenchmarkReplay(b *testing.B) {
	w, err := replayWorkload()
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			var run *ReplayRun
			for b.Loop() {
				if run, err = w.Replay(g); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(run.Elapsed.Seconds(), "s/replay")
			b.ReportMetric(run.PerSecond(), "decisions/s")
			b.ReportMetric(float64(run.Report.Changed), "changed")
		})
	}
}

// BenchmarkShadow measures what a candidate of 100 rules adds to a live
// decision: each op evaluates the active policy and then Shadow; the
// Shadow calls are timed one by one for the p50 and p99 of the extra time.
func BenchmarkShadow(b *testing.B) {
	w, err := NewReplayWorkload(ReplayRules, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	w.TimeShadow(10_000)
	act, sh := make([]time.Duration, 0, 1<<16), make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		in := w.Inputs[i%len(w.Inputs)]
		t0 := time.Now()
		d := w.Active.Evaluate(in)
		t1 := time.Now()
		w.Candidate.Shadow(in, d)
		t2 := time.Now()
		act, sh = append(act, t1.Sub(t0)), append(sh, t2.Sub(t1))
	}
	b.StopTimer()
	slices.Sort(act)
	slices.Sort(sh)
	as, ss := &EvalStats{Latencies: act}, &EvalStats{Latencies: sh}
	b.ReportMetric(micros(ss.Quantile(0.50)), "shadow_p50_µs")
	b.ReportMetric(micros(ss.Quantile(0.99)), "shadow_p99_µs")
	b.ReportMetric(micros(as.Quantile(0.99)), "active_p99_µs")
}

// TestReplayWorkload checks the replay workload: every recorded decision
// decodes and rebuilds, the candidate never errors, and the mix of flips,
// skipped and redacted decisions is what NewReplayWorkload promises.
func TestReplayWorkload(t *testing.T) {
	w, err := NewReplayWorkload(ReplayRules, 20_000, 1)
	if err != nil {
		t.Fatalf("NewReplayWorkload = %v, want nil", err)
	}
	if n := len(w.Candidate.Doc.Rules); n != ReplayRules {
		t.Errorf("candidate has %d rules, want %d", n, ReplayRules)
	}
	if mean := w.MeanBodySize(); mean < 500 || mean > 1000 {
		t.Errorf("bodies are %d bytes on average, want 500–1000 (a decision's size)", mean)
	}
	one, err := w.Replay(1)
	if err != nil {
		t.Fatalf("Replay(1) = %v, want nil", err)
	}
	two, err := w.Replay(2)
	if err != nil {
		t.Fatalf("Replay(2) = %v, want nil", err)
	}
	rep := one.Report
	if rep.Decisions != 20_000 || rep.Errors != 0 || rep.Invalid != 0 {
		t.Errorf("Replay: %d decisions, %d errors, %d invalid; want 20000, 0, 0", rep.Decisions, rep.Errors, rep.Invalid)
	}
	if share := float64(rep.Changed) / float64(rep.Compared); share < 0.01 || share > 0.15 {
		t.Errorf("Replay: %d of %d compared decisions changed (%.1f%%), want a few per cent", rep.Changed, rep.Compared, 100*share)
	}
	if rep.SkippedBy["control"] == 0 || rep.SkippedBy["limit"] == 0 || rep.ChangedRedacted == 0 {
		t.Errorf("Replay: skipped %v, %d redacted flips; want kill switches, limits and redacted flips", rep.SkippedBy, rep.ChangedRedacted)
	}
	if !reflect.DeepEqual(two.Report, rep) {
		t.Errorf("Replay(2) = %+v, want Replay(1)'s %+v", two.Report, rep)
	}
	st := w.TimeShadow(1000)
	if len(st.Shadow.Latencies) != 1000 || st.Differs == 0 {
		t.Errorf("TimeShadow: %d latencies, %d differ; want 1000, > 0", len(st.Shadow.Latencies), st.Differs)
	}
}
