package policy

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

//go:embed builtin/default.yaml
var builtinDefault []byte

// BuiltinDefault returns the source of the policy a new tenant starts with.
func BuiltinDefault() []byte { return append([]byte(nil), builtinDefault...) }

// Appender records entries; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// Manager keeps a tenant's policy versions: pushing makes an immutable
// version (or finds the identical one), activating switches what the
// tenant evaluates with. Each change is a ledger entry written in the
// same transaction as the stored version, so neither exists without the
// other. It also serves the compiled active policy to the gate.
type Manager struct {
	Ledger Appender
	Store  VersionReader
	Clock  func() time.Time

	mu    sync.Mutex
	cache map[string]*compiledVersion // by tenant/name/version
}

type compiledVersion struct {
	policy  *Policy
	version int64
}

// errSame ends a push whose content exists already: no entry is written.
type errSame struct{ v *Version }

func (e *errSame) Error() string {
	return fmt.Sprintf("policy %q version %d has this content", e.v.Name, e.v.Version)
}

// Push stores source as the next version of its policy, unless a version
// with the same digest exists, which it returns with created false.
func (m *Manager) Push(ctx context.Context, tenant, actor string, source []byte) (*Version, bool, error) {
	p, err := ParseAndCompile(source)
	if err != nil {
		return nil, false, err
	}
	v := &Version{Tenant: tenant, Name: p.Name, Digest: p.Digest, Source: source, Author: actor, Created: m.now()}
	body := &event.PolicyVersion{Name: p.Name, Digest: p.Digest, Size: len(source)}
	req, err := event.New(event.KindPolicyVersion, actor, body)
	if err != nil {
		return nil, false, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(VersionWriter)
		if !ok {
			return errors.New("store cannot write policy versions")
		}
		if same, err := w.PolicyVersionByDigest(p.Name, p.Digest); err == nil {
			return &errSame{same}
		} else if !errors.Is(err, ErrNoVersion) {
			return err
		}
		latest, err := w.LatestPolicyVersion(p.Name)
		if err != nil {
			return err
		}
		v.Version, body.Version = latest+1, latest+1
		return w.InsertPolicyVersion(v)
	}
	if _, err := m.Ledger.Append(ctx, tenant, req); err != nil {
		var same *errSame
		if errors.As(err, &same) {
			return same.v, false, nil
		}
		return nil, false, fmt.Errorf("push policy %q: %w", p.Name, err)
	}
	return v, true, nil
}

// Activate makes a stored version the tenant's active policy.
func (m *Manager) Activate(ctx context.Context, tenant, actor, name string, version int64) (*Active, error) {
	v, err := m.Store.PolicyVersion(ctx, tenant, name, version)
	if err != nil {
		return nil, err
	}
	a := &Active{Name: name, Version: version, Activated: m.now(), By: actor}
	body := &event.PolicyActivated{Name: name, Version: version, Digest: v.Digest}
	if prev, err := m.Store.ActivePolicy(ctx, tenant); err == nil {
		body.Previous = &event.PolicyRef{Name: prev.Name, Version: prev.Version}
	}
	req, err := event.New(event.KindPolicyActive, actor, body)
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(VersionWriter)
		if !ok {
			return errors.New("store cannot write policy versions")
		}
		return w.SetActivePolicy(a)
	}
	if _, err := m.Ledger.Append(ctx, tenant, req); err != nil {
		return nil, fmt.Errorf("activate policy %q version %d: %w", name, version, err)
	}
	return a, nil
}

// EnsureActive pushes and activates source for a tenant that has no
// active policy yet (the built-in default on first start).
func (m *Manager) EnsureActive(ctx context.Context, tenant, actor string, source []byte) error {
	if _, err := m.Store.ActivePolicy(ctx, tenant); err == nil {
		return nil
	} else if !errors.Is(err, ErrNoVersion) {
		return err
	}
	v, _, err := m.Push(ctx, tenant, actor, source)
	if err != nil {
		return err
	}
	_, err = m.Activate(ctx, tenant, actor, v.Name, v.Version)
	return err
}

// Current returns the tenant's active policy, compiled, and its version.
// It reads which version is active on every call (so an activation on
// any replica binds the next decision) and compiles each version once.
func (m *Manager) Current(ctx context.Context, tenant string) (*Policy, int64, error) {
	a, err := m.Store.ActivePolicy(ctx, tenant)
	if err != nil {
		return nil, 0, err
	}
	key := fmt.Sprintf("%s/%s/%d", tenant, a.Name, a.Version)
	m.mu.Lock()
	c := m.cache[key]
	m.mu.Unlock()
	if c != nil {
		return c.policy, c.version, nil
	}
	v, err := m.Store.PolicyVersion(ctx, tenant, a.Name, a.Version)
	if err != nil {
		return nil, 0, err
	}
	p, err := ParseAndCompile(v.Source)
	if err != nil {
		return nil, 0, fmt.Errorf("compile active policy %q version %d: %w", a.Name, a.Version, err)
	}
	if p.Digest != v.Digest {
		return nil, 0, fmt.Errorf("active policy %q version %d: stored digest %s, content digest %s", a.Name, a.Version, v.Digest, p.Digest)
	}
	m.mu.Lock()
	if m.cache == nil {
		m.cache = map[string]*compiledVersion{}
	}
	m.cache[key] = &compiledVersion{policy: p, version: a.Version}
	m.mu.Unlock()
	return p, a.Version, nil
}

func (m *Manager) now() time.Time {
	if m.Clock != nil {
		return m.Clock().UTC()
	}
	return time.Now().UTC()
}
