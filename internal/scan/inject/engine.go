package inject

import (
	"math/bits"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// hit is one piece of evidence, placed in the text its call analyzed.
type hit struct {
	name       string
	fam        family
	base       float64 // the rule's weight
	w          float64 // weight after context, obfuscation and provenance
	prov       float64 // the provenance part of w
	start, end int
	obf        bool // found only by undoing an obfuscation
	encoded    bool // found in a decoded payload (or the rot13 view)
	instr      bool
	jail       bool // category jailbreak
	upgrade    uint32
	upTo       float64
	// in is the span in the decoded text an encoded hit came from (its
	// start and end are the encoded segment's), for telling apart and
	// relating the evidence inside one payload.
	in [2]int
}

// call analyzes one text: the input, or a payload decoded from it.
type call struct {
	d     *Detector
	text  string
	n     Normalized
	hits  []hit
	depth int
	last  []int    // per rule: end of its last match in the current view (0: none)
	set   []uint16 // the rules last holds a match for
	toks  []int32  // start of each word of the current view
	fires []fire
	occ   *occurrences
}

// scratch is reusable per-call memory: the words and triggers of a view
// are the bulk of what a scan allocates.
type scratch struct {
	toks  []int32
	fires []fire
	last  []int
	set   []uint16
	occ   occurrences
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// analyze gathers the evidence in text, decoded payloads included.
func (d *Detector) analyze(text string, depth int) []hit {
	sc := scratchPool.Get().(*scratch)
	defer func() {
		if cap(sc.toks) <= 1<<20 { // do not keep a huge input's buffers
			scratchPool.Put(sc)
		}
	}()
	if len(sc.last) < len(d.rules.rules) {
		sc.last = make([]int, len(d.rules.rules))
	}
	c := &call{d: d, text: text, depth: depth, n: Normalize(text), last: sc.last[:len(d.rules.rules)], set: sc.set[:0], toks: sc.toks[:0], fires: sc.fires[:0], occ: &sc.occ}
	defer func() {
		c.resetView()
		sc.toks, sc.fires, sc.set = c.toks[:0], c.fires[:0], c.set[:0]
	}()
	rot := false
	c.scanView(c.n.Text, false, false, &rot)
	if c.n.Leet != "" {
		c.scanView(c.n.Leet, true, false, nil)
	}
	if rot {
		if v, ok := c.n.Rot13(); ok {
			c.scanView(v, false, true, nil)
		}
	}
	if c.n.NonLatin {
		c.multilingual()
	}
	c.transcript()
	c.hiddenComments()
	c.hiddenChars()
	if depth < d.maxDepth {
		c.payloads()
	}
	return c.hits
}

// scanView tries the rules where their start words begin in v and the
// words they need are near.
func (c *call) scanView(v string, leet, rot bool, rotHint *bool) {
	rs := c.d.rules
	tr := rs.plain
	if leet {
		tr = rs.leet
	}
	c.resetView()
	c.toks, c.fires = tr.scan(v, c.toks[:0], c.fires[:0], c.occ, rotHint)
	clauseStart, clause := -1, -1
	lastTok, compactTok := int32(-1), false
	for _, f := range c.fires {
		if len(c.hits) >= maxRawHits {
			return // evidence enough; the rest of a flood adds nothing
		}
		pos := int(f.pos)
		if pos < clauseStart || pos >= clause {
			clauseStart, clause = pos, clauseEnd(v, pos)
		}
		tokStart, tokEnd := int(c.toks[f.tok]), int(f.tokEnd)
		if f.tok != lastTok { // fires of one word come together
			lastTok = f.tok
			compactTok = tokEnd-tokStart >= compactMin && !c.camel(tokStart, tokEnd)
		}
		// The needed words are looked for after the trigger's own word
		// (which would satisfy a need it starts, "write" in "write a
		// story"), or in all of a compact run.
		k0 := int(f.tok) + 1
		if compactTok {
			k0--
		}
		for x, ri := range tr.rules[f.id] {
			if pos < c.last[ri] {
				continue // inside this rule's last match
			}
			r := rs.rules[ri]
			if sufs := tr.sufs[f.id][x]; sufs != nil && !compactTok && !c.d.exhaustive &&
				!slices.Contains(sufs, v[tokStart+len(tr.words[f.id]):tokEnd]) {
				continue // "sends" does not start a rule written for "send"
			}
			end := min(len(v), pos+r.max)
			if !r.cross {
				end = min(end, clause)
			}
			if !r.needMask[0].empty() && !c.d.exhaustive {
				lastTok := len(c.toks) // near bounds the first set of needs only
				if r.near > 0 {
					lastTok = int(f.tok) + r.near + 1
				}
				if !c.holds(r.needMask[0], k0, lastTok, end) ||
					(!r.needMask[1].empty() && !c.holds(r.needMask[1], k0, len(c.toks), end)) {
					continue
				}
			}
			if r.pre != nil && !r.pre(v, pos) {
				continue
			}
			re := r.re
			if leet {
				re = r.reLeet
			}
			loc := re.FindStringSubmatchIndex(v[pos:end])
			if loc == nil || loc[1] == 0 {
				continue
			}
			// The start word must end where the word ends ("encode" does
			// not start "encoded password"), and so must the match ("ai"
			// does not end "aiding"), unless the text is compact.
			// (compact: the match lies in the trigger's word, a run of
			// letters too long to be one word.)
			inCompact := compactTok && pos+loc[1] <= tokEnd
			if g := pos + loc[3]; g > pos && g < len(v) && symbol(v[g-1]) >= 0 && symbol(v[g]) >= 0 && !inCompact {
				continue
			}
			if e := pos + loc[1]; e < len(v) && symbol(v[e-1]) >= 0 && symbol(v[e]) >= 0 && !inCompact {
				continue
			}
			if c.last[ri] == 0 {
				c.set = append(c.set, ri)
			}
			c.last[ri] = pos + loc[1]
			c.add(r, v, pos, pos+loc[1], leet, rot, inCompact)
		}
	}
}

// resetView forgets what the last view's scan recorded, touching only
// what it set.
func (c *call) resetView() {
	for _, ri := range c.set {
		c.last[ri] = 0
	}
	c.set = c.set[:0]
	c.occ.reset()
}

// maxRawHits bounds the evidence one text yields before scoring: an
// input made of attack phrases repeated a hundred thousand times costs no
// more than its first few thousand.
const maxRawHits = 4096

// holds reports whether a word in [k0, k1) starting before end holds a
// class of m. Words are asked for in increasing k0 (fires come in text
// order), so each class's search resumes where it stopped.
func (c *call) holds(m mask, k0, k1, end int) bool {
	for w, bits := range m {
		for bits != 0 {
			b := w*64 + trailingZeros(bits)
			bits &= bits - 1
			occ := c.occ.lists[b]
			i := c.occ.next[b]
			for i < len(occ) && int(occ[i]) < k0 {
				i++
			}
			c.occ.next[b] = i
			if i < len(occ) && int(occ[i]) < k1 && int(c.toks[occ[i]]) < end {
				return true
			}
		}
	}
	return false
}

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }

// clauseEnd returns the end of the sentence or line that starts at or
// holds pos, terminator included, looking at most 300 bytes ahead: most
// patterns do not run past it, and a short window keeps each attempt
// cheap.
func clauseEnd(v string, pos int) int {
	for i := pos; i < len(v) && i-pos < 300; i++ {
		switch v[i] {
		case '\n':
			return i + 1
		case '.', '!', '?', ';':
			if i+1 == len(v) || v[i+1] == ' ' || v[i+1] == '\n' {
				return i + 1
			}
		}
	}
	return min(len(v), pos+300)
}

// add weighs a match of r at v[s:e] in its context and keeps it.
func (c *call) add(r *rule, v string, s, e int, leet, rot, compact bool) {
	for e > s && (v[e-1] == ' ' || v[e-1] == '\n' || v[e-1] == '\t') {
		e--
	}
	w := r.w
	for _, b := range r.bonus {
		lo, hi := s, e
		switch {
		case b.back > 0 && b.ahead == 0:
			lo, hi = max(0, s-b.back), s
		case b.back > 0 || b.ahead > 0:
			lo, hi = max(0, s-b.back), min(len(v), e+b.ahead)
		}
		if b.re.MatchString(v[lo:hi]) {
			w += b.w
		}
	}
	w += contextWeight(v, s, e, r)
	os, oe := c.n.Span(s, e)
	if r.upper && !allUpper(c.text[os:oe]) {
		return
	}
	h := hit{name: r.name, fam: r.fam, base: r.w, w: w, start: os, end: oe, instr: r.instr,
		jail: r.category() != "injection", upgrade: r.upgrade, upTo: r.upTo}
	h.obf = c.n.Obfuscated(s, e) || compact || (leet && leetUsed(c.n.Text[s:e]))
	if rot {
		h.name, h.encoded = RuleEncoded, true
	}
	c.hits = append(c.hits, h)
}

func allUpper(s string) bool {
	letters := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			return false
		case c >= 'A' && c <= 'Z':
			letters++
		}
	}
	return letters > 0
}

// camel reports whether the word at v[s:e] of a view was written in
// camelCase or PascalCase in the original (an identifier, not words run
// together to dodge word boundaries).
func (c *call) camel(s, e int) bool {
	os, oe := c.n.Span(s, e)
	w := c.text[os:oe]
	for i := 1; i < len(w); i++ {
		if w[i] >= 'A' && w[i] <= 'Z' && w[i-1] >= 'a' && w[i-1] <= 'z' {
			return true
		}
	}
	return false
}

// leetUsed reports whether the text had leet characters where Leet has letters.
func leetUsed(t string) bool { return strings.ContainsAny(t, "013457@$|!") }

// Context that changes what words mean.
var (
	// mention words say a quoted phrase is talked about, not said.
	mentionWords = wordSet(`says said say saying quote quotes quoted quoting phrase phrases example examples like such called named
		string strings literal sample samples fixture fixtures test tests pattern patterns attack attacks injection injections
		jailbreak jailbreaks detector detectors detection flag flagged flags classify classified annotate recognize threat malicious
		paraphrase paraphrases studies study evaluates measures guidance article paper blog documentation docs doc changelog
		postmortem allowlist regression evidence analysts analyst training lesson quiz slide workshop trainer owasp research
		researchers overreact risky unsafe manual recipe film movie book novel told reads read includes included including contains
		containing appears appear displays lists listed list refuse refused blocked guardrail defenses defense explains explain
		describes describe mentions mention notes note coverage snapshot assert assert_flagged red-team benchmark corpus corpora
		according transcript warns warning means meaning translate translation definition term terms keyword keywords rule rules
		signature signatures heuristic regex classifier labelled labeled dataset`)
	// strongMention words say the whole sentence is about attacks.
	strongMention = wordSet(`example examples phrase phrases quote quoted fixture fixtures detector detectors classify
		annotate recognize paraphrases benchmark corpus corpora guidance owasp postmortem allowlist regression analysts
		overreact snapshot assert_flagged dataset signature signatures classifier heuristic`)
	negation = regexp.MustCompile(`(?:\bnot|\bnever|n't|\bdont|\bno|\bwithout|\bavoid|\brefuse to|\bnor|\bcannot)\s+(?:[a-z'-]+\s+){0,2}$`)
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// contextWeight lowers evidence that is quoted as an example, talked
// about, or negated ("never reveal the system prompt" is advice). A
// harmful request is not weakened by quotes: splitting one into quoted
// parts is a way of asking it.
func contextWeight(v string, s, e int, r *rule) float64 {
	d := 0.0
	ls, le := lineAround(v, s, e, 400)
	if qs, qe, ok := quoteAround(v, ls, le, s, e); ok && r.fam != famHarm {
		if countWords(v, ls, le, qs, qe, mentionWords) > 0 || codeLiteral(v, ls, qs) {
			d -= 4
		} else {
			d -= 1.2
		}
	} else if r.fam != famFraming && r.fam != famHarm {
		ss, se := sentenceAround(v, s, e)
		if countWords(v, ss, se, s, e, strongMention) >= 2 {
			d -= 1.5
		}
	}
	if r.neg && negation.MatchString(v[max(0, s-40):s]) {
		d -= 3
	}
	return d
}

// lineAround returns the line holding [s, e), at most limit bytes either side.
func lineAround(v string, s, e, limit int) (int, int) {
	ls := s
	for ls > 0 && s-ls < limit && v[ls-1] != '\n' {
		ls--
	}
	le := e
	for le < len(v) && le-e < limit && v[le] != '\n' {
		le++
	}
	return ls, le
}

// sentenceAround returns the sentence holding [s, e), at most 300 bytes
// either side.
func sentenceAround(v string, s, e int) (int, int) {
	ss := s
	for ss > 0 && s-ss < 300 && !(v[ss-1] == '\n' || (ss >= 2 && strings.IndexByte(".!?;", v[ss-2]) >= 0 && v[ss-1] == ' ')) {
		ss--
	}
	se := e
	for se < len(v) && se-e < 300 && v[se] != '\n' && !(strings.IndexByte(".!?;", v[se]) >= 0 && (se+1 == len(v) || v[se+1] == ' ')) {
		se++
	}
	return ss, se
}

// quoteAround finds a quotation on the line [ls, le) that holds [s, e).
// An apostrophe inside a word ("don't") is not a quote.
func quoteAround(v string, ls, le, s, e int) (int, int, bool) {
	for _, q := range []byte{'"', '`', '\''} {
		open := -1
		for i := ls; i < s; i++ {
			if v[i] != q {
				continue
			}
			switch {
			case open < 0 && opens(v, i, q):
				open = i
			case open >= 0 && closes(v, i, q):
				open = -1
			}
		}
		if open < 0 {
			continue
		}
		for i := e; i < le; i++ {
			if v[i] == q && closes(v, i, q) {
				return open, i + 1, true
			}
		}
	}
	return 0, 0, false
}

func wordByte(c byte) bool { return symbol(c) >= 0 || c >= utf8.RuneSelf }

func opens(v string, i int, q byte) bool {
	if q != '\'' {
		return true
	}
	return (i == 0 || !wordByte(v[i-1])) && i+1 < len(v) && v[i+1] != ' '
}

func closes(v string, i int, q byte) bool {
	if q != '\'' {
		return true
	}
	return (i+1 == len(v) || !wordByte(v[i+1])) && i > 0 && v[i-1] != ' '
}

// codeLiteral reports whether the quotation opening at qs is a string
// literal in code: after "=", "(", "," or "[", past a raw-string prefix.
// (Not after ":" — a JSON value is how a forged message is written.)
func codeLiteral(v string, ls, qs int) bool {
	i := qs
	for i > ls && strings.IndexByte("r#@ ", v[i-1]) >= 0 {
		i--
	}
	return i > ls && strings.IndexByte("=(,[", v[i-1]) >= 0 && qs-i < 4
}

// countWords counts the words of set in [ls, le) outside [xs, xe).
func countWords(v string, ls, le, xs, xe int, set map[string]bool) int {
	n := 0
	for i := ls; i < le; {
		if i >= xs && i < xe {
			i = xe
			continue
		}
		if !wordByte(v[i]) && v[i] != '_' && v[i] != '-' {
			i++
			continue
		}
		j := i
		for j < le && (wordByte(v[j]) || v[j] == '_' || v[j] == '-') && !(j >= xs && j < xe) {
			j++
		}
		if set[v[i:j]] {
			n++
		}
		i = j
	}
	return n
}
