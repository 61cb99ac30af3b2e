package ledger_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

// memLog builds a log in memory entry by entry, for verifier tests that
// need entries of particular kinds and checkpoints by particular keys.
type memLog struct {
	t      *testing.T
	recs   []ledger.Record
	hashes []tlog.Hash
	notes  [][]byte
}

var memBase = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// testKey is a seeded checkpoint key: its signer, verifier and text form.
type testKey struct {
	signer note.Signer
	ver    note.Verifier
	vkey   string
}

func newTestKey(t *testing.T, seed int64) testKey {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.New(rand.NewSource(seed)), fixtureOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{signer: s, ver: v, vkey: vkey}
}

func (m *memLog) hashReader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x >= int64(len(m.hashes)) {
				return nil, fmt.Errorf("hash %d of %d", x, len(m.hashes))
			}
			out[i] = m.hashes[x]
		}
		return out, nil
	})
}

// add appends an entry of kind with body.
func (m *memLog) add(kind string, body any) {
	m.t.Helper()
	seq := int64(len(m.recs))
	raw, err := json.Marshal(body)
	if err != nil {
		m.t.Fatal(err)
	}
	canon, err := ledger.CanonicalBody(json.RawMessage(raw))
	if err != nil {
		m.t.Fatal(err)
	}
	at := memBase.Add(time.Duration(seq) * time.Second)
	e := &ledger.Entry{V: ledger.FormatVersion, Tenant: fixtureTenant, Seq: seq, ID: fmt.Sprintf("evt_%d", seq),
		Time: ledger.FormatTime(at), Kind: kind, Actor: "system", Body: canon}
	if seq > 0 {
		e.Prev = ledger.EncodeHash(m.recs[seq-1].LeafHash())
	}
	data, err := ledger.Encode(e)
	if err != nil {
		m.t.Fatal(err)
	}
	hs, err := tlog.StoredHashes(seq, data, m.hashReader())
	if err != nil {
		m.t.Fatal(err)
	}
	m.hashes = append(m.hashes, hs...)
	m.recs = append(m.recs, ledger.Record{Seq: seq, ID: e.ID, Kind: kind, Time: at, Data: data, Hashes: hs})
}

// addN appends n plain entries.
func (m *memLog) addN(n int) {
	for i := 0; i < n; i++ {
		m.add("test.entry", map[string]int{"n": len(m.recs)})
	}
}

// sign signs a checkpoint of the log as it is now with k.
func (m *memLog) sign(k testKey) {
	m.t.Helper()
	size := int64(len(m.recs))
	root, err := tlog.TreeHash(size, m.hashReader())
	if err != nil {
		m.t.Fatal(err)
	}
	msg, err := ledger.SignCheckpoint(k.signer, ledger.TenantOrigin(fixtureOrigin, fixtureTenant), size, root)
	if err != nil {
		m.t.Fatal(err)
	}
	m.notes = append(m.notes, msg)
}

// verify walks the log (records as given, data nil for pruned ones) with
// keys and returns the report.
func (m *memLog) verify(recs []ledger.Record, keys ...testKey) *ledger.Report {
	m.t.Helper()
	vs := make([]note.Verifier, len(keys))
	for i, k := range keys {
		vs[i] = k.ver
	}
	v, err := ledger.NewVerifier(ledger.VerifyOptions{Tenant: fixtureTenant, Origin: fixtureOrigin, Keys: vs}, m.notes)
	if err != nil {
		m.t.Fatalf("NewVerifier = %v", err)
	}
	for i := range recs {
		if v.AddRecord(&recs[i]) != nil {
			break
		}
	}
	return v.Finish()
}
