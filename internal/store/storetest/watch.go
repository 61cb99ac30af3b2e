package storetest

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/watch"
)

func watchStore(t *testing.T, h *harness) watch.Store {
	t.Helper()
	w, ok := h.Store.(watch.Store)
	if !ok {
		t.Fatal("the store is not a watch.Store")
	}
	return w
}

// testMonitorState: a tenant has no checkpoint until one is put; a put
// replaces the tenant's checkpoint and no other's; the snapshot comes
// back byte for byte and the time in UTC to the microsecond; a
// checkpoint survives a reopen.
func testMonitorState(t *testing.T, h *harness) {
	ctx := context.Background()
	w := watchStore(t, h)
	want := func(tenant string, st *watch.State) {
		t.Helper()
		got, err := w.MonitorState(ctx, tenant)
		if err != nil {
			t.Fatalf("MonitorState(%s) = %v, want nil", tenant, err)
		}
		if st == nil {
			if got != nil {
				t.Errorf("MonitorState(%s) = %+v, want nil", tenant, got)
			}
			return
		}
		if got == nil {
			t.Fatalf("MonitorState(%s) = nil, want %d bytes at %d", tenant, len(st.Snapshot), st.Next)
		}
		if got.Next != st.Next || !bytes.Equal(got.Snapshot, st.Snapshot) || !reflect.DeepEqual(got.Updated, usUTC(st.Updated)) {
			t.Errorf("MonitorState(%s) = next %d, %d bytes, updated %v; want next %d, %d bytes, updated %v",
				tenant, got.Next, len(got.Snapshot), got.Updated, st.Next, len(st.Snapshot), usUTC(st.Updated))
		}
	}
	put := func(tenant string, st *watch.State) {
		t.Helper()
		if err := w.PutMonitorState(ctx, tenant, st); err != nil {
			t.Fatalf("PutMonitorState(%s, next %d) = %v, want nil", tenant, st.Next, err)
		}
	}
	want(TenantA, nil)
	want(TenantB, nil)

	at := time.Date(2026, 3, 4, 6, 6, 7, 123456789, alertZone)
	big := bytes.Repeat([]byte{0, 1, 2, 0xff, 'w'}, 64<<10)
	a1 := &watch.State{Next: 42, Snapshot: []byte("gob\x00\x01snapshot"), Updated: at}
	put(TenantA, a1)
	want(TenantA, a1)
	want(TenantB, nil)
	b1 := &watch.State{Next: 7, Snapshot: big, Updated: at.Add(time.Second)}
	put(TenantB, b1)
	a2 := &watch.State{Next: 99, Snapshot: []byte("another"), Updated: at.Add(time.Minute)}
	put(TenantA, a2)
	want(TenantA, a2)
	want(TenantB, b1)

	h.Reopen(t)
	w = watchStore(t, h)
	want(TenantA, a2)
	want(TenantB, b1)
}

// testMonitorSeries: points are upserted by tenant, agent and bucket (the
// last of one call wins); Series returns an agent's points with Bucket in
// [from, to), oldest first, at most limit; MonitorAgents summarizes each
// agent's points (first, last, count) in agent order, in pages after a
// cursor; PruneSeries deletes every tenant's points before a time,
// counts them, and keeps the rest; another tenant's points are never
// returned.
func testMonitorSeries(t *testing.T, h *harness) {
	ctx := context.Background()
	w := watchStore(t, h)
	base := time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC)
	b := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	p := func(agent string, i int, data string) watch.Point {
		return watch.Point{Agent: agent, Bucket: b(i), Data: []byte(data)}
	}
	put := func(tenant string, points ...watch.Point) {
		t.Helper()
		if err := w.PutSeries(ctx, tenant, points); err != nil {
			t.Fatalf("PutSeries(%s, %d points) = %v, want nil", tenant, len(points), err)
		}
	}
	series := func(tenant, agent string, from, to time.Time, limit int, want ...watch.Point) {
		t.Helper()
		got, err := w.Series(ctx, tenant, agent, from, to, limit)
		if err != nil {
			t.Fatalf("Series(%s, %s, %v, %v, %d) = %v, want nil", tenant, agent, from, to, limit, err)
		}
		if len(got) != len(want) {
			t.Fatalf("Series(%s, %s, %v, %v, %d) = %d points, want %d", tenant, agent, from, to, limit, len(got), len(want))
		}
		for i := range want {
			if g, w := got[i], want[i]; g.Agent != w.Agent || !reflect.DeepEqual(g.Bucket, w.Bucket) || !bytes.Equal(g.Data, w.Data) {
				t.Errorf("Series(%s, %s)[%d] = %s %v %q, want %s %v %q", tenant, agent, i, g.Agent, g.Bucket, g.Data, w.Agent, w.Bucket, w.Data)
			}
		}
	}
	agents := func(tenant, after string, limit int, want ...watch.AgentSummary) {
		t.Helper()
		got, err := w.MonitorAgents(ctx, tenant, after, limit)
		if err != nil {
			t.Fatalf("MonitorAgents(%s, %q, %d) = %v, want nil", tenant, after, limit, err)
		}
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("MonitorAgents(%s, %q, %d) = %+v, want %+v", tenant, after, limit, got, want)
		}
	}
	prune := func(before time.Time, want int64) {
		t.Helper()
		if n, err := w.PruneSeries(ctx, before); err != nil || n != want {
			t.Errorf("PruneSeries(%v) = %d, %v; want %d, nil", before, n, err, want)
		}
	}
	end := b(100)

	agents(TenantA, "", 10)
	put(TenantA)
	put(TenantA, p("a1", 0, `{"n":0}`), p("a1", 1, `{"n":1}`), p("a1", 2, `{"n":2}`), p("a2", 2, `{"m":2}`), p("a2", 3, `{"m":3}`))
	put(TenantB, p("a1", 0, `{"b":0}`), p("b9", 3, `{"b":3}`))
	// An upsert replaces; the last point of one call wins.
	put(TenantA, p("a1", 1, `{"n":"1a"}`), p("a1", 3, `{"n":3}`), p("a1", 4, `{"n":"4a"}`), p("a1", 4, `{"n":4}`))
	a1 := []watch.Point{p("a1", 0, `{"n":0}`), p("a1", 1, `{"n":"1a"}`), p("a1", 2, `{"n":2}`), p("a1", 3, `{"n":3}`), p("a1", 4, `{"n":4}`)}
	series(TenantA, "a1", base, end, 100, a1...)
	series(TenantA, "a1", b(1), b(4), 100, a1[1:4]...)
	series(TenantA, "a1", b(1), b(4), 2, a1[1:3]...)
	series(TenantA, "a1", b(1).Add(time.Nanosecond), b(4).Add(time.Nanosecond), 100, a1[2:5]...)
	series(TenantA, "a1", b(1).In(alertZone), b(2).In(alertZone), 100, a1[1])
	series(TenantA, "a1", b(5), end, 100)
	series(TenantA, "a2", base, end, 100, p("a2", 2, `{"m":2}`), p("a2", 3, `{"m":3}`))
	series(TenantA, "b9", base, end, 100)
	series(TenantB, "a1", base, end, 100, p("a1", 0, `{"b":0}`))
	if _, err := w.Series(ctx, TenantA, "a1", base, end, 0); err == nil {
		t.Error("Series(limit 0) = nil error, want one")
	}

	sumA1 := watch.AgentSummary{Agent: "a1", First: b(0), Last: b(4), Buckets: 5}
	sumA2 := watch.AgentSummary{Agent: "a2", First: b(2), Last: b(3), Buckets: 2}
	agents(TenantA, "", 10, sumA1, sumA2)
	agents(TenantA, "", 1, sumA1)
	agents(TenantA, "a1", 1, sumA2)
	agents(TenantA, "a2", 1)
	agents(TenantA, "a", 10, sumA1, sumA2)
	agents(TenantB, "", 10, watch.AgentSummary{Agent: "a1", First: b(0), Last: b(0), Buckets: 1},
		watch.AgentSummary{Agent: "b9", First: b(3), Last: b(3), Buckets: 1})
	if _, err := w.MonitorAgents(ctx, TenantA, "", 0); err == nil {
		t.Error("MonitorAgents(limit 0) = nil error, want one")
	}

	// Pruning crosses tenants and keeps what is not older than the bound.
	prune(b(2), 3) // a1 at 0 and 1 of A, a1 at 0 of B
	series(TenantA, "a1", base, end, 100, a1[2:]...)
	agents(TenantA, "", 10, watch.AgentSummary{Agent: "a1", First: b(2), Last: b(4), Buckets: 3}, sumA2)
	agents(TenantB, "", 10, watch.AgentSummary{Agent: "b9", First: b(3), Last: b(3), Buckets: 1})
	prune(b(2), 0)
	prune(b(3).Add(time.Nanosecond), 5) // at 3 is before 3:00.000000001
	agents(TenantA, "", 10, watch.AgentSummary{Agent: "a1", First: b(4), Last: b(4), Buckets: 1})
	agents(TenantB, "", 10)

	h.Reopen(t)
	w = watchStore(t, h)
	series(TenantA, "a1", base, end, 100, a1[4])
}
