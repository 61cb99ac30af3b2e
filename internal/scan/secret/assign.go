package secret

import (
	"strings"

	"github.com/wardenhq/warden/internal/scan"
)

// nameAt reads the identifier around a trigger at [s, e) and, when it
// names a credential, the value assigned to it. It returns where the
// identifier ends, so the identifier's other triggers are skipped.
func (d *Detector) nameAt(text string, s, e int, sc *scratch) int {
	ns := s
	for ns > 0 && isNameByte(text[ns-1]) {
		if s-ns >= maxName {
			return e
		}
		ns--
	}
	ne := e
	for ne < len(text) && isNameByte(text[ne]) {
		if ne-e >= maxName {
			return ne
		}
		ne++
	}
	end := ne
	for ns < ne && (text[ns] == '.' || text[ns] == '-') {
		ns++
	}
	for ne > ns && (text[ne-1] == '.' || text[ne-1] == '-') {
		ne--
	}
	if ns >= ne {
		return end
	}
	kind := classify(text[ns:ne])
	prose := false
	if kind == kindNone && strings.EqualFold(text[ns:ne], "key") {
		// "api key is …", "access key: …": a qualifier word before a
		// bare key, in prose.
		if ws := prevWord(text, ns); ws >= 0 && words[lowerASCIIString(text[ws:ns-1])]&wQualifier != 0 {
			kind, prose = kindSecret, true
		}
	}
	if kind == kindNone {
		return end
	}
	assignment(text, ns, ne, kind, prose, sc)
	return end
}

// prevWord returns the start of the word before a single space at
// ns-1, or -1.
func prevWord(text string, ns int) int {
	if ns < 2 || text[ns-1] != ' ' {
		return -1
	}
	ws := ns - 1
	for ws > 0 && isAlnum(text[ws-1]) && ns-ws < 32 {
		ws--
	}
	if ws == ns-1 {
		return -1
	}
	return ws
}

// quoteAt returns the quote that opens at p: " ' ` or an escaped \" \'
// (a JSON document inside a string), or "".
func quoteAt(text string, p int) string {
	if p >= len(text) {
		return ""
	}
	switch text[p] {
	case '"', '\'', '`':
		return text[p : p+1]
	case '\\':
		if p+1 < len(text) && (text[p+1] == '"' || text[p+1] == '\'') {
			return text[p : p+2]
		}
	}
	return ""
}

// quoteBefore returns the quote that closes just before ns, or "".
func quoteBefore(text string, ns int) string {
	if ns == 0 {
		return ""
	}
	switch text[ns-1] {
	case '"', '\'', '`':
		if ns >= 2 && text[ns-2] == '\\' {
			return text[ns-2 : ns]
		}
		return text[ns-1 : ns]
	}
	return ""
}

func skipBlanks(text string, p int) int {
	for p < len(text) && (text[p] == ' ' || text[p] == '\t') {
		p++
	}
	return p
}

// assignment reads the operator and value after a credential's name
// text[ns:ne] and reports the value unless it is a placeholder.
func assignment(text string, ns, ne int, kind credKind, prose bool, sc *scratch) {
	p := ne
	q := quoteBefore(text, ns)
	quoted := q != "" && strings.HasPrefix(text[p:], q)
	if quoted {
		p += len(q)
	}
	strict := prose || kind == kindEnvKey
	switch {
	case !quoted && ns > 0 && text[ns-1] == '<' && p < len(text) && text[p] == '>':
		// <password>value</password>
		valueAt(text, p+1, kind, strict, '<', sc)
		return
	case !prose && !quoted && ns >= 2 && text[ns-2:ns] == "--" && p < len(text) && text[p] == ' ':
		// --password value
		if p+1 < len(text) && text[p+1] != '-' {
			valueAt(text, p+1, kind, true, 0, sc)
		}
		return
	}
	p = skipBlanks(text, p)
	op := operatorAt(text, p)
	switch {
	case op == 1 && text[p] == ':' && !quoted && p+1 < len(text) && text[p+1] != ' ' && text[p+1] != '\t' && quoteAt(text, p+1) == "":
		// name:value with neither quoted nor spaced is a coordinate or
		// a scope (io.jsonwebtoken:jjwt), not YAML or JSON.
		return
	case op > 0:
		p += op
	case quoted && p < len(text) && text[p] == ',':
		// A function's arguments: setItem('auth_token', '…').
		p++
		if quoteAt(text, skipBlanks(text, p)) == "" {
			return
		}
	case quoted && xmlKeyAttr(text, ns-len(q)) && hasPrefixFold(text[p:], "value="):
		// <add key="Password" value="…" />
		p += len("value=")
	default:
		// Prose: "the password for the admin account is: …".
		if pp := proseBridge(text, ne); pp > 0 && (kind == kindPassword || kind == kindSecret) {
			p, strict = pp, true
			break
		}
		return
	}
	p = skipBlanks(text, p)
	if kind == kindHeader {
		headerCredential(text, p, sc)
		return
	}
	valueAt(text, p, kind, strict, 0, sc)
}

// operatorAt returns the length of an assignment operator at p, or 0:
// = : := => == === ?= ||=.
func operatorAt(text string, p int) int {
	rest := text[p:min(len(text), p+3)]
	for _, op := range [...]string{"===", "||=", "==", ":=", "=>", "?=", "=", ":"} {
		if strings.HasPrefix(rest, op) {
			// Not "::" (a scope), "=~" (a match) or ":/" (a URL).
			if next := p + len(op); next < len(text) && (op == ":" && (text[next] == ':' || text[next] == '/') || op == "=" && text[next] == '~') {
				return 0
			}
			return len(op)
		}
	}
	return 0
}

// xmlKeyAttr reports whether the quote that opens at qs starts a key=
// or name= attribute's value.
func xmlKeyAttr(text string, qs int) bool {
	before := strings.ToLower(text[max(0, qs-5):qs])
	return strings.HasSuffix(before, "key=") || strings.HasSuffix(before, "name=")
}

// proseBridge finds, after a name at ne, a short run of words ending in
// ":" or " is " ("password for the db is: …", "token is …") and returns
// where the value starts, or 0. A colon wins over an earlier "is"
// ("the password is encoded in base64: …").
func proseBridge(text string, ne int) int {
	if ne >= len(text) || text[ne] != ' ' {
		return 0
	}
	is := 0
	for p := ne; p < len(text) && p-ne <= 48; p++ {
		c := text[p]
		switch {
		case c == ':' && p > ne+1:
			return p + 1
		case c == ' ':
			if is == 0 {
				for _, w := range [...]string{" is ", " was "} {
					if strings.HasPrefix(text[p:], w) {
						is = p + len(w)
					}
				}
			}
		case isAlnum(c) || c == ',' || c == '\'' || c == '-' || c == '(' || c == ')':
		default:
			return is
		}
	}
	return is
}

// valueAt reads the value that starts at p (quoted or not) and reports
// it as a credential-assignment unless it is not one. stop, when not 0,
// ends an unquoted value (the '<' of an XML element's end tag).
func valueAt(text string, p int, kind credKind, strict bool, stop byte, sc *scratch) {
	q := quoteAt(text, p)
	var vs, ve int
	if q != "" {
		vs = p + len(q)
		k := strings.Index(text[vs:min(len(text), vs+maxValue+len(q))], q)
		if k < 0 {
			return
		}
		ve = vs + k
		if strings.ContainsAny(text[vs:ve], "\r\n") {
			return
		}
	} else {
		// Python's b"…" and r"…" literals.
		if p+1 < len(text) && (text[p] == 'b' || text[p] == 'r') {
			if q2 := quoteAt(text, p+1); q2 != "" && q2[0] != '\\' {
				valueAt(text, p+1, kind, strict, stop, sc)
				return
			}
		}
		vs = p
		ve = p
		for ve < len(text) && ve-vs <= maxValue {
			c := text[ve]
			if c <= ' ' || c == stop || strings.IndexByte("\"'`,;)}][<>&|(\\", c) >= 0 {
				break
			}
			if c == '=' {
				// Padding ends a value (abc==); an = inside one
				// starts the next assignment (a=b=c).
				pad := ve
				for pad < len(text) && text[pad] == '=' {
					pad++
				}
				if pad < len(text) && text[pad] > ' ' && strings.IndexByte("\"'`,;)}]&", text[pad]) < 0 {
					break
				}
				ve = pad
				break
			}
			ve++
		}
		if vs < len(text) && strings.IndexByte("{[<(", text[vs]) >= 0 {
			return // a template or a structure, not a literal
		}
		dots := 0
		for ve > vs && (text[ve-1] == '.' || text[ve-1] == ':') {
			if text[ve-1] == '.' {
				dots++
			}
			ve-- // the end of a sentence
		}
		if dots >= 2 {
			return // cut short: "ops_eyJzaWdu..[Redacted]"
		}
		if ve < len(text) && text[ve] == '(' {
			return // a call: password = getpass()
		}
	}
	if ve-vs > maxValue || !credentialValue(text[vs:ve], kind, strict, q != "") {
		return
	}
	conf := confAssignment
	if strict {
		conf = confLoose
	}
	emit(sc, text, RuleCredentialAssignment, scan.High, conf, vs, ve, true)
}

// credentialValue decides whether a value assigned to a credential's name
// is one: long enough, not a placeholder, not a reference to code.
func credentialValue(v string, kind credKind, strict, quoted bool) bool {
	least := minSecret
	switch {
	case kind == kindEnvKey:
		least = minEnvKey
	case strict:
		least = minStrict
	case kind == kindPassword:
		least = minPassword
	}
	if len(v) < least || isPlaceholder(v) || isPublishable(v) {
		return false
	}
	if strings.ContainsAny(v, " \t") {
		return false // a sentence or a label ("Enter your password")
	}
	if onlyDigits(v) && len(v) < 12 {
		return false // a count, a port, a PIN-length number
	}
	if isPathOrURL(v) || isEmail(v) {
		return false
	}
	if !quoted && (isCodeReference(v) || isBareIdentifier(v)) {
		return false
	}
	if strict && !strongValue(v) {
		return false
	}
	return true
}

func onlyDigits(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return false
		}
	}
	return true
}

// strongValue reports a value that looks generated: letters with digits
// or symbols, or long and varied.
func strongValue(v string) bool {
	var letter, digit, symbol bool
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isLower(c) || isUpper(c):
			letter = true
		case isDigit(c):
			digit = true
		default:
			symbol = true
		}
	}
	return letter && (digit || symbol) || len(v) >= 20 && entropy(v) >= 3.5
}

// isPathOrURL reports a file path or a URL without credentials (the URL
// rule reads those).
func isPathOrURL(v string) bool {
	if strings.Contains(v, "://") {
		return true
	}
	p := v
	switch {
	case strings.HasPrefix(p, "~/"), strings.HasPrefix(p, "./"), strings.HasPrefix(p, "../"):
		return true
	case strings.HasPrefix(p, "/"):
		// /etc/secrets/token, but not base64 that starts with a slash.
		for i := 0; i < len(p); i++ {
			if c := p[i]; isUpper(c) || c == '+' || c == '=' {
				return false
			}
		}
		return strings.Count(p, "/") >= 2
	}
	return false
}

func isEmail(v string) bool {
	at := strings.IndexByte(v, '@')
	return at > 0 && strings.IndexByte(v[at+1:], '.') > 0 && !strings.ContainsAny(v, ":/")
}

// isCodeReference reports an unquoted value that names something in
// code: self.password, process.env.TOKEN, var.db_password.
func isCodeReference(v string) bool {
	if !strings.Contains(v, ".") {
		return false
	}
	for seg := range strings.SplitSeq(v, ".") {
		if seg == "" || len(seg) > 31 || !isIdentStart(seg[0]) {
			return false
		}
		for i := 1; i < len(seg); i++ {
			if c := seg[i]; !isAlnum(c) && c != '_' && c != '$' {
				return false
			}
		}
	}
	return true
}

func isIdentStart(c byte) bool { return isLower(c) || isUpper(c) || c == '_' || c == '$' }

// isBareIdentifier reports an unquoted short name of letters and
// underscores: in code, a variable (password = user_password), not a
// literal.
func isBareIdentifier(v string) bool {
	if len(v) >= 20 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isLower(c) && !isUpper(c) && c != '_' {
			return false
		}
	}
	return true
}

// memberAssignment reads a JSON member whose name says it holds a
// credential ({"password": "…"}) as an assignment of its whole value: the
// scanner hands keys and values over separately, so the textual forms
// above never see the two together.
func memberAssignment(name, value string, sc *scratch) {
	kind := classify(name)
	if kind == kindNone || kind == kindHeader {
		return
	}
	s, e := 0, len(value)
	for s < e && (value[s] == ' ' || value[s] == '\t') {
		s++
	}
	for e > s && (value[e-1] == ' ' || value[e-1] == '\t' || value[e-1] == '\n' || value[e-1] == '\r') {
		e--
	}
	if !credentialValue(value[s:e], kind, false, true) {
		return
	}
	emit(sc, value, RuleCredentialAssignment, scan.High, confAssignment, s, e, true)
}
