package ledger

import (
	"context"
	"errors"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrNotFound is returned by stores for an entry, checkpoint or log that
// does not exist.
var ErrNotFound = errors.New("not found")

// Head describes the end of one tenant's log: how many entries it has, the
// leaf hash of the last one and the time stamped on it.
type Head struct {
	Size     int64
	LastHash tlog.Hash
	LastTime time.Time
}

// Record is one entry as a store holds it: the exact entry bytes and the
// tree hashes that appending it added (tlog.StoredHashes order; the first
// is the leaf hash).
type Record struct {
	Seq    int64
	ID     string
	Kind   string
	Time   time.Time
	Data   []byte
	Hashes []tlog.Hash
	// Index is the request's Index, for the store to write beside the
	// record in the same transaction. It is not part of the entry.
	Index any
}

// LeafHash returns the stored leaf hash of the record.
func (r *Record) LeafHash() tlog.Hash { return r.Hashes[0] }

// StoredCheckpoint is a signed checkpoint as kept by a store.
type StoredCheckpoint struct {
	Size int64
	Note []byte
	Time time.Time
}

// Tx is the write transaction of one append batch. A store MUST hold the
// tenant's log exclusively for the life of a Tx (a write lock in SQLite, a
// row lock on the log head in PostgreSQL), so that seq stays contiguous and
// the chain never forks.
//
// Per-entry work (Request.Work) receives the Tx and may type-assert it to
// the store capabilities it needs.
type Tx interface {
	// Head returns the head of the tenant's log as of this transaction,
	// including records inserted earlier in it.
	Head() Head
	// ReadHashes reads stored tree hashes, including those of records
	// inserted earlier in this transaction (a tlog.HashReader).
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	// Insert adds the next record; r.Seq MUST equal Head().Size.
	Insert(r *Record) error
	// Isolate runs fn so that, if fn fails, everything fn wrote is undone
	// while the rest of the transaction stands (a savepoint).
	Isolate(fn func() error) error
}

// Store keeps tenants' logs and checkpoints. Implementations live under
// internal/store and all pass storetest.
type Store interface {
	// Append runs fn in one write transaction on the tenant's log and
	// commits it durably before returning nil. If fn or the commit fails,
	// nothing fn inserted is kept.
	Append(ctx context.Context, tenant string, fn func(Tx) error) error
	// Head returns the current head of a tenant's log (size 0 if it has none).
	Head(ctx context.Context, tenant string) (Head, error)
	// Records returns the records with seq in [from, to), in order, at most
	// limit of them; limit MUST be positive.
	Records(ctx context.Context, tenant string, from, to int64, limit int) ([]Record, error)
	// RecordByID returns the record with the given entry id.
	RecordByID(ctx context.Context, tenant, id string) (*Record, error)
	// SeqAtTime returns the smallest seq whose time is at or after t, or the
	// log size if there is none.
	SeqAtTime(ctx context.Context, tenant string, t time.Time) (int64, error)
	// ReadHashes reads stored tree hashes of the tenant's log.
	ReadHashes(ctx context.Context, tenant string, indexes []int64) ([]tlog.Hash, error)
	// PutCheckpoint durably stores a signed checkpoint; sizes only grow.
	PutCheckpoint(ctx context.Context, tenant string, cp StoredCheckpoint) error
	// LatestCheckpoint returns the checkpoint with the largest size.
	LatestCheckpoint(ctx context.Context, tenant string) (*StoredCheckpoint, error)
	// Checkpoints returns stored checkpoints with size in [from, to], in order.
	Checkpoints(ctx context.Context, tenant string, from, to int64) ([]StoredCheckpoint, error)
	// Tenants lists the tenants that have a log.
	Tenants(ctx context.Context) ([]string, error)
}

// HashReader adapts a store to tlog.HashReader for one tenant.
func HashReader(ctx context.Context, s Store, tenant string) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return s.ReadHashes(ctx, tenant, idx)
	})
}
