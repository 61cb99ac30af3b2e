package unsafe

import (
	"net/netip"
	"strconv"
	"strings"
)

// hostKind says where a host points, as far as its name or address
// alone tells: no name is ever resolved.
type hostKind uint8

const (
	hostPublic       hostKind = iota
	hostMetadata              // a cloud instance-metadata service
	hostLoopback              // this machine
	hostUnspecified           // 0.0.0.0 and ::, which reach this machine on most systems
	hostLinkLocal             // 169.254.0.0/16, fe80::/10
	hostPrivate               // RFC 1918, RFC 6598 shared space, unique-local IPv6
	hostInternalName          // a name under a suffix only private DNS answers (.internal, .local, …)
	hostRebind                // a wildcard or rebinding DNS service whose target we could not read
)

// hostInfo is what classifyHost learned.
type hostInfo struct {
	kind hostKind
	// encoded is set when the address was written in a form that hides
	// what it is: decimal, octal or hex IPv4, IPv4 inside IPv6, a
	// wildcard-DNS name carrying an IP. Legitimate callers have no reason
	// to write an address so; filters that compare strings miss it.
	encoded bool
}

// metadataAddrs are the instance-metadata endpoints of the major clouds:
// AWS, GCP, Azure, Oracle, DigitalOcean (169.254.169.254), AWS ECS and EKS
// task credentials (169.254.170.2, .23), AWS over IPv6, Alibaba Cloud,
// Azure's wire server.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("169.254.170.2"),
	netip.MustParseAddr("169.254.170.23"),
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("168.63.129.16"),
}

// metadataNames are host names of metadata services.
var metadataNames = map[string]bool{
	"metadata.google.internal":     true,
	"metadata.goog":                true,
	"metadata":                     true,
	"instance-data":                true,
	"instance-data.ec2.internal":   true,
	"metadata.tencentyun.com":      true,
	"metadata.platformequinix.com": true,
}

// loopbackNames are public DNS names that resolve every subdomain to
// 127.0.0.1 (a fact of their zones), used to slip loopback past filters
// that look for "localhost".
var loopbackNames = []string{"localtest.me", "lvh.me", "vcap.me", "localho.st", "fuf.me", "yoogle.com"}

// wildcardIPNames embed the address they resolve to in the name
// (10.0.0.1.nip.io, app-10-0-0-1.sslip.io, 0a000001.nip.io).
var wildcardIPNames = []string{"nip.io", "sslip.io", "xip.io", "traefik.me", "nip.direct", "backname.io"}

// rebindNames answer differently on each lookup (DNS rebinding services).
var rebindNames = []string{"rbndr.us", "1u.ms", "rebind.it", "rebind.network"}

// internalSuffixes are DNS suffixes reserved or conventional for private
// networks; the public DNS does not answer for them.
var internalSuffixes = []string{
	"internal", "local", "localdomain", "lan", "intranet", "corp", "home.arpa",
	"home", "private", "svc", "cluster.local", "consul",
}

var (
	cgnat      = netip.MustParsePrefix("100.64.0.0/10")
	thisNet    = netip.MustParsePrefix("0.0.0.0/8")
	siteLocal  = netip.MustParsePrefix("fec0::/10")
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	ipv4Mapped = netip.MustParsePrefix("::ffff:0:0/96")
)

// classifyAddr places an address.
func classifyAddr(a netip.Addr) hostInfo {
	var info hostInfo
	a = a.WithZone("")
	if a.Is6() {
		switch {
		case ipv4Mapped.Contains(a), nat64.Contains(a):
			b := a.As16()
			a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
			info.encoded = true
		case sixToFour.Contains(a):
			b := a.As16()
			a = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
			info.encoded = true
		}
	}
	for _, m := range metadataAddrs {
		if a == m {
			info.kind = hostMetadata
			return info
		}
	}
	switch {
	case a.IsLoopback():
		info.kind = hostLoopback
	case a.IsUnspecified() || (a.Is4() && thisNet.Contains(a)):
		info.kind = hostUnspecified
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		info.kind = hostLinkLocal
	case a.IsPrivate() || cgnat.Contains(a) || siteLocal.Contains(a):
		info.kind = hostPrivate
	}
	return info
}

// nameKinds maps each listed suffix to what a host under it is.
var nameKinds = func() map[string]hostKind {
	m := map[string]hostKind{}
	for _, s := range internalSuffixes {
		m[s] = hostInternalName
	}
	for _, s := range rebindNames {
		m[s] = hostRebind
	}
	for _, s := range wildcardIPNames {
		m[s] = hostRebind // refined by embeddedIP
	}
	for _, s := range loopbackNames {
		m[s] = hostLoopback
	}
	return m
}()

// suffixKind finds the longest listed suffix of h (lower case) and its
// kind.
func suffixKind(h string) (string, hostKind, bool) {
	// Listed suffixes have at most two labels; the longest match wins.
	found, kind, ok := "", hostKind(0), false
	labels := 0
	for i := len(h) - 1; i >= 0 && labels < 2; i-- {
		if i == 0 || h[i-1] == '.' {
			labels++
			if k, hit := nameKinds[h[i:]]; hit {
				found, kind, ok = h[i:], k, true
			}
		}
	}
	return found, kind, ok
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// classifyHost places a URL host (no port, brackets allowed), given in
// any case.
func classifyHost(h string) hostInfo {
	if hasUpper(h) {
		h = strings.ToLower(h)
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return hostInfo{}
	}
	if h[0] == '[' {
		h = strings.TrimSuffix(h[1:], "]")
	}
	if strings.IndexByte(h, ':') >= 0 {
		if i := strings.Index(h, "%25"); i >= 0 {
			h = h[:i] // a zone, percent-encoded as URLs require
		}
		if a, err := netip.ParseAddr(h); err == nil {
			return classifyAddr(a)
		}
		return hostInfo{}
	}
	if a, canonical, ok := parseIPv4Loose(h); ok {
		info := classifyAddr(a)
		info.encoded = info.encoded || !canonical
		return info
	}
	if metadataNames[h] {
		return hostInfo{kind: hostMetadata}
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return hostInfo{kind: hostLoopback}
	}
	suf, kind, ok := suffixKind(h)
	switch {
	case !ok:
		return hostInfo{}
	case kind == hostLoopback:
		return hostInfo{kind: hostLoopback, encoded: true}
	case kind == hostInternalName:
		if strings.IndexByte(h, '.') < 0 {
			return hostInfo{} // a bare word: a container name, or nothing
		}
		return hostInfo{kind: hostInternalName}
	}
	if suffixIn(h, wildcardIPNames) == suf {
		if a, ok := embeddedIP(strings.TrimSuffix(h, suf)); ok {
			info := classifyAddr(a)
			info.encoded = true
			return info
		}
	}
	return hostInfo{kind: hostRebind, encoded: true}
}

// suffixIn returns the element of list that h equals or ends with after a
// dot, or "".
func suffixIn(h string, list []string) string {
	for _, s := range list {
		if h == s || (len(h) > len(s) && h[len(h)-len(s)-1] == '.' && strings.HasSuffix(h, s)) {
			return s
		}
	}
	return ""
}

// embeddedIP reads the IPv4 address that a wildcard-DNS name carries
// before its suffix (the part given ends with a dot): the last four
// labels (10.0.0.1.), the last four dash-separated fields of the last
// label (app-10-0-0-1.), or eight hex digits (0a000001.).
func embeddedIP(prefix string) (netip.Addr, bool) {
	prefix = strings.TrimSuffix(prefix, ".")
	labels := strings.Split(prefix, ".")
	if len(labels) >= 4 {
		q := strings.Join(labels[len(labels)-4:], ".")
		if a, err := netip.ParseAddr(q); err == nil {
			return a, true
		}
	}
	last := labels[len(labels)-1]
	if f := strings.Split(last, "-"); len(f) >= 4 {
		q := strings.Join(f[len(f)-4:], ".")
		if a, err := netip.ParseAddr(q); err == nil {
			return a, true
		}
	}
	if len(last) == 8 {
		if v, err := strconv.ParseUint(last, 16, 32); err == nil {
			return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
		}
	}
	return netip.Addr{}, false
}

// parseIPv4Loose parses an IPv4 address the way inet_aton does, which is
// how many HTTP clients read a host: one to four parts, each decimal,
// 0x-hex or 0-octal, the last filling the remaining bytes (127.1,
// 2130706433, 0x7f.1, 0177.0.0.1). canonical is false for any form but
// four plain decimal parts.
func parseIPv4Loose(s string) (a netip.Addr, canonical, ok bool) {
	if s == "" || len(s) > 64 || !(isDigit(s[0])) {
		return a, false, false
	}
	var parts [4]uint64
	n := 0
	canonical = true
	for rest := s; ; {
		if n == 4 {
			return a, false, false
		}
		p := rest
		i := strings.IndexByte(rest, '.')
		if i >= 0 {
			p, rest = rest[:i], rest[i+1:]
		}
		v, canon, good := parseIPv4Part(p)
		if !good {
			return a, false, false
		}
		canonical = canonical && canon
		parts[n] = v
		n++
		if i < 0 {
			break
		}
	}
	if n != 4 {
		canonical = false
	}
	var v uint64
	for i := 0; i < n-1; i++ {
		if parts[i] > 255 {
			return a, false, false
		}
		v = v<<8 | parts[i]
	}
	rem := uint(8 * (5 - n))
	if parts[n-1] >= 1<<rem {
		return a, false, false
	}
	v = v<<rem | parts[n-1]
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), canonical, true
}

func parseIPv4Part(p string) (v uint64, canonical, ok bool) {
	if p == "" || len(p) > 12 {
		return 0, false, false
	}
	base, digits := 10, p
	switch {
	case len(p) > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, digits = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, false, false
	}
	return v, base == 10, true
}
