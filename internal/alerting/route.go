package alerting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/notify"
	"github.com/wardenhq/warden/internal/policy"
)

// Limits of a tenant's routes.
const (
	MaxRoutes          = 32
	MaxRouteReceivers  = 16
	MinRouteControlFor = time.Minute
	MaxRouteControlFor = 30 * 24 * time.Hour
)

var routeNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Route says what happens to the tenant's alerts it matches: which
// receivers are told, and optionally a kill switch to set. Every route
// that matches applies. Routes live in the tenant's settings
// (alert_routes), so they match that tenant's alerts only.
type Route struct {
	Name  string     `json:"name"`
	Match RouteMatch `json:"match"`
	// Receivers are names of the tenant's receivers.
	Receivers []string `json:"receivers,omitempty"`
	// Control, if set, is a kill switch the route sets when it matches.
	Control *RouteControl `json:"control,omitempty"`
}

// RouteMatch selects alerts: every field set must match.
type RouteMatch struct {
	// Severities the alert may have (any of them); empty: any.
	Severity []string `json:"severity,omitempty"`
	// Agent and Metric are globs of the policy grammar ("billing-*",
	// "findings.*"); empty: any. An alert about the log itself has no
	// agent, so a route with an agent glob never matches it.
	Agent  string `json:"agent,omitempty"`
	Metric string `json:"metric,omitempty"`
}

// RouteControl is the kill switch a route sets on the alert's agent (or
// on the whole tenant): deny or require_approval, for a while.
type RouteControl struct {
	Effect string `json:"effect"`
	// Scope is "agent" (the default: the alert's agent exactly) or
	// "tenant".
	Scope string `json:"scope,omitempty"`
	// For is how long the switch holds ("1h", "30m"); empty: until
	// cleared.
	For string `json:"for,omitempty"`
}

// Route control scopes.
const (
	ScopeAgent  = "agent"
	ScopeTenant = "tenant"
)

// compiledRoute is a route ready to match.
type compiledRoute struct {
	Route
	agent, metric *policy.Glob
	hold          time.Duration
}

// DecodeRoutes parses and checks a tenant's routes; receivers are the
// names the tenant's receivers have (a route naming another is refused).
func DecodeRoutes(list json.RawMessage, receivers []string) ([]Route, error) {
	rs, err := compileRoutes(list, receivers)
	if err != nil {
		return nil, err
	}
	out := make([]Route, len(rs))
	for i := range rs {
		out[i] = rs[i].Route
	}
	return out, nil
}

func compileRoutes(list json.RawMessage, receivers []string) ([]compiledRoute, error) {
	if len(bytes.TrimSpace(list)) == 0 || string(bytes.TrimSpace(list)) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(list))
	dec.DisallowUnknownFields()
	var rs []Route
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("alert_routes: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("alert_routes: trailing data")
	}
	if len(rs) > MaxRoutes {
		return nil, fmt.Errorf("alert_routes: at most %d routes", MaxRoutes)
	}
	out := make([]compiledRoute, 0, len(rs))
	seen := map[string]bool{}
	for i, r := range rs {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("alert_routes[%d] (%q): "+format, append([]any{i, r.Name}, args...)...)
		}
		if !routeNameRE.MatchString(r.Name) {
			return nil, bad("name must match %s", routeNameRE)
		}
		if seen[r.Name] {
			return nil, bad("name is used twice")
		}
		seen[r.Name] = true
		c := compiledRoute{Route: r}
		for _, s := range r.Match.Severity {
			if s != SeverityInfo && s != SeverityWarning && s != SeverityCritical {
				return nil, bad("severity %q is not info, warning or critical", s)
			}
		}
		if r.Match.Agent != "" {
			g, err := policy.CompileGlob(r.Match.Agent)
			if err != nil {
				return nil, bad("match.agent: %v", err)
			}
			c.agent = &g
		}
		if r.Match.Metric != "" {
			g, err := policy.CompileGlob(r.Match.Metric)
			if err != nil {
				return nil, bad("match.metric: %v", err)
			}
			c.metric = &g
		}
		if len(r.Receivers) > MaxRouteReceivers {
			return nil, bad("at most %d receivers", MaxRouteReceivers)
		}
		for _, name := range r.Receivers {
			if !slices.Contains(receivers, name) {
				return nil, bad("receiver %q is not one of the tenant's receivers", name)
			}
		}
		if r.Control == nil && len(r.Receivers) == 0 {
			return nil, bad("a route needs receivers, a control or both")
		}
		if ct := r.Control; ct != nil {
			if ct.Effect != controls.Deny && ct.Effect != controls.RequireApproval {
				return nil, bad("control.effect must be deny or require_approval")
			}
			if ct.Scope != "" && ct.Scope != ScopeAgent && ct.Scope != ScopeTenant {
				return nil, bad("control.scope must be agent or tenant")
			}
			if ct.For != "" {
				d, err := policy.ParseDuration(ct.For)
				if err != nil || d < MinRouteControlFor || d > MaxRouteControlFor {
					return nil, bad("control.for must be a duration from 1m to 30d")
				}
				c.hold = d
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// matches reports whether r applies to a.
func (r *compiledRoute) matches(a *Alert) bool {
	if len(r.Match.Severity) > 0 && !slices.Contains(r.Match.Severity, a.Severity) {
		return false
	}
	if r.agent != nil && (a.Agent == "" || !r.agent.Match(a.Agent)) {
		return false
	}
	return r.metric == nil || r.metric.Match(a.Metric)
}

// SettingsRoutes checks the alert_routes setting for the access package
// (access.RouteRules).
type SettingsRoutes struct{}

// Validate checks routes against the receivers (the receivers setting)
// they name.
func (SettingsRoutes) Validate(routes, receivers json.RawMessage) error {
	rs, err := notify.Decode(receivers)
	if err != nil {
		return err
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	_, err = compileRoutes(routes, names)
	return err
}
