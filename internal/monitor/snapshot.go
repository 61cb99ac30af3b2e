package monitor

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
)

// A snapshot is the monitor's whole state: the open bucket of every
// agent, the closed buckets its baselines hold back, the baselines, the
// detectors, the alert episodes and the counts. Restoring it and
// continuing gives exactly the alerts an uninterrupted run gives (a test
// checks it at every split point of a trace), so a caller that stores a
// snapshot together with the last ledger sequence it fed the monitor
// MUST resume from the entry after that sequence: then nothing is
// counted twice or missed.
//
// The encoding is gob behind a version line; floats round-trip exactly.

// snapshotMagic starts every snapshot; the digit is the format version.
const snapshotMagic = "warden-monitor-snapshot 2\n"

// MaxSnapshotBytes bounds what Restore reads.
const MaxSnapshotBytes = 1 << 30

// ErrSnapshot is returned (wrapped) for a snapshot Restore cannot use.
var ErrSnapshot = errors.New("invalid monitor snapshot")

// ErrConfigChanged is returned (wrapped) by Restore for a snapshot taken
// with another configuration: its baselines do not mean the same thing.
var ErrConfigChanged = errors.New("monitor snapshot taken with another configuration")

type snapshot struct {
	Config  Config
	Started bool
	Cur     int64
	Stats   Stats
	Agents  []*agent
}

// Snapshot returns the monitor's state.
func (m *Monitor) Snapshot() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(snapshotMagic)
	s := snapshot{Config: m.cfg, Started: m.started, Cur: m.cur, Stats: m.stats, Agents: m.order}
	if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
		return nil, fmt.Errorf("encode monitor snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// Restore replaces the monitor's state with a snapshot's. The snapshot
// must have been taken with the same configuration (ErrConfigChanged).
// On error the monitor is unchanged.
func (m *Monitor) Restore(data []byte) error {
	if len(data) > MaxSnapshotBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrSnapshot, len(data), MaxSnapshotBytes)
	}
	rest, ok := bytes.CutPrefix(data, []byte(snapshotMagic))
	if !ok {
		return fmt.Errorf("%w: no version line %q", ErrSnapshot, snapshotMagic[:len(snapshotMagic)-1])
	}
	var s snapshot
	r := bytes.NewReader(rest)
	if err := gob.NewDecoder(r).Decode(&s); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d bytes of trailing data", ErrSnapshot, r.Len())
	}
	if !sameConfig(&s.Config, &m.cfg) {
		return ErrConfigChanged
	}
	agents := make(map[string]*agent, len(s.Agents))
	for i, a := range s.Agents {
		if err := a.check(&m.cfg); err != nil {
			return fmt.Errorf("%w: agent %d: %v", ErrSnapshot, i, err)
		}
		key := a.Tenant + "\x00" + a.Agent
		if agents[key] != nil {
			return fmt.Errorf("%w: agent %q of tenant %q twice", ErrSnapshot, a.Agent, a.Tenant)
		}
		agents[key] = a
	}
	if len(s.Agents) > m.cfg.MaxAgents {
		return fmt.Errorf("%w: %d agents, limit %d", ErrSnapshot, len(s.Agents), m.cfg.MaxAgents)
	}
	m.started, m.cur, m.stats = s.Started, s.Cur, s.Stats
	m.agents, m.order = agents, s.Agents
	return nil
}

// check rejects an agent whose shape the code relies on is wrong.
func (a *agent) check(c *Config) error {
	switch {
	case a == nil:
		return errors.New("missing")
	case a.Tenant == "" || a.Agent == "":
		return errors.New("no tenant or agent id")
	case len(a.Ring) != c.Lag:
		return fmt.Errorf("%d held buckets, want %d", len(a.Ring), c.Lag)
	case len(a.Rules) != len(c.Rules):
		return fmt.Errorf("%d rule states, want %d", len(a.Rules), len(c.Rules))
	case len(a.OpenSet) > maxDistinct:
		return fmt.Errorf("%d open actions, limit %d", len(a.OpenSet), maxDistinct)
	}
	return nil
}

// sameConfig compares configurations; gob does not tell a nil slice from
// an empty one.
func sameConfig(a, b *Config) bool {
	x, y := *a, *b
	if len(x.Rules) == 0 && len(y.Rules) == 0 {
		x.Rules, y.Rules = nil, nil
	}
	return reflect.DeepEqual(x, y)
}
