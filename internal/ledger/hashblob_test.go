package ledger

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// Every stored hash of a tree is found where HashLocation says: in the
// blob of the record that wrote it, at the position tlog gives it.
func TestHashLocation(t *testing.T) {
	const n = 300
	var blobs [][]byte
	stored := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for seq := int64(0); seq < n; seq++ {
		hs, err := tlog.StoredHashes(seq, []byte{byte(seq), byte(seq >> 8)}, reader)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			stored[tlog.StoredHashIndex(0, seq)+int64(i)] = h
		}
		blob := JoinHashes(hs)
		back, err := SplitHashes(blob)
		if err != nil || len(back) != len(hs) || back[len(back)-1] != hs[len(hs)-1] {
			t.Fatalf("SplitHashes(JoinHashes(seq %d)) = %d hashes, %v; want %d", seq, len(back), err, len(hs))
		}
		blobs = append(blobs, blob)
	}
	for idx, want := range stored {
		seq, pos := HashLocation(idx)
		got, err := HashAt(blobs[seq], seq, pos)
		if err != nil || got != want {
			t.Fatalf("HashAt(HashLocation(%d) = seq %d, pos %d) = %v, %v; want the stored hash", idx, seq, pos, got, err)
		}
	}
	if _, err := HashAt(blobs[0], 0, 1); err == nil {
		t.Error("HashAt(past the blob) = nil error")
	}
	for _, bad := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		if _, err := SplitHashes(bad); err == nil {
			t.Errorf("SplitHashes(%d bytes) = nil error", len(bad))
		}
	}
}
