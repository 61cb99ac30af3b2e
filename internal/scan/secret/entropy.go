package secret

import (
	"math"
	"unicode/utf8"
)

// entropy is the Shannon entropy of s in bits per character, as gitleaks
// computes it for its entropy gate (over runes; for ASCII, bytes).
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var ascii [128]int
	var other map[rune]int
	n := 0
	for _, r := range s {
		n++
		if r < utf8.RuneSelf {
			ascii[r]++
			continue
		}
		if other == nil {
			other = map[rune]int{}
		}
		other[r]++
	}
	inv := 1 / float64(n)
	h := 0.0
	add := func(c int) {
		if c > 0 {
			p := float64(c) * inv
			h -= p * math.Log2(p)
		}
	}
	for _, c := range ascii {
		add(c)
	}
	for _, c := range other {
		add(c)
	}
	return h
}
