package access

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Appender records entries; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// Reader is what the service reads outside a transaction.
type Reader interface {
	KeyReader
	// Keys returns a tenant's keys (revoked ones included) with id after
	// after, in id order, at most limit.
	Keys(ctx context.Context, tenant, after string, limit int) ([]Key, error)
	// Tenant returns a tenant with its settings, or ErrNotFound.
	Tenant(ctx context.Context, id string) (*Tenant, error)
	// TenantList returns tenants with id after after, in id order, at
	// most limit.
	TenantList(ctx context.Context, after string, limit int) ([]Tenant, error)
	// TouchKey records that a key was used at at.
	TouchKey(ctx context.Context, id string, at time.Time) error
}

// Tx is what the service changes inside the append transaction of the
// entry that records the change, so that neither exists without the
// other. Every method acts on the transaction's tenant only; a key or
// tenant of another is ErrNotFound.
type Tx interface {
	KeyWriter
	TenantWriter
	BootstrapTx
	// KeyForUpdate reads a key of the transaction's tenant.
	KeyForUpdate(id string) (*Key, error)
	// UpdateKey stores a key's role, name, groups, bindings, expiry and
	// revocation.
	UpdateKey(k *Key) error
	// TenantForUpdate reads the transaction's tenant.
	TenantForUpdate() (*Tenant, error)
	// SetTenantStatus and SetTenantSettings change the transaction's tenant.
	SetTenantStatus(status string) error
	SetTenantSettings(s Settings) error
}

// Errors of the service, for the API to map: a change the actor's role
// may not make is ErrForbidden; a tenant that exists already ErrExists.
var (
	ErrForbidden = errors.New("not allowed for this key's role")
	ErrExists    = errors.New("already exists")
	// ErrStale refuses a sign-off of a review that has changed since the
	// reviewer read it.
	ErrStale = errors.New("the access review changed since it was read")
)

// Service keeps tenants, keys and settings. Each change is a ledger entry
// with the acting key as actor, written in the same transaction as the
// change.
type Service struct {
	Ledger Appender
	Store  Reader
	Rand   io.Reader
	Clock  func() time.Time
	// Receivers checks and redacts notification receivers (nil: settings
	// take no receivers).
	Receivers ReceiverRules
	// Routes checks alert routes (nil: alert_routes cannot be set).
	Routes RouteRules
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock().UTC()
}

// KeySpec describes a key to create.
type KeySpec struct {
	Role     Role
	Name     string
	Groups   []string
	Bindings []string
	Expires  *time.Time
}

// Limits on what a key carries.
const (
	MaxNameLength = 200
	MaxGroups     = 32
	MaxBindings   = 64
)

var groupRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// validateKey checks what a key of tenant would carry.
func validateKey(tenant string, role Role, name string, groups, bindings []string, expires *time.Time, now time.Time) error {
	switch {
	case !role.Valid():
		return invalid("unknown role %q", role)
	case (role == RoleOwner) != (tenant == ledger.SystemTenant):
		return invalid("owner keys belong to the installation (tenant %s) and only they do", ledger.SystemTenant)
	case name == "" || len(name) > MaxNameLength:
		return invalid("name must have 1 to %d bytes", MaxNameLength)
	case HoldsKey(name):
		// A name is recorded in the log for good; a key pasted into it
		// would be too.
		return invalid("name holds an API key")
	case len(groups) > MaxGroups:
		return invalid("at most %d groups", MaxGroups)
	case len(bindings) > MaxBindings:
		return invalid("at most %d bindings", MaxBindings)
	case role == RoleAgent && len(bindings) == 0:
		return invalid("an agent key needs bindings: the principal ids or globs it speaks for")
	case role != RoleAgent && len(bindings) > 0:
		return invalid("only agent keys have bindings (role %s acts for any principal it may)", role)
	case expires != nil && !expires.After(now):
		return invalid("expires_at must be in the future")
	}
	for _, g := range groups {
		if !groupRE.MatchString(g) {
			return invalid("group %q must match %s", g, groupRE)
		}
	}
	for _, b := range bindings {
		if _, err := policy.CompileGlob(b); err != nil {
			return invalid("binding %q: %v", b, err)
		}
	}
	return nil
}

// clean sorts and de-duplicates labels, so equal sets compare equal.
func clean(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func rfc3339(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// CreateKey makes a key in tenant for actor, which must be allowed to
// grant its role. It returns the stored key and the presentable key,
// which MUST be shown once and never stored or logged.
func (s *Service) CreateKey(ctx context.Context, actor *Key, tenant string, spec KeySpec) (*Key, string, error) {
	now := s.now()
	spec.Groups, spec.Bindings = clean(spec.Groups), clean(spec.Bindings)
	if err := validateKey(tenant, spec.Role, spec.Name, spec.Groups, spec.Bindings, spec.Expires, now); err != nil {
		return nil, "", err
	}
	if !CanGrant(actor.Role, spec.Role) {
		return nil, "", forbidden("a %s key cannot create a %s key", actor.Role, spec.Role)
	}
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	k, secret, err := NewKey(rnd, tenant, spec.Role, spec.Name, now)
	if err != nil {
		return nil, "", err
	}
	k.Groups, k.Bindings = spec.Groups, spec.Bindings
	if spec.Expires != nil {
		e := spec.Expires.UTC()
		k.Expires = &e
	}
	body := &event.KeyCreated{KeyID: k.ID, TenantID: tenant, Role: string(k.Role), Name: k.Name,
		Groups: k.Groups, Bindings: k.Bindings, ExpiresAt: rfc3339(k.Expires)}
	req, err := event.New(event.KindKeyCreated, actor.ID, body)
	if err != nil {
		return nil, "", err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		return w.InsertKey(k)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		return nil, "", fmt.Errorf("create key: %w", err)
	}
	return k, secret, nil
}

// KeyPatch changes some of a key's fields; nil fields stay as they are.
// ClearExpiry removes the expiry (Expires must then be nil).
type KeyPatch struct {
	Role        *Role
	Name        *string
	Groups      *[]string
	Bindings    *[]string
	Expires     *time.Time
	ClearExpiry bool
}

// UpdateKey changes key id of tenant for actor. The actor may neither
// change a key whose role is above what it may grant nor give a role
// above its own; a revoked key cannot be changed.
func (s *Service) UpdateKey(ctx context.Context, actor *Key, tenant, id string, p KeyPatch) (*Key, error) {
	if p.ClearExpiry && p.Expires != nil {
		return nil, invalid("expires_at cannot be both set and cleared")
	}
	now := s.now()
	var updated *Key
	body := &event.KeyChanged{KeyID: id}
	req, err := event.New(event.KindKeyChanged, actor.ID, body)
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		k, err := w.KeyForUpdate(id)
		if err != nil {
			return err
		}
		if !CanGrant(actor.Role, k.Role) {
			return forbidden("a %s key cannot change a %s key", actor.Role, k.Role)
		}
		if k.Revoked != nil {
			return invalid("key %s is revoked", id)
		}
		next := *k
		var cs []event.Change
		if p.Role != nil && *p.Role != k.Role {
			if !CanGrant(actor.Role, *p.Role) {
				return forbidden("a %s key cannot give the role %s", actor.Role, *p.Role)
			}
			next.Role = *p.Role
			cs = append(cs, event.Change{Field: "role", From: string(k.Role), To: string(next.Role)})
		}
		if p.Name != nil && *p.Name != k.Name {
			next.Name = *p.Name
			cs = append(cs, event.Change{Field: "name", From: k.Name, To: next.Name})
		}
		if p.Groups != nil {
			if g := clean(*p.Groups); !slices.Equal(g, k.Groups) {
				next.Groups = g
				cs = append(cs, event.Change{Field: "groups", From: orEmpty(k.Groups), To: orEmpty(g)})
			}
		}
		if p.Bindings != nil {
			if b := clean(*p.Bindings); !slices.Equal(b, k.Bindings) {
				next.Bindings = b
				cs = append(cs, event.Change{Field: "bindings", From: orEmpty(k.Bindings), To: orEmpty(b)})
			}
		}
		if next.Role != RoleAgent && p.Bindings == nil && len(next.Bindings) > 0 && next.Role != k.Role {
			// An agent key promoted to another role drops its bindings.
			cs = append(cs, event.Change{Field: "bindings", From: orEmpty(next.Bindings), To: []string{}})
			next.Bindings = nil
		}
		switch {
		case p.ClearExpiry && k.Expires != nil:
			next.Expires = nil
			cs = append(cs, event.Change{Field: "expires_at", From: rfc3339(k.Expires), To: nil})
		case p.Expires != nil && (k.Expires == nil || !p.Expires.Equal(*k.Expires)):
			e := p.Expires.UTC()
			next.Expires = &e
			cs = append(cs, event.Change{Field: "expires_at", From: nullable(rfc3339(k.Expires)), To: rfc3339(&e)})
		}
		expires := next.Expires
		if p.Expires == nil {
			expires = nil // an expiry already in force is not checked again
		}
		if err := validateKey(tenant, next.Role, next.Name, next.Groups, next.Bindings, expires, now); err != nil {
			return err
		}
		if len(cs) == 0 {
			return errUnchanged
		}
		body.Changes = cs
		updated = &next
		return w.UpdateKey(&next)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		if errors.Is(err, errUnchanged) {
			return s.key(ctx, tenant, id)
		}
		return nil, fmt.Errorf("update key %s: %w", id, err)
	}
	return updated, nil
}

// errUnchanged ends a change that changes nothing: no entry is written.
var errUnchanged = errors.New("nothing to change")

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// key reads a key of tenant; another tenant's key is ErrNotFound.
func (s *Service) key(ctx context.Context, tenant, id string) (*Key, error) {
	k, err := s.Store.KeyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Tenant != tenant {
		return nil, fmt.Errorf("key %s: %w", id, ErrNotFound)
	}
	return k, nil
}

// Key returns key id of tenant.
func (s *Service) Key(ctx context.Context, tenant, id string) (*Key, error) {
	return s.key(ctx, tenant, id)
}

// RevokeKey stops key id of tenant at the next request. Revoking a
// revoked key changes nothing and returns it.
func (s *Service) RevokeKey(ctx context.Context, actor *Key, tenant, id string) (*Key, error) {
	now := s.now()
	var revoked *Key
	body := &event.KeyRevoked{KeyID: id}
	req, err := event.New(event.KindKeyRevoked, actor.ID, body)
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		k, err := w.KeyForUpdate(id)
		if err != nil {
			return err
		}
		if !CanGrant(actor.Role, k.Role) {
			return forbidden("a %s key cannot revoke a %s key", actor.Role, k.Role)
		}
		if k.Revoked != nil {
			revoked = k
			return errUnchanged
		}
		k.Revoked = &now
		body.Role = string(k.Role)
		revoked = k
		return w.UpdateKey(k)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil && !errors.Is(err, errUnchanged) {
		return nil, fmt.Errorf("revoke key %s: %w", id, err)
	}
	return revoked, nil
}

// Tenants lists tenants after a tenant id, in id order.
func (s *Service) Tenants(ctx context.Context, after string, limit int) ([]Tenant, error) {
	return s.Store.TenantList(ctx, after, limit)
}

// Tenant returns tenant id.
func (s *Service) Tenant(ctx context.Context, id string) (*Tenant, error) {
	return s.Store.Tenant(ctx, id)
}

// Settings returns a tenant's settings.
func (s *Service) Settings(ctx context.Context, tenant string) (Settings, error) {
	t, err := s.Store.Tenant(ctx, tenant)
	if err != nil {
		return Settings{}, err
	}
	return t.Settings, nil
}

// Keys lists a tenant's keys after a key id, in id order.
func (s *Service) Keys(ctx context.Context, tenant, after string, limit int) ([]Key, error) {
	return s.Store.Keys(ctx, tenant, after, limit)
}

// CreateTenant makes tenant id with its settings and its first admin key,
// each an entry of the new tenant's log with actor as actor. It returns
// the tenant, the key and the presentable key, to show once.
func (s *Service) CreateTenant(ctx context.Context, actor *Key, id, name string) (*Tenant, *Key, string, error) {
	if actor.Role != RoleOwner {
		return nil, nil, "", forbidden("only owner keys create tenants")
	}
	switch {
	case id == ledger.SystemTenant || !ledger.ValidTenant(id):
		return nil, nil, "", invalid("tenant id must match [a-z0-9][a-z0-9-]{0,62}")
	case name == "" || len(name) > MaxNameLength:
		return nil, nil, "", invalid("name must have 1 to %d bytes", MaxNameLength)
	case HoldsKey(name):
		return nil, nil, "", invalid("name holds an API key")
	}
	t := &Tenant{ID: id, Name: name, Status: TenantActive, Created: s.now(), Settings: DefaultSettings}
	req, err := event.New(event.KindTenantCreated, actor.ID, &event.TenantCreated{TenantID: id, Name: name, Settings: t.Settings.Event()})
	if err != nil {
		return nil, nil, "", err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		if exists, err := w.TenantExists(id); err != nil {
			return err
		} else if exists {
			return &Error{Kind: ErrExists, Msg: fmt.Sprintf("tenant %q exists already", id)}
		}
		return w.InsertTenant(t)
	}
	if _, err := s.Ledger.Append(ctx, id, req); err != nil {
		return nil, nil, "", fmt.Errorf("create tenant %q: %w", id, err)
	}
	k, secret, err := s.CreateKey(ctx, actor, id, KeySpec{Role: RoleAdmin, Name: "first admin"})
	if err != nil {
		return t, nil, "", err
	}
	return t, k, secret, nil
}

// SuspendTenant stops every key of tenant id at its next request.
// Suspending a suspended tenant changes nothing.
func (s *Service) SuspendTenant(ctx context.Context, actor *Key, id, reason string) (*Tenant, error) {
	if actor.Role != RoleOwner {
		return nil, forbidden("only owner keys suspend tenants")
	}
	if id == ledger.SystemTenant {
		return nil, invalid("the installation tenant %s cannot be suspended", id)
	}
	if len(reason) > MaxNameLength || HoldsKey(reason) {
		return nil, invalid("reason must have at most %d bytes and hold no API key", MaxNameLength)
	}
	if _, err := s.Store.Tenant(ctx, id); err != nil {
		return nil, err
	}
	var out *Tenant
	req, err := event.New(event.KindTenantSuspended, actor.ID, &event.TenantSuspended{TenantID: id, Reason: reason})
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		t, err := w.TenantForUpdate()
		if err != nil {
			return err
		}
		out = t
		if t.Status == TenantSuspended {
			return errUnchanged
		}
		t.Status = TenantSuspended
		return w.SetTenantStatus(TenantSuspended)
	}
	if _, err := s.Ledger.Append(ctx, id, req); err != nil && !errors.Is(err, errUnchanged) {
		return nil, fmt.Errorf("suspend tenant %q: %w", id, err)
	}
	return out, nil
}

// UpdateSettings applies a patch to tenant's settings as one
// setting.changed entry listing every change; a patch that changes
// nothing writes nothing. Receivers are recorded redacted.
func (s *Service) UpdateSettings(ctx context.Context, actor *Key, tenant string, p SettingsPatch) (Settings, error) {
	var out Settings
	body := &event.SettingChanged{}
	req, err := event.New(event.KindSettingChanged, actor.ID, body)
	if err != nil {
		return out, err
	}
	receivers, routes := p.Receivers, p.AlertRoutes
	p.Receivers, p.AlertRoutes = nil, nil
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		t, err := w.TenantForUpdate()
		if err != nil {
			return err
		}
		next, cs := p.apply(t.Settings)
		if receivers != nil {
			c, err := s.receivers(&next, t.Settings.Receivers, receivers)
			if err != nil {
				return err
			}
			if c != nil {
				cs = append(cs, *c)
			}
		}
		if routes != nil || (receivers != nil && len(next.AlertRoutes) > 0) {
			c, err := s.alertRoutes(&next, t.Settings.AlertRoutes, routes)
			if err != nil {
				return err
			}
			if c != nil {
				cs = append(cs, *c)
			}
		}
		out = next
		if err := next.Validate(); err != nil {
			return err
		}
		if len(cs) == 0 {
			return errUnchanged
		}
		for _, c := range cs {
			body.Changes = append(body.Changes, event.Change{Field: c.field, From: c.from, To: c.to})
		}
		return w.SetTenantSettings(next)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil && !errors.Is(err, errUnchanged) {
		return out, fmt.Errorf("update settings: %w", err)
	}
	return out, nil
}

// receivers sets next's receivers to list (credentials sent back redacted
// restored from prev) and returns the change, redacted, if any.
func (s *Service) receivers(next *Settings, prev, list json.RawMessage) (*change, error) {
	if s.Receivers == nil {
		return nil, invalid("this server delivers no notifications: receivers cannot be set")
	}
	list, err := s.Receivers.Restore(list, prev)
	if err != nil {
		return nil, invalid("receivers: %v", err)
	}
	if err := s.Receivers.Validate(list); err != nil {
		return nil, invalid("receivers: %v", err)
	}
	if sameJSON(list, prev) {
		return nil, nil
	}
	from, err := s.redacted(prev)
	if err != nil {
		return nil, err
	}
	to, err := s.redacted(list)
	if err != nil {
		return nil, err
	}
	next.Receivers = list
	return &change{"receivers", from, to}, nil
}

// alertRoutes sets next's routes to list (nil: keep them) after checking
// them against next's receivers, and returns the change, if any.
func (s *Service) alertRoutes(next *Settings, prev, list json.RawMessage) (*change, error) {
	if s.Routes == nil {
		return nil, invalid("this server raises no alerts: alert_routes cannot be set")
	}
	if list == nil {
		list = prev
	}
	if err := s.Routes.Validate(list, next.Receivers); err != nil {
		return nil, invalid("%v", err)
	}
	if sameJSON(list, prev) {
		return nil, nil
	}
	var from, to any = []any{}, []any{}
	if len(prev) > 0 {
		if err := json.Unmarshal(prev, &from); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(list, &to); err != nil {
		return nil, invalid("alert_routes: %v", err)
	}
	next.AlertRoutes = list
	return &change{"alert_routes", from, to}, nil
}

// redacted is a receiver list as an entry or an answer may show it.
func (s *Service) redacted(list json.RawMessage) (any, error) {
	if len(list) == 0 {
		return []any{}, nil
	}
	if s.Receivers == nil {
		return nil, errors.New("receivers without rules to redact them")
	}
	r, err := s.Receivers.Redact(list)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(r, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// Shown returns settings as answers show them: receivers redacted.
func (s *Service) Shown(st Settings) (Settings, error) {
	if len(st.Receivers) == 0 {
		return st, nil
	}
	if s.Receivers == nil {
		st.Receivers = nil
		return st, nil
	}
	r, err := s.Receivers.Redact(st.Receivers)
	if err != nil {
		return Settings{}, err
	}
	st.Receivers = r
	return st, nil
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// Refuse records that key asked, on route, to speak for a principal it
// is not bound to. The caller answers 403 whether or not the record
// succeeded, and reports a failed record.
func (s *Service) Refuse(ctx context.Context, key *Key, route, principal, reason string) error {
	req, err := event.New(event.KindAccessRefused, key.ID,
		&event.AccessRefused{KeyID: key.ID, Route: route, Principal: principal, Reason: reason})
	if err != nil {
		return err
	}
	if _, err := s.Ledger.Append(ctx, key.Tenant, req); err != nil {
		return fmt.Errorf("record refused access: %w", err)
	}
	return nil
}

// ReviewKey is one key as the access review lists it.
type ReviewKey struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Role      Role     `json:"role"`
	Groups    []string `json:"groups"`
	Bindings  []string `json:"bindings"`
	CreatedAt string   `json:"created_at"`
	ExpiresAt *string  `json:"expires_at"`
	RevokedAt *string  `json:"revoked_at"`
	LastUsed  *string  `json:"last_used_at"`
	// Status is active, expired or revoked at the time of the review.
	Status string `json:"status"`
}

// Review is the periodic access review of a tenant (SOC 2 CC6): every key
// with its role, groups, bindings, creation, expiry, revocation and last
// use, and the SHA-256 of the JCS form of Keys, which a sign-off records.
type Review struct {
	Tenant      string      `json:"tenant"`
	GeneratedAt string      `json:"generated_at"`
	Keys        []ReviewKey `json:"keys"`
	Digest      string      `json:"digest"`
}

// reviewPage bounds each read of the listing.
const reviewPage = 500

// Review lists every key of tenant. Last use moves with every request, so
// the digest covers what does not: a key's last use is left out of it.
func (s *Service) Review(ctx context.Context, tenant string) (*Review, error) {
	now := s.now()
	rv := &Review{Tenant: tenant, GeneratedAt: now.Format(time.RFC3339Nano), Keys: []ReviewKey{}}
	for after := ""; ; {
		ks, err := s.Store.Keys(ctx, tenant, after, reviewPage)
		if err != nil {
			return nil, err
		}
		for i := range ks {
			rv.Keys = append(rv.Keys, reviewKey(&ks[i], now))
		}
		if len(ks) < reviewPage {
			break
		}
		after = ks[len(ks)-1].ID
	}
	digested := make([]ReviewKey, len(rv.Keys))
	for i, k := range rv.Keys {
		k.LastUsed = nil
		digested[i] = k
	}
	raw, err := ledger.CanonicalBody(digested)
	if err != nil {
		return nil, fmt.Errorf("access review: %w", err)
	}
	sum := sha256.Sum256(raw)
	rv.Digest = hex.EncodeToString(sum[:])
	return rv, nil
}

func reviewKey(k *Key, now time.Time) ReviewKey {
	str := func(t *time.Time) *string {
		if t == nil {
			return nil
		}
		s := t.UTC().Format(time.RFC3339Nano)
		return &s
	}
	status := "active"
	switch {
	case k.Revoked != nil:
		status = "revoked"
	case k.Expires != nil && !now.Before(*k.Expires):
		status = "expired"
	}
	return ReviewKey{ID: k.ID, Name: k.Name, Role: k.Role, Groups: orEmpty(k.Groups), Bindings: orEmpty(k.Bindings),
		CreatedAt: k.Created.UTC().Format(time.RFC3339Nano), ExpiresAt: str(k.Expires), RevokedAt: str(k.Revoked),
		LastUsed: str(k.LastUsed), Status: status}
}

// SignReview records actor's sign-off of the tenant's access review as it
// stands now, and returns the review signed. seen, when not empty, is
// the digest of the review the reviewer read: a review that changed
// since is ErrStale, so a sign-off never covers keys nobody looked at.
func (s *Service) SignReview(ctx context.Context, actor *Key, tenant, seen, comment string) (*Review, *ledger.Appended, error) {
	if len(comment) > 2000 || HoldsKey(comment) {
		return nil, nil, invalid("comment must have at most 2000 bytes and hold no API key")
	}
	rv, err := s.Review(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	if seen != "" && seen != rv.Digest {
		return nil, nil, &Error{Kind: ErrStale, Msg: "the access review changed since it was read (digest " + seen + "); read it again"}
	}
	req, err := event.New(event.KindReviewSigned, actor.ID,
		&event.ReviewSigned{Keys: len(rv.Keys), Digest: rv.Digest, Comment: comment})
	if err != nil {
		return nil, nil, err
	}
	a, err := s.Ledger.Append(ctx, tenant, req)
	if err != nil {
		return nil, nil, fmt.Errorf("sign access review: %w", err)
	}
	return rv, a, nil
}

func txOf(tx ledger.Tx) (Tx, error) {
	w, ok := tx.(Tx)
	if !ok {
		return nil, errors.New("store cannot change tenants and keys")
	}
	return w, nil
}
