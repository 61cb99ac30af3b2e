package cluster

import (
	"context"
	"fmt"
	"sync"
)

// subscriberBuffer is how many notices wait for a slow subscriber before
// it is sent a Resync instead.
const subscriberBuffer = 256

// Hub fans notices out to subscribers in this process. LocalFeed uses it
// directly; the PostgreSQL feed feeds it from LISTEN.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	topic string
	ch    chan Notice
	lost  bool // a notice was dropped; a Resync is owed
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*subscriber]struct{}{}} }

// Subscribe implements Feed.Subscribe.
func (h *Hub) Subscribe(topic string) (<-chan Notice, func()) {
	s := &subscriber{topic: topic, ch: make(chan Notice, subscriberBuffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.ch)
		})
	}
}

// Deliver hands n to every subscriber of its topic (every subscriber for
// a Resync) without blocking.
func (h *Hub) Deliver(n Notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !n.Resync && s.topic != n.Topic {
			continue
		}
		if s.lost {
			// Owed a Resync: it covers this notice too.
			select {
			case s.ch <- Notice{Topic: s.topic, Resync: true}:
				s.lost = false
			default:
			}
			continue
		}
		select {
		case s.ch <- n:
		default:
			s.lost = true
		}
	}
}

// LocalFeed is the Feed of a single process.
type LocalFeed struct{ *Hub }

// NewLocalFeed returns an in-process feed.
func NewLocalFeed() *LocalFeed { return &LocalFeed{NewHub()} }

// Publish delivers to this process's subscribers.
func (f *LocalFeed) Publish(_ context.Context, topic, payload string) error {
	if err := CheckNotice(topic, payload); err != nil {
		return err
	}
	f.Deliver(Notice{Topic: topic, Payload: payload})
	return nil
}

// CheckNotice validates a topic and payload before publishing.
func CheckNotice(topic, payload string) error {
	if topic == "" || len(topic) > 63 {
		return fmt.Errorf("feed: topic %q must have 1 to 63 bytes", topic)
	}
	if len(payload) > MaxPayload {
		return fmt.Errorf("feed: payload of %d bytes, limit %d", len(payload), MaxPayload)
	}
	return nil
}

// LocalJobs runs every job at once: a single process always holds every lock.
type LocalJobs struct{}

// Run calls fn with ctx and returns when fn does.
func (LocalJobs) Run(ctx context.Context, _ string, fn func(context.Context)) { fn(ctx) }

var (
	_ Feed = (*LocalFeed)(nil)
	_ Jobs = LocalJobs{}
)
