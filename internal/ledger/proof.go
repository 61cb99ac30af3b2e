package ledger

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrRange is wrapped by errors for a seq or size outside the log.
var ErrRange = errors.New("out of range")

// InclusionProof proves that entry seq is in the tenant's tree of the
// given size (seq < size <= log size).
func InclusionProof(ctx context.Context, s Store, tenant string, seq, size int64) (tlog.RecordProof, error) {
	if err := checkSize(ctx, s, tenant, size); err != nil {
		return nil, err
	}
	if seq < 0 || seq >= size {
		return nil, fmt.Errorf("inclusion proof: seq %d not below size %d: %w", seq, size, ErrRange)
	}
	p, err := tlog.ProveRecord(size, seq, HashReader(ctx, s, tenant))
	if err != nil {
		return nil, fmt.Errorf("inclusion proof %d in %d: %w", seq, size, err)
	}
	return p, nil
}

// ConsistencyProof proves that the tenant's tree of size from is a prefix
// of its tree of size to (0 < from <= to <= log size).
func ConsistencyProof(ctx context.Context, s Store, tenant string, from, to int64) (tlog.TreeProof, error) {
	if err := checkSize(ctx, s, tenant, to); err != nil {
		return nil, err
	}
	if from <= 0 || from > to {
		return nil, fmt.Errorf("consistency proof: need 0 < from %d <= to %d: %w", from, to, ErrRange)
	}
	p, err := tlog.ProveTree(to, from, HashReader(ctx, s, tenant))
	if err != nil {
		return nil, fmt.Errorf("consistency proof %d to %d: %w", from, to, err)
	}
	return p, nil
}

// TreeHash returns the root of the tenant's tree at size.
func TreeHash(ctx context.Context, s Store, tenant string, size int64) (tlog.Hash, error) {
	if err := checkSize(ctx, s, tenant, size); err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(size, HashReader(ctx, s, tenant))
}

func checkSize(ctx context.Context, s Store, tenant string, size int64) error {
	head, err := s.Head(ctx, tenant)
	if err != nil {
		return err
	}
	if size <= 0 || size > head.Size {
		return fmt.Errorf("size %d outside log of %d entries: %w", size, head.Size, ErrRange)
	}
	return nil
}
