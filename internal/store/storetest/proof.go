package storetest

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

// proofLog is the size of the log proofs are checked on: odd, and past a
// power of two, so that proofs need both left and right siblings.
const proofLog = 37

// treeHashes returns the root at every size 1..n, computed by the test from
// the entry bytes, and checks that ledger.TreeHash over the store agrees.
func treeHashes(t *testing.T, h *harness, n int64) []tlog.Hash {
	t.Helper()
	mem := expectHashes(t, AllRecords(t, h.Store, TenantA))
	roots := make([]tlog.Hash, n+1)
	for size := int64(1); size <= n; size++ {
		want, err := tlog.TreeHash(size, mem)
		if err != nil {
			t.Fatalf("tlog.TreeHash(%d) = %v, want nil", size, err)
		}
		got, err := ledger.TreeHash(context.Background(), h.Store, TenantA, size)
		if err != nil || got != want {
			t.Fatalf("TreeHash(size=%d) = %x, %v; want %x, nil", size, got, err, want)
		}
		roots[size] = got
	}
	return roots
}

func testInclusionProofs(t *testing.T, h *harness) {
	ctx := context.Background()
	acks := AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, proofLog)
	roots := treeHashes(t, h, proofLog)
	for size := int64(1); size <= proofLog; size++ {
		for seq := range size {
			p, err := ledger.InclusionProof(ctx, h.Store, TenantA, seq, size)
			if err != nil {
				t.Fatalf("InclusionProof(seq=%d, size=%d) = %v, want nil", seq, size, err)
			}
			if err := tlog.CheckRecord(p, size, roots[size], seq, acks[seq].LeafHash); err != nil {
				t.Fatalf("CheckRecord(seq=%d, size=%d) = %v, want nil", seq, size, err)
			}
		}
	}
	// The check is not vacuous: the proof of one entry does not prove another.
	p, err := ledger.InclusionProof(ctx, h.Store, TenantA, 5, proofLog)
	if err != nil {
		t.Fatalf("InclusionProof(seq=5, size=%d) = %v, want nil", proofLog, err)
	}
	if err := tlog.CheckRecord(p, proofLog, roots[proofLog], 5, acks[6].LeafHash); err == nil {
		t.Errorf("CheckRecord(proof of 5, leaf of 6) = nil, want an error")
	}
}

func testConsistencyProofs(t *testing.T, h *harness) {
	ctx := context.Background()
	AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, proofLog)
	roots := treeHashes(t, h, proofLog)
	for to := int64(1); to <= proofLog; to++ {
		for from := int64(1); from <= to; from++ {
			p, err := ledger.ConsistencyProof(ctx, h.Store, TenantA, from, to)
			if err != nil {
				t.Fatalf("ConsistencyProof(from=%d, to=%d) = %v, want nil", from, to, err)
			}
			if err := tlog.CheckTree(p, to, roots[to], from, roots[from]); err != nil {
				t.Fatalf("CheckTree(from=%d, to=%d) = %v, want nil", from, to, err)
			}
		}
	}
	p, err := ledger.ConsistencyProof(ctx, h.Store, TenantA, 10, proofLog)
	if err != nil {
		t.Fatalf("ConsistencyProof(from=10, to=%d) = %v, want nil", proofLog, err)
	}
	if err := tlog.CheckTree(p, proofLog, roots[proofLog], 10, roots[11]); err == nil {
		t.Errorf("CheckTree(proof from 10, root of 11) = nil, want an error")
	}
}

func testProofRange(t *testing.T, h *harness) {
	ctx := context.Background()
	const n = 5
	AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, n)
	tests := []struct {
		name   string
		tenant string
		call   func(tenant string) error
	}{
		{"inclusion seq negative", TenantA, inclusion(ctx, h, -1, n)},
		{"inclusion seq at size", TenantA, inclusion(ctx, h, 3, 3)},
		{"inclusion size zero", TenantA, inclusion(ctx, h, 0, 0)},
		{"inclusion size past log", TenantA, inclusion(ctx, h, 0, n+1)},
		{"inclusion in empty log", TenantB, inclusion(ctx, h, 0, 1)},
		{"consistency from zero", TenantA, consistency(ctx, h, 0, n)},
		{"consistency from past to", TenantA, consistency(ctx, h, 4, 3)},
		{"consistency to past log", TenantA, consistency(ctx, h, 1, n+1)},
		{"consistency negative", TenantA, consistency(ctx, h, -1, 2)},
		{"consistency in empty log", TenantB, consistency(ctx, h, 1, 1)},
		{"tree hash size zero", TenantA, treeHash(ctx, h, 0)},
		{"tree hash past log", TenantA, treeHash(ctx, h, n+1)},
		{"tree hash huge", TenantA, treeHash(ctx, h, math.MaxInt64)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(tc.tenant); !errors.Is(err, ledger.ErrRange) {
				t.Errorf("%s: err = %v, want ErrRange", tc.name, err)
			}
		})
	}
}

func inclusion(ctx context.Context, h *harness, seq, size int64) func(string) error {
	return func(tenant string) error {
		_, err := ledger.InclusionProof(ctx, h.Store, tenant, seq, size)
		return err
	}
}

func consistency(ctx context.Context, h *harness, from, to int64) func(string) error {
	return func(tenant string) error {
		_, err := ledger.ConsistencyProof(ctx, h.Store, tenant, from, to)
		return err
	}
}

func treeHash(ctx context.Context, h *harness, size int64) func(string) error {
	return func(tenant string) error {
		_, err := ledger.TreeHash(ctx, h.Store, tenant, size)
		return err
	}
}

// signed returns a real checkpoint of TenantA's log at size.
func signed(t *testing.T, h *harness, size int64, at time.Time) ledger.StoredCheckpoint {
	t.Helper()
	root, err := ledger.TreeHash(context.Background(), h.Store, TenantA, size)
	if err != nil {
		t.Fatalf("TreeHash(size=%d) = %v, want nil", size, err)
	}
	msg, err := ledger.SignCheckpoint(h.Signer, ledger.TenantOrigin(Origin, TenantA), size, root)
	if err != nil {
		t.Fatalf("SignCheckpoint(size=%d) = %v, want nil", size, err)
	}
	return ledger.StoredCheckpoint{Size: size, Note: msg, Time: at}
}

func testCheckpoints(t *testing.T, h *harness) {
	ctx := context.Background()
	if cp, err := h.Store.LatestCheckpoint(ctx, TenantA); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("LatestCheckpoint(no checkpoints) = %v, %v; want ErrNotFound", cp, err)
	}
	if cps, err := h.Store.Checkpoints(ctx, TenantA, 0, math.MaxInt64); err != nil || len(cps) != 0 {
		t.Fatalf("Checkpoints(no checkpoints) = %d, %v; want 0, nil", len(cps), err)
	}
	AppendN(t, h.Ledger(t, ledger.Config{}), TenantA, 8)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)
	cp3, cp5, cp8 := signed(t, h, 3, t0), signed(t, h, 5, t0.Add(time.Second)), signed(t, h, 8, t0.Add(2*time.Second))
	puts := []struct {
		name string
		cp   ledger.StoredCheckpoint
		ok   bool
	}{
		{"first", cp3, true},
		{"same size again", cp3, false},
		{"larger", cp5, true},
		{"smaller", signed(t, h, 4, t0), false},
		{"equal to latest", cp5, false},
		{"much smaller", signed(t, h, 1, t0), false},
		{"largest", cp8, true},
	}
	for _, p := range puts {
		err := h.Store.PutCheckpoint(ctx, TenantA, p.cp)
		if p.ok && err != nil {
			t.Fatalf("PutCheckpoint(%s, size=%d) = %v, want nil", p.name, p.cp.Size, err)
		}
		if !p.ok && err == nil {
			t.Fatalf("PutCheckpoint(%s, size=%d) = nil, want an error (sizes only grow)", p.name, p.cp.Size)
		}
	}
	latest, err := h.Store.LatestCheckpoint(ctx, TenantA)
	if err != nil || !sameCheckpoint(*latest, cp8) {
		t.Fatalf("LatestCheckpoint() = %+v, %v; want size 8 as stored", latest, err)
	}
	tests := []struct {
		name     string
		from, to int64
		want     []ledger.StoredCheckpoint
	}{
		{"all", 0, math.MaxInt64, []ledger.StoredCheckpoint{cp3, cp5, cp8}},
		{"bounds inclusive", 3, 5, []ledger.StoredCheckpoint{cp3, cp5}},
		{"one", 5, 5, []ledger.StoredCheckpoint{cp5}},
		{"between", 4, 4, nil},
		{"past", 9, 100, nil},
		{"reversed", 8, 3, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Store.Checkpoints(ctx, TenantA, tc.from, tc.to)
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("Checkpoints(from=%d, to=%d) = %d, %v; want %d, nil", tc.from, tc.to, len(got), err, len(tc.want))
			}
			for i := range got {
				if !sameCheckpoint(got[i], tc.want[i]) {
					t.Errorf("Checkpoints(from=%d, to=%d)[%d] = size %d, want size %d as stored",
						tc.from, tc.to, i, got[i].Size, tc.want[i].Size)
				}
			}
		})
	}
	if _, err := h.Store.LatestCheckpoint(ctx, TenantB); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("LatestCheckpoint(%s) = %v, want ErrNotFound", TenantB, err)
	}
	h.Verify(t, TenantA)
}

func sameCheckpoint(a, b ledger.StoredCheckpoint) bool {
	return a.Size == b.Size && bytes.Equal(a.Note, b.Note) && a.Time.Equal(b.Time)
}

func testCheckpointerSign(t *testing.T, h *harness) {
	ctx := context.Background()
	l := h.Ledger(t, ledger.Config{})
	if _, err := l.Checkpointer().Sign(ctx, TenantA); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("Sign(empty log) = %v, want ErrNotFound", err)
	}
	for _, size := range []int64{1, 4, 9} {
		head, _ := h.Store.Head(ctx, TenantA)
		AppendN(t, l, TenantA, int(size-head.Size))
		cp, err := l.Checkpointer().Sign(ctx, TenantA)
		if err != nil || cp.Size != size {
			t.Fatalf("Sign() at size %d = %v, %v; want a checkpoint of size %d", size, cp, err, size)
		}
		// Signing again at the same size stores nothing new.
		again, err := l.Checkpointer().Sign(ctx, TenantA)
		if err != nil || again.Size != size || !bytes.Equal(again.Note, cp.Note) {
			t.Fatalf("Sign() again at size %d = %v, %v; want the stored checkpoint", size, again, err)
		}
		c, err := ledger.OpenCheckpoint(cp.Note, l.Origin(TenantA), h.Verifier)
		if err != nil || c.Size != size {
			t.Fatalf("OpenCheckpoint(size %d) = %v, %v; want size %d", size, c, err, size)
		}
		root, err := ledger.TreeHash(ctx, h.Store, TenantA, size)
		if err != nil || root != c.Root {
			t.Fatalf("checkpoint root at %d = %x, TreeHash = %x, %v; want equal", size, c.Root, root, err)
		}
	}
	cps, err := h.Store.Checkpoints(ctx, TenantA, 0, math.MaxInt64)
	if err != nil || len(cps) != 3 || cps[0].Size != 1 || cps[1].Size != 4 || cps[2].Size != 9 {
		t.Fatalf("Checkpoints() = %d checkpoints, %v; want sizes 1, 4, 9", len(cps), err)
	}
	if rep := h.Verify(t, TenantA); rep.Checkpoints != 3 {
		t.Errorf("VerifyStore checkpoints verified = %d, want 3", rep.Checkpoints)
	}
}
