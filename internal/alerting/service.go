// Package alerting records the monitor's alerts and what operators do
// about them (DESIGN.md section 7): each alert raised, acknowledged or
// resolved is a ledger entry; the tenant's routes send alerts to its
// receivers and may set a kill switch; incidents gather alerts, receipts
// and notes until they are resolved, every step an entry.
package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/controls"
	"github.com/wardenhq/warden/internal/event"
	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/notify"
)

// Appender records entries; *ledger.Ledger is one.
type Appender interface {
	Append(ctx context.Context, tenant string, req ledger.Request) (*ledger.Appended, error)
}

// ControlSetter sets kill switches; *controls.Service is one.
type ControlSetter interface {
	Set(ctx context.Context, tenant, actor string, sp controls.Spec) (*controls.Control, error)
}

// Sender delivers notifications; *notify.Dispatcher is one.
type Sender interface {
	Send(ctx context.Context, receivers []notify.Receiver, m notify.Message) error
}

// Routing returns a tenant's alert routes (the alert_routes setting, as
// stored) and receivers.
type Routing func(ctx context.Context, tenant string) (routes json.RawMessage, receivers []notify.Receiver, err error)

// Conflict is a change an alert or incident cannot take in its state
// (acknowledging a resolved alert); the API answers 409.
type Conflict struct{ Msg string }

func (e *Conflict) Error() string { return e.Msg }

// Invalid is a malformed request; the API answers 400.
type Invalid struct{ Msg string }

func (e *Invalid) Error() string { return e.Msg }

// Service raises, acknowledges and resolves alerts and keeps incidents.
type Service struct {
	Ledger   Appender
	Store    Reader
	Controls ControlSetter // nil: routes set no switch
	Sender   Sender        // nil: nothing is delivered
	Routing  Routing       // nil: no routes, no receivers
	IDs      *ledger.IDs
	Clock    func() time.Time
	Logger   *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// digestID is prefix_ and 26 base32 characters (130 bits) of the SHA-256
// of the parts.
func digestID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(h.Sum(nil))[:26])
}

// AlertID is the id of the alert that what raised a raises in tenant:
// the same condition of the same bucket always has the same id, so a
// monitor that resumes from a checkpoint and raises it again finds it
// recorded.
func AlertID(tenant string, a *Alert) string {
	return digestID("alr", tenant, a.Agent, a.Metric, a.Direction, a.Detector, a.Rule,
		a.Time.UTC().Format(time.RFC3339Nano), a.Message)
}

// routeControlID is the id of the switch route sets for alert: set once.
func routeControlID(alert, route string) string { return digestID("ctl", alert, route) }

// Raise records a (a new alert of tenant) as open. When route is true
// the switches of the routes that match it are set first and the routes'
// receivers are told; a monitor catching up on old entries passes false,
// so that an alert of last week stops no agent today. It returns the
// alert as recorded and whether this call recorded it: an alert raised
// before (the same id) is returned as it stands, and nothing is done
// again.
func (s *Service) Raise(ctx context.Context, tenant string, a Alert, route bool) (*Alert, bool, error) {
	if a.ID == "" {
		a.ID = AlertID(tenant, &a)
	}
	if err := checkAlert(&a); err != nil {
		return nil, false, err
	}
	if old, err := s.Store.Alert(ctx, tenant, a.ID); err == nil {
		return old, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, fmt.Errorf("raise alert %s: %w", a.ID, err)
	}
	var routes []compiledRoute
	var receivers []notify.Receiver
	if route {
		routes, receivers = s.routing(ctx, tenant)
	}
	var matched []*compiledRoute
	for i := range routes {
		if routes[i].matches(&a) {
			matched = append(matched, &routes[i])
			a.Routes = append(a.Routes, routes[i].Name)
		}
	}
	// The switches first: an alert recorded without the switch its route
	// sets would, after a crash, never set it (a raised alert is not
	// raised again). A switch set twice is refused by its id.
	for _, r := range matched {
		id, err := s.routeControl(ctx, tenant, &a, r)
		if err != nil {
			return nil, false, err
		}
		if id != "" {
			a.Controls = append(a.Controls, id)
		}
	}
	a.Status, a.Raised = StatusOpen, s.now().Truncate(time.Microsecond)
	body := &event.AlertRaised{AlertID: a.ID, Time: a.Time.UTC().Format(time.RFC3339Nano), Agent: a.Agent, Metric: a.Metric,
		Direction: a.Direction, Severity: a.Severity, Detector: a.Detector, Rule: a.Rule, Observed: a.Observed,
		Baseline: a.Baseline, Score: a.Score, Message: a.Message, Routes: a.Routes, Controls: a.Controls}
	req, err := event.New(event.KindAlertRaised, event.ActorMonitor, body)
	if err != nil {
		return nil, false, err
	}
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		w, err := txOf(tx)
		if err != nil {
			return err
		}
		a.Seq = tx.Head().Size
		return w.InsertAlert(&a)
	}
	if _, err := s.Ledger.Append(ctx, tenant, req); err != nil {
		if errors.Is(err, ErrExists) {
			old, rerr := s.Store.Alert(ctx, tenant, a.ID)
			return old, false, rerr
		}
		return nil, false, fmt.Errorf("raise alert %s: %w", a.ID, err)
	}
	if route {
		s.send(ctx, tenant, &a, notify.EventAlertRaised, matched, receivers, len(routes) > 0)
	}
	return &a, true, nil
}

func checkAlert(a *Alert) error {
	for _, v := range []float64{a.Observed, a.Baseline, a.Score} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("alert %s: a value is not finite", a.ID)
		}
	}
	switch a.Severity {
	case SeverityInfo, SeverityWarning, SeverityCritical:
	default:
		return fmt.Errorf("alert %s: severity %q", a.ID, a.Severity)
	}
	if a.Metric == "" || a.Detector == "" || a.Time.IsZero() {
		return fmt.Errorf("alert %s: metric, detector and time are required", a.ID)
	}
	return nil
}

// routing returns the tenant's routes and receivers; routes that no
// longer check (a receiver they name was removed) are logged and none
// apply, so every receiver that wants alerts is told instead.
func (s *Service) routing(ctx context.Context, tenant string) ([]compiledRoute, []notify.Receiver) {
	if s.Routing == nil {
		return nil, nil
	}
	raw, receivers, err := s.Routing(ctx, tenant)
	if err != nil {
		s.log().WarnContext(ctx, "alerts: read routes", "tenant", tenant, "err", err)
		return nil, nil
	}
	names := make([]string, len(receivers))
	for i, r := range receivers {
		names[i] = r.Name
	}
	routes, err := compileRoutes(raw, names)
	if err != nil {
		s.log().WarnContext(ctx, "alerts: the tenant's routes do not check; telling every receiver", "tenant", tenant, "err", err)
		return nil, receivers
	}
	return routes, receivers
}

// routeControl sets the switch route r sets for alert a, if any, and
// returns its id.
func (s *Service) routeControl(ctx context.Context, tenant string, a *Alert, r *compiledRoute) (string, error) {
	ct := r.Control
	if ct == nil || s.Controls == nil {
		return "", nil
	}
	sp := controls.Spec{ID: routeControlID(a.ID, r.Name), Effect: ct.Effect,
		Reason: clip(fmt.Sprintf("alert %s (%s %s on %s) matched route %s", a.ID, a.Severity, a.Metric, agentOr(a.Agent), r.Name), 500)}
	if ct.Scope != ScopeTenant {
		if a.Agent == "" || strings.ContainsAny(a.Agent, "*?") {
			// No agent, or one whose id a glob cannot name exactly.
			s.log().WarnContext(ctx, "alerts: route control skipped: the alert's agent cannot be named by a switch",
				"tenant", tenant, "alert", a.ID, "route", r.Name)
			return "", nil
		}
		sp.Scope.Agent = a.Agent
	}
	if r.hold > 0 {
		e := s.now().Add(r.hold)
		sp.Expires = &e
	}
	c, err := s.Controls.Set(ctx, tenant, event.ActorMonitor, sp)
	switch {
	case errors.Is(err, controls.ErrExists):
		return sp.ID, nil
	case err != nil:
		var inv *controls.Invalid
		if errors.As(err, &inv) {
			s.log().WarnContext(ctx, "alerts: route control refused", "tenant", tenant, "alert", a.ID, "route", r.Name, "err", err)
			return "", nil
		}
		return "", fmt.Errorf("alert %s: route %s: %w", a.ID, r.Name, err)
	}
	return c.ID, nil
}

func agentOr(agent string) string {
	if agent == "" {
		return "the log"
	}
	return agent
}

// clip returns at most n bytes of s, cut at a rune boundary: what it
// returns is recorded and sent, and must stay UTF-8.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// send tells receivers of a: those of the matched routes, or, when the
// tenant has no routes, every receiver that wants the kind.
func (s *Service) send(ctx context.Context, tenant string, a *Alert, kind string, matched []*compiledRoute, receivers []notify.Receiver, routed bool) {
	if s.Sender == nil || len(receivers) == 0 {
		return
	}
	var to []notify.Receiver
	if !routed {
		to = receivers
	} else {
		want := map[string]bool{}
		for _, r := range matched {
			for _, n := range r.Receivers {
				want[n] = true
			}
		}
		for _, r := range receivers {
			if want[r.Name] {
				to = append(to, r)
			}
		}
	}
	if len(to) == 0 {
		return
	}
	if err := s.Sender.Send(ctx, to, alertMessage(tenant, a, kind)); err != nil {
		s.log().WarnContext(ctx, "alerts: send", "tenant", tenant, "alert", a.ID, "err", err)
	}
}

// alertMessage is what receivers are told of a.
func alertMessage(tenant string, a *Alert, kind string) notify.Message {
	fields := map[string]string{"severity": a.Severity, "metric": a.Metric, "detector": a.Detector,
		"observed": formatValue(a.Observed), "baseline": formatValue(a.Baseline), "bucket_end": a.Time.UTC().Format(time.RFC3339)}
	if a.Agent != "" {
		fields["agent"] = a.Agent
	}
	if a.Direction != "" {
		fields["direction"] = a.Direction
	}
	if a.Rule != "" {
		fields["rule"] = a.Rule
	}
	if len(a.Controls) > 0 {
		fields["controls"] = strings.Join(a.Controls, ",")
	}
	title := fmt.Sprintf("%s: %s %s on %s", a.Severity, a.Metric, directionWord(a.Direction), agentOr(a.Agent))
	text := fmt.Sprintf("Observed %s against a baseline of %s (%s). Acknowledge with `warden alerts ack %s`.",
		formatValue(a.Observed), formatValue(a.Baseline), a.Detector, a.ID)
	at := a.Time
	if kind == notify.EventAlertResolved {
		title = "resolved: " + title
		text = a.Resolution
		if a.ResolvedAt != nil {
			at = *a.ResolvedAt
		}
	}
	if a.Message != "" {
		text = a.Message
	}
	return notify.Message{Kind: kind, Tenant: tenant, ID: a.ID, Title: clip(title, notify.MaxTitleBytes),
		Text: clip(text, notify.MaxTextBytes), Fields: fields, At: at}
}

func directionWord(d string) string {
	switch d {
	case "up":
		return "rose"
	case "down":
		return "fell"
	}
	return "alert"
}

func formatValue(v float64) string { return fmt.Sprintf("%.4g", v) }

func txOf(tx ledger.Tx) (Tx, error) {
	w, ok := tx.(Tx)
	if !ok {
		return nil, errors.New("the store cannot keep alerts")
	}
	return w, nil
}

// IntegrityAlertID is the id of the alert of a failed verification of
// tenant's log: one per distinct failure, whenever it is found.
func IntegrityAlertID(tenant, message string) string {
	return digestID("alr", tenant, "ledger.integrity", message)
}
