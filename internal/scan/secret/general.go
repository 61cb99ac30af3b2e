package secret

import (
	"encoding/base64"
	"strings"

	"github.com/wardenhq/warden/internal/scan"
)

// Rule ids of the package's own context rules (see the package doc).
const (
	RuleCredentialAssignment = "credential-assignment"
	RuleURLCredentials       = "url-credentials"
	RuleAuthorizationHeader  = "authorization-header"
	RulePrivateKeyBlock      = "private-key-block"
)

// GeneralRules lists the ids of the package's own context rules.
func GeneralRules() []string {
	return []string{RuleCredentialAssignment, RuleURLCredentials, RuleAuthorizationHeader, RulePrivateKeyBlock}
}

type trigKind int

const (
	trigName   trigKind = iota // a stem of a credential's name
	trigURL                    // "://"
	trigBearer                 // "bearer"
	trigPEM                    // "-----begin"
)

// generalTriggers are the prefilter patterns of the context rules, in
// the order of generalKinds.
var (
	generalTriggers = []string{"pass", "pwd", "pswd", "secret", "token", "key", "auth", "cred", "://", "bearer", "-----begin"}
	generalKinds    = []trigKind{trigName, trigName, trigName, trigName, trigName, trigName, trigName, trigName, trigURL, trigBearer, trigPEM}
)

// Confidences of the context rules' findings.
const (
	confAssignment = 0.7
	confLoose      = 0.55 // a prose or provider-key form, which needs a strong value
	confURL        = 0.85
	confHeader     = 0.85
	confPEM        = 0.95
)

// runGeneral runs the context rules at the triggers the prefilter found.
func (d *Detector) runGeneral(text string, sc *scratch) {
	identEnd, pemEnd := -1, -1
	for _, h := range sc.hits {
		if h.pat < d.nRulePats {
			continue
		}
		t := h.pat - d.nRulePats
		s := h.end - len(generalTriggers[t])
		switch generalKinds[t] {
		case trigName:
			if s >= identEnd {
				identEnd = d.nameAt(text, s, h.end, sc)
			}
		case trigURL:
			urlCredentials(text, s, sc)
		case trigBearer:
			bearerToken(text, s, h.end, sc)
		case trigPEM:
			if s >= pemEnd {
				pemEnd = privateKeyBlock(text, s, sc)
			}
		}
	}
}

func emit(sc *scratch, text, rule, severity string, conf float64, s, e int, generic bool) {
	s, e = snapSpan(text, s, e)
	sc.cands = append(sc.cands, cand{
		m:       scan.Match{Category: scan.SecretPrefix + rule, Rule: rule, Severity: severity, Confidence: conf, Start: s, End: e},
		generic: generic,
	})
}

// urlCredentials reports the password of scheme://user:password@host,
// where sep is the offset of "://".
func urlCredentials(text string, sep int, sc *scratch) {
	// The scheme: letters, digits, + . - before "://", starting with a letter.
	s := sep
	for s > 0 && sep-s < 32 && (isAlnum(text[s-1]) || text[s-1] == '+' || text[s-1] == '.' || text[s-1] == '-') {
		s--
	}
	for s < sep && !isLower(text[s]|0x20) {
		s++
	}
	if s == sep {
		return
	}
	// The authority runs to the path, query, fragment or a delimiter.
	a := sep + 3
	e := a
	for e < len(text) && e-a < 512 {
		c := text[e]
		if c == '/' || c == '?' || c == '#' || c <= ' ' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' || c == '\\' {
			break
		}
		e++
	}
	auth := text[a:e]
	at := strings.LastIndexByte(auth, '@')
	if at <= 0 || at == len(auth)-1 {
		return
	}
	host := auth[at+1:]
	if !isAlnum(host[0]) && host[0] != '[' {
		return
	}
	user, pass, ok := strings.Cut(auth[:at], ":")
	if !ok || len(pass) < 4 || pass == user {
		return
	}
	plain := percentDecode(pass)
	if isPlaceholder(plain) || isPlaceholder(pass) {
		return
	}
	ps := a + len(user) + 1
	emit(sc, text, RuleURLCredentials, scan.High, confURL, ps, ps+len(pass), true)
}

// bearerToken reports "Bearer <token>" outside an Authorization header
// (the header form is read by the assignment rule): the token must be
// long and strong, as prose uses the word too.
func bearerToken(text string, s, e int, sc *scratch) {
	if s > 0 && isAlnum(text[s-1]) || e >= len(text) || text[e] != ' ' {
		return
	}
	ts := e + 1
	te := ts
	for te < len(text) && te-ts <= maxValue && isTokenByte(text[te]) {
		te++
	}
	v := text[ts:te]
	if len(v) < 20 || te-ts > maxValue || !strongValue(v) || isPlaceholder(v) {
		return
	}
	emit(sc, text, RuleAuthorizationHeader, scan.High, confHeader, ts, te, true)
}

// isTokenByte reports a byte of an RFC 6750 token68 (and of JWTs).
func isTokenByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

// minPEMBody is the least base64 a private key block must hold: a
// template ("-----BEGIN PRIVATE KEY-----\n...") is not a key.
const minPEMBody = 64

// privateKeyBlock reports a PEM (or OpenSSH, PGP) private key block that
// begins at s, with or without its END line (a truncated key leaks
// too); it returns where the block ends.
func privateKeyBlock(text string, s int, sc *scratch) int {
	p := s + len("-----begin")
	le := strings.Index(text[p:min(len(text), p+100)], "-----")
	if le < 0 {
		return p
	}
	label := text[p : p+le]
	if !strings.Contains(strings.ToUpper(label), "PRIVATE KEY") || strings.ContainsAny(label, "\r\n") {
		return p
	}
	p += le + 5
	body, last := 0, p
	for p < len(text) {
		c := text[p]
		switch {
		case c == '-' && hasPrefixFold(text[p:], "-----end"):
			end := p + len("-----end")
			if k := strings.Index(text[end:min(len(text), end+100)], "-----"); k >= 0 {
				last = end + k + 5
			} else {
				last = end
			}
			p = len(text) // done
			continue
		case isAlnum(c) || c == '+' || c == '/' || c == '=':
			body++
			last = p + 1
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '_' || c == '-':
		case c == '\\' && p+1 < len(text) && (text[p+1] == 'n' || text[p+1] == 'r'):
			p++ // an escaped line break, as in a key inside JSON text
		case c == ':' || c == ',':
			// Header lines: Proc-Type: 4,ENCRYPTED; DEK-Info: …
		default:
			p = len(text)
			continue
		}
		p++
	}
	if body < minPEMBody {
		return s + 1
	}
	emit(sc, text, RulePrivateKeyBlock, scan.Critical, confPEM, s, last, false)
	return last
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// headerCredential reads the credential of an Authorization header value
// that starts at p ("Bearer abc", "Basic dXNlcjpw…", or a bare token),
// reporting it.
func headerCredential(text string, p int, sc *scratch) {
	q := quoteAt(text, p)
	p += len(q)
	// An auth scheme: a word and one space.
	w := p
	for w < len(text) && w-p < 32 && (isAlnum(text[w]) || text[w] == '-') {
		w++
	}
	scheme := ""
	if w > p && w < len(text) && text[w] == ' ' {
		scheme = strings.ToLower(text[p:w])
		p = w + 1
	}
	switch {
	case scheme == "digest", strings.HasPrefix(scheme, "aws4-"), scheme == "negotiate", scheme == "ntlm":
		// Structured or challenge-response schemes carry no reusable secret
		// of their own; the format rules see any key inside them.
		return
	}
	e := p
	for e < len(text) && e-p <= maxValue {
		c := text[e]
		if c <= ' ' || c == '"' || c == '\'' || c == '`' || c == ',' || c == ';' || c == '\\' || c == '<' && e > p || c == ')' || c == '}' || c == ']' {
			break
		}
		e++
	}
	v := text[p:e]
	if len(v) < 8 || e-p > maxValue || isPlaceholder(v) || strings.IndexByte("{[<(", v[0]) >= 0 {
		return
	}
	if scheme == "basic" {
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			if _, pass, ok := strings.Cut(string(b), ":"); ok && (len(pass) < 4 || isPlaceholder(pass)) {
				return
			}
		}
	}
	emit(sc, text, RuleAuthorizationHeader, scan.High, confHeader, p, e, true)
}
