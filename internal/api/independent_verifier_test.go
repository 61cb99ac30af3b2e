package api_test

// This file is an auditor's verifier written from the published formats
// alone: it imports no Warden package (TestIndependentVerifierImports
// keeps it so), only the standard library, sumdb/note and tlog, the
// transparency-dev formats and merkle modules, and an RFC 8785
// canonicalizer.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gowebpki/jcs"
	tlogformats "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// independentResult is what the independent verifier established.
type independentResult struct {
	Origin   string
	Size     uint64 // signed tree size
	Root     []byte
	Entries  int // entries walked (at least Size)
	Included []uint64
	// ConsistentFrom is the size of the earlier checkpoint proven to be a
	// prefix of the latest, or 0 when none was given.
	ConsistentFrom uint64
}

// verifyIndependently verifies the log that key reads at baseURL against
// vkey, the verifier key the auditor trusts. earlier, if not nil, is an
// earlier checkpoint note the auditor kept; the latest must extend it.
func verifyIndependently(baseURL, key, vkey string, earlier []byte) (*independentResult, error) {
	c := &auditClient{base: strings.TrimRight(baseURL, "/"), key: key}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}

	// 1. The latest checkpoint, signed by the trusted key.
	cpText, err := c.get("/v1/log/checkpoint", nil)
	if err != nil {
		return nil, err
	}
	origin, _, _ := strings.Cut(string(cpText), "\n")
	cp, _, _, err := tlogformats.ParseCheckpoint(cpText, origin, verifier)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	if len(cp.Hash) != sha256.Size || cp.Size == 0 {
		return nil, fmt.Errorf("checkpoint size %d root %x: want a non-empty tree", cp.Size, cp.Hash)
	}
	res := &independentResult{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash}

	// 2. Every entry: canonical bytes, leaf hash, seq, prev chain, tenant.
	tenant := origin[strings.LastIndex(origin, "/")+1:]
	var leaves [][]byte
	cursor := ""
	for {
		q := url.Values{"limit": {"97"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Entries []struct {
				Seq      uint64          `json:"seq"`
				LeafHash string          `json:"leaf_hash"`
				Entry    json.RawMessage `json:"entry"`
			} `json:"entries"`
			NextCursor string `json:"next_cursor"`
		}
		if err := c.getJSON("/v1/log/entries", q, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Entries {
			seq := uint64(len(leaves))
			if e.Seq != seq {
				return nil, fmt.Errorf("entry at position %d is seq %d", seq, e.Seq)
			}
			canon, err := jcs.Transform(e.Entry)
			if err != nil {
				return nil, fmt.Errorf("seq %d: canonicalize: %w", seq, err)
			}
			leaf := sha256.Sum256(append([]byte{0}, canon...))
			if claimed, err := base64.StdEncoding.DecodeString(e.LeafHash); err != nil || !bytes.Equal(claimed, leaf[:]) {
				return nil, fmt.Errorf("seq %d: leaf_hash %s, recomputed %s", seq, e.LeafHash, base64.StdEncoding.EncodeToString(leaf[:]))
			}
			var env struct {
				Tenant string  `json:"tenant"`
				Seq    *uint64 `json:"seq"`
				Prev   *string `json:"prev"`
			}
			if err := json.Unmarshal(canon, &env); err != nil || env.Seq == nil || env.Prev == nil {
				return nil, fmt.Errorf("seq %d: envelope lacks seq or prev (%v)", seq, err)
			}
			wantPrev := ""
			if seq > 0 {
				wantPrev = base64.StdEncoding.EncodeToString(leaves[seq-1])
			}
			if *env.Seq != seq || *env.Prev != wantPrev || env.Tenant != tenant {
				return nil, fmt.Errorf("seq %d: envelope says tenant %q seq %d prev %q; want %q, %d, %q",
					seq, env.Tenant, *env.Seq, *env.Prev, tenant, seq, wantPrev)
			}
			leaves = append(leaves, leaf[:])
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	res.Entries = len(leaves)
	if uint64(len(leaves)) < cp.Size {
		return nil, fmt.Errorf("log has %d entries, the checkpoint signs %d", len(leaves), cp.Size)
	}

	// 3. The root over the signed prefix, recomputed from the leaves.
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	tree := rf.NewEmptyRange(0)
	for _, l := range leaves[:cp.Size] {
		if err := tree.Append(l, nil); err != nil {
			return nil, err
		}
	}
	root, err := tree.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(root, cp.Hash) {
		return nil, fmt.Errorf("recomputed root %x, checkpoint signs %x", root, cp.Hash)
	}

	// 4. Inclusion proofs, each checked with both libraries.
	for _, seq := range []uint64{0, 1, cp.Size / 3, cp.Size / 2, cp.Size - 2, cp.Size - 1} {
		if seq >= cp.Size {
			continue
		}
		var p struct {
			Seq, Size uint64
			Proof     []string
		}
		q := url.Values{"seq": {strconv.FormatUint(seq, 10)}, "size": {strconv.FormatUint(cp.Size, 10)}}
		if err := c.getJSON("/v1/log/proof/inclusion", q, &p); err != nil {
			return nil, err
		}
		hashes, err := decodeHashes(p.Proof)
		if err != nil || p.Seq != seq || p.Size != cp.Size {
			return nil, fmt.Errorf("inclusion proof of %d in %d: seq %d size %d (%v)", seq, cp.Size, p.Seq, p.Size, err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, seq, cp.Size, leaves[seq], hashes, cp.Hash); err != nil {
			return nil, fmt.Errorf("merkle inclusion of %d in %d: %w", seq, cp.Size, err)
		}
		if err := tlog.CheckRecord(tlogHashes(hashes), int64(cp.Size), tlogHash(cp.Hash), int64(seq), tlogHash(leaves[seq])); err != nil {
			return nil, fmt.Errorf("tlog inclusion of %d in %d: %w", seq, cp.Size, err)
		}
		res.Included = append(res.Included, seq)
	}

	// 5. The latest checkpoint extends the earlier one.
	if earlier != nil {
		old, _, _, err := tlogformats.ParseCheckpoint(earlier, origin, verifier)
		if err != nil {
			return nil, fmt.Errorf("open earlier checkpoint: %w", err)
		}
		if old.Size > cp.Size {
			return nil, fmt.Errorf("rolled back: earlier checkpoint of size %d, latest %d", old.Size, cp.Size)
		}
		var p struct {
			From, To uint64
			Proof    []string
		}
		q := url.Values{"from": {strconv.FormatUint(old.Size, 10)}, "to": {strconv.FormatUint(cp.Size, 10)}}
		if err := c.getJSON("/v1/log/proof/consistency", q, &p); err != nil {
			return nil, err
		}
		hashes, err := decodeHashes(p.Proof)
		if err != nil || p.From != old.Size || p.To != cp.Size {
			return nil, fmt.Errorf("consistency proof %d to %d: from %d to %d (%v)", old.Size, cp.Size, p.From, p.To, err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cp.Size, hashes, old.Hash, cp.Hash); err != nil {
			return nil, fmt.Errorf("merkle consistency %d to %d: %w", old.Size, cp.Size, err)
		}
		if err := tlog.CheckTree(tlogHashes(hashes), int64(cp.Size), tlogHash(cp.Hash), int64(old.Size), tlogHash(old.Hash)); err != nil {
			return nil, fmt.Errorf("tlog consistency %d to %d: %w", old.Size, cp.Size, err)
		}
		res.ConsistentFrom = old.Size
	}
	return res, nil
}

func decodeHashes(ss []string) ([][]byte, error) {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("proof hash %d %q is not base64 of 32 bytes", i, s)
		}
		out[i] = b
	}
	return out, nil
}

func tlogHash(b []byte) tlog.Hash {
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func tlogHashes(bs [][]byte) []tlog.Hash {
	out := make([]tlog.Hash, len(bs))
	for i, b := range bs {
		out[i] = tlogHash(b)
	}
	return out
}

// auditClient reads the API with a bearer key.
type auditClient struct {
	base, key string
}

func (c *auditClient) get(path string, q url.Values) ([]byte, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s = %d, want 200: %s", path, resp.StatusCode, b)
	}
	return b, nil
}

func (c *auditClient) getJSON(path string, q url.Values, v any) error {
	b, err := c.get(path, q)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}
