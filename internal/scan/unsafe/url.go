package unsafe

import (
	"net/url"
	"strings"
)

// maxURL bounds the bytes read as one URL; a longer run is cut there
// (its head decides).
const maxURL = 16 << 10

// urlRef is a URL found in text: an RFC 3986 scheme followed by "://".
type urlRef struct {
	start, end int    // its span in the text
	scheme     string // lower case
	host       string // as written, no brackets or port; "" when none
	port       string
	user       string // userinfo, "" when none
	path       string // raw
	query      string // raw, no "?"
	// confusing is set when the authority reads two ways (a backslash, two
	// "@"), the trick that makes a filter and a client see different hosts.
	confusing bool
	// alt is the host a lenient client may use when confusing is set.
	alt string
}

// nextURL finds the first URL whose "://" is at or after from.
func nextURL(s string, from int) (urlRef, int, bool) {
	for from < len(s) {
		j := strings.Index(s[from:], "://")
		if j < 0 {
			return urlRef{}, len(s), false
		}
		p := from + j
		from = p + 3
		st := p
		for st > 0 && p-st < 24 && isSchemeByte(s[st-1]) {
			st--
		}
		for st < p && !isLetter(s[st]) {
			st++
		}
		if st == p {
			continue
		}
		end := urlEnd(s, p+3)
		u := urlRef{start: st, end: end, scheme: strings.ToLower(s[st:p])}
		u.parse(s[p+3 : end])
		return u, end, true
	}
	return urlRef{}, len(s), false
}

// urlAt reads the URL that starts exactly at i, if one does.
func urlAt(s string, i int) (urlRef, bool) {
	j := i
	for j < len(s) && j-i < 16 && isSchemeByte(s[j]) {
		j++
	}
	if j == i || !isLetter(s[i]) || !strings.HasPrefix(s[j:], "://") {
		return urlRef{}, false
	}
	end := urlEnd(s, j+3)
	u := urlRef{start: i, end: end, scheme: strings.ToLower(s[i:j])}
	u.parse(s[j+3 : end])
	return u, true
}

func isSchemeByte(c byte) bool { return isAlnum(c) || c == '+' || c == '-' || c == '.' }

// urlEnd returns where a URL that continues at i ends: at a space, a
// quote or angle bracket, a closing bracket it did not open, or trailing
// punctuation.
func urlEnd(s string, i int) int {
	limit := min(len(s), i+maxURL)
	depth := [3]int{} // (), [], {}
	j := i
loop:
	for ; j < limit; j++ {
		switch c := s[j]; c {
		case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', '<', '>', '`', '|', '^':
			break loop
		case '(':
			depth[0]++
		case '[':
			depth[1]++
		case '{':
			depth[2]++
		case ')', ']', '}':
			k := 0
			if c == ']' {
				k = 1
			} else if c == '}' {
				k = 2
			}
			if depth[k] == 0 {
				break loop
			}
			depth[k]--
		default:
			if c < 0x20 || c == 0x7f {
				break loop
			}
		}
	}
	for j > i && strings.IndexByte(".,;:!?*", s[j-1]) >= 0 {
		j--
	}
	return j
}

// parse fills the parts after "://" (rest). It uses net/url and falls
// back to a lenient split that reads what a lenient client would.
func (u *urlRef) parse(rest string) {
	auth := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth = rest[:i]
	}
	if plainAuthority(auth) {
		// A bare host[:port]: nothing for a parser to disagree on.
		u.host, u.port = splitHostPort(auth)
		u.splitTail(rest[len(auth):])
		return
	}
	if pu, err := url.Parse(u.scheme + "://" + rest); err == nil && !strings.ContainsAny(auth, "\\%") {
		u.host, u.port, u.path, u.query = pu.Hostname(), pu.Port(), pu.EscapedPath(), pu.RawQuery
		if pu.User != nil {
			u.user = pu.User.String()
		}
		if strings.Count(auth, "@") > 1 {
			u.confusing = true
			u.alt = hostOf(auth[strings.IndexByte(auth, '@')+1:])
		}
		return
	}
	// Lenient: percent-decode the authority, take the host after the last
	// "@"; a backslash may end the authority for some clients, so the part
	// before it is the alternative reading.
	tail := rest[len(auth):]
	if d, err := url.PathUnescape(auth); err == nil {
		auth = d
	}
	if i := strings.IndexByte(auth, '\\'); i >= 0 {
		u.confusing = true
		u.alt = hostOf(auth[:i])
		if at := strings.LastIndexByte(auth[:i], '@'); at >= 0 {
			u.alt = hostOf(auth[at+1 : i])
		}
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		u.user, auth = auth[:at], auth[at+1:]
		if strings.IndexByte(u.user, '@') >= 0 {
			u.confusing = true
		}
	}
	u.host, u.port = splitHostPort(auth)
	u.splitTail(tail)
}

// plainAuthority reports an authority of letters, digits, dots, dashes
// and at most one port.
func plainAuthority(a string) bool {
	colon := false
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case isAlnum(c) || c == '.' || c == '-' || c == '_':
		case c == ':' && !colon:
			colon = true
		default:
			return false
		}
	}
	return a != ""
}

// splitTail splits what follows the authority into path and query,
// dropping the fragment.
func (u *urlRef) splitTail(tail string) {
	if h := strings.IndexByte(tail, '#'); h >= 0 {
		tail = tail[:h]
	}
	if q := strings.IndexByte(tail, '?'); q >= 0 {
		u.path, u.query = tail[:q], tail[q+1:]
	} else {
		u.path = tail
	}
}

func hostOf(auth string) string {
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	h, _ := splitHostPort(auth)
	return h
}

// splitHostPort splits "host:port", "[v6]:port" or "host".
func splitHostPort(a string) (host, port string) {
	if strings.HasPrefix(a, "[") {
		if i := strings.IndexByte(a, ']'); i >= 0 {
			host, a = a[1:i], a[i+1:]
			return host, strings.TrimPrefix(a, ":")
		}
		return a, ""
	}
	if i := strings.LastIndexByte(a, ':'); i >= 0 && strings.IndexByte(a[:i], ':') < 0 {
		return a[:i], a[i+1:]
	}
	return a, ""
}

// queryParams calls fn for each name=value pair of a raw query, both
// still escaped; fn returns false to stop.
func queryParams(q string, fn func(name, value string) bool) {
	for q != "" {
		p := q
		if i := strings.IndexAny(q, "&;"); i >= 0 {
			p, q = q[:i], q[i+1:]
		} else {
			q = ""
		}
		name, value := p, ""
		if i := strings.IndexByte(p, '='); i >= 0 {
			name, value = p[:i], p[i+1:]
		}
		if !fn(name, value) {
			return
		}
	}
}

// unescapePath decodes a path segment when it carries escapes.
func unescapePath(v string) string {
	if strings.IndexByte(v, '%') >= 0 {
		if d, err := url.PathUnescape(v); err == nil {
			return d
		}
	}
	return v
}

// unescape decodes a query component when it carries escapes.
func unescape(v string) string {
	if strings.ContainsAny(v, "%+") {
		if d, err := url.QueryUnescape(v); err == nil {
			return d
		}
	}
	return v
}
