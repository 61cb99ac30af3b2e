// Package controls keeps kill switches: a tenant's standing orders that
// stop (deny) or hold (require_approval) what matches them, whatever the
// policy says, checked first in the decision path (DESIGN.md section 7).
//
// A switch binds the very next decision on every replica: a tenant's
// switches carry a version that every change raises; each decision
// records the version it checked, and its append transaction, which holds
// the tenant's log, checks again when the version moved since.
package controls

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Effects of a switch.
const (
	Deny            = policy.Deny
	RequireApproval = policy.RequireApproval
)

// Scope is what a switch applies to: every field set must match (an empty
// scope is the whole tenant). Agent and Action are globs of the policy
// grammar; Session is an exact session id.
type Scope struct {
	Agent   string `json:"agent,omitempty"`
	Action  string `json:"action,omitempty"`
	Session string `json:"session,omitempty"`
}

// Control is one kill switch.
type Control struct {
	ID      string
	Tenant  string
	Scope   Scope
	Effect  string
	Reason  string
	Expires *time.Time
	Created time.Time
	By      string
}

// Active reports whether c is in force at now.
func (c *Control) Active(now time.Time) bool { return c.Expires == nil || now.Before(*c.Expires) }

// Matches reports whether c applies to req.
func (c *Control) Matches(req *policy.Request) bool {
	if c.Scope.Session != "" && c.Scope.Session != req.Context.SessionID {
		return false
	}
	for _, g := range []struct{ pattern, value string }{{c.Scope.Agent, req.Principal.ID}, {c.Scope.Action, req.Action.Type}} {
		if g.pattern == "" {
			continue
		}
		gl, err := policy.CompileGlob(g.pattern)
		if err != nil || !gl.Match(g.value) {
			return false
		}
	}
	return true
}

// ErrNotFound is what stores return for an unknown switch.
var ErrNotFound = errors.New("control not found")

// ErrExists is what stores return for a switch whose id is taken (set
// before, cleared or not): a Spec with an ID is set at most once.
var ErrExists = errors.New("control already set")

// Tx is what switches need of an append transaction (the tenant's).
type Tx interface {
	// ControlsVersion is the tenant's version: raised by every change.
	ControlsVersion() (int64, error)
	// Controls returns the tenant's switches that are not cleared.
	Controls() ([]Control, error)
	// InsertControl stores a switch and raises the version.
	InsertControl(c *Control) error
	// ClearControl removes a switch (ErrNotFound if none) and raises the
	// version.
	ClearControl(id string, at time.Time) error
}

// Reader reads switches outside a transaction.
type Reader interface {
	// TenantControls returns the tenant's version and switches.
	TenantControls(ctx context.Context, tenant string) (int64, []Control, error)
}

// Appender records entries; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// Invalid is a switch refused as malformed, with why.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return e.Msg }

// Service sets, lists and clears switches, each change an entry with its
// actor, and checks requests against them.
type Service struct {
	Ledger Appender
	Store  Reader
	IDs    *ledger.IDs
	Clock  func() time.Time

	// known holds each tenant's switches as last read, by version: Check
	// answers from it without a read, and the decision's transaction,
	// which reads the version, sends the decision back (and Forget) when
	// it moved.
	mu    sync.Mutex
	known map[string]snapshot
}

type snapshot struct {
	version  int64
	controls []Control
}

// Forget drops what is known of a tenant's switches: the next Check
// reads them.
func (s *Service) Forget(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.known, tenant)
}

func (s *Service) remember(tenant string, v int64, cs []Control) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = map[string]snapshot{}
	}
	if cur, ok := s.known[tenant]; !ok || v >= cur.version {
		s.known[tenant] = snapshot{version: v, controls: cs}
	}
}

// read returns a tenant's version and switches, as known or from the
// store.
func (s *Service) read(ctx context.Context, tenant string) (int64, []Control, error) {
	s.mu.Lock()
	snap, ok := s.known[tenant]
	s.mu.Unlock()
	if ok {
		return snap.version, snap.controls, nil
	}
	v, cs, err := s.Store.TenantControls(ctx, tenant)
	if err != nil {
		return 0, nil, err
	}
	s.remember(tenant, v, cs)
	return v, cs, nil
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock().UTC()
}

// Spec is a switch to set.
type Spec struct {
	// ID, if set, is the switch's id (a "ctl_" id): setting it again
	// fails with ErrExists, so that a caller that may retry (an alert
	// route after a restart) sets it once. Empty: a new id.
	ID      string
	Scope   Scope
	Effect  string
	Reason  string
	Expires *time.Time
}

// Set records a new switch of tenant by actor; it binds from the next
// decision on.
func (s *Service) Set(ctx context.Context, tenant, actor string, sp Spec) (*Control, error) {
	now := s.now().Truncate(time.Microsecond)
	switch {
	case sp.Effect != Deny && sp.Effect != RequireApproval:
		return nil, &Invalid{"effect must be deny or require_approval"}
	case sp.Reason == "" || len(sp.Reason) > 500:
		return nil, &Invalid{"reason must have 1 to 500 bytes: it is what a refused agent is told"}
	case sp.Expires != nil && !sp.Expires.After(now):
		return nil, &Invalid{"expires_at must be in the future"}
	case len(sp.Scope.Session) > 256:
		return nil, &Invalid{"session is at most 256 bytes"}
	}
	for _, g := range []struct{ name, pattern string }{{"agent", sp.Scope.Agent}, {"action", sp.Scope.Action}} {
		if g.pattern == "" {
			continue
		}
		if _, err := policy.CompileGlob(g.pattern); err != nil {
			return nil, &Invalid{fmt.Sprintf("scope.%s: %v", g.name, err)}
		}
	}
	id := sp.ID
	if id == "" {
		id = s.IDs.New("ctl")
	} else if !strings.HasPrefix(id, "ctl_") || len(id) > 64 {
		return nil, &Invalid{"a chosen switch id must start with ctl_ and have at most 64 bytes"}
	}
	c := &Control{ID: id, Tenant: tenant, Scope: sp.Scope, Effect: sp.Effect, Reason: sp.Reason, Created: now, By: actor}
	if sp.Expires != nil {
		e := sp.Expires.UTC().Truncate(time.Microsecond)
		c.Expires = &e
	}
	body := &event.ControlSet{ControlID: c.ID, Agent: sp.Scope.Agent, Action: sp.Scope.Action, Session: sp.Scope.Session,
		Effect: sp.Effect, Reason: sp.Reason}
	if c.Expires != nil {
		body.ExpiresAt = c.Expires.Format(time.RFC3339Nano)
	}
	req, err := event.New(event.KindControlSet, actor, body)
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(Tx)
		if !ok {
			return errors.New("the store cannot keep kill switches")
		}
		return w.InsertControl(c)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		return nil, fmt.Errorf("set control: %w", err)
	}
	s.Forget(tenant)
	return c, nil
}

// Clear removes switch id of tenant.
func (s *Service) Clear(ctx context.Context, tenant, actor, id string) error {
	now := s.now()
	req, err := event.New(event.KindControlCleared, actor, &event.ControlCleared{ControlID: id})
	if err != nil {
		return err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(Tx)
		if !ok {
			return errors.New("the store cannot keep kill switches")
		}
		return w.ClearControl(id, now)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		return fmt.Errorf("clear control %s: %w", id, err)
	}
	s.Forget(tenant)
	return nil
}

// List returns the tenant's switches in force, as stored now.
func (s *Service) List(ctx context.Context, tenant string) ([]Control, error) {
	_, cs, err := s.Store.TenantControls(ctx, tenant)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Control
	for _, c := range cs {
		if c.Active(now) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Hit is a switch that applies to a request.
type Hit struct {
	ID     string
	Effect string
	Reason string
}

// applying returns the switch in cs that applies to req at now, a deny
// before a require_approval.
func applying(cs []Control, req *policy.Request, now time.Time) *Hit {
	var found *Hit
	for i := range cs {
		c := &cs[i]
		if !c.Active(now) || !c.Matches(req) {
			continue
		}
		if found == nil || (c.Effect == Deny && found.Effect != Deny) {
			found = &Hit{ID: c.ID, Effect: c.Effect, Reason: c.Reason}
		}
	}
	return found
}

// Check returns the switch that applies to req and the version it saw.
// It answers from what it knows; a decision's transaction finds out when
// that is stale (see Version and Recheck).
func (s *Service) Check(ctx context.Context, tenant string, req *policy.Request) (*Hit, int64, error) {
	v, cs, err := s.read(ctx, tenant)
	if err != nil {
		return nil, 0, err
	}
	return applying(cs, req, s.now()), v, nil
}

// Version returns, inside an append transaction, the tenant's controls
// version.
func (s *Service) Version(tx ledger.Tx) (int64, error) {
	w, ok := tx.(Tx)
	if !ok {
		return 0, errors.New("the store cannot keep kill switches")
	}
	return w.ControlsVersion()
}

// Recheck runs inside a decision's append transaction: when the tenant's
// version is no longer seen, it checks req against the switches as they
// are now; otherwise it reports nothing new.
func (s *Service) Recheck(tx ledger.Tx, req *policy.Request, seen int64) (*Hit, int64, error) {
	w, ok := tx.(Tx)
	if !ok {
		return nil, 0, errors.New("the store cannot keep kill switches")
	}
	v, err := w.ControlsVersion()
	if err != nil || v == seen {
		return nil, v, err
	}
	cs, err := w.Controls()
	if err != nil {
		return nil, 0, err
	}
	// Not remembered: the transaction may yet roll back.
	return applying(cs, req, s.now()), v, nil
}
