package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/cluster"
)

// feedChannel is the one LISTEN/NOTIFY channel; a notice's payload is
// "<topic>\n<payload>".
const feedChannel = "warden_feed"

// FeedOptions configure a Feed.
type FeedOptions struct {
	// Resync is the period of Resync notices; 0 means
	// cluster.DefaultResyncInterval and a negative value turns them off.
	Resync time.Duration
	Logger *slog.Logger
}

// Feed is the change feed across replicas: NOTIFY to publish, one LISTEN
// connection per process to receive, and a periodic Resync as a backstop
// for notices lost while that connection was down.
type Feed struct {
	hub    *cluster.Hub
	db     *DB
	opts   FeedOptions
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{}
}

var _ cluster.Feed = (*Feed)(nil)

// NewFeed starts listening. Close stops it.
func NewFeed(db *DB, opts FeedOptions) *Feed {
	if opts.Resync == 0 {
		opts.Resync = cluster.DefaultResyncInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Feed{hub: cluster.NewHub(), db: db, opts: opts, cancel: cancel, ready: make(chan struct{})}
	f.wg.Add(1)
	go f.listen(ctx)
	if opts.Resync > 0 {
		f.wg.Add(1)
		go f.resync(ctx)
	}
	return f
}

// Ready is closed once the feed listens for the first time.
func (f *Feed) Ready() <-chan struct{} { return f.ready }

// Close stops listening and waits for the feed's goroutines.
func (f *Feed) Close() {
	f.cancel()
	f.wg.Wait()
}

// Publish sends a notice to every replica (this one too).
func (f *Feed) Publish(ctx context.Context, topic, payload string) error {
	if err := cluster.CheckNotice(topic, payload); err != nil {
		return err
	}
	if strings.Contains(topic, "\n") {
		return fmt.Errorf("feed: topic %q has a newline", topic)
	}
	if _, err := f.db.pool.Exec(ctx, "SELECT pg_notify($1, $2)", feedChannel, topic+"\n"+payload); err != nil {
		return fmt.Errorf("feed: publish %s: %w", topic, err)
	}
	return nil
}

// Subscribe implements cluster.Feed.
func (f *Feed) Subscribe(topic string) (<-chan cluster.Notice, func()) { return f.hub.Subscribe(topic) }

func (f *Feed) resync(ctx context.Context) {
	defer f.wg.Done()
	t := time.NewTicker(f.opts.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.hub.Deliver(cluster.Notice{Resync: true})
		}
	}
}

// listen holds one connection on LISTEN and reconnects when it fails;
// after a reconnect subscribers are told to resync, since notices sent
// meanwhile are lost.
func (f *Feed) listen(ctx context.Context) {
	defer f.wg.Done()
	var once sync.Once
	first := true
	for ctx.Err() == nil {
		err := f.listenOnce(ctx, func() {
			once.Do(func() { close(f.ready) })
			if !first {
				f.hub.Deliver(cluster.Notice{Resync: true})
			}
			first = false
		})
		if ctx.Err() != nil {
			return
		}
		f.opts.Logger.Warn("change feed: listener lost; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (f *Feed) listenOnce(ctx context.Context, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, f.db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+feedChannel); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		topic, payload, ok := strings.Cut(n.Payload, "\n")
		if !ok {
			continue // not ours
		}
		f.hub.Deliver(cluster.Notice{Topic: topic, Payload: payload})
	}
}
