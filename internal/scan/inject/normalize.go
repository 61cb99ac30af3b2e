package inject

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalized is a text folded into the form injection patterns are
// written against, with the way back to the original's byte offsets.
//
// Text is the original with, in order: invisible characters removed
// (zero-width, bidirectional controls, soft hyphens, variation selectors;
// Unicode tag characters, which smuggle ASCII invisibly, decoded);
// compatibility forms folded (NFKD: fullwidth, mathematical alphanumerics,
// ligatures, circled letters); combining marks on Latin letters dropped
// ("ígnóré" → "ignore"); look-alike letters of other scripts folded to
// ASCII in words that mix them with Latin letters or stand among Latin
// words ("іgnоre" with Cyrillic і and о → "ignore"); everything lower
// case; typographic quotes and dashes made ASCII; spaced-out letters
// joined ("i g n o r e  a l l" → "ignore all", "i.g.n.o.r.e" → "ignore");
// and runs of fixed-width chunks joined ("igno real lpre" → "ignoreallpre").
// A word made only of look-alikes in a text of that script (Russian,
// Greek) is left alone.
//
// Leet is Text with leetspeak read as letters, byte for byte (so it
// shares Text's offsets): 0→o, 1→i, 3→e, 4→a, 5→s, 7→t, and @, $, |, !
// before a letter or digit → a, s, i, i. Because "1" may stand for "i" or
// "l", Leet also writes every "l" as "i": patterns matched against Leet
// must fold "l" to "i" too (see FoldLeet). Leet is empty when the text
// shows no leetspeak (fewer than one word in ten mixing such digits
// with letters).
type Normalized struct {
	Text        string
	Leet        string
	Obfuscation Obfuscation
	// NonLatin is set when Text holds letters of scripts other than
	// Latin after folding.
	NonLatin bool

	orig  int     // length of the original
	off   []int32 // off[i]: original offset of the character Text[i] came from; nil when Text maps 1:1
	marks []int32 // sorted Text offsets where an obfuscation was undone
	hid   [2]int  // original span from the first counted hidden character to the end of the last; {-1,-1} if none
}

// Obfuscation counts what normalization undid. Counts are of characters
// unless named otherwise.
type Obfuscation struct {
	ZeroWidth  int // invisible characters between letters (and decoded tag characters)
	Bidi       int // bidirectional control characters
	Homoglyphs int // look-alike letters folded inside Latin words or among them
	Diacritics int // combining marks dropped from Latin letters
	Spaced     int // spaced-out letters joined
	Chunked    int // fixed-width chunks joined (words)
	LeetTokens int // words mixing letters with leet digits
}

// Span maps the normalized range [start, end) of Text (or Leet) back to
// a range of the original text. The result lies on UTF-8 boundaries of a
// valid original and covers every character that produced the range,
// including characters removed inside it.
func (n *Normalized) Span(start, end int) (int, int) {
	start = min(max(start, 0), len(n.Text))
	end = min(max(end, start), len(n.Text))
	if n.off == nil {
		return start, end
	}
	if start == end {
		o := int(n.off[start])
		return o, o
	}
	last := n.off[end-1]
	j := end
	for j < len(n.Text) && n.off[j] == last {
		j++
	}
	return int(n.off[start]), int(n.off[j])
}

// Obfuscated reports whether normalization undid an obfuscation
// (hidden characters, look-alikes, spacing, chunking) inside the
// normalized range [start, end).
func (n *Normalized) Obfuscated(start, end int) bool {
	i := sort.Search(len(n.marks), func(i int) bool { return int(n.marks[i]) >= start })
	return i < len(n.marks) && int(n.marks[i]) < end
}

// HiddenSpan returns the original span from the first hidden character
// between letters (or bidirectional control) to the end of the last;
// ok is false when there is none.
func (n *Normalized) HiddenSpan() (start, end int, ok bool) {
	if n.hid[0] < 0 {
		return 0, 0, false
	}
	return n.hid[0], n.hid[1], true
}

// unit is one character on its way through normalization.
type unit struct {
	r    rune
	off  int32 // original offset of the character it came from
	mark bool  // an obfuscation was undone here
}

// Normalize folds s (see Normalized). Plain ASCII text without spaced
// letters or chunks takes a fast path that only lowers its case.
func Normalize(s string) Normalized {
	n := Normalized{orig: len(s), hid: [2]int{-1, -1}}
	if plainASCII(s) && !joinCandidate(s) {
		n.Text = lowerASCII(s)
	} else {
		n.general(s)
	}
	n.foldLeet()
	return n
}

// general runs every step of normalization.
func (n *Normalized) general(s string) {
	us := n.decompose(s)
	n.foldWords(us)
	us = n.joinSpaced(us)
	us = n.joinChunks(us)
	n.encode(us)
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerASCII lowers s (plain ASCII), returning s itself when it has no
// upper case.
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// joinCandidate reports whether joinSpaced or joinChunks could change
// plain ASCII text s; text where neither would normalizes to its lower
// case. It walks the words once: a run of words joinChunks would join is
// counted as joinChunks counts it, and at every single character that
// could begin spaced-out text, spacedRuns is asked as joinSpaced asks it.
func joinCandidate(s string) bool {
	width, count, start, prevEnd := 0, 0, 0, -1
	chunked := func() bool { // the run of count words from start would be joined
		if count < 5 {
			return false
		}
		common, repeats, prev := 0, 0, ""
		for i, k := start, 0; k < count; k++ {
			w := s[i : i+width]
			if isCommonASCII(w) {
				common++
			}
			if strings.EqualFold(prev, w) {
				repeats++
			}
			prev, i = w, i+width+1
		}
		return common*3 <= count && repeats*3 <= count
	}
	// spaced reports whether spaced-out text begins at s[i], one
	// character followed by the separator s[i+1].
	spaced := func(i int) bool {
		sep := rune(s[i+1])
		if i > 0 && (sep == ' ' && !isSpaceRune(rune(s[i-1])) || sep != ' ' && isAlnumByte(s[i-1])) {
			return false
		}
		runs, _ := spacedRuns(byteSeq(s), i, sep)
		return runs != nil
	}
	for i := 0; i < len(s); {
		if !isAlnumByte(s[i]) {
			// Any other character is a cell of text spaced with spaces.
			if i+1 < len(s) && s[i+1] == ' ' && !isSpaceRune(rune(s[i])) && spaced(i) {
				return true
			}
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isAlnumByte(s[j]) {
			j++
		}
		l := j - i
		if l == 1 && j < len(s) && sepBytes[s[j]&0x7f] && spaced(i) {
			return true
		}
		adjacent := prevEnd >= 0 && i == prevEnd+1 && s[prevEnd] == ' '
		switch {
		case count > 0 && adjacent && l == width:
			count++
		case count >= 5 && adjacent && l < width: // a shorter last chunk ends the run
			if chunked() {
				return true
			}
			count = 0
		default:
			if chunked() {
				return true
			}
			count = 0
			if l >= 3 && l <= 6 {
				width, count, start = l, 1, i
			}
		}
		prevEnd = j
		i = j
	}
	return chunked()
}

// isCommonASCII reports whether w, at most eight ASCII bytes, is a common
// English word in any case.
func isCommonASCII(w string) bool {
	var low [8]byte
	if len(w) > len(low) {
		return false
	}
	for k := 0; k < len(w); k++ {
		c := w[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[k] = c
	}
	_, ok := commonWords[string(low[:len(w)])]
	return ok
}

var alnumBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
	}
	return t
}()

func isAlnumByte(c byte) bool { return alnumBytes[c] }

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func isMark(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Me) }

// isSep reports separators that spread out letters.
func isSep(r rune) bool {
	if r < 128 {
		return sepBytes[r]
	}
	return r == '·'
}

var sepBytes = func() (t [128]bool) {
	for _, c := range " .-_*~+/" {
		t[c] = true
	}
	return t
}()

// hide records a counted hidden character at original [start, end).
func (n *Normalized) hide(start, end int) {
	if n.hid[0] < 0 {
		n.hid[0] = start
	}
	n.hid[1] = end
}

// decompose runs the per-character steps: invisible characters, NFKD
// with marks dropped from Latin letters, quotes, spaces.
func (n *Normalized) decompose(s string) []unit {
	us := make([]unit, 0, len(s))
	mark := false    // the next unit follows a removed invisible character
	latin := false   // the last unit is a letter whose marks are diacritics
	var dec [64]rune // scratch for one decomposition
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			us = append(us, unit{r: rune(c), off: int32(i), mark: mark})
			mark, latin = false, isASCIILetter(rune(c))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		o := int32(i)
		i += size
		if r >= 0xE0000 && r <= 0xE007F { // tag characters: ASCII written invisibly
			n.Obfuscation.ZeroWidth++
			n.hide(int(o), i)
			if r >= 0xE0020 && r <= 0xE007E {
				us = append(us, unit{r: r - 0xE0000, off: o, mark: true})
				latin = isASCIILetter(r - 0xE0000)
			}
			continue
		}
		switch hiddenKind(r) {
		case 1:
			next, _ := utf8.DecodeRuneInString(s[i:])
			if len(us) > 0 && isWordish(us[len(us)-1].r) && isWordish(next) &&
				(us[len(us)-1].r < utf8.RuneSelf || next < utf8.RuneSelf) {
				n.Obfuscation.ZeroWidth++
				n.hide(int(o), i)
				mark = true
			}
			continue
		case 2:
			n.Obfuscation.Bidi++
			n.hide(int(o), i)
			mark = true
			continue
		case 3:
			continue
		}
		if r == utf8.RuneError && size == 1 {
			us = append(us, unit{r: utf8.RuneError, off: o, mark: mark})
			mark, latin = false, false
			continue
		}
		if isMark(r) {
			if latin {
				n.Obfuscation.Diacritics++
				continue
			}
			us = append(us, unit{r: r, off: o})
			continue
		}
		if q, ok := quoteFold[r]; ok {
			us = append(us, unit{r: q, off: o, mark: mark})
			mark, latin = false, false
			continue
		}
		if unicode.IsSpace(r) {
			w := ' '
			if r == 0x85 || r == 0x2028 || r == 0x2029 {
				w = '\n'
			}
			us = append(us, unit{r: w, off: o, mark: mark})
			mark, latin = false, false
			continue
		}
		if x, ok := latinExtra[r]; ok {
			for j := 0; j < len(x); j++ {
				us = append(us, unit{r: rune(x[j]), off: o, mark: mark})
			}
			mark, latin = false, true
			continue
		}
		d := norm.NFKD.PropertiesString(s[o:]).Decomposition()
		if len(d) == 0 {
			_, conf := confusable[r]
			us = append(us, unit{r: r, off: o, mark: mark})
			mark, latin = false, conf
			continue
		}
		rs := dec[:0]
		for len(d) > 0 && len(rs) < len(dec) {
			x, sz := utf8.DecodeRune(d)
			rs = append(rs, x)
			d = d[sz:]
		}
		_, conf := confusable[rs[0]]
		base := rs[0] < utf8.RuneSelf || conf
		if !base {
			// Another script: keep the composed form (NFKC) so patterns of
			// that script match as written.
			for _, x := range norm.NFKC.String(string(r)) {
				us = append(us, unit{r: x, off: o, mark: mark})
				mark = false
			}
			latin = false
			continue
		}
		for j, x := range rs {
			if j > 0 && isMark(x) {
				n.Obfuscation.Diacritics++
				continue
			}
			if q, ok := quoteFold[x]; ok {
				x = q
			}
			us = append(us, unit{r: x, off: o, mark: mark})
			mark = false
		}
		latin = isASCIILetter(rs[0]) || conf
	}
	return us
}

// isWordish reports letters, digits and marks.
func isWordish(r rune) bool {
	if r < utf8.RuneSelf {
		return isAlnumByte(byte(r))
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || isMark(r)
}

// wordInfo describes the word at us[i:]: its end, whether it has ASCII
// letters, look-alikes, and letters that are neither.
func wordInfo(us []unit, i int) (end int, ascii, conf, other bool) {
	for end = i; end < len(us) && isWordish(us[end].r); end++ {
		r := us[end].r
		switch {
		case r < utf8.RuneSelf:
			ascii = ascii || isASCIILetter(r)
		case isMark(r):
		default:
			if _, ok := confusable[r]; ok {
				conf = true
			} else if unicode.IsLetter(r) {
				other = true
			}
		}
	}
	return end, ascii, conf, other
}

// foldWords folds look-alikes word by word and lowers the case.
func (n *Normalized) foldWords(us []unit) {
	prevASCII := false
	for i := 0; i < len(us); {
		if !isWordish(us[i].r) {
			us[i].r = lower(us[i].r)
			i++
			continue
		}
		end, ascii, conf, other := wordInfo(us, i)
		fold := conf && ascii
		if conf && !ascii && !other {
			// Made only of look-alikes: a disguised word among Latin
			// words, or a word of its own script among its own.
			fold = prevASCII || nextWordASCII(us, end)
		}
		for k := i; k < end; k++ {
			r := us[k].r
			if fold {
				if a, ok := confusable[r]; ok {
					us[k].r, us[k].mark = rune(a), true
					n.Obfuscation.Homoglyphs++
					continue
				}
			}
			l := lower(r)
			us[k].r = l
			if l >= utf8.RuneSelf && unicode.IsLetter(l) && !unicode.Is(unicode.Latin, l) {
				n.NonLatin = true
			}
		}
		prevASCII = ascii || fold
		i = end
	}
}

func nextWordASCII(us []unit, i int) bool {
	for i < len(us) && !isWordish(us[i].r) && us[i].r != '\n' {
		i++
	}
	if i >= len(us) || !isWordish(us[i].r) {
		return false
	}
	_, ascii, _, _ := wordInfo(us, i)
	return ascii
}

func lower(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// encode writes the units as Text with the offset map.
func (n *Normalized) encode(us []unit) {
	buf := make([]byte, 0, len(us)+8)
	off := make([]int32, 0, len(us)+9)
	for _, u := range us {
		start := len(buf)
		buf = utf8.AppendRune(buf, u.r)
		for k := start; k < len(buf); k++ {
			off = append(off, u.off)
		}
		if u.mark {
			n.marks = append(n.marks, int32(start))
		}
	}
	n.Text = string(buf)
	n.off = append(off, int32(n.orig))
}

// isLeetDigit reports digits that stand for letters.
func isLeetDigit(c byte) bool {
	switch c {
	case '0', '1', '3', '4', '5', '7':
		return true
	}
	return false
}

// FoldLeet folds a lower-case word or phrase the way Normalized.Leet
// folds text: leet digits and symbols to letters and "l" to "i". Use it
// to build words to look for in Leet.
func FoldLeet(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = leetByte(b, i, c)
	}
	return string(b)
}

func leetByte(b []byte, i int, c byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1', 'l':
		return 'i'
	case '3':
		return 'e'
	case '4':
		return 'a'
	case '5':
		return 's'
	case '7':
		return 't'
	case '@', '$', '|', '!':
		if i+1 < len(b) && isAlnumByte(b[i+1]) {
			switch c {
			case '@':
				return 'a'
			case '$':
				return 's'
			}
			return 'i'
		}
	}
	return c
}

// leetDigitBeforeLetter reports whether t has a leet digit right before a
// lower-case letter, looking only where the digits are.
func leetDigitBeforeLetter(t string) bool {
	for _, d := range []byte("013457") {
		for i := 0; ; {
			k := strings.IndexByte(t[i:], d)
			if k < 0 {
				break
			}
			i += k + 1
			if i < len(t) && t[i] >= 'a' && t[i] <= 'z' {
				return true
			}
		}
	}
	return false
}

// foldLeet sets Leet when enough words mix leet digits with letters (a
// digit standing before a letter: "r3v34l", "7h3", "4nd").
func (n *Normalized) foldLeet() {
	t := n.Text
	// Cheap look first: a leet digit before a letter.
	if !leetDigitBeforeLetter(t) {
		return
	}
	words, leet := 0, 0
	for i := 0; i < len(t); {
		if !isAlnumByte(t[i]) {
			i++
			continue
		}
		j, has := i, false
		for ; j < len(t) && isAlnumByte(t[j]); j++ {
			if j+1 < len(t) && isLeetDigit(t[j]) && t[j+1] >= 'a' && t[j+1] <= 'z' {
				has = true
			}
		}
		words++
		if has {
			leet++
		}
		i = j
	}
	n.Obfuscation.LeetTokens = leet
	if leet == 0 || leet*10 < words {
		return
	}
	b := []byte(t)
	for i, c := range b {
		if c < utf8.RuneSelf {
			b[i] = leetByte(b, i, c)
		}
	}
	n.Leet = string(b)
}
