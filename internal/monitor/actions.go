package monitor

import (
	"hash/fnv"
	"slices"
)

// Which action types an agent uses is kept in a fixed size, whatever the
// number of types: two Bloom filter generations (an action seen in
// either is known; the older is dropped every SeenRotate buckets), so an
// agent's state stays bounded and an action unused for long enough
// counts as new again. A false positive (about 1 in 400 with 100 types)
// only hides one new action.

const (
	seenBits  = 4096
	seenWords = seenBits / 64
	seenHash  = 3
)

// seen is one agent's action types.
type seen [2][seenWords]uint64

// actionHash is an action's 64-bit FNV-1a hash: fixed, so that a restored
// snapshot knows the same actions.
func actionHash(action string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(action))
	return h.Sum64()
}

func bloomBits(h uint64) [seenHash]uint32 {
	h1, h2 := uint32(h), uint32(h>>32)|1
	var out [seenHash]uint32
	for i := range out {
		out[i] = (h1 + uint32(i)*h2) % seenBits
	}
	return out
}

func (s *seen) has(gen int, bits [seenHash]uint32) bool {
	for _, b := range bits {
		if s[gen][b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// visit records a use of the action of hash h and reports whether it is
// new to the agent.
func (s *seen) visit(h uint64) bool {
	bits := bloomBits(h)
	if s.has(0, bits) {
		return false
	}
	isNew := !s.has(1, bits)
	for _, b := range bits {
		s[0][b/64] |= 1 << (b % 64)
	}
	return isNew
}

// rotate starts a new generation.
func (s *seen) rotate() {
	s[1] = s[0]
	s[0] = [seenWords]uint64{}
}

// maxDistinct bounds the action types a bucket keeps to count distinct
// ones; past it, every action not among them counts as distinct.
const maxDistinct = 256

// distinctSet is the action hashes of the open bucket, sorted.
type distinctSet []uint64

// add records h and reports whether it is new to the bucket.
func (d *distinctSet) add(h uint64) bool {
	i, found := slices.BinarySearch(*d, h)
	if found {
		return false
	}
	if len(*d) < maxDistinct {
		*d = slices.Insert(*d, i, h)
	}
	return true
}
