package secret

import (
	"strings"
	"unicode/utf8"
)

// placeholderWords are the words a template value is made of
// ("your_api_key_here", "<insert-token>", "example-secret", "changeme").
// A value made only of them (and of counting digits like 123) is a
// placeholder, not a credential.
var placeholderWords = wordSet(`
your my our the a an here there this that insert enter put add replace fill set paste with me goes go
to of for in on at be is it
api key keys token tokens secret secrets password passwords passwd pass pwd passphrase access auth
authorization credential credentials creds cred client id app application private public value values
example examples sample samples dummy fake test testing tests mock mocked placeholder changeme change
changeit redacted removed hidden masked censored omitted elided todo fixme tbd none null nil undefined
empty blank true false yes no on off default string str int integer bool boolean number float any object
required optional user username usr admin administrator root guest demo foo bar baz qux quux abc xyz xxx
xxxx some random new old real actual valid invalid bogus generated env environment prod production dev
development staging local localhost db database service account bearer basic jwt ssh aws gcp azure
github gitlab stripe openai slack google twilio sendgrid mailgun datadog session signing encryption
master ref reference var variable config secure securestring unknown na tmp temp
`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// isPlaceholder reports whether v, a value assigned to a credential, is
// a stand-in rather than a credential: a template or variable reference,
// a mask, one repeated character, or words of placeholderWords only.
func isPlaceholder(v string) bool {
	if v == "" {
		return true
	}
	if isReference(v) || isMasked(v) || isOneChar(v) {
		return true
	}
	return allPlaceholderWords(v)
}

// isReference reports a template or variable reference: ${VAR}, $VAR,
// $(cmd), %VAR%, {{ var }}, <token>, [token], {0}, %s, @VAR@, #{var}.
func isReference(v string) bool {
	switch {
	case strings.HasPrefix(v, "$"), strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%"),
		strings.HasPrefix(v, "%s"), strings.HasPrefix(v, "%("), strings.HasPrefix(v, "{{"),
		strings.HasPrefix(v, "#{"), strings.HasPrefix(v, "@") && strings.HasSuffix(v, "@"):
		return true
	}
	if len(v) >= 2 {
		switch o, c := v[0], v[len(v)-1]; {
		case o == '<' && c == '>', o == '[' && c == ']', o == '{' && c == '}', o == '(' && c == ')':
			return true
		}
	}
	// A template in the middle: "sk-${KEY}", "Bearer {{token}}".
	return strings.Contains(v, "${") || strings.Contains(v, "{{") || strings.Contains(v, "$(")
}

// isMasked reports a masked or made-up value: a run of four or more x,
// X, * or •; a run of six or more of one character that makes up a
// third of the value (AIzaaaaaaaa…, glc_1111…; base64 of binary data
// may hold a run of A, but not as most of it); or an ellipsis.
func isMasked(v string) bool {
	run, longest, last := 0, 0, rune(-1)
	for _, r := range v {
		if r == last {
			run++
		} else {
			run = 1
		}
		last = r
		longest = max(longest, run)
		if run >= 4 && (r == 'x' || r == 'X' || r == '*' || r == '•' || r == '#') {
			return true
		}
	}
	if longest >= 6 && 3*longest >= len(v) {
		return true
	}
	return strings.Contains(v, "...") || strings.Contains(v, "…")
}

// publishablePrefixes start keys that are public by design (Stripe's
// publishable keys are embedded in web pages); a context rule does not
// report them.
var publishablePrefixes = []string{"pk_live_", "pk_test_"}

func isPublishable(v string) bool {
	for _, p := range publishablePrefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// isOneChar reports a value of one character repeated.
func isOneChar(v string) bool {
	first, _ := utf8.DecodeRuneInString(v)
	for _, r := range v {
		if r != first {
			return false
		}
	}
	return true
}

// allPlaceholderWords splits v into words (at non-alphanumerics and
// lower-to-upper case changes) and reports whether every word is a
// placeholder word or a counting run of digits (1, 12, 123, 0123…).
func allPlaceholderWords(v string) bool {
	words := 0
	ok := true
	lower := lowerASCIIString(v)
	splitWords(v, func(s, e int) bool {
		words++
		if w := lower[s:e]; placeholderWords[w] || isCountingDigits(w) {
			return true
		}
		ok = false
		return false
	})
	return ok && words > 0
}

func isCountingDigits(w string) bool {
	return len(w) > 0 && (strings.HasPrefix("1234567890", w) || strings.HasPrefix("0123456789", w))
}

// splitWords calls fn with the bounds of each word of s: runs of ASCII
// letters and digits, split where a lower-case letter or digit meets an
// upper-case one ("apiKey" is api, Key; "APIKey" is API, Key). Non-ASCII
// runes are letters of their word. fn returns false to stop.
func splitWords(s string, fn func(start, end int) bool) {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || !isAlnum(s[i]) && s[i] < utf8.RuneSelf {
			if start >= 0 {
				if !fn(start, i) {
					return
				}
				start = -1
			}
			continue
		}
		c := s[i]
		if start < 0 {
			start = i
			continue
		}
		p := s[i-1]
		switch {
		case isUpper(c) && (isLower(p) || isDigit(p)):
			if !fn(start, i) {
				return
			}
			start = i
		case isLower(c) && isUpper(p) && i-1 > start && isUpper(s[i-2]):
			// "APIKey": the word boundary falls before the K.
			if !fn(start, i-1) {
				return
			}
			start = i - 1
		}
	}
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isUpper(c) || isDigit(c) }
