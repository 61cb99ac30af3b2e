package secret

import (
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// skeleton is a sound sketch of a regex that starts at a known place:
// a sequence of elements, each a set of bytes and a length range, such
// that every match is a run of element 1's bytes of a length in its
// range, then one of element 2's, and so on. It cannot say that a
// match exists, only that none does, and it says so fast: most keyword
// occurrences in ordinary text ("tokens": 12, key, value :=) fail it
// within a few bytes, and the regex is not run for them.
type skeleton []skelElem

type skelElem struct {
	bytes  [256]bool
	lo, hi int // bytes; hi < 0 unbounded
	// endEmpty: the element matches nothing only at the end of the text
	// ((?:[;\s]|$), gitleaks' terminator).
	endEmpty bool
}

// skelReach bounds the offsets a skeleton follows; past it, it gives up
// and answers "maybe".
const skelReach = 1024

// skeletonOf sketches re's leading elements, up to the first it cannot
// sketch (one that can consume nearly any byte). Zero-width assertions
// are left out: they only narrow the matches.
func skeletonOf(re *syntax.Regexp) skeleton {
	var k skeleton
	var walk func(re *syntax.Regexp) bool
	walk = func(re *syntax.Regexp) bool {
		switch re.Op {
		case syntax.OpConcat:
			for _, s := range re.Sub {
				if !walk(s) {
					return false
				}
			}
			return true
		case syntax.OpCapture:
			return walk(re.Sub[0])
		}
		lo, hi := minBytes(re), maxBytes(re)
		if hi == 0 {
			return true
		}
		var e skelElem
		if !alphabet(re, &e.bytes) {
			return false
		}
		e.lo, e.hi = lo, hi
		e.endEmpty = lo == 0 && emptyOnlyAtEnd(re)
		k = append(k, e)
		return true
	}
	walk(re)
	return k
}

// emptyOnlyAtEnd reports an alternation whose only empty branch is the
// end of the text: (?:[;\s]|\\n|$).
func emptyOnlyAtEnd(re *syntax.Regexp) bool {
	if re.Op != syntax.OpAlternate {
		return false
	}
	for _, s := range re.Sub {
		if s.Op != syntax.OpEndText && minBytes(s) == 0 {
			return false
		}
	}
	return true
}

// mayMatch reports whether a match of the sketched regex may start at p,
// and how many steps it took to tell. It follows the interval of offsets
// at which each element may end, widened to one interval (a superset,
// so the answer stays sound): element e may end at o+l for an offset o
// the previous one may end at, when the l bytes from o are all e's
// bytes and lo <= l <= hi.
func (k skeleton) mayMatch(text string, p int) (ok bool, cost int) {
	a, b := 0, 0 // the offsets the previous element may end at
	for i := range k {
		e := &k[i]
		want := e.hi
		if want < 0 {
			want = skelReach
		}
		lo := e.lo
		if e.endEmpty {
			lo = 1
		}
		// r is the run of e's bytes from offset o, capped at want,
		// computed from b down to a.
		r := 0
		for q := p + b; r < want && q < len(text) && e.bytes[text[q]]; q++ {
			r++
		}
		cost += r + b - a + 1
		na, nb := -1, -1
		for o := b; o >= a; o-- {
			if o < b {
				if q := p + o; q < len(text) && e.bytes[text[q]] {
					r = min(r+1, want)
				} else {
					r = 0
				}
			}
			if e.endEmpty && p+o == len(text) {
				na, nb = o, max(nb, o)
			}
			if r < lo {
				continue
			}
			na = o + lo
			nb = max(nb, o+r)
		}
		if na < 0 {
			return false, cost
		}
		if nb >= skelReach {
			return true, cost
		}
		a, b = na, nb
	}
	return true, cost
}

// alphabet adds to set every byte a match of re can consume, and reports
// false when that is every byte but a few (., [^x]), which makes the set
// useless.
func alphabet(re *syntax.Regexp, set *[256]bool) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return false
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			addRuneBytes(set, r)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					addRuneBytes(set, f)
				}
			}
		}
		return true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= 0x7f && lo <= 0x20 {
				return false // a negated class: nearly everything
			}
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				set[r] = true
			}
			if hi >= utf8.RuneSelf {
				addRuneBytes(set, utf8.RuneSelf) // any non-ASCII byte
			}
		}
		return true
	}
	for _, s := range re.Sub {
		if !alphabet(s, set) {
			return false
		}
	}
	return true
}

// addRuneBytes adds the bytes of r's encoding; for a non-ASCII rune
// every byte from 0x80 up, which covers any multi-byte rune and the
// invalid bytes a class may match as U+FFFD.
func addRuneBytes(set *[256]bool, r rune) {
	if r < utf8.RuneSelf {
		set[r] = true
		return
	}
	for b := 0x80; b < 0x100; b++ {
		set[b] = true
	}
}

// minBytes is the shortest match of re in bytes.
func minBytes(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) // each rune is at least one byte
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minBytes(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minBytes(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += minBytes(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range re.Sub {
			if m := minBytes(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}
