package unsafe

import (
	"slices"
	"strings"
)

// reverseShells finds a shell handed to a remote host.
func reverseShells(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	for _, dev := range []string{"/dev/tcp/", "/dev/udp/"} {
		for _, p := range unsafeKeys.at(h, dev) {
			if k.full(ruleReverseShell) {
				return
			}
			i := p + len(dev)
			ls := lineStart(s, p, 120)
			k.add(ruleReverseShell, sevCritical, max(ls, tokenStartCmd(s, p)), tokenEnd(s, i))
		}
	}
	for _, nc := range []string{"nc", "ncat", "netcat"} {
		done := 0
		for _, p := range unsafeKeys.at(h, nc) {
			if k.full(ruleReverseShell) {
				return
			}
			i := p + len(nc)
			if p < done || !wordAt(s, p, nc) || (p > 0 && s[p-1] == '.') {
				continue
			}
			le := lineEnd(s, i, 200)
			done = le
			rest := s[i:le]
			for _, fl := range []string{" -e ", " -c ", " --exec ", " --sh-exec "} {
				x := strings.Index(rest, fl)
				if x < 0 {
					continue
				}
				arg := strings.ToLower(rest[x+len(fl) : tokenEnd(rest, x+len(fl))])
				if strings.Contains(arg, "sh") || strings.Contains(arg, "cmd") || strings.Contains(arg, "powershell") {
					k.add(ruleReverseShell, sevCritical, p, i+tokenEnd(rest, x+len(fl)))
					break
				}
			}
		}
	}
	done := 0
	for _, p := range unsafeKeys.at(h, "mkfifo") {
		if k.full(ruleReverseShell) {
			return
		}
		if p < done {
			continue
		}
		i := p + 6
		le := lineEnd(s, i, 300)
		done = le
		for _, w := range []string{"nc ", "ncat ", "netcat ", "telnet ", "openssl s_client", "socat "} {
			if x := indexFold(s[i:le], 0, w); x >= 0 {
				k.add(ruleReverseShell, sevCritical, p, le)
				break
			}
		}
	}
	done = 0
	for _, p := range unsafeKeys.at(h, "socat") {
		if k.full(ruleReverseShell) {
			return
		}
		if p < done {
			continue
		}
		i := p + 5
		le := lineEnd(s, i, 300)
		done = le
		if x := indexFold(s[i:le], 0, "exec:"); x >= 0 || indexFold(s[i:le], 0, "system:") >= 0 {
			if indexFold(s[i:le], 0, "tcp") >= 0 || indexFold(s[i:le], 0, "udp") >= 0 || indexFold(s[i:le], 0, "openssl") >= 0 {
				k.add(ruleReverseShell, sevCritical, p, le)
			}
		}
	}
	// Scripted reverse shells: a socket connected out whose streams are
	// handed to a shell or an evaluator.
	last := -1
	for _, p := range unsafeKeys.at(h, "socket") {
		if k.full(ruleReverseShell) {
			return
		}
		if p < last {
			continue
		}
		lo, hi := max(0, p-300), min(len(s), p+400)
		last = hi
		w := s[lo:hi]
		if indexFold(w, 0, "connect") < 0 && indexFold(w, 0, "tcpclient") < 0 {
			continue
		}
		for _, h := range []string{"dup2", "pty.spawn", "/bin/sh", "/bin/bash", "cmd.exe", "iex", "invoke-expression"} {
			if x := indexFold(w, 0, h); x >= 0 && (h != "iex" || wordAt(w, x, "iex")) {
				k.add(ruleReverseShell, sevCritical, lo+strings.LastIndexAny(w[:p-lo], "\n")+1, hi)
				break
			}
		}
	}
}

// tokenStartCmd is the start of the command that holds position p: the
// byte after the previous separator on its line.
func tokenStartCmd(s string, p int) int {
	lo := lineStart(s, p, 120)
	if j := strings.LastIndexAny(s[lo:p], ";&|`'\"("); j >= 0 {
		return skipSpace(s, lo+j+1)
	}
	return skipSpace(s, lo)
}

// destructive finds commands that destroy on their own, injected or not:
// rm -rf of the root or a home, a fork bomb, overwriting or formatting a
// disk.
func destructive(k *sink, s string, h hits) {
	if h.none() {
		return
	}
	done := 0
	for _, p := range unsafeKeys.at(h, "rm") {
		if k.full(ruleCommand) {
			return
		}
		if p < done {
			continue
		}
		if !wordAt(s, p, "rm") || (p > 0 && strings.IndexByte(";&|`$(", s[p-1]) < 0 && !isSpace(s[p-1]) && s[p-1] != '\'' && s[p-1] != '"') {
			continue
		}
		c := commandAt(s, p)
		done = c.argsEnd
		if c.name == "rm" && rmWipes(c.argsText(s)) {
			k.add(ruleCommand, sevCritical, p, c.argsEnd)
		}
	}
	for _, p := range append(slices.Clone(unsafeKeys.at(h, "(){")), unsafeKeys.at(h, "() {")...) {
		if k.full(ruleCommand) {
			return
		}
		a := p
		for a > 0 && p-a < 16 && (isWord(s[a-1]) || s[a-1] == ':') {
			a--
		}
		name := s[a:p]
		if name == "" {
			continue
		}
		w := s[p:min(len(s), p+40)]
		if strings.Contains(strings.ReplaceAll(w, " ", ""), name+"|"+name+"&") {
			k.add(ruleCommand, sevCritical, a, min(len(s), p+40))
		}
	}
	for _, d := range []string{"of=/dev/sd", "of=/dev/nvme", "of=/dev/hd", "of=/dev/xvd", "of=/dev/vd", "of=/dev/mmcblk"} {
		if ps := unsafeKeys.at(h, d); len(ps) > 0 && !k.full(ruleCommand) {
			k.add(ruleCommand, sevCritical, tokenStartCmd(s, ps[0]), tokenEnd(s, ps[0]))
		}
	}
	for _, p := range unsafeKeys.at(h, "mkfs") {
		if k.full(ruleCommand) {
			return
		}
		i := p + 4
		le := lineEnd(s, i, 80)
		if x := strings.Index(s[i:le], "/dev/"); x >= 0 {
			k.add(ruleCommand, sevCritical, p, tokenEnd(s, i+x))
		}
	}
}
