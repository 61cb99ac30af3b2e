package watch

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The monitor reads every decision of every log, so what it takes from an
// entry is found by a walk over the entry's bytes that decodes only those
// fields and skips the rest (arguments, reasons, policy), instead of
// encoding/json, which validates and walks the whole entry twice. Any
// shape the walk does not expect makes it give up, and the caller decodes
// the entry with encoding/json: the walk is a shortcut, never the judge.
// FuzzFastDecision holds the two to the same answers.

// fastDecision is what the monitor reads of a decision entry.
type fastDecision struct {
	agent, action, decision string
	findings                []string
	spend                   int64
}

// walker walks JSON bytes; ok turns false at the first surprise.
type walker struct {
	b  []byte
	i  int
	ok bool
}

func (w *walker) fail() { w.ok = false }

func (w *walker) ws() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// expect consumes byte c after optional white space.
func (w *walker) expect(c byte) {
	w.ws()
	if !w.ok || w.i >= len(w.b) || w.b[w.i] != c {
		w.fail()
		return
	}
	w.i++
}

// peek returns the next byte after white space, or 0.
func (w *walker) peek() byte {
	w.ws()
	if w.i >= len(w.b) {
		return 0
	}
	return w.b[w.i]
}

// rawString consumes a string and returns its bytes between the quotes
// and whether it holds an escape.
func (w *walker) rawString() ([]byte, bool) {
	w.expect('"')
	if !w.ok {
		return nil, false
	}
	start, esc := w.i, false
	for w.i < len(w.b) {
		switch c := w.b[w.i]; {
		case c == '"':
			s := w.b[start:w.i]
			w.i++
			return s, esc
		case c == '\\':
			esc = true
			if w.i+1 >= len(w.b) {
				w.fail()
				return nil, false
			}
			switch w.b[w.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				w.i += 2
			case 'u':
				if w.i+6 > len(w.b) {
					w.fail()
					return nil, false
				}
				for _, h := range w.b[w.i+2 : w.i+6] {
					if !isHex(h) {
						w.fail()
						return nil, false
					}
				}
				w.i += 6
			default:
				w.fail()
				return nil, false
			}
		case c < 0x20:
			w.fail()
			return nil, false
		default:
			w.i++
		}
	}
	w.fail()
	return nil, false
}

// str consumes a string value and returns it decoded.
func (w *walker) str() string {
	raw, esc := w.rawString()
	if !w.ok {
		return ""
	}
	if !esc && utf8.Valid(raw) {
		return string(raw)
	}
	var s string
	if err := json.Unmarshal(w.b[w.i-len(raw)-2:w.i], &s); err != nil {
		w.fail()
	}
	return s
}

// skip consumes one value of any kind.
func (w *walker) skip() {
	switch w.peek() {
	case '"':
		w.rawString()
	case '{':
		w.object(func([]byte) { w.skip() })
	case '[':
		w.array(w.skip)
	default:
		start := w.i
		for w.i < len(w.b) {
			c := w.b[w.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			w.i++
		}
		if !literal(w.b[start:w.i]) {
			w.fail()
		}
	}
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// literal reports whether b is true, false, null or a JSON number.
func literal(b []byte) bool {
	switch string(b) {
	case "true", "false", "null":
		return true
	}
	return number(b)
}

// number reports whether b is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// object consumes an object, calling field for each key with the walker
// at the key's value, which field must consume.
func (w *walker) object(field func(key []byte)) {
	w.expect('{')
	if w.peek() == '}' {
		w.i++
		return
	}
	for w.ok {
		key, esc := w.rawString()
		if esc || !utf8.Valid(key) {
			// Our keys have no escapes; someone else's may mean the same.
			w.fail()
		}
		w.expect(':')
		if !w.ok {
			return
		}
		field(key)
		switch w.peek() {
		case ',':
			w.i++
		case '}':
			w.i++
			return
		default:
			w.fail()
		}
	}
}

// array consumes an array, calling elem for each element.
func (w *walker) array(elem func()) {
	w.expect('[')
	if w.peek() == ']' {
		w.i++
		return
	}
	for w.ok {
		elem()
		switch w.peek() {
		case ',':
			w.i++
		case ']':
			w.i++
			return
		default:
			w.fail()
		}
	}
}

// other handles a key the walk does not want: encoding/json matches keys
// without regard to case, so a key that differs from a wanted one only in
// case ends the walk; any other is skipped.
func (w *walker) other(key []byte, wanted ...string) {
	for _, k := range wanted {
		if bytes.EqualFold(key, []byte(k)) {
			w.fail()
			return
		}
	}
	w.skip()
}

// once reports whether a key is met for the first time: a repeated key
// is something encoding/json resolves its own way, so the walk gives up.
func once(seen *uint32, bit uint32, w *walker) {
	if *seen&bit != 0 {
		w.fail()
	}
	*seen |= bit
}

// decodeDecision reads a decision entry's fields the monitor needs, or
// reports false when the walk cannot be sure of them.
func decodeDecision(data []byte) (fastDecision, bool) {
	var d fastDecision
	w := &walker{b: data, ok: true}
	var top uint32
	w.object(func(key []byte) {
		if string(key) != "body" {
			w.other(key, "body")
			return
		}
		once(&top, 1, w)
		if w.peek() != '{' {
			w.fail()
			return
		}
		var seen uint32
		w.object(func(key []byte) {
			switch string(key) {
			case "principal":
				once(&seen, 1, w)
				d.agent = w.member("id")
			case "action":
				once(&seen, 2, w)
				d.action = w.member("type")
			case "decision":
				once(&seen, 4, w)
				if w.peek() != '"' {
					w.fail()
					return
				}
				d.decision = w.str()
			case "findings":
				once(&seen, 8, w)
				d.findings = w.categories()
			case "spend":
				once(&seen, 16, w)
				start := w.i
				w.skip()
				n, err := strconv.ParseInt(string(bytes.TrimSpace(w.b[start:w.i])), 10, 64)
				if err != nil {
					w.fail()
				}
				d.spend = n
			default:
				w.other(key, "principal", "action", "decision", "findings", "spend")
			}
		})
	})
	w.ws()
	if !w.ok || w.i != len(data) || top == 0 {
		return fastDecision{}, false
	}
	return d, true
}

// member consumes an object (or null) and returns its string field key.
func (w *walker) member(want string) string {
	if w.peek() == 'n' {
		w.skip()
		return ""
	}
	if w.peek() != '{' {
		w.fail()
		return ""
	}
	var out string
	var seen uint32
	w.object(func(key []byte) {
		if string(key) != want {
			w.other(key, want)
			return
		}
		once(&seen, 1, w)
		if w.peek() != '"' {
			w.fail()
			return
		}
		out = w.str()
	})
	return out
}

// categories consumes a findings array (or null) and returns each
// finding's category.
func (w *walker) categories() []string {
	if w.peek() == 'n' {
		w.skip()
		return nil
	}
	if w.peek() != '[' {
		w.fail()
		return nil
	}
	var out []string
	w.array(func() {
		if w.peek() != '{' {
			w.fail()
			return
		}
		cat := ""
		var seen uint32
		w.object(func(key []byte) {
			if string(key) != "category" {
				w.other(key, "category")
				return
			}
			once(&seen, 1, w)
			if w.peek() != '"' {
				w.fail()
				return
			}
			cat = w.str()
		})
		out = append(out, cat)
	})
	return out
}
