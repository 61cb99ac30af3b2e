package policy

import (
	"strings"
	"testing"
)

func TestCompileGlob(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		ok      bool
		literal bool
		prefix  string
	}{
		{"literal", "files.read", true, true, "files.read"},
		{"star alone", "*", true, false, ""},
		{"question alone", "?", true, false, ""},
		{"trailing star", "files.*", true, false, "files."},
		{"leading star", "*.delete", true, false, ""},
		{"inner question", "a?c", true, false, "a"},
		{"prefix ends at the first wildcard", "ab?c*d", true, false, "ab"},
		{"utf8 literal", "ü.日本", true, true, "ü.日本"},
		{"utf8 prefix", "日本*", true, false, "日本"},
		{"punctuation", "s3://b/k-1_2.x:y@z", true, true, "s3://b/k-1_2.x:y@z"},
		{"longest allowed", strings.Repeat("a", MaxGlobLength), true, true, strings.Repeat("a", MaxGlobLength)},
		{"empty", "", false, false, ""},
		{"too long", strings.Repeat("a", MaxGlobLength+1), false, false, ""},
		{"too long in bytes", strings.Repeat("é", MaxGlobLength/2+1), false, false, ""},
		{"open bracket", "a[b", false, false, ""},
		{"close bracket", "a]b", false, false, ""},
		{"open brace", "a{b,c}", false, false, ""},
		{"close brace", "a}", false, false, ""},
		{"backslash", `a\*`, false, false, ""},
		{"space", "a b", false, false, ""},
		{"leading space", " a", false, false, ""},
		{"tab", "a\tb", false, false, ""},
		{"newline", "a\n", false, false, ""},
		{"no-break space", "a\u00a0b", false, false, ""},
		{"ideographic space", "a\u3000b", false, false, ""},
		{"nul", "a\x00b", false, false, ""},
		{"escape", "a\x1bb", false, false, ""},
		{"delete", "a\x7f", false, false, ""},
		{"zero-width space", "a\u200bb", false, false, ""},
		{"bidi override", "a\u202eb", false, false, ""},
		{"invalid utf8", "a\xffb", false, false, ""},
		{"truncated utf8", "a\xc3", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := compileGlob(tt.pattern)
			if (err == nil) != tt.ok {
				t.Fatalf("compileGlob(%q) = %v, want ok %v", tt.pattern, err, tt.ok)
			}
			if tt.ok && (g.literal != tt.literal || g.prefix != tt.prefix || g.pattern != tt.pattern) {
				t.Errorf("compileGlob(%q) = %+v, want literal %v prefix %q", tt.pattern, g, tt.literal, tt.prefix)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	long := strings.Repeat("a", 10_000)
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything.at/all", true},
		{"**", "", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"?", "é", true},
		{"?", "日", true},
		{"?", "😀", true},
		{"??", "é", false},
		{"??", "éé", true},
		{"?", "\xff", true},
		{"??", "\xff", false},
		{"a.*", "a.", true},
		{"a.*", "a", false},
		{"a.*", "a.b.c", true},
		{"a.*", "a./x/y", true},
		{"a.*", "b.a.", false},
		{"*.delete", ".delete", true},
		{"*.delete", "x.y.delete", true},
		{"*.delete", "delete", false},
		{"*.delete", "x.delete.y", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "a.b.c", true},
		{"a*b*c", "acb", false},
		{"a*b*c", "abcc", true},
		{"a*b*c", "abcb", false},
		{"a*b*c", "abbbcbc", true},
		{"*a", "aaa", true},
		{"*a", "aab", false},
		{"a*", "a", true},
		{"*x*", "x", true},
		{"*x*", "yyy", false},
		{"?*", "", false},
		{"?*", "a", true},
		{"*?", "é", true},
		{"*?*?*", "a", false},
		{"*?*?*", "ab", true},
		{"a?c", "abc", true},
		{"a?c", "a日c", true},
		{"a?c", "ac", false},
		{"a?c", "abbc", false},
		{"ü*", "ü", true},
		{"ü*", "u", false},
		{"*ü", "xü", true},
		{"*ü", "x\xc3", false},
		{"lit", "lit", true},
		{"lit", "lit.x", false},
		{"lit", "li", false},
		{"lit", "", false},
		{"lit*", "lit", true},
		{"lit*", "lit.x", true},
		{"x*x", "x", false},
		{"x*x", "xx", true},
		{"x*x", "xyx", true},
		{"*a*a*a*a*b", long, false},
		{"*a*a*a*a*b", long + "b", true},
		{"*a*a*a*a*b", "aaab", false},
		{"*a*a*a*a*b", "aaaab", true},
		{"*a*a*a*a*a*a*a*a*a*a*a*a*c", long, false},
		{"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", long + "ab", true},
		{strings.Repeat("?", 100), strings.Repeat("日", 100), true},
		{strings.Repeat("?", 100), strings.Repeat("日", 99), false},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pattern)
		if err != nil {
			t.Fatalf("compileGlob(%q) = %v, want nil", tt.pattern, err)
		}
		if got := g.match(tt.s); got != tt.want {
			t.Errorf("glob %q .match(%.40q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
