package unsafe

import "strings"

// Reading shell commands: a command word, what kind of program it runs,
// and whether what follows it reads as arguments.

type cmdKind uint8

const (
	kNone    cmdKind = iota
	kFetch           // downloads
	kShell           // runs code given to it
	kNet             // raw network
	kDestroy         // deletes or wipes
	kPriv            // changes permissions, users, schedules
	kRead            // reads files
	kProbe           // tells who and where the shell runs
	kEncode          // encodes data, a step of exfiltration
	kExec            // runs a file from a world-writable place
)

// commands maps a command's base name to what it does. A fact list.
var commands = map[string]cmdKind{
	"curl": kFetch, "wget": kFetch, "tftp": kFetch, "aria2c": kFetch, "invoke-webrequest": kFetch, "iwr": kFetch,
	"invoke-restmethod": kFetch, "irm": kFetch, "certutil": kFetch, "bitsadmin": kFetch, "lwp-download": kFetch,
	"sh": kShell, "bash": kShell, "zsh": kShell, "dash": kShell, "ksh": kShell, "csh": kShell, "tcsh": kShell,
	"python": kShell, "python2": kShell, "python3": kShell, "perl": kShell, "ruby": kShell, "php": kShell,
	"node": kShell, "powershell": kShell, "pwsh": kShell, "cmd": kShell, "lua": kShell, "iex": kShell,
	"invoke-expression": kShell, "eval": kShell, "source": kShell, "busybox": kShell,
	"nc": kNet, "ncat": kNet, "netcat": kNet, "socat": kNet, "telnet": kNet, "ssh": kNet, "scp": kNet,
	"rm": kDestroy, "dd": kDestroy, "mkfs": kDestroy, "shred": kDestroy, "shutdown": kDestroy, "reboot": kDestroy,
	"halt": kDestroy, "poweroff": kDestroy, "kill": kDestroy, "killall": kDestroy, "pkill": kDestroy, "del": kDestroy,
	"format": kDestroy, "rmdir": kDestroy,
	"chmod": kPriv, "chown": kPriv, "useradd": kPriv, "usermod": kPriv, "passwd": kPriv, "crontab": kPriv,
	"iptables": kPriv, "setfacl": kPriv, "visudo": kPriv, "net": kPriv, "reg": kPriv, "schtasks": kPriv,
	"cat": kRead, "head": kRead, "tail": kRead, "less": kRead, "more": kRead, "type": kRead, "strings": kRead,
	"xxd": kRead, "od": kRead, "find": kRead, "ls": kRead, "dir": kRead, "grep": kRead,
	"whoami": kProbe, "id": kProbe, "uname": kProbe, "hostname": kProbe, "ifconfig": kProbe, "ipconfig": kProbe,
	"env": kProbe, "printenv": kProbe, "set": kProbe, "systeminfo": kProbe, "nslookup": kProbe, "dig": kProbe,
	"ping": kProbe, "sleep": kProbe, "ps": kProbe, "netstat": kProbe, "getent": kProbe,
	"base64": kEncode, "openssl": kEncode, "gzip": kEncode, "tar": kEncode,
}

// zeroArg commands make sense with no argument at all ("; id").
var zeroArg = map[string]bool{"whoami": true, "id": true, "uname": true, "hostname": true, "ifconfig": true,
	"ipconfig": true, "env": true, "printenv": true, "systeminfo": true, "ps": true, "netstat": true,
	"reboot": true, "halt": true, "poweroff": true, "shutdown": true, "sh": true, "bash": true, "set": true}

// command is one command read from text.
type command struct {
	kind       cmdKind
	name       string // lower case base name
	start, end int    // of the command word (path included)
	args       int    // where its arguments start
	argsEnd    int    // where the command ends: a separator, a line end, a quote
}

// commandAt reads the command that starts at i, after spaces, "sudo",
// environment assignments, "exec", and a directory prefix.
func commandAt(s string, i int) command {
	i = skipSpace(s, i)
	for n := 0; n < 4; n++ {
		e := tokenEndN(s, i, 64)
		w := s[i:e]
		switch {
		case strings.EqualFold(w, "sudo"), strings.EqualFold(w, "nohup"), strings.EqualFold(w, "exec"),
			strings.EqualFold(w, "time"), strings.EqualFold(w, "command"):
			i = skipSpace(s, e)
			continue
		case strings.IndexByte(w, '=') > 0 && !strings.ContainsAny(w, "/\"'(") && isLetter(w[0]):
			i = skipSpace(s, e) // FOO=bar cmd
			continue
		}
		break
	}
	e := tokenEndN(s, i, 65)
	if e == i || e-i > 64 {
		return command{}
	}
	w := s[i:e]
	base := w
	if j := strings.LastIndexAny(base, "/\\"); j >= 0 {
		base = base[j+1:]
	}
	c := command{start: i, end: e, args: skipInline(s, e)}
	c.argsEnd = cmdEnd(s, e)
	if isDropPath(w) {
		c.kind, c.name = kExec, w
		return c
	}
	var buf [24]byte
	if len(base) == 0 || len(base) > len(buf) {
		return command{}
	}
	n := 0
	for j := 0; j < len(base); j++ {
		buf[n] = lower(base[j])
		n++
	}
	name := buf[:n]
	if n > 4 && string(name[n-4:]) == ".exe" {
		name = name[:n-4]
	}
	if k, ok := commands[string(name)]; ok {
		c.kind, c.name = k, string(name)
		return c
	}
	if len(name) > 5 && string(name[:5]) == "mkfs." {
		c.kind, c.name = kDestroy, "mkfs"
	}
	return c
}

// tokenEnd ends a shell word: at a space, a separator, a quote, a
// bracket, or after reach bytes.
func tokenEnd(s string, i int) int { return tokenEndN(s, i, reach) }

// tokenEndN is tokenEnd reading at most n bytes.
func tokenEndN(s string, i, n int) int {
	lim := min(len(s), i+n)
	for i < lim && !shellBreak[s[i]] {
		i++
	}
	return i
}

// shellBreak holds the bytes that end a shell word.
var shellBreak = func() (t [256]bool) {
	for _, c := range []byte(" \t\n\r\v\f;&|`'\"()<>{}$") {
		t[c] = true
	}
	return t
}()

// skipInline skips spaces on the same line.
func skipInline(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// cmdEnd returns where the command whose name ends at i ends.
func cmdEnd(s string, i int) int {
	lim := min(len(s), i+200)
	for j := i; j < lim; j++ {
		switch s[j] {
		case ';', '&', '|', '\n', '`', '\'', '"', ')':
			return backSpace(s, j)
		}
	}
	return backSpace(s, lim)
}

// isDropPath reports a program run from a place anyone can write to.
func isDropPath(w string) bool {
	for _, p := range []string{"/tmp/", "/dev/shm/", "/var/tmp/", "%temp%", "$tmpdir/", "/private/tmp/"} {
		if hasPrefixFold(w, 0, p) && len(w) > len(p) {
			return true
		}
	}
	return false
}

// argsShape reports whether what follows a command reads as its
// arguments rather than as prose: a flag, a path, a variable, a URL or
// host, or nothing where the command takes nothing.
func argsShape(s string, c command) bool {
	a := c.args
	if a >= len(s) || s[a] == '\n' || s[a] == '#' || strings.IndexByte(";&|)`'\"", s[a]) >= 0 {
		return zeroArg[c.name] || c.kind == kExec
	}
	if c.args == c.end {
		return false // "cat's", "id:"
	}
	switch ch := s[a]; {
	case ch == '-' || ch == '/' || ch == '~' || ch == '$' || ch == '\\' || ch == '%' || ch == '+' || ch == '*':
		return true
	case ch == '.' && a+1 < len(s) && (s[a+1] == '/' || s[a+1] == '.'):
		return true
	case ch == '<' || ch == '>':
		return true
	case c.name == "sleep" && isDigit(ch):
		return true
	case c.kind == kFetch || c.kind == kNet || c.kind == kProbe:
		// a host or URL: a word with a dot or "://", or an address
		e := tokenEnd(s, a)
		t := s[a:e]
		return strings.Contains(t, "://") || (strings.IndexByte(t, '.') > 0 && !strings.HasSuffix(t, "."))
	case c.kind == kShell:
		e := tokenEnd(s, a)
		t := s[a:e]
		return strings.HasSuffix(t, ".sh") || strings.HasSuffix(t, ".py") || strings.HasSuffix(t, ".pl") || strings.HasSuffix(t, ".ps1")
	}
	return false
}

// argsText is the command's argument text.
func (c command) argsText(s string) string {
	if c.args >= c.argsEnd {
		return ""
	}
	return s[c.args:c.argsEnd]
}

// impact grades a command placed by injection: the severity before
// context raises it.
func impact(s string, c command) int {
	args := c.argsText(s)
	switch c.kind {
	case kFetch:
		if fetchesCode(args) {
			return sevHigh
		}
		return sevMedium
	case kNet:
		if c.name == "ssh" || c.name == "scp" {
			return sevMedium
		}
		return sevHigh
	case kExec:
		return sevHigh
	case kShell:
		if strings.Contains(args, "-c") || strings.Contains(args, "-i") || strings.Contains(args, "-e") ||
			strings.Contains(args, "/tmp/") || strings.Contains(args, "/dev/shm/") {
			return sevHigh
		}
		return sevMedium
	case kDestroy:
		if c.name == "rm" && rmWipes(args) {
			return sevCritical
		}
		if c.name == "dd" || c.name == "mkfs" || c.name == "shred" || c.name == "format" {
			return sevHigh
		}
		return sevMedium
	case kPriv:
		return sevMedium
	case kRead:
		if pathSensitivity(args) >= sevHigh {
			return sevHigh
		}
		if pathSensitivity(args) == sevMedium {
			return sevMedium
		}
		return sevLow
	case kProbe:
		return sevMedium
	case kEncode:
		return sevLow
	}
	return sevNone
}

// fetchesCode reports download arguments that fetch something to run or
// from a bare address: an executable or script name, an IP literal, a
// file saved to a world-writable place.
func fetchesCode(args string) bool {
	for _, f := range strings.Fields(args) {
		f = strings.ToLower(strings.Trim(f, "'\""))
		for _, ext := range []string{".sh", ".py", ".pl", ".ps1", ".exe", ".bin", ".elf", ".dll", ".so", ".bat", ".vbs", ".hta"} {
			if strings.HasSuffix(f, ext) || (strings.Contains(f, "://") && strings.Contains(f, ext+"?")) {
				return true
			}
		}
		if isDropPath(f) {
			return true
		}
		if u, _, ok := nextURL(f, 0); ok {
			if _, _, ip := parseIPv4Loose(u.host); ip {
				return true
			}
		}
	}
	return false
}

// pathSensitivity grades the most sensitive path among the words of args.
func pathSensitivity(args string) int {
	best := sevNone
	for _, f := range strings.Fields(args) {
		if strings.ContainsAny(f, "/\\~") {
			best = max(best, classifyPath(normPath(strings.Trim(f, "'\"")), true))
		}
	}
	return best
}

// rmWipes reports rm arguments that delete recursively from the root, a
// home directory, a system directory or everything here.
func rmWipes(args string) bool {
	recursive := false
	var targets []string
	for _, f := range strings.Fields(args) {
		f = strings.Trim(f, "'\"")
		switch {
		case strings.HasPrefix(f, "--"):
			recursive = recursive || f == "--recursive" || f == "--no-preserve-root"
		case strings.HasPrefix(f, "-"):
			recursive = recursive || strings.ContainsAny(f, "rR")
		default:
			targets = append(targets, f)
		}
	}
	if !recursive {
		return false
	}
	for _, t := range targets {
		switch strings.ToLower(strings.TrimSuffix(t, "/*")) {
		case "", "/", "~", "~/", "*", "$home", "${home}", "/home", "/etc", "/usr", "/var", "/boot", "/bin", "/lib",
			"/root", "/opt", "/srv", "c:", "c:\\", "c:/", ".", "./", "/system", "/library", "/users":
			return true
		}
	}
	return false
}
