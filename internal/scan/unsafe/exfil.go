package unsafe

import (
	"slices"
	"strings"

	"github.com/wardenhq/warden/internal/scan"
)

// Exfiltration finds data on its way out and orders to send it
// (category scan.Exfiltration): data carried in an outbound URL's query
// or path, markdown or HTML images whose URL carries data (rendering the
// image sends it), known collection services (request catchers,
// out-of-band servers, tunnels, paste sites, disposable mail), data
// encoded into DNS labels, large encoded blobs in arguments, and
// instructions in natural language to send the conversation, the system
// prompt, credentials or bulk user data to an outside address, or to leak
// the system prompt through a covert channel (one letter per answer,
// invisible characters).
//
// It reads every provenance: an argument is data leaving, an output may
// carry an indirect instruction or an image for the client to render, a
// tool description may carry an instruction. Blobs are reported only in
// arguments: outputs carry file contents as a matter of course.
type Exfiltration struct{}

var _ scan.Detector = (*Exfiltration)(nil)

// NewExfiltration returns the exfiltration detector.
func NewExfiltration() *Exfiltration { return &Exfiltration{} }

// Name implements scan.Detector.
func (*Exfiltration) Name() string { return "exfiltration" }

const (
	ruleURLData     = "exfil-url-data"
	ruleImage       = "exfil-markdown-image"
	ruleDestination = "exfil-destination"
	ruleDNS         = "exfil-dns"
	ruleBlob        = "exfil-blob"
	ruleInstruction = "exfil-instruction"
	ruleCovert      = "exfil-covert-channel"
)

// Detect implements scan.Detector.
func (*Exfiltration) Detect(in scan.Input, out []scan.Match) []scan.Match {
	if in.Text == "" {
		return out
	}
	s := in.Text
	x := exfilScan{s: s, k: sink{text: s, category: scan.Exfiltration, out: out}}
	lx := lex(s)
	x.urls()
	x.images()
	x.emails()
	x.hosts()
	if in.Provenance == scan.Argument && !in.InKey {
		x.blobs(lx.runs)
	}
	x.language(&lx)
	return x.k.out
}

// exfilScan is one string's scan state.
type exfilScan struct {
	s     string
	k     sink
	spans [][2]int // spans of the URLs read, in order
	dests []int    // positions of concrete outside destinations
	// substs are the command and template substitutions, read on demand.
	substs [][2]int
	// destsOnly collects URL spans and destinations without grading them.
	destsOnly bool
}

// outbound reports a host that is a public destination (not an internal
// name, not an address of this network, not a bare word).
func outbound(host string) bool {
	return strings.IndexByte(host, '.') > 0 && classifyHost(host).kind == hostPublic
}

// urls reads every URL for data and destinations.
func (x *exfilScan) urls() {
	s := x.s
	for i := 0; i < len(s); {
		u, next, ok := nextURL(s, i)
		if !ok {
			break
		}
		i = next
		x.spans = append(x.spans, [2]int{u.start, u.end})
		switch u.scheme {
		case "http", "https", "ws", "wss", "ftp", "ftps":
		default:
			continue
		}
		if !outbound(u.host) {
			continue
		}
		x.dests = append(x.dests, u.start)
		if x.destsOnly {
			continue
		}
		dest := exfilDestination(u.host) || exfilPath(u.host, u.path)
		sev := urlData(u)
		if dest && sev > sevNone {
			sev = min(sevCritical, sev+1)
		}
		if sev > sevNone {
			x.k.add(ruleURLData, sev, u.start, u.end)
		}
		if dest {
			x.k.add(ruleDestination, sevMedium, u.start, u.end)
		}
	}
}

// urlData grades the data a URL carries in its query and path.
func urlData(u urlRef) int {
	best := sevNone
	queryParams(u.query, func(name, value string) bool {
		best = max(best, valueData(unescape(name), unescape(value)))
		return best < sevHigh
	})
	if best < sevHigh {
		for _, seg := range strings.Split(u.path, "/") {
			if seg == "" {
				continue
			}
			best = max(best, valueData("", unescapePath(seg)))
		}
	}
	return best
}

// secretParams are query names that carry credentials.
var secretParams = map[string]bool{"token": true, "access_token": true, "api_key": true, "apikey": true, "key": true,
	"secret": true, "password": true, "passwd": true, "pwd": true, "pass": true, "session": true, "sessionid": true,
	"sid": true, "auth": true, "authorization": true, "credential": true, "credentials": true, "cookie": true,
	"jwt": true, "bearer": true, "private_key": true, "client_secret": true, "refresh_token": true, "id_token": true}

func isSecretParam(name string) bool {
	if len(name) > 16 {
		return false
	}
	var buf [16]byte
	for i := 0; i < len(name); i++ {
		buf[i] = lower(name[i])
	}
	return secretParams[string(buf[:len(name)])]
}

// valueData grades one query value or path segment (decoded).
func valueData(name, v string) int {
	if v == "" {
		return sevNone
	}
	if ph, sev := placeholder(v); ph {
		return sev
	}
	sev := sevNone
	if len(v) >= 8 && isSecretParam(name) {
		sev = sevLow
		if randomToken(v, 16) {
			sev = sevMedium
		}
	}
	if len(v) >= 24 && isEncodedAlphabet(v) {
		if t, ok := decodedText(v); ok {
			sev = max(sev, sevMedium)
			if len(t) >= 48 || hasSecretMarker(t) {
				sev = sevHigh
			}
		} else if randomToken(v, 32) {
			sev = max(sev, sevLow)
		}
	}
	if len(v) >= 256 {
		sev = max(sev, sevMedium)
	}
	return sev
}

// placeholder reports a template slot where data is to be put (${x},
// {{x}}, [INSERT_X_HERE], <x>, FULL_TRANSCRIPT) and grades it by what it
// names: the model's conversation or prompt (high), a secret (medium),
// generic data (low; medium when it asks to be filled). A slot owned by
// the reader ("YOUR_API_KEY") is documentation, not a request.
func placeholder(v string) (bool, int) {
	if len(v) > 512 {
		return false, sevNone
	}
	inner := ""
	switch {
	case strings.HasPrefix(v, "${") || strings.HasPrefix(v, "{{") || strings.HasPrefix(v, "$("):
		inner = v[2:]
	case len(v) > 2 && (v[0] == '{' || v[0] == '[' || v[0] == '<'):
		inner = v[1:]
	case v == "%s" || v == "%v":
		return true, sevLow
	case isCapsPlaceholder(v):
		inner = v
	default:
		return false, sevNone
	}
	var cls uint64
	prev := uint64(0)
	forWords(inner, func(_, _ int, c uint64) {
		if c&wPrompt != 0 && prev&(wQualM|wQuant) != 0 {
			c |= wModel
		}
		if c&wSecretS != 0 && prev&wQualS != 0 {
			c |= wSecret
		}
		cls |= c
		prev = c
	})
	switch {
	case cls&wModel != 0:
		return true, sevHigh
	case cls&wYour != 0:
		return true, sevNone
	case cls&(wSecret|wSecretS) != 0:
		return true, sevMedium
	case cls&(wGeneric|wData|wPrompt) != 0 && cls&wFill != 0:
		return true, sevMedium
	case cls&(wGeneric|wData|wPrompt) != 0:
		return true, sevLow
	}
	return true, sevNone
}

// isCapsPlaceholder reports SHOUTED_SNAKE_CASE of at least two words.
func isCapsPlaceholder(v string) bool {
	if len(v) < 5 || strings.IndexByte(v, '_') < 0 {
		return false
	}
	letters := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'A' <= c && c <= 'Z':
			letters++
		case c == '_' || isDigit(c):
		default:
			return false
		}
	}
	return letters >= 4 && v[0] != '_'
}

// images reads markdown and HTML images: a client renders them, and the
// fetch sends whatever the URL carries to the image's host.
func (x *exfilScan) images() {
	s := x.s
	next := 0 // the next "](" at or after the last image start
	for i := 0; i < len(s) && !x.k.full(ruleImage); {
		p := strings.Index(s[i:], "![")
		if p < 0 {
			break
		}
		p += i
		i = p + 2
		if next < i {
			next = i
			if q := strings.Index(s[i:], "]("); q >= 0 {
				next = i + q
			} else {
				next = len(s)
			}
		}
		if next-p > 1024 || next >= len(s) {
			continue
		}
		i = max(i, x.image(p, skipSpace(s, next+2)))
	}
	src := 0 // the next "src=" at or after the last <img
	imgs, srcs := foldFinder{sub: "<img"}, foldFinder{sub: "src="}
	for i := 0; i < len(s) && !x.k.full(ruleImage); {
		p := imgs.next(s, i)
		if p < 0 {
			break
		}
		i = p + 4
		if src < i {
			src = srcs.next(s, i)
			if src < 0 {
				break
			}
		}
		if src-p > 512 {
			continue
		}
		a := src + 4
		if a < len(s) && (s[a] == '"' || s[a] == '\'') {
			a++
		}
		i = max(i, x.image(p, a))
	}
}

// image grades the image at p whose URL starts at a; it returns where
// what it read ends.
func (x *exfilScan) image(p, a int) int {
	s := x.s
	var u urlRef
	var ok bool
	if strings.HasPrefix(s[a:], "//") {
		// protocol-relative: read it as https
		u, ok = urlAt("https:"+s[a:min(len(s), a+maxURL)], 0)
		u.start, u.end = a, a+u.end-6
	} else {
		u, ok = urlAt(s, a)
	}
	if !ok {
		return a
	}
	if !outbound(u.host) {
		return u.end
	}
	end := u.end
	if end < len(s) && s[end] == ')' {
		end++
	}
	sev := urlData(u)
	switch {
	case sev >= sevMedium:
		sev = sevHigh
	case sev == sevLow:
		sev = sevMedium
	case substantialQuery(u.query):
		sev = sevMedium
	}
	if exfilDestination(u.host) {
		sev = max(sev, sevMedium)
	}
	if sev > sevNone {
		x.k.add(ruleImage, sev, p, end)
	}
	return end
}

// substantialQuery reports a query that carries more than display
// options: a value of 16 bytes or more.
func substantialQuery(q string) bool {
	long := false
	queryParams(q, func(_, v string) bool {
		long = len(unescape(v)) >= 16
		return !long
	})
	return long
}

// emails reads e-mail addresses: destinations, and disposable ones.
func (x *exfilScan) emails() {
	s := x.s
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '@')
		if j < 0 {
			break
		}
		p := i + j
		i = p + 1
		a := p
		for a > 0 && p-a < 64 && (isAlnum(s[a-1]) || strings.IndexByte("._%+-", s[a-1]) >= 0) {
			a--
		}
		b := p + 1
		for b < len(s) && b-p < 254 && (isAlnum(s[b]) || s[b] == '.' || s[b] == '-') {
			b++
		}
		for b > p+1 && s[b-1] == '.' {
			b--
		}
		if a == p || b == p+1 || a >= 3 && s[a-3:a] == "://" {
			continue
		}
		dom := s[p+1 : b]
		dot := strings.LastIndexByte(dom, '.')
		if dot <= 0 || len(dom)-dot-1 < 2 || !isLetter(dom[len(dom)-1]) {
			continue
		}
		i = b
		if inSpans(x.spans, a) {
			continue
		}
		x.dests = append(x.dests, a)
		if exfilDestination(dom) {
			x.k.add(ruleDestination, sevMedium, a, b)
		}
	}
}

func isHostByte(c byte) bool { return isAlnum(c) || c == '-' || c == '.' || c == '_' }

// hosts reads host names written without a scheme: known destinations,
// data encoded into DNS labels, and a command or template substitution
// prefixed to a domain ($(cat f | base64).x.example, ${data}.x.example),
// which sends what it expands to in a DNS lookup.
func (x *exfilScan) hosts() {
	s := x.s
	prevEnd := 0 // no token starts before the end of the last one read
	si := 0      // the first URL span that does not end before i
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '.')
		if j < 0 {
			break
		}
		p := i + j
		i = p + 1
		for si < len(x.spans) && x.spans[si][1] <= p {
			si++
		}
		if si < len(x.spans) && x.spans[si][0] <= p {
			i = x.spans[si][1] // inside a URL, which urls read
			continue
		}
		if p+1 >= len(s) || !isAlnum(s[p+1]) {
			continue
		}
		subst := p > 0 && (s[p-1] == ')' || s[p-1] == '}' || s[p-1] == '`')
		if !subst && (p == 0 || !isAlnum(s[p-1]) && s[p-1] != '-') {
			continue
		}
		a := p
		for a > prevEnd && p-a < 253 && isHostByte(s[a-1]) {
			a--
		}
		b := p + 1
		for b < len(s) && b-a < 253 && isHostByte(s[b]) {
			b++
		}
		prevEnd = b
		for b > p && (s[b-1] == '.' || s[b-1] == '-') {
			b--
		}
		i = max(i, prevEnd)
		host := s[a:b]
		if subst {
			host = s[p+1 : b]
		}
		if !plausibleDomain(host) || (a > 0 && s[a-1] == '@') || inSpans(x.spans, a) {
			continue
		}
		if subst {
			if o := x.substitutionStart(p - 1); o >= 0 && strings.Count(host, ".") >= 1 {
				x.k.add(ruleDNS, sevHigh, o, b)
				x.dests = append(x.dests, o)
				continue
			}
		}
		if exfilDestination(host) {
			x.k.add(ruleDestination, sevMedium, a, b)
			x.dests = append(x.dests, a)
		}
		if sev := dnsPayload(host); sev > sevNone {
			x.k.add(ruleDNS, sev, a, b)
		}
	}
}

// plausibleDomain requires two labels or more and a letter TLD.
func plausibleDomain(h string) bool {
	dot := strings.LastIndexByte(h, '.')
	if dot <= 0 || len(h)-dot-1 < 2 || len(h)-dot-1 > 24 {
		return false
	}
	for i := dot + 1; i < len(h); i++ {
		if !isLetter(h[i]) {
			return false
		}
	}
	return !strings.Contains(h, "..") && h[0] != '.' && h[0] != '-'
}

// substitutionStart returns where the command or template substitution
// that the bracket or backtick at c closes begins ("$(", "${" or "`"), or
// -1. The pairs are read once per text, on first use.
func (x *exfilScan) substitutionStart(c int) int {
	if x.substs == nil {
		x.substs = substitutions(x.s)
	}
	i, ok := slices.BinarySearchFunc(x.substs, c, func(p [2]int, c int) int { return p[1] - c })
	if !ok {
		return -1
	}
	return x.substs[i][0]
}

// substitutions pairs every "$(" and "${" with its closing bracket and
// backticks on a line with each other, in one pass: it returns [start,
// close] for each, ordered by close.
func substitutions(s string) [][2]int {
	out := [][2]int{}
	type open struct {
		at    int
		subst bool
		b     byte
	}
	var stack []open
	tick := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', '{':
			if len(stack) < 256 {
				stack = append(stack, open{at: i - 1, subst: i > 0 && s[i-1] == '$', b: c})
			}
		case ')', '}':
			want := byte('(')
			if c == '}' {
				want = '{'
			}
			for len(stack) > 0 {
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if o.b == want {
					if o.subst {
						out = append(out, [2]int{o.at, i})
					}
					break
				}
			}
		case '`':
			if tick >= 0 {
				out = append(out, [2]int{tick, i})
				tick = -1
			} else {
				tick = i
			}
		case '\n':
			tick = -1
		}
	}
	return out
}

// dnsPayload grades the labels of a host name before its registrable
// domain: a label that decodes to text is data being sent in a lookup;
// several long encoded labels are chunks of it; one long random label
// is only unusual (CDNs and storage services use them as ids).
func dnsPayload(h string) int {
	if strings.Count(h, ".") < 2 {
		return sevNone
	}
	// The labels before the last two (the registrable domain, roughly).
	head := h[:strings.LastIndexByte(h[:strings.LastIndexByte(h, '.')], '.')]
	long := 0
	sev := sevNone
	for head != "" {
		l := head
		if i := strings.IndexByte(head, '.'); i >= 0 {
			l, head = head[:i], head[i+1:]
		} else {
			head = ""
		}
		if len(l) < 24 || !isEncodedAlphabet(l) {
			continue
		}
		if _, ok := decodedText(l); ok {
			return sevHigh
		}
		if len(l) >= 30 {
			long++
		}
		if randomToken(l, 40) {
			sev = sevLow
		}
	}
	if long >= 2 {
		return sevMedium
	}
	return sev
}

// blobs reads long runs of base64 or hex in an argument.
func (x *exfilScan) blobs(runs [][2]int) {
	s := x.s
	for _, r := range runs {
		if x.k.full(ruleBlob) {
			return
		}
		a, i := r[0], r[1]
		run := s[a:i]
		if hasPrefixFold(s, max(0, a-7), "base64,") || inSpans(x.spans, a) {
			continue // a data: URI (an attachment) or part of a URL
		}
		letters, digits := false, false
		for j := 0; j < min(len(run), 256); j++ {
			letters = letters || isLetter(run[j])
			digits = digits || isDigit(run[j])
		}
		if !letters || !digits {
			continue
		}
		t, text := decodedText(run)
		sev := sevLow
		switch {
		case text && hasSecretMarker(t):
			sev = sevHigh
		case text && len(x.dests) > 0:
			sev = sevMedium
		case !text && len(run) < 256:
			continue
		}
		x.k.add(ruleBlob, sev, a, i)
	}
}
