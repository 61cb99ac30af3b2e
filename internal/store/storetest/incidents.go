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

// incidents checks the ids Incidents returns for f.
func (c *alertChecks) incidents(tenant string, f alerting.IncidentFilter, want ...string) {
	c.t.Helper()
	got, err := c.r.Incidents(context.Background(), tenant, f)
	if err != nil {
		c.t.Fatalf("Incidents(%s, %+v) = %v, want nil", tenant, f, err)
	}
	if ids := incidentIDs(got); !slices.Equal(ids, append([]string{}, want...)) {
		c.t.Errorf("Incidents(%s, %+v) = %v, want %v", tenant, f, ids, want)
	}
}

// newIncident returns an open incident opened at seq, its times with
// nanoseconds and a zone.
func newIncident(id string, seq int64) alerting.Incident {
	at := time.Date(2026, 3, 4, 6, 6, 0, 777, alertZone)
	return alerting.Incident{ID: id, Seq: seq, Title: "Spend spike on billing-bot — ünïcode", Severity: alerting.SeverityCritical,
		Status: alerting.IncidentOpen, Opened: at, OpenedBy: "key_ops", Updated: at,
		Alerts: []string{"alr_1", "alr_2"}, Receipts: []string{"rcpt_9"},
		Notes: []alerting.Note{{Seq: seq, At: at, By: "key_ops", Text: "looking"}}}
}

// testIncidents: an incident is stored in its entry's transaction and
// read back field for field (times in UTC to the microsecond, notes in
// order, empty and absent lists as they were); an id is taken once
// (ErrExists, the stored incident unchanged); updates replace it, and an
// unknown id is ErrNotFound; tenants are apart; listings select by status,
// order newest first by seq and page with BeforeSeq and Limit; all of it
// survives a reopen.
func testIncidents(t *testing.T, h *harness) {
	ctx := context.Background()
	c := newAlertChecks(t, h)
	c.noIncident(TenantA, "inc_1")

	inc := newIncident("inc_1", 20)
	want := storedIncident(inc)
	c.run(TenantA, "InsertIncident(inc_1)", func(tx alerting.Tx) error {
		if err := tx.InsertIncident(&inc); err != nil {
			return fmt.Errorf("InsertIncident(inc_1) = %w", err)
		}
		got, err := tx.IncidentInTx("inc_1")
		if err != nil || !reflect.DeepEqual(*got, want) {
			return fmt.Errorf("IncidentInTx(inc_1) after its insert = %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	c.incident(TenantA, want)
	c.noIncident(TenantB, "inc_1")

	// Lists come back as they went in: nil as nil, empty as empty.
	bare := newIncident("inc_2", 21)
	bare.Alerts, bare.Receipts, bare.Notes = nil, []string{}, nil
	c.run(TenantA, "InsertIncident(inc_2)", func(tx alerting.Tx) error { return tx.InsertIncident(&bare) })
	c.incident(TenantA, storedIncident(bare))

	// An id is taken once, and a failing entry keeps nothing.
	dup := newIncident("inc_1", 99)
	dup.Title = "another"
	err := alertingWork(c.l, TenantA, func(tx alerting.Tx) error {
		third := newIncident("inc_3", 22)
		if err := tx.InsertIncident(&third); err != nil {
			return err
		}
		return tx.InsertIncident(&dup)
	})
	if !errors.Is(err, alerting.ErrExists) || !errors.Is(err, ledger.ErrRejected) {
		t.Errorf("InsertIncident(inc_3, then a taken id) = %v, want ErrRejected wrapping alerting.ErrExists", err)
	}
	c.noIncident(TenantA, "inc_3")
	c.incident(TenantA, want)

	// Updates replace the incident.
	resolved := newIncident("inc_1", 20)
	later := resolved.Opened.Add(time.Hour + 1)
	resolved.Notes = append(resolved.Notes, alerting.Note{Seq: 30, At: later, By: "key_admin", Text: "refunded\nall of them"})
	resolved.Alerts = append(resolved.Alerts, "alr_3")
	resolved.Status, resolved.Updated = alerting.IncidentResolved, later
	resolved.ResolvedBy, resolved.ResolvedAt, resolved.Resolution = "key_admin", &later, "refunded"
	c.run(TenantA, "UpdateIncident(inc_1)", func(tx alerting.Tx) error {
		if err := tx.UpdateIncident(&resolved); err != nil {
			return fmt.Errorf("UpdateIncident(inc_1) = %w", err)
		}
		got, err := tx.IncidentInTx("inc_1")
		if err != nil || !reflect.DeepEqual(*got, storedIncident(resolved)) {
			return fmt.Errorf("IncidentInTx(inc_1) after its update = %+v, %v; want %+v", got, err, storedIncident(resolved))
		}
		return nil
	})
	c.incident(TenantA, storedIncident(resolved))
	unknown := newIncident("inc_77", 1)
	if err := alertingWork(c.l, TenantA, func(tx alerting.Tx) error { return tx.UpdateIncident(&unknown) }); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("UpdateIncident(inc_77) = %v, want alerting.ErrNotFound", err)
	}
	c.noIncident(TenantA, "inc_77")

	// Tenants are apart.
	if err := alertingWork(c.l, TenantB, func(tx alerting.Tx) error { return tx.UpdateIncident(&dup) }); !errors.Is(err, alerting.ErrNotFound) {
		t.Errorf("UpdateIncident(%s's inc_1) in %s = %v, want alerting.ErrNotFound", TenantA, TenantB, err)
	}
	c.noIncident(TenantB, "inc_1")
	c.incidents(TenantB, alerting.IncidentFilter{Limit: 10})
	c.run(TenantB, "InsertIncident(inc_1)", func(tx alerting.Tx) error { return tx.InsertIncident(&dup) })
	c.incident(TenantB, storedIncident(dup))
	c.incident(TenantA, storedIncident(resolved))

	// Listings: newest first by seq, by status, in pages.
	c.run(TenantA, "InsertIncident(inc_4, inc_5)", func(tx alerting.Tx) error {
		for _, i := range []alerting.Incident{newIncident("inc_5", 24), newIncident("inc_4", 23)} {
			if err := tx.InsertIncident(&i); err != nil {
				return err
			}
		}
		return nil
	})
	all := []string{"inc_5", "inc_4", "inc_2", "inc_1"}
	c.incidents(TenantA, alerting.IncidentFilter{Limit: 10}, all...)
	c.incidents(TenantA, alerting.IncidentFilter{Status: alerting.IncidentOpen, Limit: 10}, "inc_5", "inc_4", "inc_2")
	c.incidents(TenantA, alerting.IncidentFilter{Status: alerting.IncidentResolved, Limit: 10}, "inc_1")
	c.incidents(TenantA, alerting.IncidentFilter{Status: alerting.IncidentOpen, BeforeSeq: 23, Limit: 10}, "inc_2")
	c.incidents(TenantA, alerting.IncidentFilter{BeforeSeq: 20, Limit: 10})
	c.incidents(TenantB, alerting.IncidentFilter{Limit: 10}, "inc_1")
	var got []string
	f := alerting.IncidentFilter{Limit: 3}
	for range 5 {
		page, err := c.r.Incidents(ctx, TenantA, f)
		if err != nil {
			t.Fatalf("Incidents(%s, %+v) = %v, want nil", TenantA, f, err)
		}
		got = append(got, incidentIDs(page)...)
		if len(page) < f.Limit {
			break
		}
		f.BeforeSeq = page[len(page)-1].Seq
	}
	if !slices.Equal(got, all) {
		t.Errorf("Incidents in pages of 3 = %v, want %v", got, all)
	}
	if _, err := c.r.Incidents(ctx, TenantA, alerting.IncidentFilter{}); err == nil {
		t.Error("Incidents(limit 0) = nil error, want one")
	}

	if err := c.l.Close(ctx); err != nil {
		t.Fatalf("Ledger.Close() = %v, want nil", err)
	}
	h.Reopen(t)
	c = newAlertChecks(t, h)
	c.incident(TenantA, storedIncident(resolved))
	c.incident(TenantA, storedIncident(bare))
	c.incident(TenantB, storedIncident(dup))
}
