package unsafe

import (
	"slices"
	"strings"
)

// A poisoned description gives the model orders its user does not see.
// Each signal below is a piece of such an order; one alone is weak (real
// descriptions say "IMPORTANT" or "use X instead"), and a description is
// reported when signals near each other add up.

// signal weights
const (
	wtWeak   = 1
	wtMedium = 2
	wtStrong = 3
)

type tpSignal struct {
	start, end, weight int
}

// pseudoTags are markup a model reads as authority and a UI may hide.
var pseudoTags = []string{"important", "system", "instruction", "instructions", "secret", "hidden", "admin",
	"assistant", "ai", "llm", "critical", "override", "context", "model", "note", "sys", "inst", "agent", "rules"}

// hiddenInstructions scores signals within clusters and reports each
// cluster that reaches medium.
func hiddenInstructions(k *sink, s string) {
	var sig []tpSignal
	sig = append(sig, tagSignals(s)...)
	sig = append(sig, phraseSignals(s)...)
	// A key file named in a description is odd enough to report alone; a
	// system file may be named as what the tool refuses to read.
	for _, p := range sensitivePaths(s) {
		a, b := pathToken(s, p)
		w := wtWeak
		if classifyPath(normPath(s[a:b]), false) >= sevHigh {
			w = wtMedium
		}
		sig = append(sig, tpSignal{a, b, w})
	}
	if len(sig) == 0 {
		return
	}
	sortSignals(sig)
	// A cluster is the signals within 512 bytes of its first: one order
	// is a few sentences. It must hold a signal stronger than weak.
	for i := 0; i < len(sig); {
		j, total, end, strongest := i, 0, sig[i].end, 0
		for j < len(sig) && sig[j].start <= sig[i].start+512 {
			total += sig[j].weight
			end = max(end, sig[j].end)
			strongest = max(strongest, sig[j].weight)
			j++
		}
		sev := sevNone
		switch {
		case strongest < wtMedium:
		case total >= 6:
			sev = sevCritical
		case total >= 4:
			sev = sevHigh
		case total >= 2:
			sev = sevMedium
		}
		if sev > sevNone {
			k.add(ruleHiddenInstruction, sev, sig[i].start, end)
		}
		i = j
	}
}

func sortSignals(sig []tpSignal) {
	slices.SortStableFunc(sig, func(a, b tpSignal) int { return a.start - b.start })
}

// tagSignals finds <important>, </system>, <!-- … -->, [INST] and the
// like.
func tagSignals(s string) []tpSignal {
	var out []tpSignal
	closeAt := 0 // the next "-->" at or after the last "<!--"
	for i := 0; i < len(s) && len(out) < 64; {
		j := strings.IndexAny(s[i:], "<[")
		if j < 0 {
			break
		}
		p := i + j
		i = p + 1
		if s[p] == '<' && strings.HasPrefix(s[p:], "<!--") {
			if closeAt < p {
				if e := strings.Index(s[p:], "-->"); e >= 0 {
					closeAt = p + e
				} else {
					closeAt = len(s)
				}
			}
			if closeAt < len(s) && closeAt-p <= 4096 {
				out = append(out, tpSignal{p, closeAt + 3, wtMedium})
				i = closeAt + 3
			}
			continue
		}
		q := p + 1
		if q < len(s) && s[q] == '/' {
			q++
		}
		e := q
		for e < len(s) && e-q < 16 && (isLetter(s[e]) || s[e] == '_' || s[e] == '-') {
			e++
		}
		closer := byte('>')
		if s[p] == '[' {
			closer = ']'
		}
		if e == q || e >= len(s) || s[e] != closer {
			continue
		}
		name := strings.ToLower(s[q:e])
		for _, t := range pseudoTags {
			if name == t {
				w := wtMedium
				if s[p] == '[' && name != "inst" && name != "system" {
					w = wtWeak
				}
				out = append(out, tpSignal{p, e + 1, w})
				break
			}
		}
	}
	return out
}

// phraseSignals reads the words of s for orders.
func phraseSignals(s string) []tpSignal {
	lx := lex(s)
	ws := lx.words
	var out []tpSignal
	// near returns the first word after ws[i], at most n words on, with a
	// class of cls; -1 when none.
	near := func(i, n int, cls uint64) int {
		if i < 0 {
			return -1
		}
		for j := i + 1; j < len(ws) && int(ws[j].ord) <= int(ws[i].ord)+n; j++ {
			if ws[j].cls&cls != 0 {
				return j
			}
		}
		return -1
	}
	next := func(i int, cls uint64) bool {
		return i+1 < len(ws) && ws[i+1].ord == ws[i].ord+1 && ws[i+1].cls&cls != 0
	}
	sig := func(a, b, w int) { out = append(out, tpSignal{int(ws[a].start), int(ws[b].end), w}) }
	for i := 0; i < len(ws) && len(out) < 256; i++ {
		c := ws[i].cls
		// Secrecy: "do not tell the user", "without informing the user",
		// "never mention this to anyone".
		if c&tNeg != 0 {
			if t := near(i, 3, tTell); t >= 0 {
				if u := near(t, 4, tUser); u >= 0 {
					sig(i, u, wtStrong)
				} else if near(t, 2, tThis) >= 0 {
					sig(i, t, wtMedium)
				}
			}
		}
		if c&tHide != 0 {
			if f := near(i, 4, tFrom); f >= 0 && near(f, 2, tUser) >= 0 {
				sig(i, near(f, 2, tUser), wtStrong)
			}
		}
		// Precondition: "before using this tool, read …".
		if c&tBefore != 0 && next(i, tUsing) {
			if a := near(i+1, 12, tAct); a >= 0 {
				sig(i, a, wtWeak) // real tools say so too; what it makes the model do weighs more
			}
		}
		// Override: "ignore previous instructions", "takes precedence".
		if c&tIgnore != 0 {
			if j := near(i, 4, tRules); j >= 0 {
				sig(i, j, wtStrong)
			}
		}
		if c&tPrec != 0 && i > 0 && ws[i-1].ord == ws[i].ord-1 && ws[i-1].cls&tTakes != 0 {
			sig(i-1, i, wtMedium)
		}
		// Smuggling: "pass its content as 'notes'", "include the API key
		// in the … parameter".
		if c&tPass != 0 {
			if j := near(i, 8, tParam); j >= 0 {
				sig(i, j, wtMedium)
			} else if j := near(i, 6, tAsIn); j >= 0 && quotedName(s, int(ws[j].end)) {
				sig(i, j, wtMedium)
			}
			if j := near(i, 5, tSecretObj); j >= 0 {
				sig(i, j, wtWeak)
			}
		}
		// Coercion: "otherwise the tool will not work".
		if c&tOtherwise != 0 || (c&tOr != 0 && next(i, tElse)) {
			if j := near(i, 6, tFail); j >= 0 {
				sig(i, j, wtWeak)
			}
		}
		// Shadowing another tool: "instead of calling X".
		if c&tInstead != 0 && next(i, tOf) && next(i+1, tUsing) {
			sig(i, i+2, wtWeak)
		}
		if c&tImportant != 0 && strings.HasPrefix(s[ws[i].start:], "IMPORTANT") {
			sig(i, i, wtWeak)
		}
	}
	// Sending to an address or URL named in the description.
	x := exfilScan{s: s, k: sink{text: s}, destsOnly: true}
	x.urls()
	x.emails()
	if len(x.dests) > 0 {
		slices.Sort(x.dests)
		secret := lx.index(eModel | eSecret)
		for _, v := range ws {
			if v.cls&wSend == 0 || v.cls&wNeg != 0 {
				continue
			}
			vs, ve := int(v.start), int(v.end)
			j, _ := slices.BinarySearch(x.dests, ve)
			if j < len(x.dests) && x.dests[j]-ve < 120 {
				w := wtWeak
				if _, _, ok := secret.within(vs-200, ve+200); ok {
					w = wtMedium
				}
				out = append(out, tpSignal{vs, destEnd(s, x.dests[j]), w})
			}
		}
	}
	return out
}

// quotedName reports a quoted identifier right after i: 'sidenote'.
func quotedName(s string, i int) bool {
	i = skipSpace(s, i)
	if i >= len(s) || !isQuote(s[i]) {
		return false
	}
	e := i + 1
	for e < len(s) && isWord(s[e]) {
		e++
	}
	return e > i+1 && e < len(s) && s[e] == s[i]
}
