package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Effects of a kill switch.
const (
	// ControlDeny denies every request the switch matches, whatever the
	// policy or an approval's authorization says.
	ControlDeny = "deny"
	// ControlRequireApproval makes every request the switch matches that
	// the policy does not deny need approval.
	ControlRequireApproval = "require_approval"
)

// ControlScope is what a kill switch applies to: every field set must
// match, and an empty scope is the whole tenant. Agent and Action are ids
// or globs ('billing-*', 'stripe.*'); Session is an exact session id.
type ControlScope struct {
	Agent   string `json:"agent,omitempty"`
	Action  string `json:"action,omitempty"`
	Session string `json:"session,omitempty"`
}

// Control is a kill switch in force.
type Control struct {
	ID        string       `json:"id"`
	Scope     ControlScope `json:"scope"`
	Effect    string       `json:"effect"`
	Reason    string       `json:"reason"`
	ExpiresAt *time.Time   `json:"expires_at"`
	CreatedAt time.Time    `json:"created_at"`
	CreatedBy string       `json:"created_by"`
}

// ControlSpec is a kill switch to set. Reason (1 to 500 bytes) is what a
// refused agent is told; a nil ExpiresAt never expires.
type ControlSpec struct {
	Scope     ControlScope `json:"scope"`
	Effect    string       `json:"effect"`
	Reason    string       `json:"reason"`
	ExpiresAt *time.Time   `json:"expires_at,omitempty"`
}

// SetControl sets a kill switch and returns it. It binds from the next
// decision on, on every replica. A malformed switch is an *Error with
// status 400 whose Detail says why.
func (c *Client) SetControl(ctx context.Context, spec ControlSpec) (*Control, error) {
	var out Control
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/controls", nil, spec, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Controls lists the tenant's kill switches in force.
func (c *Client) Controls(ctx context.Context) ([]Control, error) {
	var out struct {
		Controls []Control `json:"controls"`
	}
	if err := c.getJSON(ctx, "/v1/controls", nil, &out); err != nil {
		return nil, err
	}
	return out.Controls, nil
}

// ClearControl clears a kill switch. An unknown or already cleared switch
// is an *Error with status 404.
func (c *Client) ClearControl(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/controls/"+url.PathEscape(id), nil, nil)
	return err
}
