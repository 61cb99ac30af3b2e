// Package cluster holds the coordination primitives that let several
// `warden serve` replicas act as one: a change feed that tells every
// replica what changed, and singleton jobs that run on exactly one replica
// at a time. The PostgreSQL store implements them across processes; the
// in-process implementations here serve a single process (SQLite).
package cluster

import (
	"context"
	"time"
)

// DefaultResyncInterval is how often a feed tells its subscribers to
// reload everything, as a backstop for a notice that was lost.
const DefaultResyncInterval = 30 * time.Second

// MaxPayload is the largest notice payload (PostgreSQL NOTIFY allows
// about 8000 bytes; notices carry ids, never content).
const MaxPayload = 4000

// Notice is one change: a topic ("ledger", "controls", …) and a small
// payload (a tenant id, an object id). A Resync notice carries neither and
// means "something may have been missed: reload".
type Notice struct {
	Topic   string
	Payload string
	Resync  bool
}

// Feed carries notices to every subscriber of a topic in every replica,
// this one included. Delivery is best effort and at most once; a
// subscriber that must not miss a change also reloads on Resync.
type Feed interface {
	// Publish sends a notice. It returns once the feed has accepted it.
	Publish(ctx context.Context, topic, payload string) error
	// Subscribe delivers the topic's notices (and every Resync) on the
	// returned channel until cancel is called. A subscriber that does not
	// keep up loses notices; it is sent a Resync in place of the next one
	// it has room for (and gets every periodic Resync).
	Subscribe(topic string) (notices <-chan Notice, cancel func())
}

// Jobs runs singleton jobs: a job runs in one replica at a time.
type Jobs interface {
	// Run calls fn whenever this replica holds the job's lock, with a
	// context that ends when the lock is lost, and takes the lock again
	// when it can. It returns when ctx ends.
	Run(ctx context.Context, job string, fn func(ctx context.Context))
}
