package monitor

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestMonitorConfigValidate(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"bucket", func(c *Config) { c.Bucket = time.Millisecond }},
		{"alpha", func(c *Config) { c.Alpha = 0 }},
		{"rate alpha", func(c *Config) { c.RateAlpha = 1 }},
		{"h", func(c *Config) { c.H = -1 }},
		{"max z", func(c *Config) { c.MaxZ = c.FastK }},
		{"down factor", func(c *Config) { c.DownFactor = 0.5 }},
		{"count factor", func(c *Config) { c.CountFactor = 0.9 }},
		{"count lag", func(c *Config) { c.CountLag = c.Lag + 1 }},
		{"warm-up", func(c *Config) { c.WarmUp = 0 }},
		{"dense h", func(c *Config) { c.DenseH = 0 }},
		{"dense events", func(c *Config) { c.DenseEvents = -1 }},
		{"season", func(c *Config) { c.Season = 90 * time.Second }},
		{"season alpha", func(c *Config) { c.SeasonAlpha = 0 }},
		{"season prior", func(c *Config) { c.SeasonPrior = 0 }},
		{"memory events", func(c *Config) { c.MemoryEvents = 0 }},
		{"rule metric", func(c *Config) { c.Rules = []Rule{{Name: "x", Metric: "nope", Severity: SeverityInfo}} }},
		{"rule name", func(c *Config) { c.Rules = append(c.Rules, c.Rules[0]) }},
		{"rule severity", func(c *Config) { c.Rules = []Rule{{Name: "x", Metric: "denies", Severity: "loud"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			if err := c.Validate(); !errors.Is(err, ErrConfig) {
				t.Errorf("Validate() = %v, want ErrConfig", err)
			}
			if _, err := New(c); err == nil {
				t.Error("New() accepted the config")
			}
		})
	}
}

func TestMonitorMetricNames(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Metrics() {
		if seen[m.String()] {
			t.Errorf("metric name %q twice", m)
		}
		seen[m.String()] = true
		if back, err := ParseMetric(m.String()); err != nil || back != m {
			t.Errorf("ParseMetric(%q) = %v, %v", m, back, err)
		}
	}
	for cat, want := range map[string]Metric{"secret.aws": FindingsSecret, "pii.email": FindingsPII, "injection": FindingsInjection,
		"tool_poisoning": FindingsToolPoisoning, "secretive": FindingsOther, "": FindingsOther} {
		if got := FindingsSecret + Metric(family(cat)); got != want {
			t.Errorf("category %q counts as %s, want %s", cat, got, want)
		}
	}
}

func TestMonitorStateBounded(t *testing.T) {
	// However many actions an agent uses, its state keeps its size.
	m := newMonitor(t, nil)
	o := Observation{Tenant: "t", Agent: "a", Decision: Allow}
	size := func() int {
		snap, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return len(snap)
	}
	for b := range 120 {
		for i := range 50 {
			o.Time = t0.Add(time.Duration(b)*time.Minute + time.Duration(i)*time.Millisecond)
			o.Action = fmt.Sprintf("tool.%d.%d", b, i)
			if _, err := m.Observe(&o); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := size()
	for b := 120; b < 240; b++ {
		for i := range 2000 {
			o.Time = t0.Add(time.Duration(b)*time.Minute + time.Duration(i)*time.Millisecond)
			o.Action = fmt.Sprintf("tool.%d.%d", b, i)
			if _, err := m.Observe(&o); err != nil {
				t.Fatal(err)
			}
		}
		if a := m.agents["t\x00a"]; len(a.OpenSet) > maxDistinct {
			t.Fatalf("bucket %d: %d actions kept, limit %d", b, len(a.OpenSet), maxDistinct)
		}
	}
	m.Advance(t0.Add(241 * time.Minute))
	if a := m.agents["t\x00a"]; cap(a.OpenSet) > 64 {
		t.Errorf("a closed bucket keeps room for %d actions", cap(a.OpenSet))
	}
	if after := size(); after > before+1024 {
		t.Errorf("state grew from %d to %d bytes with 40 times the traffic", before, after)
	}
}

func TestMonitorEvictAndLimit(t *testing.T) {
	m := newMonitor(t, func(c *Config) { c.IdleEvict, c.MaxAgents = 60, 2 })
	obs := func(agent string, at time.Duration) {
		o := Observation{Time: t0.Add(at), Tenant: "t", Agent: agent, Action: "x", Decision: Allow}
		if _, err := m.Observe(&o); err != nil {
			t.Fatal(err)
		}
	}
	obs("a", 0)
	obs("b", time.Minute)
	obs("c", 2*time.Minute) // beyond MaxAgents
	if st := m.Stats(); st.Agents != 2 || st.Untracked != 1 {
		t.Fatalf("stats %+v, want 2 agents and 1 untracked observation", st)
	}
	for i := 3; i < 70; i++ {
		obs("b", time.Duration(i)*time.Minute) // a stays idle
	}
	if st := m.Stats(); st.Agents != 1 || st.Evicted != 1 {
		t.Fatalf("stats %+v, want a evicted after 60 idle buckets", st)
	}
	obs("c", 70*time.Minute)
	if st := m.Stats(); st.Agents != 2 {
		t.Fatalf("stats %+v, want room for c again", st)
	}
	// A gap longer than IdleEvict evicts everyone and jumps.
	obs("d", 1000*time.Hour)
	if st := m.Stats(); st.Agents != 1 || st.Evicted != 3 {
		t.Fatalf("stats after a long gap %+v, want 1 agent, 3 evicted", st)
	}
}

func TestMonitorObserveRejects(t *testing.T) {
	m := newMonitor(t, nil)
	for _, o := range []Observation{
		{Time: t0, Tenant: "t", Agent: "a", Decision: Allow},              // no action
		{Time: t0, Agent: "a", Action: "x", Decision: Allow},              // no tenant
		{Time: time.Time{}, Tenant: "t", Agent: "a", Outcome: Failed},     // no time
		{Time: t0, Tenant: "t", Agent: "a", Outcome: "ok"},                // bad outcome
		{Time: t0, Tenant: "t", Agent: "a", Action: "x", Decision: "yes"}, // bad decision
	} {
		if _, err := m.Observe(&o); !errors.Is(err, ErrObservation) {
			t.Errorf("Observe(%+v) = %v, want ErrObservation", o, err)
		}
	}
	if st := m.Stats(); st.Observations != 0 {
		t.Errorf("rejected observations were counted: %+v", st)
	}
}

func TestMonitorLateObservation(t *testing.T) {
	m := newMonitor(t, nil)
	for _, at := range []time.Duration{0, 3 * time.Minute, 90 * time.Second} {
		o := Observation{Time: t0.Add(at), Tenant: "t", Agent: "a", Action: "x", Decision: Allow}
		if _, err := m.Observe(&o); err != nil {
			t.Fatal(err)
		}
	}
	if st := m.Stats(); st.Late != 1 {
		t.Fatalf("stats %+v, want 1 late", st)
	}
	if got := m.agents["t\x00a"].Open.Decisions; got != 2 {
		t.Errorf("the open bucket counts %d decisions, want 2 (the late one included)", got)
	}
}
