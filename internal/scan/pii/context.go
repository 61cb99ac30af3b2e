package pii

import "strings"

// Context words: a value of an ambiguous shape counts only next to a word
// that names what it is. Strong words are labels that name the value;
// weak words name it in prose ("call me at"). Inside an identifier
// ("phone_number", "mobilePhone", "WDT_INPROC_CALL", "CellSize") only
// the ident words count, which name nothing else in code. The words are
// English, ASCII, and matched case-insensitively.
type vocabulary struct{ strong, weak, ident map[string]bool }

var (
	phoneWords = vocabulary{
		strong: wordSet("phone phones telephone tel tlf telefon telefono mobile mob cell cellphone cellular " +
			"fax landline hotline whatsapp sms voicemail pager dial"),
		weak:  wordSet("call calls called calling contact message messages ext extension office desk reach"),
		ident: wordSet("phone telephone tel mobile fax cellphone landline msisdn"),
	}
	cardWords = vocabulary{
		strong: wordSet("card cards credit debit ccn visa mastercard amex maestro jcb unionpay diners cvv cvc"),
		weak:   wordSet("cc pan discover mir rupay payment billing charge expiry expires exp"),
		ident:  wordSet("card credit ccn"),
	}
	ssnWords = vocabulary{
		strong: wordSet("ssn ssns"),
		weak:   wordSet("social security ssa tin taxpayer"),
		ident:  wordSet("ssn"),
	}
)

// wordSet makes a set of the space-separated words.
func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// Context strengths, weakest first.
const (
	noContext = iota
	weakContext
	strongContext
)

// Context windows, in bytes.
const (
	ctxBefore = 48
	ctxAfter  = 24
	maxWord   = 16
	maxToken  = 64
)

// near grades the context of text[start:end]: the words before it on its
// line or, when nothing but punctuation precedes it on its line, at the
// end of the line above (a label over its value); and the words after it
// on its line, before any other number. It reads a bounded number of
// bytes.
func near(text string, start, end int, v vocabulary) int {
	best := noContext
	i, letters := tokensBefore(text, start, v, &best)
	if best == strongContext {
		return best
	}
	if !letters && i > 0 && text[i-1] == '\n' {
		tokensBefore(text, i-1, v, &best)
		if best == strongContext {
			return best
		}
	}
	for i := end; i < len(text) && i-end < ctxAfter && text[i] != '\n' && !isDigit(text[i]); {
		if !wordChar(text[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && j-i <= maxToken && wordChar(text[j]) {
			j++
		}
		grade(text[i:j], v, &best)
		if best == strongContext {
			return best
		}
		i = j
	}
	return best
}

// tokensBefore grades the tokens in the ctxBefore bytes before pos on its
// line into best. It returns where it stopped and whether it passed any
// letter.
func tokensBefore(text string, pos int, v vocabulary, best *int) (i int, letters bool) {
	i = pos
	for i > 0 && pos-i < ctxBefore && text[i-1] != '\n' {
		if !wordChar(text[i-1]) {
			i--
			continue
		}
		j := i - 1
		for j > 0 && i-j <= maxToken && wordChar(text[j-1]) {
			j--
		}
		tok := text[j:i]
		word := false
		for k := 0; k < len(tok); k++ {
			if isLetter(tok[k]) {
				word = true
				break
			}
		}
		if !word {
			// Another number ends the look back: in "Phone: 555-0134
			// Order: 1234 5678" the label is the first number's.
			return j, letters
		}
		letters = true
		grade(tok, v, best)
		if *best == strongContext {
			return j, letters
		}
		i = j
	}
	return i, letters
}

// grade raises best by the token tok (a run of letters, digits and "_"):
// a plain word may be strong or weak; a part of an identifier is strong
// when it is an ident word, and does not count otherwise.
func grade(tok string, v vocabulary, best *int) {
	if len(tok) > maxToken {
		return
	}
	plain := true
	for k := 0; k < len(tok); k++ {
		if !isLetter(tok[k]) {
			plain = false
			break
		}
	}
	if plain && !camel(tok) {
		switch {
		case hasWord(tok, v.strong):
			*best = strongContext
		case hasWord(tok, v.weak) && *best < weakContext:
			*best = weakContext
		}
		return
	}
	// Split on "_", digits and lower-to-upper case changes.
	for k := 0; k < len(tok); {
		if !isLetter(tok[k]) {
			k++
			continue
		}
		e := k + 1
		for e < len(tok) && isLetter(tok[e]) && !(class[tok[e-1]]&cLower != 0 && class[tok[e]]&cUpper != 0) {
			e++
		}
		if hasWord(tok[k:e], v.ident) {
			*best = strongContext
			return
		}
		k = e
	}
}

// camel reports a lower-to-upper case change inside a word ("mobilePhone").
func camel(w string) bool {
	for k := 1; k < len(w); k++ {
		if class[w[k-1]]&cLower != 0 && class[w[k]]&cUpper != 0 {
			return true
		}
	}
	return false
}

// hasWord looks w up in set, lower-cased, without allocating.
func hasWord(w string, set map[string]bool) bool {
	if len(w) > maxWord {
		return false
	}
	var b [maxWord]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return set[string(b[:len(w)])]
}
