package inject

// Common English words tell English text from text that only becomes
// English after a transformation (rot13), and real words from chunks.
var (
	shortCommon [1 << 20 / 64]uint64    // words of up to four letters, packed (see pack4)
	rotCommon   [1 << 20 / 64]uint64    // short common words rotated by 13, when that is not a common word
	longCommon  = map[uint64]struct{}{} // words of five to seven letters, packed
	commonWords = map[string]struct{}{}
)

func init() {
	for _, w := range []string{
		"a", "i", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no", "of",
		"on", "or", "so", "to", "up", "us", "we", "all", "and", "any", "are", "but", "can", "did", "for", "get",
		"had", "has", "her", "him", "his", "how", "its", "may", "not", "now", "our", "out", "she", "the", "too",
		"two", "was", "way", "who", "why", "you", "new", "one", "see", "use", "also", "been", "both", "each",
		"from", "have", "here", "into", "just", "like", "made", "make", "many", "more", "most", "much", "must",
		"only", "over", "said", "same", "some", "such", "take", "than", "that", "them", "then", "they", "this",
		"very", "want", "well", "were", "what", "when", "will", "with", "your", "next", "last", "used", "user",
		"time", "work", "need", "help", "data", "file", "code", "send", "read", "call", "tell", "show", "give",
		"about", "after", "again", "their", "there", "these", "those", "which", "would", "could", "should",
		"other", "every", "before", "because", "please", "where", "while", "first", "think", "through", "under",
	} {
		commonWords[w] = struct{}{}
		if len(w) <= 4 {
			k := pack4(w)
			shortCommon[k>>6] |= 1 << (k & 63)
		} else if len(w) <= 7 {
			longCommon[packN(w)] = struct{}{}
		}
	}
	for w := range commonWords {
		if len(w) < 2 || len(w) > 4 {
			continue
		}
		r := []byte(w)
		for i := range r {
			r[i] = rot13(r[i])
		}
		if !isCommon(r) {
			k := pack4(r)
			rotCommon[k>>6] |= 1 << (k & 63)
		}
	}
}

// pack4 packs a lower-case word of up to four letters into 20 bits.
func pack4[T string | []byte](w T) uint32 {
	var k uint32
	for i := 0; i < len(w); i++ {
		k |= uint32(w[i]-'a'+1) << (5 * i)
	}
	return k
}

// packN packs a lower-case word of up to seven letters like pack4.
func packN(w string) uint64 {
	var k uint64
	for i := 0; i < len(w); i++ {
		k |= uint64(w[i]-'a'+1) << (5 * i)
	}
	return k
}

// isCommon reports whether the lower-case ASCII word is a common one.
func isCommon[T string | []byte](w T) bool {
	if len(w) <= 4 {
		k := pack4(w)
		return shortCommon[k>>6]&(1<<(k&63)) != 0
	}
	if len(w) > 7 {
		return false
	}
	_, ok := commonWords[string(w)]
	return ok
}

func rot13(c byte) byte {
	switch {
	case c >= 'a' && c <= 'm', c >= 'A' && c <= 'M':
		return c + 13
	case c >= 'n' && c <= 'z', c >= 'N' && c <= 'Z':
		return c - 13
	}
	return c
}

// rotBreak ends the clauses judged one at a time for rot13.
func rotBreak(c byte) bool {
	switch c {
	case '.', ':', ';', '!', '?', '(', ')', '[', ']', '"', '\n', '<', '>', '{', '}':
		return true
	}
	return false
}

// rotEnglish judges one clause: it must not read as English already and
// must read as English rotated (at least one common word in five, words
// of two letters or more). One pass packs each word both ways.
func rotEnglish(seg string) bool {
	words, orig, rot := 0, 0, 0
	for i := 0; i < len(seg); {
		if seg[i] < 'a' || seg[i] > 'z' {
			i++
			continue
		}
		j := i
		var k, kr uint64
		for j < len(seg) && seg[j] >= 'a' && seg[j] <= 'z' {
			if j-i < 8 {
				k |= uint64(seg[j]-'a'+1) << (5 * (j - i))
				kr |= uint64(rot13(seg[j])-'a'+1) << (5 * (j - i))
			}
			j++
		}
		if l := j - i; l >= 2 { // single letters are initials and leet debris as often as words
			words++
			if l <= 7 {
				if commonPacked(k, l) {
					orig++
				}
				if commonPacked(kr, l) {
					rot++
				}
			}
		}
		i = j
	}
	return words >= 3 && orig*4 < words && rot > orig && rot*5 >= words
}

// commonPacked reports whether the word packed as pack4 does (five bits
// a letter) is common.
func commonPacked(k uint64, l int) bool {
	if l <= 4 {
		return shortCommon[k>>6]&(1<<(k&63)) != 0
	}
	_, ok := longCommon[k]
	return ok
}

// Rot13 returns a view of Text, byte for byte, in which every clause that
// reads as English only after rot13 is rotated and everything else is
// blank; ok is false when no clause qualifies.
func (n *Normalized) Rot13() (view string, ok bool) {
	t := n.Text
	var out []byte
	for s := 0; s < len(t); {
		e := s
		for e < len(t) && !rotBreak(t[e]) {
			e++
		}
		if e > s && rotEnglish(t[s:e]) {
			if out == nil {
				out = make([]byte, len(t))
				for i := range out {
					out[i] = ' '
				}
			}
			for i := s; i < e; i++ {
				out[i] = rot13(t[i])
			}
			if e < len(t) {
				out[e] = t[e]
			}
		}
		s = e + 1
	}
	if out == nil {
		return "", false
	}
	return string(out), true
}
