package secret

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Bounds of the encoded segments the detector decodes.
const (
	minBase64Run = 16      // shorter runs are words and ids, and too short to hide a key
	maxSegment   = 1 << 16 // longer runs are blobs (images, archives), not text
	pieceContext = 96      // bytes of the line kept on each side of a decoded segment
)

// segment is an encoded run of text and what it decodes to.
type segment struct {
	start, end int // the encoded bytes in the text
	decoded    string
}

// runDecoded decodes the base64 and percent-encoded segments of text and
// runs the detector again over each, in its line's context (so "password:
// <base64>" still reads as an assignment). A finding in a decoded
// segment is reported over the encoded segment's span. ranges, when not
// nil, limits the search to the parts of a piece that were decoded by
// the pass before.
func (d *Detector) runDecoded(text string, sc *scratch, depth int, ranges []window) {
	segs := findSegments(text, ranges)
	for i := 0; i < len(segs); {
		// A piece: segments whose contexts touch, with their context.
		j := i + 1
		for j < len(segs) && segs[j].start-segs[j-1].end <= 2*pieceContext {
			j++
		}
		d.scanPiece(text, segs[i:j], sc, depth)
		i = j
	}
}

// part maps a stretch of a piece back to the text.
type part struct {
	pStart, pEnd int // in the piece
	tStart, tEnd int // in the text
	decoded      bool
}

func (d *Detector) scanPiece(text string, segs []segment, sc *scratch, depth int) {
	from := contextStart(text, segs[0].start)
	to := contextEnd(text, segs[len(segs)-1].end)
	var b strings.Builder
	parts := make([]part, 0, 2*len(segs)+1)
	var decodedRanges []window
	add := func(tStart, tEnd int, s string, decoded bool) {
		p := part{pStart: b.Len(), tStart: tStart, tEnd: tEnd, decoded: decoded}
		b.WriteString(s)
		p.pEnd = b.Len()
		parts = append(parts, p)
		if decoded {
			decodedRanges = append(decodedRanges, window{p.pStart, p.pEnd})
		}
	}
	pos := from
	for _, s := range segs {
		add(pos, s.start, text[pos:s.start], false)
		add(s.start, s.end, s.decoded, true)
		pos = s.end
	}
	add(pos, to, text[pos:to], false)
	piece := b.String()

	k0 := len(sc.cands)
	d.detect(piece, sc, depth+1, decodedRanges)
	keep := k0
	for _, c := range sc.cands[k0:] {
		s, e, ok := mapSpan(parts, c.m.Start, c.m.End)
		if !ok {
			continue // wholly in the context: the text's own pass saw it
		}
		c.m.Start, c.m.End = s, e
		sc.cands[keep] = c
		keep++
	}
	sc.cands = sc.cands[:keep]
}

// mapSpan maps a span of a piece to the text; a decoded part maps to its
// whole encoded segment. ok is false when the span touches no decoded
// part.
func mapSpan(parts []part, s, e int) (ts, te int, ok bool) {
	ts, te = -1, -1
	for _, p := range parts {
		if s < p.pEnd && e > p.pStart && p.decoded {
			ok = true
		}
		if ts < 0 && s < p.pEnd {
			if p.decoded {
				ts = p.tStart
			} else {
				ts = p.tStart + (s - p.pStart)
			}
		}
		if te < 0 && e <= p.pEnd && e > p.pStart {
			if p.decoded {
				te = p.tEnd
			} else {
				te = p.tStart + (e - p.pStart)
			}
		}
	}
	return ts, te, ok && ts >= 0 && te > ts
}

// contextStart is where the context before pos begins: at most
// pieceContext bytes back, not before the line's start, on a rune start.
func contextStart(text string, pos int) int {
	s := max(0, pos-pieceContext)
	if k := strings.LastIndexByte(text[s:pos], '\n'); k >= 0 {
		s += k + 1
	}
	for s < pos && !utf8.RuneStart(text[s]) {
		s++
	}
	return s
}

// contextEnd is where the context after pos ends.
func contextEnd(text string, pos int) int {
	e := min(len(text), pos+pieceContext)
	if k := strings.IndexByte(text[pos:e], '\n'); k >= 0 {
		e = pos + k
	}
	for e > pos && e < len(text) && !utf8.RuneStart(text[e]) {
		e--
	}
	return e
}

// findSegments returns the encoded segments of text that decode to
// text, in order: percent-encoded runs first, then base64 runs outside
// them. ranges, when not nil, keeps only segments inside one of them.
func findSegments(text string, ranges []window) []segment {
	var segs []segment
	inRanges := func(s, e int) bool {
		if ranges == nil {
			return true
		}
		for _, r := range ranges {
			if s >= r.start && e <= r.end {
				return true
			}
		}
		return false
	}
	// Percent-encoding: maximal runs around each escape, never reaching
	// back into the run before.
	floor := 0
	for i := 0; i < len(text); {
		k := strings.IndexByte(text[i:], '%')
		if k < 0 {
			break
		}
		k += i
		if k+2 >= len(text) || !isHex(text[k+1]) || !isHex(text[k+2]) {
			i = k + 1
			continue
		}
		s, e := k, k
		for s > floor && !percentStop(text[s-1]) && k-s < maxSegment {
			s--
		}
		for e < len(text) && !percentStop(text[e]) && e-k < maxSegment {
			e++
		}
		i, floor = e, e
		if !inRanges(s, e) {
			continue
		}
		if dec := percentDecode(text[s:e]); dec != text[s:e] && isText(dec) {
			segs = append(segs, segment{start: s, end: e, decoded: dec})
		}
	}
	nPercent := len(segs)
	// Base64 (standard or URL alphabet, padded or not).
	var buf []byte
	for i := 0; i < len(text); {
		if base64Value[text[i]] == 0xff {
			i++
			continue
		}
		s := i
		for i < len(text) && base64Value[text[i]] != 0xff {
			i++
		}
		e := i
		for n := 0; n < 2 && i < len(text) && text[i] == '='; n++ {
			i++
		}
		if e-s < minBase64Run || e-s > maxSegment || !inRanges(s, i) {
			continue
		}
		if s > 0 && text[s-1] == '%' || overlapsSegment(segs[:nPercent], s, i) {
			continue
		}
		var ok bool
		if buf, ok = decodeBase64Text(text[s:e], buf[:0]); ok {
			segs = append(segs, segment{start: s, end: i, decoded: string(buf)})
		}
	}
	if nPercent > 0 && len(segs) > nPercent {
		slices.SortFunc(segs, func(a, b segment) int { return a.start - b.start })
	}
	return segs
}

func overlapsSegment(segs []segment, s, e int) bool {
	for _, g := range segs {
		if s < g.end && e > g.start {
			return true
		}
	}
	return false
}

// percentStop ends a percent-encoded run: a delimiter of text, of a
// query (= & ? ;) or of an assignment.
func percentStop(c byte) bool {
	return c <= ' ' || strings.IndexByte("\"'`<>()[]{}=&?;,:", c) >= 0
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// percentDecode decodes %XX escapes, leaving anything else as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

var base64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// decodeBase64Text decodes s (either alphabet, no padding) into buf and
// reports whether it is text: printable UTF-8 with no control characters
// but tab and line breaks. It stops at the first byte that is not.
func decodeBase64Text(s string, buf []byte) ([]byte, bool) {
	if len(s)%4 == 1 {
		return buf, false
	}
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		v := base64Value[s[i]]
		if v == 0xff {
			return buf, false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			c := byte(acc >> bits)
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return buf, false
			}
			buf = append(buf, c)
		}
	}
	return buf, utf8.Valid(buf) && len(buf) >= minBase64Run*3/4-2
}

// isText reports printable UTF-8 with no control characters but tab and
// line breaks.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}
