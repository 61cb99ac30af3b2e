package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkEvaluate measures policy.Evaluate over policies of 10 to 10,000
// rules that share action prefixes (see NewPolicyWorkload). Each op is one
// evaluation on one goroutine, timed on its own for the p50 and p99.
func BenchmarkEvaluate(b *testing.B) {
	for _, rules := range PolicySizes {
		b.Run(fmt.Sprintf("rules=%d", rules), func(b *testing.B) {
			w, err := NewPolicyWorkload(rules, 1)
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Check(); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				t := time.Now()
				w.Policy.Evaluate(w.Inputs[i%len(w.Inputs)])
				lat = append(lat, time.Since(t))
			}
			elapsed := time.Since(start)
			b.StopTimer()
			st := &EvalStats{Evaluations: len(lat), Elapsed: elapsed, Latencies: lat}
			slices.Sort(st.Latencies)
			b.ReportMetric(micros(st.Quantile(0.50)), "p50_µs")
			b.ReportMetric(micros(st.Quantile(0.99)), "p99_µs")
			b.ReportMetric(st.PerSecond(), "decisions/s")
		})
	}
}

// TestPolicyWorkload checks that the benchmark's evaluations succeed and
// that its policies are as large as they claim.
func TestPolicyWorkload(t *testing.T) {
	for _, rules := range PolicySizes {
		w, err := NewPolicyWorkload(rules, 1)
		if err != nil {
			t.Fatalf("NewPolicyWorkload(%d) = %v, want nil", rules, err)
		}
		if n := len(w.Policy.Doc.Rules); n != rules {
			t.Errorf("NewPolicyWorkload(%d) has %d rules", rules, n)
		}
		if err := w.Check(); err != nil {
			t.Errorf("NewPolicyWorkload(%d).Check() = %v, want nil", rules, err)
		}
	}
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
