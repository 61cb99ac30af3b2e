// Package approval keeps the human approvals of require_approval
// decisions: each request bound to its receipt and to the digest of the
// exact request, the votes of eligible approvers, the resolution, and the
// single-use authorization an approved request yields (DESIGN.md
// sections 2 and 5).
//
// Separation of duties: an approver needs the approver role (or admin,
// or owner), must be named by the approval's groups or keys (none: any
// approver), and can be neither the key that asked nor a key bound to the
// principal that asked. count distinct approvers approve; any rejection
// rejects; an open request expires. When the last vote approves, the
// tenant's current policy evaluates the recorded request again: if it
// would now deny, the approval fails.
package approval

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/policy"
)

// Statuses of an approval request.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
	Expired  = "expired"
	// Failed: approved, but the current policy would now deny it.
	Failed = "failed"
)

// Approval is one approval request and what became of it.
type Approval struct {
	ID        string
	Tenant    string
	ReceiptID string // the require_approval decision
	// Digest is the SHA-256 of the exact request (see Digest).
	Digest    string
	Principal string
	Action    string
	Requester string // the key that asked
	Rule      string // the rule that asked for approval; "" for the tenant's default
	Groups    []string
	Keys      []string
	Count     int
	Created   time.Time
	Expires   time.Time
	Status    string
	Reason    string // why it failed or expired
	Resolved  *time.Time
	Votes     []Vote
	// Used is the receipt of the allow the authorization gave, once.
	UsedReceipt string
	UsedAt      *time.Time
	// Request is the request as recorded (args redacted where the scanners
	// found something) with its findings: what the policy evaluates again.
	Request *event.Decision
}

// Vote is one approver's answer.
type Vote struct {
	Key     string
	Approve bool
	Comment string
	At      time.Time
}

// StatusAt is the approval's status at now: an open request past its
// expiry is expired even before that is recorded.
func (a *Approval) StatusAt(now time.Time) string {
	if a.Status == Pending && !now.Before(a.Expires) {
		return Expired
	}
	return a.Status
}

// AuthorizationExpiry is when an approved request's authorization stops
// working: as long after the approval as the request had to be approved.
func (a *Approval) AuthorizationExpiry() time.Time {
	if a.Resolved == nil {
		return time.Time{}
	}
	return a.Resolved.Add(a.Expires.Sub(a.Created))
}

// Digest is the SHA-256 (hex) of the JCS form of what an approval binds:
// the principal, the action, the args and the session. The same request
// presented again has the same digest; any change in its args does not.
func Digest(req *policy.Request) (string, error) {
	args := req.Args
	if args == nil {
		args = map[string]any{}
	}
	raw, err := ledger.CanonicalBody(map[string]any{
		"principal":  map[string]any{"id": req.Principal.ID, "type": req.Principal.Type},
		"action":     map[string]any{"type": req.Action.Type, "resource": req.Action.Resource, "operation": req.Action.Operation},
		"args":       args,
		"session_id": req.Context.SessionID,
	})
	if err != nil {
		return "", fmt.Errorf("approval digest: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// Spec is who must approve: the deciding rule's approval or the tenant's
// default, completed.
type Spec struct {
	Groups  []string
	Keys    []string
	Count   int
	Expires time.Duration
}

// SpecOf completes a policy approval (a rule's, or else the tenant's
// default): count 1 and one hour when unset.
func SpecOf(rule, def *policy.Approval) Spec {
	a := rule
	if a == nil {
		a = def
	}
	s := Spec{Count: 1, Expires: time.Hour}
	if a == nil {
		return s
	}
	s.Groups, s.Keys = slices.Clone(a.Groups), slices.Clone(a.Keys)
	if a.Count > 0 {
		s.Count = a.Count
	}
	if d, err := policy.ParseDuration(a.Expires); err == nil && d > 0 {
		s.Expires = d
	}
	return s
}

// Refusal is a vote the approval model refuses, with why: a key that
// may not approve this request, or a request no longer open.
type Refusal struct {
	Kind error // ErrIneligible or ErrClosed
	Msg  string
}

func (e *Refusal) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, e.Kind) hold.
func (e *Refusal) Unwrap() error { return e.Kind }

// Kinds of refusal.
var (
	// ErrIneligible: the key may not vote on this request.
	ErrIneligible = errors.New("not an eligible approver")
	// ErrClosed: the request is no longer open (resolved or expired), or
	// the key has voted already.
	ErrClosed = errors.New("the approval request is not open")
)

func refuse(kind error, format string, args ...any) error {
	return &Refusal{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// eligible reports why key may not vote on a, or nil.
func eligible(a *Approval, key *access.Key) error {
	switch {
	case key.Role != access.RoleApprover && key.Role != access.RoleAdmin && key.Role != access.RoleOwner:
		return refuse(ErrIneligible, "a %s key does not approve (approver, admin or owner)", key.Role)
	case key.ID == a.Requester:
		return refuse(ErrIneligible, "the key that asked cannot approve its own request")
	case key.Role == access.RoleAgent || (len(key.Bindings) > 0 && key.SpeaksFor(a.Principal)):
		return refuse(ErrIneligible, "a key bound to the principal that asked cannot approve")
	}
	if len(a.Groups) == 0 && len(a.Keys) == 0 {
		return nil
	}
	if slices.Contains(a.Keys, key.ID) {
		return nil
	}
	for _, g := range key.Groups {
		if slices.Contains(a.Groups, g) {
			return nil
		}
	}
	return refuse(ErrIneligible, "the key is in none of the groups %v and not among the keys this request names", a.Groups)
}

// Tokens: "wat_<approval id>_<secret>", the secret the base32 of an
// HMAC of the tenant and approval id under the installation's
// authorization key. Nothing of it is stored: it is recomputed to check.
const tokenPrefix = "wat_"

var tokenB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func tokenSecret(key []byte, tenant, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("warden approval authorization v1\x00" + tenant + "\x00" + id))
	return strings.ToLower(tokenB32.EncodeToString(m.Sum(nil)))
}

// Token returns the authorization of an approved request.
func Token(key []byte, tenant, id string) string {
	return tokenPrefix + id + "_" + tokenSecret(key, tenant, id)
}

// ParseToken returns the approval id a token names, if it is the token
// of that approval in tenant (compared in constant time).
func ParseToken(key []byte, tenant, token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 {
		return "", false
	}
	id, secret := rest[:i], rest[i+1:]
	want := tokenSecret(key, tenant, id)
	return id, subtle.ConstantTimeCompare([]byte(secret), []byte(want)) == 1
}
