package secret

// automaton is an Aho-Corasick automaton over bytes that ignores ASCII
// case, compiled to a full transition table over byte classes, so a scan
// costs one table lookup per byte and allocates nothing.
//
// It is written here rather than imported: the prefilter needs every
// occurrence with its position (to place the regex windows) without an
// allocation per match, and the stop-word lists need a plain "contains
// any" on short strings; both are a few dozen lines over one table.
type automaton struct {
	class  [256]uint8
	nclass int
	// next maps state*nclass + class to the next state, itself
	// multiplied by nclass, and complemented (negative) when the state
	// ends a pattern: the scan loop is one load and one sign test a byte.
	next    []int32
	outFrom []int32 // state → first index into outs
	outs    []int32 // pattern ids, grouped by state
	lens    []int   // pattern id → its length in bytes
}

// hit is one occurrence of a pattern: its id and the byte offset just
// past it.
type hit struct {
	pat int32
	end int
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// newAutomaton builds the automaton of the patterns; pattern i reports
// id i. Empty patterns are ignored.
func newAutomaton(patterns []string) *automaton {
	a := &automaton{lens: make([]int, len(patterns))}
	// Byte classes: one per distinct (lower-cased) byte used, 0 for the rest.
	var seen [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			seen[lowerASCII(p[i])] = true
		}
	}
	a.nclass = 1
	for b := 0; b < 256; b++ {
		if seen[b] && a.nclass < 256 {
			a.class[b] = uint8(a.nclass)
			a.nclass++
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		a.class[b] = a.class[b+'a'-'A']
	}

	// The trie.
	type node struct {
		child map[uint8]int32
		fail  int32
		out   []int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	for id, p := range patterns {
		a.lens[id] = len(p)
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			n, ok := nodes[s].child[c]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{child: map[uint8]int32{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}

	// Breadth-first: failure links, merged outputs and the full table.
	a.next = make([]int32, len(nodes)*a.nclass)
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < a.nclass; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok && c != 0 {
			a.next[c] = n
			nodes[n].fail = 0
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < a.nclass; c++ {
			if n, ok := nodes[s].child[uint8(c)]; ok && c != 0 {
				a.next[int(s)*a.nclass+c] = n
				nodes[n].fail = a.next[int(f)*a.nclass+c]
				queue = append(queue, n)
			} else {
				a.next[int(s)*a.nclass+c] = a.next[int(f)*a.nclass+c]
			}
		}
	}
	a.outFrom = make([]int32, len(nodes)+1)
	for i, n := range nodes {
		a.outFrom[i] = int32(len(a.outs))
		a.outs = append(a.outs, n.out...)
	}
	a.outFrom[len(nodes)] = int32(len(a.outs))
	for i, t := range a.next {
		pm := t * int32(a.nclass)
		if len(nodes[t].out) > 0 {
			pm = ^pm
		}
		a.next[i] = pm
	}
	return a
}

// scan appends every occurrence of every pattern in text to hits, in the
// order of their ends.
func (a *automaton) scan(text string, hits []hit) []hit {
	next, class, nc := a.next, &a.class, int32(a.nclass)
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = next[s+int32(class[text[i]])]
		if s < 0 {
			s = ^s
			st := s / nc
			for _, id := range a.outs[a.outFrom[st]:a.outFrom[st+1]] {
				hits = append(hits, hit{pat: id, end: i + 1})
			}
		}
	}
	return hits
}

// contains reports whether any pattern occurs in text.
func (a *automaton) contains(text string) bool {
	next, class := a.next, &a.class
	s := int32(0)
	for i := 0; i < len(text); i++ {
		if s = next[s+int32(class[text[i]])]; s < 0 {
			return true
		}
	}
	return false
}
