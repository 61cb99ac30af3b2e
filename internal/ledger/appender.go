package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Defaults of the group-commit appender.
const (
	// DefaultQueueSize is how many appends may wait for one tenant's
	// appender before Append answers ErrPushback.
	DefaultQueueSize = 4096
	// DefaultMaxBatch is the most entries committed in one transaction.
	DefaultMaxBatch = 1024
)

var (
	// ErrPushback means the tenant's append queue is full: the entry was
	// not accepted and the caller should answer 503 and retry later.
	ErrPushback = errors.New("ledger append queue is full")
	// ErrClosed means the ledger is shutting down and takes no new entries.
	ErrClosed = errors.New("ledger is closed")
	// ErrStore wraps a failure of the store to write a batch: nothing of
	// that batch was acknowledged.
	ErrStore = errors.New("ledger store failed")
	// ErrRejected wraps the failure of one entry's own work or encoding;
	// the rest of its batch is unaffected.
	ErrRejected = errors.New("ledger entry rejected")
)

// Request asks for one entry. Work, if set, runs inside the append
// transaction before the entry is sequenced; if it fails, the entry is
// rejected alone and everything Work wrote is rolled back. Body is encoded
// after Work returns, so Work may complete it.
type Request struct {
	Kind  string
	ID    string // generated with prefix "evt" when empty
	Actor string
	Body  any
	Work  func(ctx context.Context, tx Tx) error
	// Check, if set, runs inside the append transaction before Work and
	// before the entry is sequenced, and MUST write nothing: if it fails,
	// the entry is rejected alone, without the savepoint Work needs. It
	// lets a pre-encoded entry verify what it was decided on.
	Check func(tx Tx) error
	// Index, if set, is a row of a store's own index of entries (such as a
	// decision's receipt) that the store writes with the record, in the
	// same transaction, without a savepoint: a store that cannot write it
	// fails the whole batch. It never changes the entry's bytes. A store
	// MUST refuse an Index value it does not know.
	Index any
}

// Appended is the acknowledgement of a durable entry.
type Appended struct {
	Seq      int64
	ID       string
	Time     time.Time
	LeafHash tlog.Hash
	Data     []byte
}

type pending struct {
	req  Request
	done chan result
}

type result struct {
	ack *Appended
	err error
}

// appender batches one tenant's concurrent appends into transactions.
type appender struct {
	store  Store
	tenant string
	cfg    *Config
	queue  chan *pending
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

func newAppender(store Store, tenant string, cfg *Config) *appender {
	a := &appender{store: store, tenant: tenant, cfg: cfg, queue: make(chan *pending, cfg.QueueSize)}
	a.wg.Add(1)
	go a.run()
	return a
}

// append queues req and waits for its outcome. Once queued, the entry is
// either committed or fails with its batch; the caller's context no longer
// matters, so an acknowledgement is never lost to a cancelled caller.
func (a *appender) append(ctx context.Context, req Request) (*Appended, error) {
	p := &pending{req: req, done: make(chan result, 1)}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		a.mu.Unlock()
		return nil, err
	}
	select {
	case a.queue <- p:
	default:
		a.mu.Unlock()
		return nil, ErrPushback
	}
	a.mu.Unlock()
	r := <-p.done
	return r.ack, r.err
}

// close stops intake and waits until every queued entry has been handled.
func (a *appender) close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	a.wg.Wait()
}

func (a *appender) run() {
	defer a.wg.Done()
	batch := make([]*pending, 0, a.cfg.MaxBatch)
	var linger *time.Timer
	busy := false
	for first := range a.queue {
		batch = a.take(append(batch[:0], first), nil)
		// Under sustained load (entries arrived while the last batch was
		// committing) the batch waits up to Linger for more, so that one
		// commit, and one fsync, serves more entries. An idle log commits
		// at once.
		if busy && a.cfg.Linger > 0 && len(batch) < a.cfg.MaxBatch {
			if linger == nil {
				linger = time.NewTimer(a.cfg.Linger)
			} else {
				linger.Reset(a.cfg.Linger)
			}
			batch = a.take(batch, linger.C)
			linger.Stop()
		}
		busy = a.commit(batch)
	}
}

// take adds queued entries to batch up to MaxBatch: those already waiting
// when until is nil, otherwise those that arrive before until fires.
func (a *appender) take(batch []*pending, until <-chan time.Time) []*pending {
	for len(batch) < a.cfg.MaxBatch {
		if until == nil {
			select {
			case p, ok := <-a.queue:
				if !ok {
					return batch
				}
				batch = append(batch, p)
			default:
				return batch
			}
			continue
		}
		select {
		case p, ok := <-a.queue:
			if !ok {
				return batch
			}
			batch = append(batch, p)
		case <-until:
			return batch
		}
	}
	return batch
}

// commit writes batch in one transaction and answers its appends. It
// reports whether more entries arrived meanwhile (counted before the
// answers go out, so that an answered caller's next entry is not taken
// for load).
func (a *appender) commit(batch []*pending) (busy bool) {
	start := time.Now()
	// Entries are handled with a background context: once queued they are
	// written regardless of their callers (see append).
	ctx := context.Background()
	results := make([]result, len(batch))
	var size int64
	err := a.store.Append(ctx, a.tenant, func(tx Tx) error {
		for i, p := range batch {
			ack, err := a.appendOne(ctx, tx, p.req)
			if err != nil {
				var fatal *TxError
				if errors.As(err, &fatal) {
					return err
				}
				results[i].err = err
				continue
			}
			results[i].ack = ack
		}
		size = tx.Head().Size
		return nil
	})
	busy = len(a.queue) > 0
	ok := 0
	for i := range results {
		if err != nil && results[i].err == nil {
			results[i] = result{err: fmt.Errorf("%w: append to %q: %w", ErrStore, a.tenant, err)}
		}
		if results[i].err == nil {
			ok++
		}
	}
	// The log is marked grown before any caller hears of its entry, so
	// that a Flush after an acknowledged Append covers that entry.
	if err == nil && ok > 0 && a.cfg.committed != nil {
		a.cfg.committed(a.tenant, size)
	}
	// Observed before the answers go out, so that a caller who has heard
	// of its entry can count on the batch having been observed.
	if a.cfg.Observe != nil {
		a.cfg.Observe(a.tenant, len(batch), time.Since(start), err)
	}
	for i, p := range batch {
		p.done <- results[i]
	}
	return busy
}

// appendOne sequences one request inside tx. Errors of the request itself
// are ErrRejected; a *TxError means the transaction is lost.
func (a *appender) appendOne(ctx context.Context, tx Tx, req Request) (*Appended, error) {
	if req.Check != nil {
		if err := req.Check(tx); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRejected, req.Kind, err)
		}
	}
	var ack *Appended
	build := func() error {
		if req.Work != nil {
			if err := req.Work(ctx, tx); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrRejected, req.Kind, err)
			}
		}
		rec, e, err := a.record(tx, req)
		if err != nil {
			return err
		}
		if err := tx.Insert(rec); err != nil {
			return &TxError{Op: "insert seq " + fmt.Sprint(rec.Seq), Err: err}
		}
		t, _ := ParseTime(e.Time)
		ack = &Appended{Seq: rec.Seq, ID: rec.ID, Time: t, LeafHash: rec.Hashes[0], Data: rec.Data}
		return nil
	}
	if req.Work == nil {
		// Without work nothing is written before the insert, so no
		// savepoint is needed to reject this entry alone.
		return ack, build()
	}
	return ack, tx.Isolate(build)
}

func (a *appender) record(tx Tx, req Request) (*Record, *Entry, error) {
	head := tx.Head()
	now := a.cfg.Clock().UTC().Truncate(time.Microsecond)
	if now.Before(head.LastTime) {
		now = head.LastTime
	}
	body, err := marshalBody(req.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s body: %w", ErrRejected, req.Kind, err)
	}
	id := req.ID
	if id == "" {
		id = a.cfg.IDs.New("evt")
	}
	e := &Entry{V: FormatVersion, Tenant: a.tenant, Seq: head.Size, ID: id, Time: FormatTime(now),
		Kind: req.Kind, Actor: req.Actor, Body: body}
	if head.Size > 0 {
		e.Prev = EncodeHash(head.LastHash)
	}
	data, err := Encode(e)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	hashes, err := tlog.StoredHashes(head.Size, data, tlog.HashReaderFunc(tx.ReadHashes))
	if err != nil {
		return nil, nil, &TxError{Op: "tree hashes", Err: err}
	}
	return &Record{Seq: head.Size, ID: id, Kind: req.Kind, Time: now, Data: data, Hashes: hashes, Index: req.Index}, e, nil
}

func marshalBody(v any) (json.RawMessage, error) {
	switch b := v.(type) {
	case nil:
		return json.RawMessage(`{}`), nil
	case json.RawMessage:
		return b, nil
	}
	return CanonicalBody(v)
}

// TxError reports that a transaction can no longer be used: the batch it
// carried fails as a whole and nothing in it is acknowledged.
type TxError struct {
	Op  string
	Err error
}

func (e *TxError) Error() string { return "ledger transaction: " + e.Op + ": " + e.Err.Error() }
func (e *TxError) Unwrap() error { return e.Err }
