package unsafe

import (
	"slices"
	"strings"
)

// Orders in natural language to move data out are read as three parts
// near each other: a verb that moves data (send, forward, post, upload),
// something only the model or the user's machine holds (the
// conversation, the system prompt, all credentials, a key file, every
// e-mail), and a destination outside (an address, a URL, "an external
// server"). Text that talks about such orders rather than giving one is
// left alone: the order inside quotes, a negation just before the verb,
// or words of discussion in the same sentence ("example", "phrase",
// "why", "how").

// wordEv is a classified word.
type wordEv struct {
	cls        uint64
	start, end int32
	ord        int32 // its number among all the words of the text
	quoted     bool
}

// Derived classes, resolved from a word and the three words before it.
const (
	eModel  = wModel  // the model's own: conversation, system prompt, your instructions
	eSecret = wSecret // credentials in bulk or qualified: all passwords, the API key
	eBulk   = wData   // user data with a quantifier: all e-mails
)

// objectClasses are the classes a word keeps inside an identifier.
const objectClasses = wModel | wPrompt | wQualM | wSecret | wSecretS | wQualS | wData | wGeneric | wYour

// isTokenByte is a byte of a token that may be an identifier, a host, a
// path or an address.
func isTokenByte(c byte) bool { return byteClass[c]&cTok != 0 }

// identToken reads the token starting at i and reports its end and
// whether it is an identifier rather than a word: it holds a digit, an
// underscore, a slash, an "@", a dot or colon inside it, or a camelCase
// hump.
func identToken(s string, i int) (int, bool) {
	j := i
	prevLower := false
	for ; j < len(s); j++ {
		t := byteClass[s[j]]
		switch {
		case t&cTok == 0:
			return j, false
		case t&cMark != 0,
			t&cUpper != 0 && prevLower,
			(s[j] == '.' || s[j] == ':') && j > i && j+1 < len(s) && byteClass[s[j+1]]&(cLetter|cDigit) != 0:
			for j < len(s) && byteClass[s[j]]&cTok != 0 {
				j++
			}
			return j, true
		}
		prevLower = t&cLower != 0
	}
	return j, false
}

// httpMethod reports an upper-case word given as an HTTP method to a
// client: curl -X POST, --request POST, method: 'POST'.
func httpMethod(s string, i, j int) bool {
	for k := i; k < j; k++ {
		if byteClass[s[k]]&cUpper == 0 {
			return false
		}
	}
	pre := s[max(0, i-12):i]
	return strings.HasSuffix(pre, "-X ") || strings.HasSuffix(pre, "request ") || indexFold(pre, 0, "method") >= 0
}

// lexed is the word-level reading of a string.
type lexed struct {
	words     []wordEv
	sentences []int    // start of each sentence after the first (which starts at 0), ascending
	runs      [][2]int // runs of 128 bytes or more of the base64/hex alphabet
}

// minBlob is the shortest run of encoded text that is a blob.
const minBlob = 128

// lex classifies the words of s, tracking quotes and sentences. Only
// words of the lexicon are kept.
func lex(s string) lexed {
	var lx lexed // sentences start at 0 and at each entry of lx.sentences
	if len(s) >= 1024 {
		lx.sentences = make([]int, 0, len(s)/64+1)
		lx.words = make([]wordEv, 0, len(s)/32+1)
	}
	var recent [3]uint64 // classes of the last three words, most recent last
	sq, dq, cq := false, false, false
	ord := 0
	run := 0                  // start of the current run of the encoded alphabet
	tokEnd, ident := 0, false // the token read last, and whether it is an identifier
	qScan, qSpace := 0, false // how far the open quote was searched for a space, and whether one was found
	for i := 0; i < len(s); {
		c := s[i]
		if byteClass[c]&cLetter != 0 {
			j := i + 1
			prevLower := byteClass[c]&cLower != 0
			for j < len(s) {
				t := byteClass[s[j]]
				if t&cLetter == 0 || (t&cUpper != 0 && prevLower) {
					break
				}
				prevLower = t&cLower != 0
				j++
			}
			ord++
			var cls uint64
			// Letters glued to digits are part of an id or a hash
			// ("182c9cc9e"), not a word.
			if !(i > 0 && isDigit(s[i-1])) && !(j < len(s) && isDigit(s[j])) {
				cls = classAt(s, i, j)
			}
			before := recent[0] | recent[1] | recent[2]
			recent[0], recent[1], recent[2] = recent[1], recent[2], cls
			if cls == 0 {
				i = j
				continue
			}
			out := cls &^ (eModel | eSecret | eBulk)
			if cls&wModel != 0 || (cls&wPrompt != 0 && before&wQualM != 0) {
				out |= eModel
			}
			// Credentials count in bulk or with a quantifier ("all
			// passwords", "any API key"); the reader's own ("your API
			// key", in documentation) do not.
			if (cls&wSecret != 0 && before&wYour == 0) || (cls&(wSecret|wSecretS) != 0 && before&wQuant != 0) {
				out |= eSecret
			}
			if cls&wData != 0 && before&wQuant != 0 {
				out |= eBulk
			}
			if cls&wSend != 0 && before&wNeg != 0 {
				out |= wNeg // "don't send", "never forward": the verb is negated
			}
			// A word inside a host, a path, an address or an identifier
			// (leak.example.com, /api/send, process.env, secretStoreRef)
			// names a thing: it is no verb, no discussion, no negation.
			// Neither is an HTTP method given to a client (-X POST).
			if i >= tokEnd {
				a := i
				for a > 0 && i-a < 64 && isTokenByte(s[a-1]) {
					a--
				}
				tokEnd, ident = identToken(s, a)
			}
			if ident || httpMethod(s, i, j) {
				out &= objectClasses
			}
			// A quote counts when it holds a phrase: 'send the secrets to
			// …' is quoted speech, {method:'POST'} is a literal.
			quoted := false
			if sq || dq || cq {
				// Look for a space since the quote opened, once.
				for ; !qSpace && qScan < i; qScan++ {
					qSpace = isSpace(s[qScan])
				}
				quoted = qSpace || (j < len(s) && isSpace(s[j]))
			}
			lx.words = append(lx.words, wordEv{start: int32(i), end: int32(j), ord: int32(ord), cls: out, quoted: quoted})
			i = j
			continue
		}
		if byteClass[c]&cB64 == 0 {
			if i-run >= minBlob {
				lx.runs = append(lx.runs, [2]int{run, i})
			}
			run = i + 1
		}
		if byteClass[c]&cLexSpecial == 0 {
			i++
			continue
		}
		switch c {
		case '"':
			dq = !dq
			qScan, qSpace = i+1, false
		case '\'':
			prevL := i > 0 && isLetter(s[i-1])
			nextL := i+1 < len(s) && isLetter(s[i+1])
			switch {
			case prevL && nextL: // an apostrophe: don't, it's
			case sq:
				sq = false
			case nextL || i+1 < len(s) && isDigit(s[i+1]):
				sq = true
				qScan, qSpace = i+1, false
			}
		case '\n':
			sq, dq, cq = false, false, false
			lx.sentences = append(lx.sentences, i+1)
		case '.', '!', '?':
			if i+1 == len(s) || isSpace(s[i+1]) {
				lx.sentences = append(lx.sentences, i+1)
			}
		case 0xe2: // “ and ” (U+201C, U+201D)
			if i+2 < len(s) && s[i+1] == 0x80 {
				if s[i+2] == 0x9c {
					cq = true
					qScan, qSpace = i+3, false
				} else if s[i+2] == 0x9d {
					cq = false
				}
			}
		}
		i++
	}
	if len(s)-run >= minBlob {
		lx.runs = append(lx.runs, [2]int{run, len(s)})
	}
	return lx
}

// index is the ascending positions of one class of events, with cursors
// for windows that only move forward.
type index struct {
	pos, end []int
	lo, hi   int
}

// index collects the unquoted words of classes cls: an object or a
// destination inside a quoted phrase belongs to the quote, not to a verb
// outside it ("the snapshot includes 'send the secrets out'").
func (lx *lexed) index(cls uint64) *index {
	ix := &index{}
	for _, w := range lx.words {
		if w.cls&cls != 0 && !w.quoted {
			ix.pos = append(ix.pos, int(w.start))
			ix.end = append(ix.end, int(w.end))
		}
	}
	return ix
}

// indexAll is index counting quoted words too: talk about a quote is
// still talk.
func (lx *lexed) indexAll(cls uint64) *index {
	ix := &index{}
	for _, w := range lx.words {
		if w.cls&cls != 0 {
			ix.pos = append(ix.pos, int(w.start))
			ix.end = append(ix.end, int(w.end))
		}
	}
	return ix
}

func indexOf(pos []int) *index {
	ix := &index{pos: pos, end: make([]int, len(pos))}
	for i, p := range pos {
		ix.end[i] = p + 1
	}
	return ix
}

// within returns the first and last events in [a, b]; a and b MUST NOT
// decrease from one call to the next.
func (ix *index) within(a, b int) (first, last int, ok bool) {
	for ix.lo < len(ix.pos) && ix.pos[ix.lo] < a {
		ix.lo++
	}
	ix.hi = max(ix.hi, ix.lo)
	for ix.hi+1 < len(ix.pos) && ix.pos[ix.hi+1] <= b {
		ix.hi++
	}
	if ix.lo < len(ix.pos) && ix.pos[ix.lo] <= b && ix.hi < len(ix.pos) && ix.pos[ix.hi] <= b {
		return ix.lo, ix.hi, true
	}
	return 0, 0, false
}

// sentenceOf returns the bounds of the sentence holding p; p MUST NOT
// decrease from one call to the next (cursor in *cur, which counts the
// sentence starts passed).
func (lx *lexed) sentenceOf(p int, cur *int, n int) (int, int) {
	for *cur < len(lx.sentences) && lx.sentences[*cur] <= p {
		*cur++
	}
	start, end := 0, n
	if *cur > 0 {
		start = lx.sentences[*cur-1]
	}
	if *cur < len(lx.sentences) {
		end = lx.sentences[*cur]
	}
	return start, end
}

// span widens [a, b) by the events first..last of ix.
func (ix *index) span(first, last, a, b int) (int, int) {
	return min(a, ix.pos[first]), max(b, ix.end[last])
}

// Window sizes around a verb: an order names what to send and where
// within a few sentences.
const (
	winBefore = 200
	winAfter  = 400
)

// language reads instructions to send data out and covert channels.
func (x *exfilScan) language(lx *lexed) {
	var any uint64
	for _, w := range lx.words {
		any |= w.cls
	}
	if any&wSend != 0 && (any&wDest != 0 || len(x.dests) > 0) {
		x.instructions(lx)
	}
	if any&eModel != 0 && any&wEmit != 0 && any&(wUnit|wStego) != 0 {
		x.covert(lx)
	}
}

func (x *exfilScan) instructions(lx *lexed) {
	s := x.s
	slices.Sort(x.dests)
	strong := lx.index(eModel | eSecret)
	var paths *index // sensitive files named by path, read only when needed
	bulk := lx.index(eBulk)
	abstract := lx.index(wDest)
	concrete := indexOf(x.dests)
	meta := lx.indexAll(wMeta)
	cur := 0
	lastEnd := -1
	for _, v := range lx.words {
		if v.cls&wSend == 0 {
			continue
		}
		vs, ve := int(v.start), int(v.end)
		a, b := vs-winBefore, ve+winAfter
		ss, se := lx.sentenceOf(vs, &cur, len(s))
		sf, sl, hasStrong := strong.within(a, b)
		bf, bl, hasBulk := bulk.within(a, b)
		cf, cl, hasConcrete := concrete.within(a, b)
		af, al, hasAbstract := abstract.within(a, b)
		_, _, hasMeta := meta.within(ss, se)
		if v.quoted || v.cls&wNeg != 0 || hasMeta || !(hasConcrete || hasAbstract) {
			continue
		}
		var pf, pl int
		hasPath := false
		if !hasStrong {
			if paths == nil {
				paths = indexOf(sensitivePaths(s))
			}
			pf, pl, hasPath = paths.within(a, b)
		}
		sev := sevNone
		switch {
		case (hasStrong || hasPath) && hasConcrete:
			sev = sevHigh
		case (hasStrong || hasPath) && hasAbstract:
			sev = sevMedium
		case hasBulk && hasConcrete:
			sev = sevMedium
		}
		if sev == sevNone {
			continue
		}
		lo, hi := vs, ve
		if hasStrong {
			lo, hi = strong.span(sf, sl, lo, hi)
		}
		if hasPath {
			lo, hi = paths.span(pf, pl, lo, hi)
		}
		if hasBulk {
			lo, hi = bulk.span(bf, bl, lo, hi)
		}
		if hasConcrete {
			lo, hi = concrete.span(cf, cl, lo, hi)
			hi = max(hi, destEnd(s, concrete.pos[cl]))
		} else if hasAbstract {
			lo, hi = abstract.span(af, al, lo, hi)
		}
		if lo < lastEnd {
			continue // the same order, seen from its next verb
		}
		x.k.add(ruleInstruction, sev, lo, hi)
		lastEnd = hi
	}
}

// destEnd is the end of the address or URL token starting at p.
func destEnd(s string, p int) int {
	e := p
	for e < len(s) && !isSpace(s[e]) && strings.IndexByte("\"'<>`)", s[e]) < 0 {
		e++
	}
	for e > p && strings.IndexByte(".,;:!?", s[e-1]) >= 0 {
		e--
	}
	return e
}

// pathKeys finds the anchors of sensitive paths.
var pathKeys = newKeywordSet(pathAnchors)

// sensitivePaths lists where paths to secret-bearing files start in s.
func sensitivePaths(s string) []int {
	var out []int
	h := pathKeys.m.find(s)
	for _, anc := range pathAnchors {
		i := 0
		for _, j := range pathKeys.at(h, anc) {
			if j < i || len(out) >= maxPerRule {
				continue
			}
			a, b := pathToken(s, j)
			i = max(j+len(anc), b)
			tok := s[a:b]
			if looksLikePath(tok) && classifyPath(normPath(tok), false) >= sevMedium {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// covert finds orders to leak the model's prompt or conversation a piece
// at a time or hidden in the form of an answer: one letter per reply,
// the first letters of lines, invisible characters, spacing, colours.
func (x *exfilScan) covert(lx *lexed) {
	s := x.s
	emit := lx.index(wEmit)
	unit := lx.index(wUnit)
	sel := lx.index(wSel)
	stego := lx.index(wStego)
	meta := lx.indexAll(wMeta)
	cur := 0
	lastEnd := -1
	for _, m := range lx.words {
		if m.cls&eModel == 0 || m.quoted {
			continue
		}
		ms, me := int(m.start), int(m.end)
		a, b := ms-300, me+300
		ss, se := lx.sentenceOf(ms, &cur, len(s))
		_, _, hasEmit := emit.within(a, b)
		uf, ul, hasUnit := unit.within(a, b)
		_, _, hasSel := sel.within(a, b)
		tf, tl, hasStego := stego.within(a, b)
		_, _, hasMeta := meta.within(ss, se)
		nStego := 0
		if hasStego {
			nStego = tl - tf + 1
		}
		if !hasEmit || hasMeta || !((hasUnit && hasSel) || nStego >= 2 || (hasStego && hasUnit)) {
			continue
		}
		lo, hi := ms, me
		if hasUnit {
			lo, hi = unit.span(uf, ul, lo, hi)
		}
		if hasStego {
			lo, hi = stego.span(tf, tl, lo, hi)
		}
		if lo < lastEnd {
			continue
		}
		x.k.add(ruleCovert, sevMedium, lo, hi)
		lastEnd = hi
	}
}
