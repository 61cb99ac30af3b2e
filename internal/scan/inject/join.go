package inject

import "unicode"

func isSpaceRune(r rune) bool {
	return r == ' ' || r == '\n' || r == '\t' || r == '\r' || unicode.IsSpace(r)
}

// spacedRuns finds a region of spaced-out characters starting at us[i]
// with separator sep: runs of single characters one separator apart
// ("i g n o r e", "i.g.n.o.r.e"), the runs parted by wider gaps (two
// spaces, or any whitespace when sep is punctuation). It returns the runs
// as unit ranges, or nil when the region is too small to be spacing:
// six characters with four letters for spaces, four with three letters
// for punctuation (so "e.g." and "a b c" stay as they are). scanned is
// the end of the runs it read: a region that starts inside them is a part
// of this one and no better, so the caller need not look there again
// (which keeps joining linear on "1 2 3 4 ...").
func spacedRuns[S seq](us S, i int, sep rune) (runs [][2]int, scanned int) {
	space := sep == ' '
	cell := func(p int) bool {
		if p < 0 || p >= us.len() {
			return false
		}
		if space {
			return !isSpaceRune(us.at(p))
		}
		return isWordish(us.at(p))
	}
	alone := func(p int) bool { // nothing of a word follows at p
		if p >= us.len() {
			return true
		}
		if space {
			return isSpaceRune(us.at(p))
		}
		return !isWordish(us.at(p))
	}
	scanned = i
	cells, letters := 0, 0
	for pos := i; cell(pos) && alone(pos+1); {
		k, n := pos+1, 1
		for k+1 < us.len() && us.at(k) == sep && cell(k+1) && alone(k+2) {
			k, n = k+2, n+1
		}
		if n < 2 && (len(runs) == 0 || !space) {
			break
		}
		for p := pos; p < k; p += 2 {
			cells++
			if unicode.IsLetter(us.at(p)) {
				letters++
			}
		}
		runs = append(runs, [2]int{pos, k})
		scanned = k
		b := k
		for b < us.len() && (us.at(b) == ' ' || us.at(b) == '\t') {
			b++
		}
		if b >= us.len() || (space && b-k < 2) || (!space && b == k) {
			break
		}
		pos = b
	}
	if space && (cells < 6 || letters < 4) || !space && (cells < 4 || letters < 3) {
		return nil, scanned
	}
	return runs, scanned
}

// seq is text as spacedRuns reads it: normalization's units, or plain
// ASCII bytes when joinCandidate looks ahead of it.
type seq interface {
	at(p int) rune
	len() int
}

type unitSeq []unit

func (u unitSeq) at(p int) rune { return u[p].r }
func (u unitSeq) len() int      { return len(u) }

type byteSeq string

func (b byteSeq) at(p int) rune { return rune(b[p]) }
func (b byteSeq) len() int      { return len(b) }

// joinSpaced joins spaced-out letters in place (see spacedRuns); a gap
// between runs becomes one space.
func (n *Normalized) joinSpaced(us []unit) []unit {
	w := 0
	for i := 0; i < len(us); {
		if i+1 < len(us) && isSep(us[i+1].r) {
			sep := us[i+1].r
			before := i == 0 || (sep == ' ' && isSpaceRune(us[i-1].r)) || (sep != ' ' && !isWordish(us[i-1].r))
			var runs [][2]int
			scanned := i
			if before {
				runs, scanned = spacedRuns(unitSeq(us), i, sep)
			}
			if runs == nil && scanned > i+1 {
				// Not spacing; nothing starting inside it is either.
				for ; i < scanned; i++ {
					us[w] = us[i]
					w++
				}
				continue
			}
			if runs != nil {
				for r, run := range runs {
					if r > 0 {
						u := us[runs[r-1][1]]
						u.r = ' '
						us[w] = u
						w++
					}
					for p := run[0]; p < run[1]; p += 2 {
						u := us[p]
						u.mark = true
						us[w] = u
						w++
						n.Obfuscation.Spaced++
					}
				}
				i = runs[len(runs)-1][1]
				continue
			}
		}
		us[w] = us[i]
		w++
		i++
	}
	return us[:w]
}

// joinChunks joins runs of at least five words of one length from three
// to six, one space apart, that are mostly neither common words nor the
// word before said again: text cut into fixed-width chunks ("1gn0 r341
// 1pr3 v10u"). A shorter last chunk belongs to the run.
func (n *Normalized) joinChunks(us []unit) []unit {
	var joins [][2]int
	start, width, count, common, repeats, prevEnd, prevStart := -1, 0, 0, 0, 0, -1, -1
	flush := func() {
		if count >= 5 && common*3 <= count && repeats*3 <= count {
			joins = append(joins, [2]int{start, prevEnd})
		}
		count, common, repeats = 0, 0, 0
	}
	for i := 0; i < len(us); {
		if !isWordish(us[i].r) {
			i++
			continue
		}
		j := i
		for j < len(us) && isWordish(us[j].r) {
			j++
		}
		l := j - i
		adjacent := prevEnd >= 0 && i == prevEnd+1 && us[prevEnd].r == ' '
		switch {
		case count > 0 && adjacent && l == width:
			count++
			if commonUnits(us[i:j]) {
				common++
			}
			if sameUnits(us[prevStart:prevEnd], us[i:j]) {
				repeats++ // "test test test" is a word said again, not chunks
			}
		case count >= 5 && adjacent && l < width:
			prevStart, prevEnd = i, j
			flush()
			i = j
			continue
		default:
			flush()
			if l >= 3 && l <= 6 {
				start, width, count = i, l, 1
				if commonUnits(us[i:j]) {
					common = 1
				}
			}
		}
		prevStart, prevEnd = i, j
		i = j
	}
	flush()
	if len(joins) == 0 {
		return us
	}
	w, q := 0, 0
	for i := 0; i < len(us); i++ {
		for q < len(joins) && i >= joins[q][1] {
			q++
		}
		inside := q < len(joins) && i > joins[q][0] && i < joins[q][1]
		if inside && us[i].r == ' ' {
			if i+1 < len(us) {
				us[i+1].mark = true
			}
			n.Obfuscation.Chunked++
			continue
		}
		us[w] = us[i]
		w++
	}
	return us[:w]
}

func sameUnits(a, b []unit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].r != b[i].r {
			return false
		}
	}
	return true
}

// commonUnits reports whether the word is a common English word.
func commonUnits(us []unit) bool {
	var b [8]byte
	if len(us) > len(b) {
		return false
	}
	for i, u := range us {
		if u.r >= 0x80 {
			return false
		}
		b[i] = byte(u.r)
	}
	_, ok := commonWords[string(b[:len(us)])]
	return ok
}
