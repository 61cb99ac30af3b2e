// Package evidencesrc reads what an evidence archive holds besides the log
// from a server's store: it joins the evidence package to the access,
// policy, alerting and kill switch packages, which sit above it.
package evidencesrc

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/evidence"
	"github.com/wardenhq/warden/internal/policy"
)

// FromStore returns the Records of an archive read from a server's
// store: nothing secret is ever among them (keys show no hash, settings
// no receivers).
func FromStore(pol policy.VersionReader, acc access.Reader, al alerting.Reader, ctl controls.Reader) evidence.Records {
	return evidence.Records{
		Policies: func(ctx context.Context, tenant string, from, to time.Time) ([]evidence.Policy, error) {
			return policiesOf(ctx, pol, tenant, from, to)
		},
		Keys: func(ctx context.Context, tenant string) (any, error) {
			type keyJSON struct {
				ID       string     `json:"id"`
				Role     string     `json:"role"`
				Name     string     `json:"name"`
				Groups   []string   `json:"groups"`
				Bindings []string   `json:"bindings"`
				Created  time.Time  `json:"created"`
				Expires  *time.Time `json:"expires,omitempty"`
				Revoked  *time.Time `json:"revoked,omitempty"`
				LastUsed *time.Time `json:"last_used,omitempty"`
			}
			out := []keyJSON{}
			after := ""
			for {
				ks, err := acc.Keys(ctx, tenant, after, 1000)
				if err != nil {
					return nil, err
				}
				for _, k := range ks {
					out = append(out, keyJSON{ID: k.ID, Role: string(k.Role), Name: k.Name, Groups: orEmpty(k.Groups), Bindings: orEmpty(k.Bindings),
						Created: k.Created, Expires: k.Expires, Revoked: k.Revoked, LastUsed: k.LastUsed})
				}
				if len(ks) < 1000 {
					return out, nil
				}
				after = ks[len(ks)-1].ID
			}
		},
		Controls: func(ctx context.Context, tenant string) (any, error) {
			_, cs, err := ctl.TenantControls(ctx, tenant)
			if cs == nil {
				cs = []controls.Control{}
			}
			return cs, err
		},
		Alerts: func(ctx context.Context, tenant string, from, to time.Time) (any, error) {
			as, err := al.Alerts(ctx, tenant, alerting.AlertFilter{From: from, To: to, Limit: 1 << 20})
			if as == nil {
				as = []alerting.Alert{}
			}
			return as, err
		},
		Incidents: func(ctx context.Context, tenant string, from, to time.Time) (any, error) {
			all, err := al.Incidents(ctx, tenant, alerting.IncidentFilter{Limit: 1 << 20})
			out := []alerting.Incident{}
			for _, inc := range all {
				// Those open in the period, or opened before and still open
				// or resolved in it.
				resolvedBefore := inc.ResolvedAt != nil && inc.ResolvedAt.Before(from)
				if inc.Opened.Before(to) && !resolvedBefore {
					out = append(out, inc)
				}
			}
			return out, err
		},
		Settings: func(ctx context.Context, tenant string) (any, error) {
			t, err := acc.Tenant(ctx, tenant)
			if err != nil {
				return nil, err
			}
			st := t.Settings
			st.Receivers = nil // credentials; their changes are recorded redacted
			var routes any
			if len(st.AlertRoutes) > 0 {
				_ = json.Unmarshal(st.AlertRoutes, &routes)
			}
			return map[string]any{"retention_days": st.RetentionDays, "policy_approvals": st.PolicyApprovals,
				"default_approval": st.DefaultApproval, "alert_routes": routes, "status": t.Status}, nil
		},
	}
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// policiesOf returns the versions created in [from, to) and the version
// active at from, with their approvals and the activations in the period.
func policiesOf(ctx context.Context, pol policy.VersionReader, tenant string, from, to time.Time) ([]evidence.Policy, error) {
	versions, err := pol.PolicyVersions(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	acts, err := pol.Activations(ctx, tenant, 1<<20)
	if err != nil {
		return nil, err
	}
	type key struct {
		name string
		v    int64
	}
	activeAtStart := key{}
	var latest time.Time
	inPeriod := map[key][]time.Time{}
	for _, a := range acts {
		k := key{a.Name, a.Version}
		switch {
		case a.Activated.Before(from) && (latest.IsZero() || a.Activated.After(latest)):
			activeAtStart, latest = k, a.Activated
		case !a.Activated.Before(from) && a.Activated.Before(to):
			inPeriod[k] = append(inPeriod[k], a.Activated)
		}
	}
	out := []evidence.Policy{}
	for _, v := range versions {
		k := key{v.Name, v.Version}
		created := !v.Created.Before(from) && v.Created.Before(to)
		if !created && k != activeAtStart && inPeriod[k] == nil {
			continue
		}
		votes, err := pol.PolicyApprovals(ctx, tenant, v.Name, v.Version)
		if err != nil {
			return nil, err
		}
		p := evidence.Policy{Name: v.Name, Version: v.Version, Digest: v.Digest, Author: v.Author, Created: v.Created,
			Approvals: []evidence.PolicyVote{}, Activations: inPeriod[k], ActiveAtStart: k == activeAtStart, Source: v.Source, Format: "yaml"}
		if p.Activations == nil {
			p.Activations = []time.Time{}
		}
		if json.Valid(v.Source) {
			p.Format = "json"
		}
		for _, a := range votes {
			p.Approvals = append(p.Approvals, evidence.PolicyVote{Key: a.Key, At: a.At})
		}
		out = append(out, p)
	}
	return out, nil
}
