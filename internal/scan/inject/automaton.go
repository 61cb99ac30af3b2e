package inject

import (
	"math"
	"slices"
	"strings"
)

// trigger finds the words patterns start with, and marks each word of a
// view with the needed words it starts (see rule.needs), in one pass.
//
// A trigger of four or more characters fires at the start of any word
// it begins ("ignor" fires on "ignored"); a shorter one only on a whole
// word ("you"). A needed word of three or more characters marks any word
// it begins, a shorter one only a whole word. In a long run of
// letters without spaces (text written compactly to dodge word
// boundaries) a trigger of four or more characters fires anywhere, and
// any needed word marks the run.
//
// It is an Aho-Corasick automaton over [a-z0-9] with a dense transition
// table: a word walk follows real edges only (depth grows by one), a
// compact scan follows the failure-completed table.
type trigger struct {
	next  [][36]int32  // failure-completed transitions
	child [][36]uint16 // trie edges only (0: none); half the size of next, so more of it stays in cache
	depth []int32
	own   [][]int32 // word ids that end exactly at a state
	ends  []bool    // whether own is not empty: a dense table the word walk reads first
	out   [][]int32 // word ids ending at a state, its failure chain's included
	words []string
	rules [][]uint16   // rule indices a word starts
	sufs  [][][]string // per rule of rules: what may follow the word in the start's first word (nil: anything)
	marks []mask       // needed-word classes a word belongs to
	class [][]uint8    // the same classes, listed
}

// mask is a set of needed-word classes.
type mask [2]uint64

func (m *mask) set(b int)     { m[b/64] |= 1 << (b % 64) }
func (m mask) empty() bool    { return m[0] == 0 && m[1] == 0 }
func (m mask) has(b int) bool { return m[b/64]&(1<<(b%64)) != 0 }

// compactMin is the length from which a run of letters is read as text
// with its spaces removed.
const compactMin = 20

// symbols maps a byte to its symbol: a-z are 0-25, 0-9 are 26-35, the
// rest -1.
var symbols = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = int8(c - 'a')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(26 + c - '0')
	}
	return t
}()

func symbol(c byte) int { return int(symbols[c]) }

func newTrigger() *trigger {
	return &trigger{next: make([][36]int32, 1), depth: []int32{0}, out: make([][]int32, 1), own: make([][]int32, 1)}
}

// word returns the id of w, adding it.
func (t *trigger) word(w string) int {
	for id, x := range t.words {
		if x == w {
			return id
		}
	}
	s := int32(0)
	for i := 0; i < len(w); i++ {
		c := symbol(w[i])
		if c < 0 {
			panic("inject: trigger word " + w + " has a character outside [a-z0-9]")
		}
		if t.next[s][c] == 0 {
			t.next = append(t.next, [36]int32{})
			t.depth = append(t.depth, t.depth[s]+1)
			t.out = append(t.out, nil)
			t.own = append(t.own, nil)
			t.next[s][c] = int32(len(t.next) - 1)
		}
		s = t.next[s][c]
	}
	t.words = append(t.words, w)
	t.rules = append(t.rules, nil)
	t.sufs = append(t.sufs, nil)
	t.marks = append(t.marks, mask{})
	t.class = append(t.class, nil)
	t.out[s] = append(t.out[s], int32(len(t.words)-1))
	t.own[s] = append(t.own[s], int32(len(t.words)-1))
	return len(t.words) - 1
}

// add registers rule ri as started by w, whose first words are first
// (nil: endless).
func (t *trigger) add(w string, ri int, first map[string]bool) {
	id := t.word(w)
	for _, x := range t.rules[id] {
		if int(x) == ri {
			return
		}
	}
	var sufs []string
	if first != nil {
		sufs = []string{}
		for f := range first {
			if strings.HasPrefix(f, w) {
				sufs = append(sufs, f[len(w):])
			}
		}
		slices.Sort(sufs)
	}
	t.rules[id] = append(t.rules[id], uint16(ri))
	t.sufs[id] = append(t.sufs[id], sufs)
}

// need puts w in needed-word class b.
func (t *trigger) need(w string, b int) {
	id := t.word(w)
	if !t.marks[id].has(b) {
		t.marks[id].set(b)
		t.class[id] = append(t.class[id], uint8(b))
	}
}

// build completes the failure links; no add after it.
func (t *trigger) build() {
	if len(t.next) > math.MaxUint16 {
		panic("inject: more trigger states than a uint16 edge table holds")
	}
	t.child = make([][36]uint16, len(t.next))
	for s, row := range t.next {
		for c, u := range row {
			t.child[s][c] = uint16(u)
		}
	}
	t.ends = make([]bool, len(t.own))
	for s, ids := range t.own {
		t.ends[s] = len(ids) > 0
	}
	fail := make([]int32, len(t.next))
	queue := make([]int32, 0, len(t.next))
	for c := 0; c < 36; c++ {
		if s := t.next[0][c]; s != 0 {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		t.out[s] = append(t.out[s], t.out[fail[s]]...)
		for c := 0; c < 36; c++ {
			u := t.next[s][c]
			if u != 0 && t.depth[u] == t.depth[s]+1 {
				fail[u] = t.next[fail[s]][c]
				queue = append(queue, u)
			} else {
				t.next[s][c] = t.next[fail[s]][c]
			}
		}
	}
}

// fire is a word that starts rules: at pos, in the word that begins at
// index tok of the view's words and ends at tokEnd.
type fire struct {
	id     int32
	pos    int32
	tok    int32
	tokEnd int32
}

// snakeClass marks a word joined to the next by "_" (an identifier such
// as read_secret), atClass one joined by "@" (an e-mail address): the
// needs that are not words.
const (
	snakeClass = 0
	atClass    = 1
)

// scan appends the start of every word of v to starts, the triggers to
// fires, and each word's index to the lists of the needed classes it
// holds.
//
// rotHint, when not nil, is set when a short word is a common English
// word rotated by 13 and not an English word itself ("gur", "naq"): only
// then can a clause read as English after rot13 (see Normalized.Rot13).
func (t *trigger) scan(v string, starts []int32, fires []fire, occ *occurrences, rotHint *bool) ([]int32, []fire) {
	for i := 0; i < len(v); {
		if symbols[v[i]] < 0 {
			i++
			continue
		}
		j := i + 1
		for j < len(v) && symbols[v[j]] >= 0 {
			j++
		}
		ti := int32(len(starts))
		starts = append(starts, int32(i))
		if l := j - i; l >= 2 && l <= 4 && rotHint != nil && !*rotHint {
			var k uint32
			for p := i; p < j; p++ {
				if v[p] < 'a' {
					k = 0 // a digit: not a word
					break
				}
				k |= uint32(v[p]-'a'+1) << (5 * (p - i))
			}
			if k != 0 && rotCommon[k>>6]&(1<<(k&63)) != 0 {
				*rotHint = true
			}
		}
		if j+1 < len(v) && symbols[v[j+1]] >= 0 {
			switch v[j] {
			case '_':
				occ.add(snakeClass, ti)
			case '@':
				occ.add(atClass, ti)
			}
		}
		s := int32(0)
		if j-i >= compactMin {
			for p := i; p < j; p++ {
				s = t.next[s][symbols[v[p]]]
				for _, id := range t.out[s] {
					t.mark(occ, id, ti)
					l := len(t.words[id])
					if start := p + 1 - l; (start == i || l >= 4) && t.rules[id] != nil {
						fires = append(fires, fire{id: id, pos: int32(start), tok: ti, tokEnd: int32(j)})
					}
				}
			}
		} else {
			for p := i; p < j; p++ {
				if s = int32(t.child[s][symbols[v[p]]]); s == 0 {
					break
				}
				if !t.ends[s] {
					continue
				}
				for _, id := range t.own[s] {
					// Needed words match as prefixes from three letters on.
					if l := p + 1 - i; l >= 3 || p+1 == j {
						t.mark(occ, id, ti)
					}
					if (p+1-i >= 4 || p+1 == j) && t.rules[id] != nil {
						fires = append(fires, fire{id: id, pos: int32(i), tok: ti, tokEnd: int32(j)})
					}
				}
			}
		}
		i = j
	}
	return starts, fires
}

// mark lists word ti under the needed classes of trigger word id.
func (t *trigger) mark(occ *occurrences, id, ti int32) {
	for _, b := range t.class[id] {
		if l := occ.lists[b]; len(l) == 0 || l[len(l)-1] != ti {
			occ.add(int(b), ti)
		}
	}
}

// occurrences lists, per needed-word class, the words of a view that
// hold it, and where the search in each list resumes (see call.holds).
// Only the classes a view used are reset for the next.
type occurrences struct {
	lists [128][]int32
	next  [128]int
	used  mask
}

func (o *occurrences) add(b int, ti int32) {
	o.lists[b] = append(o.lists[b], ti)
	o.used.set(b)
}

func (o *occurrences) reset() {
	for w, bits := range o.used {
		for bits != 0 {
			b := w*64 + trailingZeros(bits)
			bits &= bits - 1
			o.lists[b] = o.lists[b][:0]
			o.next[b] = 0
		}
	}
	o.used = mask{}
}
