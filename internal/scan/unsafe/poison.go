package unsafe

import (
	"unicode"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/scan"
)

// ToolPoisoning finds a tool description that speaks to the model behind
// the user's back (category scan.ToolPoisoning): instructions hidden in
// pseudo-tags or comments, orders to keep something from the user, to
// read key files or pass secrets in a parameter, to act before or instead
// of other tools; characters a person cannot see (zero-width, bidi
// controls, Unicode tag characters that spell hidden ASCII); letters from
// other scripts that make a name look like another (homoglyphs).
//
// It reads only scan.ToolDescription text (a tool's name, description or
// schema strings); the same words in an argument or an output are the
// business of the injection detector.
type ToolPoisoning struct{}

var _ scan.Detector = (*ToolPoisoning)(nil)

// NewToolPoisoning returns the tool-poisoning detector.
func NewToolPoisoning() *ToolPoisoning { return &ToolPoisoning{} }

// Name implements scan.Detector.
func (*ToolPoisoning) Name() string { return "tool_poisoning" }

const (
	ruleHiddenInstruction = "tp-hidden-instruction"
	ruleInvisible         = "tp-invisible-chars"
	ruleHomoglyph         = "tp-homoglyph"
)

// Detect implements scan.Detector.
func (*ToolPoisoning) Detect(in scan.Input, out []scan.Match) []scan.Match {
	if in.Provenance != scan.ToolDescription || in.Text == "" {
		return out
	}
	k := sink{text: in.Text, category: scan.ToolPoisoning, out: out}
	s := in.Text
	if firstNonASCII(s) >= 0 {
		invisibles(&k, s)
		homoglyphs(&k, s)
	}
	hiddenInstructions(&k, s)
	return k.out
}

func firstNonASCII(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return -1
}

// invisibleKind grades a character a reader cannot see: 3 tag characters
// (they spell ASCII only a machine reads), 2 bidi controls (they reorder
// what is shown), 1 other zero-width and filler characters; 0 visible.
func invisibleKind(r rune) int {
	switch {
	case r >= 0xE0000 && r <= 0xE007F:
		return 3
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return 2
	case r >= 0x200B && r <= 0x200F, r >= 0x2060 && r <= 0x2064, r == 0xFEFF, r == 0x00AD, r == 0x034F,
		r == 0x061C, r == 0x180E, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x17B4, r == 0x17B5,
		r >= 0xE0100 && r <= 0xE01EF:
		return 1
	}
	return 0
}

// joinerOK reports the legitimate uses of invisible characters: a joiner
// inside an emoji sequence or between letters of scripts that need it
// (Arabic, Indic), a direction mark next to right-to-left text, the tag
// sequence of a subdivision flag after U+1F3F4.
func joinerOK(r, prev, next rune, afterFlag bool) bool {
	switch {
	case r >= 0xE0020 && r <= 0xE007F:
		return afterFlag
	case r == 0x200D:
		return (isPictograph(prev) || isPictograph(next)) || (needsJoiner(prev) && needsJoiner(next))
	case r == 0x200C:
		return needsJoiner(prev) && needsJoiner(next)
	case r == 0x200E || r == 0x200F || r == 0x061C:
		return isRTL(prev) || isRTL(next)
	}
	return false
}

func isPictograph(r rune) bool {
	return (r >= 0x1F000 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || r == 0xFE0F || (r >= 0x1F3FB && r <= 0x1F3FF)
}

func needsJoiner(r rune) bool {
	return unicode.In(r, unicode.Arabic, unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati,
		unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala, unicode.Syriac)
}

func isRTL(r rune) bool {
	return unicode.In(r, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana)
}

// invisibles reports runs of invisible characters.
func invisibles(k *sink, s string) {
	runStart, runEnd, runKind, runLen := -1, -1, 0, 0
	hidden := 0 // tag characters that spell printable ASCII
	flush := func() {
		if runStart < 0 {
			return
		}
		sev := sevMedium
		switch {
		case runKind == 3 && hidden > 0:
			sev = sevCritical
		case runKind >= 2, runLen >= 8:
			sev = sevHigh
		}
		k.add(ruleInvisible, sev, runStart, runEnd)
		runStart, runKind, runLen, hidden = -1, 0, 0, 0
	}
	var prev rune
	afterFlag := false
	for i := firstNonASCII(s); i >= 0 && i < len(s) && !k.full(ruleInvisible); {
		r, n := utf8.DecodeRuneInString(s[i:])
		kind := invisibleKind(r)
		if kind > 0 {
			next, _ := utf8.DecodeRuneInString(s[i+n:])
			if !joinerOK(r, prev, next, afterFlag) {
				if runStart < 0 || runEnd != i {
					flush()
					runStart = i
				}
				runEnd = i + n
				runKind = max(runKind, kind)
				runLen++
				if r >= 0xE0020 && r <= 0xE007E {
					hidden++
				}
			}
		}
		if r == 0x1F3F4 {
			afterFlag = true
		} else if kind == 0 || r == 0xE007F {
			afterFlag = afterFlag && kind != 0
		}
		prev = r
		i += n
		if kind == 0 && r < utf8.RuneSelf {
			// Skip the ASCII stretch that follows at byte speed.
			j := i
			for j < len(s) && s[j] < utf8.RuneSelf {
				j++
			}
			if j > i {
				prev = rune(s[j-1])
				i = j
			}
		}
	}
	flush()
}

// latinLike are letters of other scripts drawn like Latin letters
// (Cyrillic а е о р с у х і ј ѕ ԁ ԛ ԝ …, Greek ο α ε ι κ ν ρ τ υ χ …): a
// word of them among Latin letters, or alone in Latin text, passes for
// Latin to a reader and not to a program.
func latinLike(r rune) bool {
	switch r {
	case 'а', 'в', 'е', 'к', 'м', 'н', 'о', 'р', 'с', 'т', 'у', 'х', 'і', 'ј', 'ѕ', 'ԁ', 'ԛ', 'ԝ', 'ѡ', 'ӏ', 'һ', 'ց',
		'А', 'В', 'Е', 'К', 'М', 'Н', 'О', 'Р', 'С', 'Т', 'У', 'Х', 'І', 'Ј', 'Ѕ', 'Ԁ',
		'ο', 'α', 'ε', 'ι', 'κ', 'ν', 'ρ', 'τ', 'υ', 'χ', 'ϲ', 'ϳ', 'Α', 'Β', 'Ε', 'Ζ', 'Η', 'Ι', 'Κ', 'Μ', 'Ν', 'Ο', 'Ρ',
		'Τ', 'Υ', 'Χ', 'օ', 'ս', 'ո', 'ɑ', 'ɡ', 'ı':
		return true
	}
	return (r >= 0xFF21 && r <= 0xFF3A) || (r >= 0xFF41 && r <= 0xFF5A) || (r >= 0x1D400 && r <= 0x1D6A3)
}

// homoglyphs reports words that mix Latin letters with look-alikes from
// other scripts, and, in text written otherwise in Latin, words made only
// of look-alikes.
func homoglyphs(k *sink, s string) {
	otherScript := false // a word of another script that is not all look-alikes: real foreign text
	type word struct {
		a, b        int
		latin, like int
		other       int
	}
	var pure []word
	for i := 0; i < len(s) && !k.full(ruleHomoglyph); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			i += n
			continue
		}
		w := word{a: i}
		for i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
				break
			}
			switch {
			case r < utf8.RuneSelf:
				if isLetter(byte(r)) {
					w.latin++
				}
			case latinLike(r):
				w.like++
			case unicode.IsLetter(r):
				w.other++
			}
			i += n
		}
		w.b = i
		switch {
		case w.like > 0 && w.latin > 0:
			k.add(ruleHomoglyph, sevHigh, w.a, w.b)
		case w.like > 0 && w.other == 0:
			pure = append(pure, w)
		case w.other > 0:
			otherScript = true
		}
	}
	if otherScript {
		return
	}
	for _, w := range pure {
		k.add(ruleHomoglyph, sevMedium, w.a, w.b)
	}
}
