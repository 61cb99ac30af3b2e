package evidence

import (
	"encoding/json"
	"fmt"
	"time"
)

// ControlsFormat is controls.json's format name and version.
const ControlsFormat = "warden-controls/1"

// Controls is controls.json: the SOC 2 mapping of report.html for tools.
type Controls struct {
	Format       string       `json:"format"`
	Tenant       string       `json:"tenant"`
	Period       Period       `json:"period"`
	Generated    time.Time    `json:"generated"`
	Generator    string       `json:"generator"`
	KeyName      string       `json:"key_name"`
	Verification Verification `json:"verification"`
	Heartbeats   Coverage     `json:"heartbeats"`
	Flags        []string     `json:"flags"`
	Criteria     []Criterion  `json:"criteria"`
}

// Period is [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ControlsJSON returns controls.json, indented: the period, tenant,
// verification, monitoring coverage, flags and, per criterion, its id,
// title, counts, files and notes (as Criteria(s) computes them). Lists
// are never null, so a tool can iterate without checking.
func ControlsJSON(s *Summary) ([]byte, error) {
	c := Controls{
		Format:       ControlsFormat,
		Tenant:       s.Tenant,
		Period:       Period{From: s.From.UTC(), To: s.To.UTC()},
		Generated:    s.Generated.UTC(),
		Generator:    s.Generator,
		KeyName:      s.KeyName,
		Verification: Verification{OK: s.Verification.OK, Checks: nonNil(s.Verification.Checks)},
		Heartbeats:   Coverage{Count: s.Heartbeats.Count, MaxGap: s.Heartbeats.MaxGap, Gaps: nonNil(s.Heartbeats.Gaps)},
		Flags:        nonNil(s.Flags),
		Criteria:     Criteria(s),
	}
	for i := range c.Criteria {
		c.Criteria[i].Counts = nonNil(c.Criteria[i].Counts)
		c.Criteria[i].Files = nonNil(c.Criteria[i].Files)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", FileControls, err)
	}
	return append(b, '\n'), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
