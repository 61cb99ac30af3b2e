package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// ErrNotVerified is returned when a log or proof that is genuine fails to
// verify: the measurement is void.
var ErrNotVerified = errors.New("genuine log did not verify")

// OpenReadOnly opens the database in dir read-only, as an offline
// verifier of a data directory does.
func OpenReadOnly(ctx context.Context, dir string) (*sqlite.DB, error) {
	return sqlite.Open(ctx, filepath.Join(dir, DBName), sqlite.Options{ReadOnly: true})
}

// Verify runs ledger.VerifyStore over the benchmark tenant's whole log in
// s and checks that it passes with every entry covered by a checkpoint.
func Verify(ctx context.Context, s ledger.Store, v note.Verifier, progress func(done, total int64)) (*ledger.Report, error) {
	rep, err := ledger.VerifyStore(ctx, s, VerifyOptions(v), progress)
	if err != nil {
		return nil, err
	}
	if !rep.OK || rep.Uncovered != 0 {
		return rep, fmt.Errorf("%w: ok=%v uncovered=%d failure=%v", ErrNotVerified, rep.OK, rep.Uncovered, rep.Failure)
	}
	return rep, nil
}

// Signed returns the latest signed checkpoint of the benchmark tenant,
// opened with v.
func Signed(ctx context.Context, s ledger.Store, v note.Verifier) (*ledger.Checkpoint, error) {
	sc, err := s.LatestCheckpoint(ctx, Tenant)
	if err != nil {
		return nil, err
	}
	return ledger.OpenCheckpoint(sc.Note, ledger.TenantOrigin(Origin, Tenant), v)
}

// Leaves returns the leaf hashes of count random entries of a log of size
// entries (seeded, so runs prove the same seqs), with their seqs.
func Leaves(ctx context.Context, s ledger.Store, size int64, count int, seed int64) ([]int64, []tlog.Hash, error) {
	rnd := rand.New(rand.NewSource(seed))
	seqs := make([]int64, count)
	leaves := make([]tlog.Hash, count)
	for i := range seqs {
		seqs[i] = rnd.Int63n(size)
		recs, err := s.Records(ctx, Tenant, seqs[i], seqs[i]+1, 1)
		if err != nil {
			return nil, nil, err
		}
		if len(recs) != 1 {
			return nil, nil, fmt.Errorf("entry %d: %w", seqs[i], ledger.ErrNotFound)
		}
		// The verifier hashes the bytes itself, as a client holding the
		// entry would; the stored leaf hash is not trusted.
		leaves[i] = ledger.LeafHash(recs[0].Data)
	}
	return seqs, leaves, nil
}

// ProofStats times inclusion proofs: generation from the store and
// verification against a signed root, per proof.
type ProofStats struct {
	Proofs   int
	Size     int64
	Generate time.Duration // total
	Check    time.Duration // total
	ProofLen int           // hashes in the last proof
}

// GeneratePer is the mean generation time of one proof.
func (p *ProofStats) GeneratePer() time.Duration { return p.Generate / time.Duration(max(p.Proofs, 1)) }

// CheckPer is the mean verification time of one proof.
func (p *ProofStats) CheckPer() time.Duration { return p.Check / time.Duration(max(p.Proofs, 1)) }

// Proofs generates an inclusion proof of each seq in the tree of cp's size
// and checks it with tlog.CheckRecord against cp's root.
func Proofs(ctx context.Context, s ledger.Store, cp *ledger.Checkpoint, seqs []int64, leaves []tlog.Hash) (*ProofStats, error) {
	st := &ProofStats{Proofs: len(seqs), Size: cp.Size}
	proofs := make([]tlog.RecordProof, len(seqs))
	start := time.Now()
	for i, seq := range seqs {
		p, err := ledger.InclusionProof(ctx, s, Tenant, seq, cp.Size)
		if err != nil {
			return nil, err
		}
		proofs[i] = p
	}
	st.Generate = time.Since(start)
	start = time.Now()
	for i, seq := range seqs {
		if err := tlog.CheckRecord(proofs[i], cp.Size, cp.Root, seq, leaves[i]); err != nil {
			return nil, fmt.Errorf("%w: inclusion of %d in %d: %v", ErrNotVerified, seq, cp.Size, err)
		}
	}
	st.Check = time.Since(start)
	if len(proofs) > 0 {
		st.ProofLen = len(proofs[len(proofs)-1])
	}
	return st, nil
}
