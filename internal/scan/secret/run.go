package secret

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/scan"
)

// runRules runs every triggered format rule, each by its plan.
func (d *Detector) runRules(text string, sc *scratch) {
	sc.touched = sc.touched[:0]
	trigger := func(ri int32) *ruleState {
		st := &sc.state[ri]
		if !st.on {
			st.on = true
			st.full = false
			st.wins = st.wins[:0]
			st.starts = st.starts[:0]
			sc.touched = append(sc.touched, ri)
		}
		return st
	}
	for _, ri := range d.always {
		trigger(ri).full = true
	}
	for _, h := range sc.hits {
		if h.pat >= d.nRulePats {
			continue
		}
		klen := d.ac.lens[h.pat]
		for _, ri := range d.patRules[h.pat] {
			st := trigger(ri)
			if st.full {
				continue
			}
			r := &d.rules[ri]
			switch r.reach.plan {
			case planLed:
				st.starts = append(st.starts, h.end-klen)
			case planWindowed:
				w := window{start: max(h.end-klen-r.reach.maxLen-windowMargin, 0), end: min(h.end+r.reach.maxLen+windowMargin, len(text))}
				if n := len(st.wins); n > 0 && w.start <= st.wins[n-1].end {
					st.wins[n-1].start = min(st.wins[n-1].start, w.start)
					st.wins[n-1].end = max(st.wins[n-1].end, w.end)
					continue
				}
				st.wins = append(st.wins, w)
			default:
				st.full = true
			}
		}
	}
	// Rule order, so findings come out the same for the same text.
	slices.Sort(sc.touched)
	for _, ri := range sc.touched {
		st := &sc.state[ri]
		st.on = false
		r := &d.rules[ri]
		switch {
		case st.full:
			d.runRegex(r, text, 0, len(text), sc)
		case r.reach.plan == planLed:
			d.runLed(r, text, st.starts, sc)
		default:
			for _, w := range st.wins {
				s, e := snapWindow(text, w.start, w.end)
				d.runRegex(r, text, s, e, sc)
			}
		}
	}
}

// windowMargin keeps a windowed match clear of the window's edges, where
// \b, ^ and $ would see the cut instead of the text.
const windowMargin = 8

// snapWindow widens [s, e) to rune boundaries.
func snapWindow(text string, s, e int) (int, int) {
	for s > 0 && !utf8.RuneStart(text[s]) {
		s--
	}
	for e < len(text) && !utf8.RuneStart(text[e]) {
		e++
	}
	return s, e
}

// runRegex runs a rule's regex over text[from:to].
func (d *Detector) runRegex(r *compiledRule, text string, from, to int, sc *scratch) {
	for _, loc := range r.re.FindAllStringSubmatchIndex(text[from:to], -1) {
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += from
			}
		}
		d.accept(r, text, loc, sc)
	}
}

// runLed tries a led rule's rest at each keyword start, in order, as
// FindAll would find its matches (see reach). Its work is budgeted: text
// made to hold a keyword every few bytes in a long run the rule's regex
// can consume ("eyeyey…" for the JWT rule) would cost a regex run per
// keyword over the run, so past a few passes' worth of bytes the rule
// falls back to one FindAll over the whole text, which is linear.
func (d *Detector) runLed(r *compiledRule, text string, starts []int, sc *scratch) {
	slices.Sort(starts)
	k0 := len(sc.cands)
	budget := ledBudget * max(len(text), 1<<12)
	fallback := func() {
		sc.cands = sc.cands[:k0]
		d.runRest(r, text, sc)
	}
	lastEnd, stop := 0, -1
	for i, p := range starts {
		if p < lastEnd || i > 0 && p == starts[i-1] {
			continue
		}
		ok, cost := r.reach.skel.mayMatch(text, p)
		if budget -= cost; budget < 0 {
			fallback()
			return
		}
		if !ok {
			continue
		}
		s := r.reach.matchStart(text, p, lastEnd)
		if r.generic {
			// Every match here holds the name around the keyword; one
			// that says it is no credential (next_page_token) fails
			// accept whatever the regex finds, so skip the regex.
			e := p
			for e < len(text) && isNameByte(text[e]) {
				e++
			}
			if negatedName(text[s:e]) {
				continue
			}
		}
		limit := len(text)
		if r.reach.restMax >= 0 {
			limit = min(len(text), p+r.reach.restMax+windowMargin)
		}
		if a := r.reach.alpha; a != nil {
			// No match reads past the first byte it cannot consume;
			// keep that byte, which \b and $ look at. Starts come in
			// order, so the scan for it never goes back.
			if stop < p {
				for stop = p; stop < len(text) && a[text[stop]]; stop++ {
				}
			}
			limit = min(limit, stop+1)
		}
		_, limit = snapWindow(text, p, min(limit, len(text)))
		base, re := p, r.reach.led
		if p > 0 {
			_, size := utf8.DecodeLastRuneInString(text[:p])
			base, re = p-size, r.reach.ledCtx
		}
		if budget -= limit - base; budget < 0 {
			fallback()
			return
		}
		loc := re.FindStringSubmatchIndex(text[base:limit])
		if loc == nil {
			continue
		}
		sc.loc = append(sc.loc[:0], loc...)
		for j := range sc.loc {
			if sc.loc[j] >= 0 {
				sc.loc[j] += base
			}
		}
		sc.loc[0] = s
		lastEnd = sc.loc[1]
		d.accept(r, text, sc.loc, sc)
	}
}

// runRest is runLed's fallback: one FindAll of the rest over the whole
// text, each match's start walked back over the lazy runs. FindAll
// finds the leftmost place the rest matches from the previous match's
// end, which is where the whole regex's next match has its keyword, so
// this is FindAll of the whole regex without the lazy runs' threads.
func (d *Detector) runRest(r *compiledRule, text string, sc *scratch) {
	lastEnd := 0
	for _, loc := range r.reach.rest.FindAllStringSubmatchIndex(text, -1) {
		loc[0] = r.reach.matchStart(text, loc[0], lastEnd)
		lastEnd = loc[1]
		d.accept(r, text, loc, sc)
	}
}

// ledBudget is how many times over its text a led rule may read before
// it falls back to one scan of the whole text.
const ledBudget = 32

// accept applies a rule's secret group, entropy gate and allowlists to
// one match, given as absolute submatch offsets.
func (d *Detector) accept(r *compiledRule, text string, loc []int, sc *scratch) {
	ms, me := loc[0], loc[1]
	ss, se := -1, -1
	switch {
	case r.group > 0:
		ss, se = loc[2*r.group], loc[2*r.group+1]
		if ss < 0 {
			return // the secret group took no part in the match
		}
	case len(loc) > 2:
		for g := 1; 2*g+1 < len(loc); g++ {
			if loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
				ss, se = loc[2*g], loc[2*g+1]
				break
			}
		}
	}
	if ss < 0 {
		// No group: the whole match, less the line breaks gitleaks
		// trims from its ends.
		ss, se = ms, me
		for se > ss && text[se-1] == '\n' {
			se--
		}
		for ss < se && text[ss] == '\n' {
			ss++
		}
	}
	if se <= ss {
		return
	}
	secret := text[ss:se]
	if r.entropy != 0 && entropy(secret) <= r.entropy {
		return
	}
	if r.generic && (isPublishable(secret) || negatedName(text[ms:ss])) || allowed(r.allow, text, secret, ms, me) {
		return
	}
	ss, se = snapSpan(text, ss, se)
	sc.cands = append(sc.cands, cand{
		m:       scan.Match{Category: r.category, Rule: r.id, Severity: r.severity, Confidence: r.confidence, Start: ss, End: se},
		generic: r.generic,
	})
}

// allowed applies a rule's allowlists to a candidate.
func allowed(lists []compiledAllowlist, text, secret string, ms, me int) bool {
	for i := range lists {
		a := &lists[i]
		line := ""
		if a.target == TargetLine {
			line = lineAround(text, ms, me)
		}
		if a.allows(secret, text[ms:me], line) {
			return true
		}
	}
	return false
}

// lineAround is the line (or lines) holding text[s:e].
func lineAround(text string, s, e int) string {
	ls := strings.LastIndexByte(text[:s], '\n') + 1
	le := strings.IndexByte(text[e:], '\n')
	if le < 0 {
		le = len(text)
	} else {
		le += e
	}
	return text[ls:le]
}

// snapSpan narrows a span to rune boundaries (a regex over invalid UTF-8
// may split a byte sequence); a span that vanishes is widened instead.
func snapSpan(text string, s, e int) (int, int) {
	s0, e0 := s, e
	for s < e && !utf8.RuneStart(text[s]) {
		s++
	}
	for e > s && e < len(text) && !utf8.RuneStart(text[e]) {
		e--
	}
	if s < e {
		return s, e
	}
	return snapWindow(text, s0, e0)
}
