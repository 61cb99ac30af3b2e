package ledger

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// KindLogKeyRotated is the kind of the entry that announces a new
// checkpoint signing key. The ledger interprets it when it verifies a log
// against a key history (see VerifyOptions.Keys).
const KindLogKeyRotated = "signing_key.rotated"

// KeyRotated is the body of a signing_key.rotated entry: the key that signed
// the log so far and the key that signs it from now, both verifier keys
// in sumdb/note text form.
//
// The handover is checked by verifiers: the entry MUST be covered by a
// checkpoint of the old key of exactly the size that includes it (seq+1),
// which is the last checkpoint the old key may sign; checkpoints of the
// new key are valid only beyond the entry.
type KeyRotated struct {
	OldKey string `json:"old_key"`
	NewKey string `json:"new_key"`
	Note   string `json:"note,omitempty"`
}

// DecodeKeyRotated strictly decodes the body of a signing_key.rotated entry.
func DecodeKeyRotated(body []byte) (*KeyRotated, error) {
	var k KeyRotated
	if err := decodeStrict(body, &k); err != nil {
		return nil, fmt.Errorf("%s body: %w", KindLogKeyRotated, err)
	}
	for _, key := range []string{k.OldKey, k.NewKey} {
		if _, err := note.NewVerifier(key); err != nil {
			return nil, fmt.Errorf("%s body: %q is not a verifier key: %w", KindLogKeyRotated, key, err)
		}
	}
	if k.OldKey == k.NewKey {
		return nil, fmt.Errorf("%s body: the new key is the old one", KindLogKeyRotated)
	}
	return &k, nil
}

// Key indexes of a verifier's key history beyond the trusted keys.
const (
	keyUnset   = -2 // no checkpoint or rotation seen yet
	keyUnknown = -1 // a key the verifier does not trust
)

// keyState follows which key of VerifyOptions.Keys may sign a log at each
// size. A log's first key is the one that signs its first checkpoint (a
// tenant made after a rotation never saw the older keys); from then on a
// key changes only through a signing_key.rotated entry announcing the next key
// of the history, covered by a checkpoint of the current key.
type keyState struct {
	keys    []note.Verifier
	cur     int
	pend    *rotation
	retired map[int]bool
}

// rotation is an announced key change not yet handed over.
type rotation struct {
	seq     int64
	next    int // index of the new key in keys, or keyUnknown
	name    string
	covered bool // a checkpoint of the old key at size seq+1 was seen
}

func newKeyState(keys []note.Verifier) keyState {
	return keyState{keys: keys, cur: keyUnset, retired: map[int]bool{}}
}

// index returns the index of a verifier key (text form) in the history.
func (k *keyState) index(vkey string) (int, string) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return keyUnknown, vkey
	}
	name := keyName(v)
	for i, t := range k.keys {
		if t.Name() == v.Name() && t.KeyHash() == v.KeyHash() {
			return i, name
		}
	}
	return keyUnknown, name
}

func keyName(v note.Verifier) string { return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()) }

func (k *keyState) nameOf(i int) string {
	if i < 0 || i >= len(k.keys) {
		return "an untrusted key"
	}
	return keyName(k.keys[i])
}

// announce records the signing_key.rotated entry at seq; it returns a reason
// if the entry does not fit the history.
func (k *keyState) announce(seq int64, body *KeyRotated) string {
	if k.pend != nil {
		return fmt.Sprintf("key rotation at seq %d before the rotation at seq %d was covered by a checkpoint of its old key", seq, k.pend.seq)
	}
	old, oldName := k.index(body.OldKey)
	next, nextName := k.index(body.NewKey)
	switch {
	case k.cur == keyUnset:
		k.cur = old
	case old != k.cur:
		return fmt.Sprintf("key rotation at seq %d retires %s, but the log's key is %s", seq, oldName, k.nameOf(k.cur))
	}
	if next >= 0 && k.cur >= 0 && next != k.cur+1 {
		return fmt.Sprintf("key rotation at seq %d announces %s, which is not the key after %s in the trusted history", seq, nextName, k.nameOf(k.cur))
	}
	k.pend = &rotation{seq: seq, next: next, name: nextName}
	return ""
}

// check decides whether key j may sign a checkpoint of size; it returns a
// reason if not.
func (k *keyState) check(size int64, j int) string {
	if k.cur == keyUnset {
		k.cur = j
		return ""
	}
	if p := k.pend; p != nil && size > p.seq {
		switch {
		case j == k.cur && size == p.seq+1:
			p.covered = true
			return ""
		case j == k.cur:
			return fmt.Sprintf("checkpoint of size %d signed by a retired key (%s): the log announced its successor %s at seq %d",
				size, k.nameOf(j), p.name, p.seq)
		case j == p.next && !p.covered:
			return fmt.Sprintf("checkpoint of size %d is signed by %s, announced at seq %d, but no checkpoint of the previous key %s covers the announcement",
				size, k.nameOf(j), p.seq, k.nameOf(k.cur))
		case j == p.next:
			return ""
		}
		return fmt.Sprintf("checkpoint of size %d is signed by %s, not by the log's key %s or its announced successor %s",
			size, k.nameOf(j), k.nameOf(k.cur), p.name)
	}
	switch {
	case j == k.cur:
		return ""
	case k.retired[j]:
		return fmt.Sprintf("checkpoint of size %d signed by a retired key (%s)", size, k.nameOf(j))
	}
	return fmt.Sprintf("checkpoint of size %d is signed by %s, which no signing_key.rotated entry covered by a checkpoint of %s announced",
		size, k.nameOf(j), k.nameOf(k.cur))
}

// settle completes a handover once every checkpoint of a size beyond the
// announcement has been checked.
func (k *keyState) settle(size int64) {
	if p := k.pend; p != nil && p.covered && size > p.seq {
		k.retired[k.cur] = true
		k.cur, k.pend = p.next, nil
	}
}
