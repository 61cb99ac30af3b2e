package ledger

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Stores keep the tree hashes that appending record n added (tlog
// StoredHashes order: the leaf hash, then each completed parent upward) as
// one blob beside the record, 32 bytes a hash. These helpers are that
// layout, shared by every store.

// JoinHashes renders a record's stored hashes as its blob.
func JoinHashes(hs []tlog.Hash) []byte {
	b := make([]byte, 0, len(hs)*len(tlog.Hash{}))
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// SplitHashes parses a record's blob back into its stored hashes.
func SplitHashes(blob []byte) ([]tlog.Hash, error) {
	const n = len(tlog.Hash{})
	if len(blob) == 0 || len(blob)%n != 0 {
		return nil, fmt.Errorf("stored hashes of %d bytes are not whole hashes", len(blob))
	}
	hs := make([]tlog.Hash, len(blob)/n)
	for i := range hs {
		copy(hs[i][:], blob[i*n:])
	}
	return hs, nil
}

// HashLocation says where the stored hash with tlog index idx lives: the
// hash of level L, node k was written by record (k+1)<<L - 1, at position
// L of that record's hashes.
func HashLocation(idx int64) (seq int64, pos int) {
	level, k := tlog.SplitStoredHashIndex(idx)
	return (k+1)<<level - 1, level
}

// HashAt returns the hash at position pos of a record's blob.
func HashAt(blob []byte, seq int64, pos int) (tlog.Hash, error) {
	var h tlog.Hash
	off := pos * len(h)
	if len(blob) < off+len(h) {
		return h, fmt.Errorf("seq %d holds %d bytes of hashes, want at least %d", seq, len(blob), off+len(h))
	}
	copy(h[:], blob[off:])
	return h, nil
}
