package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/alerting"
	"github.com/wardenhq/warden/internal/ledger"
)

// alertingWork appends an entry to tenant's log whose work runs fn on the
// store's alerting.Tx inside the append transaction. Work runs on the
// appender's goroutine, so fn returns failures rather than failing t.
func alertingWork(l *ledger.Ledger, tenant string, fn func(tx alerting.Tx) error) error {
	req := Req(0)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		at, ok := tx.(alerting.Tx)
		if !ok {
			return fmt.Errorf("the store's transaction %T is not an alerting.Tx", tx)
		}
		return fn(at)
	}
	_, err := l.Append(context.Background(), tenant, req)
	return err
}

// alertZone is where the suite's times are written: a store keeps them in
// UTC, to the microsecond.
var alertZone = time.FixedZone("CET", 3600)

// usUTC is t as a store returns it: in UTC, to the microsecond.
func usUTC(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func usUTCPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := usUTC(*t)
	return &u
}

// storedAlert is a as a store returns it.
func storedAlert(a alerting.Alert) alerting.Alert {
	a.Time, a.Raised = usUTC(a.Time), usUTC(a.Raised)
	a.AckedAt, a.ResolvedAt = usUTCPtr(a.AckedAt), usUTCPtr(a.ResolvedAt)
	return a
}

// storedIncident is i as a store returns it.
func storedIncident(i alerting.Incident) alerting.Incident {
	i.Opened, i.Updated = usUTC(i.Opened), usUTC(i.Updated)
	i.ResolvedAt = usUTCPtr(i.ResolvedAt)
	if i.Notes != nil {
		notes := make([]alerting.Note, len(i.Notes))
		for k, n := range i.Notes {
			n.At = usUTC(n.At)
			notes[k] = n
		}
		i.Notes = notes
	}
	return i
}

// alertIDs returns the ids of as, in order.
func alertIDs(as []alerting.Alert) []string {
	ids := []string{}
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}

// incidentIDs returns the ids of is, in order.
func incidentIDs(is []alerting.Incident) []string {
	ids := []string{}
	for _, i := range is {
		ids = append(ids, i.ID)
	}
	return ids
}

// alertChecks are the checks of one tenant's alerts and incidents, in a
// transaction and through the Reader.
type alertChecks struct {
	t *testing.T
	l *ledger.Ledger
	r alerting.Reader
}

func newAlertChecks(t *testing.T, h *harness) *alertChecks {
	t.Helper()
	r, ok := h.Store.(alerting.Reader)
	if !ok {
		t.Fatal("the store is not an alerting.Reader")
	}
	return &alertChecks{t: t, l: h.Ledger(t, ledger.Config{}), r: r}
}

// run runs fn in an append to tenant's log and fails unless it succeeds.
func (c *alertChecks) run(tenant, what string, fn func(tx alerting.Tx) error) {
	c.t.Helper()
	if err := alertingWork(c.l, tenant, fn); err != nil {
		c.t.Fatalf("%s in %s: %v", what, tenant, err)
	}
}

// alert checks that tenant holds want.
func (c *alertChecks) alert(tenant string, want alerting.Alert) {
	c.t.Helper()
	c.run(tenant, "AlertInTx("+want.ID+")", func(tx alerting.Tx) error {
		got, err := tx.AlertInTx(want.ID)
		if err != nil {
			return fmt.Errorf("AlertInTx(%s) = %w", want.ID, err)
		}
		if !reflect.DeepEqual(*got, want) {
			return fmt.Errorf("AlertInTx(%s) = %+v, want %+v", want.ID, *got, want)
		}
		return nil
	})
	got, err := c.r.Alert(context.Background(), tenant, want.ID)
	if err != nil {
		c.t.Fatalf("Alert(%s, %s) = %v, want nil", tenant, want.ID, err)
	}
	if !reflect.DeepEqual(*got, want) {
		c.t.Errorf("Alert(%s, %s) = %+v, want %+v", tenant, want.ID, *got, want)
	}
}

// noAlert checks that tenant has no alert id.
func (c *alertChecks) noAlert(tenant, id string) {
	c.t.Helper()
	err := alertingWork(c.l, tenant, func(tx alerting.Tx) error { _, err := tx.AlertInTx(id); return err })
	if !errors.Is(err, alerting.ErrNotFound) {
		c.t.Errorf("AlertInTx(%s) in %s = %v, want alerting.ErrNotFound", id, tenant, err)
	}
	if _, err := c.r.Alert(context.Background(), tenant, id); !errors.Is(err, alerting.ErrNotFound) {
		c.t.Errorf("Alert(%s, %s) = %v, want alerting.ErrNotFound", tenant, id, err)
	}
}

// incident checks that tenant holds want.
func (c *alertChecks) incident(tenant string, want alerting.Incident) {
	c.t.Helper()
	c.run(tenant, "IncidentInTx("+want.ID+")", func(tx alerting.Tx) error {
		got, err := tx.IncidentInTx(want.ID)
		if err != nil {
			return fmt.Errorf("IncidentInTx(%s) = %w", want.ID, err)
		}
		if !reflect.DeepEqual(*got, want) {
			return fmt.Errorf("IncidentInTx(%s) = %+v, want %+v", want.ID, *got, want)
		}
		return nil
	})
	got, err := c.r.Incident(context.Background(), tenant, want.ID)
	if err != nil {
		c.t.Fatalf("Incident(%s, %s) = %v, want nil", tenant, want.ID, err)
	}
	if !reflect.DeepEqual(*got, want) {
		c.t.Errorf("Incident(%s, %s) = %+v, want %+v", tenant, want.ID, *got, want)
	}
}

// noIncident checks that tenant has no incident id.
func (c *alertChecks) noIncident(tenant, id string) {
	c.t.Helper()
	err := alertingWork(c.l, tenant, func(tx alerting.Tx) error { _, err := tx.IncidentInTx(id); return err })
	if !errors.Is(err, alerting.ErrNotFound) {
		c.t.Errorf("IncidentInTx(%s) in %s = %v, want alerting.ErrNotFound", id, tenant, err)
	}
	if _, err := c.r.Incident(context.Background(), tenant, id); !errors.Is(err, alerting.ErrNotFound) {
		c.t.Errorf("Incident(%s, %s) = %v, want alerting.ErrNotFound", tenant, id, err)
	}
}

// alerts checks the ids Alerts returns for f.
func (c *alertChecks) alerts(tenant string, f alerting.AlertFilter, want ...string) {
	c.t.Helper()
	got, err := c.r.Alerts(context.Background(), tenant, f)
	if err != nil {
		c.t.Fatalf("Alerts(%s, %+v) = %v, want nil", tenant, f, err)
	}
	if ids := alertIDs(got); !slices.Equal(ids, append([]string{}, want...)) {
		c.t.Errorf("Alerts(%s, %+v) = %v, want %v", tenant, f, ids, want)
	}
}

// fullAlert returns an alert with every field set, its times with
// nanoseconds and a zone.
func fullAlert(id string) alerting.Alert {
	at := time.Date(2026, 3, 4, 6, 6, 0, 0, alertZone)
	acked, resolved := at.Add(90*time.Second+1), at.Add(time.Hour+999)
	return alerting.Alert{ID: id, Seq: 7, Time: at, Raised: at.Add(1500 * time.Nanosecond),
		Agent: "billing-bot", Metric: "denials", Direction: "up", Severity: alerting.SeverityCritical,
		Detector: "cusum", Rule: "spend", Observed: 12.5, Baseline: 3.25, Score: 7.125,
		Message: "Spend spike — ünïcode\x00and a NUL", Status: alerting.StatusResolved,
		AckedBy: "key_ops", AckedAt: &acked, ResolvedBy: "key_admin", ResolvedAt: &resolved,
		Resolution: "refunded", Incident: "inc_1", Routes: []string{"pager", "slack"}, Controls: []string{"ctl_1"}}
}

// testAlerts: an alert is stored in its entry's transaction and read back
// field for field (times in UTC to the microsecond), in the transaction
// that wrote it, in later ones and through the Reader; an id is taken
// once (ErrExists, found without spoiling the transaction, the stored
// alert unchanged); a failing entry keeps none of its alerts; updates
// replace the alert, and an unknown id is ErrNotFound; tenants are apart,
// also for the same id; all of it survives a reopen.
func testAlerts(t *testing.T, h *harness) {
	c := newAlertChecks(t, h)
	c.noAlert(TenantA, "alr_1")

	full := fullAlert("alr_1")
	want := storedAlert(full)
	c.run(TenantA, "InsertAlert(alr_1)", func(tx alerting.Tx) error {
		if err := tx.InsertAlert(&full); err != nil {
			return fmt.Errorf("InsertAlert(alr_1) = %w", err)
		}
		got, err := tx.AlertInTx("alr_1")
		if err != nil || !reflect.DeepEqual(*got, want) {
			return fmt.Errorf("AlertInTx(alr_1) after its insert = %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	if full.Time.Location() != alertZone {
		t.Errorf("InsertAlert changed its argument's times: %v", full.Time)
	}
	c.alert(TenantA, want)
	c.noAlert(TenantB, "alr_1")
	// A set field of the alert has a column beside the JSON: it must
	// agree with it.
	c.alerts(TenantA, alerting.AlertFilter{Status: want.Status, Severity: want.Severity, Agent: want.Agent,
		Metric: want.Metric, From: full.Time, To: full.Time.Add(time.Microsecond), BeforeSeq: want.Seq + 1, Limit: 10}, "alr_1")

	// An id is taken once. A failing entry keeps none of its alerts.
	other := fullAlert("alr_1")
	other.Severity, other.Status, other.Metric = alerting.SeverityInfo, alerting.StatusOpen, "cost"
	err := alertingWork(c.l, TenantA, func(tx alerting.Tx) error { return tx.InsertAlert(&other) })
	if !errors.Is(err, alerting.ErrExists) || !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("InsertAlert(a taken id) = %v, want ErrRejected wrapping alerting.ErrExists", err)
	}
	err = alertingWork(c.l, TenantA, func(tx alerting.Tx) error {
		a2 := fullAlert("alr_2")
		if err := tx.InsertAlert(&a2); err != nil {
			return err
		}
		return tx.InsertAlert(&other)
	})
	if !errors.Is(err, alerting.ErrExists) {
		t.Errorf("InsertAlert(alr_2, then a taken id) = %v, want alerting.ErrExists", err)
	}
	c.noAlert(TenantA, "alr_2")
	c.alert(TenantA, want)
	// Being told an alert is recorded does not spoil the transaction.
	a3 := fullAlert("alr_3")
	c.run(TenantA, "InsertAlert(a taken id, then alr_3)", func(tx alerting.Tx) error {
		if err := tx.InsertAlert(&other); !errors.Is(err, alerting.ErrExists) {
			return fmt.Errorf("InsertAlert(a taken id) = %v, want alerting.ErrExists", err)
		}
		return tx.InsertAlert(&a3)
	})
	c.alert(TenantA, storedAlert(a3))
	c.alert(TenantA, want)

	// Updates replace the alert; the transaction sees its own.
	acked := fullAlert("alr_1")
	acked.Status, acked.ResolvedBy, acked.ResolvedAt, acked.Resolution = alerting.StatusAcknowledged, "", nil, ""
	acked.Routes, acked.Controls, acked.Incident, acked.Severity = nil, nil, "", alerting.SeverityWarning
	c.run(TenantA, "UpdateAlert(alr_1)", func(tx alerting.Tx) error {
		if err := tx.UpdateAlert(&acked); err != nil {
			return fmt.Errorf("UpdateAlert(alr_1) = %w", err)
		}
		got, err := tx.AlertInTx("alr_1")
		if err != nil || !reflect.DeepEqual(*got, storedAlert(acked)) {
			return fmt.Errorf("AlertInTx(alr_1) after its update = %+v, %v; want %+v", got, err, storedAlert(acked))
		}
		return nil
	})
	c.alert(TenantA, storedAlert(acked))
	c.alerts(TenantA, alerting.AlertFilter{Status: alerting.StatusAcknowledged, Severity: alerting.SeverityWarning, Limit: 10}, "alr_1")
	c.alerts(TenantA, alerting.AlertFilter{Status: alerting.StatusResolved, Limit: 10}, "alr_3")
	unknown := fullAlert("alr_77")
	if err := alertingWork(c.l, TenantA, func(tx alerting.Tx) error { return tx.UpdateAlert(&unknown) }); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("UpdateAlert(alr_77) = %v, want alerting.ErrNotFound", err)
	}
	c.noAlert(TenantA, "alr_77")

	// Tenants are apart: one cannot update another's alert, and the same
	// id in another tenant is another alert.
	if err := alertingWork(c.l, TenantB, func(tx alerting.Tx) error { return tx.UpdateAlert(&other) }); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("UpdateAlert(%s's alr_1) in %s = %v, want alerting.ErrNotFound", TenantA, TenantB, err)
	}
	c.noAlert(TenantB, "alr_1")
	c.alerts(TenantB, alerting.AlertFilter{Limit: 10})
	c.run(TenantB, "InsertAlert(alr_1)", func(tx alerting.Tx) error { return tx.InsertAlert(&other) })
	c.alert(TenantB, storedAlert(other))
	c.alert(TenantA, storedAlert(acked))

	if err := c.l.Close(context.Background()); err != nil {
		t.Fatalf("Ledger.Close() = %v, want nil", err)
	}
	h.Reopen(t)
	c = newAlertChecks(t, h)
	c.alert(TenantA, storedAlert(acked))
	c.alert(TenantA, storedAlert(a3))
	c.alert(TenantB, storedAlert(other))
	h.Verify(t, TenantA)
	h.Verify(t, TenantB)
}

// testAlertFilters: Alerts selects by each field of the filter and by any
// of them together, bounds Time to [From, To) at microsecond precision,
// orders newest first by seq, pages with BeforeSeq and Limit, refuses a
// limit that is not positive and never returns another tenant's alert.
func testAlertFilters(t *testing.T, h *harness) {
	c := newAlertChecks(t, h)
	base := time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC)
	mk := func(id string, seq int64, status, severity, agent, metric string, minute int) alerting.Alert {
		return alerting.Alert{ID: id, Seq: seq, Time: base.Add(time.Duration(minute) * time.Minute), Raised: base,
			Agent: agent, Metric: metric, Severity: severity, Detector: "threshold", Status: status}
	}
	open, acked, resolved := alerting.StatusOpen, alerting.StatusAcknowledged, alerting.StatusResolved
	warn, crit, info := alerting.SeverityWarning, alerting.SeverityCritical, alerting.SeverityInfo
	// Inserted out of seq order: seq orders the listing, not insertion.
	as := []alerting.Alert{
		mk("f03", 12, acked, warn, "a1", "cost", 2),
		mk("f01", 10, open, warn, "a1", "denials", 0),
		mk("f06", 15, open, warn, "a2", "denials", 5),
		mk("f02", 11, open, crit, "a2", "cost", 1),
		mk("f05", 14, open, crit, "a1", "denials", 4),
		mk("f04", 13, resolved, info, "", "verify", 3),
	}
	c.run(TenantA, "InsertAlert(f01..f06)", func(tx alerting.Tx) error {
		for i := range as {
			if err := tx.InsertAlert(&as[i]); err != nil {
				return fmt.Errorf("InsertAlert(%s) = %w", as[i].ID, err)
			}
		}
		return nil
	})
	stray := mk("g01", 100, open, crit, "a1", "denials", 3)
	c.run(TenantB, "InsertAlert(g01)", func(tx alerting.Tx) error { return tx.InsertAlert(&stray) })

	ns := time.Nanosecond
	tests := []struct {
		name string
		f    alerting.AlertFilter
		want []string
	}{
		{"all", alerting.AlertFilter{}, []string{"f06", "f05", "f04", "f03", "f02", "f01"}},
		{"status", alerting.AlertFilter{Status: open}, []string{"f06", "f05", "f02", "f01"}},
		{"severity", alerting.AlertFilter{Severity: crit}, []string{"f05", "f02"}},
		{"agent", alerting.AlertFilter{Agent: "a1"}, []string{"f05", "f03", "f01"}},
		{"metric", alerting.AlertFilter{Metric: "denials"}, []string{"f06", "f05", "f01"}},
		{"agent and status", alerting.AlertFilter{Agent: "a1", Status: open}, []string{"f05", "f01"}},
		{"every field", alerting.AlertFilter{Status: open, Severity: crit, Agent: "a1", Metric: "denials"}, []string{"f05"}},
		{"none match", alerting.AlertFilter{Status: resolved, Agent: "a1"}, nil},
		{"unknown agent", alerting.AlertFilter{Agent: "a9"}, nil},
		{"from", alerting.AlertFilter{From: base.Add(3 * time.Minute)}, []string{"f06", "f05", "f04"}},
		{"to", alerting.AlertFilter{To: base.Add(2 * time.Minute)}, []string{"f02", "f01"}},
		{"from to", alerting.AlertFilter{From: base.Add(time.Minute), To: base.Add(4 * time.Minute)}, []string{"f04", "f03", "f02"}},
		{"from just before", alerting.AlertFilter{From: base.Add(time.Minute - ns), To: base.Add(4*time.Minute - ns)}, []string{"f04", "f03", "f02"}},
		{"from just after", alerting.AlertFilter{From: base.Add(time.Minute + ns), To: base.Add(4*time.Minute + ns)}, []string{"f05", "f04", "f03"}},
		{"from in a zone", alerting.AlertFilter{From: base.Add(4 * time.Minute).In(alertZone)}, []string{"f06", "f05"}},
		{"before seq", alerting.AlertFilter{BeforeSeq: 13}, []string{"f03", "f02", "f01"}},
		{"before seq and status", alerting.AlertFilter{BeforeSeq: 15, Status: open}, []string{"f05", "f02", "f01"}},
		{"before the first", alerting.AlertFilter{BeforeSeq: 10}, nil},
		{"limit", alerting.AlertFilter{Limit: 2}, []string{"f06", "f05"}},
		{"limit and filter", alerting.AlertFilter{Metric: "cost", Limit: 1}, []string{"f03"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			if f.Limit == 0 {
				f.Limit = 100
			}
			c := &alertChecks{t: t, l: c.l, r: c.r}
			c.alerts(TenantA, f, tc.want...)
		})
	}

	// Pages of two, each after the last seq of the one before.
	var got [][]string
	f := alerting.AlertFilter{Limit: 2}
	for range 5 {
		page, err := c.r.Alerts(context.Background(), TenantA, f)
		if err != nil {
			t.Fatalf("Alerts(%s, %+v) = %v, want nil", TenantA, f, err)
		}
		got = append(got, alertIDs(page))
		if len(page) < f.Limit {
			break
		}
		f.BeforeSeq = page[len(page)-1].Seq
	}
	if want := [][]string{{"f06", "f05"}, {"f04", "f03"}, {"f02", "f01"}, {}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Alerts pages of 2 = %v, want %v", got, want)
	}
	c.alerts(TenantB, alerting.AlertFilter{Limit: 100}, "g01")
	for _, limit := range []int{0, -1} {
		if _, err := c.r.Alerts(context.Background(), TenantA, alerting.AlertFilter{Limit: limit}); err == nil {
			t.Errorf("Alerts(limit %d) = nil error, want one", limit)
		}
	}
}
