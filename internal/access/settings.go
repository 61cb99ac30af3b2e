package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/policy"
)

var keyIDRE = regexp.MustCompile(`^[a-z2-7]{16}$`)

// Tenant statuses.
const (
	TenantActive    = "active"
	TenantSuspended = "suspended"
)

// Tenant is one customer's isolated space: its own log, keys, policies
// and settings.
type Tenant struct {
	ID       string
	Name     string
	Status   string
	Created  time.Time
	Settings Settings
}

// Settings are a tenant's own choices. Later capabilities add theirs;
// every change is a setting.changed entry.
type Settings struct {
	// RetentionDays is how long entries are kept before they may be
	// pruned (evidence exports cover what is kept).
	RetentionDays int `json:"retention_days"`
	// LegalHold stops the retention job: while it is set, no entry of the
	// tenant's log is pruned, however old.
	LegalHold bool `json:"legal_hold"`
	// PolicyApprovals is how many approvals by other keys a policy
	// version needs before it can be activated (0: none).
	PolicyApprovals int `json:"policy_approvals"`
	// DefaultApproval is who approves a require_approval that no rule's
	// approval describes (from the scan mapping, session rules, a kill
	// switch or a rule without one): groups and/or key ids (none: any
	// approver), how many, and how long the request stays open.
	DefaultApproval policy.Approval `json:"default_approval"`
	// Receivers are where notifications go (approval requests now, alerts
	// later): a JSON list the notify package defines and checks. They hold
	// credentials: answers and entries show them only as Receivers.Redact
	// returns them.
	Receivers json.RawMessage `json:"receivers,omitempty"`
	// AlertRoutes say which receivers hear of which alerts, and which
	// alerts set a kill switch: a JSON list the alerting package defines
	// and checks (RouteRules). They hold no credentials.
	AlertRoutes json.RawMessage `json:"alert_routes,omitempty"`
}

// RouteRules checks alert routes against the receivers they name; the
// alerting package provides them.
type RouteRules interface {
	Validate(routes, receivers json.RawMessage) error
}

// ReceiverRules checks, redacts and completes receiver lists; the notify
// package provides them (the access model does not know their shape).
type ReceiverRules interface {
	Validate(list json.RawMessage) error
	// Redact returns the list without its credentials.
	Redact(list json.RawMessage) (json.RawMessage, error)
	// Restore puts back into next the credentials a client sent back
	// redacted, from prev.
	Restore(next, prev json.RawMessage) (json.RawMessage, error)
}

// DefaultSettings are a new tenant's settings: a year of retention and a
// month to spare (a SOC 2 period is twelve months) and one approver other
// than the author for every policy version (DESIGN.md section 5). The
// bootstrap tenant starts at 0, so that one person can start; its
// tenant.created entry records that.
var DefaultSettings = Settings{RetentionDays: 400, PolicyApprovals: 1,
	DefaultApproval: policy.Approval{Count: 1, Expires: "1h"}}

// Event returns the settings as a tenant.created entry records them.
func (s Settings) Event() *event.TenantSettings {
	return &event.TenantSettings{RetentionDays: s.RetentionDays, PolicyApprovals: s.PolicyApprovals}
}

// Limits of the settings.
const (
	MinRetentionDays   = 1
	MaxRetentionDays   = 36500
	MaxPolicyApprovals = 10
)

// Validate reports the first setting out of range.
func (s Settings) Validate() error {
	if s.RetentionDays < MinRetentionDays || s.RetentionDays > MaxRetentionDays {
		return invalid("retention_days must be from %d to %d", MinRetentionDays, MaxRetentionDays)
	}
	if s.PolicyApprovals < 0 || s.PolicyApprovals > MaxPolicyApprovals {
		return invalid("policy_approvals must be from 0 to %d", MaxPolicyApprovals)
	}
	a := s.DefaultApproval
	if a.Count < 1 || a.Count > MaxPolicyApprovals {
		return invalid("default_approval.count must be from 1 to %d", MaxPolicyApprovals)
	}
	if d, err := policy.ParseDuration(a.Expires); err != nil || d < time.Minute || d > 30*24*time.Hour {
		return invalid("default_approval.expires must be a duration from 1m to 30d")
	}
	for _, g := range a.Groups {
		if !groupRE.MatchString(g) {
			return invalid("default_approval group %q must match %s", g, groupRE)
		}
	}
	for _, k := range a.Keys {
		if !keyIDRE.MatchString(k) {
			return invalid("default_approval key %q is not a key id", k)
		}
	}
	return nil
}

// SettingsPatch changes some settings; nil fields stay as they are.
type SettingsPatch struct {
	RetentionDays   *int             `json:"retention_days,omitempty"`
	LegalHold       *bool            `json:"legal_hold,omitempty"`
	PolicyApprovals *int             `json:"policy_approvals,omitempty"`
	DefaultApproval *policy.Approval `json:"default_approval,omitempty"`
	Receivers       json.RawMessage  `json:"receivers,omitempty"`
	AlertRoutes     json.RawMessage  `json:"alert_routes,omitempty"`
}

// apply returns s with the patch applied and the changes it makes.
func (p SettingsPatch) apply(s Settings) (Settings, []change) {
	var cs []change
	if p.RetentionDays != nil && *p.RetentionDays != s.RetentionDays {
		cs = append(cs, change{"retention_days", s.RetentionDays, *p.RetentionDays})
		s.RetentionDays = *p.RetentionDays
	}
	if p.LegalHold != nil && *p.LegalHold != s.LegalHold {
		cs = append(cs, change{"legal_hold", s.LegalHold, *p.LegalHold})
		s.LegalHold = *p.LegalHold
	}
	if p.PolicyApprovals != nil && *p.PolicyApprovals != s.PolicyApprovals {
		cs = append(cs, change{"policy_approvals", s.PolicyApprovals, *p.PolicyApprovals})
		s.PolicyApprovals = *p.PolicyApprovals
	}
	if p.DefaultApproval != nil && !reflect.DeepEqual(*p.DefaultApproval, s.DefaultApproval) {
		cs = append(cs, change{"default_approval", s.DefaultApproval, *p.DefaultApproval})
		s.DefaultApproval = *p.DefaultApproval
	}
	return s, cs
}

// change is one changed field, before and after.
type change struct {
	field    string
	from, to any
}

// Error is a refusal whose message is meant for the caller: Kind is one
// of ErrInvalid, ErrForbidden, ErrExists, ErrStale.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, e.Kind) hold.
func (e *Error) Unwrap() error { return e.Kind }

// ErrInvalid marks a request the access model refuses as malformed: a bad
// role, name, group, binding, expiry or setting.
var ErrInvalid = errors.New("invalid request")

func invalid(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &Error{Kind: ErrForbidden, Msg: fmt.Sprintf(format, args...)}
}
