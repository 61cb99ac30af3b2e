package pii

import "github.com/wardenhq/warden/internal/scan"

// notIssuedSSNs are numbers in valid ranges that the SSA voided or that
// circulate as examples: the Woolworth wallet card, an advertising number,
// and the sequence that fills forms.
var notIssuedSSNs = map[string]bool{
	"078051120": true,
	"219099999": true,
	"123456789": true,
}

// validSSN reports whether the nine digits p could be an issued SSN: area
// not 000, 666 or 900-999, group not 00, serial not 0000, not one of
// notIssuedSSNs, not one digit repeated.
func validSSN(p []byte) bool {
	if len(p) != 9 {
		return false
	}
	for _, c := range p {
		if !isDigit(c) {
			return false
		}
	}
	area := string(p[:3])
	switch {
	case area == "000" || area == "666" || p[0] == '9':
		return false
	case p[3] == '0' && p[4] == '0':
		return false
	case string(p[5:]) == "0000":
		return false
	case notIssuedSSNs[string(p)]:
		return false
	}
	for _, c := range p[1:] {
		if c != p[0] {
			return true
		}
	}
	return false
}

// ValidSSN reports whether s, written NNN-NN-NNNN, NNN NN NNNN or as nine
// digits, could be an issued US social security number.
func ValidSSN(s string) bool {
	var p []byte
	switch len(s) {
	case 9:
		p = []byte(s)
	case 11:
		if s[3] != s[6] || (s[3] != '-' && s[3] != ' ') {
			return false
		}
		p = []byte(s[:3] + s[4:6] + s[7:])
	default:
		return false
	}
	return validSSN(p)
}

// ssnsInCluster appends the SSNs among c's free groups: NNN-NN-NNNN
// anywhere, more surely next to an SSN word; NNN NN NNNN and nine bare
// digits only next to one.
func ssnsInCluster(c *cluster, out []scan.Match) []scan.Match {
	var buf [9]byte
	for a := 0; a < c.n; a++ {
		if c.used[a] {
			continue
		}
		b, sep := a, ""
		switch {
		case a+2 < c.n && c.size(a) == 3 && c.size(a+1) == 2 && c.size(a+2) == 4 && c.free(a, a+2):
			s, ok := c.uniform(a, a+2)
			if !ok || (s != "-" && s != " ") {
				continue
			}
			b, sep = a+2, s
		case c.size(a) == 9:
		default:
			continue
		}
		if !c.bounded(a, b) || !validSSN(c.appendDigits(buf[:0], a, b)) {
			continue
		}
		start, end := c.g[a].start, c.g[b].end
		ctx := near(c.text, start, end, ssnWords)
		var conf float64
		switch {
		case sep == "-" && ctx > noContext:
			conf = 0.95
		case sep == "-":
			conf = 0.6
		case sep == " " && ctx > noContext:
			conf = 0.85
		case ctx == strongContext:
			conf = 0.8
		case ctx == weakContext:
			conf = 0.7
		default:
			continue
		}
		out = append(out, match(CategoryUSSSN, RuleUSSSN, conf, start, end))
		c.take(a, b)
		a = b
	}
	return out
}
