package watch

import (
	"encoding/json"
	"fmt"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/monitor"
)

// decisionView is what the monitor reads of a decision entry.
type decisionView struct {
	Body struct {
		Principal struct {
			ID string `json:"id"`
		} `json:"principal"`
		Action struct {
			Type string `json:"type"`
		} `json:"action"`
		Decision string `json:"decision"`
		Findings []struct {
			Category string `json:"category"`
		} `json:"findings"`
		Spend int64 `json:"spend"`
	} `json:"body"`
}

// outcomeView is what the monitor reads of an outcome entry.
type outcomeView struct {
	Body struct {
		DecisionSeq int64  `json:"decision_seq"`
		Agent       string `json:"agent"`
		Action      string `json:"action"`
		Status      string `json:"status"`
		DurationMS  *int64 `json:"duration_ms"`
		Findings    []struct {
			Category string `json:"category"`
		} `json:"findings"`
	} `json:"body"`
}

// observation returns what the monitor learns from a record, or nil for
// a record of another kind. An outcome entry written before outcomes
// named their agent is completed by lookup (its decision's record).
func observation(tenant string, r *ledger.Record, lookup func(seq int64) (*ledger.Record, error)) (*monitor.Observation, error) {
	if r.Data == nil {
		return nil, nil // pruned under retention
	}
	switch r.Kind {
	case event.KindDecision:
		if d, ok := decodeDecision(r.Data); ok {
			return &monitor.Observation{Time: r.Time, Tenant: tenant, Agent: d.agent, Action: d.action,
				Decision: d.decision, Findings: d.findings, Spend: float64(d.spend)}, nil
		}
		var v decisionView
		if err := json.Unmarshal(r.Data, &v); err != nil {
			return nil, fmt.Errorf("decision at seq %d: %w", r.Seq, err)
		}
		b := &v.Body
		o := &monitor.Observation{Time: r.Time, Tenant: tenant, Agent: b.Principal.ID, Action: b.Action.Type,
			Decision: b.Decision, Spend: float64(b.Spend)}
		for _, f := range b.Findings {
			o.Findings = append(o.Findings, f.Category)
		}
		return o, nil
	case event.KindOutcome:
		var v outcomeView
		if err := json.Unmarshal(r.Data, &v); err != nil {
			return nil, fmt.Errorf("outcome at seq %d: %w", r.Seq, err)
		}
		b := &v.Body
		if b.Agent == "" {
			d, err := lookup(b.DecisionSeq)
			if err != nil {
				return nil, fmt.Errorf("outcome at seq %d: its decision at seq %d: %w", r.Seq, b.DecisionSeq, err)
			}
			var dv decisionView
			if d.Data == nil {
				return nil, nil // its decision was pruned: nothing left to attribute it to
			}
			if err := json.Unmarshal(d.Data, &dv); err != nil || d.Kind != event.KindDecision {
				return nil, fmt.Errorf("outcome at seq %d: seq %d is not a decision", r.Seq, b.DecisionSeq)
			}
			b.Agent, b.Action = dv.Body.Principal.ID, dv.Body.Action.Type
		}
		o := &monitor.Observation{Time: r.Time, Tenant: tenant, Agent: b.Agent, Action: b.Action, Outcome: b.Status}
		if b.DurationMS != nil && *b.DurationMS >= 0 {
			o.LatencyMS, o.HasLatency = float64(*b.DurationMS), true
		}
		for _, f := range b.Findings {
			o.Findings = append(o.Findings, f.Category)
		}
		return o, nil
	}
	return nil, nil
}
