package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// Key listing limits.
const (
	DefaultKeyLimit = 100
	MaxKeyLimit     = 1000
)

// decodeJSON strictly decodes a JSON body into v: unknown fields,
// trailing data and a body over the limit are refused.
func decodeJSON(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errBad("malformed body: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBad("trailing data after the body")
	}
	return nil
}

// KeyJSON is a key as served: never its secret or hash.
type KeyJSON struct {
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

func keyJSON(k *access.Key) KeyJSON {
	return KeyJSON{ID: k.ID, Tenant: k.Tenant, Role: string(k.Role), Name: k.Name, Groups: orEmpty(k.Groups),
		Bindings: orEmpty(k.Bindings), CreatedAt: k.Created, ExpiresAt: k.Expires, RevokedAt: k.Revoked, LastUsedAt: k.LastUsed}
}

// NewKeyJSON answers a key creation: the key and, once, its secret.
type NewKeyJSON struct {
	KeyJSON
	Key string `json:"key"`
}

type createKeyRequest struct {
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Groups    []string   `json:"groups"`
	Bindings  []string   `json:"bindings"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// createKey answers POST /v1/keys: 201 with the key and its secret, shown
// this once.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var req createKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	k, secret, err := s.cfg.Access.CreateKey(r.Context(), p.key, p.tenant, access.KeySpec{Role: access.Role(req.Role),
		Name: req.Name, Groups: req.Groups, Bindings: req.Bindings, Expires: req.ExpiresAt})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, NewKeyJSON{KeyJSON: keyJSON(k), Key: secret})
}

var keyIDRE = regexp.MustCompile(`^[a-z2-7]{16}$`)

// keyIDFrom reads the {id} of a key route; anything that cannot be a key
// id is simply not found.
func keyIDFrom(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !keyIDRE.MatchString(id) {
		return "", fmt.Errorf("key %q: %w", id, access.ErrNotFound)
	}
	return id, nil
}

// listKeys answers GET /v1/keys?cursor=&limit=: the tenant's keys in id
// order, revoked ones included.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	limit, err := queryLimit(r, DefaultKeyLimit, MaxKeyLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after := r.URL.Query().Get("cursor")
	if after != "" && !keyIDRE.MatchString(after) {
		s.fail(w, r, errBad("cursor is not a cursor of this listing"))
		return
	}
	ks, err := s.cfg.Access.Keys(r.Context(), p.tenant, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Keys       []KeyJSON `json:"keys"`
		NextCursor string    `json:"next_cursor,omitempty"`
	}{Keys: []KeyJSON{}}
	for i := range ks {
		out.Keys = append(out.Keys, keyJSON(&ks[i]))
	}
	if len(ks) == limit {
		out.NextCursor = ks[len(ks)-1].ID
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// getAPIKey answers GET /v1/keys/{id}.
func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	id, err := keyIDFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.cfg.Access.Key(r.Context(), p.tenant, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, keyJSON(k))
}

// updateKeyRequest is the body of PATCH /v1/keys/{id}: absent fields stay;
// "expires_at": null removes the expiry.
type updateKeyRequest struct {
	Role      *string         `json:"role"`
	Name      *string         `json:"name"`
	Groups    *[]string       `json:"groups"`
	Bindings  *[]string       `json:"bindings"`
	ExpiresAt json.RawMessage `json:"expires_at"`
}

// updateKey answers PATCH /v1/keys/{id}.
func (s *Server) updateKey(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	id, err := keyIDFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req updateKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	patch := access.KeyPatch{Name: req.Name, Groups: req.Groups, Bindings: req.Bindings}
	if req.Role != nil {
		role := access.Role(*req.Role)
		patch.Role = &role
	}
	switch {
	case req.ExpiresAt == nil:
	case string(req.ExpiresAt) == "null":
		patch.ClearExpiry = true
	default:
		var t time.Time
		if err := json.Unmarshal(req.ExpiresAt, &t); err != nil {
			s.fail(w, r, errBad("expires_at must be an RFC 3339 time or null"))
			return
		}
		patch.Expires = &t
	}
	// The key must be the tenant's before anything is said about the change.
	if _, err := s.cfg.Access.Key(r.Context(), p.tenant, id); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.cfg.Access.UpdateKey(r.Context(), p.key, p.tenant, id, patch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, keyJSON(k))
}

// revokeKey answers DELETE /v1/keys/{id}: the key stops working at the
// next request; the answer is the key as revoked.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	id, err := keyIDFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.cfg.Access.Key(r.Context(), p.tenant, id); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.cfg.Access.RevokeKey(r.Context(), p.key, p.tenant, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, keyJSON(k))
}

// accessReview answers GET /v1/access/review.
func (s *Server) accessReview(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	rv, err := s.cfg.Access.Review(r.Context(), p.tenant)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rv)
}

// signReviewRequest is the body of POST /v1/access/review/sign: the
// digest of the review read (optional; a review that changed since is
// 409) and a comment.
type signReviewRequest struct {
	Digest  string `json:"digest"`
	Comment string `json:"comment"`
}

// SignedReviewJSON answers a sign-off: the review signed and the entry
// that records it.
type SignedReviewJSON struct {
	Review *access.Review `json:"review"`
	Seq    int64          `json:"seq"`
	Entry  string         `json:"entry_id"`
}

// signReview answers POST /v1/access/review/sign: 201 with the
// access.review_signed entry.
func (s *Server) signReview(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var req signReviewRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	rv, a, err := s.cfg.Access.SignReview(r.Context(), p.key, p.tenant, req.Digest, req.Comment)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, SignedReviewJSON{Review: rv, Seq: a.Seq, Entry: a.ID})
}

// getSettings answers GET /v1/settings.
func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	st, err := s.cfg.Access.Settings(r.Context(), p.tenant)
	if err == nil {
		st, err = s.cfg.Access.Shown(st)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}

// patchSettings answers PATCH /v1/settings: every change is one
// setting.changed entry; the answer is the settings in force.
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var patch access.SettingsPatch
	if err := decodeJSON(r, &patch); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.cfg.Access.UpdateSettings(r.Context(), p.key, p.tenant, patch)
	if err == nil {
		st, err = s.cfg.Access.Shown(st)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}

// TenantJSON is a tenant as served.
type TenantJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Status    string          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	Settings  access.Settings `json:"settings"`
}

func tenantJSON(t *access.Tenant) TenantJSON {
	st := t.Settings
	st.Receivers = nil // credentials: GET /v1/settings shows them redacted
	return TenantJSON{ID: t.ID, Name: t.Name, Status: t.Status, CreatedAt: t.Created, Settings: st}
}

type createTenantRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// NewTenantJSON answers a tenant creation: the tenant and its first admin
// key, whose secret is shown this once.
type NewTenantJSON struct {
	Tenant   TenantJSON `json:"tenant"`
	AdminKey NewKeyJSON `json:"admin_key"`
}

// createTenant answers POST /v1/tenants: 201 with the tenant and its
// first admin key; 409 for an id in use.
func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var req createTenantRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	t, k, secret, err := s.cfg.Access.CreateTenant(r.Context(), p.key, req.ID, req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.cfg.OnTenant != nil {
		if err := s.cfg.OnTenant(r.Context(), t.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.writeJSON(w, r, http.StatusCreated, NewTenantJSON{Tenant: tenantJSON(t), AdminKey: NewKeyJSON{KeyJSON: keyJSON(k), Key: secret}})
}

// listTenants answers GET /v1/tenants?cursor=&limit=.
func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r, DefaultKeyLimit, MaxKeyLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after := r.URL.Query().Get("cursor")
	if after != "" && !ledger.ValidTenant(after) {
		s.fail(w, r, errBad("cursor is not a cursor of this listing"))
		return
	}
	ts, err := s.cfg.Access.Tenants(r.Context(), after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Tenants    []TenantJSON `json:"tenants"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}{Tenants: []TenantJSON{}}
	for i := range ts {
		out.Tenants = append(out.Tenants, tenantJSON(&ts[i]))
	}
	if len(ts) == limit {
		out.NextCursor = ts[len(ts)-1].ID
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

type suspendTenantRequest struct {
	Reason string `json:"reason"`
}

// suspendTenant answers POST /v1/tenants/{id}/suspend: the tenant's keys
// stop at their next request.
func (s *Server) suspendTenant(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	id := r.PathValue("id")
	if !ledger.ValidTenant(id) {
		s.fail(w, r, fmt.Errorf("tenant %q: %w", id, access.ErrNotFound))
		return
	}
	var req suspendTenantRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	t, err := s.cfg.Access.SuspendTenant(r.Context(), p.key, id, req.Reason)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, tenantJSON(t))
}

// speaksFor checks that the caller may act for principal. A refusal is
// answered 403 and recorded as an access.refused entry; it reports
// whether the handler may go on.
func (s *Server) speaksFor(w http.ResponseWriter, r *http.Request, principal string) bool {
	p := principalFrom(r.Context())
	if p.key.SpeaksFor(principal) {
		return true
	}
	if err := s.cfg.Access.Refuse(r.Context(), p.key, routeName(r), principal, "the key is not bound to this principal"); err != nil {
		// The refusal stands; only its record failed.
		s.log.ErrorContext(r.Context(), "record refused access", "key_id", p.key.ID, "err", err)
	}
	prob := probForbidden
	prob.Detail = "this key is not bound to the principal " + fmt.Sprintf("%q", principal)
	s.writeProblem(w, r, prob)
	return false
}

// sees reports whether the caller may see what principal did: an agent
// key only its own principals' receipts. What it may not see is not found.
func sees(p *principal, agent string) error {
	if p.key.SpeaksFor(agent) {
		return nil
	}
	return fmt.Errorf("receipt of principal %q, not the key's: %w", agent, event.ErrNoReceipt)
}
