package pii

import (
	"net/netip"
	"strings"

	"github.com/wardenhq/warden/internal/scan"
)

// Confidence of an IP address by what it addresses.
const (
	confIPPublic   = 0.8
	confIPVersion  = 0.5 // as often a version or a section number
	confIPInternal = 0.3 // private, shared, link-local, documentation
)

// notAddressWords precede dotted numbers that are versions, sections of a
// document or object identifiers, not addresses.
var notAddressWords = vocabulary{
	strong: wordSet("v ver version versions release build rev revision firmware fw kernel sdk " +
		"ios android chrome firefox " +
		"section sect sec chapter clause paragraph para appendix annex figure fig rfc oid"),
	ident: wordSet("version ver oid"),
}

// nonPersonal are the ranges whose addresses identify no one's host:
// shared address space, documentation and benchmarking networks.
var nonPersonal = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("3fff::/20"),
}

// ipConfidence grades a parsed address; 0 means it is not reported at
// all (the unspecified, loopback, multicast and broadcast addresses, and
// netmasks, address no host).
func ipConfidence(a netip.Addr) float64 {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsLoopback(), a.IsMulticast(),
		a.IsInterfaceLocalMulticast(), a.IsLinkLocalMulticast():
		return 0
	case a.Is4() && a.As4()[0] == 255:
		return 0 // broadcast and netmasks
	case a.IsPrivate(), a.IsLinkLocalUnicast():
		return confIPInternal
	}
	for _, p := range nonPersonal {
		if p.Contains(a) {
			return confIPInternal
		}
	}
	return confIPPublic
}

// ValidIPAddress reports whether s is an IPv4 address in dotted-quad form
// (no leading zeros) or an IPv6 address, as net/netip reads them.
func ValidIPAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil && !strings.Contains(s, "%")
}

// ipv4InCluster appends the dotted quads among c's groups that stand
// apart (not inside a longer dotted run, not a version).
func ipv4InCluster(c *cluster, out []scan.Match) []scan.Match {
	for a := 0; a+3 < c.n; a++ {
		b := a + 3
		if !c.free(a, b) {
			continue
		}
		quad := true
		for k := a; k <= b; k++ {
			if c.size(k) > 3 || (k > a && c.sep(k) != ".") {
				quad = false
				break
			}
		}
		if !quad {
			continue
		}
		start, end := c.g[a].start, c.g[b].end
		if a > 0 && strings.Contains(c.sep(a), ".") {
			continue // the tail of a longer dotted run
		}
		if a == 0 && !leftClean(c.text, start) {
			continue
		}
		if b < c.n-1 {
			if strings.Contains(c.sep(b+1), ".") {
				continue
			}
		} else if !ipRightClean(c.text, end) {
			continue
		}
		addr, err := netip.ParseAddr(c.text[start:end])
		if err != nil {
			continue
		}
		if notAddressBefore(c.text, start) {
			continue
		}
		conf := ipConfidence(addr)
		if conf == 0 {
			continue
		}
		if numbering(addr) && conf > confIPVersion {
			conf = confIPVersion
		}
		out = append(out, match(CategoryIPAddress, RuleIPv4, conf, start, end))
		c.take(a, b)
		a = b
	}
	return out
}

// ipRightClean is rightClean that also lets a prefix length or a port
// follow ("10.1.2.3/24", "10.1.2.3:8080").
func ipRightClean(text string, end int) bool {
	if end < len(text) && text[end] == '/' && end+1 < len(text) && isDigit(text[end+1]) {
		return true
	}
	return rightClean(text, end)
}

// notAddressBefore reports whether the token just before pos, on its
// line and past spaces, quotes, "=" or ":", says what follows is not an
// address ("version 1.2.3.4", "section 5.2.3.21", `szOID_X = "2.5.4.3"`).
func notAddressBefore(text string, pos int) bool {
	i := pos
	for i > 0 && pos-i < 8 && strings.IndexByte(" \t\"'=:/([", text[i-1]) >= 0 {
		i--
	}
	j := i
	for j > 0 && i-j <= maxToken && wordChar(text[j-1]) {
		j--
	}
	if j == i {
		return false
	}
	best := noContext
	grade(text[j:i], notAddressWords, &best)
	return best == strongContext
}

// numbering reports a dotted quad that reads as the number of a section
// or a version: a one-digit first part and no part over 99 ("7.18.1.4").
func numbering(a netip.Addr) bool {
	b := a.As4()
	return b[0] < 10 && b[1] < 100 && b[2] < 100 && b[3] < 100
}

// maxIPv6 is the longest IPv6 text form ("ffff:…:255.255.255.255").
const maxIPv6 = 45

func isIPv6Byte(c byte) bool { return isHex(c) || c == ':' || c == '.' }

// findIPv6 appends the IPv6 addresses in text. It looks only at runs of
// hex digits, colons and dots that hold a colon, each byte once.
func findIPv6(text string, out []scan.Match) []scan.Match {
	from := 0
	for {
		k := strings.IndexByte(text[from:], ':')
		if k < 0 {
			return out
		}
		colon := from + k
		start := colon
		for start > 0 && colon-start <= maxIPv6 && isIPv6Byte(text[start-1]) {
			start--
		}
		end := colon + 1
		for end < len(text) && isIPv6Byte(text[end]) {
			end++
		}
		from = end
		if end-start > maxIPv6 || (start > 0 && isIPv6Byte(text[start-1])) {
			continue // longer than any address
		}
		// Trim what sentences and "host:port" add around an address.
		for end > start && text[end-1] == '.' {
			end--
		}
		if end-start >= 2 && text[end-1] == ':' && text[end-2] != ':' {
			end--
		}
		if end-start >= 2 && text[start] == ':' && text[start+1] != ':' {
			start++
		}
		if !leftClean(text, start) && text[start-1] != ':' || !ipRightClean(text, end) {
			continue
		}
		s := text[start:end]
		if !plausibleIPv6(s) {
			continue
		}
		addr, err := netip.ParseAddr(s)
		if err != nil || !addr.Is6() {
			continue
		}
		conf := ipConfidence(addr)
		if conf == 0 {
			continue
		}
		out = append(out, match(CategoryIPAddress, RuleIPv6, conf, start, end))
	}
}

// plausibleIPv6 rejects strings netip would accept that are more often
// something else: fewer than three written groups ("a::b", a Python
// slice "1::2"), no decimal digit ("dead::beef", "add::face"), or no
// group of three or more digits ("01:23:45:67:89:ab:cd:ef", a MAC-like
// identifier; "1::00:00", a time).
func plausibleIPv6(s string) bool {
	groups, digit, long := 0, false, false
	for i := 0; i < len(s); {
		if s[i] == ':' || s[i] == '.' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] != ':' && s[j] != '.' {
			if isDigit(s[j]) {
				digit = true
			}
			j++
		}
		groups++
		long = long || j-i >= 3
		i = j
	}
	return digit && long && groups >= 3
}
