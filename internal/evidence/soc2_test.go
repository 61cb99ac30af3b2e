package evidence

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// soc2Summary is a quarter with some of everything: each kind appears
// with a distinct count so a count in the wrong criterion shows.
func soc2Summary() *Summary {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	return &Summary{
		Tenant:    "acme",
		From:      from,
		To:        to,
		Generated: time.Date(2025, 4, 2, 8, 30, 0, 0, time.UTC),
		Generator: "warden 0.9.0",
		KeyName:   "warden.example+1a2b3c4d",
		Entries:   1234,
		FirstSeq:  100,
		LastSeq:   1333,
		Kinds: map[string]int64{
			"key.created": 3, "key.changed": 4, "key.revoked": 5, "access.refused": 6,
			"access.review_signed": 7, "tenant.suspended": 8, "signing_key.rotated": 1,
			"alert.raised": 11, "alert.acknowledged": 12, "alert.resolved": 13,
			"incident.opened": 14, "incident.noted": 15, "incident.linked": 16, "incident.resolved": 17,
			"control.set": 18, "control.cleared": 19, "notification.result": 20,
			"monitor.heartbeat": 21,
			"policy.version":    31, "policy.approved": 32, "policy.refused": 33, "policy.activated": 34,
			"policy.candidate": 35, "setting.changed": 36,
			"decision": 1000, "outcome": 41, "approval.voted": 42, "approval.refused": 43, "approval.resolved": 44,
			"retention.pruned": 2,
		},
		Decisions:    map[string]int64{"allow": 900, "deny": 60, "require_approval": 30, "rate_limited": 10},
		WithFindings: 51,
		Pruned:       [][2]int64{{100, 150}, {200, 210}},
		Heartbeats: Coverage{
			Count:  21,
			MaxGap: 5 * time.Minute,
			Gaps: []Gap{{
				From: time.Date(2025, 2, 3, 4, 0, 0, 0, time.UTC),
				To:   time.Date(2025, 2, 3, 5, 30, 0, 0, time.UTC),
			}},
		},
		Checkpoints: 2,
		Flags:       []string{"policy main version 3 was activated without a second approver"},
		Verification: Verification{OK: true, Checks: []Check{
			{Name: "manifest signature", OK: true},
			{Name: "file hashes", OK: true, Detail: "16 files"},
			{Name: "consistency proof", OK: true},
		}},
	}
}

// soc2Want is where each count of soc2Summary lands.
var soc2Want = map[string]map[string]int64{
	"CC6": {"key.created": 3, "key.changed": 4, "key.revoked": 5, "access.refused": 6,
		"access.review_signed": 7, "tenant.suspended": 8, "signing_key.rotated": 1},
	"CC7": {"monitor.heartbeats": 21, "monitor.gaps": 1, "alert.raised": 11, "alert.acknowledged": 12,
		"alert.resolved": 13, "incident.opened": 14, "incident.noted": 15, "incident.linked": 16,
		"incident.resolved": 17, "control.set": 18, "control.cleared": 19, "notification.result": 20},
	"CC8": {"policy.version": 31, "policy.approved": 32, "policy.refused": 33, "policy.activated": 34,
		"policy.candidate": 35, "setting.changed": 36},
	"A1": {"monitor.heartbeats": 21, "monitor.gaps": 1, "monitor.uncovered_seconds": 5400, "checkpoints": 2},
	"PI1": {"decisions": 1000, "decisions.allow": 900, "decisions.deny": 60, "decisions.require_approval": 30,
		"decisions.rate_limited": 10, "outcome": 41, "approval.voted": 42, "approval.refused": 43,
		"approval.resolved": 44, "verification.ok": 1, "verification.checks": 3, "verification.failed": 0},
	"C1": {"decisions.with_findings": 51, "retention.pruned": 2, "pruned.ranges": 2, "pruned.entries": 60,
		"setting.changed": 36},
}

var soc2Order = []string{"CC6", "CC7", "CC8", "A1", "PI1", "C1"}

func countsOf(c Criterion) map[string]int64 {
	m := map[string]int64{}
	for _, n := range c.Counts {
		m[n.Name] = n.N
	}
	return m
}

func TestCriteriaCounts(t *testing.T) {
	cs := Criteria(soc2Summary())
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, soc2Order) {
		t.Fatalf("Criteria ids = %v, want %v", ids, soc2Order)
	}
	for _, c := range cs {
		t.Run(c.ID, func(t *testing.T) {
			got, want := countsOf(c), soc2Want[c.ID]
			if len(got) != len(c.Counts) {
				t.Errorf("counts of %s repeat a name: %v", c.ID, c.Counts)
			}
			for name, n := range want {
				if got[name] != n {
					t.Errorf("count %s of %s = %d, want %d", name, c.ID, got[name], n)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("count %s of %s is not expected", name, c.ID)
				}
			}
			if c.Title == "" || len(c.Files) == 0 {
				t.Errorf("criterion %s: title %q, files %v; want both", c.ID, c.Title, c.Files)
			}
			for _, f := range c.Files {
				if !strings.Contains(f, ".") {
					t.Errorf("criterion %s: file %q is not an archive file", c.ID, f)
				}
			}
		})
	}
}

func TestCriteriaNotes(t *testing.T) {
	s := soc2Summary()
	s.Flags = append(s.Flags, "monitor restarted twice")
	cs := Criteria(s)
	byID := map[string]Criterion{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	tests := []struct {
		name, id, want string
	}{
		{"gap listed", "CC7", "No heartbeat from 2025-02-03T04:00:00Z to 2025-02-03T05:30:00Z (1h30m0s)."},
		{"gap count", "CC7", "1 gap(s) in monitor heartbeats longer than 5m0s:"},
		{"policy flag", "CC8", "Flag: policy main version 3 was activated without a second approver"},
		{"coverage", "A1", "Monitoring coverage: 99.93% of the period."},
		{"verified", "PI1", "Verification passed: 3 check(s)."},
		{"pruned", "C1", "Bodies of 60 entries were pruned under retention; their hashes remain and still verify."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if notes := byID[tt.id].Notes; !slices.Contains(notes, tt.want) {
				t.Errorf("notes of %s = %q, want one %q", tt.id, notes, tt.want)
			}
		})
	}
	if notes := strings.Join(byID["CC8"].Notes, "\n"); strings.Contains(notes, "monitor restarted") {
		t.Errorf("notes of CC8 = %q, want no flag that is not about policy", notes)
	}
}

func TestCriteriaQuietPeriod(t *testing.T) {
	s := &Summary{
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
		Heartbeats: Coverage{MaxGap: 5 * time.Minute, Gaps: []Gap{{
			From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			To:   time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
		}}},
		Verification: Verification{OK: false, Checks: []Check{{Name: "chain", OK: false, Detail: "seq 7"}}},
	}
	cs := Criteria(s)
	for _, c := range cs {
		for _, n := range c.Counts {
			want := int64(0)
			switch n.Name {
			case CountHeartbeatGaps, CountVerificationChecks, CountVerificationFailed:
				want = 1
			case CountUncoveredSeconds:
				want = 86400
			}
			if n.N != want {
				t.Errorf("count %s of %s = %d, want %d", n.Name, c.ID, n.N, want)
			}
		}
	}
	notes := map[string][]string{}
	for _, c := range cs {
		notes[c.ID] = c.Notes
	}
	for id, want := range map[string]string{
		"CC6": "No access review was signed in the period.",
		"A1":  "Monitoring coverage: 0.00% of the period.",
		"PI1": "Verification failed: chain.",
	} {
		if !slices.Contains(notes[id], want) {
			t.Errorf("notes of %s = %q, want one %q", id, notes[id], want)
		}
	}
}

func TestControlsJSON(t *testing.T) {
	s := soc2Summary()
	b, err := ControlsJSON(s)
	if err != nil {
		t.Fatalf("ControlsJSON = %v", err)
	}
	var got Controls
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode controls.json: %v\n%s", err, b)
	}
	if got.Format != ControlsFormat || got.Tenant != "acme" || !got.Period.From.Equal(s.From) || !got.Period.To.Equal(s.To) {
		t.Errorf("controls.json = format %q, tenant %q, period %v; want %q, acme, %v to %v",
			got.Format, got.Tenant, got.Period, ControlsFormat, s.From, s.To)
	}
	if !got.Verification.OK || len(got.Verification.Checks) != 3 {
		t.Errorf("controls.json verification = %+v, want ok with 3 checks", got.Verification)
	}
	if len(got.Criteria) != len(soc2Order) {
		t.Fatalf("controls.json has %d criteria, want %d", len(got.Criteria), len(soc2Order))
	}
	for i, c := range got.Criteria {
		if c.ID != soc2Order[i] {
			t.Errorf("criterion %d = %s, want %s", i, c.ID, soc2Order[i])
		}
		for name, n := range soc2Want[c.ID] {
			if countsOf(c)[name] != n {
				t.Errorf("controls.json count %s of %s = %d, want %d", name, c.ID, countsOf(c)[name], n)
			}
		}
	}

	// An empty summary still has lists, not nulls.
	b, err = ControlsJSON(&Summary{})
	if err != nil {
		t.Fatalf("ControlsJSON(empty) = %v", err)
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("ControlsJSON(empty) holds a null:\n%s", b)
	}
}
