package unsafe

import "slices"

// matcher finds every occurrence of a fixed set of keywords, ignoring
// ASCII case, in one pass over the text: an Aho–Corasick automaton
// compiled to a table over byte classes. Detectors look for their
// anchors with it instead of one search per keyword, which keeps their
// cost one table step per byte however many keywords they have.
type matcher struct {
	pats   []string
	first  [256]bool // bytes that start a keyword, in either case
	class  [256]uint8
	nclass int
	// next[state*nclass+class] is the next state, premultiplied by
	// nclass, with outFlag set when keywords end there.
	next []uint32
	out  map[uint32][]uint16 // by premultiplied state
}

const outFlag = 1 << 31

// newMatcher compiles keywords (lower case ASCII, distinct).
func newMatcher(pats ...string) *matcher {
	m := &matcher{pats: pats}
	m.nclass = 1
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if m.class[c] == 0 {
				m.class[c] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	for _, p := range pats {
		m.first[p[0]] = true
		if 'a' <= p[0] && p[0] <= 'z' {
			m.first[p[0]-'a'+'A'] = true
		}
	}
	// Trie.
	type node struct {
		child map[uint8]int
		fail  int
		out   []uint16
	}
	nodes := []node{{child: map[uint8]int{}}}
	for id, p := range pats {
		s := 0
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			n, ok := nodes[s].child[c]
			if !ok {
				n = len(nodes)
				nodes = append(nodes, node{child: map[uint8]int{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, uint16(id))
	}
	if len(nodes) >= 1<<16 {
		panic("unsafe: too many keyword states")
	}
	// Breadth first: failure links, then the full transition table.
	goTo := make([]int, len(nodes)*m.nclass)
	queue := []int{}
	for c := 0; c < m.nclass; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok {
			goTo[c] = n
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < m.nclass; c++ {
			if n, ok := nodes[s].child[uint8(c)]; ok {
				nodes[n].fail = goTo[f*m.nclass+c]
				goTo[s*m.nclass+c] = n
				queue = append(queue, n)
			} else {
				goTo[s*m.nclass+c] = goTo[f*m.nclass+c]
			}
		}
	}
	m.next = make([]uint32, len(goTo))
	m.out = map[uint32][]uint16{}
	for i, n := range goTo {
		v := uint32(n * m.nclass)
		if len(nodes[n].out) > 0 {
			v |= outFlag
		}
		m.next[i] = v
	}
	for i, n := range nodes {
		if len(n.out) > 0 {
			m.out[uint32(i*m.nclass)] = slices.Clone(n.out)
		}
	}
	return m
}

// hits holds where each keyword occurs in one text.
type hits struct {
	m    *matcher
	text string
	pos  [][]int // by keyword id, ascending start
}

// find runs the automaton over s.
func (m *matcher) find(s string) hits {
	h := hits{m: m, text: s} // pos is made on the first hit: most short strings have none
	next, class, first := m.next, &m.class, &m.first
	st := uint32(0)
	for i := 0; i < len(s); i++ {
		if st == 0 {
			// At the root only a keyword's first byte moves the automaton:
			// skip to the next one without stepping through the table.
			for i < len(s) && !first[s[i]] {
				i++
			}
			if i == len(s) {
				break
			}
		}
		v := next[st+uint32(class[s[i]])]
		st = v &^ outFlag
		if v&outFlag != 0 {
			if h.pos == nil {
				h.pos = make([][]int, len(m.pats))
			}
			for _, id := range m.out[st] {
				h.pos[id] = append(h.pos[id], i+1-len(m.pats[id]))
			}
		}
	}
	return h
}

// none reports that no keyword occurs in the text.
func (h hits) none() bool { return h.pos == nil }

// keywordSet names keywords so detectors can ask for them by text.
type keywordSet struct {
	m  *matcher
	id map[string]int
}

func newKeywordSet(groups ...[]string) *keywordSet {
	var all []string
	seen := map[string]bool{}
	for _, g := range groups {
		for _, w := range g {
			if !seen[w] {
				seen[w] = true
				all = append(all, w)
			}
		}
	}
	ks := &keywordSet{m: newMatcher(all...), id: map[string]int{}}
	for i, w := range all {
		ks.id[w] = i
	}
	return ks
}

// at returns the starts of keyword w in the text h was found in.
func (ks *keywordSet) at(h hits, w string) []int {
	if h.pos == nil {
		return nil
	}
	id, ok := ks.id[w]
	if !ok {
		panic("unsafe: keyword not compiled: " + w)
	}
	return h.pos[id]
}
