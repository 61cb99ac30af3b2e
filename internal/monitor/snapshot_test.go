package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// snapshotConfig is small enough that a short trace warms up, alerts
// and lags.
func snapshotConfig(c *Config) {
	c.WarmUp, c.Lag, c.CountLag, c.SeenRotate, c.IdleEvict = 8, 6, 3, 40, 50
}

// snapshotTrace is a few agents over a few hours, with shifts, idle
// stretches, outcomes, spend, findings and late observations, so that
// every part of the state is in use at some split point.
func snapshotTrace(buckets int) []Observation {
	r := rand.New(rand.NewPCG(11, 12))
	var out []Observation
	for b := range buckets {
		for ag := range 4 {
			mean := 2.0 + float64(ag)
			if ag == 1 && b > buckets/2 {
				mean *= 4 // a rate spike
			}
			if ag == 3 && b > 20 && b < 80 {
				mean = 0 // idle long enough to be evicted
			}
			n := poissonDraw(r, mean)
			for i := range n {
				o := Observation{Time: t0.Add(time.Duration(b)*time.Minute + time.Duration(i)*time.Second),
					Tenant: "t", Agent: fmt.Sprintf("agent-%d", ag), Action: fmt.Sprintf("tool.%d", r.IntN(4+b/30)), Decision: Allow}
				switch u := r.Float64(); {
				case u < 0.1 || (ag == 2 && b > buckets/3 && u < 0.6):
					o.Decision = Deny
				case u < 0.15:
					o.Decision = RequireApproval
				case u < 0.5:
					o.Outcome = Succeeded
					if r.Float64() < 0.1 {
						o.Outcome = Failed
					}
					o.LatencyMS, o.HasLatency = math.Round(math.Exp(5+0.5*r.NormFloat64())), true
				}
				if r.Float64() < 0.5 {
					o.Spend = math.Exp(-5 + r.NormFloat64())
				}
				if r.Float64() < 0.05 {
					o.Findings = []string{"pii.email", "secret.aws"}
				}
				if i == 1 && r.Float64() < 0.05 {
					o.Time = o.Time.Add(-90 * time.Second) // late
				}
				out = append(out, o)
			}
		}
	}
	return out
}

// runTrace feeds obs[from:to] to m and returns its alerts.
func runTrace(t *testing.T, m *Monitor, obs []Observation) []Alert {
	t.Helper()
	var alerts []Alert
	for i := range obs {
		as, err := m.Observe(&obs[i])
		if err != nil {
			t.Fatalf("Observe(%d) = %v", i, err)
		}
		alerts = append(alerts, as...)
	}
	return alerts
}

func TestMonitorSnapshotSplitEquivalence(t *testing.T) {
	obs := snapshotTrace(110)
	end := t0.Add(111 * time.Minute)
	whole := newMonitor(t, snapshotConfig)
	want := append(runTrace(t, whole, obs), whole.Advance(end)...)
	if st := whole.Stats(); len(want) < 3 || st.Late == 0 || st.Evicted == 0 {
		t.Fatalf("the trace raised %d alerts, stats %+v: it must alert, be late and evict to prove anything", len(want), st)
	}
	t.Logf("%d observations, %d alerts, stats %+v", len(obs), len(want), whole.Stats())
	stride := 1
	if testing.Short() {
		stride = 17
	}
	for split := 0; split <= len(obs); split += stride {
		first := newMonitor(t, snapshotConfig)
		got := runTrace(t, first, obs[:split])
		snap, err := first.Snapshot()
		if err != nil {
			t.Fatalf("Snapshot() at %d = %v", split, err)
		}
		second := newMonitor(t, snapshotConfig)
		if err := second.Restore(snap); err != nil {
			t.Fatalf("Restore() at %d = %v", split, err)
		}
		again, err := second.Snapshot()
		if err != nil || !bytes.Equal(again, snap) {
			t.Fatalf("Snapshot(Restore(snapshot at %d)) differs (err %v)", split, err)
		}
		got = append(got, runTrace(t, second, obs[split:])...)
		got = append(got, second.Advance(end)...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split at observation %d of %d: %d alerts, want %d; first difference %s", split, len(obs), len(got), len(want), firstDiff(got, want))
		}
		if !reflect.DeepEqual(second.Stats(), whole.Stats()) {
			t.Fatalf("split at %d: stats %+v, want %+v", split, second.Stats(), whole.Stats())
		}
	}
}

func TestMonitorSnapshotAfterAdvance(t *testing.T) {
	// A live monitor checkpoints between ticks too: a snapshot taken
	// after Advance resumes the same.
	obs := snapshotTrace(120)
	tick := t0.Add(70*time.Minute + 30*time.Second)
	var split int
	for split < len(obs) && obs[split].Time.Before(tick) {
		split++
	}
	whole := newMonitor(t, snapshotConfig)
	want := runTrace(t, whole, obs[:split])
	want = append(want, whole.Advance(tick)...)
	want = append(want, runTrace(t, whole, obs[split:])...)

	first := newMonitor(t, snapshotConfig)
	got := runTrace(t, first, obs[:split])
	got = append(got, first.Advance(tick)...)
	snap, err := first.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	second := newMonitor(t, snapshotConfig)
	if err := second.Restore(snap); err != nil {
		t.Fatal(err)
	}
	got = append(got, runTrace(t, second, obs[split:])...)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("alerts after a restore past a tick: %s", firstDiff(got, want))
	}
}

func TestMonitorRestoreRejects(t *testing.T) {
	m := newMonitor(t, snapshotConfig)
	runTrace(t, m, snapshotTrace(30))
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	other := newMonitor(t, func(c *Config) { snapshotConfig(c); c.H = 6 })
	if err := other.Restore(snap); !errors.Is(err, ErrConfigChanged) {
		t.Errorf("Restore(snapshot of another config) = %v, want ErrConfigChanged", err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"no version line", snap[len(snapshotMagic):]},
		{"other version", append([]byte("warden-monitor-snapshot 1\n"), snap[len(snapshotMagic):]...)},
		{"truncated", snap[:len(snap)/2]},
		{"trailing data", append(append([]byte(nil), snap...), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fresh := newMonitor(t, snapshotConfig)
			if err := fresh.Restore(tt.data); !errors.Is(err, ErrSnapshot) {
				t.Errorf("Restore() = %v, want ErrSnapshot", err)
			}
			if fresh.Stats() != (Stats{}) {
				t.Errorf("a failed Restore changed the monitor: %+v", fresh.Stats())
			}
		})
	}
}

func firstDiff(got, want []Alert) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("alert %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
