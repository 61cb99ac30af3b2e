package inject

import (
	"regexp/syntax"
	"strings"
)

// firstWords returns every first word a pattern's matches can begin
// with, or nil when there are too many to list (a starred class such as
// "[a-z]*" makes them endless). Optional whitespace counts both ways,
// so "turn off" gives "turn" and "turnoff". A trigger's whole word that
// is not among them cannot start a match: the start must end where its
// word ends (see scanView), so the regular expression need not run.
func firstWords(src string) map[string]bool {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		panic("inject: " + err.Error())
	}
	words := map[string]bool{}
	for _, s := range expand(re.Simplify(), []string{""}) {
		if s == "\x00" {
			return nil
		}
		w := s
		if i := strings.IndexFunc(s, func(r rune) bool { return symbol(byte(r)) < 0 || r >= 0x80 }); i >= 0 {
			w = s[:i]
		}
		words[w] = true
	}
	return words
}

// maxForms bounds the strings expand lists before giving up.
const maxForms = 4096

// expand appends to each prefix every string re matches (whitespace as
// "" or " "), or returns {"\x00"} when the set is endless or too large.
func expand(re *syntax.Regexp, prefixes []string) []string {
	giveUp := []string{"\x00"}
	cross := func(alts []string) []string {
		if len(prefixes)*len(alts) > maxForms {
			return giveUp
		}
		var out []string
		for _, p := range prefixes {
			for _, a := range alts {
				out = append(out, p+a)
			}
		}
		return out
	}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpBeginLine, syntax.OpEndText, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return prefixes
	case syntax.OpLiteral:
		return cross([]string{string(re.Rune)})
	case syntax.OpCharClass:
		var alts []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo > 64 {
				return giveUp
			}
			for r := lo; r <= hi; r++ {
				if r == '\t' || r == '\n' || r == '\f' || r == '\r' || r == ' ' {
					r = ' '
				}
				alts = append(alts, string(r))
			}
		}
		return cross(alts)
	case syntax.OpCapture:
		return expand(re.Sub[0], prefixes)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			prefixes = expand(sub, prefixes)
			if len(prefixes) == 1 && prefixes[0] == "\x00" {
				return giveUp
			}
		}
		return prefixes
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			x := expand(sub, prefixes)
			if len(x) == 1 && x[0] == "\x00" || len(out)+len(x) > maxForms {
				return giveUp
			}
			out = append(out, x...)
		}
		return out
	case syntax.OpQuest:
		x := expand(re.Sub[0], prefixes)
		if len(x) == 1 && x[0] == "\x00" || len(x)+len(prefixes) > maxForms {
			return giveUp
		}
		return append(x, prefixes...)
	case syntax.OpStar:
		// Optional whitespace: none or one space. Anything else is endless.
		if isSpaceClass(re.Sub[0]) {
			return cross([]string{"", " "})
		}
		return giveUp
	case syntax.OpPlus:
		if isSpaceClass(re.Sub[0]) {
			return cross([]string{" "})
		}
		return giveUp
	case syntax.OpRepeat:
		if re.Max < 0 || re.Max > 4 {
			return giveUp
		}
		out := []string{}
		cur := prefixes
		for i := 0; i <= re.Max; i++ {
			if i >= re.Min {
				out = append(out, cur...)
			}
			if i < re.Max {
				cur = expand(re.Sub[0], cur)
				if len(cur) == 1 && cur[0] == "\x00" {
					return giveUp
				}
			}
		}
		if len(out) > maxForms {
			return giveUp
		}
		return out
	}
	return giveUp
}

func isSpaceClass(re *syntax.Regexp) bool {
	if re.Op != syntax.OpCharClass {
		return false
	}
	for i := 0; i+1 < len(re.Rune); i += 2 {
		for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
			if r != '\t' && r != '\n' && r != '\f' && r != '\r' && r != ' ' && r != '\v' {
				return false
			}
		}
	}
	return true
}
