package unsafe

import "strings"

// SQL injection is recognised by the shape of a value breaking out of
// the literal it was meant to fill: a quote (or a bare number) followed
// by a tautology, a UNION SELECT, a second statement or a comment that
// cuts the rest of the query off; or a time delay placed where a value
// goes. The words "select" or "drop table" alone, in prose or in a query
// someone wrote on purpose, are not.

const ruleSQL = "sql-injection"

// sqlKeywords are the anchors of the SQL rules.
var sqlKeywords = []string{"--", "#", "/*", "union", "sleep", "waitfor", "benchmark", "dbms_pipe.receive_message",
	"dbms_lock.sleep", "load_file", "outfile", "dumpfile", "xp_cmdshell"}

func sqlInjection(k *sink, s string, h hits) {
	sqlTautologies(k, s)
	sqlComments(k, s, h)
	sqlUnions(k, s, h)
	sqlStacked(k, s)
	sqlDelays(k, s, h)
	sqlFileAccess(k, s, h)
}

// breakout reads what stands before position i (a keyword or operator
// that follows an injected value): a quote that closed the literal, or a
// number (an injection into a numeric position). It returns where that
// value starts.
func breakout(s string, i int) (start int, quoted, numeric bool) {
	j := backSpace(s, i)
	for j > 0 && s[j-1] == ')' && i-j < 8 {
		j = backSpace(s, j-1)
	}
	if j == 0 {
		return i, false, false
	}
	switch c := s[j-1]; {
	case c == '\'' || c == '"':
		// A quote glued to the keyword after it and standing after a
		// space opens a string ("Union select …" in JSON); one that
		// closes a value follows its content or is followed by a space.
		if j < len(s) && isAlnum(s[j]) && (j < 2 || !(isWord(s[j-2]) || isQuote(s[j-2]) || s[j-2] == ')')) {
			return i, false, false
		}
		return j - 1, true, false
	case isDigit(c):
		a := j - 1
		for a > 0 && isDigit(s[a-1]) {
			a--
		}
		if a > 0 && s[a-1] == '-' {
			a--
		}
		// The number must be the whole value: at the start, right after
		// "=" or a quote or "("; "> 100 UNION" is a query's own
		// comparison, "v2 union" a word.
		if a == 0 || s[a-1] == '=' || isQuote(s[a-1]) || s[a-1] == '(' {
			return a, false, true
		}
	}
	return i, false, false
}

// sqlTautologies finds "<value>' OR 'x'='x" and "1 OR 1=1".
func sqlTautologies(k *sink, s string) {
	for i := 0; i < len(s) && !k.full(ruleSQL); {
		j := strings.IndexByte(s[i:], '=')
		if j < 0 {
			return
		}
		eq := i + j
		i = eq + 1
		if eq == 0 || eq+1 >= len(s) || strings.IndexByte("=!<>:+-*/", s[eq-1]) >= 0 || s[eq+1] == '=' {
			continue
		}
		r, rEnd, ok := operandRight(s, eq+1)
		if !ok {
			continue
		}
		l, lStart, ok := operandLeft(s, eq)
		if !ok || !strings.EqualFold(l, r) {
			continue
		}
		// "or" (or "||") before the left operand, opening parentheses aside.
		o := backSpace(s, lStart)
		for o > 0 && s[o-1] == '(' {
			o = backSpace(s, o-1)
		}
		var opStart int
		switch {
		case o >= 2 && s[o-2:o] == "||":
			opStart = o - 2
		case o >= 2 && wordAt(s, o-2, "or"):
			opStart = o - 2
		default:
			continue
		}
		start, quoted, numeric := breakout(s, opStart)
		if !quoted && !numeric {
			continue
		}
		sev := sevMedium
		if quoted {
			sev = sevHigh
		}
		k.add(ruleSQL, sev, start, rEnd)
	}
}

// keywordAt reports the word w (lower case) at s[i:] with no word byte
// after it; what precedes it was checked by the caller (a separator such
// as "%20" ends in a word byte).
func keywordAt(s string, i int, w string) bool {
	e := i + len(w)
	return hasPrefixFold(s, i, w) && (e >= len(s) || !isWord(s[e]))
}

// operandRight reads a literal or identifier from i: 'x' (or an
// unclosed 'x, as the query's own quote closes it), "x", a number, a word.
func operandRight(s string, i int) (val string, end int, ok bool) {
	i = skipSpace(s, i)
	if i >= len(s) {
		return "", 0, false
	}
	if q := s[i]; q == '\'' || q == '"' {
		lim := min(len(s), i+41)
		for j := i + 1; j < lim; j++ {
			if s[j] == q {
				return s[i+1 : j], j + 1, true
			}
			if s[j] == '\n' {
				break
			}
		}
		e := wordEnd(s, i+1)
		return s[i+1 : e], e, e > i+1
	}
	e := wordEnd(s, i)
	if e == i || e-i > 40 {
		return "", 0, false
	}
	return s[i:e], e, true
}

// operandLeft reads the operand that ends just before the "=" at eq.
func operandLeft(s string, eq int) (val string, start int, ok bool) {
	j := backSpace(s, eq)
	if j == 0 {
		return "", 0, false
	}
	if q := s[j-1]; q == '\'' || q == '"' {
		lo := max(0, j-42)
		for a := j - 2; a >= lo; a-- {
			if s[a] == q {
				return s[a+1 : j-1], a, true
			}
			if s[a] == '\n' {
				break
			}
		}
		return "", 0, false
	}
	a := wordStart(s, j)
	if a == j || j-a > 40 {
		return "", 0, false
	}
	return s[a:j], a, true
}

// sqlComments finds a value that closes its literal and comments the
// rest of the query out: admin'--, x') #. The quote must be unbalanced on
// its line, which a query with an ordinary trailing comment is not.
func sqlComments(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	for _, marker := range []string{"--", "#", "/*"} {
		var par quoteParity
		for _, p := range unsafeKeys.at(h, marker) {
			if k.full(ruleSQL) {
				return
			}
			after := p + len(marker)
			if after < len(s) && !isSpace(s[after]) && !isQuote(s[after]) && s[after] != ';' {
				continue // --flag, #anchor, /*+hint
			}
			q := backSpace(s, p)
			for q > 0 && s[q-1] == ')' && p-q < 6 {
				q = backSpace(s, q-1)
			}
			if q < 2 || s[q-1] != '\'' || !isWord(s[q-2]) {
				continue
			}
			if !par.oddBefore(s, q) {
				continue
			}
			k.add(ruleSQL, sevMedium, wordStart(s, q-1), after)
		}
	}
}

// quoteParity counts single quotes on the current line up to a
// position that only moves forward, so that asking at every anchor costs
// one pass over the text in all.
type quoteParity struct {
	pos int
	odd bool
}

// oddBefore reports an odd number of single quotes between the start of
// q's line and q.
func (c *quoteParity) oddBefore(s string, q int) bool {
	for ; c.pos < q; c.pos++ {
		switch s[c.pos] {
		case '\'':
			c.odd = !c.odd
		case '\n':
			c.odd = false
		}
	}
	return c.odd
}

// sqlSep skips what injected SQL uses between keywords instead of a
// space: inline comments, "+", URL-encoded spaces. obf reports any but
// plain spaces.
func sqlSep(s string, i int) (int, bool) {
	obf := false
	for n := 0; n < 32 && i < len(s); n++ {
		switch {
		case isSpace(s[i]):
			i++
		case strings.HasPrefix(s[i:], "/*"):
			e := strings.Index(s[i+2:min(len(s), i+66)], "*/")
			if e < 0 {
				return i, obf
			}
			i += e + 4
			obf = true
		case s[i] == '+':
			i++
			obf = true
		case hasPrefixFold(s, i, "%20") || hasPrefixFold(s, i, "%09") || hasPrefixFold(s, i, "%0a") ||
			hasPrefixFold(s, i, "%0d") || hasPrefixFold(s, i, "%a0"):
			i += 3
			obf = true
		default:
			return i, obf
		}
	}
	return i, obf
}

// sqlSepBack is sqlSep backwards, for what stands before a keyword.
func sqlSepBack(s string, i int) (int, bool) {
	obf := false
	for n := 0; n < 32 && i > 0; n++ {
		switch {
		case isSpace(s[i-1]):
			i--
		case i >= 2 && s[i-2:i] == "*/":
			b := strings.LastIndex(s[max(0, i-66):i-2], "/*")
			if b < 0 {
				return i, obf
			}
			i = max(0, i-66) + b
			obf = true
		case s[i-1] == '+':
			i--
			obf = true
		case i >= 3 && s[i-3] == '%' && isHex(s[i-2]) && isHex(s[i-1]):
			i -= 3
			obf = true
		default:
			return i, obf
		}
	}
	return i, obf
}

// sqlUnions finds UNION SELECT injected after a value.
func sqlUnions(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	last := 0
	unions := unsafeKeys.at(h, "union")
	for ui, u := range unions {
		if k.full(ruleSQL) {
			return
		}
		if u < last {
			continue
		}
		i := u + 5
		if u > 0 && isWord(s[u-1]) && !(u >= 3 && s[u-3] == '%') {
			continue // "reunion", but "%20UNION" is a separator and a word
		}
		if i < len(s) && isWord(s[i]) {
			continue // "unions"
		}
		j, obf := sqlSep(s, i)
		if keywordAt(s, j, "all") || keywordAt(s, j, "distinct") {
			var o2 bool
			j, o2 = sqlSep(s, wordEnd(s, j))
			obf = obf || o2
		}
		if j == i && !(j < len(s) && s[j] == '(') {
			continue
		}
		if j < len(s) && s[j] == '(' {
			j++
		}
		if !keywordAt(s, j, "select") {
			continue
		}
		selEnd := j + 6
		b, obfBefore := sqlSepBack(s, u)
		start, quoted, numeric := breakout(s, b)
		if !quoted && !numeric {
			start = u
		}
		score := 0
		if quoted || numeric {
			score += 2
		}
		if obf || obfBefore {
			score += 2
		}
		// What the injected SELECT reads, to the end of the statement (or
		// the next UNION, so that no byte is read twice).
		end := selEnd
		stop := min(len(s), selEnd+300)
		if ui+1 < len(unions) {
			stop = max(selEnd, min(stop, unions[ui+1]))
		}
		if e := strings.IndexAny(s[selEnd:stop], ";\n"); e >= 0 {
			stop = selEnd + e
		}
		tail := s[selEnd:stop]
		if hasCommentEnd(tail) {
			score++
			end = stop
		}
		for _, w := range []string{"null", "information_schema", "password", "passwd", "@@version", "version()",
			"user()", "database()", "table_name", "column_name", "group_concat", "load_file", "sqlite_master",
			"pg_shadow", "sysobjects", "mysql.user", "all_tables"} {
			if x := indexFold(tail, 0, w); x >= 0 {
				score++
				end = max(end, selEnd+x+len(w))
				break
			}
		}
		sev := sevLow
		switch {
		case score >= 5:
			sev = sevCritical
		case score >= 2:
			sev = sevHigh
		case score == 1:
			sev = sevMedium
		}
		k.add(ruleSQL, sev, start, end)
		last = end
	}
}

// hasCommentEnd reports a comment that ends the injected statement: "--"
// or "#" followed by nothing, a space or a quote.
func hasCommentEnd(t string) bool {
	for _, m := range []string{"--", "#"} {
		if x := strings.Index(t, m); x >= 0 {
			a := x + len(m)
			if a == len(t) || isSpace(t[a]) || isQuote(t[a]) || t[a] == '-' {
				return true
			}
		}
	}
	return false
}

// stacked statements that may follow "; " and what must come next for
// it to be SQL rather than prose ("; update me", "; drop it").
var stackedSQL = []struct {
	kw          string
	next        []string // one of these words must follow; nil: any identifier
	destructive bool
}{
	{"drop", []string{"table", "database", "schema", "view", "user", "index", "procedure", "function", "login"}, true},
	{"delete", []string{"from"}, true},
	{"truncate", []string{"table"}, true},
	{"shutdown", nil, true},
	{"alter", []string{"table", "user", "database", "login", "role"}, false},
	{"insert", []string{"into"}, false},
	{"update", nil, false},
	{"create", []string{"user", "login", "table", "function", "procedure", "trigger", "database", "role"}, false},
	{"exec", nil, false},
	{"execute", nil, false},
	{"declare", nil, false},
	{"grant", []string{"all", "select", "insert", "update", "delete", "execute", "admin", "dba"}, false},
	{"waitfor", []string{"delay", "time"}, false},
}

// sqlStacked finds a second statement after a value: '; DROP TABLE.
func sqlStacked(k *sink, s string) {
	for i := 0; i < len(s) && !k.full(ruleSQL); {
		j := strings.IndexByte(s[i:], ';')
		if j < 0 {
			return
		}
		p := i + j
		i = p + 1
		w := skipSpace(s, p+1)
		we := wordEnd(s, w)
		if we == w || we-w > 8 {
			continue
		}
		for _, st := range stackedSQL {
			if !wordAt(s, w, st.kw) {
				continue
			}
			n := skipSpace(s, we)
			ok, end := false, we
			switch {
			case st.kw == "shutdown":
				ok = n >= len(s) || s[n] == ';' || strings.HasPrefix(s[n:], "--") || wordAt(s, n, "with")
			case st.kw == "update":
				// update <table> set
				t := wordEnd(s, n)
				m := skipSpace(s, t)
				ok = t > n && wordAt(s, m, "set")
				end = m + 3
			case st.kw == "exec" || st.kw == "execute":
				ok = hasPrefixFold(s, n, "xp_") || hasPrefixFold(s, n, "sp_") || hasPrefixFold(s, n, "master.")
				end = wordEnd(s, n)
			case st.kw == "declare":
				ok = n < len(s) && s[n] == '@'
				end = wordEnd(s, n+1)
			default:
				for _, nx := range st.next {
					if wordAt(s, n, nx) {
						ok, end = true, n+len(nx)
						break
					}
				}
			}
			if !ok {
				break
			}
			start, quoted, numeric := breakout(s, p)
			destructive := st.destructive || hasPrefixFold(s, n, "xp_cmdshell")
			sev := sevLow
			switch {
			case quoted && destructive:
				sev = sevCritical
			case quoted, numeric && destructive:
				sev = sevHigh
			case numeric:
				sev = sevMedium
			default:
				start = p
			}
			k.add(ruleSQL, sev, start, max(end, we))
			break
		}
	}
}

// sqlDelays finds time-based blind injection: a delay function placed
// where a value or condition goes.
func sqlDelays(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	for _, fn := range []string{"sleep", "waitfor", "benchmark", "dbms_pipe.receive_message", "dbms_lock.sleep"} {
		for _, p := range unsafeKeys.at(h, fn) {
			if k.full(ruleSQL) {
				return
			}
			e := p + len(fn)
			if e < len(s) && isWord(s[e]) {
				continue
			}
			start := p
			if p > 0 && (isAlnum(s[p-1]) || s[p-1] == '.' || s[p-1] == '_') {
				// pg_sleep is the one prefixed form; time.sleep, usleep,
				// Thread.sleep are not SQL.
				if fn == "sleep" && p >= 3 && hasPrefixFold(s, p-3, "pg_") && (p == 3 || !isWord(s[p-4])) {
					start = p - 3
				} else if !strings.HasPrefix(fn, "dbms_") {
					continue
				}
			}
			var ok bool
			switch fn {
			case "waitfor":
				n := skipSpace(s, e)
				ok = wordAt(s, n, "delay") || wordAt(s, n, "time")
				if ok {
					m := skipSpace(s, wordEnd(s, n))
					ok = m < len(s) && (s[m] == '\'' || s[m] == '"')
					e = m + 1
				}
			case "benchmark":
				n := skipSpace(s, e)
				ok = n < len(s) && s[n] == '('
				d := skipSpace(s, n+1)
				de := d
				for de < len(s) && isDigit(s[de]) {
					de++
				}
				ok = ok && de-d >= 5
				e = de
			default:
				n := skipSpace(s, e)
				ok = n < len(s) && s[n] == '('
				d := skipSpace(s, n+1)
				ok = ok && d < len(s) && (isDigit(s[d]) || s[d] == '(')
				e = d + 1
			}
			if !ok {
				continue
			}
			k.add(ruleSQL, delaySeverity(s, start), start, e)
		}
	}
}

// delaySeverity is high when what precedes the delay (on its line, a few
// dozen bytes back) is a closed literal, a statement break or a boolean
// operator; low when it stands alone, as in a query someone runs on purpose.
func delaySeverity(s string, p int) int {
	lo := max(lineStart(s, p, 48), 0)
	pre := s[lo:p]
	if strings.ContainsAny(pre, "';\"") || strings.Contains(pre, "||") || strings.Contains(pre, "&&") {
		return sevHigh
	}
	for _, w := range []string{" or ", " and ", "(select", "if(", "if (", " then ", "=", "xor"} {
		if indexFold(pre, 0, w) >= 0 {
			return sevHigh
		}
	}
	return sevLow
}

// sqlFileAccess finds SQL that reads or writes server files, or runs
// commands: LOAD_FILE('/…'), INTO OUTFILE '…', EXEC xp_cmdshell.
func sqlFileAccess(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	for _, p := range unsafeKeys.at(h, "load_file") {
		if k.full(ruleSQL) {
			return
		}
		n := skipSpace(s, p+9)
		if n < len(s) && s[n] == '(' {
			a := skipSpace(s, n+1)
			if a < len(s) && (s[a] == '\'' || s[a] == '"' || hasPrefixFold(s, a, "0x") || s[a] == '/') {
				k.add(ruleSQL, sevHigh, p, min(len(s), a+1))
			}
		}
	}
	for _, kw := range []string{"outfile", "dumpfile"} {
		for _, p := range unsafeKeys.at(h, kw) {
			if k.full(ruleSQL) {
				return
			}
			i := p + len(kw)
			b := backSpace(s, p)
			n := skipSpace(s, i)
			if b >= 4 && wordAt(s, b-4, "into") && n < len(s) && (s[n] == '\'' || s[n] == '"') {
				k.add(ruleSQL, sevHigh, b-4, n+1)
			}
		}
	}
	for _, p := range unsafeKeys.at(h, "xp_cmdshell") {
		if k.full(ruleSQL) {
			return
		}
		i := p + 11
		lo := max(0, p-24)
		e := indexFold(s[lo:p], 0, "exec")
		if e >= 0 {
			e += lo
			_, quoted, _ := breakout(s, e)
			sev := sevHigh
			if quoted || strings.IndexByte(s[lineStart(s, p, 64):p], ';') >= 0 {
				sev = sevCritical
			}
			k.add(ruleSQL, sev, e, i)
		}
	}
}
