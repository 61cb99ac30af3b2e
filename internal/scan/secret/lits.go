package secret

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The syntax-tree analyses behind the plans (reach.go) and skeletons:
// finite string sets, the strings a match starts with, whether a match
// must hold a keyword, the longest match.

// prefixed reports whether every string of set starts with a keyword.
func (a *analyzer) prefixed(set []string) bool {
	for _, s := range set {
		ok := false
		for _, k := range a.keywords {
			if strings.HasPrefix(s, k) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// leading returns strings (lower-cased modulo ASCII) one of which every
// match of re starts with, and whether they are re's whole language (so
// what follows re may be appended to them). A nil set knows nothing.
func leading(re *syntax.Regexp) ([]string, bool) {
	if set := lits(re); set != nil {
		return set, true
	}
	switch re.Op {
	case syntax.OpCapture:
		return leading(re.Sub[0])
	case syntax.OpPlus:
		set, _ := leading(re.Sub[0])
		return set, false
	case syntax.OpRepeat:
		if re.Min < 1 {
			return nil, false
		}
		set, _ := leading(re.Sub[0])
		return set, false
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			set, _ := leading(s)
			if set == nil {
				return nil, false
			}
			if out = union(out, set); out == nil {
				return nil, false
			}
		}
		return out, false
	case syntax.OpConcat:
		cur := []string{""}
		for _, s := range re.Sub {
			set, whole := leading(s)
			if set == nil {
				return cur, false
			}
			next := cross(cur, set)
			if next == nil {
				return cur, false
			}
			cur = next
			if !whole {
				return cur, false
			}
		}
		return cur, true
	}
	return nil, false
}

// maxBytes is the longest match of re in bytes, -1 when unbounded.
func maxBytes(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			w := utf8.RuneLen(r)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					w = max(w, utf8.RuneLen(f))
				}
			}
			n += max(w, 1)
		}
		return n
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0
		}
		return max(utf8.RuneLen(re.Rune[len(re.Rune)-1]), 1)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture:
		return maxBytes(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		if maxBytes(re.Sub[0]) == 0 {
			return 0
		}
		return -1
	case syntax.OpQuest:
		return maxBytes(re.Sub[0])
	case syntax.OpRepeat:
		n := maxBytes(re.Sub[0])
		if n == 0 {
			return 0
		}
		if re.Max < 0 || n < 0 {
			return -1
		}
		return n * re.Max
	case syntax.OpConcat:
		total := 0
		for _, s := range re.Sub {
			n := maxBytes(s)
			if n < 0 {
				return -1
			}
			total += n
		}
		return total
	case syntax.OpAlternate:
		best := 0
		for _, s := range re.Sub {
			n := maxBytes(s)
			if n < 0 {
				return -1
			}
			best = max(best, n)
		}
		return best
	}
	return -1
}

type analyzer struct {
	keywords []string
}

// covered reports whether every string of set contains a keyword.
func (a *analyzer) covered(set []string) bool {
	for _, s := range set {
		ok := false
		for _, k := range a.keywords {
			if strings.Contains(s, k) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// must reports whether every match of re contains one of the keywords
// (compared without ASCII case).
func (a *analyzer) must(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch:
		return true
	case syntax.OpCapture:
		return a.must(re.Sub[0])
	case syntax.OpPlus:
		return a.must(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min >= 1 && a.must(re.Sub[0])
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !a.must(s) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if a.must(s) {
				return true
			}
		}
		// A keyword may straddle adjacent parts: expand runs of
		// finite parts and check every string of each run.
		sets := make([][]string, len(re.Sub))
		for i, s := range re.Sub {
			sets[i] = lits(s)
		}
		for i := range sets {
			cur := []string{""}
			for j := i; j < len(sets) && sets[j] != nil; j++ {
				cur = cross(cur, sets[j])
				if cur == nil {
					break
				}
				if a.covered(cur) {
					return true
				}
			}
		}
		return false
	}
	if set := lits(re); set != nil {
		return a.covered(set)
	}
	return false
}

// lits is the finite set of strings re matches, lower-cased modulo ASCII
// (a non-ASCII rune that folds to an ASCII letter counts as that letter),
// or nil when the set is infinite or larger than litLimit.
func lits(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpNoMatch:
		return []string{}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			b.WriteRune(foldRune(r))
		}
		return []string{b.String()}
	case syntax.OpCharClass:
		var out []string
		seen := map[rune]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo >= litLimit {
				return nil
			}
			for r := lo; r <= hi; r++ {
				f := foldRune(r)
				if !seen[f] {
					seen[f] = true
					out = append(out, string(f))
					if len(out) > litLimit {
						return nil
					}
				}
			}
		}
		return out
	case syntax.OpCapture:
		return lits(re.Sub[0])
	case syntax.OpQuest:
		s := lits(re.Sub[0])
		if s == nil {
			return nil
		}
		return union([]string{""}, s)
	case syntax.OpRepeat:
		if re.Max < 0 || re.Max > 16 {
			return nil
		}
		s := lits(re.Sub[0])
		if s == nil {
			return nil
		}
		var out []string
		cur := []string{""}
		for n := 0; n <= re.Max; n++ {
			if n >= re.Min {
				if out = union(out, cur); out == nil {
					return nil
				}
			}
			if n < re.Max {
				if cur = cross(cur, s); cur == nil {
					return nil
				}
			}
		}
		return out
	case syntax.OpConcat:
		cur := []string{""}
		for _, s := range re.Sub {
			set := lits(s)
			if set == nil {
				return nil
			}
			if cur = cross(cur, set); cur == nil {
				return nil
			}
		}
		return cur
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			set := lits(s)
			if set == nil {
				return nil
			}
			if out = union(out, set); out == nil {
				return nil
			}
		}
		return out
	}
	return nil
}

// foldRune lower-cases r modulo ASCII: an ASCII letter, or a rune whose
// case-fold orbit holds one (K, the Kelvin sign, is k), becomes the
// lower-case ASCII letter.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return rune(lowerASCII(byte(r)))
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return rune(lowerASCII(byte(f)))
		}
	}
	return unicode.ToLower(r)
}

func cross(a, b []string) []string {
	if len(a)*len(b) > litLimit {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	seen := make(map[string]bool, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if s := x + y; !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func union(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) > litLimit {
		return nil
	}
	return out
}
