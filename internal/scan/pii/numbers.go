package pii

import "github.com/wardenhq/warden/internal/scan"

// maxGroups bounds the digit groups of one cluster; a longer run is read
// as several clusters.
const maxGroups = 32

// A cluster is a run of digit groups joined by short separators
// ("(555) 123-4567", "4111 1111 1111 1111", "10.0.0.1"): every numeric
// value the detector knows is a contiguous range of one cluster's groups.
type cluster struct {
	text string
	n    int
	g    [maxGroups]struct{ start, end int }
	used [maxGroups]bool // taken by a finding
	// parses is what is left of the phone parses this scan may spend.
	parses int
}

// isSep marks the bytes that may join two digit groups.
func isSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'
}

// read fills c with the cluster that starts at the digit at i and returns
// its end. Separators are one to three bytes long and must be followed by
// a digit.
func (c *cluster) read(text string, i int) int {
	c.text, c.n = text, 0
	for {
		j := i
		for j < len(text) && isDigit(text[j]) {
			j++
		}
		c.g[c.n].start, c.g[c.n].end, c.used[c.n] = i, j, false
		c.n++
		if c.n == maxGroups {
			return j
		}
		k := j
		for k < len(text) && k-j < 3 && isSep(text[k]) {
			k++
		}
		if k == j || k >= len(text) || !isDigit(text[k]) {
			return j
		}
		i = k
	}
}

// sep returns the separator before group k (k >= 1).
func (c *cluster) sep(k int) string { return c.text[c.g[k-1].end:c.g[k].start] }

// size returns the number of digits in group k.
func (c *cluster) size(k int) int { return c.g[k].end - c.g[k].start }

// digits returns the number of digits in groups a..b.
func (c *cluster) digits(a, b int) int {
	n := 0
	for k := a; k <= b; k++ {
		n += c.size(k)
	}
	return n
}

// free reports whether no group of a..b is taken.
func (c *cluster) free(a, b int) bool {
	for k := a; k <= b; k++ {
		if c.used[k] {
			return false
		}
	}
	return true
}

func (c *cluster) take(a, b int) {
	for k := a; k <= b; k++ {
		c.used[k] = true
	}
}

// bounded reports whether groups a..b stand apart from the rest of the
// cluster and from the text around it: a value may start at the
// cluster's start or after a single space, and end likewise.
func (c *cluster) bounded(a, b int) bool {
	if a == 0 {
		if !leftClean(c.text, c.g[0].start) {
			return false
		}
	} else if c.sep(a) != " " {
		return false
	}
	if b == c.n-1 {
		return rightClean(c.text, c.g[b].end)
	}
	return c.sep(b+1) == " "
}

// uniform returns the separator shared by groups a..b, and whether they
// share one ("" for a single group).
func (c *cluster) uniform(a, b int) (string, bool) {
	if a == b {
		return "", true
	}
	s := c.sep(a + 1)
	for k := a + 2; k <= b; k++ {
		if c.sep(k) != s {
			return "", false
		}
	}
	return s, true
}

// appendDigits appends the digits of groups a..b to buf.
func (c *cluster) appendDigits(buf []byte, a, b int) []byte {
	for k := a; k <= b; k++ {
		buf = append(buf, c.text[c.g[k].start:c.g[k].end]...)
	}
	return buf
}

// parseBudget bounds the numbering-plan parses of one scan of n bytes.
// A parse costs microseconds; text made of phone-shaped numbers could
// otherwise cost seconds a megabyte. Past the budget a number is still
// reported next to a phone word, as phone-context.
func parseBudget(n int) int { return 64 + n/512 }

// findNumbers reads every cluster of text, and each IBAN, and appends what
// validates.
func (d *Detector) findNumbers(text string, out []scan.Match) []scan.Match {
	var c cluster
	c.parses = parseBudget(len(text))
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		if d.iban && i >= 2 && isLetter(text[i-1]) && isLetter(text[i-2]) {
			if end, ok := ibanAt(text, i-2); ok {
				out = append(out, match(CategoryIBAN, RuleIBAN, confIBAN, i-2, end))
				i = end
				continue
			}
		}
		next := c.read(text, i)
		var reach int
		out, reach = d.readCluster(&c, out)
		i = max(next, reach)
	}
	return out
}

// readCluster appends the values in c, most specific first, and returns
// how far the last of them reached (a phone extension reaches past the
// cluster).
func (d *Detector) readCluster(c *cluster, out []scan.Match) ([]scan.Match, int) {
	reach := 0
	if d.ip && c.n >= 4 {
		out = ipv4InCluster(c, out)
	}
	if c.digits(0, c.n-1) < 7 {
		return out, reach // too short for anything else
	}
	if d.card {
		out = cardsInCluster(c, out)
	}
	if d.ssn {
		out = ssnsInCluster(c, out)
	}
	if d.phone {
		out, reach = d.phonesInCluster(c, out)
	}
	return out, reach
}
