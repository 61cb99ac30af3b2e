package inject

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Payloads hidden in encodings are decoded and analyzed like the text
// around them; what they hold is reported on the encoded segment's span
// as "encoded-payload". Decoding never grows the text (every encoding
// here is longer than what it encodes), so the work per level is bounded
// by the input, and Options.MaxDecodeDepth bounds the levels.

// minPayload is the shortest decoded text worth analyzing; below 24
// bytes it must also hold a space (a sentence, not "admin:password").
const minPayload = 8

func (c *call) payloads() {
	s := c.text
	for _, seg := range escapeSegments(s) {
		c.decoded(seg[0], seg[1], unescape(s[seg[0]:seg[1]]))
	}
	// One pass over the runs of base64 characters finds base64, unbroken
	// hex, and hex written as byte groups ("49 67 6e", "0x49,0x67").
	for i := 0; i < len(s); {
		if !b64Byte(s[i]) {
			i++
			continue
		}
		j, hexOnly := i, true
		for j < len(s) && b64Byte(s[j]) {
			hexOnly = hexOnly && isHex(s[j])
			j++
		}
		e := j
		for e < len(s) && e-j < 2 && s[e] == '=' {
			e++
		}
		lone := i == 0 || !isAlnumByte(s[i-1])
		if lone && hexByte(s[i:j]) {
			if end, text, n := hexGroup(s, i); n >= 8 {
				c.decoded(i, end, text)
				i = end
				continue
			}
		}
		if j-i >= 16 && lone {
			if hexOnly && (j-i)%2 == 0 && e == j {
				if b, err := hex.DecodeString(s[i:j]); err == nil {
					c.decoded(i, j, string(b))
				}
			}
			if dec, ok := decodeBase64(s[i:j]); ok {
				c.decoded(i, e, dec)
			}
		}
		i = max(e, i+1)
	}
}

// hexByte reports whether w is one byte in hex: "49" or "0x49".
func hexByte(w string) bool {
	if len(w) == 4 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X') {
		w = w[2:]
	}
	return len(w) == 2 && isHex(w[0]) && isHex(w[1])
}

// hexGroup reads the byte groups starting at s[i], one separator (" ",
// ",", ":") apart, and returns where they end, their bytes and count.
func hexGroup(s string, i int) (end int, text string, n int) {
	var b []byte
	for {
		j := i
		for j < len(s) && b64Byte(s[j]) {
			j++
		}
		w := s[i:j]
		if !hexByte(w) {
			return end, string(b), n
		}
		v, _ := strconv.ParseUint(w[len(w)-2:], 16, 8)
		b = append(b, byte(v))
		n++
		end = j
		if j+1 < len(s) && strings.IndexByte(" ,:", s[j]) >= 0 && b64Byte(s[j+1]) {
			i = j + 1
			continue
		}
		return end, string(b), n
	}
}

// decoded analyzes text decoded from the segment s[start:end].
func (c *call) decoded(start, end int, text string) {
	if len(text) < minPayload || !readable(text) || (len(text) < 24 && !strings.Contains(text, " ")) {
		return
	}
	for _, h := range c.d.analyze(text, c.depth+1) {
		if !h.encoded {
			h.in = [2]int{h.start, h.end}
		}
		h.start, h.end, h.encoded, h.name = start, end, true, RuleEncoded
		c.hits = append(c.hits, h)
	}
}

// b64Bytes marks the bytes of standard and URL-safe base64.
var b64Bytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isAlnumByte(byte(c)) || c == '+' || c == '/' || c == '-' || c == '_'
	}
	return t
}()

func b64Byte(c byte) bool { return b64Bytes[c] }

// decodeBase64 decodes standard or URL-safe base64, padded or not. A run
// of one letter case only is a word or a hash, not base64 of text.
func decodeBase64(s string) (string, bool) {
	upper, lower := false, false
	for i := 0; i < len(s); i++ {
		upper = upper || (s[i] >= 'A' && s[i] <= 'Z')
		lower = lower || (s[i] >= 'a' && s[i] <= 'z')
	}
	if !upper || !lower {
		return "", false
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	s = s[:len(s)/4*4+min(len(s)%4, 3)]
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// readable reports whether decoded bytes are text: valid UTF-8, nearly
// all printable, with letters.
func readable(t string) bool {
	if !utf8.ValidString(t) {
		return false
	}
	printable, letters, n := 0, 0, 0
	for _, r := range t {
		n++
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letters++
			printable++
		case r == '\n' || r == '\t' || r == '\r' || r >= ' ' && r < 0x7f || r >= 0xa0:
			printable++
		}
	}
	return printable*100 >= n*90 && letters*2 >= n
}

// escapeSegments finds runs of words written with escapes (%49, &#73;,
// \u0049, \x49): consecutive whitespace-separated words that each hold an
// escape, three escapes at least. It returns [start, end) pairs.
func escapeSegments(s string) [][2]int {
	n := 0
	for i := 0; n < 3; i++ {
		k := strings.IndexAny(s[i:], `%&\`)
		if k < 0 {
			return nil
		}
		i += k
		if escapeAt(s, i) > 0 {
			n++
		}
	}
	var segs [][2]int
	start, end, count := -1, -1, 0
	flush := func() {
		if start >= 0 && count >= 3 {
			segs = append(segs, [2]int{start, end})
		}
		start, count = -1, 0
	}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r' {
			i++
			continue
		}
		j := i
		n := 0
		for j < len(s) && s[j] != ' ' && s[j] != '\n' && s[j] != '\t' && s[j] != '\r' {
			if l := escapeAt(s, j); l > 0 {
				n++
				j += l
				continue
			}
			j++
		}
		if n == 0 {
			flush()
		} else {
			if start < 0 {
				start = i
			}
			end, count = j, count+n
		}
		i = j
	}
	flush()
	return segs
}

// escapeAt returns the length of the escape sequence at s[i], or 0
// (also when i is at or past the end of s).
func escapeAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case '%':
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			return 3
		}
	case '&':
		j := i + 1
		if j < len(s) && s[j] == '#' {
			j++
			if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
				j++
			}
		}
		k := j
		for k < len(s) && k-j < 8 && isAlnumByte(s[k]) {
			k++
		}
		if k > j && k < len(s) && s[k] == ';' {
			if s[i+1] == '#' {
				return k + 1 - i
			}
			if _, ok := entities[s[j:k]]; ok {
				return k + 1 - i
			}
		}
	case '\\':
		if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]) {
			return 6
		}
		if i+3 < len(s) && s[i+1] == 'x' && isHex(s[i+2]) && isHex(s[i+3]) {
			return 4
		}
	}
	return 0
}

var entities = map[string]string{"lt": "<", "gt": ">", "amp": "&", "quot": `"`, "apos": "'", "nbsp": " ", "colon": ":", "sol": "/", "lpar": "(", "rpar": ")", "lsqb": "[", "rsqb": "]", "excl": "!", "num": "#", "period": ".", "comma": ",", "semi": ";", "equals": "="}

var hexBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	return t
}()

func isHex(c byte) bool { return hexBytes[c] }

// unescape decodes every escape in s; bytes from %XX and \xXX gather
// into UTF-8, \uXXXX pairs into supplementary characters.
func unescape(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		l := escapeAt(s, i)
		if l == 0 {
			b = append(b, s[i])
			i++
			continue
		}
		esc := s[i : i+l]
		switch esc[0] {
		case '%':
			v, _ := strconv.ParseUint(esc[1:], 16, 8)
			b = append(b, byte(v))
		case '&':
			if esc[1] == '#' {
				num, base := esc[2:len(esc)-1], 10
				if num != "" && (num[0] == 'x' || num[0] == 'X') {
					num, base = num[1:], 16
				}
				v, err := strconv.ParseUint(num, base, 32)
				if err != nil || v > utf8.MaxRune {
					v = utf8.RuneError
				}
				b = utf8.AppendRune(b, rune(v))
			} else {
				b = append(b, entities[esc[1:len(esc)-1]]...)
			}
		case '\\':
			v, _ := strconv.ParseUint(esc[2:], 16, 32)
			if esc[1] == 'x' {
				b = append(b, byte(v))
				break
			}
			r := rune(v)
			if r >= 0xD800 && r < 0xDC00 && escapeAt(s, i+l) == 6 && s[i+l+1] == 'u' {
				lo, _ := strconv.ParseUint(s[i+l+2:i+l+6], 16, 32)
				if lo >= 0xDC00 && lo < 0xE000 {
					r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
					l += 6
				}
			}
			b = utf8.AppendRune(b, r)
		}
		i += l
	}
	return string(b)
}
