package unsafe

import (
	"slices"
	"strings"
)

// Command injection is recognised by shell syntax that starts a second
// command (";", "&&", "||", "&", a pipe, "$( )", a backtick substitution,
// their URL encodings) followed by a command that does something an
// attacker wants: fetch code, open a shell, reach the network, destroy,
// read secrets, probe who runs it. Plain shell scripts chain harmless
// commands all the time ("cd build && make"); those are not reported.

const (
	ruleCommand      = "command-injection"
	ruleReverseShell = "reverse-shell"
)

// commandKeywords are the anchors of the command rules.
var commandKeywords = []string{"curl", "wget", "iwr", "invoke-webrequest", "certutil", "downloadstring", "downloadfile",
	"bitsadmin", "tftp", "base64", "xxd", "openssl", "echo", "printf", "/dev/tcp/",
	"/dev/udp/", "nc", "ncat", "netcat", "mkfifo", "socat", "socket", "rm", "(){", "() {", "mkfs", "of=/dev/sd",
	"of=/dev/nvme", "of=/dev/hd", "of=/dev/xvd", "of=/dev/vd", "of=/dev/mmcblk"}

// commandInjection runs every command rule over s.
func commandInjection(k *sink, s string, h hits) {
	commandChains(k, s, h)
	downloadExec(k, s, h)
	reverseShells(k, s, h)
	destructive(k, s, h)
}

// commandChains looks at every separator and substitution.
func commandChains(k *sink, s string, h hits) {
	for i := 0; i < len(s) && !k.full(ruleCommand); {
		j := strings.IndexAny(s[i:], ";&|$`%")
		if j < 0 {
			return
		}
		p := i + j
		i = p + 1
		switch s[p] {
		case ';':
			chained(k, s, p, p+1, false)
		case '&':
			if p+1 < len(s) && s[p+1] == '&' {
				chained(k, s, p, p+2, false)
				i = p + 2
			} else if p+1 < len(s) && s[p+1] == '>' || p > 0 && s[p-1] == '>' {
				continue // &> and >& are redirections
			} else {
				chained(k, s, p, p+1, false)
			}
		case '|':
			if p+1 < len(s) && s[p+1] == '|' {
				chained(k, s, p, p+2, false)
				i = p + 2
			} else {
				piped(k, s, p, h)
			}
		case '$':
			if p+1 < len(s) && s[p+1] == '(' && !(p+2 < len(s) && s[p+2] == '(') {
				substituted(k, s, p, p+2, ')')
			}
		case '`':
			if p > 0 && !isSpace(s[p-1]) && s[p-1] != '`' && s[p-1] != '(' && (p+1 < len(s) && s[p+1] != '`') {
				substituted(k, s, p, p+1, '`')
			}
		case '%':
			for _, enc := range []string{"%0a", "%0d%0a", "%3b", "%26", "%7c", "%60"} {
				if hasPrefixFold(s, p, enc) {
					chained(k, s, p, p+len(enc), true)
					break
				}
			}
		}
	}
}

// proseArgs reports arguments that read as a sentence: three words or
// more of plain letters and most of the words so ("-i gives an
// interactive shell").
func proseArgs(a string) bool {
	words, plain := 0, 0
	for _, f := range strings.Fields(a) {
		words++
		f = strings.TrimRight(f, ".,;:!?")
		ok := f != ""
		for i := 0; i < len(f); i++ {
			if !isLetter(f[i]) {
				ok = false
				break
			}
		}
		if ok {
			plain++
		}
	}
	return plain >= 3 && plain*2 > words
}

// quotedBefore reports a quote just before a separator at p: the
// separator broke out of a string literal.
func quotedBefore(s string, p int) (int, bool) {
	b := backSpace(s, p)
	if b > 0 && (s[b-1] == '\'' || s[b-1] == '"') {
		return b - 1, true
	}
	return p, false
}

func chained(k *sink, s string, p, q int, encoded bool) {
	c := commandAt(s, q)
	if c.kind == kNone || !argsShape(s, c) || proseArgs(c.argsText(s)) {
		return
	}
	if c.kind == kRead && !(c.args < len(s) && strings.IndexByte("/~\\.$", s[c.args]) >= 0) {
		return
	}
	sev := impact(s, c)
	start, quoted := quotedBefore(s, p)
	if quoted || encoded {
		sev = raise(sev, c.kind)
	}
	if sev > sevNone {
		k.add(ruleCommand, sev, start, max(c.argsEnd, c.end))
	}
}

// raise lifts a severity one step for an injection into a quoted or
// encoded context; only a destructive command reaches critical so.
func raise(sev int, kind cmdKind) int {
	if sev == sevNone {
		return sev
	}
	if kind == kDestroy {
		return min(sevCritical, sev+1)
	}
	return min(sevHigh, sev+1)
}

// piped looks at the command a pipe feeds: a shell (code from upstream
// runs), a network tool (data leaves).
func piped(k *sink, s string, p int, h hits) {
	c := commandAt(s, p+1)
	if c.kind == kNone {
		return
	}
	after := skipInline(s, c.end)
	if after < len(s) && s[after] == '|' {
		return // a table cell: "| bash |"
	}
	ls := lineStart(s, p, 400)
	switch c.kind {
	case kShell:
		if !(after >= len(s) || strings.IndexByte("-;&)'\"\n#`", s[after]) >= 0 || argsShape(s, c)) {
			return
		}
		sev := sevLow
		start := p
		switch {
		case anyIn(h, fetchWords, ls, p) >= 0:
			sev = sevCritical
			start = anyIn(h, fetchWords, ls, p)
		case anyIn(h, decodeWords, ls, p) >= 0:
			sev = sevHigh
		case anyIn(h, echoWords, ls, p) >= 0:
			sev = sevMedium
		}
		k.add(ruleCommand, sev, start, max(c.argsEnd, c.end))
	case kNet:
		if c.name == "ssh" || c.name == "scp" || !argsShape(s, c) {
			return
		}
		k.add(ruleCommand, sevHigh, p, max(c.argsEnd, c.end))
	case kFetch:
		a := c.argsText(s)
		if strings.Contains(a, "@-") || strings.Contains(a, "-T -") || strings.Contains(a, "--upload-file") {
			k.add(ruleCommand, sevHigh, p, c.argsEnd)
		}
	}
}

// anyIn returns the first start in [lo, hi) of any of the keywords ws
// that stands as a word, or -1.
func anyIn(h hits, ws []string, lo, hi int) int {
	best := -1
	s := h.text
	for _, w := range ws {
		ps := unsafeKeys.at(h, w)
		i, _ := slices.BinarySearch(ps, lo)
		for ; i < len(ps) && ps[i] < hi; i++ {
			p := ps[i]
			if (p == 0 || !isAlnum(s[p-1])) && (p+len(w) == len(s) || !isAlnum(s[p+len(w)])) {
				if best < 0 || p < best {
					best = p
				}
				break
			}
		}
	}
	return best
}

// fetchWords download; decodeWords and echoWords feed a shell text.
var (
	fetchWords  = []string{"curl", "wget", "iwr", "invoke-webrequest", "downloadstring", "downloadfile", "certutil", "bitsadmin", "tftp"}
	decodeWords = []string{"base64", "xxd", "openssl"}
	echoWords   = []string{"echo", "printf"}
)

// substituted looks at the command inside $( ) or backticks.
func substituted(k *sink, s string, p, q int, closer byte) {
	lim := min(len(s), q+300)
	e := strings.IndexByte(s[q:lim], closer)
	if e < 0 || e == 0 {
		return
	}
	c := commandAt(s, q)
	if c.kind == kNone || c.end > q+e {
		return
	}
	if c.argsEnd > q+e {
		c.argsEnd = q + e
	}
	if !argsShape(s, c) && !(c.args >= q+e && zeroArg[c.name]) {
		return
	}
	sev := impact(s, c)
	if c.kind == kProbe && c.name == "sleep" {
		sev = sevLow
	}
	if c.kind == kFetch || c.kind == kNet || c.kind == kShell {
		sev = sevHigh
	}
	if sev > sevNone {
		k.add(ruleCommand, sev, p, q+e+1)
	}
}

// downloadExec finds code fetched and run: a download piped to a shell
// (reported by piped), or saved to a file that a later command runs.
func downloadExec(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	for _, w := range []string{"curl", "wget", "iwr", "invoke-webrequest", "certutil"} {
		done := 0 // text before it has been read from an earlier download on its line
		for _, p := range unsafeKeys.at(h, w) {
			if k.full(ruleCommand) {
				return
			}
			i := p + len(w)
			if p < done || (p > 0 && isAlnum(s[p-1])) || (i < len(s) && isAlnum(s[i])) {
				continue
			}
			le := lineEnd(s, i, 400)
			done = le
			out := outputFile(s[i:le])
			if out == "" {
				continue
			}
			base := out
			if j := strings.LastIndexAny(base, "/\\"); j >= 0 {
				base = base[j+1:]
			}
			if len(base) < 2 {
				base = out // too short to look for alone: "/tmp/a"
			}
			rest := s[i:le]
			o := strings.Index(rest, out) + len(out)
			for at := o; ; {
				x := strings.Index(rest[at:], base)
				if x < 0 {
					break
				}
				x += at
				at = x + len(base)
				if runsFile(rest, tokenStart(rest, x)) {
					k.add(ruleCommand, sevCritical, p, i+at)
					break
				}
			}
		}
	}
	done := 0
	for _, p := range unsafeKeys.at(h, "downloadstring") {
		if k.full(ruleCommand) {
			return
		}
		if p < done {
			continue
		}
		ls, le := lineStart(s, p, 300), lineEnd(s, p, 300)
		done = le
		line := s[ls:le]
		if indexFold(line, 0, "iex") >= 0 || indexFold(line, 0, "invoke-expression") >= 0 {
			k.add(ruleCommand, sevCritical, ls, le)
		}
	}
}

func tokenStart(s string, i int) int {
	lim := max(0, i-reach)
	for i > lim && !isSpace(s[i-1]) && strings.IndexByte(";&|`'\"(", s[i-1]) < 0 {
		i--
	}
	return i
}

// outputFile returns the file a download command writes: -O f, -o f,
// --output f, -OutFile f, > f.
func outputFile(t string) string {
	if strings.IndexByte(t, '>') < 0 && !strings.Contains(t, "-o") && !strings.Contains(t, "-O") {
		return ""
	}
	f := strings.Fields(t)
	for i := 0; i+1 < len(f); i++ {
		switch strings.ToLower(f[i]) {
		case "-o", "--output", "--output-document", "-outfile", ">", ">>":
			return strings.Trim(f[i+1], "'\";&|")
		}
	}
	return ""
}

// runsFile reports whether the path token at x of t is run: it stands
// where a command goes, or after chmod +x, or after an interpreter.
func runsFile(t string, x int) bool {
	if x < 0 || x > len(t) {
		return false
	}
	b := backSpace(t, x)
	if b == 0 {
		return false
	}
	if strings.IndexByte(";&|", t[b-1]) >= 0 {
		return true
	}
	ws := wordStart(t, b)
	w := strings.ToLower(t[ws:b])
	if strings.HasSuffix(t[:b], "+x") || strings.HasSuffix(t[:b], "777") || strings.HasSuffix(t[:b], "755") {
		return true
	}
	switch w {
	case "sh", "bash", "zsh", "python", "python2", "python3", "perl", "ruby", "php", "node", "source", "powershell", "pwsh", "start":
		return true
	}
	return false
}
