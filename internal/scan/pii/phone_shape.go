package pii

import "strings"

// phoneShape is what the cheap checks learned about groups a..b.
type phoneShape struct {
	start, end int  // the span, "+" and "(" included
	plus       bool // written with a country code
	trunk      int  // index of a "(0)" group to drop after a country code, or -1
	formatted  bool // more than one group
}

// shapePhone checks that groups a..b are laid out as people write phone
// numbers, not as dates, decimals, thousands, versions or SSNs.
func shapePhone(c *cluster, a, b int) (phoneShape, bool) {
	sh := phoneShape{start: c.g[a].start, end: c.g[b].end, trunk: -1, formatted: a < b}
	n := c.digits(a, b)
	if n < minPhone || n > maxPhone || b-a+1 > maxPhoneGroups {
		return sh, false
	}
	text := c.text
	open := false
	if a == 0 {
		if sh.start > 0 && text[sh.start-1] == '(' {
			sh.start--
			open = true
		}
		if sh.start > 0 && text[sh.start-1] == '+' {
			sh.start--
			sh.plus = true
		}
		if !leftClean(text, sh.start) {
			return sh, false
		}
	} else if c.sep(a) != " " {
		return sh, false
	}
	if b < c.n-1 && c.sep(b+1) != " " {
		return sh, false
	}
	// Separators: a space, hyphen or dot, and parentheses around single
	// groups of up to four digits ("(650)", "(0)"); a dot is not mixed
	// with the others.
	var plain byte
	dots, ones := 0, 0
	for k := a; k <= b; k++ {
		if k > a {
			s := c.sep(k)
			if strings.HasPrefix(s, ")") {
				if !open {
					return sh, false
				}
				open = false
				s = s[1:]
			}
			if strings.HasSuffix(s, "(") {
				if open {
					return sh, false
				}
				open = true
				s = s[:len(s)-1]
			}
			switch s {
			case "":
				if !strings.ContainsAny(c.sep(k), "()") {
					return sh, false
				}
			case " ", "-", ".":
				if s == "." {
					dots++
				}
				if plain != 0 && (s[0] == '.') != (plain == '.') {
					return sh, false
				}
				plain = s[0]
			default:
				return sh, false
			}
		}
		if open && k > a && c.size(k) > 4 {
			return sh, false
		}
		inParens := k > a && strings.HasSuffix(c.sep(k), "(")
		if c.size(k) == 1 {
			switch {
			case inParens && text[c.g[k].start] == '0' && sh.plus:
				sh.trunk = k // +41 (0)38 …
			case k == a, k == a+1 && sh.plus:
				// a country code or a trunk prefix (+1 …, 1-800-…), or a
				// one-digit area code after a country code (+81 3-…)
			default:
				ones++
			}
		}
	}
	if open || ones > 0 || c.size(b) < 2 {
		return sh, false
	}
	m := b - a + 1
	switch {
	case dots > 0 && m == 2:
		return sh, false // a decimal
	case m == 4 && dots == 3 && c.size(a) <= 3 && c.size(a+1) <= 3 && c.size(a+2) <= 3 && c.size(b) <= 3:
		return sh, false // a dotted quad
	case dots >= 2 && dots == m-1 && thousands(c, a, b):
		return sh, false
	case m == 3 && c.size(a) == 3 && c.size(a+1) == 2 && c.size(b) == 4 && plain == '-':
		return sh, false // an SSN's shape
	case hasDate(c, a, b):
		return sh, false
	}
	return sh, true
}

// thousands reports whether groups a..b read as a number with thousands
// separators: 1-3 digits, then groups of three.
func thousands(c *cluster, a, b int) bool {
	if c.size(a) > 3 {
		return false
	}
	for k := a + 1; k <= b; k++ {
		if c.size(k) != 3 {
			return false
		}
	}
	return true
}

// hasDate reports whether three groups of a..b joined by the same "-" or
// "." read as a date: YYYY-MM-DD or DD.MM.YYYY.
func hasDate(c *cluster, a, b int) bool {
	for k := a; k+2 <= b; k++ {
		s := c.sep(k + 1)
		if (s != "-" && s != ".") || c.sep(k+2) != s {
			continue
		}
		x, y, z := c.size(k), c.size(k+1), c.size(k+2)
		if (x == 4 && y <= 2 && z <= 2) || (x <= 2 && y <= 2 && z == 4) {
			return true
		}
	}
	return false
}

// extensionAt reads a phone extension that starts at end ("x123",
// " ext. 123", " extension 123") and returns where it ends, or end.
func extensionAt(text string, end int) int {
	i := end
	if i < len(text) && text[i] == ' ' {
		i++
	}
	rest := text[i:]
	var k int
	switch {
	case len(rest) > 9 && strings.EqualFold(rest[:9], "extension"):
		k = 9
	case len(rest) > 3 && strings.EqualFold(rest[:3], "ext"):
		k = 3
	case len(rest) > 1 && (rest[0] == 'x' || rest[0] == 'X'):
		k = 1
	default:
		return end
	}
	i += k
	if i < len(text) && text[i] == '.' {
		i++
	}
	if i < len(text) && (text[i] == ' ' || text[i] == ':') {
		i++
	}
	j := i
	for j < len(text) && j-i <= maxExtension && isDigit(text[j]) {
		j++
	}
	if j == i || j-i > maxExtension || !rightClean(text, j) {
		return end
	}
	return j
}

// phoneRightClean is rightClean that lets a hyphenated word follow a
// number ("555-0134-Office"): a word is not a digit that continues it.
func phoneRightClean(text string, end int) bool {
	if end+1 < len(text) && text[end] == '-' && isLetter(text[end+1]) {
		return true
	}
	return rightClean(text, end)
}
