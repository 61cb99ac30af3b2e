package sqlite

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/policy"
)

// stateCache keeps what every request reads and few writes change: keys
// (with their tenant's status) and each tenant's active policy pointer.
// It exists only when the store is opened Exclusive, so that every write
// to those tables is made by this process, through an append transaction
// of this DB. It holds at most one entry per stored key and tenant.
//
// An append transaction that writes any of them marks itself; once it has
// committed or rolled back, and before Append returns, the generation is
// raised and the cache emptied. A value read from the database is kept
// only if no such transaction ended while it was read. So a read that
// starts after a revocation, a suspension or an activation has returned
// never sees the value before it, as with a read of the database.
type stateCache struct {
	gen atomic.Uint64

	mu     sync.Mutex
	keys   map[string]*access.Key
	active map[string]*policy.Active
}

func newStateCache() *stateCache {
	c := &stateCache{}
	c.reset()
	return c
}

func (c *stateCache) reset() {
	c.keys = map[string]*access.Key{}
	c.active = map[string]*policy.Active{}
}

// invalidate is called after a transaction that changed cached state ends.
func (c *stateCache) invalidate() {
	c.mu.Lock()
	c.gen.Add(1)
	c.reset()
	c.mu.Unlock()
}

// key returns a copy of the cached key with id.
func (c *stateCache) key(id string) (*access.Key, bool) {
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return copyKey(k), true
}

// copyKey copies k with its slices and times, so that neither the cache
// nor its callers can change the other's.
func copyKey(k *access.Key) *access.Key {
	cp := *k
	cp.Groups, cp.Bindings = slices.Clone(k.Groups), slices.Clone(k.Bindings)
	cp.Expires, cp.Revoked, cp.LastUsed = copyTime(k.Expires), copyTime(k.Revoked), copyTime(k.LastUsed)
	return &cp
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

// keepKey caches k, read while the generation was gen.
func (c *stateCache) keepKey(gen uint64, k *access.Key) {
	cp := copyKey(k)
	c.mu.Lock()
	if c.gen.Load() == gen {
		c.keys[k.ID] = cp
	}
	c.mu.Unlock()
}

// touched moves a cached key's last use forward, as TouchKey does the row's
// (which keeps microseconds, in UTC).
func (c *stateCache) touched(id string, at time.Time) {
	at = fromMicros(micros(at))
	c.mu.Lock()
	if k, ok := c.keys[id]; ok && (k.LastUsed == nil || k.LastUsed.Before(at)) {
		cp := *k
		cp.LastUsed = &at
		c.keys[id] = &cp
	}
	c.mu.Unlock()
}

// activePolicy returns a copy of a tenant's cached active policy pointer.
func (c *stateCache) activePolicy(tenant string) (*policy.Active, bool) {
	c.mu.Lock()
	a, ok := c.active[tenant]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	cp := *a
	return &cp, true
}

// keepActive caches a tenant's active policy pointer, read while the
// generation was gen.
func (c *stateCache) keepActive(gen uint64, tenant string, a *policy.Active) {
	cp := *a
	c.mu.Lock()
	if c.gen.Load() == gen {
		c.active[tenant] = &cp
	}
	c.mu.Unlock()
}
