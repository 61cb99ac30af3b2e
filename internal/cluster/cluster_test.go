package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// recvNow returns the notice waiting on ch, failing t if there is none.
// Hub.Deliver never blocks and sends before it returns, so a delivered
// notice is already in the channel: no waiting is needed.
func recvNow(t *testing.T, ch <-chan Notice) Notice {
	t.Helper()
	select {
	case n, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed, want a notice")
		}
		return n
	default:
		t.Fatalf("no notice waiting, want one")
		return Notice{}
	}
}

// expectEmpty fails t if a notice waits on ch.
func expectEmpty(t *testing.T, ch <-chan Notice) {
	t.Helper()
	select {
	case n, ok := <-ch:
		t.Fatalf("got notice %+v (open %v), want none", n, ok)
	default:
	}
}

func TestHubTopicFiltering(t *testing.T) {
	h := NewHub()
	a, cancelA := h.Subscribe("alpha")
	defer cancelA()
	a2, cancelA2 := h.Subscribe("alpha")
	defer cancelA2()
	b, cancelB := h.Subscribe("beta")
	defer cancelB()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	want := map[string][]string{}
	for i := range 100 {
		topic := []string{"alpha", "beta", "gamma"}[rng.IntN(3)]
		payload := fmt.Sprintf("%s-%d", topic, i)
		h.Deliver(Notice{Topic: topic, Payload: payload})
		want[topic] = append(want[topic], payload)
	}
	for _, sub := range []struct {
		topic string
		ch    <-chan Notice
	}{{"alpha", a}, {"alpha", a2}, {"beta", b}} {
		for i, p := range want[sub.topic] {
			n := recvNow(t, sub.ch)
			if n.Resync || n.Topic != sub.topic || n.Payload != p {
				t.Fatalf("subscriber of %s, notice %d = %+v, want {Topic:%s Payload:%s}", sub.topic, i, n, sub.topic, p)
			}
		}
		expectEmpty(t, sub.ch)
	}
}

func TestHubResyncGoesToEverySubscriber(t *testing.T) {
	h := NewHub()
	var chans []<-chan Notice
	for _, topic := range []string{"alpha", "beta", "gamma", "alpha"} {
		ch, cancel := h.Subscribe(topic)
		defer cancel()
		chans = append(chans, ch)
	}
	h.Deliver(Notice{Resync: true})
	for i, ch := range chans {
		if n := recvNow(t, ch); !n.Resync {
			t.Errorf("subscriber %d got %+v, want a Resync", i, n)
		}
		expectEmpty(t, ch)
	}
}

func TestHubSlowSubscriberIsOwedResync(t *testing.T) {
	h := NewHub()
	slow, cancelSlow := h.Subscribe("t")
	defer cancelSlow()
	other, cancelOther := h.Subscribe("u")
	defer cancelOther()

	// Overflow the slow subscriber's buffer: the extra notices are lost.
	const extra = 10
	for i := range subscriberBuffer + extra {
		h.Deliver(Notice{Topic: "t", Payload: fmt.Sprint(i)})
	}
	// A notice for its topic while the buffer is still full cannot carry
	// the owed Resync either; the debt stands.
	h.Deliver(Notice{Topic: "t", Payload: "while-full"})
	for i := range subscriberBuffer {
		if n := recvNow(t, slow); n.Resync || n.Payload != fmt.Sprint(i) {
			t.Fatalf("buffered notice %d = %+v, want payload %d", i, n, i)
		}
	}
	expectEmpty(t, slow)

	// Notices of other topics neither reach it nor pay the debt.
	h.Deliver(Notice{Topic: "u", Payload: "x"})
	expectEmpty(t, slow)
	if n := recvNow(t, other); n.Payload != "x" {
		t.Fatalf("other subscriber got %+v, want payload x", n)
	}

	// The next notice of its topic arrives as the owed Resync.
	h.Deliver(Notice{Topic: "t", Payload: "next"})
	if n := recvNow(t, slow); !n.Resync {
		t.Fatalf("after overflow got %+v, want a Resync", n)
	}
	expectEmpty(t, slow)
	// Debt paid: notices flow again.
	h.Deliver(Notice{Topic: "t", Payload: "after"})
	if n := recvNow(t, slow); n.Resync || n.Payload != "after" {
		t.Fatalf("after the Resync got %+v, want payload after", n)
	}
	expectEmpty(t, other)
}

func TestHubSlowSubscriberPaidByResync(t *testing.T) {
	h := NewHub()
	slow, cancel := h.Subscribe("t")
	defer cancel()
	for i := range subscriberBuffer + 1 {
		h.Deliver(Notice{Topic: "t", Payload: fmt.Sprint(i)})
	}
	for range subscriberBuffer {
		recvNow(t, slow)
	}
	h.Deliver(Notice{Resync: true})
	if n := recvNow(t, slow); !n.Resync {
		t.Fatalf("got %+v, want a Resync", n)
	}
	expectEmpty(t, slow) // one Resync, not two
}

func TestHubCancel(t *testing.T) {
	h := NewHub()
	ch, cancel := h.Subscribe("t")
	keep, cancelKeep := h.Subscribe("t")
	defer cancelKeep()
	h.Deliver(Notice{Topic: "t", Payload: "before"})
	cancel()
	cancel() // idempotent: no panic on a second close
	// Notices delivered before cancel may still be read; then the channel is closed.
	if n, ok := <-ch; !ok || n.Payload != "before" {
		t.Fatalf("first read after cancel = %+v, %v; want payload before, true", n, ok)
	}
	if n, ok := <-ch; ok {
		t.Fatalf("read after cancel = %+v, true; want a closed channel", n)
	}
	// Delivering after cancel must not send on the closed channel.
	h.Deliver(Notice{Topic: "t", Payload: "after"})
	h.Deliver(Notice{Resync: true})
	if n := recvNow(t, keep); n.Payload != "before" {
		t.Fatalf("remaining subscriber got %+v, want payload before", n)
	}
	if n := recvNow(t, keep); n.Payload != "after" {
		t.Fatalf("remaining subscriber got %+v, want payload after", n)
	}
	if n := recvNow(t, keep); !n.Resync {
		t.Fatalf("remaining subscriber got %+v, want a Resync", n)
	}
}

// TestHubCancelRacesDeliver cancels subscriptions while other goroutines
// deliver; a send on a closed channel panics, and -race sees unsynchronized
// access.
func TestHubCancelRacesDeliver(t *testing.T) {
	h := NewHub()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				h.Deliver(Notice{Topic: "t", Payload: fmt.Sprint(w, i), Resync: i%7 == 0})
			}
		}()
	}
	rounds := 300
	if testing.Short() {
		rounds = 100
	}
	for i := range rounds {
		ch, cancel := h.Subscribe("t")
		if i%2 == 0 {
			<-ch // wait for a delivery so cancel lands between sends
		}
		var cw sync.WaitGroup
		for range 2 { // concurrent cancels: both return, one closes
			cw.Add(1)
			go func() { defer cw.Done(); cancel() }()
		}
		cw.Wait()
		for range ch { // drains, then ends because the channel is closed
		}
	}
	close(stop)
	wg.Wait()
	h.mu.Lock()
	left := len(h.subs)
	h.mu.Unlock()
	if left != 0 {
		t.Fatalf("hub holds %d subscribers after every cancel, want 0", left)
	}
}

func TestCheckNotice(t *testing.T) {
	tests := []struct {
		name    string
		topic   string
		payload string
		wantErr bool
	}{
		{"plain", "ledger", "acme", false},
		{"empty payload", "ledger", "", false},
		{"empty topic", "", "acme", true},
		{"topic of 63 bytes", strings.Repeat("t", 63), "", false},
		{"topic of 64 bytes", strings.Repeat("t", 64), "", true},
		{"payload at the limit", "ledger", strings.Repeat("p", MaxPayload), false},
		{"payload over the limit", "ledger", strings.Repeat("p", MaxPayload+1), true},
		{"multibyte payload over the limit in bytes", "ledger", strings.Repeat("é", MaxPayload/2+1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckNotice(tc.topic, tc.payload)
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckNotice(%d-byte topic, %d-byte payload) = %v, want error %v",
					len(tc.topic), len(tc.payload), err, tc.wantErr)
			}
			// LocalFeed.Publish applies the same limits and delivers only what passes.
			f := NewLocalFeed()
			ch, cancel := f.Subscribe(tc.topic)
			defer cancel()
			perr := f.Publish(context.Background(), tc.topic, tc.payload)
			if (perr != nil) != tc.wantErr {
				t.Fatalf("LocalFeed.Publish = %v, want error %v", perr, tc.wantErr)
			}
			if tc.wantErr {
				expectEmpty(t, ch)
				return
			}
			if n := recvNow(t, ch); n.Topic != tc.topic || n.Payload != tc.payload || n.Resync {
				t.Fatalf("LocalFeed delivered %q/%d bytes, want %q/%d bytes", n.Topic, len(n.Payload), tc.topic, len(tc.payload))
			}
		})
	}
}

func TestLocalJobsRunsFnWithCtx(t *testing.T) {
	type key struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "mine"))
	ran := false
	var _ Jobs = LocalJobs{}
	LocalJobs{}.Run(ctx, "checkpoint-signer", func(got context.Context) {
		ran = true
		if got.Value(key{}) != "mine" {
			t.Errorf("fn's ctx does not carry the caller's values")
		}
		cancel()
		select {
		case <-got.Done():
		default:
			t.Errorf("fn's ctx is not done after the caller's ctx is cancelled")
		}
	})
	if !ran {
		t.Fatalf("LocalJobs.Run returned without calling fn")
	}
}
