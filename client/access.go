package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Key is an API key as the server shows it: never its secret.
type Key struct {
	ID         string     `json:"id"`
	Tenant     string     `json:"tenant"`
	Role       string     `json:"role"`
	Name       string     `json:"name"`
	Groups     []string   `json:"groups"`
	Bindings   []string   `json:"bindings"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Status is "revoked", "expired" (at now) or "active".
func (k *Key) Status(now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	}
	return "active"
}

// NewKey is a key just created with its secret, the whole bearer token
// "wdn_<id>_<secret>". The server shows the secret this once and keeps only
// its hash: callers MUST NOT log it.
type NewKey struct {
	Key
	Secret string `json:"key"`
}

// LogValue leaves the secret out of logs.
func (k NewKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("tenant", k.Tenant), slog.String("role", k.Role))
}

// KeySpec is what CreateKey asks for. Bindings are the principal ids or
// globs an agent key speaks for (agent keys need at least one; other roles
// have none); a nil ExpiresAt never expires.
type KeySpec struct {
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Groups    []string   `json:"groups,omitempty"`
	Bindings  []string   `json:"bindings,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// KeyUpdate changes a key: nil fields stay as they are. A non-nil Groups
// or Bindings replaces the whole list (an empty list removes them all).
// ClearExpiry removes the expiry; it cannot be combined with ExpiresAt.
type KeyUpdate struct {
	Role        *string
	Name        *string
	Groups      *[]string
	Bindings    *[]string
	ExpiresAt   *time.Time
	ClearExpiry bool
}

// MarshalJSON encodes the PATCH body: absent fields stay, and a cleared
// expiry is "expires_at": null.
func (u KeyUpdate) MarshalJSON() ([]byte, error) {
	if u.ClearExpiry && u.ExpiresAt != nil {
		return nil, errors.New("key update: ExpiresAt and ClearExpiry both set")
	}
	m := map[string]any{}
	if u.Role != nil {
		m["role"] = *u.Role
	}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	// A nil list would encode as null, which the server reads as absent.
	list := func(xs []string) []string {
		if xs == nil {
			return []string{}
		}
		return xs
	}
	if u.Groups != nil {
		m["groups"] = list(*u.Groups)
	}
	if u.Bindings != nil {
		m["bindings"] = list(*u.Bindings)
	}
	switch {
	case u.ClearExpiry:
		m["expires_at"] = nil
	case u.ExpiresAt != nil:
		m["expires_at"] = u.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(m)
}

// KeyPage is one page of keys; NextCursor is empty on the last.
type KeyPage struct {
	Keys       []Key  `json:"keys"`
	NextCursor string `json:"next_cursor"`
}

// sendJSON sends in (if not nil) as the JSON body and decodes the answer
// into out.
func (c *Client) sendJSON(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("warden %s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	b, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("warden %s %s: decode: %w", method, path, err)
	}
	return nil
}

func pageQuery(cursor string, limit int) url.Values {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

// CreateKey creates a key in the tenant. Only admin and owner keys create
// keys, and never of a role above their own.
func (c *Client) CreateKey(ctx context.Context, spec KeySpec) (*NewKey, error) {
	var k NewKey
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/keys", nil, spec, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// Keys lists one page of the tenant's keys in id order, revoked ones
// included, continuing at cursor if it is not empty (limit <= 0: the
// server's default).
func (c *Client) Keys(ctx context.Context, cursor string, limit int) (*KeyPage, error) {
	var p KeyPage
	if err := c.getJSON(ctx, "/v1/keys", pageQuery(cursor, limit), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetKey reads one key.
func (c *Client) GetKey(ctx context.Context, id string) (*Key, error) {
	var k Key
	if err := c.getJSON(ctx, "/v1/keys/"+url.PathEscape(id), nil, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// UpdateKey changes a key and returns it as changed. A revoked key cannot
// be changed.
func (c *Client) UpdateKey(ctx context.Context, id string, u KeyUpdate) (*Key, error) {
	var k Key
	if err := c.sendJSON(ctx, http.MethodPatch, "/v1/keys/"+url.PathEscape(id), nil, u, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// RevokeKey revokes a key: it stops working at its next request. It
// returns the key as revoked.
func (c *Client) RevokeKey(ctx context.Context, id string) (*Key, error) {
	var k Key
	if err := c.sendJSON(ctx, http.MethodDelete, "/v1/keys/"+url.PathEscape(id), nil, nil, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// ReviewKey is one key as the access review lists it; Status is active,
// expired or revoked when the review was made.
type ReviewKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Groups     []string   `json:"groups"`
	Bindings   []string   `json:"bindings"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Status     string     `json:"status"`
}

// AccessReview is a tenant's periodic access review: every key, and the
// digest that a sign-off records. The digest covers everything but the
// keys' last use.
type AccessReview struct {
	Tenant      string      `json:"tenant"`
	GeneratedAt time.Time   `json:"generated_at"`
	Keys        []ReviewKey `json:"keys"`
	Digest      string      `json:"digest"`
}

// SignedReview is a recorded sign-off: the review signed and the
// access.review_signed entry that records it.
type SignedReview struct {
	Review  AccessReview `json:"review"`
	Seq     int64        `json:"seq"`
	EntryID string       `json:"entry_id"`
}

// AccessReview reads the tenant's access review.
func (c *Client) AccessReview(ctx context.Context) (*AccessReview, error) {
	var rv AccessReview
	if err := c.getJSON(ctx, "/v1/access/review", nil, &rv); err != nil {
		return nil, err
	}
	return &rv, nil
}

// SignAccessReview signs off the tenant's access review. digest, when not
// empty, is the digest of the review the signer read: if the review has
// changed since, nothing is signed and the answer is an *Error with status
// 409.
func (c *Client) SignAccessReview(ctx context.Context, digest, comment string) (*SignedReview, error) {
	in := struct {
		Digest  string `json:"digest,omitempty"`
		Comment string `json:"comment,omitempty"`
	}{digest, comment}
	var s SignedReview
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/access/review/sign", nil, in, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Settings are a tenant's settings.
type Settings struct {
	// RetentionDays is how long entries are kept before they may be pruned.
	RetentionDays int `json:"retention_days"`
	// LegalHold stops pruning of the tenant's log.
	LegalHold bool `json:"legal_hold"`
	// PolicyApprovals is how many approvals by other keys a policy
	// version needs before it can be activated.
	PolicyApprovals int `json:"policy_approvals"`
}

// SettingsUpdate changes settings: nil fields stay as they are.
type SettingsUpdate struct {
	RetentionDays   *int  `json:"retention_days,omitempty"`
	LegalHold       *bool `json:"legal_hold,omitempty"`
	PolicyApprovals *int  `json:"policy_approvals,omitempty"`
}

// Settings reads the tenant's settings.
func (c *Client) Settings(ctx context.Context) (*Settings, error) {
	var s Settings
	if err := c.getJSON(ctx, "/v1/settings", nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// UpdateSettings changes the tenant's settings and returns those in force.
func (c *Client) UpdateSettings(ctx context.Context, u SettingsUpdate) (*Settings, error) {
	var s Settings
	if err := c.sendJSON(ctx, http.MethodPatch, "/v1/settings", nil, u, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Tenant is a tenant of the installation; Status is active or suspended.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Settings  Settings  `json:"settings"`
}

// NewTenant is a tenant just created with its first admin key, whose
// secret is shown this once.
type NewTenant struct {
	Tenant   Tenant `json:"tenant"`
	AdminKey NewKey `json:"admin_key"`
}

// TenantPage is one page of tenants; NextCursor is empty on the last.
type TenantPage struct {
	Tenants    []Tenant `json:"tenants"`
	NextCursor string   `json:"next_cursor"`
}

// CreateTenant creates a tenant with its first admin key (owner keys only).
func (c *Client) CreateTenant(ctx context.Context, id, name string) (*NewTenant, error) {
	in := struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}{id, name}
	var t NewTenant
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/tenants", nil, in, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Tenants lists one page of tenants in id order, continuing at cursor if
// it is not empty (owner keys only).
func (c *Client) Tenants(ctx context.Context, cursor string, limit int) (*TenantPage, error) {
	var p TenantPage
	if err := c.getJSON(ctx, "/v1/tenants", pageQuery(cursor, limit), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// SuspendTenant suspends a tenant: its keys stop at their next request
// (owner keys only). Suspending a suspended tenant changes nothing.
func (c *Client) SuspendTenant(ctx context.Context, id, reason string) (*Tenant, error) {
	in := struct {
		Reason string `json:"reason,omitempty"`
	}{reason}
	var t Tenant
	if err := c.sendJSON(ctx, http.MethodPost, "/v1/tenants/"+url.PathEscape(id)+"/suspend", nil, in, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
