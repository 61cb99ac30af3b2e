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
	// Required returns how many approvals, by keys other than its author,
	// a version of the tenant needs before activation (nil: none).
	Required func(ctx context.Context, tenant string) (int, error)

	mu    sync.Mutex
	cache map[string]*compiledVersion // by tenant/name/version
	// candidates remembers each tenant's candidate for candidateTTL: shadow
	// evaluation never changes an answer, so another replica's change may
	// reach it a moment late; this replica's own changes reach it at once.
	candidates map[string]candidateSeen
}

type candidateSeen struct {
	a  *Active // nil: none
	at time.Time
}

// candidateTTL is how long a tenant's candidate is remembered.
const candidateTTL = time.Second

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

// Errors of the change workflow; each refusal is also recorded.
var (
	// ErrSelfApproval: a key approving a version it pushed.
	ErrSelfApproval = errors.New("the author of a policy version cannot approve it")
	// ErrApproved: a key approving a version twice.
	ErrApproved = errors.New("this key approved the version already")
	// ErrNeedsApprovals: an activation before the tenant's approvals.
	ErrNeedsApprovals = errors.New("the version needs more approvals before activation")
)

// Refusal is a refused step of the change workflow, with its reason.
type Refusal struct {
	Kind error
	Msg  string
}

func (e *Refusal) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, e.Kind) hold.
func (e *Refusal) Unwrap() error { return e.Kind }

// Approve records actor's approval of a stored version. The author cannot
// approve its own version, and that attempt is recorded too.
func (m *Manager) Approve(ctx context.Context, tenant, actor, name string, version int64) ([]VersionApproval, error) {
	v, err := m.Store.PolicyVersion(ctx, tenant, name, version)
	if err != nil {
		return nil, err
	}
	if v.Author == actor {
		r := &Refusal{Kind: ErrSelfApproval, Msg: fmt.Sprintf("key %s pushed %s version %d and cannot approve it", actor, name, version)}
		m.refused(ctx, tenant, actor, name, version, "approve", r.Msg)
		return nil, r
	}
	now := m.now()
	req, err := event.New(event.KindPolicyApproved, actor, &event.PolicyApproved{Name: name, Version: version, Digest: v.Digest})
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(VersionWriter)
		if !ok {
			return errors.New("store cannot write policy versions")
		}
		keys, err := w.PolicyApprovers(name, version)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k == actor {
				return &Refusal{Kind: ErrApproved, Msg: fmt.Sprintf("key %s approved %s version %d already", actor, name, version)}
			}
		}
		return w.AddPolicyApproval(name, version, actor, now)
	}
	if _, err := m.Ledger.Append(ctx, tenant, req); err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return nil, r
		}
		return nil, fmt.Errorf("approve policy %q version %d: %w", name, version, err)
	}
	return m.Store.PolicyApprovals(ctx, tenant, name, version)
}

// refused records a refused step of the change workflow.
func (m *Manager) refused(ctx context.Context, tenant, actor, name string, version int64, step, why string) {
	req, err := event.New(event.KindPolicyRefused, actor, &event.PolicyRefused{Name: name, Version: version, Step: step, Reason: why})
	if err == nil {
		_, _ = m.Ledger.Append(ctx, tenant, req)
	}
}

// Activate makes a stored version the tenant's active policy, once keys
// other than its author have approved it as many times as the tenant
// requires. A refused activation is recorded.
func (m *Manager) Activate(ctx context.Context, tenant, actor, name string, version int64) (*Active, error) {
	required := 0
	if m.Required != nil {
		var err error
		if required, err = m.Required(ctx, tenant); err != nil {
			return nil, fmt.Errorf("activate policy %q version %d: %w", name, version, err)
		}
	}
	a, err := m.activate(ctx, tenant, actor, name, version, required)
	var r *Refusal
	if errors.As(err, &r) {
		m.refused(ctx, tenant, actor, name, version, "activate", r.Msg)
	}
	return a, err
}

func (m *Manager) activate(ctx context.Context, tenant, actor, name string, version int64, required int) (*Active, error) {
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
		keys, err := w.PolicyApprovers(name, version)
		if err != nil {
			return err
		}
		approvals := 0
		for _, k := range keys {
			if k != v.Author {
				approvals++
			}
		}
		if approvals < required {
			return &Refusal{Kind: ErrNeedsApprovals, Msg: fmt.Sprintf("%s version %d has %d of the %d approvals (by keys other than its author) the tenant requires",
				name, version, approvals, required)}
		}
		body.Approvals = keys
		return w.SetActivePolicy(a)
	}
	if _, err := m.Ledger.Append(ctx, tenant, req); err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return nil, r
		}
		return nil, fmt.Errorf("activate policy %q version %d: %w", name, version, err)
	}
	return a, nil
}

// SetCandidate makes a stored version the tenant's candidate: evaluated in
// shadow on every decision, never changing an answer.
func (m *Manager) SetCandidate(ctx context.Context, tenant, actor, name string, version int64) (*Active, error) {
	v, err := m.Store.PolicyVersion(ctx, tenant, name, version)
	if err != nil {
		return nil, err
	}
	a := &Active{Name: name, Version: version, Activated: m.now(), By: actor}
	return a, m.candidate(ctx, tenant, actor, a, &event.PolicyCandidate{Name: name, Version: version, Digest: v.Digest})
}

// ClearCandidate ends shadow evaluation; without a candidate it changes
// and records nothing.
func (m *Manager) ClearCandidate(ctx context.Context, tenant, actor string) error {
	if _, err := m.Store.CandidatePolicy(ctx, tenant); errors.Is(err, ErrNoVersion) {
		return nil
	} else if err != nil {
		return err
	}
	return m.candidate(ctx, tenant, actor, nil, &event.PolicyCandidate{Cleared: true})
}

func (m *Manager) candidate(ctx context.Context, tenant, actor string, a *Active, body *event.PolicyCandidate) error {
	req, err := event.New(event.KindPolicyCandidate, actor, body)
	if err != nil {
		return err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, ok := tx.(VersionWriter)
		if !ok {
			return errors.New("store cannot write policy versions")
		}
		return w.SetCandidate(a)
	}
	if _, err := m.Ledger.Append(ctx, tenant, req); err != nil {
		return fmt.Errorf("policy candidate: %w", err)
	}
	m.mu.Lock()
	delete(m.candidates, tenant)
	m.mu.Unlock()
	return nil
}

// Candidate returns the tenant's candidate, compiled, and its version
// (ErrNoVersion when there is none).
func (m *Manager) Candidate(ctx context.Context, tenant string) (*Policy, int64, error) {
	now := time.Now()
	m.mu.Lock()
	seen, ok := m.candidates[tenant]
	m.mu.Unlock()
	if !ok || now.Sub(seen.at) > candidateTTL {
		a, err := m.Store.CandidatePolicy(ctx, tenant)
		if err != nil && !errors.Is(err, ErrNoVersion) {
			return nil, 0, err
		}
		seen = candidateSeen{a: a, at: now}
		m.mu.Lock()
		if m.candidates == nil {
			m.candidates = map[string]candidateSeen{}
		}
		m.candidates[tenant] = seen
		m.mu.Unlock()
	}
	if seen.a == nil {
		return nil, 0, fmt.Errorf("candidate policy of %q: %w", tenant, ErrNoVersion)
	}
	return m.compiled(ctx, tenant, seen.a)
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
	// The built-in starting policy needs no approver: nothing is active
	// that it could weaken.
	_, err = m.activate(ctx, tenant, actor, v.Name, v.Version, 0)
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
	return m.compiled(ctx, tenant, a)
}

// compiled compiles a stored version once.
func (m *Manager) compiled(ctx context.Context, tenant string, a *Active) (*Policy, int64, error) {
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
