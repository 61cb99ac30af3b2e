package pii

import (
	"strings"
	"testing"
)

func TestDetectEmails(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "plain", text: "write to john.doe@example.com today", want: []string{"john.doe@example.com"}},
		{name: "tag and subdomains", text: "a+tag@mail.sub.example.co.uk", want: []string{"a+tag@mail.sub.example.co.uk"}},
		{name: "apostrophe and hyphens", text: "o'brien@my-firm.ie", want: []string{"o'brien@my-firm.ie"}},
		{name: "sentence end", text: "Mail me at ann@example.org.", want: []string{"ann@example.org"}},
		{name: "angle brackets", text: "Ann <ann@example.org>", want: []string{"ann@example.org"}},
		{name: "quotes", text: `{"email":"ann@example.org"}`, want: []string{"ann@example.org"}},
		{name: "parentheses and comma", text: "(ann@example.org, bob@example.net)", want: []string{"ann@example.org", "bob@example.net"}},
		{name: "mailto", text: "mailto:ann@example.org", want: []string{"ann@example.org"}},
		{name: "upper case", text: "ANN@EXAMPLE.ORG", want: []string{"ANN@EXAMPLE.ORG"}},
		{name: "punycode tld", text: "ann@example.xn--p1ai", want: []string{"ann@example.xn--p1ai"}},
		{name: "in a query string", text: "https://example.com/u?email=ann@example.org&x=1", want: []string{"ann@example.org"}},
		{name: "no tld", text: "root@localhost", want: nil},
		{name: "special-use tld", text: "admin@nas.local", want: nil},
		{name: "numeric tld", text: "lodash@4.17.21", want: nil},
		{name: "one-letter tld", text: "a@b.c", want: nil},
		{name: "image name", text: "logo@2x.png", want: nil},
		{name: "scp remote", text: "git@github.com:org/repo.git", want: nil},
		{name: "url credentials", text: "https://user:secret@db.example.com/x", want: nil},
		{name: "url user", text: "ssh://git@example.com/repo", want: nil},
		{name: "double dot", text: "john..doe@example.com", want: nil},
		{name: "dot before at", text: "john.@example.com", want: nil},
		{name: "label starts with hyphen", text: "ann@-example.com", want: nil},
		{name: "decorator", text: "@app.route('/x')", want: nil},
		{name: "path segment", text: "/user.slice/user@1000.service/x", want: nil},
		{name: "docker digest", text: "image@sha256:abc123", want: nil},
		{name: "two at signs", text: "a@b@example.com", want: nil},
		{name: "local part too long", text: strings.Repeat("a", 65) + "@example.com", want: nil},
		{name: "label too long", text: "ann@" + strings.Repeat("b", 64) + ".com", want: nil},
		{name: "obfuscated", text: "jdoe [at] company [dot] com", want: nil},
	}
	d := New(Options{Types: []string{Email}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := values(d, tt.text); !equal(got, tt.want) {
				t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestValidDomain(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"example.com", true},
		{"a.b.c.example.museum", true},
		{"xn--bcher-kva.example", true},
		{"example", false},
		{"example.", false},
		{".example.com", false},
		{"exa mple.com", false},
		{"example.c0m", false},
		{"example.json", false},
		{"-x.com", false},
		{"x-.com", false},
		{strings.Repeat("a.", 127) + "com", false},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(20, len(tt.in))], func(t *testing.T) {
			if got := validDomain(tt.in); got != tt.want {
				t.Errorf("validDomain(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestEmailReservedDomains(t *testing.T) {
	d := New(Options{})
	for _, tt := range []struct {
		text string
		want float64
	}{
		{"ann@acme-corp.com", confEmail},
		{"ann@example.com", confEmailReserved},
		{"ann@mail.EXAMPLE.org", confEmailReserved},
		{"ann@shop.test", confEmailReserved},
		{"ann@notexample.com", confEmail},
	} {
		ms := detect(d, tt.text)
		if len(ms) != 1 || ms[0].Confidence != tt.want {
			t.Errorf("Detect(%q) = %+v, want one address at confidence %v", tt.text, ms, tt.want)
		}
	}
}
