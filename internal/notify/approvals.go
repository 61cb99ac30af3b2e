package notify

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/wardenhq/warden/internal/approval"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// Settings returns a tenant's receivers as its settings hold them.
type Settings func(ctx context.Context, tenant string) ([]Receiver, error)

// Notifier sends what Warden tells people to the tenant's receivers and
// records every delivery's result in the tenant's log.
type Notifier struct {
	Dispatcher *Dispatcher
	Receivers  Settings
	Ledger     interface {
		Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
	}
	Logger *slog.Logger
}

// ApprovalOpened tells a tenant's receivers of a new approval request. It
// never blocks on delivery; a tenant without receivers gets nothing.
func (n *Notifier) ApprovalOpened(ctx context.Context, a *approval.Approval) {
	rs, err := n.Receivers(ctx, a.Tenant)
	if err != nil {
		n.log().WarnContext(ctx, "notify: read receivers", "tenant", a.Tenant, "err", err)
		return
	}
	if len(rs) == 0 {
		return
	}
	fields := map[string]string{"principal": a.Principal, "action": a.Action, "approvals_needed": fmt.Sprint(a.Count),
		"expires_at": a.Expires.UTC().Format("2006-01-02T15:04:05Z"), "receipt": a.ReceiptID}
	if a.Rule != "" {
		fields["rule"] = a.Rule
	}
	if len(a.Groups) > 0 {
		fields["groups"] = fmt.Sprint(a.Groups)
	}
	m := Message{Kind: EventApprovalRequested, Tenant: a.Tenant, ID: a.ID, At: a.Created,
		Title:  fmt.Sprintf("Approval needed: %s wants to %s", a.Principal, a.Action),
		Text:   "Approve or reject with `warden approvals approve|reject " + a.ID + "`.",
		Fields: fields}
	if err := n.Dispatcher.Send(ctx, rs, m); err != nil {
		n.log().WarnContext(ctx, "notify: send", "tenant", a.Tenant, "approval", a.ID, "err", err)
	}
}

// Record appends a delivery's result to its tenant's log; it is the
// dispatcher's OnResult.
func (n *Notifier) Record(r Result) {
	req, err := event.New(event.KindNotification, event.ActorSystem, &event.NotificationResult{Receiver: r.Receiver, Kind: r.Kind,
		MessageID: r.MessageID, Delivery: r.Delivery, Delivered: r.Delivered, Attempts: r.Attempts, Reason: r.Reason,
		Status: r.Status, Error: r.Err})
	if err == nil {
		_, err = n.Ledger.Append(context.Background(), r.Tenant, req)
	}
	if err != nil {
		n.log().Error("notify: record a delivery result", "tenant", r.Tenant, "receiver", r.Receiver, "err", err)
	}
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger == nil {
		return slog.Default()
	}
	return n.Logger
}
