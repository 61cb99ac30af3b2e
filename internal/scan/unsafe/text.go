package unsafe

import (
	"strings"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/scan"
)

// maxPerRule bounds the matches one rule reports in one string: a value
// built of a payload repeated a million times is decided by its first
// matches, and the answer stays small. Past it a rule still reports a
// match more severe than all before it (see sink.add).
const maxPerRule = 32

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// byteClass holds, for each byte, the bits below.
var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if 'a' <= b && b <= 'z' {
			t[c] |= cLower | cB64
		}
		if 'A' <= b && b <= 'Z' {
			t[c] |= cUpper | cB64
		}
		if '0' <= b && b <= '9' {
			t[c] |= cDigit | cB64
		}
		if b == '+' || b == '/' || b == '=' || b == '-' || b == '_' {
			t[c] |= cB64
		}
		if t[c]&(cLower|cUpper|cDigit) != 0 || strings.IndexByte("_.-/@:\\~%", b) >= 0 {
			t[c] |= cTok
		}
		if t[c]&cDigit != 0 || strings.IndexByte("_/@\\%", b) >= 0 {
			t[c] |= cMark
		}
		if strings.IndexByte("\"'\n.!?\xe2", b) >= 0 {
			t[c] |= cLexSpecial
		}
	}
	return t
}()

const (
	cLower = 1 << iota
	cUpper
	cDigit
	cB64        // base64, base64url or hex alphabet
	cTok        // may be part of an identifier, host, path or address
	cMark       // marks a token as an identifier: a digit, _, /, @, \, %
	cLexSpecial // quotes and sentence ends, which lex tracks
	cLetter     = cLower | cUpper
)

func isLetter(c byte) bool { return byteClass[c]&cLetter != 0 }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }
func isWord(c byte) bool   { return isAlnum(c) || c == '_' }
func isHex(c byte) bool    { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f') }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isQuote reports an ASCII quote that can open or close a string literal.
func isQuote(c byte) bool { return c == '\'' || c == '"' || c == '`' }

// hasPrefixFold reports whether s[i:] starts with p, ignoring ASCII case;
// p MUST be lower case.
func hasPrefixFold(s string, i int, p string) bool {
	if i < 0 || len(s)-i < len(p) {
		return false
	}
	for j := 0; j < len(p); j++ {
		if lower(s[i+j]) != p[j] {
			return false
		}
	}
	return true
}

// wordAt reports whether the word w (lower case) stands at s[i:], with no
// word byte on either side.
func wordAt(s string, i int, w string) bool {
	if !hasPrefixFold(s, i, w) {
		return false
	}
	if i > 0 && isWord(s[i-1]) {
		return false
	}
	e := i + len(w)
	return e >= len(s) || !isWord(s[e])
}

// indexFold returns the first index at or after from where sub (lower
// case, non-empty) occurs in s ignoring ASCII case, or -1. It costs one
// IndexByte sweep per case of sub's first byte plus a comparison per
// candidate.
func indexFold(s string, from int, sub string) int {
	if from < 0 {
		from = 0
	}
	last := len(s) - len(sub)
	a, b := sub[0], sub[0]
	if 'a' <= a && a <= 'z' {
		b = a - ('a' - 'A')
	}
	pa, pb := -1, -1
	for i := from; i <= last; {
		if pa < i {
			pa = nextByte(s, i, a)
		}
		if pb < i {
			if b == a {
				pb = pa
			} else {
				pb = nextByte(s, i, b)
			}
		}
		p := min(pa, pb)
		if p > last {
			return -1
		}
		if hasPrefixFold(s, p, sub) {
			return p
		}
		i = p + 1
	}
	return -1
}

// foldFinder finds successive occurrences of one word ignoring ASCII
// case, remembering where each case of its first byte next occurs, so
// that a scan asking at increasing positions reads the text once.
type foldFinder struct {
	sub    string // lower case
	pa, pb int
	init   bool
}

// next returns the first occurrence at or after from, or -1; from MUST
// NOT decrease between calls.
func (f *foldFinder) next(s string, from int) int {
	if !f.init {
		f.pa, f.pb, f.init = -1, -1, true
	}
	last := len(s) - len(f.sub)
	a, b := f.sub[0], f.sub[0]
	if 'a' <= a && a <= 'z' {
		b = a - ('a' - 'A')
	}
	for i := from; i <= last; {
		if f.pa < i {
			f.pa = nextByte(s, i, a)
		}
		if f.pb < i {
			if b == a {
				f.pb = f.pa
			} else {
				f.pb = nextByte(s, i, b)
			}
		}
		p := min(f.pa, f.pb)
		if p > last {
			return -1
		}
		if hasPrefixFold(s, p, f.sub) {
			return p
		}
		i = p + 1
	}
	return -1
}

func nextByte(s string, i int, c byte) int {
	if j := strings.IndexByte(s[i:], c); j >= 0 {
		return i + j
	}
	return len(s)
}

// reach bounds how far the helpers below walk from where they start:
// every rule looks at a bounded neighbourhood of its anchor, which keeps
// a detector linear however the text repeats.
const reach = 256

// skipSpace returns the first index at or after i that is not a space.
func skipSpace(s string, i int) int {
	lim := min(len(s), i+reach)
	for i < lim && isSpace(s[i]) {
		i++
	}
	return i
}

// backSpace returns the index just after the last non-space byte before i.
func backSpace(s string, i int) int {
	lim := max(0, i-reach)
	for i > lim && isSpace(s[i-1]) {
		i--
	}
	return i
}

// wordEnd returns the end of the run of word bytes starting at i.
func wordEnd(s string, i int) int {
	lim := min(len(s), i+reach)
	for i < lim && isWord(s[i]) {
		i++
	}
	return i
}

// wordStart returns the start of the run of word bytes ending at i.
func wordStart(s string, i int) int {
	lim := max(0, i-reach)
	for i > lim && isWord(s[i-1]) {
		i--
	}
	return i
}

// lineStart and lineEnd bound the line holding i, looking at most limit
// bytes away (a detector never walks a whole long line per anchor).
func lineStart(s string, i, limit int) int {
	lo := max(0, i-limit)
	if j := strings.LastIndexByte(s[lo:i], '\n'); j >= 0 {
		return lo + j + 1
	}
	return lo
}

func lineEnd(s string, i, limit int) int {
	hi := min(len(s), i+limit)
	if j := strings.IndexByte(s[i:hi], '\n'); j >= 0 {
		return i + j
	}
	return hi
}

// severities, indexed by rank.
var sevName = [...]string{"", scan.Low, scan.Medium, scan.High, scan.Critical}

const (
	sevNone = iota
	sevLow
	sevMedium
	sevHigh
	sevCritical
)

// confidence is the default confidence of a match of a given severity:
// the more a rule needed to see before reporting high, the surer it is.
var confidence = [...]float64{0, 0.4, 0.6, 0.8, 0.9}

// sink collects one detector's matches for one string: it snaps spans
// onto rune boundaries, bounds each rule's matches and applies the
// provenance's severity shift.
type sink struct {
	text     string
	category string
	shift    int // subtracted from every severity (an output is data, not a call)
	out      []Match
	rules    map[string]*ruleCount
}

// ruleCount is what one rule reported in this string.
type ruleCount struct {
	n   int
	top int // highest severity reported
}

// Match is scan.Match; the alias keeps signatures short.
type Match = scan.Match

// add records a match. Past maxPerRule matches of a rule, only a match
// more severe than all before it is kept: the answer stays small and
// padding a text with mild matches cannot hide a severe one.
func (k *sink) add(rule string, sev, start, end int) {
	sev -= k.shift
	if sev < sevLow {
		return
	}
	sev = min(sev, sevCritical)
	start, end = snap(k.text, start, end)
	if start >= end {
		return
	}
	if k.rules == nil {
		k.rules = map[string]*ruleCount{}
	}
	rc := k.rules[rule]
	if rc == nil {
		rc = &ruleCount{}
		k.rules[rule] = rc
	}
	if rc.n >= maxPerRule && sev <= rc.top {
		return
	}
	rc.n++
	rc.top = max(rc.top, sev)
	k.out = append(k.out, Match{Category: k.category, Rule: rule, Severity: sevName[sev],
		Confidence: confidence[sev], Start: start, End: end})
}

// full reports whether rule can report nothing more: it has all the
// matches it may keep, and the most severe possible among them.
func (k *sink) full(rule string) bool {
	rc := k.rules[rule]
	return rc != nil && rc.n >= maxPerRule && rc.top >= sevCritical-k.shift
}

// snap clamps [start, end) into s and widens it onto rune boundaries.
func snap(s string, start, end int) (int, int) {
	start = max(0, start)
	end = min(len(s), end)
	for start > 0 && start < len(s) && !utf8.RuneStart(s[start]) {
		start--
	}
	for end < len(s) && end > 0 && !utf8.RuneStart(s[end]) {
		end++
	}
	return start, end
}
