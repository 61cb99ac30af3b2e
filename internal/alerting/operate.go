package alerting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
)

// Limits of what operators write.
const (
	MaxCommentBytes = 2000
	MaxTitleBytes   = 200
	MaxLinks        = 100
)

// checkText refuses text that is too long, not UTF-8, or holds a Warden
// key: it is recorded in the ledger for good.
func checkText(field, s string, required bool, limit int) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return &Invalid{field + " is required"}
	case len(s) > limit:
		return &Invalid{fmt.Sprintf("%s is longer than %d bytes", field, limit)}
	case !utf8.ValidString(s):
		return &Invalid{field + " is not UTF-8"}
	case access.HoldsKey(s):
		return &Invalid{field + " contains a Warden key; it would be recorded for good"}
	}
	return nil
}

// Acknowledge records that actor is on alert id.
func (s *Service) Acknowledge(ctx context.Context, tenant, actor, id, comment string) (*Alert, error) {
	return s.change(ctx, tenant, actor, id, comment, StatusAcknowledged)
}

// Resolve records that alert id is dealt with, and tells the receivers
// that were told of it.
func (s *Service) Resolve(ctx context.Context, tenant, actor, id, comment string) (*Alert, error) {
	a, err := s.change(ctx, tenant, actor, id, comment, StatusResolved)
	if err != nil {
		return nil, err
	}
	routes, receivers := s.routing(ctx, tenant)
	var matched []*compiledRoute
	for i := range routes {
		if slices.Contains(a.Routes, routes[i].Name) {
			matched = append(matched, &routes[i])
		}
	}
	s.send(ctx, tenant, a, "alert.resolved", matched, receivers, len(routes) > 0)
	return a, nil
}

func (s *Service) change(ctx context.Context, tenant, actor, id, comment, status string) (*Alert, error) {
	if err := checkText("comment", comment, status == StatusResolved, MaxCommentBytes); err != nil {
		return nil, err
	}
	kind := event.KindAlertAcknowledged
	if status == StatusResolved {
		kind = event.KindAlertResolved
	}
	req, err := event.New(kind, actor, &event.AlertChanged{AlertID: id, Status: status, Comment: comment})
	if err != nil {
		return nil, err
	}
	now := s.now().Truncate(time.Microsecond)
	var out *Alert
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		a, err := w.AlertInTx(id)
		if err != nil {
			return err
		}
		switch {
		case a.Status == StatusResolved:
			return &Conflict{fmt.Sprintf("alert %s is resolved", id)}
		case status == StatusAcknowledged && a.Status == StatusAcknowledged:
			return &Conflict{fmt.Sprintf("alert %s is acknowledged already (by %s)", id, a.AckedBy)}
		}
		if status == StatusAcknowledged {
			a.AckedBy, a.AckedAt = actor, &now
		} else {
			a.ResolvedBy, a.ResolvedAt, a.Resolution = actor, &now, comment
		}
		a.Status = status
		out = a
		return w.UpdateAlert(a)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		return nil, unwrapRefusal(err)
	}
	return out, nil
}

// unwrapRefusal returns the Conflict, Invalid or ErrNotFound inside a
// rejected entry's error, or err.
func unwrapRefusal(err error) error {
	var c *Conflict
	var inv *Invalid
	switch {
	case errors.As(err, &c):
		return c
	case errors.As(err, &inv):
		return inv
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	}
	return err
}

// IncidentSpec is an incident to open.
type IncidentSpec struct {
	Title    string
	Severity string
	Alerts   []string
	Receipts []string
}

// OpenIncident opens an incident, linked to the alerts and receipts it
// names (each must exist in the tenant).
func (s *Service) OpenIncident(ctx context.Context, tenant, actor string, sp IncidentSpec) (*Incident, error) {
	if err := checkText("title", sp.Title, true, MaxTitleBytes); err != nil {
		return nil, err
	}
	if sp.Severity == "" {
		sp.Severity = SeverityWarning
	}
	if sp.Severity != SeverityInfo && sp.Severity != SeverityWarning && sp.Severity != SeverityCritical {
		return nil, &Invalid{"severity must be info, warning or critical"}
	}
	alerts, receipts, err := checkLinks(sp.Alerts, sp.Receipts)
	if err != nil {
		return nil, err
	}
	now := s.now().Truncate(time.Microsecond)
	inc := &Incident{ID: s.IDs.New("inc"), Title: sp.Title, Severity: sp.Severity, Status: IncidentOpen, Opened: now,
		OpenedBy: actor, Updated: now, Alerts: []string{}, Receipts: []string{}, Notes: []Note{}}
	req, err := event.New(event.KindIncidentOpened, actor, &event.IncidentOpened{IncidentID: inc.ID, Title: sp.Title,
		Severity: sp.Severity, Alerts: alerts, Receipts: receipts})
	if err != nil {
		return nil, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		inc.Seq = tx.Head().Size
		if err := link(tx, w, inc, alerts, receipts); err != nil {
			return err
		}
		return w.InsertIncident(inc)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		return nil, unwrapRefusal(err)
	}
	return inc, nil
}

// checkLinks returns the lists without repeats, or why they are refused.
func checkLinks(alerts, receipts []string) ([]string, []string, error) {
	if len(alerts)+len(receipts) > MaxLinks {
		return nil, nil, &Invalid{fmt.Sprintf("at most %d alerts and receipts at once", MaxLinks)}
	}
	clean := func(ids []string, prefix string) ([]string, error) {
		var out []string
		for _, id := range ids {
			if !strings.HasPrefix(id, prefix) || len(id) > 64 {
				return nil, &Invalid{fmt.Sprintf("%q is not an id of the form %s…", id, prefix)}
			}
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out, nil
	}
	a, err := clean(alerts, "alr_")
	if err != nil {
		return nil, nil, err
	}
	r, err := clean(receipts, "rcpt_")
	return a, r, err
}

// link adds alerts and receipts to inc, checking that each exists, and
// marks each alert with the incident.
func link(tx ledger.Tx, w Tx, inc *Incident, alerts, receipts []string) error {
	for _, id := range alerts {
		if slices.Contains(inc.Alerts, id) {
			continue
		}
		a, err := w.AlertInTx(id)
		if errors.Is(err, ErrNotFound) {
			return &Invalid{fmt.Sprintf("alert %s does not exist", id)}
		}
		if err != nil {
			return err
		}
		if a.Incident != "" && a.Incident != inc.ID {
			return &Conflict{fmt.Sprintf("alert %s belongs to incident %s already", id, a.Incident)}
		}
		a.Incident = inc.ID
		if err := w.UpdateAlert(a); err != nil {
			return err
		}
		inc.Alerts = append(inc.Alerts, id)
	}
	if len(receipts) > 0 {
		rw, ok := tx.(event.ReceiptWriter)
		if !ok {
			return errors.New("the store cannot read receipts")
		}
		for _, id := range receipts {
			if slices.Contains(inc.Receipts, id) {
				continue
			}
			if _, err := rw.ReceiptInTx(id); err != nil {
				if errors.Is(err, event.ErrNoReceipt) {
					return &Invalid{fmt.Sprintf("receipt %s does not exist", id)}
				}
				return err
			}
			inc.Receipts = append(inc.Receipts, id)
		}
	}
	return nil
}

// NoteIncident adds a note to an open incident.
func (s *Service) NoteIncident(ctx context.Context, tenant, actor, id, text string) (*Incident, error) {
	if err := checkText("text", text, true, MaxCommentBytes); err != nil {
		return nil, err
	}
	return s.updateIncident(ctx, tenant, actor, id, event.KindIncidentNoted, &event.IncidentNoted{IncidentID: id, Text: text},
		func(tx ledger.Tx, w Tx, inc *Incident, now time.Time) error {
			inc.Notes = append(inc.Notes, Note{Seq: tx.Head().Size, At: now, By: actor, Text: text})
			return nil
		})
}

// LinkIncident links more alerts and receipts to an open incident.
func (s *Service) LinkIncident(ctx context.Context, tenant, actor, id string, alerts, receipts []string) (*Incident, error) {
	alerts, receipts, err := checkLinks(alerts, receipts)
	if err != nil {
		return nil, err
	}
	if len(alerts)+len(receipts) == 0 {
		return nil, &Invalid{"name at least one alert or receipt"}
	}
	return s.updateIncident(ctx, tenant, actor, id, event.KindIncidentLinked, &event.IncidentLinked{IncidentID: id, Alerts: alerts, Receipts: receipts},
		func(tx ledger.Tx, w Tx, inc *Incident, _ time.Time) error {
			before := len(inc.Alerts) + len(inc.Receipts)
			if err := link(tx, w, inc, alerts, receipts); err != nil {
				return err
			}
			if len(inc.Alerts)+len(inc.Receipts) == before {
				return &Conflict{fmt.Sprintf("everything named is linked to incident %s already", id)}
			}
			return nil
		})
}

// ResolveIncident closes an incident with its resolution.
func (s *Service) ResolveIncident(ctx context.Context, tenant, actor, id, resolution string) (*Incident, error) {
	if err := checkText("resolution", resolution, true, MaxCommentBytes); err != nil {
		return nil, err
	}
	return s.updateIncident(ctx, tenant, actor, id, event.KindIncidentResolved, &event.IncidentResolved{IncidentID: id, Resolution: resolution},
		func(_ ledger.Tx, _ Tx, inc *Incident, now time.Time) error {
			inc.Status, inc.ResolvedBy, inc.ResolvedAt, inc.Resolution = IncidentResolved, actor, &now, resolution
			return nil
		})
}

func (s *Service) updateIncident(ctx context.Context, tenant, actor, id, kind string, body any,
	fn func(tx ledger.Tx, w Tx, inc *Incident, now time.Time) error) (*Incident, error) {
	req, err := event.New(kind, actor, body)
	if err != nil {
		return nil, err
	}
	now := s.now().Truncate(time.Microsecond)
	var out *Incident
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		inc, err := w.IncidentInTx(id)
		if err != nil {
			return err
		}
		if inc.Status == IncidentResolved {
			return &Conflict{fmt.Sprintf("incident %s is resolved", id)}
		}
		if err := fn(tx, w, inc, now); err != nil {
			return err
		}
		inc.Updated = now
		out = inc
		return w.UpdateIncident(inc)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		return nil, unwrapRefusal(err)
	}
	return out, nil
}
