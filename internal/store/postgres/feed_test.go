package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/cluster"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
)

// The child of TestFeedAcrossProcesses subscribes to these topics.
var feedChildTopics = []string{"alpha", "beta"}

// TestFeedChild is the other replica of TestFeedAcrossProcesses. It
// prints "recv <subscribed topic> <resync> <payload>" for every notice its
// subscriptions get, and obeys commands on stdin:
//
//	pub <topic> <payload>  publish one notice, then print "published"
//	lat <n>                publish n notices "<i> <unix nanos>" on topic lat
func TestFeedChild(t *testing.T) {
	env := asChild(t, "feed")
	ctx := context.Background()
	db, err := postgres.Open(ctx, env.dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	feed := postgres.NewFeed(db, postgres.FeedOptions{Resync: -1})
	defer feed.Close()
	<-feed.Ready()
	out := newLineWriter()
	for _, topic := range feedChildTopics {
		ch, cancel := feed.Subscribe(topic)
		defer cancel()
		go func() {
			for n := range ch {
				out.printf("recv %s %t %s", topic, n.Resync, n.Payload)
			}
		}()
	}
	out.printf("ready")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 64<<10)
	for in.Scan() { // until the parent closes stdin
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "pub":
			topic, payload, _ := strings.Cut(arg, " ")
			if err := feed.Publish(ctx, topic, payload); err != nil {
				t.Fatalf("Publish(%s) = %v, want nil", topic, err)
			}
			out.printf("published")
		case "lat":
			n, _ := strconv.Atoi(arg)
			// Spaced out, so each figure is one notice's latency rather than
			// a queue's.
			tick := time.NewTicker(5 * time.Millisecond)
			for i := range n {
				<-tick.C
				if err := feed.Publish(ctx, "lat", fmt.Sprintf("%d %d", i, time.Now().UnixNano())); err != nil {
					t.Fatalf("Publish(lat) = %v, want nil", err)
				}
			}
			tick.Stop()
			out.printf("published")
		}
	}
}

// feedPeer is the parent's side of TestFeedAcrossProcesses.
type feedPeer struct {
	g     *procGroup
	child *proc
}

// expect returns the child's next line that starts with prefix, skipping
// others, and fails t after d.
func (p *feedPeer) expect(t *testing.T, prefix string, d time.Duration) event {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, ok := p.g.next(deadline)
		if !ok {
			t.Fatalf("no line %q from the child within %v", prefix, d)
		}
		if ev.eof {
			t.Fatalf("the child ended (%v) waiting for %q", p.child.wait(t, time.Second), prefix)
		}
		if strings.HasPrefix(ev.text, prefix) {
			return ev
		}
	}
}

// receive returns the next notice on ch, failing t after d.
func receive(t *testing.T, ch <-chan cluster.Notice, d time.Duration, what string) (cluster.Notice, time.Time) {
	t.Helper()
	select {
	case n := <-ch:
		return n, time.Now()
	case <-time.After(d):
		t.Fatalf("%s: no notice within %v", what, d)
		return cluster.Notice{}, time.Time{}
	}
}

// TestFeedAcrossProcesses runs the change feed between this process and a
// child with its own store and LISTEN connection (resync off): latency,
// topic filtering, and recovery after the listeners' connections are killed.
func TestFeedAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v, want nil", err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	defer db.Close()
	// The listener's loss below is meant: keep its warning out of the output.
	feed := postgres.NewFeed(db, postgres.FeedOptions{Resync: -1, Logger: slog.New(slog.DiscardHandler)})
	defer feed.Close()
	lat, cancel := feed.Subscribe("lat")
	defer cancel()
	select {
	case <-feed.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the feed did not listen within 10s")
	}
	g := newProcGroup(t)
	p := &feedPeer{g: g, child: g.start("TestFeedChild", "feed", childDSNEnv+"="+dsn)}
	p.expect(t, "ready", 30*time.Second)

	t.Run("Latency", func(t *testing.T) {
		const n = 100
		p.child.send(t, "lat %d", n)
		lats := make([]time.Duration, n)
		seen := map[int]bool{}
		for range n {
			note, at := receive(t, lat, 10*time.Second, fmt.Sprintf("latency notice %d of %d", len(seen)+1, n))
			var i int
			var sent int64
			if _, err := fmt.Sscanf(note.Payload, "%d %d", &i, &sent); err != nil || note.Resync || i < 0 || i >= n || seen[i] {
				t.Fatalf("latency notice %+v: malformed, a Resync or a repeat", note)
			}
			seen[i] = true
			lats[i] = at.Sub(time.Unix(0, sent))
		}
		p.expect(t, "published", 10*time.Second)
		slices.Sort(lats)
		p50, p99, most := lats[n/2-1], lats[n*99/100-1], lats[n-1]
		t.Logf("feed latency: p50 %v p99 %v max %v (%d notices, child process NOTIFY -> this process LISTEN, 5ms apart)",
			p50, p99, most, n)
		if p99 >= time.Second {
			t.Errorf("feed latency p99 = %v, want under 1s", p99)
		}
	})

	t.Run("TopicFiltering", func(t *testing.T) {
		_, rng := testSeed(t, "WARDEN_FEED_SEED")
		want := map[string][]string{}
		for i := range 60 {
			topic := []string{"alpha", "beta", "gamma"}[rng.IntN(3)]
			payload := fmt.Sprintf("%s-%d", topic, i)
			if err := feed.Publish(ctx, topic, payload); err != nil {
				t.Fatalf("Publish(%s) = %v, want nil", topic, err)
			}
			want[topic] = append(want[topic], payload)
		}
		for _, topic := range feedChildTopics {
			if err := feed.Publish(ctx, topic, "end"); err != nil {
				t.Fatal(err)
			}
			want[topic] = append(want[topic], "end")
		}
		got := map[string][]string{}
		for ends := 0; ends < len(feedChildTopics); {
			var sub, resync, payload string
			ev := p.expect(t, "recv ", 10*time.Second)
			fields := strings.SplitN(ev.text, " ", 4)
			sub, resync, payload = fields[1], fields[2], fields[3]
			if resync != "false" {
				t.Fatalf("child got a Resync on %s with resync off: %q", sub, ev.text)
			}
			got[sub] = append(got[sub], payload)
			if payload == "end" {
				ends++
			}
		}
		for _, topic := range feedChildTopics {
			if !slices.Equal(got[topic], want[topic]) {
				t.Errorf("child's %s subscription got %q, want %q", topic, got[topic], want[topic])
			}
		}
		select {
		case n := <-lat:
			t.Errorf("this process's lat subscription got %+v from other topics", n)
		default:
		}
	})

	t.Run("PublishLimits", func(t *testing.T) {
		rejected := []struct{ name, topic, payload string }{
			{"oversize payload", "alpha", strings.Repeat("x", cluster.MaxPayload+1)},
			{"oversize multibyte payload", "alpha", strings.Repeat("é", cluster.MaxPayload/2+1)},
			{"empty topic", "", "p"},
			{"topic of 64 bytes", strings.Repeat("t", 64), "p"},
			{"topic with a newline", "alpha\nbeta", "p"},
		}
		for _, r := range rejected {
			if err := feed.Publish(ctx, r.topic, r.payload); err == nil {
				t.Errorf("Publish(%s) = nil, want an error", r.name)
			}
		}
		// The largest payload crosses intact, and is the first thing the child
		// gets: nothing rejected was sent.
		largest := strings.Repeat("é", cluster.MaxPayload/2)
		if err := feed.Publish(ctx, "alpha", largest); err != nil {
			t.Fatalf("Publish(%d-byte payload) = %v, want nil", len(largest), err)
		}
		if ev := p.expect(t, "recv ", 10*time.Second); ev.text != "recv alpha false "+largest {
			t.Fatalf("child got %.60q..., want the %d-byte payload", ev.text, len(largest))
		}
	})

	t.Run("ResyncAfterListenerKilled", func(t *testing.T) {
		var killed int
		err := db.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`).Scan(&killed)
		if err != nil {
			t.Fatal(err)
		}
		if killed != 2 {
			t.Fatalf("terminated %d LISTEN connections, want 2 (this process's and the child's)", killed)
		}
		// Each side reconnects, listens again and tells every subscriber to resync.
		if n, _ := receive(t, lat, 10*time.Second, "resync here"); !n.Resync {
			t.Fatalf("after the kill this process got %+v, want a Resync", n)
		}
		resynced := map[string]bool{}
		for len(resynced) < len(feedChildTopics) {
			ev := p.expect(t, "recv ", 10*time.Second)
			fields := strings.SplitN(ev.text, " ", 4)
			if fields[2] != "true" {
				t.Fatalf("after the kill the child got %q, want a Resync", ev.text)
			}
			resynced[fields[1]] = true
		}
		// Both listen again: notices flow both ways.
		if err := feed.Publish(ctx, "alpha", "after"); err != nil {
			t.Fatal(err)
		}
		if ev := p.expect(t, "recv ", 10*time.Second); ev.text != "recv alpha false after" {
			t.Fatalf("child got %q after reconnecting, want recv alpha false after", ev.text)
		}
		p.child.send(t, "pub lat after")
		if n, _ := receive(t, lat, 10*time.Second, "notice after reconnecting"); n.Resync || n.Payload != "after" {
			t.Fatalf("this process got %+v after reconnecting, want payload after", n)
		}
		p.expect(t, "published", 10*time.Second)
	})
}
