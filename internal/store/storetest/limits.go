package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/limits"
)

// limitsWork appends an entry to tenant's log whose work runs fn on the
// store's limits.Tx inside the append transaction. Work runs on the
// appender's goroutine, so fn returns failures rather than failing t.
func limitsWork(l *ledger.Ledger, tenant string, fn func(tx limits.Tx) error) error {
	req := Req(0)
	req.Work = func(_ context.Context, tx ledger.Tx) error {
		lt, ok := tx.(limits.Tx)
		if !ok {
			return fmt.Errorf("the store's transaction %T is not a limits.Tx", tx)
		}
		return fn(lt)
	}
	_, err := l.Append(context.Background(), tenant, req)
	return err
}

// wantEvents checks counter's events after since.
func wantEvents(tx limits.Tx, counter string, since time.Time, want ...limits.Event) error {
	got, err := tx.LimitEvents(counter, since)
	if err != nil {
		return fmt.Errorf("LimitEvents(%s, %s) = %w", counter, since.Format(time.RFC3339Nano), err)
	}
	same := func(a, b limits.Event) bool { return a.At.Equal(b.At) && a.Amount == b.Amount }
	if !slices.EqualFunc(got, want, same) {
		return fmt.Errorf("LimitEvents(%s, %s) = %v, want %v", counter, since.Format(time.RFC3339Nano), got, want)
	}
	return nil
}

// wantSession checks a session's totals and its last n actions.
func wantSession(tx limits.Tx, session string, actions, risk int64, n int, last ...string) error {
	a, r, err := tx.SessionTotals(session)
	if err != nil || a != actions || r != risk {
		return fmt.Errorf("SessionTotals(%s) = %d, %d, %v; want %d, %d, nil", session, a, r, err, actions, risk)
	}
	got, err := tx.SessionActions(session, n)
	if err != nil || !slices.Equal(got, last) {
		return fmt.Errorf("SessionActions(%s, %d) = %v, %v; want %v", session, n, got, err, last)
	}
	return nil
}

// testLimits: a counter's events are kept per tenant and per counter, to
// the microsecond, and read after a time, oldest first; pruning drops
// those at or before a time and nothing else; a session's totals start at
// zero and add up, its last actions are read oldest first, only the last
// limits.MaxLookback of them are kept; a failing entry or transaction
// leaves no count behind.
func testLimits(t *testing.T, h *harness) {
	ctx := context.Background()
	l := h.Ledger(t, ledger.Config{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	ev := func(d time.Duration, amount int64) limits.Event { return limits.Event{At: at.Add(d), Amount: amount} }
	const rate, budget = "email-rate/agent:bot", "spend/agent:bot"
	run := func(tenant, what string, fn func(tx limits.Tx) error) {
		t.Helper()
		if err := limitsWork(l, tenant, fn); err != nil {
			t.Fatalf("%s in %s: %v", what, tenant, err)
		}
	}

	// Uses are counted out of time order, in separate transactions.
	for _, w := range []struct {
		tenant, counter string
		e               limits.Event
	}{
		{TenantA, rate, ev(2*time.Second, 1)},
		{TenantA, rate, ev(0, 1)},
		{TenantA, budget, ev(time.Second, 500)},
		{TenantA, rate, ev(time.Second+time.Microsecond, 1)},
		{TenantB, rate, ev(time.Second, 9)},
	} {
		run(w.tenant, "count "+w.counter, func(tx limits.Tx) error { return tx.AddLimitEvent(w.counter, w.e.At, w.e.Amount) })
	}
	run(TenantA, "read events", func(tx limits.Tx) error {
		return errors.Join(
			wantEvents(tx, rate, at.Add(-time.Microsecond), ev(0, 1), ev(time.Second+time.Microsecond, 1), ev(2*time.Second, 1)),
			// Strictly after since: an event at since is out of the window.
			wantEvents(tx, rate, at, ev(time.Second+time.Microsecond, 1), ev(2*time.Second, 1)),
			wantEvents(tx, rate, at.Add(time.Second), ev(time.Second+time.Microsecond, 1), ev(2*time.Second, 1)),
			wantEvents(tx, rate, at.Add(2*time.Second)),
			wantEvents(tx, budget, at.Add(-time.Hour), ev(time.Second, 500)),
			wantEvents(tx, "unused/agent:bot", at.Add(-time.Hour)),
		)
	})
	run(TenantB, "read events", func(tx limits.Tx) error {
		return errors.Join(
			wantEvents(tx, rate, at.Add(-time.Hour), ev(time.Second, 9)),
			wantEvents(tx, budget, at.Add(-time.Hour)),
		)
	})
	// A transaction reads its own counts; pruning drops events at or
	// before upTo, of that counter and tenant only.
	run(TenantA, "count and prune", func(tx limits.Tx) error {
		if err := tx.AddLimitEvent(rate, at.Add(3*time.Second), 1); err != nil {
			return fmt.Errorf("AddLimitEvent = %w", err)
		}
		if err := wantEvents(tx, rate, at.Add(2*time.Second), ev(3*time.Second, 1)); err != nil {
			return err
		}
		used, err := tx.LimitUsed(rate, at.Add(time.Second+time.Microsecond))
		if err != nil {
			return fmt.Errorf("LimitUsed = %w", err)
		}
		if used != 2 {
			return fmt.Errorf("LimitUsed = %d after the prune, want the 2 events left", used)
		}
		return wantEvents(tx, rate, at.Add(-time.Hour), ev(2*time.Second, 1), ev(3*time.Second, 1))
	})
	run(TenantA, "read after prune", func(tx limits.Tx) error {
		return errors.Join(
			wantEvents(tx, rate, at.Add(-time.Hour), ev(2*time.Second, 1), ev(3*time.Second, 1)),
			wantEvents(tx, budget, at.Add(-time.Hour), ev(time.Second, 500)),
		)
	})
	run(TenantB, "read after prune", func(tx limits.Tx) error {
		return wantEvents(tx, rate, at.Add(-time.Hour), ev(time.Second, 9))
	})

	// Sessions.
	run(TenantA, "new session", func(tx limits.Tx) error { return wantSession(tx, "s1", 0, 0, 10) })
	for i, a := range []struct {
		action string
		risk   int64
	}{{"db.read_customers", 3}, {"email.send", 0}, {"http.post", 7}} {
		run(TenantA, "add "+a.action, func(tx limits.Tx) error {
			return tx.AddSessionAction("s1", at.Add(time.Duration(i)*time.Second), a.action, a.risk)
		})
	}
	run(TenantB, "add http.post", func(tx limits.Tx) error { return tx.AddSessionAction("s1", at, "http.post", 5) })
	run(TenantA, "read session", func(tx limits.Tx) error {
		return errors.Join(
			wantSession(tx, "s1", 3, 10, 10, "db.read_customers", "email.send", "http.post"),
			wantSession(tx, "s1", 3, 10, 2, "email.send", "http.post"),
			wantSession(tx, "s1", 3, 10, 1, "http.post"),
			wantSession(tx, "s2", 0, 0, 10),
		)
	})
	run(TenantB, "read session", func(tx limits.Tx) error {
		return errors.Join(wantSession(tx, "s1", 1, 5, 10, "http.post"), wantSession(tx, "s2", 0, 0, 10))
	})
	// Only the last MaxLookback actions are kept; the totals count all.
	const extra = 5
	run(TenantA, "a long session", func(tx limits.Tx) error {
		for i := range limits.MaxLookback + extra {
			if err := tx.AddSessionAction("long", at, fmt.Sprintf("step.%d", i), 1); err != nil {
				return fmt.Errorf("AddSessionAction(long, %d) = %w", i, err)
			}
		}
		return nil
	})
	run(TenantA, "read a long session", func(tx limits.Tx) error {
		got, err := tx.SessionActions("long", limits.MaxLookback+extra)
		if err != nil || len(got) != limits.MaxLookback || got[0] != fmt.Sprintf("step.%d", extra) ||
			got[len(got)-1] != fmt.Sprintf("step.%d", limits.MaxLookback+extra-1) {
			oldest, newest := ends(got)
			return fmt.Errorf("SessionActions(long, %d) = %d actions (%s to %s), %v; want step.%d to step.%d",
				limits.MaxLookback+extra, len(got), oldest, newest, err, extra, limits.MaxLookback+extra-1)
		}
		return wantSession(tx, "long", limits.MaxLookback+extra, limits.MaxLookback+extra, 1,
			fmt.Sprintf("step.%d", limits.MaxLookback+extra-1))
	})

	// A failing entry's counts are undone with it, and so are a failing
	// transaction's.
	count := func(tx limits.Tx) error {
		if err := tx.AddLimitEvent(rate, at.Add(4*time.Second), 1); err != nil {
			return err
		}
		if _, err := tx.LimitUsed(budget, at.Add(time.Hour)); err != nil {
			return err
		}
		if err := tx.AddSessionAction("s1", at.Add(4*time.Second), "shell.exec", 10); err != nil {
			return err
		}
		return tx.AddSessionAction("s3", at.Add(4*time.Second), "shell.exec", 10)
	}
	if err := limitsWork(l, TenantA, func(tx limits.Tx) error {
		if err := count(tx); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, ledger.ErrRejected) || !errors.Is(err, errBoom) {
		t.Fatalf("Append(work counts, then fails) = %v, want ErrRejected wrapping %v", err, errBoom)
	}
	err := h.Store.Append(ctx, TenantA, func(tx ledger.Tx) error {
		lt, ok := tx.(limits.Tx)
		if !ok {
			return fmt.Errorf("the store's transaction %T is not a limits.Tx", tx)
		}
		if err := count(lt); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Store.Append(counts, then fails) = %v, want %v", err, errBoom)
	}
	run(TenantA, "read after failures", func(tx limits.Tx) error {
		return errors.Join(
			wantEvents(tx, rate, at.Add(-time.Hour), ev(2*time.Second, 1), ev(3*time.Second, 1)),
			wantEvents(tx, budget, at.Add(-time.Hour), ev(time.Second, 500)),
			wantSession(tx, "s1", 3, 10, 10, "db.read_customers", "email.send", "http.post"),
			wantSession(tx, "s3", 0, 0, 10),
		)
	})
	h.Verify(t, TenantA)
	h.Verify(t, TenantB)
}

// ends returns the first and last of s, empty when s is.
func ends(s []string) (first, last string) {
	if len(s) == 0 {
		return "", ""
	}
	return s[0], s[len(s)-1]
}
