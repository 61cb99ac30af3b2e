package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// ErrNotFound is what stores return for an unknown approval.
var ErrNotFound = errors.New("approval not found")

// Tx is what approvals change inside the append transaction of the entry
// that records the change. Every method acts on the transaction's tenant.
type Tx interface {
	InsertApproval(a *Approval) error
	// ApprovalForUpdate reads an approval with its votes.
	ApprovalForUpdate(id string) (*Approval, error)
	AddVote(id string, v Vote) error
	ResolveApproval(id, status, reason string, at time.Time) error
	// UseApproval records the receipt an authorization allowed, once.
	UseApproval(id, receipt string, at time.Time) error
}

// Reader reads approvals outside a transaction.
type Reader interface {
	Approval(ctx context.Context, tenant, id string) (*Approval, error)
	// Approvals lists a tenant's approvals with id after after, in id
	// order. status, if set, filters as StatusAt(now) would: "pending" is
	// open and unexpired, "expired" includes open ones past their expiry.
	Approvals(ctx context.Context, tenant, status, after string, limit int, now time.Time) ([]Approval, error)
}

// Appender records entries; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// Evaluator evaluates a tenant's current active policy.
type Evaluator func(ctx context.Context, tenant string, in *policy.Input) (*policy.Decision, error)

// Service keeps approval requests. Each vote, refusal and resolution is
// a ledger entry written with the change it records.
type Service struct {
	Ledger Appender
	Store  Reader
	// Current evaluates the tenant's current policy (the time-of-use guard).
	Current Evaluator
	// Defaults returns a tenant's default approval.
	Defaults func(ctx context.Context, tenant string) (*policy.Approval, error)
	// Key is the installation's authorization key (tokens are its HMACs).
	Key   []byte
	IDs   *ledger.IDs
	Clock func() time.Time
	// OnOpen, if set, is told of each new approval request (delivery to
	// approvers); it MUST NOT block.
	OnOpen func(ctx context.Context, a *Approval)
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock().UTC()
}

// Prepare makes the approval request a require_approval decision of req
// by actor opens, before its transaction: rule is the deciding rule's
// approval (nil: the tenant's default).
func (s *Service) Prepare(ctx context.Context, tenant, actor string, req *policy.Request, rule *policy.Approval, ruleID string) (*Approval, error) {
	digest, err := Digest(req)
	if err != nil {
		return nil, err
	}
	var def *policy.Approval
	if rule == nil && s.Defaults != nil {
		if def, err = s.Defaults(ctx, tenant); err != nil {
			return nil, fmt.Errorf("default approval: %w", err)
		}
	}
	spec := SpecOf(rule, def)
	if rule == nil {
		ruleID = ""
	}
	now := s.now().Truncate(time.Microsecond)
	return &Approval{ID: s.IDs.New("apr"), Tenant: tenant, Digest: digest, Principal: req.Principal.ID, Action: req.Action.Type,
		Requester: actor, Rule: ruleID, Groups: spec.Groups, Keys: spec.Keys, Count: spec.Count, Created: now,
		Expires: now.Add(spec.Expires), Status: Pending}, nil
}

// Open stores a prepared approval inside the decision's transaction.
func (s *Service) Open(tx ledger.Tx, a *Approval) error {
	w, ok := tx.(Tx)
	if !ok {
		return errors.New("the store cannot keep approvals")
	}
	return w.InsertApproval(a)
}

// Opened is told that a decision opened a; it passes it on to OnOpen.
func (s *Service) Opened(ctx context.Context, a *Approval) {
	if s.OnOpen != nil {
		s.OnOpen(ctx, a)
	}
}

// Get returns approval id of tenant, settling it first: an expired
// request, a rejection or enough approvals left unresolved (by a crash
// between a vote and its resolution) are resolved now.
func (s *Service) Get(ctx context.Context, tenant, id string) (*Approval, error) {
	a, err := s.Store.Approval(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return s.settle(ctx, a)
}

// List returns a tenant's approvals.
func (s *Service) List(ctx context.Context, tenant, status, after string, limit int) ([]Approval, error) {
	return s.Store.Approvals(ctx, tenant, status, after, limit, s.now())
}

// Wait returns approval id once it is no longer pending, or as it is
// after d (long polling for the agent that waits on it).
func (s *Service) Wait(ctx context.Context, tenant, id string, d time.Duration) (*Approval, error) {
	deadline := time.Now().Add(d)
	pause := 50 * time.Millisecond
	for {
		a, err := s.Get(ctx, tenant, id)
		if err != nil || a.Status != Pending || !time.Now().Before(deadline) {
			return a, err
		}
		t := time.NewTimer(min(pause, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return a, nil
		case <-t.C:
		}
		pause = min(pause*2, time.Second)
	}
}

// Authorization returns the single-use authorization of an approved,
// unused, unexpired request, or "".
func (s *Service) Authorization(a *Approval) string {
	if a.Status != Approved || a.UsedReceipt != "" || !s.now().Before(a.AuthorizationExpiry()) {
		return ""
	}
	return Token(s.Key, a.Tenant, a.ID)
}

// Vote records key's approval or rejection of approval id of tenant and
// returns the approval as it stands after. A key that may not vote is
// refused with ErrIneligible and the refusal is recorded; a request that
// is no longer open, or a second vote, is ErrClosed.
func (s *Service) Vote(ctx context.Context, key *access.Key, tenant, id string, approve bool, comment string) (*Approval, error) {
	if len(comment) > 2000 || access.HoldsKey(comment) {
		return nil, &Refusal{Kind: ErrClosed, Msg: "comment must have at most 2000 bytes and hold no API key"}
	}
	a, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if a.Status != Pending {
		return a, refuse(ErrClosed, "the approval request is %s", a.Status)
	}
	if err := eligible(a, key); err != nil {
		s.refused(ctx, key, a, err)
		return a, err
	}
	now := s.now()
	body := &event.ApprovalVoted{ApprovalID: id, KeyID: key.ID, Approve: approve, Comment: comment}
	req, err := event.New(event.KindApprovalVoted, key.ID, body)
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		cur, err := w.ApprovalForUpdate(id)
		if err != nil {
			return err
		}
		switch {
		case cur.StatusAt(now) != Pending:
			return refuse(ErrClosed, "the approval request is %s", cur.StatusAt(now))
		case voted(cur, key.ID):
			return refuse(ErrClosed, "this key has voted on the request already")
		}
		return w.AddVote(id, Vote{Key: key.ID, Approve: approve, Comment: comment, At: now})
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			return a, r
		}
		return nil, fmt.Errorf("vote on %s: %w", id, err)
	}
	return s.Get(ctx, tenant, id)
}

func voted(a *Approval, key string) bool {
	for _, v := range a.Votes {
		if v.Key == key {
			return true
		}
	}
	return false
}

// refused records a refused vote as an approval.refused entry; the
// refusal stands whether or not the record succeeds.
func (s *Service) refused(ctx context.Context, key *access.Key, a *Approval, why error) {
	req, err := event.New(event.KindApprovalRefused, key.ID, &event.ApprovalRefused{ApprovalID: a.ID, KeyID: key.ID, Reason: why.Error()})
	if err == nil {
		_, _ = s.Ledger.Append(ctx, a.Tenant, req)
	}
}

// settle resolves an open request whose outcome is decided: expired, a
// rejection, or enough approvals (then the current policy decides
// between approved and failed).
func (s *Service) settle(ctx context.Context, a *Approval) (*Approval, error) {
	if a.Status != Pending {
		return a, nil
	}
	now := s.now()
	status, reason := "", ""
	approvals := 0
	for _, v := range a.Votes {
		if !v.Approve {
			status, reason = Rejected, "rejected by "+v.Key
			break
		}
		approvals++
	}
	switch {
	case status != "":
	case approvals >= a.Count:
		status, reason = s.recheck(ctx, a)
	case !now.Before(a.Expires):
		status, reason = Expired, "not approved within its time"
	default:
		return a, nil
	}
	body := &event.ApprovalResolved{ApprovalID: a.ID, Status: status, Reason: reason, Approvals: approvals}
	req, err := event.New(event.KindApprovalResolved, event.ActorSystem, body)
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		cur, err := w.ApprovalForUpdate(a.ID)
		if err != nil {
			return err
		}
		if cur.Status != Pending {
			return errSettled
		}
		return w.ResolveApproval(a.ID, status, reason, now)
	}
	if _, err := s.Ledger.Append(ctx, a.Tenant, req); err != nil && !errors.Is(err, errSettled) {
		return nil, fmt.Errorf("resolve %s: %w", a.ID, err)
	}
	return s.Store.Approval(ctx, a.Tenant, a.ID)
}

// errSettled ends a resolution another one made first.
var errSettled = errors.New("already resolved")

// recheck evaluates the recorded request against the tenant's current
// policy: an approval of what the policy would now deny fails.
func (s *Service) recheck(ctx context.Context, a *Approval) (string, string) {
	if s.Current == nil || a.Request == nil {
		return Approved, ""
	}
	in, err := policy.InputFromDecision(a.Request)
	if err != nil {
		return Failed, "the recorded request cannot be evaluated again"
	}
	d, err := s.Current(ctx, a.Tenant, in)
	switch {
	case err != nil:
		return Failed, "the current policy could not be evaluated"
	case d.Effect == policy.Deny:
		return Failed, "the current policy denies the request"
	}
	return Approved, ""
}

// Errors of an authorization presented with a request.
var (
	// ErrAuthorization: unknown, not approved, expired, used, or for
	// another request. Which of these it is, the message says.
	ErrAuthorization = errors.New("authorization not valid")
)

// Authorize checks an authorization presented with req: it must name an
// approved, unused, unexpired request of tenant whose digest is req's.
// It returns the approval's id.
func (s *Service) Authorize(ctx context.Context, tenant, token string, req *policy.Request) (string, error) {
	id, ok := ParseToken(s.Key, tenant, token)
	if !ok {
		return "", fmt.Errorf("%w: not an authorization of this tenant", ErrAuthorization)
	}
	a, err := s.Get(ctx, tenant, id)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAuthorization, err)
	}
	digest, err := Digest(req)
	if err != nil {
		return "", err
	}
	switch {
	case a.Status != Approved:
		return "", fmt.Errorf("%w: the approval request is %s", ErrAuthorization, a.Status)
	case a.UsedReceipt != "":
		return "", fmt.Errorf("%w: already used by %s", ErrAuthorization, a.UsedReceipt)
	case !s.now().Before(a.AuthorizationExpiry()):
		return "", fmt.Errorf("%w: expired", ErrAuthorization)
	case digest != a.Digest:
		return "", fmt.Errorf("%w: the request is not the one approved (principal, action, args or session differ)", ErrAuthorization)
	}
	return id, nil
}

// Usable checks, inside the decision's transaction, that approval id's
// authorization was not used in the meantime (ErrAuthorization if it was).
func (s *Service) Usable(tx ledger.Tx, id string) error {
	w, err := txOf(tx)
	if err != nil {
		return err
	}
	a, err := w.ApprovalForUpdate(id)
	if err != nil {
		return err
	}
	if a.UsedReceipt != "" {
		return fmt.Errorf("%w: already used by %s", ErrAuthorization, a.UsedReceipt)
	}
	return nil
}

// Consume marks approval id used by receipt, inside the decision's
// transaction (after Usable).
func (s *Service) Consume(tx ledger.Tx, id, receipt string, at time.Time) error {
	if err := s.Usable(tx, id); err != nil {
		return err
	}
	w, err := txOf(tx)
	if err != nil {
		return err
	}
	return w.UseApproval(id, receipt, at)
}

func txOf(tx ledger.Tx) (Tx, error) {
	w, ok := tx.(Tx)
	if !ok {
		return nil, errors.New("the store cannot keep approvals")
	}
	return w, nil
}
