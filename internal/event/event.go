// Package event defines the typed body of every ledger entry kind, in one
// registry shared by the services that write entries and the readers
// (monitor, evidence, verifiers) that decode them.
package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/wardenhq/warden/internal/ledger"
)

// Kinds of ledger entries. Later capabilities register theirs here.
const (
	KindTenantCreated = "tenant.created"
	KindKeyCreated    = "key.created"
	KindDecision      = "decision"
	KindPolicyVersion = "policy.version"
	KindPolicyActive  = "policy.activated"
	KindOutcome       = "outcome"

	KindKeyChanged      = "key.changed"
	KindKeyRevoked      = "key.revoked"
	KindTenantSuspended = "tenant.suspended"
	KindSettingChanged  = "setting.changed"
	KindAccessRefused   = "access.refused"
	KindReviewSigned    = "access.review_signed"

	KindApprovalVoted    = "approval.voted"
	KindApprovalRefused  = "approval.refused"
	KindApprovalResolved = "approval.resolved"

	KindPolicyApproved  = "policy.approved"
	KindPolicyRefused   = "policy.refused"
	KindPolicyCandidate = "policy.candidate"

	KindNotification = "notification.result"

	KindControlSet     = "control.set"
	KindControlCleared = "control.cleared"

	KindAlertRaised       = "alert.raised"
	KindAlertAcknowledged = "alert.acknowledged"
	KindAlertResolved     = "alert.resolved"

	KindIncidentOpened   = "incident.opened"
	KindIncidentNoted    = "incident.noted"
	KindIncidentLinked   = "incident.linked"
	KindIncidentResolved = "incident.resolved"

	KindMonitorHeartbeat = "monitor.heartbeat"

	// The ledger itself reads these two when it verifies a log, so their
	// bodies are its types.
	KindLogPruned     = ledger.KindLogPruned
	KindLogKeyRotated = ledger.KindLogKeyRotated

	KindEvidenceExported = "evidence.exported"

	KindSelfVerified = "ledger.self_verified"
)

// LogPruned records a prune under the tenant's retention: the data of the
// entries in [from, to) was removed in the same transaction.
type LogPruned = ledger.Pruned

// LogKeyRotated announces the checkpoint signing key that follows.
type LogKeyRotated = ledger.KeyRotated

// PolicyVersion records a new version of a named policy. The source is in
// the store (it may exceed an entry's size); the digest binds it.
type PolicyVersion struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Digest  string `json:"digest"`
	Size    int    `json:"size"`
}

// PolicyActivated records which version a tenant evaluates with from now.
type PolicyActivated struct {
	Name     string     `json:"name"`
	Version  int64      `json:"version"`
	Digest   string     `json:"digest"`
	Previous *PolicyRef `json:"previous,omitempty"`
	// Approvals are the keys that had approved the version.
	Approvals []string `json:"approvals,omitempty"`
}

// PolicyApproved records one key's approval of a policy version.
type PolicyApproved struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Digest  string `json:"digest"`
}

// PolicyRefused records a refused step of the change workflow: an
// author approving its own version, an activation without the approvals
// the tenant requires.
type PolicyRefused struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Step    string `json:"step"`
	Reason  string `json:"reason"`
}

// PolicyCandidate records the tenant's candidate policy (evaluated in
// shadow) being set, or cleared.
type PolicyCandidate struct {
	Name    string `json:"name,omitempty"`
	Version int64  `json:"version,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Cleared bool   `json:"cleared,omitempty"`
}

// Actors that are not keys.
const (
	ActorSystem  = "system"
	ActorMonitor = "monitor"
)

// TenantCreated records the creation of a tenant, as the first entry of
// its own log.
type TenantCreated struct {
	TenantID string          `json:"tenant_id"`
	Name     string          `json:"name"`
	Settings *TenantSettings `json:"settings,omitempty"`
}

// TenantSettings are a tenant's settings as its creation records them;
// later changes are setting.changed entries.
type TenantSettings struct {
	RetentionDays   int `json:"retention_days"`
	PolicyApprovals int `json:"policy_approvals"`
}

// KeyCreated records the creation of an API key. It never holds the key's
// secret or its hash.
type KeyCreated struct {
	KeyID    string   `json:"key_id"`
	TenantID string   `json:"tenant_id"`
	Role     string   `json:"role"`
	Name     string   `json:"name"`
	Groups   []string `json:"groups,omitempty"`
	Bindings []string `json:"bindings,omitempty"`
	// ExpiresAt is RFC 3339 in UTC, or empty for a key that does not expire.
	ExpiresAt string `json:"expires_at,omitempty"`
}

// KeyChanged records a change of a key's role, name, groups, bindings or
// expiry: each changed field with its value before and after.
type KeyChanged struct {
	KeyID   string   `json:"key_id"`
	Changes []Change `json:"changes"`
}

// Change is one field of a key or one setting, before and after (JSON
// values: a string, a number, a list, or null for none).
type Change struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
}

// KeyRevoked records that a key stopped working.
type KeyRevoked struct {
	KeyID string `json:"key_id"`
	Role  string `json:"role"`
}

// TenantSuspended records that a tenant's keys stopped working.
type TenantSuspended struct {
	TenantID string `json:"tenant_id"`
	Reason   string `json:"reason,omitempty"`
}

// SettingChanged records one change of a tenant's settings: every
// setting it changed, before and after.
type SettingChanged struct {
	Changes []Change `json:"changes"`
}

// AccessRefused records a request a key was not allowed to make: an
// agent key speaking for a principal it is not bound to.
type AccessRefused struct {
	KeyID     string `json:"key_id"`
	Route     string `json:"route"`
	Principal string `json:"principal,omitempty"`
	Reason    string `json:"reason"`
}

// ControlSet records a kill switch: its scope (every field set must
// match; none: the whole tenant), effect, reason and expiry.
type ControlSet struct {
	ControlID string `json:"control_id"`
	Agent     string `json:"agent,omitempty"`
	Action    string `json:"action,omitempty"`
	Session   string `json:"session,omitempty"`
	Effect    string `json:"effect"`
	Reason    string `json:"reason"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// ControlCleared records a kill switch removed.
type ControlCleared struct {
	ControlID string `json:"control_id"`
}

// AlertRaised records an alert of the monitor: what it saw (the bucket
// that ended at Time, the observed value and what the baseline expected)
// and the routes that matched it. Numbers are finite.
type AlertRaised struct {
	AlertID   string  `json:"alert_id"`
	Time      string  `json:"time"`
	Agent     string  `json:"agent,omitempty"`
	Metric    string  `json:"metric"`
	Direction string  `json:"direction,omitempty"`
	Severity  string  `json:"severity"`
	Detector  string  `json:"detector"`
	Rule      string  `json:"rule,omitempty"`
	Observed  float64 `json:"observed"`
	Baseline  float64 `json:"baseline"`
	Score     float64 `json:"score"`
	Message   string  `json:"message,omitempty"`
	// Routes are the tenant's alert routes that matched.
	Routes []string `json:"routes,omitempty"`
	// Controls are the kill switches those routes set (their control.set
	// entries come first).
	Controls []string `json:"controls,omitempty"`
}

// AlertChanged records an operator acknowledging or resolving an alert.
type AlertChanged struct {
	AlertID string `json:"alert_id"`
	Status  string `json:"status"`
	Comment string `json:"comment,omitempty"`
}

// IncidentOpened records a new incident.
type IncidentOpened struct {
	IncidentID string   `json:"incident_id"`
	Title      string   `json:"title"`
	Severity   string   `json:"severity"`
	Alerts     []string `json:"alerts,omitempty"`
	Receipts   []string `json:"receipts,omitempty"`
}

// IncidentNoted records a note on an incident.
type IncidentNoted struct {
	IncidentID string `json:"incident_id"`
	Text       string `json:"text"`
}

// IncidentLinked records alerts and receipts linked to an incident.
type IncidentLinked struct {
	IncidentID string   `json:"incident_id"`
	Alerts     []string `json:"alerts,omitempty"`
	Receipts   []string `json:"receipts,omitempty"`
}

// IncidentResolved records how an incident ended.
type IncidentResolved struct {
	IncidentID string `json:"incident_id"`
	Resolution string `json:"resolution"`
}

// SelfVerified records a round of the monitor's re-verification of the
// tenant's log: the first Size entries recomputed and matched against the
// stored hashes and the signed checkpoints, or the failure it found
// (which is also a critical alert).
type SelfVerified struct {
	Size    int64  `json:"size"`
	OK      bool   `json:"ok"`
	Check   string `json:"check,omitempty"`
	FailSeq int64  `json:"fail_seq,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// EvidenceExported records that a key exported the evidence of a
// period. It lies after the period (which has ended), so the archive's
// end checkpoint, which covers it, shows that no entry of the period can
// come after the fact.
type EvidenceExported struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Format string `json:"format,omitempty"`
}

// MonitorHeartbeat records that the monitor ran: the last entry of the
// tenant's log it had read (Through; -1 for none), how many agents it
// follows, and its latest verification of the log (VerifiedSize entries
// recomputed and matched against the signed checkpoints, VerifyOK false
// after a failure, which is also an alert). Its time closes the
// monitor's buckets that ended before it.
type MonitorHeartbeat struct {
	Through      int64  `json:"through"`
	Agents       int    `json:"agents"`
	Observations int64  `json:"observations"`
	VerifiedSize int64  `json:"verified_size"`
	VerifyOK     bool   `json:"verify_ok"`
	Version      string `json:"version,omitempty"`
}

// NotificationResult records how the delivery of one notification to one
// receiver ended (never the receiver's URL or secret).
type NotificationResult struct {
	Receiver  string `json:"receiver"`
	Kind      string `json:"kind"`
	MessageID string `json:"message_id"`
	Delivery  string `json:"delivery"`
	Delivered bool   `json:"delivered"`
	Attempts  int    `json:"attempts"`
	Reason    string `json:"reason"`
	Status    int    `json:"status,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ApprovalVoted records one approver's vote on an approval request.
type ApprovalVoted struct {
	ApprovalID string `json:"approval_id"`
	KeyID      string `json:"key_id"`
	Approve    bool   `json:"approve"`
	Comment    string `json:"comment,omitempty"`
}

// ApprovalRefused records a vote refused: a key that may not approve
// this request (the requester itself, one bound to its principal, one
// outside the named groups and keys, or a role that does not approve).
type ApprovalRefused struct {
	ApprovalID string `json:"approval_id"`
	KeyID      string `json:"key_id"`
	Reason     string `json:"reason"`
}

// ApprovalResolved records how an approval request ended: approved,
// rejected, expired, or failed (approved, but the current policy would
// now deny it).
type ApprovalResolved struct {
	ApprovalID string `json:"approval_id"`
	Status     string `json:"status"`
	Reason     string `json:"reason,omitempty"`
	Approvals  int    `json:"approvals"`
}

// ReviewSigned records a periodic access review: who signed, how many
// keys the review listed, and the SHA-256 of the listing they saw (its
// JCS form), so the listing can be recomputed from the log.
type ReviewSigned struct {
	Keys    int    `json:"keys"`
	Digest  string `json:"digest"`
	Comment string `json:"comment,omitempty"`
}

// Decision records one decision: the request as evaluated (with every
// finding redacted), the answer and why, and the policy that gave it.
type Decision struct {
	Principal    DecisionPrincipal `json:"principal"`
	Action       DecisionAction    `json:"action"`
	Args         map[string]any    `json:"args"`
	Context      map[string]string `json:"context,omitempty"`
	Decision     string            `json:"decision"`
	Reasons      []DecisionReason  `json:"reasons"`
	Rules        []string          `json:"rules,omitempty"`
	Findings     []DecisionFinding `json:"findings,omitempty"`
	Policy       *PolicyRef        `json:"policy,omitempty"`
	ControlsSeen int64             `json:"controls_version,omitempty"`
	RetryAfterMs int64             `json:"retry_after_ms,omitempty"`
	// Spend is what an allowed decision counted against the policy's
	// budgets (the monitor's spend).
	Spend int64 `json:"spend,omitempty"`
	// ApprovalID is the approval request a require_approval opened, or the
	// approved one an allow by authorization used.
	ApprovalID string `json:"approval_id,omitempty"`
	// Shadow is what the tenant's candidate policy decided on the same
	// input; it never changed the decision.
	Shadow       *DecisionShadow `json:"shadow,omitempty"`
	ScanComplete bool            `json:"scan_complete"`
	Default      bool            `json:"default,omitempty"`
}

// DecisionShadow is a candidate policy's decision beside the active one.
type DecisionShadow struct {
	Policy   PolicyRef        `json:"policy"`
	Decision string           `json:"decision"`
	Reasons  []DecisionReason `json:"reasons,omitempty"`
	Rules    []string         `json:"rules,omitempty"`
	Differs  bool             `json:"differs,omitempty"`
}

// DecisionPrincipal is who asked.
type DecisionPrincipal struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// DecisionAction is what was asked.
type DecisionAction struct {
	Type      string `json:"type"`
	Resource  string `json:"resource,omitempty"`
	Operation string `json:"operation,omitempty"`
}

// DecisionReason is one reason of the answer.
type DecisionReason struct {
	Code    string `json:"code"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// DecisionFinding is what a decision records of a finding: never the value.
type DecisionFinding struct {
	Category string `json:"category"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Path     string `json:"path"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	InKey    bool   `json:"in_key,omitempty"`
	// ValueHMAC lets a value be matched, not guessed (per-tenant key).
	ValueHMAC string `json:"value_hmac,omitempty"`
}

// PolicyRef names the policy version that decided.
type PolicyRef struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Digest  string `json:"digest"`
}

var registry = map[string]reflect.Type{
	KindTenantCreated: reflect.TypeFor[TenantCreated](),
	KindKeyCreated:    reflect.TypeFor[KeyCreated](),
	KindDecision:      reflect.TypeFor[Decision](),
	KindPolicyVersion: reflect.TypeFor[PolicyVersion](),
	KindPolicyActive:  reflect.TypeFor[PolicyActivated](),
	KindOutcome:       reflect.TypeFor[Outcome](),

	KindKeyChanged:      reflect.TypeFor[KeyChanged](),
	KindKeyRevoked:      reflect.TypeFor[KeyRevoked](),
	KindTenantSuspended: reflect.TypeFor[TenantSuspended](),
	KindSettingChanged:  reflect.TypeFor[SettingChanged](),
	KindAccessRefused:   reflect.TypeFor[AccessRefused](),
	KindReviewSigned:    reflect.TypeFor[ReviewSigned](),

	KindApprovalVoted:    reflect.TypeFor[ApprovalVoted](),
	KindApprovalRefused:  reflect.TypeFor[ApprovalRefused](),
	KindApprovalResolved: reflect.TypeFor[ApprovalResolved](),

	KindPolicyApproved:  reflect.TypeFor[PolicyApproved](),
	KindPolicyRefused:   reflect.TypeFor[PolicyRefused](),
	KindPolicyCandidate: reflect.TypeFor[PolicyCandidate](),

	KindNotification: reflect.TypeFor[NotificationResult](),

	KindControlSet:     reflect.TypeFor[ControlSet](),
	KindControlCleared: reflect.TypeFor[ControlCleared](),

	KindAlertRaised:       reflect.TypeFor[AlertRaised](),
	KindAlertAcknowledged: reflect.TypeFor[AlertChanged](),
	KindAlertResolved:     reflect.TypeFor[AlertChanged](),

	KindIncidentOpened:   reflect.TypeFor[IncidentOpened](),
	KindIncidentNoted:    reflect.TypeFor[IncidentNoted](),
	KindIncidentLinked:   reflect.TypeFor[IncidentLinked](),
	KindIncidentResolved: reflect.TypeFor[IncidentResolved](),

	KindMonitorHeartbeat: reflect.TypeFor[MonitorHeartbeat](),

	KindLogPruned:     reflect.TypeFor[LogPruned](),
	KindLogKeyRotated: reflect.TypeFor[LogKeyRotated](),

	KindEvidenceExported: reflect.TypeFor[EvidenceExported](),
	KindSelfVerified:     reflect.TypeFor[SelfVerified](),
}

// Kinds returns every registered kind, sorted.
func Kinds() []string {
	ks := make([]string, 0, len(registry))
	for k := range registry {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// New returns a ledger request for kind with body, checking that body is
// the registered body type of kind.
func New(kind, actor string, body any) (ledger.Request, error) {
	t, ok := registry[kind]
	if !ok {
		return ledger.Request{}, fmt.Errorf("event: unknown kind %q", kind)
	}
	if got := reflect.TypeOf(body); got != t && got != reflect.PointerTo(t) {
		return ledger.Request{}, fmt.Errorf("event: kind %q takes %s, not %v", kind, t, got)
	}
	return ledger.Request{Kind: kind, Actor: actor, Body: body}, nil
}

// NewWithID is New for an entry whose id the caller chose (a decision's
// entry id is its receipt id).
func NewWithID(kind, id, actor string, body any) (ledger.Request, error) {
	req, err := New(kind, actor, body)
	req.ID = id
	return req, err
}

// NewEncoded is NewWithID with the body encoded now, in its canonical
// form, so that the appender (shared by every writer of the tenant) only
// sequences it. The body cannot be completed by Work afterwards.
func NewEncoded(kind, id, actor string, body any) (ledger.Request, error) {
	req, err := NewWithID(kind, id, actor, body)
	if err != nil {
		return req, err
	}
	raw, err := ledger.CanonicalBody(body)
	if err != nil {
		return ledger.Request{}, fmt.Errorf("event: encode %s body: %w", kind, err)
	}
	req.Body = raw
	return req, nil
}

// Decode strictly decodes the body of an entry of a registered kind into a
// new value of its type (a pointer).
func Decode(kind string, body []byte) (any, error) {
	t, ok := registry[kind]
	if !ok {
		return nil, fmt.Errorf("event: unknown kind %q", kind)
	}
	v := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, fmt.Errorf("event: decode %s body: %w", kind, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("event: decode %s body: trailing data", kind)
	}
	return v.Interface(), nil
}
