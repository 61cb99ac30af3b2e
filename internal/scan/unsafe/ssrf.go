package unsafe

import (
	"slices"
	"strings"

	"github.com/wardenhq/warden/internal/scan"
)

// SSRF targets: URLs (and, in arguments, bare addresses) that point a
// server-side fetch at the machine itself, its private network or its
// cloud's metadata service, or that use a scheme which reads files or
// speaks raw protocols to internal services.

const (
	ruleSSRFMetadata = "ssrf-metadata"
	ruleSSRFInternal = "ssrf-internal"
	ruleSSRFScheme   = "ssrf-scheme"
)

// riskySchemes read local files or let a URL carry raw bytes to any TCP
// service (gopher to Redis or SMTP, dict), or resolve remote objects.
var riskySchemes = map[string]int{
	"file": sevMedium, "gopher": sevHigh, "dict": sevHigh, "ldap": sevMedium, "ldaps": sevMedium, "tftp": sevHigh,
	"jar": sevMedium, "netdoc": sevHigh, "phar": sevHigh, "expect": sevHigh, "php": sevMedium, "smb": sevMedium,
}

// adminPorts are ports of services that trust their network and obey
// whoever reaches them (Redis, memcached, Docker, etcd, the kubelet,
// Elasticsearch, CouchDB, MongoDB, Consul, Kubernetes API). A fact list.
var adminPorts = map[string]bool{"6379": true, "11211": true, "2375": true, "2376": true, "2379": true,
	"10250": true, "10255": true, "9200": true, "5984": true, "27017": true, "8500": true, "6443": true}

// fetchSchemes are the schemes a server-side fetcher follows. A database
// URL to localhost is configuration, not a forged request: its internal
// host is low.
var fetchSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true, "ftps": true,
	"gopher": true, "dict": true, "tftp": true, "ldap": true, "ldaps": true, "jar": true, "netdoc": true, "smb": true}

// metadataPaths are the paths of metadata APIs; on an internal host they
// mean the metadata service whatever the address.
var metadataPaths = []string{"/latest/meta-data", "/latest/user-data", "/latest/api/token", "/computemetadata/",
	"/metadata/instance", "/metadata/identity", "/opc/v1/", "/opc/v2/", "/metadata/v1", "/v2/credentials"}

// hostSeverity grades a host a fetch would reach; rule is "" for a
// public host. Plain loopback and private addresses are medium (agents
// call their own dev servers and internal APIs); written so as to pass a
// filter, or at an admin port, they are high.
func hostSeverity(info hostInfo, port string) (rule string, sev int) {
	switch info.kind {
	case hostMetadata:
		return ruleSSRFMetadata, sevCritical
	case hostUnspecified, hostLinkLocal:
		sev = sevHigh
	case hostLoopback, hostPrivate, hostRebind:
		sev = sevMedium
		if adminPorts[port] {
			sev = sevHigh
		}
	case hostInternalName:
		sev = sevLow
	default:
		return "", sevNone
	}
	if info.encoded {
		sev = min(sevHigh, sev+1)
	}
	return ruleSSRFInternal, sev
}

// ssrfKeywords name targets that are internal by name.
var ssrfKeywords = []string{"localhost", "metadata.google.internal", "fd00:ec2::254", "[::1]", "[::]"}

// ssrf reports URLs and, in arguments, addresses without a scheme. In an
// output an internal address is data (a log line, a dev server's
// banner), not a request: internal hosts and schemes are at most low
// there and the metadata service medium, and a fetch the agent then
// makes is an argument, read at full severity.
func ssrf(k *sink, s string, prov scan.Provenance, h hits) {
	bare := prov == scan.Argument
	out := prov == scan.Output
	add := func(rule string, sev, a, b int) {
		if out {
			sev = min(sev, sevLow+k.shift) // the sink takes the shift off again
			if rule == ruleSSRFMetadata {
				sev = sevMedium + k.shift
			}
		}
		k.add(rule, sev, a, b)
	}
	var spans [][2]int // URL spans, so a bare address inside one is not seen twice
	for i := 0; i < len(s); {
		u, next, ok := nextURL(s, i)
		if !ok {
			break
		}
		i = next
		spans = append(spans, [2]int{u.start, u.end})
		if sev, risky := riskySchemes[u.scheme]; risky {
			if u.scheme == "file" && (u.host == "" || strings.EqualFold(u.host, "localhost")) {
				if ps := classifyPath(normPath(u.path), true); ps >= sevMedium {
					sev = sevHigh
				}
			}
			add(ruleSSRFScheme, sev, u.start, u.end)
		}
		if u.host == "" || u.scheme == "file" {
			continue
		}
		info := classifyHost(u.host)
		if u.confusing && u.alt != "" {
			if alt := classifyHost(u.alt); alt.kind != hostPublic {
				info = alt
				info.encoded = true
			}
		}
		if info.kind != hostPublic && info.kind != hostMetadata && isMetadataPath(u.path) {
			info.kind = hostMetadata
		}
		if strings.IndexByte(u.user, '.') >= 0 {
			info.encoded = true // http://trusted.example@10.0.0.1/ reads as the trusted host
		}
		if rule, sev := hostSeverity(info, u.port); rule != "" {
			if !fetchSchemes[u.scheme] && rule == ruleSSRFInternal {
				sev = sevLow
			}
			add(rule, sev, u.start, u.end)
		}
	}
	if !bare {
		return
	}
	ssrfBare(k, s, spans, h)
}

func isMetadataPath(p string) bool {
	for _, m := range metadataPaths {
		if indexFold(p, 0, m) == 0 || (m[len(m)-1] == '/' && indexFold(p, 0, strings.TrimSuffix(m, "/")) == 0) {
			return true
		}
	}
	return false
}

// inSpans reports whether p falls in one of spans, which are sorted and
// disjoint.
func inSpans(spans [][2]int, p int) bool {
	i, _ := slices.BinarySearchFunc(spans, p, func(sp [2]int, p int) int { return sp[0] - p })
	// spans[i-1] is the last span starting at or before p (or spans[i] starts at p).
	if i < len(spans) && spans[i][0] == p {
		return true
	}
	return i > 0 && p < spans[i-1][1]
}

// ssrfBare reports addresses written without a scheme where the text
// uses them as a target: with a port or a path attached, after "=" or
// "@", or as the whole value. An address mentioned in a sentence ("the
// router at 192.168.1.1 is down") is not a target.
func ssrfBare(k *sink, s string, spans [][2]int, h hits) {
	whole := strings.TrimSpace(s)
	report := func(a, b int, host string) {
		if inSpans(spans, a) {
			return
		}
		tok := s[a:b]
		target := tok == whole || (a > 0 && (s[a-1] == '=' || s[a-1] == '@'))
		port := ""
		if b < len(s) && s[b] == ':' {
			e := b + 1
			for e < len(s) && e-b < 6 && isDigit(s[e]) {
				e++
			}
			port = s[b+1 : e]
		}
		if b < len(s) && (s[b] == '/' || (s[b] == ':' && b+1 < len(s) && isDigit(s[b+1]))) {
			target = true
			e := b + 1
			for e < len(s) && isPathByte(s[e]) {
				e++
			}
			b = e
		}
		if !target {
			return
		}
		info := classifyHost(host)
		if info.kind != hostPublic && info.kind != hostMetadata && isMetadataPath(s[min(len(s), a+len(host)):b]) {
			info.kind = hostMetadata
		}
		if rule, sev := hostSeverity(info, port); rule != "" && info.kind != hostInternalName {
			k.add(rule, sev, a, b)
		}
	}
	// Dotted IPv4 addresses.
	for i := 0; i < len(s) && !k.full(ruleSSRFInternal); {
		j := strings.IndexByte(s[i:], '.')
		if j < 0 {
			break
		}
		p := i + j
		i = p + 1
		if p == 0 || p+1 >= len(s) || !isDigit(s[p-1]) || !isDigit(s[p+1]) {
			continue
		}
		a := p
		for a > 0 && (isDigit(s[a-1]) || s[a-1] == '.') {
			a--
		}
		b := p
		for b < len(s) && (isDigit(s[b]) || s[b] == '.') {
			b++
		}
		for b > a && s[b-1] == '.' {
			b--
		}
		i = max(i, b)
		if (a > 0 && (isLetter(s[a-1]) || s[a-1] == '-' || s[a-1] == '_')) || (b < len(s) && (isLetter(s[b]) || s[b] == '-')) {
			continue // a version, a host name label, an identifier
		}
		host := s[a:b]
		if strings.Count(host, ".") != 3 {
			continue
		}
		report(a, b, host)
	}
	// Names and IPv6 literals that only ever mean an internal target.
	for _, name := range ssrfKeywords {
		if h.none() {
			break
		}
		for _, p := range unsafeKeys.at(h, name) {
			i := p + len(name)
			if (p > 0 && (isAlnum(s[p-1]) || s[p-1] == '.' || s[p-1] == '-')) || (i < len(s) && (isAlnum(s[i]) || s[i] == '-')) {
				continue
			}
			report(p, i, name)
		}
	}
}
