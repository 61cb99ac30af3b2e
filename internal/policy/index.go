package policy

import "slices"

// The index finds the rules that may apply to a request without looking
// at the others: rules are filed by the literal part of their action glob
// (all of it for an exact action, the part before the first wildcard
// otherwise), and within that by the literal part of their agent glob. A
// lookup tries each prefix of the request's action and agent, so its cost
// grows with their lengths and the rules that really share them, not with
// the size of the policy.

// prefixIndex files values by a literal string or the literal prefix of a
// glob.
type prefixIndex[T any] struct {
	exact  map[string]T
	prefix map[string]T
}

func newPrefixIndex[T any]() prefixIndex[T] {
	return prefixIndex[T]{exact: map[string]T{}, prefix: map[string]T{}}
}

// each calls fn for what is filed under s exactly and under every prefix
// of s (the empty prefix included).
func (ix *prefixIndex[T]) each(s string, fn func(T)) {
	if v, ok := ix.exact[s]; ok {
		fn(v)
	}
	if len(ix.prefix) == 0 {
		return
	}
	for i := 0; i <= len(s); i++ {
		if v, ok := ix.prefix[s[:i]]; ok {
			fn(v)
		}
	}
}

type agentIndex struct {
	prefixIndex[[]int]
}

type actionIndex struct {
	prefixIndex[*agentIndex]
}

// slot returns the map and key a glob is filed under (a missing glob is
// the prefix "", which every string has).
func slot[T any](ix *prefixIndex[T], g glob, has bool) (map[string]T, string) {
	switch {
	case !has:
		return ix.prefix, ""
	case g.literal:
		return ix.exact, g.pattern
	default:
		return ix.prefix, g.prefix
	}
}

func buildIndex(rules []compiledRule) *actionIndex {
	ix := &actionIndex{newPrefixIndex[*agentIndex]()}
	for i, r := range rules {
		m, key := slot(&ix.prefixIndex, r.match[mAction], r.has[mAction])
		ai := m[key]
		if ai == nil {
			ai = &agentIndex{newPrefixIndex[[]int]()}
			m[key] = ai
		}
		am, akey := slot(&ai.prefixIndex, r.match[mAgent], r.has[mAgent])
		am[akey] = append(am[akey], i)
	}
	return ix
}

// candidates appends to buf, in document order, the rules whose action
// and agent globs may match.
func (ix *actionIndex) candidates(action, agent string, buf []int) []int {
	ix.each(action, func(ai *agentIndex) {
		ai.each(agent, func(rules []int) { buf = append(buf, rules...) })
	})
	slices.Sort(buf)
	return buf
}
