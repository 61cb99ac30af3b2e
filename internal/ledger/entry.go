// Package ledger is Warden's tamper-evident log: the entry envelope and its
// canonical encoding, the RFC 6962 Merkle tree over entries, signed
// checkpoints, proofs, verification and the group-commit appender.
//
// The package is pure: it speaks to storage only through the Store
// interface and never imports net/http or a SQL driver.
package ledger

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/gowebpki/jcs"
	"golang.org/x/mod/sumdb/tlog"
)

// FormatVersion is the value of the envelope field "v" this package writes
// and the only one it accepts.
const FormatVersion = 1

// TimeLayout is the layout of an entry's "time": RFC 3339 in UTC with
// exactly six fractional digits, so that the string sorts like the instant.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// MaxEntrySize bounds the encoded size of one entry. Larger bodies are
// refused before they reach a transaction.
const MaxEntrySize = 1 << 20

// SystemTenant is the reserved tenant that holds installation-level records
// (tenants, owner keys) in a log of its own.
const SystemTenant = "_system"

var tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidTenant reports whether id is a tenant id: a user tenant matching
// [a-z0-9][a-z0-9-]{0,62}, or the reserved SystemTenant.
func ValidTenant(id string) bool {
	return id == SystemTenant || tenantRE.MatchString(id)
}

// ErrMalformed is wrapped by every error that rejects entry bytes.
var ErrMalformed = errors.New("malformed entry")

// Entry is the envelope of one ledger entry. Its canonical encoding (RFC
// 8785) is exactly the bytes that are stored and hashed.
type Entry struct {
	V      int             `json:"v"`
	Tenant string          `json:"tenant"`
	Seq    int64           `json:"seq"`
	ID     string          `json:"id"`
	Time   string          `json:"time"`
	Kind   string          `json:"kind"`
	Actor  string          `json:"actor"`
	Prev   string          `json:"prev"`
	Body   json.RawMessage `json:"body"`
}

// FormatTime renders t in the entry time layout (UTC, microseconds).
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(TimeLayout)
}

// ParseTime parses an entry time and rejects any other rendering of it.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil || t.Format(TimeLayout) != s {
		return time.Time{}, fmt.Errorf("time %q is not in the form %s", s, TimeLayout)
	}
	return t, nil
}

// EncodeHash renders a hash the way every JSON document of Warden does:
// standard base64 of the 32 bytes.
func EncodeHash(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// DecodeHash parses a hash rendered by EncodeHash and rejects any other form.
func DecodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("hash %q is not base64 of 32 bytes", s)
	}
	copy(h[:], b)
	return h, nil
}

// LeafHash is the RFC 6962 leaf hash of entry bytes: SHA-256(0x00 || b).
func LeafHash(b []byte) tlog.Hash { return tlog.RecordHash(b) }

// Encode returns the canonical bytes of e. It checks the envelope first, so
// that nothing that Parse would reject is ever written.
func Encode(e *Entry) ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	if b, ok := encodeFast(e); ok {
		if len(b) > MaxEntrySize {
			return nil, fmt.Errorf("%w: seq %d is %d bytes, limit %d", ErrMalformed, e.Seq, len(b), MaxEntrySize)
		}
		return b, nil
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode entry seq %d: %w", e.Seq, err)
	}
	b, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalize entry seq %d: %w", e.Seq, err)
	}
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("%w: seq %d is %d bytes, limit %d", ErrMalformed, e.Seq, len(b), MaxEntrySize)
	}
	return b, nil
}

// encodeFast writes the canonical form of e directly when its body is
// already canonical and every string field is printable ASCII without a
// quote or backslash (which RFC 8785 writes as is). It reports false for
// anything else, which Encode then canonicalizes in full. Keys are written
// in RFC 8785 order (UTF-16 code units; here plain ASCII order).
func encodeFast(e *Entry) ([]byte, bool) {
	if len(e.Body) == 0 || e.Body[0] != '{' || e.Seq > 1<<53 || !canonical(e.Body) {
		return nil, false
	}
	for _, s := range [...]string{e.Actor, e.ID, e.Kind, e.Prev, e.Tenant, e.Time} {
		if !plainASCII(s) {
			return nil, false
		}
	}
	b := make([]byte, 0, len(e.Body)+len(e.Actor)+len(e.ID)+len(e.Kind)+len(e.Prev)+len(e.Tenant)+len(e.Time)+96)
	b = append(b, `{"actor":"`...)
	b = append(b, e.Actor...)
	b = append(b, `","body":`...)
	b = append(b, e.Body...)
	b = append(b, `,"id":"`...)
	b = append(b, e.ID...)
	b = append(b, `","kind":"`...)
	b = append(b, e.Kind...)
	b = append(b, `","prev":"`...)
	b = append(b, e.Prev...)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"tenant":"`...)
	b = append(b, e.Tenant...)
	b = append(b, `","time":"`...)
	b = append(b, e.Time...)
	b = append(b, `","v":`...)
	b = strconv.AppendInt(b, int64(e.V), 10)
	b = append(b, '}')
	return b, true
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// CanonicalBody encodes v as the RFC 8785 form of its JSON. Callers that
// encode a body before appending it spend that work in their own
// goroutine instead of the appender's, which is shared by every writer.
func CanonicalBody(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jcs.Transform(raw)
}

// parseGeneral is Parse's general path: it canonicalizes with jcs and
// compares, then decodes with encoding/json. It decides every input the
// fast path is unsure of and names the error.
func parseGeneral(b []byte) (*Entry, error) {
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(b), MaxEntrySize)
	}
	canon, err := jcs.Transform(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrMalformed, err)
	}
	if !bytes.Equal(canon, b) {
		return nil, fmt.Errorf("%w: not in canonical (RFC 8785) form", ErrMalformed)
	}
	return decode(b)
}

// ParseObject accepts an entry as a JSON object in any spelling (as served
// by the HTTP API inside a larger document) and returns the entry with its
// canonical bytes, which are the bytes that were hashed.
func ParseObject(obj json.RawMessage) (*Entry, []byte, error) {
	if len(obj) > 2*MaxEntrySize {
		return nil, nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(obj))
	}
	canon, err := jcs.Transform(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not JSON: %v", ErrMalformed, err)
	}
	e, err := decode(canon)
	if err != nil {
		return nil, nil, err
	}
	return e, canon, nil
}

func decode(b []byte) (*Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	// encoding/json matches keys case-insensitively ("Seq" fills Seq) and
	// reads a missing or null field as its zero value, so decoding alone
	// admits other spellings, and other leaf hashes, of one entry.
	if !exactMembers(b) {
		return nil, fmt.Errorf("%w: seq %d: a field is misspelt, missing or null", ErrMalformed, e.Seq)
	}
	return &e, nil
}

// entryMembers are the members of an entry in canonical (sorted) order.
var entryMembers = [...]string{`"actor":`, `"body":`, `"id":`, `"kind":`, `"prev":`, `"seq":`, `"tenant":`, `"time":`, `"v":`}

// exactMembers reports whether the canonical JSON object b has exactly the
// entry's members, spelt exactly and in order, none of them null. Being
// canonical, b has no whitespace, so a member's key follows its object's
// '{' or ',' directly.
func exactMembers(b []byte) bool {
	depth, next := 0, 0
	inString, escaped := false, false
	for i, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
		if depth == 1 && (c == '{' || c == ',') {
			if next == len(entryMembers) {
				return false
			}
			rest := b[i+1:]
			if !bytes.HasPrefix(rest, []byte(entryMembers[next])) ||
				bytes.HasPrefix(rest[len(entryMembers[next]):], []byte("null")) {
				return false
			}
			next++
		}
	}
	return next == len(entryMembers)
}

// check validates the envelope fields that do not depend on the log.
func (e *Entry) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: seq %d: %s", ErrMalformed, e.Seq, fmt.Sprintf(format, args...))
	}
	switch {
	case e.V != FormatVersion:
		return bad("version %d, want %d", e.V, FormatVersion)
	case !ValidTenant(e.Tenant):
		return bad("tenant %q is not a tenant id", e.Tenant)
	case e.Seq < 0:
		return bad("negative seq")
	case e.ID == "" || len(e.ID) > 128:
		return bad("id %q is empty or too long", e.ID)
	case e.Kind == "" || len(e.Kind) > 64:
		return bad("kind %q is empty or too long", e.Kind)
	case e.Actor == "" || len(e.Actor) > 128:
		return bad("actor %q is empty or too long", e.Actor)
	}
	if _, err := ParseTime(e.Time); err != nil {
		return bad("%v", err)
	}
	if e.Seq == 0 && e.Prev != "" {
		return bad("prev must be empty at seq 0")
	}
	if e.Seq > 0 {
		if _, err := DecodeHash(e.Prev); err != nil {
			return bad("prev: %v", err)
		}
	}
	if len(e.Body) == 0 || e.Body[0] != '{' {
		return bad("body must be a JSON object")
	}
	return nil
}
