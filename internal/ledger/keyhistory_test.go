package ledger_test

import (
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/ledger"
)

// rotatedLog is a log signed by k0 up to a signing_key.rotated entry at seq 5
// (covered by k0's checkpoint of size 6), and by k1 after it.
func rotatedLog(t *testing.T, k0, k1 testKey, handover bool) *memLog {
	m := &memLog{t: t}
	m.addN(3)
	m.sign(k0)
	m.addN(2)
	m.sign(k0)
	m.add(ledger.KindLogKeyRotated, ledger.KeyRotated{OldKey: k0.vkey, NewKey: k1.vkey, Note: "yearly"})
	if handover {
		m.sign(k0)
	}
	m.addN(2)
	m.sign(k1)
	m.addN(2)
	m.sign(k1)
	return m
}

func TestVerifyKeyHistory(t *testing.T) {
	k0, k1, k2 := newTestKey(t, 1), newTestKey(t, 2), newTestKey(t, 3)
	tests := []struct {
		name   string
		log    func() *memLog
		keys   []testKey
		reason string // "" for OK; else a part of the checkpoint failure's reason
	}{
		{name: "both keys", log: func() *memLog { return rotatedLog(t, k0, k1, true) }, keys: []testKey{k0, k1}},
		{name: "a longer history", log: func() *memLog { return rotatedLog(t, k0, k1, true) }, keys: []testKey{k0, k1, k2}},
		{name: "new key only", log: func() *memLog { return rotatedLog(t, k0, k1, true) }, keys: []testKey{k1},
			reason: "checkpoint claiming size 3: not signed by a trusted key"},
		{name: "old key only", log: func() *memLog { return rotatedLog(t, k0, k1, true) }, keys: []testKey{k0},
			reason: "checkpoint claiming size 8: not signed by a trusted key"},
		{name: "keys out of order", log: func() *memLog { return rotatedLog(t, k0, k1, true) }, keys: []testKey{k1, k0},
			reason: "not the key after"},
		{name: "forged rotation without the old key's checkpoint", log: func() *memLog { return rotatedLog(t, k0, k1, false) },
			keys: []testKey{k0, k1}, reason: "no checkpoint of the previous key"},
		{name: "old key signs after the handover", log: func() *memLog {
			m := rotatedLog(t, k0, k1, true)
			m.addN(1)
			m.sign(k0)
			return m
		}, keys: []testKey{k0, k1}, reason: "signed by a retired key"},
		{name: "new key signs before its announcement", log: func() *memLog {
			m := &memLog{t: t}
			m.addN(3)
			m.sign(k0)
			m.addN(2)
			m.sign(k1)
			return m
		}, keys: []testKey{k0, k1}, reason: "which no signing_key.rotated entry"},
		{name: "a log begun after the rotation", log: func() *memLog {
			m := &memLog{t: t}
			m.addN(4)
			m.sign(k1)
			return m
		}, keys: []testKey{k0, k1}},
		{name: "two rotations", log: func() *memLog {
			m := rotatedLog(t, k0, k1, true)
			m.add(ledger.KindLogKeyRotated, ledger.KeyRotated{OldKey: k1.vkey, NewKey: k2.vkey})
			m.sign(k1)
			m.addN(1)
			m.sign(k2)
			return m
		}, keys: []testKey{k0, k1, k2}},
		{name: "rotation naming another old key", log: func() *memLog {
			m := &memLog{t: t}
			m.addN(2)
			m.sign(k0)
			m.add(ledger.KindLogKeyRotated, ledger.KeyRotated{OldKey: k2.vkey, NewKey: k1.vkey})
			m.sign(k0)
			return m
		}, keys: []testKey{k0, k1}, reason: "but the log's key is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.log()
			rep := m.verify(m.recs, tt.keys...)
			if tt.reason == "" {
				if !rep.OK {
					t.Fatalf("Verify(%s) = %v, want OK", tt.name, rep.Failure)
				}
				return
			}
			if rep.OK || !strings.Contains(rep.Failure.Reason, tt.reason) {
				t.Fatalf("Verify(%s) = %v, want a failure with %q", tt.name, rep.Failure, tt.reason)
			}
		})
	}
}

func TestDecodeKeyRotated(t *testing.T) {
	k0, k1 := newTestKey(t, 1), newTestKey(t, 2)
	for _, tc := range []struct {
		name string
		body string
		ok   bool
	}{
		{"valid", `{"new_key":"` + k1.vkey + `","old_key":"` + k0.vkey + `"}`, true},
		{"same key", `{"new_key":"` + k0.vkey + `","old_key":"` + k0.vkey + `"}`, false},
		{"not a key", `{"new_key":"nope","old_key":"` + k0.vkey + `"}`, false},
		{"unknown field", `{"new_key":"` + k1.vkey + `","old_key":"` + k0.vkey + `","x":1}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ledger.DecodeKeyRotated([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("DecodeKeyRotated(%s) = %v, want ok %v", tc.body, err, tc.ok)
			}
		})
	}
}
