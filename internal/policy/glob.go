package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxGlobLength bounds a glob.
const MaxGlobLength = 512

// Glob grammar (DESIGN.md section 5): a glob is a non-empty string of at
// most MaxGlobLength bytes of printable characters without spaces, in which
// '*' matches any run of characters (dots and slashes included, the empty
// run too) and '?' matches exactly one character; every other character
// matches itself. The characters [ ] { } \ are reserved and rejected, so
// that a later grammar can give them meaning without changing what an
// existing policy matches.
type glob struct {
	pattern string
	literal bool   // no wildcard: an exact match
	prefix  string // the characters before the first wildcard
}

const globReserved = `[]{}\`

func compileGlob(p string) (glob, error) {
	if p == "" {
		return glob{}, fmt.Errorf("empty glob")
	}
	if len(p) > MaxGlobLength {
		return glob{}, fmt.Errorf("glob of %d bytes, limit %d", len(p), MaxGlobLength)
	}
	if !utf8.ValidString(p) {
		return glob{}, fmt.Errorf("glob %q is not UTF-8", p)
	}
	for _, r := range p {
		if strings.ContainsRune(globReserved, r) {
			return glob{}, fmt.Errorf("glob %q uses the reserved character %q", p, r)
		}
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return glob{}, fmt.Errorf("glob %q contains a space or an unprintable character", p)
		}
	}
	i := strings.IndexAny(p, "*?")
	if i < 0 {
		return glob{pattern: p, literal: true, prefix: p}, nil
	}
	return glob{pattern: p, prefix: p[:i]}, nil
}

// match reports whether s matches the glob. It runs in O(len(s) ×
// len(pattern)) at worst and without recursion: on a mismatch it backs up
// only to the last '*'.
func (g glob) match(s string) bool {
	if g.literal {
		return s == g.pattern
	}
	if !strings.HasPrefix(s, g.prefix) {
		return false
	}
	p := g.pattern[len(g.prefix):]
	s = s[len(g.prefix):]
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				star, mark = pi, si
				pi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				pi++
				si += n
				continue
			default:
				_, n := utf8.DecodeRuneInString(p[pi:])
				if si+n <= len(s) && s[si:si+n] == p[pi:pi+n] {
					pi += n
					si += n
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last '*' take one more character and try again.
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		pi, si = star+1, mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Glob is a compiled glob of the policy grammar, for other packages that
// match names the way policies do (an agent key's principal bindings).
type Glob struct{ g glob }

// CompileGlob compiles p, or reports why it is not a glob.
func CompileGlob(p string) (Glob, error) {
	g, err := compileGlob(p)
	return Glob{g}, err
}

// Match reports whether s matches the glob.
func (g Glob) Match(s string) bool { return g.g.match(s) }

// String returns the pattern.
func (g Glob) String() string { return g.g.pattern }
