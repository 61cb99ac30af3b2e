package secret

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A rule's plan says how little of the text its regex must read to find
// every match a scan of the whole text would find, and the same match.
// Three plans, from the cheapest:
//
//   - led: every match starts with a keyword, after at most a bounded
//     lazy run of one character class (gitleaks' "[\w.-]{0,50}?"
//     template). The regex's rest is tried, anchored, at each keyword
//     occurrence in order, with one rune of context before it for \b;
//     the match's start is then found by walking back over the lazy run,
//     not past the previous match. That is leftmost-first matching, as
//     FindAll does it, restricted to the only places a match can start.
//   - windowed: every match contains a keyword and matches at most
//     maxLen bytes; the regex runs on windows of that reach (plus a
//     margin for \b, ^ and $) around the keyword occurrences, merged.
//   - full: the regex runs over the whole text, as gitleaks runs it.
//
// The proofs come from the regex's syntax tree (lits, leading, must);
// keywords are compared modulo ASCII case, as the prefilter finds them.
type plan int

const (
	planFull plan = iota
	planWindowed
	planLed
)

type reach struct {
	plan   plan
	maxLen int // planWindowed: the longest match in bytes

	// planLed.
	prefix  []lazyRun      // the lazy runs before the rest, in order
	led     *regexp.Regexp // ^(?:rest), for a keyword at the text's start
	ledCtx  *regexp.Regexp // ^(?s:.)(?:rest): one rune of context first
	rest    *regexp.Regexp // the rest, unanchored: for the fallback
	restMax int            // the rest's longest match in bytes, -1 unbounded
	// skel is a sound sketch of the rest (see skeleton): a keyword
	// occurrence it rejects cannot start a match.
	skel skeleton
	// alpha, when not nil, holds every byte a match of the rest can
	// consume: no match reaches past the first byte outside it, so the
	// regex need not read further (and Go's regexp, given a short input,
	// picks its faster backtracking matcher).
	alpha *[256]bool
}

// lazyRun is a leading lazy repeat of a character class: [\w.-]{0,50}?.
type lazyRun struct {
	class []rune // sorted ranges, as in syntax.Regexp.Rune
	max   int    // in runes
}

func (l *lazyRun) has(r rune) bool {
	for i := 0; i+1 < len(l.class); i += 2 {
		if r < l.class[i] {
			return false
		}
		if r <= l.class[i+1] {
			return true
		}
	}
	return false
}

// matchStart is where a led match whose rest starts at p starts: the
// lazy runs, walked back from p, end there, but not before the previous
// match's end.
func (r *reach) matchStart(text string, p, lastEnd int) int {
	s := p
	for k := len(r.prefix) - 1; k >= 0; k-- {
		run := &r.prefix[k]
		for n := 0; n < run.max && s > lastEnd; n++ {
			c, size := utf8.DecodeLastRuneInString(text[lastEnd:s])
			if !run.has(c) {
				break
			}
			s -= size
		}
	}
	return s
}

// litLimit bounds the finite string sets the analysis expands.
const litLimit = 256

// maxWindowReach caps the reach of a windowed rule: a rule that can
// match more is cheaper run over the whole text.
const maxWindowReach = 4096

func analyze(pattern string, keywords []string) reach {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil || len(keywords) == 0 {
		return reach{}
	}
	kws := make([]string, 0, len(keywords))
	for _, k := range keywords {
		if k = strings.ToLower(k); k != "" {
			kws = append(kws, k)
		}
	}
	if len(kws) == 0 {
		return reach{}
	}
	a := analyzer{keywords: kws}
	if r, ok := a.ledPlan(re); ok {
		return r
	}
	n := maxBytes(re)
	if n < 0 || n > maxWindowReach || !a.must(re) {
		return reach{}
	}
	return reach{plan: planWindowed, maxLen: n}
}

// ledPlan splits re into leading lazy runs and a rest that starts with a
// keyword in every match.
func (a *analyzer) ledPlan(re *syntax.Regexp) (reach, bool) {
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var prefix []lazyRun
	k := 0
	for ; k < len(subs); k++ {
		s := subs[k]
		if s.Op != syntax.OpRepeat || s.Flags&syntax.NonGreedy == 0 || s.Min != 0 || s.Max < 1 || s.Sub[0].Op != syntax.OpCharClass {
			break
		}
		run := lazyRun{class: s.Sub[0].Rune, max: s.Max}
		// The backward walk that finds a match's start is greedy from
		// the last run to the first, which finds the earliest start
		// only when each class holds the one before it.
		if n := len(prefix); n > 0 && !classWithin(prefix[n-1].class, run.class) {
			return reach{}, false
		}
		prefix = append(prefix, run)
	}
	if k == len(subs) {
		return reach{}, false
	}
	rest := &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: subs[k:]}
	if len(subs[k:]) == 1 {
		rest = subs[k]
	}
	set, _ := leading(rest)
	if len(set) == 0 || !a.prefixed(set) {
		return reach{}, false
	}
	src := rest.String()
	led, err1 := regexp.Compile(`^(?:` + src + `)`)
	ledCtx, err2 := regexp.Compile(`^(?s:.)(?:` + src + `)`)
	restRe, err3 := regexp.Compile(src)
	if err1 != nil || err2 != nil || err3 != nil || led.NumSubexp() != ledCtx.NumSubexp() || restRe.NumSubexp() != led.NumSubexp() {
		return reach{}, false
	}
	r := reach{plan: planLed, prefix: prefix, led: led, ledCtx: ledCtx, rest: restRe, restMax: maxBytes(rest)}
	r.skel = skeletonOf(rest)
	var alpha [256]bool
	if alphabet(rest, &alpha) {
		r.alpha = &alpha
	}
	return r, true
}

// classWithin reports whether every range of a lies inside one range
// of b (both sorted and merged, as the parser leaves them).
func classWithin(a, b []rune) bool {
	for i := 0; i+1 < len(a); i += 2 {
		ok := false
		for j := 0; j+1 < len(b); j += 2 {
			if b[j] <= a[i] && a[i+1] <= b[j+1] {
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
