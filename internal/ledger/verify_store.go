package ledger

import (
	"context"
	"fmt"
	"math"
)

// verifyBatch is how many records a store walk reads at a time.
const verifyBatch = 8192

// VerifyStore verifies one tenant's log as a store holds it: every stored
// entry, leaf and tree hash, and every stored checkpoint. progress, if not
// nil, is called after each batch. An error means the walk could not be
// done (I/O); integrity failures are in the report.
func VerifyStore(ctx context.Context, s Store, opts VerifyOptions, progress func(done, total int64)) (*Report, error) {
	cps, err := s.Checkpoints(ctx, opts.Tenant, 0, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("verify %q: read checkpoints: %w", opts.Tenant, err)
	}
	notes := make([][]byte, len(cps))
	for i := range cps {
		notes[i] = cps[i].Note
	}
	v, err := NewVerifier(opts, notes)
	if err != nil {
		return nil, err
	}
	head, err := s.Head(ctx, opts.Tenant)
	if err != nil {
		return nil, fmt.Errorf("verify %q: read head: %w", opts.Tenant, err)
	}
	// Walk the rows that are there, not the seqs the head promises, so
	// that a missing, repeated or moved row shows up as such.
	from := int64(0)
	for v.Failed() == nil {
		recs, err := s.Records(ctx, opts.Tenant, from, math.MaxInt64, verifyBatch)
		if err != nil {
			return nil, fmt.Errorf("verify %q: read entries from %d: %w", opts.Tenant, from, err)
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			if v.Add(recs[i].Data, recs[i].Hashes) != nil {
				break
			}
		}
		from = recs[len(recs)-1].Seq + 1
		if progress != nil {
			progress(v.Size(), head.Size)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return v.Finish(), nil
}
