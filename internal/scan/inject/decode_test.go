package inject

import "testing"

func TestUnescape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"%69%67%6E%6F%72%65", "ignore"},
		{"&#105;&#x67;&lt;", "ig<"},
		{`\u0069\x67`, "ig"},
		{`\ud83d\ude00`, "\U0001F600"},
		// A high surrogate that ends the text has no partner to look at.
		{`%41%42\ud800`, "AB\uFFFD"},
		{`%41%42\ud800\u`, "AB\uFFFD\\u"},
		{"%4", "%4"},
		{"&", "&"},
		{"&#;", "&#;"},
	} {
		if got := unescape(c.in); got != c.want {
			t.Errorf("unescape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
