package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/scan"
)

// Limits of RFC 5321 (section 4.5.3.1).
const (
	maxLocal  = 64
	maxDomain = 253
	maxLabel  = 63
)

// notTLD are last labels that have the shape of a top-level domain but
// name a file type or a special-use name (RFC 6761, 6762): "logo@2x.png"
// and "admin@nas.local" are not mailboxes anyone can write to.
var notTLD = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "bmp": true,
	"ico": true, "tif": true, "tiff": true, "avif": true, "heic": true,
	"css": true, "js": true, "mjs": true, "ts": true, "tsx": true, "jsx": true, "json": true,
	"yaml": true, "yml": true, "xml": true, "html": true, "htm": true, "txt": true, "csv": true,
	"local": true, "localhost": true, "localdomain": true, "internal": true, "invalid": true,
	"lan": true, "home": true, "corp": true,
}

// Confidence of an address: a reserved domain (RFC 2606) receives no mail.
const (
	confEmail         = 0.9
	confEmailReserved = 0.5
)

// reservedDomain reports the names RFC 2606 keeps for documentation:
// example.com, .net and .org and their subdomains, and the .example and
// .test top-level domains.
func reservedDomain(d string) bool {
	d = strings.ToLower(d)
	for _, r := range []string{"example.com", "example.net", "example.org"} {
		if d == r || strings.HasSuffix(d, "."+r) {
			return true
		}
	}
	return strings.HasSuffix(d, ".example") || strings.HasSuffix(d, ".test")
}

// emailLocal marks the bytes of an unquoted local part (RFC 5322 atext
// and the dot).
var emailLocal = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c))
	}
	// RFC 5322 allows more ("!#$/=?^`{|}~"), but addresses that use them
	// are vanishingly rare, and paths and code that do are not.
	for _, c := range []byte("%'+_-.") {
		t[c] = true
	}
	return t
}()

// findEmails appends every address in text. It looks only around "@",
// reading at most maxLocal bytes before and maxDomain after each.
func findEmails(text string, out []scan.Match) []scan.Match {
	from := 0
	for {
		k := strings.IndexByte(text[from:], '@')
		if k < 0 {
			return out
		}
		at := from + k
		from = at + 1
		start, end, ok := emailAt(text, at)
		if !ok {
			continue
		}
		conf := confEmail
		if reservedDomain(text[at+1 : end]) {
			conf = confEmailReserved
		}
		out = append(out, match(CategoryEmail, RuleEmail, conf, start, end))
		from = end
	}
}

// emailAt returns the address around the "@" at at.
func emailAt(text string, at int) (start, end int, ok bool) {
	// Local part: the atext run before "@", trimmed to start at a letter
	// or digit, so quotes and brackets around the address stay outside.
	// Letters of alphabetic scripts count (RFC 6531: "zoë.ann@…"); an
	// ideograph does not, as CJK text runs into an address unspaced.
	start = at
	for start > 0 {
		if c := text[start-1]; c < utf8.RuneSelf {
			if !emailLocal[c] {
				break
			}
			start--
		} else {
			r, size := utf8.DecodeLastRuneInString(text[:start])
			if !unicode.In(r, unicode.Latin, unicode.Greek, unicode.Cyrillic) || !unicode.IsLetter(r) {
				break
			}
			start -= size
		}
		if at-start > maxLocal {
			return 0, 0, false
		}
	}
	for start < at && text[start] < utf8.RuneSelf && !isAlnum(text[start]) {
		start++
	}
	local := text[start:at]
	if local == "" || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return 0, 0, false
	}
	if start > 0 {
		switch text[start-1] {
		case '/', '\\', '@':
			return 0, 0, false // a path segment ("/user@1000.service")
		case ':':
			if inURLAuthority(text, start-1) {
				return 0, 0, false // https://user:secret@host: credentials, not a mailbox
			}
		}
	}
	// Domain: dot-separated labels of letters, digits and hyphens.
	end = at + 1
	for end < len(text) && (isAlnum(text[end]) || text[end] == '.' || text[end] == '-') {
		end++
		if end-at-1 > maxDomain+1 {
			return 0, 0, false
		}
	}
	for end > at+1 && (text[end-1] == '.' || text[end-1] == '-') {
		end-- // sentence punctuation, not part of the name
	}
	if !validDomain(text[at+1 : end]) {
		return 0, 0, false
	}
	if end < len(text) {
		switch c := text[end]; {
		case c == '@' || c == '_':
			return 0, 0, false
		case c == ':' && end+1 < len(text) && (isAlnum(text[end+1]) || text[end+1] == '/' || text[end+1] == '~'):
			return 0, 0, false // git@github.com:org/repo, user@host:path
		}
	}
	if inURLAuthority(text, start) {
		return 0, 0, false
	}
	return start, end, true
}

// validDomain checks a host name with at least two labels and a last
// label of letters (or an IDNA "xn--" label) that names no file type.
func validDomain(d string) bool {
	if len(d) < 4 || len(d) > maxDomain {
		return false
	}
	labels := 0
	for rest := d; ; {
		label := rest
		i := strings.IndexByte(rest, '.')
		if i >= 0 {
			label, rest = rest[:i], rest[i+1:]
		}
		if label == "" || len(label) > maxLabel || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for k := 0; k < len(label); k++ {
			if !isAlnum(label[k]) && label[k] != '-' {
				return false
			}
		}
		labels++
		if i < 0 {
			return labels >= 2 && validTLD(label)
		}
	}
}

func validTLD(tld string) bool {
	if len(tld) >= 5 && strings.EqualFold(tld[:4], "xn--") {
		return true
	}
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isLetter(tld[i]) {
			return false
		}
	}
	return !notTLD[strings.ToLower(tld)]
}

// inURLAuthority reports whether pos lies in the authority of a URL
// ("scheme://user:pass@host"): "://" precedes it with no "/" or space in
// between. It looks back at most maxLocal+maxLocal bytes.
func inURLAuthority(text string, pos int) bool {
	for i := pos - 1; i >= 2 && pos-i <= 2*maxLocal; i-- {
		switch text[i] {
		case '/':
			return text[i-1] == '/' && text[i-2] == ':'
		case ' ', '\t', '\n', '\r', '"', '\'', '<', '>', '(', ')':
			return false
		}
	}
	return false
}
