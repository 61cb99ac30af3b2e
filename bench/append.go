package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/ledger"
)

// AppendRun says how much to append: Writers goroutines each loop Append
// until Total appends were acknowledged (if Total > 0) or Duration has
// passed (if Duration > 0), whichever comes first.
type AppendRun struct {
	Writers  int
	Total    int64
	Duration time.Duration
	// Progress, if set, is called now and then with the appends acknowledged so far.
	Progress func(done int64)
}

// AppendStats is the outcome of an AppendRun. Latencies are those of the
// acknowledged appends, each from the call of Append to its durable return.
type AppendStats struct {
	Appends   int64
	Elapsed   time.Duration
	CPU       time.Duration   // user+system CPU time of the whole process
	Latencies []time.Duration // sorted ascending
}

// CPUPerAppend returns the process CPU time spent per acknowledged append.
// Unlike the rate, it hardly moves when other processes share the CPUs.
func (s *AppendStats) CPUPerAppend() time.Duration {
	if s.Appends == 0 {
		return 0
	}
	return s.CPU / time.Duration(s.Appends)
}

// PerSecond returns acknowledged appends per second of wall time.
func (s *AppendStats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Appends) / s.Elapsed.Seconds()
}

// Quantile returns the q-quantile (0 < q <= 1) of the latencies by the
// nearest-rank method, or 0 if there are none.
func (s *AppendStats) Quantile(q float64) time.Duration {
	n := len(s.Latencies)
	if n == 0 {
		return 0
	}
	i := int(q*float64(n)+0.999999) - 1
	i = max(0, min(i, n-1))
	return s.Latencies[i]
}

// Max returns the largest latency.
func (s *AppendStats) Max() time.Duration { return s.Quantile(1) }

// Appends runs r against the benchmark tenant of l. The entries are
// numbered from first on. Any failed append (pushback included) ends the
// run with an error: the figures are for a ledger that keeps up.
func Appends(ctx context.Context, l *ledger.Ledger, first int64, r AppendRun) (*AppendStats, error) {
	if r.Writers <= 0 || (r.Total <= 0 && r.Duration <= 0) {
		return nil, fmt.Errorf("append run: need writers and a total or a duration, got %+v", r)
	}
	var (
		next     atomic.Int64 // entries claimed
		acked    atomic.Int64
		stopped  atomic.Bool
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	lats := make([][]time.Duration, r.Writers)
	cpu0 := ProcessCPU()
	start := time.Now()
	var timer *time.Timer
	if r.Duration > 0 {
		timer = time.AfterFunc(r.Duration, func() { stopped.Store(true) })
	}
	for w := range r.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 1024)
			defer func() { lats[w] = mine }()
			for !stopped.Load() {
				i := next.Add(1) - 1
				if r.Total > 0 && i >= r.Total {
					return
				}
				t0 := time.Now()
				_, err := l.Append(ctx, Tenant, Request(first+i))
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("append %d: %w", first+i, err) })
					stopped.Store(true)
					return
				}
				mine = append(mine, time.Since(t0))
				acked.Add(1)
			}
		}()
	}
	if r.Progress != nil {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		tick := time.NewTicker(time.Second)
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-tick.C:
				r.Progress(acked.Load())
			}
		}
		tick.Stop()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := ProcessCPU() - cpu0
	if timer != nil {
		timer.Stop()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	s := &AppendStats{Appends: acked.Load(), Elapsed: elapsed, CPU: cpu}
	for _, l := range lats {
		s.Latencies = append(s.Latencies, l...)
	}
	sort.Slice(s.Latencies, func(i, j int) bool { return s.Latencies[i] < s.Latencies[j] })
	return s, nil
}

// BuildConfig is the ledger configuration for building a large log fast:
// big batches and a queue deep enough for every builder.
func BuildConfig() ledger.Config {
	return ledger.Config{MaxBatch: 8192, QueueSize: 1 << 16}
}

// BuildWriters is how many concurrent writers build a large log: enough to
// keep BuildConfig's batches full.
const BuildWriters = 4096

// Build appends n entries (numbered from 0) to a fresh log in dir and
// closes it, which signs a checkpoint covering all of it. It returns the
// key that verifies the log's checkpoints. progress, if set, gets the
// entries acknowledged so far now and then.
func Build(ctx context.Context, dir string, n int64, progress func(done int64)) (note.Verifier, error) {
	lg, err := Open(ctx, dir, BuildConfig())
	if err != nil {
		return nil, err
	}
	_, err = Appends(ctx, lg.Ledger, 0, AppendRun{Writers: BuildWriters, Total: n, Progress: progress})
	if cerr := lg.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("build log of %d entries: %w", n, err)
	}
	return lg.Verifier, nil
}

// ProcessCPU returns the user and system CPU time this process has used.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
