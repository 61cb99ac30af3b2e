// Package watch runs the monitor over the ledger (DESIGN.md section 7):
// one job, on one replica at a time, reads every tenant's log in order
// from the last entry it processed, feeds the decisions and outcomes to
// internal/monitor, raises the alerts it finds through internal/alerting,
// keeps the series the dashboard draws, writes a monitor.heartbeat entry
// every minute so an auditor can see it ran, and re-verifies each log
// incrementally, alerting on any failure.
//
// Everything the monitor decides is a function of the log alone: bucket
// times are entry times, and a quiet bucket is closed by the heartbeat
// entry that follows it, not by the replica's clock. So a job that dies
// and resumes from its checkpoint (the monitor's snapshot and the seq of
// the next entry) raises exactly the alerts an uninterrupted run raises;
// those it raised again after its last checkpoint have the same ids and
// are found recorded.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/monitor"
)

// Defaults of Options.
const (
	DefaultHeartbeat  = time.Minute
	DefaultVerify     = 5 * time.Minute
	DefaultPoll       = 2 * time.Second
	DefaultSave       = 30 * time.Second
	DefaultBatch      = 4096
	DefaultSeriesKeep = 7 * 24 * time.Hour
	// DefaultFresh is how old an alert's bucket may be for its routes to
	// apply: older alerts (found catching up on a backlog) are recorded
	// but stop no agent and page no one.
	DefaultFresh = 15 * time.Minute
	// verifyShare is the part of a poll interval one step may spend
	// verifying (over every tenant), and verifyRest how much longer than
	// each batch's work it then rests: verification takes at most a tenth
	// of one core over a poll interval, in slices that use a fifth of it
	// while they run, so that a round over a large log does not take the
	// CPU the decision path needs (a whole core for seconds raised the p99
	// of POST /v1/evaluate several-fold). 10,000 to 15,000 entries a
	// second at the default poll.
	verifyShare = 10
	verifyRest  = 4
	// DefaultLiveBacklog is the largest backlog the job treats as
	// following a live log (paced: read liveSlice entries at a time, and
	// after each liveBurst of work rest liveRest times as long); a larger
	// one is caught up at full speed.
	DefaultLiveBacklog = 50_000
	liveSlice          = 256
	liveBurst          = 2 * time.Millisecond
	liveRest           = 2
	// DefaultStep bounds the entries one step feeds per tenant.
	DefaultStep = 200_000
	// maxPendingPoints is the most series points kept before a
	// checkpoint writes them.
	maxPendingPoints = 50_000
)

// Options tune the job; zero fields take the defaults.
type Options struct {
	Monitor    monitor.Config
	Heartbeat  time.Duration
	Verify     time.Duration
	Poll       time.Duration
	Save       time.Duration
	Batch      int
	SeriesKeep time.Duration
	Fresh      time.Duration
	// Step bounds the entries one step feeds per tenant, so that a long
	// backlog does not hold up heartbeats and the other tenants.
	Step int64
	// LiveBacklog is the largest backlog fed paced, as a live log's
	// (default 50,000; negative: every backlog is read at full speed).
	LiveBacklog int64
	// Unpaced drops the rests between slices of reading and verifying
	// (tests, whose frozen clocks and many restarts gain nothing from them).
	Unpaced bool
}

func (o Options) withDefaults() Options {
	set := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&o.Heartbeat, DefaultHeartbeat)
	set(&o.Verify, DefaultVerify)
	set(&o.Poll, DefaultPoll)
	set(&o.Save, DefaultSave)
	set(&o.SeriesKeep, DefaultSeriesKeep)
	set(&o.Fresh, DefaultFresh)
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.LiveBacklog == 0 {
		o.LiveBacklog = DefaultLiveBacklog
	}
	if o.Step <= 0 {
		o.Step = DefaultStep
	}
	if o.Monitor.Bucket == 0 {
		o.Monitor = monitor.DefaultConfig()
	}
	return o
}

// Appender records entries; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// Raiser records alerts; *alerting.Service is one.
type Raiser interface {
	Raise(ctx context.Context, tenant string, a alerting.Alert, route bool) (*alerting.Alert, bool, error)
}

// Job is the monitor job. Run it as a singleton (cluster.Jobs).
type Job struct {
	Log     ledger.Store
	State   Store
	Ledger  Appender
	Alerts  Raiser
	Origin  string
	Keys    []note.Verifier // the log's verifier keys
	Clock   func() time.Time
	Logger  *slog.Logger
	Version string
	Options Options

	opts      Options
	followers map[string]*follower
	lastPrune time.Time
	// verifyLeft is what this step may still spend verifying.
	verifyLeft time.Duration
}

// follower is the job's state of one tenant's log.
type follower struct {
	tenant string
	mon    *monitor.Monitor
	next   int64 // seq of the next entry to feed
	fed    bool  // entries fed since the last checkpoint
	beat   bool  // a heartbeat fed since the last checkpoint
	points []Point

	lastSave, lastBeat time.Time

	// following: the last catch-up reached the head, so the next one is
	// a live log's few entries, not a backlog.
	following bool

	verifier   *ledger.Verifier
	verifyTo   int64 // the size the current round verifies to; 0: no round
	lastVerify time.Time
	verifiedOK int64 // size of the last round that passed
	raisedFail bool
}

func (j *Job) now() time.Time {
	if j.Clock == nil {
		return time.Now().UTC()
	}
	return j.Clock().UTC()
}

func (j *Job) log() *slog.Logger {
	if j.Logger == nil {
		return slog.Default()
	}
	return j.Logger
}

// Run steps the job every poll interval until ctx ends. A step's failure
// is logged; the tenant it failed in resumes from its checkpoint.
func (j *Job) Run(ctx context.Context) {
	j.init()
	t := time.NewTicker(j.opts.Poll)
	defer t.Stop()
	for {
		if err := j.Step(ctx); err != nil && ctx.Err() == nil {
			j.log().Warn("monitor: step", "err", err)
		}
		select {
		case <-ctx.Done():
			j.saveAll(context.WithoutCancel(ctx))
			return
		case <-t.C:
		}
	}
}

func (j *Job) init() {
	if j.followers == nil {
		j.opts = j.Options.withDefaults()
		j.followers = map[string]*follower{}
	}
}

// Step does one round over every tenant: feed the entries appended since
// the last, raise their alerts, write a heartbeat when one is due,
// verify a chunk of the log when a round is due, and checkpoint. It
// returns the first error; the other tenants are still served.
func (j *Job) Step(ctx context.Context) error {
	j.init()
	tenants, err := j.Log.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("monitor: list tenants: %w", err)
	}
	j.verifyLeft = j.opts.Poll / verifyShare
	var first error
	for _, t := range tenants {
		if t == ledger.SystemTenant {
			continue
		}
		if err := j.stepTenant(ctx, t); err != nil {
			// Forget the tenant's state in memory: it resumes from its
			// checkpoint, and alerts raised again are found recorded.
			delete(j.followers, t)
			if first == nil {
				first = fmt.Errorf("monitor: tenant %q: %w", t, err)
			}
		}
	}
	if now := j.now(); now.Sub(j.lastPrune) >= time.Hour {
		if n, err := j.State.PruneSeries(ctx, now.Add(-j.opts.SeriesKeep)); err != nil {
			j.log().Warn("monitor: prune series", "err", err)
		} else {
			j.lastPrune = now
			if n > 0 {
				j.log().Debug("monitor: pruned series", "points", n)
			}
		}
	}
	return first
}

func (j *Job) stepTenant(ctx context.Context, tenant string) error {
	f, err := j.follower(ctx, tenant)
	if err != nil {
		return err
	}
	if err := j.catchUp(ctx, f); err != nil {
		return err
	}
	now := j.now()
	if now.Sub(f.lastBeat) >= j.opts.Heartbeat {
		if err := j.heartbeat(ctx, f); err != nil {
			return err
		}
		f.lastBeat = now
	}
	if err := j.verify(ctx, f); err != nil {
		// The log could not be read: the next round tries again.
		j.log().Warn("monitor: verify", "tenant", tenant, "err", err)
	}
	if f.fed && (f.beat || now.Sub(f.lastSave) >= j.opts.Save || len(f.points) > maxPendingPoints) {
		return j.save(ctx, f)
	}
	return nil
}

// follower returns the tenant's follower, loading its checkpoint.
func (j *Job) follower(ctx context.Context, tenant string) (*follower, error) {
	if f := j.followers[tenant]; f != nil {
		return f, nil
	}
	mon, err := monitor.New(j.opts.Monitor)
	if err != nil {
		return nil, err
	}
	mon.RecordSeries(true)
	f := &follower{tenant: tenant, mon: mon, lastSave: j.now()}
	st, err := j.State.MonitorState(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	if st != nil {
		f.next = st.Next
		if err := mon.Restore(st.Snapshot); err != nil {
			// A changed configuration (an upgrade) or a damaged snapshot:
			// the baselines start again from here, nothing is re-read.
			j.log().Warn("monitor: checkpoint not restored; baselines start again", "tenant", tenant, "next", st.Next, "err", err)
		}
	}
	j.followers[tenant] = f
	return f, nil
}

// catchUp feeds the entries appended since the last step.
func (j *Job) catchUp(ctx context.Context, f *follower) error {
	head, err := j.Log.Head(ctx, f.tenant)
	if err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	stop := min(head.Size, f.next+j.opts.Step)
	fresh := j.now().Add(-j.opts.Fresh)
	lookup := func(seq int64) (*ledger.Record, error) {
		recs, err := j.Log.Records(ctx, f.tenant, seq, seq+1, 1)
		if err != nil {
			return nil, err
		}
		if len(recs) != 1 || recs[0].Seq != seq {
			return nil, ledger.ErrNotFound
		}
		return &recs[0], nil
	}
	// A backlog, and whatever a job finds when it starts, is read at full
	// speed, the next batch read while this one is fed. Once the job has
	// caught up, the entries of each poll interval are read and fed in
	// slices with rests between them, on one core: fed in one burst on
	// both, they held up decisions by tens of milliseconds every poll.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live := f.following && stop-f.next <= j.opts.LiveBacklog
	var batches <-chan batch
	if !live {
		batches = readAhead(rctx, j.Log, f.tenant, f.next, stop, j.opts.Batch)
	}
	var worked time.Duration // since the last rest
	for f.next < stop {
		var b batch
		ok := true
		start := time.Now()
		if live {
			b.recs, b.err = j.Log.Records(ctx, f.tenant, f.next, stop, min(j.opts.Batch, liveSlice))
			ok = b.err != nil || len(b.recs) > 0
		} else {
			b, ok = <-batches
		}
		if !ok {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fmt.Errorf("read entries from %d: none, but the log has %d", f.next, head.Size)
		}
		if b.err != nil {
			return fmt.Errorf("read entries from %d: %w", f.next, b.err)
		}
		recs := b.recs
		for i := range recs {
			r := &recs[i]
			if r.Seq != f.next {
				return fmt.Errorf("read entries: seq %d where %d was expected", r.Seq, f.next)
			}
			alerts, err := j.feed(f, r, lookup)
			if err != nil {
				return err
			}
			for _, a := range alerts {
				if err := j.raise(ctx, f.tenant, &a, !a.Time.Before(fresh)); err != nil {
					return err
				}
			}
			f.next++
			f.fed = true
		}
		f.points = appendPoints(f.points, f.mon.TakeSeries())
		if worked += time.Since(start); live && !j.opts.Unpaced && f.next < stop && worked >= liveBurst {
			if err := rest(ctx, liveRest*worked); err != nil {
				return err
			}
			worked = 0
		}
	}
	f.following = f.next >= head.Size
	return nil
}

// batch is one read of readAhead: records, or the error that ended it.
type batch struct {
	recs []ledger.Record
	err  error
}

// readAhead reads the tenant's records in [from, to) in batches, one
// batch ahead of its reader, and stops at to, at an error, at an empty
// read or when ctx ends.
func readAhead(ctx context.Context, log ledger.Store, tenant string, from, to int64, size int) <-chan batch {
	out := make(chan batch, 1)
	go func() {
		defer close(out)
		for from < to {
			recs, err := log.Records(ctx, tenant, from, to, size)
			if err == nil && len(recs) == 0 {
				return
			}
			select {
			case out <- batch{recs: recs, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			from = recs[len(recs)-1].Seq + 1
		}
	}()
	return out
}

// feed gives one record to the monitor and returns the alerts it raised.
func (j *Job) feed(f *follower, r *ledger.Record, lookup func(int64) (*ledger.Record, error)) ([]monitor.Alert, error) {
	if r.Kind == event.KindMonitorHeartbeat {
		// The heartbeat's time closes the buckets that ended before it:
		// every later entry of this log has a time at or after it.
		f.beat = true
		return f.mon.Advance(r.Time), nil
	}
	o, err := observation(f.tenant, r, lookup)
	if err != nil {
		// An entry the monitor cannot read is logged and skipped: the
		// verifier judges the log's integrity, not the monitor.
		j.log().Warn("monitor: entry skipped", "tenant", f.tenant, "seq", r.Seq, "err", err)
		return nil, nil
	}
	if o == nil {
		return nil, nil
	}
	alerts, err := f.mon.Observe(o)
	if errors.Is(err, monitor.ErrObservation) {
		j.log().Debug("monitor: observation skipped", "tenant", f.tenant, "seq", r.Seq, "err", err)
		return alerts, nil
	}
	return alerts, err
}

// raise records one of the monitor's alerts.
func (j *Job) raise(ctx context.Context, tenant string, m *monitor.Alert, route bool) error {
	a := alerting.Alert{Time: m.Time, Agent: m.Agent, Metric: m.Metric, Direction: m.Direction, Severity: m.Severity,
		Detector: m.Detector, Rule: m.Rule, Observed: finite(m.Observed), Baseline: finite(m.Baseline), Score: finite(m.Score)}
	_, _, err := j.Alerts.Raise(ctx, tenant, a, route)
	return err
}

func finite(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

// heartbeat appends the tenant's monitor.heartbeat entry.
func (j *Job) heartbeat(ctx context.Context, f *follower) error {
	st := f.mon.Stats()
	body := &event.MonitorHeartbeat{Through: f.next - 1, Agents: st.Agents, Observations: st.Observations,
		VerifiedSize: f.verifiedOK, VerifyOK: f.verifier == nil || f.verifier.Failed() == nil, Version: j.Version}
	req, err := event.New(event.KindMonitorHeartbeat, event.ActorMonitor, body)
	if err != nil {
		return err
	}
	if _, err := j.Ledger.Append(ctx, f.tenant, req); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// save checkpoints the tenant: first the series, then the state, so a
// checkpoint never covers points that were not written.
func (j *Job) save(ctx context.Context, f *follower) error {
	if len(f.points) > 0 {
		if err := j.State.PutSeries(ctx, f.tenant, f.points); err != nil {
			return fmt.Errorf("write series: %w", err)
		}
		f.points = nil
	}
	snap, err := f.mon.Snapshot()
	if err != nil {
		return err
	}
	if err := j.State.PutMonitorState(ctx, f.tenant, &State{Next: f.next, Snapshot: snap, Updated: j.now()}); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	f.fed, f.beat, f.lastSave = false, false, j.now()
	return nil
}

// saveAll checkpoints every tenant with unsaved progress (at shutdown).
func (j *Job) saveAll(ctx context.Context) {
	for _, f := range j.followers {
		if f.fed {
			if err := j.save(ctx, f); err != nil {
				j.log().Warn("monitor: checkpoint at shutdown", "tenant", f.tenant, "err", err)
			}
		}
	}
}

// Reset forgets what the job holds in memory: the next step resumes
// every tenant from its checkpoint. A replica that loses the job and
// takes it again later calls it, since another replica may have moved
// the checkpoints meanwhile.
func (j *Job) Reset() {
	j.followers = nil
}
