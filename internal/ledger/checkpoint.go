package ledger

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// GenerateKey returns a new Ed25519 signer key and its verifier key in
// sumdb/note text form, named name (the installation's origin).
func GenerateKey(name string) (signer, verifier string, err error) {
	signer, verifier, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate signing key %q: %w", name, err)
	}
	return signer, verifier, nil
}

// Checkpoint is a verified checkpoint of one tenant's log.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// SignCheckpoint renders a C2SP tlog-checkpoint for (origin, size, root)
// and signs it.
func SignCheckpoint(s note.Signer, origin string, size int64, root tlog.Hash) ([]byte, error) {
	text := log.Checkpoint{Origin: origin, Size: uint64(size), Hash: root[:]}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint %s@%d: %w", origin, size, err)
	}
	return msg, nil
}

// OpenCheckpoint verifies a signed checkpoint against the given verifiers
// (any one of them suffices) and its origin, and returns it.
func OpenCheckpoint(msg []byte, origin string, verifiers ...note.Verifier) (*Checkpoint, error) {
	if len(verifiers) == 0 {
		return nil, errors.New("open checkpoint: no trusted key")
	}
	var firstErr error
	for _, v := range verifiers {
		cp, _, _, err := log.ParseCheckpoint(msg, origin, v)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if len(cp.Hash) != len(tlog.Hash{}) || cp.Size > 1<<62 {
			return nil, fmt.Errorf("checkpoint %s: bad size or root", origin)
		}
		var root tlog.Hash
		copy(root[:], cp.Hash)
		return &Checkpoint{Origin: cp.Origin, Size: int64(cp.Size), Root: root}, nil
	}
	return nil, fmt.Errorf("checkpoint %s: %w", origin, firstErr)
}

// Checkpointer signs a checkpoint of each tenant's log soon after it grows.
type Checkpointer struct {
	store Store
	cfg   *Config

	mu    sync.Mutex
	dirty map[string]bool
	wake  chan struct{}
	// flushing lets one Flush run at a time, so a final Flush waits for
	// one in progress (whose logs it no longer sees as grown) to store its
	// checkpoints before it returns.
	flushing chan struct{}
}

func newCheckpointer(store Store, cfg *Config) *Checkpointer {
	return &Checkpointer{store: store, cfg: cfg, dirty: map[string]bool{}, wake: make(chan struct{}, 1),
		flushing: make(chan struct{}, 1)}
}

// Notify marks a tenant's log as grown. It never blocks.
func (c *Checkpointer) Notify(tenant string) {
	c.mu.Lock()
	c.dirty[tenant] = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run signs checkpoints of grown logs until ctx ends, at most one per
// tenant per CheckpointInterval. Failures are logged and retried.
func (c *Checkpointer) Run(ctx context.Context) {
	// Logs may have grown while no signer ran (a crash between commit and
	// checkpoint, or another replica's appends): cover them first.
	if err := c.Resync(ctx); err != nil {
		c.cfg.Logger.ErrorContext(ctx, "list logs for checkpoints", "err", err)
	}
	tick := time.NewTimer(0)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Logger.ErrorContext(ctx, "sign checkpoints", "err", err)
			c.retryLater()
		}
		tick.Reset(c.cfg.CheckpointInterval)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Resync marks every log as possibly grown, so the next round checks each.
func (c *Checkpointer) Resync(ctx context.Context) error {
	tenants, err := c.store.Tenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		c.Notify(t)
	}
	return nil
}

func (c *Checkpointer) retryLater() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Flush signs a checkpoint for every tenant marked grown. When it returns
// nil, every log marked before the call is covered by a stored checkpoint.
func (c *Checkpointer) Flush(ctx context.Context) error {
	select {
	case c.flushing <- struct{}{}:
		defer func() { <-c.flushing }()
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	tenants := c.dirty
	c.dirty = map[string]bool{}
	c.mu.Unlock()
	var errs []error
	for t := range tenants {
		if _, err := c.Sign(ctx, t); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue // an empty log has nothing to sign
			}
			errs = append(errs, err)
			c.mu.Lock()
			c.dirty[t] = true
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// Sign signs and stores a checkpoint of the tenant's log at its current
// size, unless the latest stored checkpoint already covers it.
func (c *Checkpointer) Sign(ctx context.Context, tenant string) (*StoredCheckpoint, error) {
	head, err := c.store.Head(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %q: read head: %w", tenant, err)
	}
	latest, err := c.store.LatestCheckpoint(ctx, tenant)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("checkpoint %q: %w", tenant, err)
	}
	if latest != nil && latest.Size >= head.Size {
		return latest, nil
	}
	if head.Size == 0 {
		return nil, fmt.Errorf("checkpoint %q: %w: empty log", tenant, ErrNotFound)
	}
	root, err := tlog.TreeHash(head.Size, HashReader(ctx, c.store, tenant))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %q: tree hash at %d: %w", tenant, head.Size, err)
	}
	msg, err := SignCheckpoint(c.cfg.Signer, TenantOrigin(c.cfg.Origin, tenant), head.Size, root)
	if err != nil {
		return nil, err
	}
	cp := StoredCheckpoint{Size: head.Size, Note: msg, Time: c.cfg.Clock().UTC().Truncate(time.Microsecond)}
	if err := c.store.PutCheckpoint(ctx, tenant, cp); err != nil {
		// Another signer (a final flush racing Run, or another replica)
		// may have stored this size or a larger one first: that is success.
		if now, lerr := c.store.LatestCheckpoint(ctx, tenant); lerr == nil && now.Size >= head.Size {
			return now, nil
		}
		return nil, fmt.Errorf("checkpoint %q: store: %w", tenant, err)
	}
	return &cp, nil
}
