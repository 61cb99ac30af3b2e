package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/monitor"
)

// run is what one pass of the monitor over a trace gives the scorer.
type run struct {
	alerts  []monitor.Alert
	first   map[string]time.Time // agent key -> its first observation
	end     time.Time            // end of the last bucket
	obs     int64
	elapsed time.Duration
}

func agentKey(tenant, agent string) string { return tenant + "\x00" + agent }

// feed runs a monitor with configuration c over the observations next
// returns (io.EOF at the end).
func feed(c monitor.Config, next func() (*monitor.Observation, error)) (*run, error) {
	m, err := monitor.New(c)
	if err != nil {
		return nil, err
	}
	res := &run{first: map[string]time.Time{}}
	began := time.Now()
	var last time.Time
	for {
		o, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		key := agentKey(o.Tenant, o.Agent)
		if _, ok := res.first[key]; !ok {
			res.first[key] = o.Time
		}
		alerts, err := m.Observe(o)
		if err != nil {
			return nil, err
		}
		res.alerts = append(res.alerts, alerts...)

		res.obs++
		last = o.Time
	}
	res.end = last.Truncate(c.Bucket).Add(c.Bucket)
	res.alerts = append(res.alerts, m.Advance(res.end)...)
	res.elapsed = time.Since(began)
	return res, nil
}

// row is one line of the detection table.
type row struct {
	kind, size string
	must       float64 // the median delay a must allows, 0 for none
	delays     []float64
	injected   int
}

// score is the detection table and the false alarms.
type score struct {
	rows          []*row
	falseAlarms   int
	cleanBuckets  int64
	byMetric      map[string]int
	cleanAgents   int
	anomalyAgents int
}

// mustOf returns the must a (type, size) row carries.
func mustOf(kind, size string) float64 {
	for _, c := range cells {
		if c.kind == kind && c.label == size {
			return c.must()
		}
	}
	return 0
}

// evaluate scores the alerts of r against the labels.
func evaluate(r *run, labels []label, c monitor.Config) *score {
	s := &score{byMetric: map[string]int{}}
	byAgent := map[string][]monitor.Alert{}
	for _, a := range r.alerts {
		k := agentKey(a.Tenant, a.Agent)
		byAgent[k] = append(byAgent[k], a)
	}
	anomalous := map[string]bool{}
	rows := map[string]*row{}
	for _, l := range labels {
		k := agentKey(l.Tenant, l.Agent)
		anomalous[k] = true
		id := l.Type + "\x00" + l.Size
		rw := rows[id]
		if rw == nil {
			rw = &row{kind: l.Type, size: l.Size, must: mustOf(l.Type, l.Size)}
			rows[id] = rw
			s.rows = append(s.rows, rw)
		}
		rw.injected++
		delay := math.Inf(1)
		for _, a := range byAgent[k] {
			if a.Time.After(l.Start) && !a.Time.After(l.End) && slices.Contains(l.Metrics, a.Metric) {
				delay = float64(a.Time.Sub(l.Start)) / float64(c.Bucket)
				break
			}
		}
		rw.delays = append(rw.delays, delay)
	}
	// Clean agents: every bucket after the warm-up, to the end.
	for k, first := range r.first {
		if anomalous[k] {
			s.anomalyAgents++
			continue
		}
		s.cleanAgents++
		n := int64(r.end.Sub(first.Truncate(c.Bucket))/c.Bucket) - int64(c.WarmUp)
		s.cleanBuckets += max(0, n)
		for _, a := range byAgent[k] {
			s.falseAlarms++
			s.byMetric[a.Metric+" "+a.Direction+" "+a.Detector]++
		}
	}
	order := map[string]int{}
	for i, c := range cells {
		order[c.kind+"\x00"+c.label] = i
	}
	sort.SliceStable(s.rows, func(i, j int) bool {
		oi, ok1 := order[s.rows[i].kind+"\x00"+s.rows[i].size]
		oj, ok2 := order[s.rows[j].kind+"\x00"+s.rows[j].size]
		if !ok1 {
			oi = len(cells)
		}
		if !ok2 {
			oj = len(cells)
		}
		return oi < oj
	})
	return s
}

// quantile of sorted delays, with misses as +Inf.
func quantile(d []float64, q float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, i)]
}

func (rw *row) detected() int {
	n := 0
	for _, d := range rw.delays {
		if !math.IsInf(d, 1) {
			n++
		}
	}
	return n
}

func (s *score) falseAlarmRate() float64 {
	if s.cleanBuckets == 0 {
		return 0
	}
	return float64(s.falseAlarms) / float64(s.cleanBuckets) * 10_000
}

func fmtDelay(d float64) string {
	if math.IsInf(d, 1) {
		return "missed"
	}
	if math.IsNaN(d) {
		return "—"
	}
	return fmt.Sprintf("%.0f", d)
}

// Musts of the issue (the delays are the cells'). A row with fewer than
// minJudged anomalies is shown but not judged: its median says little.
const (
	minJudged       = 10
	mustFalseAlarms = 5 // per 10,000 clean agent-buckets
	goalFalseAlarms = 1
)

// print writes the table and returns whether every must is met.
func (s *score) print(w io.Writer) bool {
	ok := true
	fmt.Fprintln(w, "| anomaly | size | injected | detected | detection rate | median delay | p90 delay | must | status |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---|---|")
	for _, rw := range s.rows {
		med, p90 := quantile(rw.delays, 0.5), quantile(rw.delays, 0.9)
		must, status := "—", "—"
		if limit := rw.must; limit > 0 {
			must = fmt.Sprintf("median ≤ %.0f", limit)
			switch {
			case rw.injected < minJudged:
				status = fmt.Sprintf("too few to judge (< %d)", minJudged)
			case med <= limit:
				status = "must met"
			default:
				status, ok = "MUST MISSED", false
			}
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.2f | %s | %s | %s | %s |\n", rw.kind, rw.size, rw.injected, rw.detected(),
			float64(rw.detected())/float64(rw.injected), fmtDelay(med), fmtDelay(p90), must, status)
	}
	fa := s.falseAlarmRate()
	status := "goal met"
	switch {
	case fa > mustFalseAlarms:
		status, ok = "MUST MISSED", false
	case fa > goalFalseAlarms:
		status = "must met"
	}
	fmt.Fprintf(w, "\n| false alarms | clean agents | clean agent-buckets | alerts | per 10,000 agent-buckets | must | goal | status |\n")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---|---|")
	fmt.Fprintf(w, "| all metrics, all detectors | %d | %d | %d | %.2f | ≤ %d | ≤ %d | %s |\n",
		s.cleanAgents, s.cleanBuckets, s.falseAlarms, fa, mustFalseAlarms, goalFalseAlarms, status)
	if len(s.byMetric) > 0 {
		var keys []string
		for k := range s.byMetric {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return s.byMetric[keys[i]] > s.byMetric[keys[j]] || s.byMetric[keys[i]] == s.byMetric[keys[j]] && keys[i] < keys[j]
		})
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %d", k, s.byMetric[k]))
		}
		fmt.Fprintf(w, "\nFalse alarms by metric, direction and detector: %s.\n", strings.Join(parts, ", "))
	}
	return ok
}

// printDensitySplit writes the false alarms of the clean agents split by
// their mean decisions a minute (below or from denseEvents): a tuning
// aid (-split), which shows where the false alarms of a detector are.
func printDensitySplit(w io.Writer, r *run, labels []label, rates map[string]float64, c monitor.Config) {
	anomalous := map[string]bool{}
	for _, l := range labels {
		anomalous[agentKey(l.Tenant, l.Agent)] = true
	}
	type part struct {
		agents   int
		buckets  int64
		alerts   int
		byMetric map[string]int
	}
	parts := [2]*part{{byMetric: map[string]int{}}, {byMetric: map[string]int{}}}
	byAgent := map[string][]monitor.Alert{}
	for _, a := range r.alerts {
		k := agentKey(a.Tenant, a.Agent)
		byAgent[k] = append(byAgent[k], a)
	}
	for k, first := range r.first {
		if anomalous[k] {
			continue
		}
		p := parts[0]
		if rates[k] >= denseEvents {
			p = parts[1]
		}
		p.agents++
		p.buckets += max(0, int64(r.end.Sub(first.Truncate(c.Bucket))/c.Bucket)-int64(c.WarmUp))
		for _, a := range byAgent[k] {
			p.alerts++
			p.byMetric[a.Metric+" "+a.Direction+" "+a.Detector]++
		}
	}
	for i, name := range []string{fmt.Sprintf("< %d decisions/min", denseEvents), fmt.Sprintf("≥ %d decisions/min", denseEvents)} {
		p := parts[i]
		var keys []string
		for k := range p.byMetric {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return p.byMetric[keys[i]] > p.byMetric[keys[j]] || p.byMetric[keys[i]] == p.byMetric[keys[j]] && keys[i] < keys[j]
		})
		var s []string
		for _, k := range keys {
			s = append(s, fmt.Sprintf("%s: %d", k, p.byMetric[k]))
		}
		rate := 0.0
		if p.buckets > 0 {
			rate = float64(p.alerts) / float64(p.buckets) * 10_000
		}
		fmt.Fprintf(w, "\nClean agents, %s: %d agents, %d buckets, %d false alarms (%.2f per 10,000): %s.\n",
			name, p.agents, p.buckets, p.alerts, rate, strings.Join(s, ", "))
	}
}
