package ledger_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/wardenhq/warden/internal/ledger"
)

// tamper is one change an attacker with write access to the database
// makes, and what the verifier must report for it.
type tamper struct {
	name    string
	apply   func(tx *sql.Tx) error
	trusted []byte // the verifier's trusted checkpoint, if any
	ok      bool   // the change is undetectable with this trust (a stolen key)
	// The first bad seq must lie in [seqLo, seqHi] (equal for an exact
	// expectation) and the check must be one of checks (any if empty).
	seqLo, seqHi int64
	checks       []string
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func exact(seq int64, checks ...string) (int64, int64, []string) { return seq, seq, checks }

// check verifies the tampered copy at path and reports whether the
// verifier's answer was the expected one.
func (tm *tamper) check(t *testing.T, f *fixture, path string) bool {
	t.Helper()
	rep := verifyFile(t, path, f.opts(tm.trusted))
	if tm.ok {
		if !rep.OK {
			t.Errorf("%s: VerifyStore = failure %v, want OK", tm.name, rep.Failure)
		}
		return rep.OK
	}
	fail := rep.Failure
	if rep.OK || fail == nil {
		t.Errorf("%s: VerifyStore = OK, want a failure: tampering MISSED", tm.name)
		return false
	}
	if fail.Seq < tm.seqLo || fail.Seq > tm.seqHi || (len(tm.checks) > 0 && !slices.Contains(tm.checks, fail.Check)) {
		t.Errorf("%s: VerifyStore = failure %v, want seq in [%d, %d] and check in %v", tm.name, fail, tm.seqLo, tm.seqHi, tm.checks)
		return false
	}
	return true
}

func execAll(tx *sql.Tx, stmts ...[]any) error {
	for _, s := range stmts {
		if _, err := tx.Exec(s[0].(string), s[1:]...); err != nil {
			return fmt.Errorf("%s: %w", s[0], err)
		}
	}
	return nil
}

func stmt(query string, args ...any) []any { return append([]any{query}, args...) }

func setData(seq int64, data []byte) []any {
	return stmt("UPDATE entries SET data = ? WHERE tenant_id = ? AND seq = ?", data, fixtureTenant, seq)
}

// flip xors one byte of entry seq's data at pos (mod its length).
func (f *fixture) flip(seq int64, pos int, x byte) tamper {
	data := bytes.Clone(f.records[seq].Data)
	pos %= len(data)
	data[pos] ^= x
	tm := tamper{name: fmt.Sprintf("flip data byte %d of seq %d by %#x", pos, seq, x),
		apply: func(tx *sql.Tx) error { return execAll(tx, setData(seq, data)) }}
	tm.seqLo, tm.seqHi, tm.checks = exact(seq)
	return tm
}

// flipHash xors one byte of entry seq's stored hashes at pos.
func (f *fixture) flipHash(seq int64, pos int, x byte) tamper {
	blob := ledger.JoinHashes(f.records[seq].Hashes)
	pos %= len(blob)
	blob[pos] ^= x
	tm := tamper{name: fmt.Sprintf("flip hash byte %d of seq %d by %#x", pos, seq, x),
		apply: func(tx *sql.Tx) error {
			return execAll(tx, stmt("UPDATE entries SET hashes = ? WHERE tenant_id = ? AND seq = ?", blob, fixtureTenant, seq))
		}}
	check := ledger.CheckLeafHash
	if pos >= len(tlog.Hash{}) {
		check = ledger.CheckTreeHashes
	}
	tm.seqLo, tm.seqHi, tm.checks = exact(seq, check)
	return tm
}

func (f *fixture) deleteEntry(seq int64) tamper {
	tm := tamper{name: fmt.Sprintf("delete seq %d", seq), apply: func(tx *sql.Tx) error {
		return execAll(tx, stmt("DELETE FROM entries WHERE tenant_id = ? AND seq = ?", fixtureTenant, seq))
	}}
	tm.seqLo, tm.seqHi, tm.checks = exact(seq, ledger.CheckSequence)
	return tm
}

func (f *fixture) swap(i, j int64) tamper {
	tm := tamper{name: fmt.Sprintf("swap the data of seq %d and %d", i, j), apply: func(tx *sql.Tx) error {
		return execAll(tx, setData(i, f.records[j].Data), setData(j, f.records[i].Data))
	}}
	tm.seqLo, tm.seqHi, tm.checks = exact(min(i, j), ledger.CheckSequence)
	return tm
}

func (f *fixture) truncate(size int64) tamper {
	tm := tamper{name: fmt.Sprintf("truncate to %d entries", size), apply: func(tx *sql.Tx) error {
		return execAll(tx, stmt("DELETE FROM entries WHERE tenant_id = ? AND seq >= ?", fixtureTenant, size))
	}}
	tm.seqLo, tm.seqHi, tm.checks = exact(size, ledger.CheckSequence)
	return tm
}

// goodAt is the largest checkpoint size at most size (0 if none): where a
// verifier that finds a bad root says the damage may begin.
func (f *fixture) goodAt(size int64) int64 {
	var g int64
	for _, cp := range f.cps {
		if cp.Size <= size {
			g = cp.Size
		}
	}
	return g
}

func (f *fixture) hasCheckpoint(size int64) bool {
	return slices.ContainsFunc(f.cps, func(cp ledger.StoredCheckpoint) bool { return cp.Size == size })
}

// insert crafts a well-formed entry at p (right seq, right prev, right
// tree hashes) and moves the entries from p on one seq up.
func (f *fixture) insert(t testing.TB, p int64) tamper {
	e, err := ledger.Parse(f.records[max(p-1, 0)].Data)
	if err != nil {
		t.Fatal(err)
	}
	e.Seq, e.ID, e.Body, e.Prev = p, "evt_forged", json.RawMessage(`{"forged":true}`), ""
	if p > 0 {
		e.Prev = ledger.EncodeHash(f.records[p-1].Hashes[0])
	}
	data, err := ledger.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := tlog.StoredHashes(p, data, hashReader(f.stored))
	if err != nil {
		t.Fatal(err)
	}
	at, err := ledger.ParseTime(e.Time)
	if err != nil {
		t.Fatal(err)
	}
	tm := tamper{name: fmt.Sprintf("insert an entry at seq %d", p), apply: func(tx *sql.Tx) error {
		return execAll(tx,
			stmt("UPDATE entries SET seq = -seq - 1 WHERE tenant_id = ? AND seq >= ?", fixtureTenant, p),
			stmt("UPDATE entries SET seq = -seq WHERE tenant_id = ? AND seq < 0", fixtureTenant),
			stmt("INSERT INTO entries (tenant_id, seq, id, kind, time_us, data, hashes) VALUES (?, ?, ?, ?, ?, ?, ?)",
				fixtureTenant, p, e.ID, e.Kind, at.UnixMicro(), data, ledger.JoinHashes(hashes)))
	}}
	// The forged entry itself checks out. If a checkpoint covers exactly
	// it, its root is wrong and the damage is placed after the last good
	// checkpoint; otherwise the displaced entry p shows up at p+1.
	if f.hasCheckpoint(p + 1) {
		tm.seqLo, tm.seqHi, tm.checks = exact(f.goodAt(p), ledger.CheckCheckpoint)
	} else {
		tm.seqLo, tm.seqHi, tm.checks = exact(p+1, ledger.CheckSequence)
	}
	return tm
}

func setCheckpoint(size int64, msg []byte) []any {
	return stmt("INSERT OR REPLACE INTO checkpoints (tenant_id, size, note, created_us) VALUES (?, ?, ?, 0)", fixtureTenant, size, msg)
}

// otherKeyCheckpoint replaces checkpoint i by one over the same tree that
// another key signed.
func (f *fixture) otherKeyCheckpoint(t testing.TB, i int) tamper {
	forger, _, err := fixtureKeys(fixtureOrigin, 4242)
	if err != nil {
		t.Fatal(err)
	}
	cp := f.cps[i]
	msg := f.sign(t, forger, cp.Size, f.rootAt(t, f.stored, cp.Size))
	tm := tamper{name: fmt.Sprintf("checkpoint %d signed by another key", cp.Size),
		apply: func(tx *sql.Tx) error { return execAll(tx, setCheckpoint(cp.Size, msg)) }}
	tm.seqLo, tm.seqHi, tm.checks = exact(-1, ledger.CheckCheckpoint)
	return tm
}

// wrongRootCheckpoint replaces checkpoint i by one the real key signed
// over another root.
func (f *fixture) wrongRootCheckpoint(t testing.TB, i int, root tlog.Hash) tamper {
	cp := f.cps[i]
	msg := f.sign(t, f.signer, cp.Size, root)
	tm := tamper{name: fmt.Sprintf("checkpoint %d over another root", cp.Size),
		apply: func(tx *sql.Tx) error { return execAll(tx, setCheckpoint(cp.Size, msg)) }}
	tm.seqLo, tm.seqHi, tm.checks = exact(f.goodAt(cp.Size-1), ledger.CheckCheckpoint)
	return tm
}

func (f *fixture) sign(t testing.TB, s note.Signer, size int64, root tlog.Hash) []byte {
	msg, err := ledger.SignCheckpoint(s, fixtureOrigin+"/"+fixtureTenant, size, root)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func (f *fixture) rootAt(t testing.TB, stored []tlog.Hash, size int64) tlog.Hash {
	h, err := tlog.TreeHash(size, hashReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rewrite changes the body of every entry from k on and, with the stolen
// signing key, recomputes everything that depends on it: the prev chain,
// the stored tree hashes and every checkpoint beyond k. Only a trusted
// checkpoint from before the rewrite can tell.
func (f *fixture) rewrite(t testing.TB, k int64, trusted *ledger.StoredCheckpoint) tamper {
	stored := slices.Clone(f.stored[:tlog.StoredHashIndex(0, k)])
	var stmts [][]any
	var prev tlog.Hash
	if k > 0 {
		prev = f.records[k-1].Hashes[0]
	}
	for seq := k; seq < f.n; seq++ {
		e, err := ledger.Parse(f.records[seq].Data)
		if err != nil {
			t.Fatal(err)
		}
		e.Body = json.RawMessage(fmt.Sprintf(`{"rewritten":%d}`, seq))
		if seq > 0 {
			e.Prev = ledger.EncodeHash(prev)
		}
		data, err := ledger.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		hashes, err := tlog.StoredHashes(seq, data, hashReader(stored))
		if err != nil {
			t.Fatal(err)
		}
		stored, prev = append(stored, hashes...), hashes[0]
		stmts = append(stmts, stmt("UPDATE entries SET data = ?, hashes = ? WHERE tenant_id = ? AND seq = ?",
			data, ledger.JoinHashes(hashes), fixtureTenant, seq))
	}
	for _, cp := range f.cps {
		if cp.Size > k {
			stmts = append(stmts, setCheckpoint(cp.Size, f.sign(t, f.signer, cp.Size, f.rootAt(t, stored, cp.Size))))
		}
	}
	tm := tamper{name: fmt.Sprintf("rewrite from seq %d, re-signed", k), apply: func(tx *sql.Tx) error { return execAll(tx, stmts...) }}
	if trusted == nil {
		tm.ok = true
		return tm
	}
	tm.name += fmt.Sprintf(", trusting checkpoint %d", trusted.Size)
	tm.trusted = trusted.Note
	// The verifier knows only that the root at the trusted size is wrong:
	// checkpoints below it may be forged with the stolen key, so it
	// blames no entry.
	tm.seqLo, tm.seqHi, tm.checks = exact(-1, ledger.CheckTrustedCheckpoint)
	return tm
}

// rollback truncates the log to size and, with the stolen key, makes the
// checkpoints agree: none beyond size, one at size.
func (f *fixture) rollback(t testing.TB, size int64, trusted *ledger.StoredCheckpoint) tamper {
	msg := f.sign(t, f.signer, size, f.rootAt(t, f.stored, size))
	tm := tamper{name: fmt.Sprintf("roll back to %d entries, re-signed", size), apply: func(tx *sql.Tx) error {
		return execAll(tx,
			stmt("DELETE FROM entries WHERE tenant_id = ? AND seq >= ?", fixtureTenant, size),
			stmt("DELETE FROM checkpoints WHERE tenant_id = ? AND size > ?", fixtureTenant, size),
			setCheckpoint(size, msg))
	}}
	if trusted == nil {
		tm.ok = true
		return tm
	}
	tm.name += fmt.Sprintf(", trusting checkpoint %d", trusted.Size)
	tm.trusted = trusted.Note
	tm.seqLo, tm.seqHi, tm.checks = exact(size, ledger.CheckTrustedCheckpoint)
	return tm
}

func TestTamper(t *testing.T) {
	f := logFixture(t, fixtureSize())
	n, cps := f.n, f.cps
	last := len(cps) - 1
	mid := n / 2
	pos := func(seq int64, marker string) int {
		i := bytes.Index(f.records[seq].Data, []byte(marker))
		if i < 0 {
			t.Fatalf("%q not in entry %d", marker, seq)
		}
		return i + len(marker)
	}
	// The first checkpoint above a rewrite from mid, and one further on.
	var above *ledger.StoredCheckpoint
	for i := range cps {
		if cps[i].Size > mid && above == nil {
			above = &cps[i]
		}
	}
	// Each flip is caught at its seq; the check depends on what the flip
	// does to the bytes.
	flip := func(seq int64, pos int, x byte, checks ...string) tamper {
		tm := f.flip(seq, pos, x)
		tm.checks = checks
		return tm
	}
	// A flipped character of prev either stays base64, and the chain
	// breaks, or does not, and the entry is malformed.
	prevPos := pos(mid, `"prev":"`) + 3
	prevChecks := []string{ledger.CheckChain}
	if c := f.records[mid].Data[prevPos] ^ 0x02; !strings.ContainsRune(base64Alphabet, rune(c)) {
		prevChecks = []string{ledger.CheckEntry}
	}
	rewriteAbove := f.rewrite(t, mid, above)
	realRootElsewhere := f.wrongRootCheckpoint(t, last, f.rootAt(t, f.stored, cps[last].Size-1))
	realRootElsewhere.name = fmt.Sprintf("checkpoint %d over the root at %d", cps[last].Size, cps[last].Size-1)
	tests := []tamper{
		flip(0, 0, 0x01, ledger.CheckEntry),
		flip(mid, pos(mid, `"actor":"`), 0x20, ledger.CheckLeafHash),
		flip(mid, pos(mid, `"body":{`), 0x01, ledger.CheckEntry),
		flip(mid, prevPos, 0x02, prevChecks...),
		flip(mid, pos(mid, `"seq":`), 0x01, ledger.CheckSequence, ledger.CheckEntry), // entry if a leading 0 appears
		flip(mid, pos(mid, `"time":"`)+18, 0x01, ledger.CheckTime, ledger.CheckLeafHash),
		flip(mid, pos(mid, `"note":"`), 0x01, ledger.CheckLeafHash), // "entrée" becomes "dntrée"
		flip(n-1, len(f.records[n-1].Data)-1, 0x01, ledger.CheckEntry),
		f.flipHash(mid, 0, 0x80),
		f.flipHash(n-1, 32, 0x01),
		f.deleteEntry(0),
		f.deleteEntry(mid),
		f.deleteEntry(n - 1),
		f.swap(mid, mid+1),
		f.swap(3, n-2),
		f.truncate(n - 1),
		f.truncate(cps[0].Size),
		f.truncate(1),
		f.insert(t, 0),
		f.insert(t, mid),
		f.insert(t, cps[1].Size-1), // a checkpoint covers exactly the forged entry
		f.insert(t, n-1),
		f.otherKeyCheckpoint(t, last),
		f.otherKeyCheckpoint(t, 0),
		f.wrongRootCheckpoint(t, last, testRoot("another tree")),
		f.wrongRootCheckpoint(t, 0, testRoot("another tree")),
		realRootElsewhere,
		{name: "unreadable checkpoint", apply: func(tx *sql.Tx) error { return execAll(tx, setCheckpoint(cps[1].Size, []byte("garbage"))) },
			seqLo: -1, seqHi: -1, checks: []string{ledger.CheckCheckpoint}},
		f.rewrite(t, mid, nil),
		rewriteAbove,
		f.rewrite(t, mid, &cps[last]),
		f.rewrite(t, 0, &cps[0]),
		f.rollback(t, mid, nil),
		f.rollback(t, mid, &cps[last]),
		f.rollback(t, cps[0].Size, &cps[1]),
		{name: "id column changed", apply: func(tx *sql.Tx) error {
			return execAll(tx, stmt("UPDATE entries SET id = 'evt_elsewhere' WHERE tenant_id = ? AND seq = ?", fixtureTenant, mid))
		}, seqLo: mid, seqHi: mid, checks: []string{ledger.CheckIndex}},
		{name: "time column changed", apply: func(tx *sql.Tx) error {
			return execAll(tx, stmt("UPDATE entries SET time_us = time_us + 1 WHERE tenant_id = ? AND seq = ?", fixtureTenant, n-1))
		}, seqLo: n - 1, seqHi: n - 1, checks: []string{ledger.CheckIndex}},
		{name: "whole log removed", apply: func(tx *sql.Tx) error {
			return execAll(tx, stmt("DELETE FROM entries WHERE tenant_id = ?", fixtureTenant),
				stmt("DELETE FROM checkpoints WHERE tenant_id = ?", fixtureTenant))
		}, seqLo: 0, seqHi: 0, checks: []string{ledger.CheckSequence}},
	}
	path := filepath.Join(t.TempDir(), "warden.db")
	for _, tm := range tests {
		t.Run(tm.name, func(t *testing.T) {
			f.copyTo(t, path)
			mutate(t, path, tm.apply)
			tm.check(t, f, path)
		})
	}
}
