package ledger

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// Parse decodes entry bytes strictly: they MUST be the canonical encoding
// of a well-formed envelope (no unknown field, no other spelling of the same
// object), so that one entry has exactly one leaf hash.
//
// Entries that Warden wrote take a fast path: one pass proves the bytes
// canonical and a second reads the envelope, whose keys canonical order
// fixes. The fast path only ever accepts; anything it is unsure of goes to
// the general path, which decides and names the error.
func Parse(b []byte) (*Entry, error) {
	if len(b) <= MaxEntrySize && canonical(b) {
		if e, ok := decodeCanonical(b); ok && e.check() == nil {
			return e, nil
		}
	}
	return parseGeneral(b)
}

// maxCanonicalDepth bounds the nesting the fast path follows; deeper
// documents take the general path.
const maxCanonicalDepth = 64

// canonical reports whether b is, for certain, the RFC 8785 form that
// jcs.Transform produces from it (Transform(b) == b). It may answer false
// for canonical bytes it does not follow (deep nesting); it never answers
// true for bytes that are not canonical.
func canonical(b []byte) bool {
	s := canonScanner{b: b}
	return len(b) > 0 && s.value(0) && s.i == len(b)
}

type canonScanner struct {
	b []byte
	i int
}

func (s *canonScanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '{':
		return depth < maxCanonicalDepth && s.object(depth+1)
	case '[':
		return depth < maxCanonicalDepth && s.array(depth+1)
	case '"':
		_, _, ok := s.str()
		return ok
	default:
		return s.scalar()
	}
}

func (s *canonScanner) object(depth int) bool {
	s.i++ // '{'
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	var prev []byte
	prevEscaped := false
	for first := true; ; first = false {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		key, escaped, ok := s.str()
		if !ok {
			return false
		}
		// Members MUST be in strictly ascending UTF-16 order: a duplicate or
		// an out-of-order key is not canonical.
		if !first && compareKeys(prev, prevEscaped, key, escaped) >= 0 {
			return false
		}
		prev, prevEscaped = key, escaped
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		if !s.value(depth) {
			return false
		}
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *canonScanner) array(depth int) bool {
	s.i++ // '['
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(depth) || s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// str checks a canonical string at s.i (the opening quote) and returns its
// raw contents and whether they hold escapes. Canonical strings escape
// only '"', '\\' and control characters (the short forms where JSON has
// them, else \u00xx in lower case) and are valid UTF-8.
func (s *canonScanner) str() (raw []byte, escaped, ok bool) {
	s.i++ // '"'
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+5 >= len(s.b) || s.b[s.i+2] != '0' || s.b[s.i+3] != '0' {
					return nil, false, false
				}
				hi, lo := s.b[s.i+4], s.b[s.i+5]
				if hi != '0' && hi != '1' || !(lo >= '0' && lo <= '9' || lo >= 'a' && lo <= 'f') {
					return nil, false, false
				}
				if hi == '0' && (lo == '8' || lo == '9' || lo == 'a' || lo == 'c' || lo == 'd') {
					return nil, false, false // \b \t \n \f \r have short forms
				}
				s.i += 6
			default:
				return nil, false, false
			}
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, false, false
			}
			s.i += size
		}
	}
	return nil, false, false
}

// scalar checks a literal or a number: a number MUST be spelled as
// ECMAScript prints its IEEE 754 value.
func (s *canonScanner) scalar() bool {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == ',' || c == ']' || c == '}' {
			break
		}
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c >= 'a' && c <= 'z') {
			return false
		}
		s.i++
	}
	tok := s.b[start:s.i]
	switch string(tok) {
	case "true", "false", "null":
		return true
	}
	if smallInteger(tok) {
		return true
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return false
	}
	n, err := jcs.NumberToJSON(f)
	return err == nil && n == string(tok)
}

// smallInteger reports whether tok is an integer of at most 15 digits with
// no leading zero and not "-0": exactly representable, and printed by
// ECMAScript digit for digit.
func smallInteger(tok []byte) bool {
	d := tok
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 15 || (d[0] == '0' && (len(d) > 1 || len(tok) > 1)) {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// compareKeys orders two raw canonical key strings by the UTF-16 code
// units of their values, as RFC 8785 sorts members.
func compareKeys(a []byte, aEsc bool, b []byte, bEsc bool) int {
	if aEsc {
		a = unescapeCanonical(a)
	}
	if bEsc {
		b = unescapeCanonical(b)
	}
	for len(a) > 0 && len(b) > 0 {
		ra, na := utf8.DecodeRune(a)
		rb, nb := utf8.DecodeRune(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return int(ua) - int(ub)
			}
			return int(ra) - int(rb) // both above U+FFFF with one high surrogate
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func firstUnit(r rune) rune {
	if r < 0x10000 {
		return r
	}
	return 0xD800 + (r-0x10000)>>10
}

// unescapeCanonical decodes the escapes that canonical strings use.
func unescapeCanonical(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			v, _ := strconv.ParseUint(string(raw[i+1:i+5]), 16, 8)
			out = append(out, byte(v))
			i += 4
		default: // '"' and '\\'
			out = append(out, raw[i])
		}
	}
	return out
}

// decodeCanonical reads the envelope from bytes that canonical accepted.
// Canonical order fixes the keys' order, so a well-formed envelope is one
// exact sequence; anything else (a missing, unknown or null field, a
// non-integer number) answers false for the general path to judge.
func decodeCanonical(b []byte) (*Entry, bool) {
	d := envelope{b: b}
	var e Entry
	ok := d.lit(`{"actor":`) && d.str(&e.Actor) &&
		d.lit(`,"body":`) && d.object(&e.Body) &&
		d.lit(`,"id":`) && d.str(&e.ID) &&
		d.lit(`,"kind":`) && d.str(&e.Kind) &&
		d.lit(`,"prev":`) && d.str(&e.Prev) &&
		d.lit(`,"seq":`) && d.int(&e.Seq) &&
		d.lit(`,"tenant":`) && d.str(&e.Tenant) &&
		d.lit(`,"time":`) && d.str(&e.Time)
	var v int64
	ok = ok && d.lit(`,"v":`) && d.int(&v) && d.lit(`}`) && d.i == len(b)
	if !ok || int64(int(v)) != v {
		return nil, false
	}
	e.V = int(v)
	return &e, true
}

type envelope struct {
	b []byte
	i int
}

func (d *envelope) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

func (d *envelope) str(out *string) bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	start, escaped := d.i+1, false
	for d.i++; d.i < len(d.b) && d.b[d.i] != '"'; d.i++ {
		if d.b[d.i] == '\\' {
			escaped = true
			d.i++ // the escaped byte; \u00xx continues as plain bytes
		}
	}
	if d.i >= len(d.b) {
		return false
	}
	raw := d.b[start:d.i]
	d.i++
	if escaped {
		raw = unescapeCanonical(raw)
	}
	*out = string(raw)
	return true
}

func (d *envelope) object(out *json.RawMessage) bool {
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	start, depth := d.i, 0
	for ; d.i < len(d.b); d.i++ {
		switch d.b[d.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			for d.i++; d.i < len(d.b) && d.b[d.i] != '"'; d.i++ {
				if d.b[d.i] == '\\' {
					d.i++
				}
			}
		}
		if depth == 0 {
			d.i++
			*out = append([]byte(nil), d.b[start:d.i]...)
			return true
		}
	}
	return false
}

func (d *envelope) int(out *int64) bool {
	start := d.i
	for d.i < len(d.b) && (d.b[d.i] == '-' || d.b[d.i] >= '0' && d.b[d.i] <= '9') {
		d.i++
	}
	n, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	if err != nil {
		return false
	}
	*out = n
	return true
}
