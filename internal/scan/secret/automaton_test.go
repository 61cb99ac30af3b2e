package secret

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveHits finds every occurrence of every pattern, ignoring ASCII case.
func naiveHits(patterns []string, text string) []hit {
	lt := strings.ToLower(text)
	var hits []hit
	for end := 1; end <= len(text); end++ {
		for id, p := range patterns {
			if p != "" && end >= len(p) && lt[end-len(p):end] == strings.ToLower(p) {
				hits = append(hits, hit{pat: int32(id), end: end})
			}
		}
	}
	return hits
}

func sortHits(h []hit) {
	slices.SortFunc(h, func(a, b hit) int {
		if a.end != b.end {
			return a.end - b.end
		}
		return int(a.pat - b.pat)
	})
}

func TestAutomaton(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		text     string
	}{
		{"overlapping", []string{"he", "she", "his", "hers"}, "ushers and HIS shed"},
		{"nested", []string{"a", "aa", "aaa"}, "aaaa"},
		{"case", []string{"api_key", "Token"}, "API_KEY=1 token TOKEN tOkEn"},
		{"none", []string{"xyz"}, "abc"},
		{"empty pattern ignored", []string{"", "ab"}, "abab"},
		{"non-ascii", []string{"é", "ſecret"}, "café ſecret SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAutomaton(tt.patterns)
			got := a.scan(tt.text, nil)
			want := naiveHits(tt.patterns, tt.text)
			sortHits(got)
			if !slices.Equal(got, want) {
				t.Errorf("scan(%q) = %v, want %v", tt.text, got, want)
			}
			if a.contains(tt.text) != (len(want) > 0) {
				t.Errorf("contains(%q) = %v, want %v", tt.text, a.contains(tt.text), len(want) > 0)
			}
		})
	}
}

func TestAutomatonRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, 1+r.IntN(n))
		for i := range b {
			b[i] = "abAB_-"[r.IntN(6)]
		}
		return string(b)
	}
	for i := range 200 {
		patterns := make([]string, 1+r.IntN(8))
		for j := range patterns {
			patterns[j] = word(4)
		}
		text := word(60)
		got := newAutomaton(patterns).scan(text, nil)
		want := naiveHits(patterns, text)
		sortHits(got)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: scan(%q) with %q = %v, want %v", i, text, patterns, got, want)
		}
	}
}
