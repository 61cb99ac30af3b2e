package unsafe

import (
	"strings"
)

// sensitiveFiles maps a path suffix (lower case, "/" separated) to how
// much reading that file gives away: sevHigh for files holding secrets
// (password hashes, private keys, cloud and registry credentials, the
// process environment, MCP client configs with their tokens), sevMedium
// for files that map the system (accounts, hosts, shell history).
// A fact list, matched against the end of a path or, for directories
// ending in "/", anywhere in it.
var sensitiveFiles = []struct {
	suffix string
	sev    int
}{
	{"/etc/shadow", sevHigh},
	{"/etc/gshadow", sevHigh},
	{"/etc/sudoers", sevHigh},
	{"/etc/master.passwd", sevHigh},
	{"/.ssh/", sevMedium}, // the directory; its private keys are high by name below
	{"/.ssh/authorized_keys", sevHigh},
	{"/id_rsa", sevHigh},
	{"/id_dsa", sevHigh},
	{"/id_ecdsa", sevHigh},
	{"/id_ed25519", sevHigh},
	{"/.aws/credentials", sevHigh},
	{"/.aws/config", sevMedium},
	{"/.config/gcloud/", sevHigh},
	{"/.azure/", sevHigh},
	{"/.kube/config", sevHigh},
	{"/.docker/config.json", sevHigh},
	{"/.git-credentials", sevHigh},
	{"/.netrc", sevHigh},
	{"/_netrc", sevHigh},
	{"/.pgpass", sevHigh},
	{"/.npmrc", sevHigh},
	{"/.pypirc", sevHigh},
	{"/.gnupg/", sevHigh},
	{"/.vault-token", sevHigh},
	{"/proc/self/environ", sevHigh},
	{"/environ", sevHigh}, // /proc/<pid>/environ
	{"/var/run/secrets/", sevHigh},
	{"/run/secrets/", sevHigh},
	{"/mcp.json", sevHigh},
	{"/claude_desktop_config.json", sevHigh},
	{"/wallet.dat", sevHigh},
	{"/system32/config/sam", sevHigh},
	{"/system32/config/system", sevHigh},
	{"/system32/config/security", sevHigh},
	{"/repair/sam", sevHigh},
	{"/etc/passwd", sevMedium},
	{"/etc/group", sevMedium},
	{"/etc/hosts", sevMedium},
	{"/proc/self/cmdline", sevMedium},
	{"/proc/self/maps", sevMedium},
	{"/proc/self/mem", sevHigh},
	{"/proc/version", sevMedium},
	{"/.bash_history", sevMedium},
	{"/.zsh_history", sevMedium},
	{"/.mysql_history", sevMedium},
	{"/.psql_history", sevMedium},
	{"/.git/config", sevMedium},
	{"/windows/system32/", sevLow}, // a directory every Windows user sees
	{"/windows/win.ini", sevMedium},
	{"/win.ini", sevMedium},
	{"/boot.ini", sevMedium},
	{"/web.config", sevMedium},
}

// sensitiveDirs are the entries of sensitiveFiles that name a directory;
// sensitiveByName indexes the others by their last segment.
var sensitiveDirs, sensitiveByName = func() (dirs []struct {
	suffix string
	sev    int
}, byName map[string][]struct {
	suffix string
	sev    int
}) {
	byName = map[string][]struct {
		suffix string
		sev    int
	}{}
	for _, f := range sensitiveFiles {
		if strings.HasSuffix(f.suffix, "/") {
			dirs = append(dirs, f)
			continue
		}
		name := f.suffix[strings.LastIndexByte(f.suffix, '/')+1:]
		byName[name] = append(byName[name], f)
	}
	return dirs, byName
}()

// pathAnchors are substrings at least one of which every sensitive path
// contains; they are looked for first. Each starts with a separator or a
// dot, so text without those is passed over at byte speed.
var pathAnchors = []string{
	"/etc/", "/proc/", ".ssh", "/id_rsa", "/id_dsa", "/id_ecdsa", "/id_ed25519", "\\id_rsa", ".aws", "/gcloud",
	".azure", ".kube", ".docker", ".git-credentials", ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc", ".gnupg",
	".vault-token", "/secrets/", "/mcp.json", "\\mcp.json", "/claude_desktop_config", "\\claude_desktop_config",
	"/wallet.dat", "/system32", "\\system32", "/repair", "\\repair", "_history", ".git/", "/win.ini", "\\win.ini",
	"/boot.ini", "\\boot.ini", "/web.config", "\\web.config", ".env", "/environ",
}

// isPathByte is a byte that may continue a path token.
func isPathByte(c byte) bool {
	return c > ' ' && c != '"' && c != '\'' && c != '`' && c != '<' && c != '>' && c != '(' && c != ')' &&
		c != '[' && c != ']' && c != '{' && c != '}' && c != ',' && c != ';' && c != '|' && c != '&' && c != '*' && c < 0x7f
}

// pathToken returns the path token around i.
func pathToken(s string, i int) (int, int) {
	a, b := i, i
	for a > 0 && i-a < 512 && isPathByte(s[a-1]) {
		a--
	}
	for b < len(s) && b-i < 512 && isPathByte(s[b]) {
		b++
	}
	for b > a && strings.IndexByte(".:!?", s[b-1]) >= 0 && !strings.HasSuffix(s[a:b], "/.") {
		b--
	}
	return a, b
}

// normPath lower-cases a path token, turns backslashes and URL-encoded
// separators into "/", drops a "~" or drive prefix, and ends it at a
// query or fragment.
func normPath(tok string) string {
	var b strings.Builder
	b.Grow(len(tok) + 1)
	b.WriteByte('/')
	for i := 0; i < len(tok); i++ {
		c := lower(tok[i])
		switch {
		case c == '\\':
			c = '/'
		case c == '%' && i+2 < len(tok) && (hasPrefixFold(tok, i, "%2f") || hasPrefixFold(tok, i, "%5c")):
			c = '/'
			i += 2
		case c == '%' && i+2 < len(tok) && hasPrefixFold(tok, i, "%2e"):
			c = '.'
			i += 2
		case c == '?' || c == '#':
			return b.String()
		}
		b.WriteByte(c)
	}
	return b.String()
}

// classifyPath says how sensitive the file a path names is (sevNone
// when not): its end matches a sensitive file, or it passes through a
// sensitive directory. A dotenv file counts only where it stands as a
// path (a separator before it or the whole value), not as the name of a
// kind of file in prose.
func classifyPath(p string, whole bool) int {
	best := sevNone
	for _, f := range sensitiveDirs {
		if strings.Contains(p+"/", f.suffix) {
			best = max(best, f.sev)
		}
	}
	// A file: look up each segment's name, then check the path ends so
	// (or passes through it, for a file used as a directory prefix).
	for rest := p; rest != ""; {
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			break
		}
		for _, f := range sensitiveByName[rest[i+1:]] {
			if strings.HasSuffix(rest, f.suffix) {
				best = max(best, f.sev)
			}
		}
		rest = rest[:i]
	}
	if i := strings.LastIndex(p, "/.env"); i >= 0 {
		name := p[i+1:]
		if j := strings.IndexByte(name, '/'); j >= 0 {
			name = name[:j]
		}
		switch {
		case name == ".env", strings.HasPrefix(name, ".env.") && !isEnvTemplate(name):
			if whole || i > 0 {
				best = max(best, sevHigh)
			}
		}
	}
	return best
}

func isEnvTemplate(name string) bool {
	for _, t := range []string{".example", ".sample", ".template", ".dist", ".defaults"} {
		if strings.HasSuffix(name, t) {
			return true
		}
	}
	return false
}

// traversalKeywords are where a climbing sequence may start.
var traversalKeywords = []string{"..", "%2e", "%252e", "%c0%ae"}

// traversalStarts merges the starts of climbing sequences in order.
func traversalStarts(h hits, ks *keywordSet) []int {
	var all []int
	for _, w := range traversalKeywords {
		ps := ks.at(h, w)
		if len(all) == 0 {
			all = ps
			continue
		}
		if len(ps) > 0 {
			merged := make([]int, 0, len(all)+len(ps))
			i, j := 0, 0
			for i < len(all) || j < len(ps) {
				if j == len(ps) || (i < len(all) && all[i] <= ps[j]) {
					merged = append(merged, all[i])
					i++
				} else {
					merged = append(merged, ps[j])
					j++
				}
			}
			all = merged
		}
	}
	return all
}

// pathTraversal reports climbing sequences and paths to sensitive files.
func pathTraversal(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	var covered [][2]int // reported climbs; a sensitive path inside one is not reported again
	next := 0
	for _, p := range traversalStarts(h, unsafeKeys) {
		if p < next || k.full("path-traversal") {
			continue
		}
		end, n, encoded := traversalAt(s, p)
		if n == 0 {
			continue
		}
		a, b := pathToken(s, p)
		a = min(a, p)
		b = max(b, end)
		target := sevNone
		if end < b {
			target = classifyPath(normPath(s[end:b]), false)
		}
		sev := sevNone
		switch {
		case target >= sevHigh:
			sev = sevCritical
		case target == sevMedium:
			sev = sevHigh
		case target == sevLow:
			sev = sevMedium
		case encoded:
			sev = sevHigh
		case n >= 3:
			sev = sevMedium
		case n == 2:
			sev = sevLow
		}
		if sev > sevNone {
			k.add("path-traversal", sev, a, b)
			covered = append(covered, [2]int{a, b})
		}
		next = max(end, p+1)
	}
	// Sensitive files named outright.
	whole := strings.TrimSpace(s)
	done := map[int]bool{} // token starts already read
	for _, anc := range pathAnchors {
		i := 0
		for _, j := range unsafeKeys.at(h, anc) {
			if j < i || inSpans(covered, j) {
				continue
			}
			i = j + len(anc)
			a, b := pathToken(s, j)
			tok := s[a:b]
			if !looksLikePath(tok) || done[a] {
				continue
			}
			done[a] = true
			if k.full("path-traversal") {
				return
			}
			sev := classifyPath(normPath(tok), tok == whole || (a > 0 && s[a-1] == '='))
			if sev > sevNone {
				k.add("path-traversal", sev, a, b)
			}
			i = max(i, b)
		}
	}
}

// looksLikePath requires a separator or a home or drive prefix: prose
// words ("credentials", "system32") are not paths.
func looksLikePath(tok string) bool {
	return strings.ContainsAny(tok, "/\\") || strings.HasPrefix(tok, "~") || strings.HasPrefix(tok, ".env")
}

// traversal units: a parent reference and a separator, written plainly,
// encoded once or twice, as overlong UTF-8, or doubled to survive a
// filter that deletes "../" once.
var (
	dotUnits = []struct {
		s       string
		encoded bool
	}{
		{"%252e%252e", true}, {"%2e%2e", true}, {".%2e", true}, {"%2e.", true},
		{"%c0%ae%c0%ae", true}, {"%uff0e%uff0e", true}, {"....", true}, {"..", false},
	}
	sepUnits = []struct {
		s       string
		encoded bool
	}{
		{"%252f", true}, {"%255c", true}, {"%2f", true}, {"%5c", true}, {"%c0%af", true}, {"%c1%9c", true},
		{"//", true}, {"\\\\", true}, {"/", false}, {"\\", false}, {";/", true},
	}
)

// traversalAt reads consecutive parent references from p: the end, how
// many, and whether any was encoded or doubled.
func traversalAt(s string, p int) (end, n int, encoded bool) {
	i := p
	for {
		dot := -1
		for k, u := range dotUnits {
			if hasPrefixFold(s, i, u.s) {
				dot = k
				break
			}
		}
		if dot < 0 {
			break
		}
		j := i + len(dotUnits[dot].s)
		if dotUnits[dot].s == "...." && j < len(s) && s[j] == '.' {
			break // an ellipsis
		}
		sep := -1
		for k, u := range sepUnits {
			if hasPrefixFold(s, j, u.s) {
				sep = k
				break
			}
		}
		if sep < 0 {
			// "../.." ends a climb without a final separator.
			if n > 0 && dotUnits[dot].s == ".." && (j == len(s) || !isPathByte(s[j])) {
				n++
				i = j
			}
			break
		}
		if dotUnits[dot].s == "...." && sepUnits[sep].s == "/" {
			break // "..../" is not the doubled form
		}
		if i > 0 && n == 0 && dotUnits[dot].s == ".." && (s[i-1] == '.' || isAlnum(s[i-1])) {
			break // "file..txt/", "a../"
		}
		encoded = encoded || dotUnits[dot].encoded || sepUnits[sep].encoded
		n++
		i = j + len(sepUnits[sep].s)
	}
	return i, n, encoded
}
