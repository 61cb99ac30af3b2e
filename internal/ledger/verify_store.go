package ledger

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// verifyBatch is how many records a store walk reads at a time.
const verifyBatch = 8192

// VerifyStore verifies one tenant's log as a store holds it: every stored
// entry, leaf and tree hash, and every stored checkpoint. progress, if not
// nil, is called after each batch. An error means the walk could not be
// done (I/O); integrity failures are in the report.
//
// The walk reads the next batch while it checks the current one, and
// parses and hashes a batch's entries on every CPU; the checks that relate
// an entry to the ones before it (sequence, chain, time, tree,
// checkpoints) run in order, exactly as Verifier.Add runs them.
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the reader when the walk ends early
	batches := readBatches(ctx, s, opts.Tenant)
	workers := runtime.GOMAXPROCS(0)
	var preps []prepared
	for v.Failed() == nil {
		b, ok := <-batches
		if !ok {
			// The reader also stops when ctx ends: that is no end of the log.
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			break
		}
		if b.err != nil {
			return nil, b.err
		}
		preps = prepareAll(b.recs, preps, workers)
		for i := range b.recs {
			if v.add(preps[i], b.recs[i].Hashes) != nil || v.checkIndex(&b.recs[i], preps[i].entry) != nil {
				break
			}
		}
		if progress != nil {
			progress(v.Size(), head.Size)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return v.Finish(), nil
}

// batch is one read of a store walk: records, or the error that ended it.
type batch struct {
	recs []Record
	err  error
}

// readBatches walks the rows that are there, not the seqs the head
// promises, so that a missing, repeated or moved row shows up as such. It
// reads one batch ahead and stops at the end of the log, at an error or
// when ctx ends.
func readBatches(ctx context.Context, s Store, tenant string) <-chan batch {
	out := make(chan batch, 1)
	go func() {
		defer close(out)
		from := int64(0)
		for {
			recs, err := s.Records(ctx, tenant, from, math.MaxInt64, verifyBatch)
			if err != nil {
				err = fmt.Errorf("verify %q: read entries from %d: %w", tenant, from, err)
			}
			if err == nil && len(recs) == 0 {
				return
			}
			select {
			case out <- batch{recs: recs, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			from = recs[len(recs)-1].Seq + 1
		}
	}()
	return out
}

// prepareAll prepares recs on up to workers goroutines, reusing buf.
func prepareAll(recs []Record, buf []prepared, workers int) []prepared {
	if cap(buf) < len(recs) {
		buf = make([]prepared, len(recs))
	}
	buf = buf[:len(recs)] // every element is overwritten below
	chunk := (len(recs) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(recs); lo += chunk {
		hi := min(lo+chunk, len(recs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				buf[i] = prepare(recs[i].Data)
				if buf[i].missing {
					buf[i].seq = recs[i].Seq
				}
			}
		}()
	}
	wg.Wait()
	return buf
}
